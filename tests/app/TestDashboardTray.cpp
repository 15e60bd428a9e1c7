// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/Dashboard.h"
#include "app/desktop/DesktopIntegration.h"
#include "headroom/Platform.h"
#include "headroom/RunsFolder.h"
#include "services/SamplingService.h"
#include "services/SettingsStore.h"
#include "services/launcher/BuildRunner.h"
#include "services/launcher/LauncherController.h"
#include "ui/MainWindow.h"

#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace headroom;
using namespace headroom::app;
using namespace headroom::services;

namespace {

// The desktop as the dashboard sees it, recording what it is told; the test
// decides whether there is a tray and speaks for the user.
class RecordingDesktop : public DesktopIntegration {
    Q_OBJECT
  public:
    explicit RecordingDesktop(bool tray) : trayAvailable(tray) {}

    bool isTrayAvailable() const override { return trayAvailable; }
    void setTrayStatus(const TrayStatus& status) override { statuses << status; }
    void notify(const DesktopNotification& notification) override { notifications << notification; }

    void setTray(bool available)
    {
        trayAvailable = available;
        emit trayAvailabilityChanged(available);
    }
    void request(DesktopCommand command, bool checked = true) { emit commandRequested(command, checked); }

    QList<DesktopNotification> ofKind(DesktopNotification::Kind kind) const
    {
        QList<DesktopNotification> found;
        for (const DesktopNotification& n : notifications)
            if (n.kind == kind)
                found << n;
        return found;
    }

    bool trayAvailable;
    QList<TrayStatus> statuses;
    QList<DesktopNotification> notifications;
};

// Thresholds that put any machine at the warning level and never at critical
// (shared with the end-to-end test), with the shortest notification repeat.
QByteArray warningEverywhere()
{
    QFile file(QStringLiteral(HEADROOM_DESKTOP_TEST_DIR "/warning-everywhere.ini"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll() + "\n[notifications]\nrepeatMinutes=1\n";
}

QString describe(const TrayStatus& s)
{
    return QStringLiteral("hasData=%1 level=%2 used=%3 tooltip=%4")
        .arg(s.hasData)
        .arg(static_cast<int>(s.level))
        .arg(s.usedFraction)
        .arg(s.tooltip);
}

} // namespace

// The dashboard with a tray and without: closing the window, the tray's
// status, rate-limited pressure notifications on real samples, the toggles
// from the tray menu, and a tray that comes and goes.
class TestDashboardTray : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString settingsPath_;
    RecordingDesktop* desktop_ = nullptr;
    std::unique_ptr<Dashboard> dashboard_;

    // A dashboard on a fresh settings file with `extra` appended to it.
    Dashboard* makeDashboard(bool tray, const QByteArray& extra = {}, bool startHidden = false,
                             std::optional<double> commandLineInterval = {})
    {
        QString name = QString::fromLatin1(QTest::currentTestFunction());
        if (QTest::currentDataTag())
            name += QLatin1Char('-') +
                    QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
        settingsPath_ = dir_.filePath(name + QStringLiteral("/headroom.conf"));
        QDir().mkpath(QFileInfo(settingsPath_).absolutePath());
        QFile file(settingsPath_);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return nullptr;
        const QByteArray base = warningEverywhere();
        if (base.isEmpty())
            return nullptr;
        file.write(base);
        file.write(extra);
        file.close();
        DashboardOptions options;
        options.settingsPath = settingsPath_;
        options.startHidden = startHidden;
        options.intervalSeconds = commandLineInterval;
        // Never the user's own history: its last build would be offered.
        options.historyPath = QFileInfo(settingsPath_).absolutePath() + QStringLiteral("/history.sqlite");
        auto desktop = std::make_unique<RecordingDesktop>(tray);
        desktop_ = desktop.get();
        dashboard_ = std::make_unique<Dashboard>(options, std::move(desktop));
        return dashboard_.get();
    }

    QVariant savedValue(const QString& key) const
    {
        return QSettings(settingsPath_, QSettings::IniFormat).value(key);
    }

  private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        qRegisterMetaType<DesktopCommand>();
        qRegisterMetaType<services::SnapshotPtr>();
    }

    void cleanup()
    {
        dashboard_.reset();
        desktop_ = nullptr;
    }

    void closingWithATrayHidesToIt()
    {
        Dashboard* dashboard = makeDashboard(true);
        QVERIFY(dashboard);
        dashboard->start();
        ui::MainWindow* window = dashboard->window();
        QVERIFY(window->isVisible());
        QVERIFY(!dashboard->settings().trayHintShown);

        QVERIFY(!window->close());
        QVERIFY(!window->isVisible());
        QList<DesktopNotification> info = desktop_->ofKind(DesktopNotification::Kind::Info);
        QCOMPARE(info.size(), 1);
        QCOMPARE(info.first().title, QStringLiteral("Headroom is still running"));
        QVERIFY(savedValue(QStringLiteral("tray/closeHintShown")).toBool());
        QVERIFY(services::SettingsStore(settingsPath_).load().settings.trayHintShown);

        // Headroom keeps running: samples still arrive with the window hidden.
        QSignalSpy samples(dashboard->sampling(), &services::SamplingService::snapshotReady);
        QTRY_VERIFY_WITH_TIMEOUT(samples.size() >= 2, 10000);
        QVERIFY(!window->isVisible());

        // Back from the tray and closed again: no second hint.
        desktop_->request(DesktopCommand::ShowDashboard);
        QVERIFY(window->isVisible());
        QVERIFY(!window->close());
        QVERIFY(!window->isVisible());
        QCOMPARE(desktop_->ofKind(DesktopNotification::Kind::Info).size(), 1);
    }

    void theHintIsShownOnlyOnceAcrossRuns()
    {
        Dashboard* dashboard = makeDashboard(true, "\n[tray]\ncloseHintShown=true\n");
        QVERIFY(dashboard);
        dashboard->start();
        QVERIFY(!dashboard->window()->close());
        QVERIFY(!dashboard->window()->isVisible());
        QCOMPARE(desktop_->ofKind(DesktopNotification::Kind::Info).size(), 0);
    }

    void closingWithoutATrayQuits()
    {
        Dashboard* dashboard = makeDashboard(false);
        QVERIFY(dashboard);
        dashboard->start();
        ui::MainWindow* window = dashboard->window();
        QVERIFY(window->isVisible());

        QVERIFY(window->close());
        QVERIFY(!window->isVisible());
        QCOMPARE(desktop_->ofKind(DesktopNotification::Kind::Info).size(), 0);
        QVERIFY(!savedValue(QStringLiteral("tray/closeHintShown")).toBool());

        // The quit is queued: an event loop of the application's own ends
        // with it (and a deadline ends it with 99 if nothing asked to quit).
        QSignalSpy aboutToQuit(qApp, &QCoreApplication::aboutToQuit);
        QTimer deadline;
        deadline.setSingleShot(true);
        connect(&deadline, &QTimer::timeout, qApp, [] { QCoreApplication::exit(99); });
        deadline.start(5000);
        QCOMPARE(QCoreApplication::exec(), 0);
        QVERIFY(deadline.isActive());
        QCOMPARE(aboutToQuit.size(), 1);
    }

    void commandLineIntervalStaysOutOfTheFile()
    {
        // --interval applies to this run only ("not saved"); the close hint
        // and the tray's toggles save the settings and must not write it.
        Dashboard* dashboard = makeDashboard(true, {}, false, 2.0);
        QVERIFY(dashboard);
        QCOMPARE(dashboard->settings().intervalSeconds, 2.0);
        dashboard->start();
        QVERIFY(!dashboard->window()->close());
        QVERIFY(savedValue(QStringLiteral("tray/closeHintShown")).toBool());
        QCOMPARE(savedValue(QStringLiteral("sampling/intervalSeconds")).toDouble(), 0.5);

        dashboard->runCommand(DesktopCommand::SetQuiet, true);
        QCOMPARE(savedValue(QStringLiteral("notifications/quiet")).toBool(), true);
        QCOMPARE(savedValue(QStringLiteral("sampling/intervalSeconds")).toDouble(), 0.5);
        QCOMPARE(dashboard->settings().intervalSeconds, 2.0);
    }

    void trayStatusIsPushed()
    {
        Dashboard* dashboard = makeDashboard(true);
        QVERIFY(dashboard);
        QVERIFY(!desktop_->statuses.isEmpty()); // the waiting status, before any sample
        QVERIFY(!desktop_->statuses.last().hasData);
        dashboard->start();
        QSignalSpy samples(dashboard->sampling(), &services::SamplingService::snapshotReady);
        QTRY_VERIFY_WITH_TIMEOUT(samples.size() >= 3, 10000);
        QVERIFY(!desktop_->statuses.isEmpty());
        const TrayStatus s = desktop_->statuses.last();
        QVERIFY2(s.hasData, qPrintable(describe(s)));
        QCOMPARE(s.level, PressureLevel::Warning);
        QVERIFY2(s.usedFraction > 0.0 && s.usedFraction < 1.0, qPrintable(describe(s)));
        QVERIFY2(s.tooltip.contains(QStringLiteral("RAM")), qPrintable(s.tooltip));
        QVERIFY2(s.tooltip.contains(QStringLiteral("warning")), qPrintable(s.tooltip));
        QCOMPARE(dashboard->trayStatus(), s);
        QVERIFY(!s.guardOn);
        QVERIFY(!s.quiet);
    }

    void pressureNotificationsAreRateLimited_data()
    {
        QTest::addColumn<bool>("quiet");
        QTest::newRow("notify") << false;
        QTest::newRow("quiet") << true;
    }

    void pressureNotificationsAreRateLimited()
    {
        QFETCH(bool, quiet);
        Dashboard* dashboard = makeDashboard(true, quiet ? "quiet=true\n" : "quiet=false\n");
        QVERIFY(dashboard);
        QCOMPARE(dashboard->settings().quiet, quiet);
        QSignalSpy samples(dashboard->sampling(), &services::SamplingService::snapshotReady);
        dashboard->start();
        // About 4 s in warning at 0.5 s a sample.
        QTRY_VERIFY_WITH_TIMEOUT(samples.size() >= 8, 20000);
        QCOMPARE(desktop_->statuses.last().level, PressureLevel::Warning);
        const QList<DesktopNotification> pressure = desktop_->ofKind(DesktopNotification::Kind::Pressure);
        if (quiet) {
            QCOMPARE(pressure.size(), 0);
            return;
        }
        QCOMPARE(pressure.size(), 1);
        QVERIFY2(pressure.first().title.startsWith(QStringLiteral("Memory warning")),
                 qPrintable(pressure.first().title));
        QCOMPARE(pressure.first().urgency, PressureLevel::Warning);
        QVERIFY(!pressure.first().body.isEmpty());
    }

    // Closing the window never stops a build: it runs under its supervisor.
    // Without a tray Headroom quits (saying so), and the build goes on.
    void closingWithoutATrayDuringABuildLeavesItRunning()
    {
        QTemporaryDir project;
        BuildRequest request;
        request.projectDir = project.path().toStdString();
        BuildPlan plan;
        plan.preset = BuildPreset::Custom;
        BuildStep step;
        step.title = "long build";
        step.program = "sh";
        step.args = {"-c", "sleep 60"};
        step.workingDir = request.projectDir;
        plan.steps.push_back(step);
        QString id;
        {
            BuildRunner first; // the runs folder is this test's own (HEADROOM_RUNS_DIR)
            first.setGracePeriod(std::chrono::milliseconds(500));
            QString error;
            QVERIFY2(first.start(request, plan, &error), qPrintable(error));
            id = first.runId();
            QTRY_VERIFY_WITH_TIMEOUT(first.rootKey().has_value(), 20000);
        }
        auto stopAtTheEnd = qScopeGuard([&] { requestStop(defaultRunsDir(), id.toStdString()); });

        Dashboard* dashboard = makeDashboard(false);
        QVERIFY(dashboard);
        dashboard->start();
        QTRY_COMPARE_WITH_TIMEOUT(dashboard->launcher()->state(), LauncherController::State::Running, 10000);
        QCOMPARE(dashboard->launcher()->runningRunId(), id);
        const auto root = dashboard->launcher()->runningBuildRoot();
        QVERIFY(root);

        // The question says what happens, and the answer is to quit.
        QString asked;
        QTimer answer;
        answer.setInterval(50);
        connect(&answer, &QTimer::timeout, this, [&] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box)
                return;
            asked = box->text() + ' ' + box->informativeText();
            for (QAbstractButton* button : box->buttons()) {
                if (button->text().contains(QStringLiteral("keep the build running")))
                    button->click();
            }
        });
        answer.start();
        QVERIFY(dashboard->window()->close());
        answer.stop();
        QVERIFY2(asked.contains("keeps running") && asked.contains("shows it again"), qPrintable(asked));
        QTimer deadline;
        deadline.setSingleShot(true);
        connect(&deadline, &QTimer::timeout, qApp, [] { QCoreApplication::exit(99); });
        deadline.start(5000);
        QCOMPARE(QCoreApplication::exec(), 0);
        QVERIFY(deadline.isActive());

        // Headroom is gone (as far as the build can tell): the build is not.
        dashboard_.reset();
        QTest::qWait(500);
        QVERIFY(platform::isAlive(*root));
        const auto run = findRun(defaultRunsDir(), id.toStdString());
        QVERIFY(run);
        QCOMPARE(run.value().status->state, RunState::Running);
        QVERIFY(run.value().supervisorAlive);
    }

    void togglesFromTheTrayArePersisted()
    {
        Dashboard* dashboard = makeDashboard(true);
        QVERIFY(dashboard);
        dashboard->start();

        dashboard->runCommand(DesktopCommand::SetGuard, true);
        QVERIFY(dashboard->settings().guardEnabled);
        QCOMPARE(savedValue(QStringLiteral("guard/enabled")).toBool(), true);
        QVERIFY(desktop_->statuses.last().guardOn);
        QVERIFY(!desktop_->statuses.last().quiet);

        dashboard->runCommand(DesktopCommand::SetQuiet, true);
        QVERIFY(dashboard->settings().quiet);
        QCOMPARE(savedValue(QStringLiteral("notifications/quiet")).toBool(), true);
        QVERIFY(desktop_->statuses.last().quiet);
        QVERIFY(desktop_->statuses.last().guardOn);

        // From the menu, through the desktop's signal: off again.
        desktop_->request(DesktopCommand::SetGuard, false);
        QVERIFY(!dashboard->settings().guardEnabled);
        QCOMPARE(savedValue(QStringLiteral("guard/enabled")).toBool(), false);
        QVERIFY(!desktop_->statuses.last().guardOn);
        desktop_->request(DesktopCommand::SetQuiet, false);
        QCOMPARE(savedValue(QStringLiteral("notifications/quiet")).toBool(), false);
        QVERIFY(!desktop_->statuses.last().quiet);

        // The samples that follow keep the toggles' state.
        dashboard->runCommand(DesktopCommand::SetGuard, true);
        QSignalSpy samples(dashboard->sampling(), &services::SamplingService::snapshotReady);
        QTRY_VERIFY_WITH_TIMEOUT(samples.size() >= 2, 10000);
        QVERIFY(desktop_->statuses.last().hasData);
        QVERIFY(desktop_->statuses.last().guardOn);
        QVERIFY(desktop_->statuses.last().tooltip.contains(QStringLiteral("Build guard on")));
    }

    void launcherPanelStatusReachesTheStatusBar()
    {
        // "Start last build" from the tray with no build in the history: the
        // launcher panel says why in the window's status bar.
        Dashboard* dashboard = makeDashboard(true);
        QVERIFY(dashboard);
        dashboard->start();
        QVERIFY(!dashboard->trayStatus().canStartBuild);
        QVERIFY(dashboard->trayStatus().lastBuild.isEmpty());
        desktop_->request(DesktopCommand::StartLastBuild);
        QVERIFY(dashboard->window()->isVisible());
        QCOMPARE(dashboard->window()->statusBar()->currentMessage(),
                 QStringLiteral("No build has been started from Headroom yet."));
        // The build's own line in the status bar is empty while none runs.
        auto* buildStatus = dashboard->window()->findChild<QLabel*>(QStringLiteral("buildStatus"));
        QVERIFY(buildStatus);
        QVERIFY(buildStatus->text().isEmpty());
    }

    void aLateTrayIsUsedAndALostOneShowsTheWindow()
    {
        Dashboard* dashboard = makeDashboard(false);
        QVERIFY(dashboard);
        dashboard->start();
        ui::MainWindow* window = dashboard->window();
        QVERIFY(window->isVisible());

        desktop_->setTray(true);
        QVERIFY(!window->close());
        QVERIFY(!window->isVisible());
        QCOMPARE(desktop_->ofKind(DesktopNotification::Kind::Info).size(), 1);

        // The tray goes away while the window is hidden: it comes back.
        desktop_->setTray(false);
        QVERIFY(window->isVisible());
    }

    void startHidden_data()
    {
        QTest::addColumn<bool>("tray");
        QTest::newRow("tray") << true;
        QTest::newRow("no tray") << false;
    }

    void startHidden()
    {
        QFETCH(bool, tray);
        Dashboard* dashboard = makeDashboard(tray, {}, true);
        QVERIFY(dashboard);
        dashboard->start();
        QCOMPARE(dashboard->window()->isVisible(), !tray);
        // Hidden or not, it samples.
        QSignalSpy samples(dashboard->sampling(), &services::SamplingService::snapshotReady);
        QTRY_VERIFY_WITH_TIMEOUT(samples.size() >= 1, 10000);
        QCOMPARE(dashboard->window()->isVisible(), !tray);
        QVERIFY(desktop_->statuses.last().hasData);
    }
};

QTEST_MAIN(TestDashboardTray)
#include "TestDashboardTray.moc"
