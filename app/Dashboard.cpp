// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/Dashboard.h"

#include "app/desktop/SystemDesktop.h"
#if defined(HEADROOM_FREEDESKTOP_NOTIFICATIONS)
#include "app/desktop/SecretServiceStore.h"
#endif
#include "headroom/Platform.h"
#include "services/GuardService.h"
#include "services/PoolWatcher.h"
#include "services/PressureMonitor.h"
#include "services/ProcessActions.h"
#include "services/SafeDisplayText.h"
#include "services/SamplingService.h"
#include "services/TrayPresenter.h"
#include "services/launcher/LauncherController.h"
#include "ui/BuildsModel.h"
#include "ui/BuildsPanel.h"
#include "ui/ChartsPanel.h"
#include "ui/MainWindow.h"
#include "ui/launcher/LauncherPanel.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QTimer>

#include <algorithm>
#include <functional>
#include <mutex>
#include <spdlog/spdlog.h>

namespace headroom::app {
namespace {

// The credential store, made the first time it is needed: asking the session
// bus for a keyring costs a round trip and, on a desktop, touches the user's
// keyring, which a dashboard with no remote machine never needs, and can
// wait seconds for a keyring that is slow to answer. So it is made by the
// first to need it: the network worker looking up a password (off the GUI
// thread), or the settings dialog saying where passwords are kept.
class LazyCredentialStore : public services::CredentialStore {
  public:
    explicit LazyCredentialStore(std::function<std::unique_ptr<services::CredentialStore>()> make)
        : make_(std::move(make))
    {
    }
    QString describe() const override
    {
        services::CredentialStore* s = get();
        return s ? s->describe() : QString();
    }
    QString store(const QString& id, const QString& secret) override
    {
        services::CredentialStore* s = get();
        return s ? s->store(id, secret) : QStringLiteral("no place to keep passwords on this system");
    }
    std::optional<QString> lookup(const QString& id, QString* error) override
    {
        services::CredentialStore* s = get();
        if (!s && error)
            *error = QStringLiteral("no place to keep passwords on this system");
        return s ? s->lookup(id, error) : std::nullopt;
    }
    QString remove(const QString& id) override
    {
        services::CredentialStore* s = get();
        return s ? s->remove(id) : QString();
    }
    services::CredentialStore* get() const
    {
        const std::lock_guard lock(mutex_);
        if (!made_) {
            made_ = true;
            store_ = make_();
        }
        return store_.get();
    }

  private:
    std::function<std::unique_ptr<services::CredentialStore>()> make_;
    mutable std::mutex mutex_;
    mutable bool made_ = false;
    mutable std::unique_ptr<services::CredentialStore> store_;
};

std::unique_ptr<services::CredentialStore> makeCredentialStore()
{
    // The desktop's keyring when one answers, else a file of Headroom's own
    // that only the user can read.
    QString whyNot;
    std::unique_ptr<services::CredentialStore> store;
#if defined(HEADROOM_FREEDESKTOP_NOTIFICATIONS)
    store = makeSecretServiceStore(&whyNot);
#else
    whyNot = QStringLiteral("no Secret Service on this system");
#endif
    if (store) {
        spdlog::info("passwords of remote machines in {}", store->describe().toStdString());
        return store;
    }
    store = services::makeFileCredentialStore(services::defaultCredentialFilePath());
    if (store)
        spdlog::info("no desktop keyring ({}); passwords of remote machines in {}", whyNot.toStdString(),
                     store->describe().toStdString());
    else
        spdlog::warn("no desktop keyring ({}) and no credentials file: passwords of remote machines cannot "
                     "be kept",
                     whyNot.toStdString());
    return store;
}

} // namespace

Dashboard::Dashboard(DashboardOptions options, std::unique_ptr<DesktopIntegration> desktop, QObject* parent)
    : QObject(parent), options_(std::move(options)),
      store_(options_.settingsPath.isEmpty() ? services::SettingsStore::defaultFilePath()
                                             : options_.settingsPath)
{
    desktop_ = std::move(desktop);
    services::SettingsStore::Loaded loaded = store_.load();
    settings_ = loaded.settings;
    spdlog::info("settings from {}", store_.filePath().toStdString());
    if (options_.intervalSeconds) {
        intervalFromFile_ = settings_.intervalSeconds;
        settings_.intervalSeconds = *options_.intervalSeconds;
        spdlog::info("refresh interval {} s from the command line (not saved)", settings_.intervalSeconds);
    }

    window_ = std::make_unique<ui::MainWindow>();
    window_->setIdentity(platform::currentUid(), platform::currentPid());
    window_->applySettings(settings_);
    if (options_.windowSize.isValid())
        window_->resize(options_.windowSize);
    else if (options_.screenshotPath.isEmpty() && !window_->restoreLayout(store_.loadLayout()))
        spdlog::debug("no saved window layout; using the default one");
    for (const QString& warning : loaded.warnings) {
        spdlog::warn("{}", warning.toStdString());
        window_->showMessage(ui::ActivityLog::Severity::Warning, warning);
    }

    sampling_ = std::make_unique<services::SamplingService>();
    actions_ = std::make_unique<services::ProcessActions>();
    actions_->setGrace(settings_.grace());

    connect(sampling_.get(), &services::SamplingService::snapshotReady, window_.get(),
            &ui::MainWindow::showSnapshot);
    connect(sampling_.get(), &services::SamplingService::samplingFailed, window_.get(),
            [this](const QString& message) {
                window_->showSamplingProblem(tr("Cannot read the system: %1").arg(message));
            });
    connect(sampling_.get(), &services::SamplingService::samplingStalled, window_.get(),
            &ui::MainWindow::showSamplingProblem);
    connect(window_.get(), &ui::MainWindow::actionRequested, actions_.get(),
            &services::ProcessActions::request);
    connect(actions_.get(), &services::ProcessActions::started, window_.get(),
            &ui::MainWindow::showActionStarted);
    connect(actions_.get(), &services::ProcessActions::finished, window_.get(),
            &ui::MainWindow::showActionReport);
    connect(window_.get(), &ui::MainWindow::settingsChangeRequested, this, &Dashboard::changeSettings);
    createLauncher();

    // Levels, notifications, the guard and the tray.
    pressure_ = std::make_unique<services::PressureMonitor>();
    guard_ = std::make_unique<services::GuardService>(actions_.get(), platform::currentUid());
    guard_->setLaunchedRoots([this]() -> std::vector<ProcessKey> {
        if (const auto root = launcher_->runningBuildRoot())
            return {*root};
        return {};
    });
    connect(pressure_.get(), &services::PressureMonitor::pressureUpdated, window_.get(),
            &ui::MainWindow::showPressure);
    connect(sampling_.get(), &services::SamplingService::snapshotReady, this, &Dashboard::observe);
    connect(pressure_.get(), &services::PressureMonitor::notificationDue, this,
            [this](PressureLevel level, const QString& title, const QString& body) {
                DesktopNotification n{DesktopNotification::Kind::Pressure, level, title, body, {}};
                if (guard_->hasBuildProcesses())
                    n.actions << DesktopCommand::StopRunawayBuilds;
                if (guard_->canPauseTests())
                    n.actions << DesktopCommand::PauseTests;
                notify(n);
            });
    connect(guard_.get(), &services::GuardService::acted, this,
            [this](const QString& title, const QString& body, PressureLevel urgency) {
                DesktopNotification n{DesktopNotification::Kind::Guard, urgency, title, body, {}};
                if (guard_->holdsPaused())
                    n.actions << DesktopCommand::ResumeBuilds;
                notify(n);
            });
    connect(guard_.get(), &services::GuardService::heldChanged, this, [this] { updateTray(); });
    if (!desktop_ && options_.screenshotPath.isEmpty())
        desktop_ = std::make_unique<SystemDesktop>();
    if (desktop_) {
        connect(desktop_.get(), &DesktopIntegration::commandRequested, this, &Dashboard::runCommand);
        connect(desktop_.get(), &DesktopIntegration::trayAvailabilityChanged, this, [this](bool available) {
            window_->showMessage(
                ui::ActivityLog::Severity::Info,
                available ? tr("A system tray appeared: closing the window now keeps Headroom in it.")
                          : tr("The system tray went away: closing the window now quits Headroom."));
            if (!available && !window_->isVisible())
                showDashboard(); // never leave Headroom running with no way back to it
        });
    }
    // Closing the last window is decided here (the tray keeps Headroom running).
    QApplication::setQuitOnLastWindowClosed(false);
    createRemote();
    applyDesktopSettings();

    if (!options_.screenshotPath.isEmpty()) {
        connect(window_.get(), &ui::MainWindow::snapshotShown, this, &Dashboard::maybeTakeScreenshot);
        connect(window_.get(), &ui::MainWindow::machineViewShown, this, &Dashboard::maybeTakeScreenshot);
    }
}

Dashboard::~Dashboard()
{
    // A screenshot or a fixed --size says nothing about how the user likes the window.
    if (options_.screenshotPath.isEmpty() && !options_.windowSize.isValid() && window_) {
        const QString problem = store_.saveLayout(window_->saveLayout());
        if (!problem.isEmpty())
            spdlog::warn("window layout not saved: {}", problem.toStdString());
    }
    if (sampling_)
        sampling_->stop();
    // Never leave the user's builds frozen behind us.
    if (guard_ && guard_->holdsPaused()) {
        spdlog::info("Headroom is quitting: resuming the processes it paused");
        guard_->resumeAll();
    }
    if (actions_)
        actions_->waitForAll();
}

void Dashboard::createRemote()
{
    credentials_ = std::make_shared<LazyCredentialStore>(&makeCredentialStore);
    window_->setCredentialStore(credentials_);

    qRegisterMetaType<services::MachineViewPtr>();
    qRegisterMetaType<services::MachineHistoryPtr>();
    qRegisterMetaType<services::MachineState>();
    remote_ = std::make_unique<services::RemoteMachines>(credentials_);
    remote_->setMachines(settings_.machines);
    remote_->setHistorySpan(window_->remoteCharts()->visibleSpan());
    remote_->setShown(window_->shownMachine());
    if (!settings_.machines.isEmpty())
        spdlog::info("{} remote machine(s); shown: {}", settings_.machines.size(),
                     window_->showingRemote() ? window_->shownMachine().toStdString() : "this computer");

    connect(remote_.get(), &services::RemoteMachines::viewReady, window_.get(),
            &ui::MainWindow::showMachineView);
    connect(remote_.get(), &services::RemoteMachines::viewReady, this, &Dashboard::observeMachine);
    connect(remote_.get(), &services::RemoteMachines::historyReady, window_.get(),
            &ui::MainWindow::showMachineHistory);
    connect(remote_.get(), &services::RemoteMachines::historyReady, this,
            [this](const QString& id, const services::MachineHistoryPtr& history) {
                if (id == window_->shownMachine() && history && !remoteHistoryShown_) {
                    remoteHistoryShown_ = true;
                    spdlog::info("history of {}: {} readings", id.toStdString(), history->size());
                    maybeTakeScreenshot();
                }
            });
    connect(remote_.get(), &services::RemoteMachines::stateChanged, window_.get(),
            &ui::MainWindow::showMachineState);
    connect(remote_.get(), &services::RemoteMachines::stateChanged, this, &Dashboard::observeMachineState);
    connect(window_.get(), &ui::MainWindow::shownMachineChanged, this, &Dashboard::setShownMachine);
    connect(window_.get(), &ui::MainWindow::remoteHistorySpanChanged, remote_.get(),
            &services::RemoteMachines::setHistorySpan);
    connect(
        pressure_.get(), &services::PressureMonitor::machineNotificationDue, this,
        [this](const QString&, PressureLevel level, const QString& title, const QString& body) {
            notify({DesktopNotification::Kind::Machine, level, title, body, {DesktopCommand::ShowDashboard}});
        });
}

void Dashboard::setShownMachine(const QString& id)
{
    remoteHistoryShown_ = false;
    remote_->setShown(id);
    spdlog::info("showing {}", id.isEmpty() ? std::string("this computer") : id.toStdString());
    if (settings_.shownMachine == id)
        return;
    settings_.shownMachine = id;
    saveSettings();
}

void Dashboard::observeMachine(const QString& id, const services::MachineViewPtr& view)
{
    if (!view)
        return;
    machineViews_.insert(id, view);
    for (const services::MachineEntry& m : settings_.machines) {
        if (m.id == id && m.followInTray)
            pressure_->observeMachine(id, m.name, *view);
    }
    updateTray();
}

void Dashboard::observeMachineState(const services::MachineState& state)
{
    const auto before = machineStates_.constFind(state.id);
    const bool changed = before == machineStates_.constEnd() || before->reach != state.reach;
    machineStates_.insert(state.id, state);
    if (changed) {
        if (state.reach == services::MachineReach::Unreachable)
            spdlog::warn("remote machine {} unreachable: {} (retrying in {} s)", state.id.toStdString(),
                         services::safeDisplayText(state.error, 300).toStdString(), state.retryInSeconds);
        else if (state.reach == services::MachineReach::Up)
            spdlog::info("remote machine {} is up", state.id.toStdString());
    }
    updateTray();
    if (state.id == window_->shownMachine())
        maybeTakeScreenshot();
}

std::vector<services::TrayMachineLevel> Dashboard::followedLevels() const
{
    std::vector<services::TrayMachineLevel> levels;
    for (const services::MachineEntry& m : settings_.machines) {
        if (!m.followInTray)
            continue;
        services::TrayMachineLevel level;
        level.name = m.name;
        const auto state = machineStates_.constFind(m.id);
        level.reachable =
            state == machineStates_.constEnd() || state->reach != services::MachineReach::Unreachable;
        if (const services::MachineViewPtr view = machineViews_.value(m.id)) {
            level.hasReading = true;
            level.level = view->level.level;
            level.reason = QString::fromStdString(view->level.reason);
        }
        levels.push_back(level);
    }
    return levels;
}

void Dashboard::maybeTakeScreenshot()
{
    if (options_.screenshotPath.isEmpty() || screenshotTaken_ ||
        window_->snapshotsShown() < static_cast<std::size_t>(options_.screenshotAfter))
        return;
    // A remote machine shown: once its figures and its history are in, or
    // once it is known to be unreachable (the banner then says why).
    if (window_->showingRemote()) {
        const auto state = machineStates_.constFind(window_->shownMachine());
        const bool unreachable =
            state != machineStates_.constEnd() && state->reach == services::MachineReach::Unreachable;
        if (!unreachable && (!remoteHistoryShown_ || !window_->shownMachineHasView()))
            return;
    }
    takeScreenshot();
}

void Dashboard::createLauncher()
{
    // The launcher keeps its presets and recent projects beside the settings
    // file, and its history in the app-data folder, where `headroom build`
    // records too: a settings file named on the command line must not split
    // the window's runs from the terminal's. Only --history moves it.
    const QDir settingsDir = QFileInfo(store_.filePath()).absoluteDir();
    const QString history =
        options_.historyPath.isEmpty() ? services::BuildHistory::defaultPath() : options_.historyPath;
    launcher_ = std::make_unique<services::LauncherController>(
        history, settingsDir.filePath(QStringLiteral("launcher.ini")));
    launcher_->setGracePeriod(settings_.grace());
    launcher_->setOomScoreAdj(settings_.buildOomScoreAdj);
    spdlog::info("build history in {}", launcher_->historyPath().toStdString());
    for (const QString& warning : {launcher_->historyWarning(), launcher_->settingsWarning()}) {
        if (warning.isEmpty())
            continue;
        spdlog::warn("{}", warning.toStdString());
        window_->showMessage(ui::ActivityLog::Severity::Warning, warning);
    }
    connect(launcher_.get(), &services::LauncherController::historyProblem, window_.get(),
            [this](const QString& text) {
                spdlog::warn("{}", text.toStdString());
                window_->showMessage(ui::ActivityLog::Severity::Warning, text);
            });
    // The job pool over every build, for the builds list: read once a second, off the GUI thread.
    auto* pool = new services::PoolWatcher(QString(), launcher_->runsDir(), this);
    connect(pool, &services::PoolWatcher::poolRead, window_.get(),
            [this](const services::PoolView& view) { window_->showPool(view); });
    pool->start();
    auto* panel = launcherPanel_ = new ui::LauncherPanel(launcher_.get());
    panel->setRecentProjects(launcher_->recentProjects());
    window_->addPage(panel, tr("&Build"));
    connect(panel, &ui::LauncherPanel::recentProjectsChanged, launcher_.get(),
            &services::LauncherController::setRecentProjects);
    connect(sampling_.get(), &services::SamplingService::snapshotReady, launcher_.get(),
            &services::LauncherController::observe);

    connect(launcher_.get(), &services::LauncherController::progressChanged, window_.get(),
            [this](unsigned done, unsigned total, const QStringList&) {
                window_->showBuildProgress(done, total);
            });
    connect(launcher_.get(), &services::LauncherController::memoryChanged, window_.get(),
            [this](quint64 now, quint64) { window_->showBuildMemory(now); });
    connect(panel, &ui::LauncherPanel::status, window_.get(),
            [this](const QString& text) { window_->showStatus(text); });
    const auto rememberLast = [this] {
        const auto last = launcher_->lastBuild();
        lastBuildTitle_ = last ? last->title() : QString();
    };
    rememberLast();
    connect(launcher_.get(), &services::LauncherController::planStarted, this, rememberLast);
    connect(launcher_.get(), &services::LauncherController::stateChanged, this, [this] { updateTray(); });
    connect(
        launcher_.get(), &services::LauncherController::planStarted, window_.get(),
        [this](const BuildPlan& plan) {
            for (const auto& step : plan.steps)
                spdlog::info("build step: {}", step.displayLine());
            window_->showMessage(
                ui::ActivityLog::Severity::Info,
                tr("Build started: %1").arg(QString::fromStdString(std::string(presetTitle(plan.preset)))));
        });
    connect(launcher_.get(), &services::LauncherController::finished, window_.get(),
            [this](const services::BuildRunResult& r) {
                window_->clearBuildStatus();
                const bool good = r.diagnosis.verdict == BuildVerdict::Succeeded;
                spdlog::info("build ended: {} {}", verdictId(r.diagnosis.verdict), r.diagnosis.summary);
                window_->showMessage(good ? ui::ActivityLog::Severity::Success
                                          : ui::ActivityLog::Severity::Error,
                                     QString::fromStdString(r.diagnosis.summary),
                                     QString::fromStdString(r.diagnosis.nextStep));
            });
    connect(launcher_.get(), &services::LauncherController::actionsDone, window_.get(),
            [](const ActionReport& report) {
                for (const auto& result : report.results)
                    spdlog::info("launcher action: {}", result.message);
            });
    window_->setCloseGuard([this] { return mayClose(); });
}

bool Dashboard::mayClose()
{
    if (!quitting_ && desktop_ && desktop_->isTrayAvailable()) {
        hideToTray();
        return false;
    }
    const bool building = launcher_ && launcher_->state() == services::LauncherController::State::Running;
    if (!building) {
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
        return true;
    }
    // The build runs under its own supervisor: quitting never ends it, and
    // the next Headroom follows it again.
    switch (window_->askCloseDuringBuild()) {
    case ui::MainWindow::CloseDuringBuild::KeepRunning:
        spdlog::info("window closed during a build; the build keeps running under its supervisor (run {})",
                     launcher_->runningRunId().toStdString());
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
        return true;
    case ui::MainWindow::CloseDuringBuild::StopBuild:
        spdlog::info("window closed during a build; stopping it first");
        connect(launcher_.get(), &services::LauncherController::finished, qApp, &QCoreApplication::quit,
                Qt::QueuedConnection);
        launcher_->stop();
        return true;
    case ui::MainWindow::CloseDuringBuild::Cancel:
        break;
    }
    quitting_ = false;
    return false;
}

void Dashboard::hideToTray()
{
    window_->hide();
    spdlog::info("window hidden to the tray");
    if (!settings_.trayHintShown) {
        settings_.trayHintShown = true;
        saveSettings();
        notify({DesktopNotification::Kind::Info,
                PressureLevel::Normal,
                tr("Headroom is still running"),
                tr("It keeps watching memory from the tray. Open the window from the tray icon; quit from "
                   "its menu."),
                {}});
    }
}

void Dashboard::showDashboard()
{
    if (window_->isMinimized())
        window_->showNormal();
    else
        window_->show();
    window_->raise();
    window_->activateWindow();
}

void Dashboard::quit()
{
    quitting_ = true;
    if (launcher_ && launcher_->state() == services::LauncherController::State::Running)
        showDashboard(); // the question about the running build needs the window
    if (window_->isVisible()) {
        window_->close(); // asks mayClose
        return;
    }
    if (!mayClose())
        return;
}

void Dashboard::notify(DesktopNotification n)
{
    using Severity = ui::ActivityLog::Severity;
    const Severity severity = n.urgency == PressureLevel::Critical  ? Severity::Error
                              : n.urgency == PressureLevel::Warning ? Severity::Warning
                                                                    : Severity::Info;
    window_->showMessage(severity, n.title, n.body);
    if (desktop_)
        desktop_->notify(n);
    else
        spdlog::info("notification: {} | {}", n.title.toStdString(), n.body.toStdString());
}

void Dashboard::observe(const services::SnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    snapshot_ = snapshot;
    // The guard sees the sample first, so a notification's buttons offer what
    // this sample holds; it acts once the sample's level is known.
    guard_->take(snapshot);
    pressure_->observe(snapshot);
    guard_->act(pressure_->level());
    updateTray();
}

void Dashboard::updateTray()
{
    services::TrayGuardState guard;
    guard.guardOn = settings_.guardEnabled;
    guard.quiet = settings_.quiet;
    guard.heldPaused = guard_->holdsPaused();
    guard.canPause = guard_->canPause();
    guard.haveRunaway = guard_->hasBuildProcesses();
    const services::TrayLastBuild last{lastBuildTitle_,
                                       launcher_->state() == services::LauncherController::State::Idle};
    if (tray_.update(snapshot_, pressure_->state(), guard, last, followedLevels()) && desktop_)
        desktop_->setTrayStatus(tray_.status());
}

void Dashboard::runCommand(DesktopCommand command, bool checked)
{
    spdlog::info("command from the desktop: {}{}", commandLabel(command).toStdString(),
                 command == DesktopCommand::SetGuard || command == DesktopCommand::SetQuiet
                     ? (checked ? " on" : " off")
                     : "");
    switch (command) {
    case DesktopCommand::ShowDashboard:
        showDashboard();
        break;
    case DesktopCommand::StartLastBuild:
        showDashboard();
        window_->pages()->setCurrentWidget(launcherPanel_);
        launcherPanel_->startLast();
        break;
    case DesktopCommand::StopRunawayBuilds:
        showDashboard();
        window_->openStopBuildsDialog(); // shows this computer: its builds are the ones offered
        break;
    case DesktopCommand::PauseBuilds:
        guard_->pauseBuilds();
        break;
    case DesktopCommand::ResumeBuilds:
        guard_->resumeAll();
        break;
    case DesktopCommand::PauseTests:
        guard_->pauseTests();
        break;
    case DesktopCommand::SetGuard:
    case DesktopCommand::SetQuiet: {
        services::DashboardSettings changed = settings_;
        (command == DesktopCommand::SetGuard ? changed.guardEnabled : changed.quiet) = checked;
        changeSettings(changed);
        break;
    }
    case DesktopCommand::Quit:
        quit();
        break;
    }
    updateTray();
}

void Dashboard::applyDesktopSettings()
{
    pressure_->setThresholds(settings_.thresholds);
    pressure_->setRepeatSeconds(settings_.notifyRepeatMinutes * 60.0);
    pressure_->setQuiet(settings_.quiet);
    services::GuardService::Settings g;
    g.enabled = settings_.guardEnabled;
    g.guardExternalBuilds = settings_.guardExternalBuilds;
    g.emergencyAvailablePercent = settings_.guardEmergencyPercent;
    g.restSeconds = settings_.guardRestSeconds;
    guard_->setSettings(g);
    updateTray();
}

services::DashboardSettings Dashboard::settingsToSave() const
{
    // A --interval for this run stays out of the file.
    services::DashboardSettings saved = settings_;
    if (intervalFromFile_)
        saved.intervalSeconds = *intervalFromFile_;
    return saved;
}

void Dashboard::saveSettings()
{
    const QString problem = store_.save(settingsToSave());
    if (!problem.isEmpty())
        spdlog::error("settings not saved: {}", problem.toStdString());
}

ClassifierOptions Dashboard::classifierOptions(const services::DashboardSettings& settings)
{
    ClassifierOptions options;
    for (const QString& name : settings.testRunners) {
        if (std::find(options.testRunners.begin(), options.testRunners.end(), name.toStdString()) ==
            options.testRunners.end())
            options.testRunners.push_back(name.toStdString());
    }
    for (const QString& name : settings.extraLinkers)
        options.extraLinkers.push_back(name.toStdString());
    for (const QString& name : settings.extraCompilers)
        options.extraCompilers.push_back(name.toStdString());
    return options;
}

void Dashboard::start()
{
    if (options_.startHidden && desktop_ && desktop_->isTrayAvailable())
        spdlog::info("starting in the tray (--hidden)");
    else {
        if (options_.startHidden)
            spdlog::info("--hidden: there is no system tray, so the window opens");
        window_->show();
    }
    sampling_->setClassifierOptions(classifierOptions(settings_));
    sampling_->start(settings_.interval());
    if (!options_.screenshotPath.isEmpty()) {
        // A machine so slow that N samples never arrive still gets an answer.
        const int limitMs =
            static_cast<int>(options_.screenshotAfter * settings_.intervalSeconds * 1000.0) + 60000;
        QTimer::singleShot(limitMs, this, [this] {
            if (screenshotTaken_)
                return;
            spdlog::error("--screenshot: fewer than {} samples arrived in time", options_.screenshotAfter);
            screenshotTaken_ = true;
            emit finished(1);
        });
    }
}

void Dashboard::changeSettings(const services::DashboardSettings& settings)
{
    const QStringList changes = services::SettingsStore::describeChanges(settings_, settings);
    for (const QString& change : changes)
        spdlog::info("setting changed: {}", change.toStdString());
    const bool classifierChanged = settings.testRunners != settings_.testRunners ||
                                   settings.extraLinkers != settings_.extraLinkers ||
                                   settings.extraCompilers != settings_.extraCompilers;
    if (settings.intervalSeconds != settings_.intervalSeconds)
        intervalFromFile_.reset(); // chosen in the dialog: that one is kept
    settings_ = settings;
    window_->applySettings(settings_);
    sampling_->setInterval(settings_.interval());
    actions_->setGrace(settings_.grace());
    if (launcher_) {
        launcher_->setGracePeriod(settings_.grace());
        launcher_->setOomScoreAdj(settings_.buildOomScoreAdj);
    }
    if (classifierChanged)
        sampling_->setClassifierOptions(classifierOptions(settings_));
    applyDesktopSettings();
    if (remote_) {
        remote_->setMachines(settings_.machines);
        remote_->setShown(window_->shownMachine());
        QStringList followed;
        for (const services::MachineEntry& m : settings_.machines) {
            if (m.followInTray)
                followed << m.id;
        }
        pressure_->forgetMachinesExcept(followed);
        for (auto it = machineViews_.begin(); it != machineViews_.end();) {
            const bool kept = std::any_of(settings_.machines.begin(), settings_.machines.end(),
                                          [&](const services::MachineEntry& m) { return m.id == it.key(); });
            it = kept ? std::next(it) : machineViews_.erase(it);
        }
        updateTray();
    }

    const QString problem = store_.save(settingsToSave());
    if (problem.isEmpty()) {
        window_->showMessage(ui::ActivityLog::Severity::Success,
                             tr("Settings saved: %1").arg(changes.join(QStringLiteral("; "))));
    } else {
        spdlog::error("settings not saved: {}", problem.toStdString());
        window_->showMessage(ui::ActivityLog::Severity::Error,
                             tr("Settings apply until Headroom closes but were not saved: %1").arg(problem));
    }
}

void Dashboard::takeScreenshot()
{
    screenshotTaken_ = true;
    // Let the last snapshot's layout and queued replots settle first.
    QTimer::singleShot(50, this, [this] {
        if (window_->showingRemote()) {
            // What the picture shows, in words, for whoever checks it without eyes.
            spdlog::info("shown: {}", window_->bannerText().toStdString());
            const auto* available = window_->findChild<QLabel*>(QStringLiteral("availableValue"));
            const auto* level = window_->findChild<QLabel*>(QStringLiteral("levelValue"));
            spdlog::info("summary: available {} · level {}",
                         available ? available->text().toStdString() : "?",
                         level ? level->text().toStdString() : "?");
            const ui::BuildsModel* builds = window_->builds()->model();
            for (int row = 0; row < builds->rowCount(); ++row)
                spdlog::info("build row: {} · {}",
                             builds->index(row, ui::BuildsModel::Build).data().toString().toStdString(),
                             builds->index(row, ui::BuildsModel::Memory).data().toString().toStdString());
            spdlog::info("chart points: {}", window_->remoteCharts()->history().points().size());
        }
        const QImage image = window_->renderImage();
        const bool saved = !image.isNull() && image.save(options_.screenshotPath, "PNG");
        if (saved)
            spdlog::info("screenshot {}x{} written to {}", image.width(), image.height(),
                         QFileInfo(options_.screenshotPath).absoluteFilePath().toStdString());
        else
            spdlog::error("cannot write the screenshot to {}", options_.screenshotPath.toStdString());
        emit finished(saved ? 0 : 1);
    });
}

} // namespace headroom::app
