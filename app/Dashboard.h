// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "app/CommandLine.h"
#include "app/desktop/DesktopIntegration.h"
#include "headroom/RoleClassifier.h"
#include "services/DashboardSettings.h"
#include "services/SettingsStore.h"
#include "services/SnapshotPtr.h"
#include "services/TrayPresenter.h"
#include "services/remote/RemoteMachines.h"

#include <QHash>
#include <QObject>

#include <memory>
#include <optional>

namespace headroom::ui {
class LauncherPanel;
class MainWindow;
} // namespace headroom::ui

namespace headroom::services {
class GuardService;
class LauncherController;
class PressureMonitor;
class ProcessActions;
class SamplingService;
} // namespace headroom::services

namespace headroom::app {

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
    services::SamplingService* sampling() const { return sampling_.get(); }
    services::ProcessActions* actions() const { return actions_.get(); }
    services::LauncherController* launcher() const { return launcher_.get(); }
    services::PressureMonitor* pressure() const { return pressure_.get(); }
    services::GuardService* guard() const { return guard_.get(); }
    DesktopIntegration* desktop() const { return desktop_.get(); }
    services::RemoteMachines* remote() const { return remote_.get(); }
    const std::shared_ptr<services::CredentialStore>& credentials() const { return credentials_; }
    const services::DashboardSettings& settings() const { return settings_; }
    const TrayStatus& trayStatus() const { return tray_.status(); }

  public slots:
    // What the tray menu and the notifications' buttons ask for.
    void runCommand(headroom::app::DesktopCommand command, bool checked = true);

  signals:
    // --screenshot is done: 0 when the PNG was written.
    void finished(int exitCode);

  private:
    void changeSettings(const services::DashboardSettings& settings);
    void applyDesktopSettings();
    void observe(const services::SnapshotPtr& snapshot);
    void createRemote();
    void observeMachine(const QString& id, const services::MachineViewPtr& view);
    void observeMachineState(const services::MachineState& state);
    void setShownMachine(const QString& id);
    std::vector<services::TrayMachineLevel> followedLevels() const;
    void maybeTakeScreenshot();
    void updateTray();
    void notify(DesktopNotification notification);
    void showDashboard();
    void hideToTray();
    void quit();
    void saveSettings();
    services::DashboardSettings settingsToSave() const;
    void takeScreenshot();
    void createLauncher();
    bool mayClose();
    static ClassifierOptions classifierOptions(const services::DashboardSettings& settings);

    DashboardOptions options_;
    services::SettingsStore store_;
    services::DashboardSettings settings_;
    std::unique_ptr<ui::MainWindow> window_;
    std::unique_ptr<services::SamplingService> sampling_;
    std::unique_ptr<services::ProcessActions> actions_;
    std::unique_ptr<services::LauncherController> launcher_;
    std::unique_ptr<services::PressureMonitor> pressure_;
    std::unique_ptr<services::GuardService> guard_;
    std::unique_ptr<DesktopIntegration> desktop_;
    std::shared_ptr<services::CredentialStore> credentials_;
    std::unique_ptr<services::RemoteMachines> remote_;
    QHash<QString, services::MachineViewPtr> machineViews_;
    QHash<QString, services::MachineState> machineStates_;
    bool remoteHistoryShown_ = false; // --screenshot waits for the shown machine's history
    ui::LauncherPanel* launcherPanel_ = nullptr;
    services::SnapshotPtr snapshot_;
    QString lastBuildTitle_; // for the tray menu; read when a build starts
    services::TrayPresenter tray_;
    bool quitting_ = false;
    std::optional<double> intervalFromFile_; // while --interval overrides it
    bool screenshotTaken_ = false;
};

} // namespace headroom::app
