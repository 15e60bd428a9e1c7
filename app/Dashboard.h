// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CommandLine.h"
#include "DashboardSettings.h"
#include "SettingsStore.h"
#include "headroom/RoleClassifier.h"

#include <QObject>

#include <memory>

namespace headroom::ui {
class MainWindow;
}

namespace headroom::app {

class LauncherController;
class ProcessActions;
class SamplingService;

// The composition root: settings, the sampling thread, the action service
// and the window, wired together. The window only sees snapshots and reports;
// the services only see requests.
class Dashboard : public QObject {
    Q_OBJECT
  public:
    explicit Dashboard(DashboardOptions options, QObject* parent = nullptr);
    ~Dashboard() override;

    // Shows the window and starts sampling. With --screenshot the returned
    // code is only known once the event loop ran; see finished().
    void start();

    ui::MainWindow* window() const { return window_.get(); }
    SamplingService* sampling() const { return sampling_.get(); }
    ProcessActions* actions() const { return actions_.get(); }
    LauncherController* launcher() const { return launcher_.get(); }
    const ui::DashboardSettings& settings() const { return settings_; }

  signals:
    // --screenshot is done: 0 when the PNG was written.
    void finished(int exitCode);

  private:
    void changeSettings(const ui::DashboardSettings& settings);
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
    bool screenshotTaken_ = false;
};

} // namespace headroom::app
