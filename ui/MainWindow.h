// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/ActionRequest.h"
#include "services/DashboardSettings.h"
#include "services/MemoryLevel.h"
#include "services/SnapshotPtr.h"
#include "ui/ActivityLog.h"

#include <QMainWindow>

#include <functional>
#include <optional>
#include <set>
#include <string>

class QAction;
class QLabel;
class QMenu;
class QSplitter;
class QTabWidget;

namespace headroom::ui {

class BuildsPanel;
class ChartsPanel;
class ProcessPanel;
class StopBuildsDialog;
class SummaryStrip;

// The dashboard window. It shows what it is given (snapshots, action reports,
// messages) and states what the user wants as signals; it never touches the
// operating system itself.
class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Who runs the dashboard: "Stop runaway builds" offers only this user's
    // processes and never the dashboard itself or its ancestors.
    void setIdentity(std::uint32_t uid, Pid selfPid);
    void applySettings(const services::DashboardSettings& settings);
    const services::DashboardSettings& settings() const { return settings_; }

    const services::SnapshotPtr& latestSnapshot() const { return snapshot_; }
    std::size_t snapshotsShown() const { return snapshotsShown_; }

    // Window size, splitters, columns, chart span and table modes, to restore
    // the next time the dashboard opens.
    QByteArray saveLayout() const;
    bool restoreLayout(const QByteArray& layout);

    // Renders the whole window as it is now, charts included.
    QImage renderImage();

    // Adds a page beside the monitor (the build launcher); the summary strip
    // stays above all pages. Tabs appear once there are two pages.
    void addPage(QWidget* page, const QString& title);
    QTabWidget* pages() const { return pages_; }
    // Asked before the window closes; returning false keeps it open.
    void setCloseGuard(std::function<bool()> guard) { closeGuard_ = std::move(guard); }

    SummaryStrip* summary() const { return summary_; }
    ChartsPanel* charts() const { return charts_; }
    ProcessPanel* processes() const { return processes_; }
    BuildsPanel* builds() const { return builds_; }
    ActivityLog* activity() const { return activity_; }
    QAction* action(ProcessAction action, bool tree) const;
    QAction* stopRunawayAction() const { return stopRunaway_; }
    StopBuildsDialog* openStopBuildsDialog(); // non-modal to callers; emits on accept

    // Closing while a build started from Headroom runs: what the user wants.
    enum class CloseDuringBuild { KeepRunning, StopBuild, Cancel };
    CloseDuringBuild askCloseDuringBuild();

  public slots:
    void showSnapshot(const headroom::services::SnapshotPtr& snapshot);
    void showPressure(const headroom::services::PressureState& state);
    void showActionStarted(const headroom::services::ActionRequest& request);
    void showActionReport(const headroom::services::ActionRequest& request,
                          const headroom::ActionReport& report);
    void showMessage(headroom::ui::ActivityLog::Severity severity, const QString& text,
                     const QString& detail = {});
    void showSamplingProblem(const QString& text);
    // A passing line in the status bar (gone after `timeoutMs`, 0: until the next one).
    void showStatus(const QString& text, int timeoutMs = 15000);
    // While a build runs, the status bar says so on every page: its progress
    // and memory, until clearBuildStatus().
    void showBuildProgress(unsigned done, unsigned total);
    void showBuildMemory(quint64 residentBytes);
    void clearBuildStatus();

  signals:
    void actionRequested(const headroom::services::ActionRequest& request);
    void settingsChangeRequested(const headroom::services::DashboardSettings& settings);
    void snapshotShown(std::size_t count);

  protected:
    void closeEvent(QCloseEvent* event) override;

  private:
    void createActions();
    void createMenus();
    void createToolBar();
    void updateActionStates();
    void requestOnSelection(ProcessAction action, bool tree);
    void requestBuildStop(const std::vector<headroom::ProcessKey>& roots, const QString& description);
    void editSettings();
    void showAbout();
    void updateStatus();
    void updateBuildStatus();

    services::DashboardSettings settings_;
    services::SnapshotPtr snapshot_;
    std::size_t snapshotsShown_ = 0;
    std::uint32_t uid_ = 0;
    Pid selfPid_ = 0;
    std::set<std::string> notesSeen_;
    bool samplingHealthy_ = true;

    SummaryStrip* summary_ = nullptr;
    ChartsPanel* charts_ = nullptr;
    ProcessPanel* processes_ = nullptr;
    BuildsPanel* builds_ = nullptr;
    ActivityLog* activity_ = nullptr;
    QSplitter* mainSplitter_ = nullptr;
    QTabWidget* pages_ = nullptr;
    std::function<bool()> closeGuard_;
    QSplitter* lowerSplitter_ = nullptr;
    QSplitter* sideSplitter_ = nullptr;
    QLabel* statusLabel_ = nullptr;
    QLabel* buildStatus_ = nullptr;
    unsigned buildDone_ = 0;
    unsigned buildTotal_ = 0;
    std::optional<quint64> buildMemory_;
    bool buildShown_ = false;
    QMenu* processMenu_ = nullptr;

    QAction* actions_[4][2] = {};
    QAction* stopRunaway_ = nullptr;
    QAction* settingsAction_ = nullptr;
    QAction* treeModeAction_ = nullptr;
    QAction* buildOnlyAction_ = nullptr;
    QAction* focusFilterAction_ = nullptr;
};

} // namespace headroom::ui
