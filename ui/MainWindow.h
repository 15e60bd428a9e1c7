// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/ActionRequest.h"
#include "services/DashboardSettings.h"
#include "services/MemoryLevel.h"
#include "services/PoolWatcher.h"
#include "services/SnapshotPtr.h"
#include "services/remote/RemoteMachines.h"
#include "ui/ActivityLog.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMainWindow>

#include <functional>
#include <optional>
#include <set>
#include <string>

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTimer;

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
    // Where the settings dialog keeps remote machines' passwords.
    void setCredentialStore(std::shared_ptr<services::CredentialStore> store)
    {
        credentials_ = std::move(store);
    }
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

    // The machine shown: empty for this one, else a remote machine's id (from
    // the settings' machines), shown read-only. This machine's sampling goes
    // on underneath, so switching back shows it at once.
    QString shownMachine() const { return shown_; }
    bool showingRemote() const { return !shown_.isEmpty(); }
    void showMachine(const QString& id);
    QComboBox* machineSwitcher() const { return switcher_; }
    QLabel* remoteBanner() const { return banner_; }
    QString bannerText() const;
    bool shownMachineHasView() const { return showingRemote() && machineViews_.contains(shown_); }
    ChartsPanel* remoteCharts() const { return remoteCharts_; }
    QLabel* remoteProcessNote() const { return processNote_; }
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
    // This machine's job pool, as the pool watcher read it.
    void showPool(const headroom::services::PoolView& pool);
    // What RemoteMachines reports: every machine's reading and reach, and the
    // shown machine's history.
    void showMachineView(const QString& id, const headroom::services::MachineViewPtr& view);
    void showMachineHistory(const QString& id, const headroom::services::MachineHistoryPtr& history);
    void showMachineState(const headroom::services::MachineState& state);

  signals:
    void actionRequested(const headroom::services::ActionRequest& request);
    void settingsChangeRequested(const headroom::services::DashboardSettings& settings);
    void snapshotShown(std::size_t count);
    // The user chose another machine in the switcher (empty: this one).
    void shownMachineChanged(const QString& id);
    // The remote charts' span, for the history RemoteMachines fetches.
    void remoteHistorySpanChanged(double seconds);
    // A remote machine's reading reached the window (the first one, for --screenshot).
    void machineViewShown(const QString& id);

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
    void rebuildSwitcher();
    void updateSwitcherItem(const QString& id);
    const services::MachineEntry* machineEntry(const QString& id) const;
    void showRemoteView();
    void updateBanner();
    services::MachineState stateOf(const QString& id) const;

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

    std::shared_ptr<services::CredentialStore> credentials_;
    services::PressureState pressure_; // this machine's latest
    QString shown_;
    QHash<QString, services::MachineViewPtr> machineViews_;
    services::MachineHistoryPtr shownHistory_; // of the machine shown
    QHash<QString, services::MachineState> machineStates_;
    QHash<QString, qint64> stateAtMs_; // wall clock when each state arrived
    QComboBox* switcher_ = nullptr;
    QAction* switcherAction_ = nullptr;
    QLabel* banner_ = nullptr;
    QTimer* bannerTimer_ = nullptr;
    ChartsPanel* remoteCharts_ = nullptr;
    QStackedWidget* chartsStack_ = nullptr;
    QStackedWidget* processStack_ = nullptr;
    QLabel* processNote_ = nullptr;
    QByteArray localSideSplit_; // the builds/activity split this machine's view had

    QAction* actions_[4][2] = {};
    QAction* stopRunaway_ = nullptr;
    QAction* settingsAction_ = nullptr;
    QAction* treeModeAction_ = nullptr;
    QAction* buildOnlyAction_ = nullptr;
    QAction* focusFilterAction_ = nullptr;
};

} // namespace headroom::ui
