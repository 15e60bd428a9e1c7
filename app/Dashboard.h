// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CommandLine.h"
#include "DashboardSettings.h"
#include "DesktopIntegration.h"
#include "SnapshotPtr.h"
#include "SettingsStore.h"
#include "headroom/RoleClassifier.h"

#include <QObject>

#include <memory>
#include <optional>

namespace headroom::ui {
class LauncherPanel;
class MainWindow;
}

namespace headroom::app {

class GuardService;
class LauncherController;
class PressureMonitor;
class ProcessActions;
class SamplingService;

// The composition root: settings, the sampling thread, the action service
// and the window, wired together. The window only sees snapshots and reports;
// the services only see requests.
class Dashboard : public QObject {
    Q_OBJECT
  public:
    // `desktop` is the tray and notifications; null uses the system's (none
    // with --screenshot). Tests pass their own.
    explicit Dashboard(DashboardOptions options, std::unique_ptr<DesktopIntegration> desktop = nullptr,
                       QObject* parent = nullptr);
    ~Dashboard() override;

    // Shows the window and starts sampling. With --screenshot the returned
    // code is only known once the event loop ran; see finished().
    void start();

    ui::MainWindow* window() const { return window_.get(); }
    SamplingService* sampling() const { return sampling_.get(); }
    ProcessActions* actions() const { return actions_.get(); }
    LauncherController* launcher() const { return launcher_.get(); }
    PressureMonitor* pressure() const { return pressure_.get(); }
    GuardService* guard() const { return guard_.get(); }
    DesktopIntegration* desktop() const { return desktop_.get(); }
    const ui::DashboardSettings& settings() const { return settings_; }
    const TrayStatus& trayStatus() const { return trayStatus_; }

  public slots:
    // What the tray menu and the notifications' buttons ask for.
    void runCommand(headroom::app::DesktopCommand command, bool checked = true);

  signals:
    // --screenshot is done: 0 when the PNG was written.
    void finished(int exitCode);

  private:
    void changeSettings(const ui::DashboardSettings& settings);
    void applyDesktopSettings();
    void observe(const ui::SnapshotPtr& snapshot);
    void updateTray();
    void notify(DesktopNotification notification);
    void showDashboard();
    void hideToTray();
    void quit();
    void saveSettings();
    ui::DashboardSettings settingsToSave() const;
    void takeScreenshot();
    void createLauncher();
    bool mayClose();
    static ClassifierOptions classifierOptions(const ui::DashboardSettings& settings);

    DashboardOptions options_;
    SettingsStore store_;
    ui::DashboardSettings settings_;
    std::unique_ptr<ui::MainWindow> window_;
    std::unique_ptr<SamplingService> sampling_;
    std::unique_ptr<ProcessActions> actions_;
    std::unique_ptr<LauncherController> launcher_;
    std::unique_ptr<PressureMonitor> pressure_;
    std::unique_ptr<GuardService> guard_;
    std::unique_ptr<DesktopIntegration> desktop_;
    ui::LauncherPanel* launcherPanel_ = nullptr;
    ui::SnapshotPtr snapshot_;
    QString lastBuildTitle_; // for the tray menu; read when a build starts
    TrayStatus trayStatus_;
    bool quitting_ = false;
    std::optional<double> intervalFromFile_; // while --interval overrides it
    bool screenshotTaken_ = false;
};

} // namespace headroom::app
