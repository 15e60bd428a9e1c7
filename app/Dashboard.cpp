// SPDX-License-Identifier: GPL-3.0-or-later
#include "Dashboard.h"

#include "LauncherController.h"
#include "LauncherPanel.h"
#include "MainWindow.h"
#include "ProcessActions.h"
#include "SamplingService.h"
#include "headroom/Platform.h"
#include "headroom/Units.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>

#include <spdlog/spdlog.h>

namespace headroom::app {

Dashboard::Dashboard(DashboardOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)),
      store_(options_.settingsPath.isEmpty() ? SettingsStore::defaultFilePath() : options_.settingsPath)
{
    SettingsStore::Loaded loaded = store_.load();
    settings_ = loaded.settings;
    spdlog::info("settings from {}", store_.filePath().toStdString());
    if (options_.intervalSeconds) {
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

    sampling_ = std::make_unique<SamplingService>();
    actions_ = std::make_unique<ProcessActions>();
    actions_->setGrace(settings_.grace());

    connect(sampling_.get(), &SamplingService::snapshotReady, window_.get(), &ui::MainWindow::showSnapshot);
    connect(sampling_.get(), &SamplingService::samplingFailed, window_.get(), [this](const QString& message) {
        window_->showSamplingProblem(tr("Cannot read the system: %1").arg(message));
    });
    connect(sampling_.get(), &SamplingService::samplingStalled, window_.get(),
            &ui::MainWindow::showSamplingProblem);
    connect(window_.get(), &ui::MainWindow::actionRequested, actions_.get(), &ProcessActions::request);
    connect(actions_.get(), &ProcessActions::started, window_.get(), &ui::MainWindow::showActionStarted);
    connect(actions_.get(), &ProcessActions::finished, window_.get(), &ui::MainWindow::showActionReport);
    connect(window_.get(), &ui::MainWindow::settingsChangeRequested, this, &Dashboard::changeSettings);
    createLauncher();
    if (!options_.screenshotPath.isEmpty()) {
        connect(window_.get(), &ui::MainWindow::snapshotShown, this, [this](std::size_t count) {
            if (!screenshotTaken_ && count >= static_cast<std::size_t>(options_.screenshotAfter))
                takeScreenshot();
        });
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
    if (actions_)
        actions_->waitForAll();
}

void Dashboard::createLauncher()
{
    // The launcher keeps its presets and recent projects beside the settings
    // file, and its history in the app-data folder (beside the settings too
    // when a settings file was named, so a test or a portable setup stays
    // self-contained).
    const QDir settingsDir = QFileInfo(store_.filePath()).absoluteDir();
    const QString history = options_.settingsPath.isEmpty()
                                ? BuildHistory::defaultPath()
                                : settingsDir.filePath(QStringLiteral("history.sqlite"));
    launcher_ =
        std::make_unique<LauncherController>(history, settingsDir.filePath(QStringLiteral("launcher.ini")));
    launcher_->setGracePeriod(settings_.grace());
    if (!launcher_->history().warning().isEmpty()) {
        spdlog::warn("{}", launcher_->history().warning().toStdString());
        window_->showMessage(ui::ActivityLog::Severity::Warning, launcher_->history().warning());
    }
    auto* panel = new ui::LauncherPanel(launcher_.get());
    panel->setRecentProjects(launcher_->recentProjects());
    window_->addPage(panel, tr("&Build"));
    connect(panel, &ui::LauncherPanel::recentProjectsChanged, launcher_.get(),
            &LauncherController::setRecentProjects);
    connect(sampling_.get(), &SamplingService::snapshotReady, launcher_.get(), &LauncherController::observe);

    // While a build runs, the status bar says so on every page.
    auto* buildStatus = new QLabel(window_.get());
    buildStatus->setObjectName(QStringLiteral("buildStatus"));
    window_->statusBar()->addPermanentWidget(buildStatus);
    connect(&launcher_->runner(), &BuildRunner::progressChanged, buildStatus,
            [buildStatus](unsigned done, unsigned total, const QStringList&) {
                buildStatus->setText(tr("Building %1/%2").arg(done).arg(total));
            });
    connect(&launcher_->runner(), &BuildRunner::memoryChanged, buildStatus,
            [buildStatus](quint64 now, quint64) {
                const QString text = buildStatus->text().section(QStringLiteral(" · "), 0, 0);
                buildStatus->setText(text + QStringLiteral(" · ") + QString::fromStdString(formatBytes(now)));
            });
    connect(launcher_.get(), &LauncherController::planStarted, window_.get(), [this](const BuildPlan& plan) {
        for (const auto& step : plan.steps)
            spdlog::info("build step: {}", step.displayLine());
        window_->showMessage(
            ui::ActivityLog::Severity::Info,
            tr("Build started: %1").arg(QString::fromStdString(std::string(presetTitle(plan.preset)))));
    });
    connect(launcher_.get(), &LauncherController::finished, window_.get(),
            [this, buildStatus](const BuildRunResult& r) {
                buildStatus->clear();
                const bool good = r.diagnosis.verdict == BuildVerdict::Succeeded;
                spdlog::info("build ended: {} {}", verdictId(r.diagnosis.verdict), r.diagnosis.summary);
                window_->showMessage(good ? ui::ActivityLog::Severity::Success
                                          : ui::ActivityLog::Severity::Error,
                                     QString::fromStdString(r.diagnosis.summary),
                                     QString::fromStdString(r.diagnosis.nextStep));
            });
    connect(launcher_.get(), &LauncherController::actionsDone, window_.get(), [](const ActionReport& report) {
        for (const auto& result : report.results)
            spdlog::info("launcher action: {}", result.message);
    });
    window_->setCloseGuard([this] { return mayClose(); });
}

bool Dashboard::mayClose()
{
    if (!launcher_ || launcher_->state() != LauncherController::State::Running)
        return true;
    QMessageBox box(QMessageBox::Question, tr("A build is running"),
                    tr("A build started from Headroom is still running."), QMessageBox::NoButton,
                    window_.get());
    box.setInformativeText(
        tr("Keep it running: the window closes now and Headroom quits when the build ends, "
           "after recording it in the history. Stop it: the whole build stops now."));
    QPushButton* keep = box.addButton(tr("&Keep it running"), QMessageBox::AcceptRole);
    QPushButton* stop = box.addButton(tr("&Stop the build"), QMessageBox::DestructiveRole);
    box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(keep);
    box.exec();
    if (box.clickedButton() == keep) {
        spdlog::info("window closed during a build; quitting when it ends");
        QApplication::setQuitOnLastWindowClosed(false);
        connect(launcher_.get(), &LauncherController::finished, qApp, &QCoreApplication::quit,
                Qt::QueuedConnection);
        return true;
    }
    if (box.clickedButton() == stop) {
        spdlog::info("window closed during a build; stopping it");
        QApplication::setQuitOnLastWindowClosed(false);
        connect(launcher_.get(), &LauncherController::finished, qApp, &QCoreApplication::quit,
                Qt::QueuedConnection);
        launcher_->stop();
        return true;
    }
    return false;
}

ClassifierOptions Dashboard::classifierOptions(const ui::DashboardSettings& settings)
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
    window_->show();
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

void Dashboard::changeSettings(const ui::DashboardSettings& settings)
{
    const QStringList changes = SettingsStore::describeChanges(settings_, settings);
    for (const QString& change : changes)
        spdlog::info("setting changed: {}", change.toStdString());
    const bool classifierChanged = settings.testRunners != settings_.testRunners ||
                                   settings.extraLinkers != settings_.extraLinkers ||
                                   settings.extraCompilers != settings_.extraCompilers;
    settings_ = settings;
    window_->applySettings(settings_);
    sampling_->setInterval(settings_.interval());
    actions_->setGrace(settings_.grace());
    if (launcher_)
        launcher_->setGracePeriod(settings_.grace());
    if (classifierChanged)
        sampling_->setClassifierOptions(classifierOptions(settings_));

    const QString problem = store_.save(settings_);
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
