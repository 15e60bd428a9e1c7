// SPDX-License-Identifier: GPL-3.0-or-later
#include "Dashboard.h"

#include "MainWindow.h"
#include "ProcessActions.h"
#include "SamplingService.h"
#include "headroom/Platform.h"

#include <QFileInfo>
#include <QImage>
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
