// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Platform.h"
#include "services/ProcessActions.h"
#include "support/LiveSnapshot.h"
#include "support/ProcessSpawner.h"
#include "ui/ActivityLog.h"
#include "ui/MainWindow.h"
#include "ui/ProcessPanel.h"

#include <QSignalSpy>
#include <QStatusBar>
#include <QTreeView>
#include <QtTest>

#include <csignal>
#include <sys/types.h>

using namespace headroom;
using namespace headroom::ui;

// Toolbar actions on real processes: what the user asks reaches the process
// through the action service, and every outcome shows in the window.
class TestProcessActions : public QObject {
    Q_OBJECT

    std::unique_ptr<ProcessSpawner> spawner_;
    std::unique_ptr<SystemSampler> sampler_;
    std::unique_ptr<MainWindow> window_;
    std::unique_ptr<services::ProcessActions> actions_;

    // Shows a fresh narrowed snapshot, selects `pid` and runs `action` on it.
    ActionReport run(Pid pid, ProcessAction action, bool tree = false)
    {
        window_->showSnapshot(live::sampleOnly(*sampler_, spawner_->binDir()));
        window_->processes()->selectKeys({ProcessSpawner::keyOf(pid)});
        QSignalSpy finished(actions_.get(), &services::ProcessActions::finished);
        window_->action(action, tree)->trigger();
        if (!finished.wait(15000))
            return {};
        return finished.first().at(1).value<ActionReport>();
    }

  private slots:
    void init()
    {
        spawner_ = std::make_unique<ProcessSpawner>();
        sampler_ = SystemSampler::create();
        window_ = std::make_unique<MainWindow>();
        window_->setIdentity(platform::currentUid(), platform::currentPid());
        window_->show();
        actions_ = std::make_unique<services::ProcessActions>();
        actions_->setGrace(std::chrono::milliseconds(1500));
        connect(window_.get(), &MainWindow::actionRequested, actions_.get(),
                &services::ProcessActions::request);
        connect(actions_.get(), &services::ProcessActions::finished, window_.get(),
                &MainWindow::showActionReport);
    }

    void cleanup()
    {
        actions_.reset();
        window_.reset();
        sampler_.reset();
        spawner_.reset();
    }

    void pauseAndResumeAWholeTree()
    {
        const Pid parent = spawner_->start(QStringLiteral("test-runner"), {"{", "worker", "}"}, {}, 2);
        const Pid child = ProcessSpawner::liveDescendants(parent).at(0);

        ActionReport report = run(parent, ProcessAction::Pause, true);
        QCOMPARE(report.results.size(), std::size_t(2));
        QVERIFY(report.allSucceeded());
        QTRY_COMPARE(ProcessSpawner::stateOf(parent), 'T');
        QTRY_COMPARE(ProcessSpawner::stateOf(child), 'T');
        QVERIFY2(window_->activity()->text(0).startsWith(QStringLiteral("Pause Tree test-runner")),
                 qPrintable(window_->activity()->text(0)));

        // The paused state shows, and Resume applies.
        window_->showSnapshot(live::sampleOnly(*sampler_, spawner_->binDir()));
        window_->processes()->selectKeys({ProcessSpawner::keyOf(parent)});
        QVERIFY(window_->action(ProcessAction::Resume, false)->isEnabled());
        report = run(parent, ProcessAction::Resume, true);
        QVERIFY(report.allSucceeded());
        QTRY_COMPARE(ProcessSpawner::stateOf(parent), 'S');
        QTRY_COMPARE(ProcessSpawner::stateOf(child), 'S');
    }

    void terminateWaitsWithoutFreezingTheWindow()
    {
        // A process that ignores SIGTERM is killed after the grace period, and
        // the GUI thread keeps running meanwhile.
        const Pid ignoresTerm = spawner_->start(QStringLiteral("ignoresTerm"), {"--ignore-term"});
        QVERIFY(ignoresTerm > 0);
        window_->showSnapshot(live::sampleOnly(*sampler_, spawner_->binDir()));
        window_->processes()->selectKeys({ProcessSpawner::keyOf(ignoresTerm)});
        QSignalSpy finished(actions_.get(), &services::ProcessActions::finished);
        QElapsedTimer clock;
        clock.start();
        window_->action(ProcessAction::Terminate, false)->trigger();
        QVERIFY(clock.elapsed() < 500); // the trigger returned at once
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
        ticker.start(50);
        QVERIFY(finished.wait(15000));
        QVERIFY(ticks >= 3); // the event loop ran while the action was under way
        spawner_->waitGone(ignoresTerm, std::chrono::seconds(5));
        QCOMPARE(ProcessSpawner::stateOf(ignoresTerm), char(0));
        QVERIFY(finished.first().at(1).value<ActionReport>().allSucceeded());
    }

    void aProcessThatEndedIsReportedAsGone()
    {
        const Pid shortLived = spawner_->start(QStringLiteral("short-lived"), {});
        window_->showSnapshot(live::sampleOnly(*sampler_, spawner_->binDir()));
        window_->processes()->selectKeys({ProcessSpawner::keyOf(shortLived)});
        QCOMPARE(window_->processes()->selectedKeys().size(), std::size_t(1));
        ::kill(static_cast<pid_t>(shortLived), SIGKILL);
        QVERIFY(spawner_->waitGone(shortLived));

        QSignalSpy finished(actions_.get(), &services::ProcessActions::finished);
        window_->action(ProcessAction::Kill, false)->trigger();
        QVERIFY(finished.wait(15000));
        const auto report = finished.first().at(1).value<ActionReport>();
        QCOMPARE(report.count(ActionOutcome::AlreadyGone), std::size_t(1));
        bool shown = false;
        for (int row = 0; row < window_->activity()->count(); ++row)
            shown = shown || window_->activity()->text(row).contains(QStringLiteral("had already exited"));
        QVERIFY(shown);
    }

    // The window asks with the sample it showed: if the pid now belongs to a
    // different program (a pid reused within one tick of the start time), the
    // name and executable no longer match and nothing is signalled.
    void aDifferentProgramUnderTheSameKeyIsNotHit()
    {
        const Pid victim = spawner_->start(QStringLiteral("victim"), {});
        auto seen = live::sampleOnly(*sampler_, spawner_->binDir());
        QVERIFY(seen && seen->find(ProcessSpawner::keyOf(victim)));
        auto altered = std::make_shared<Snapshot>(*seen);
        for (ProcessSample& p : altered->processes) {
            if (p.key.pid == victim) {
                p.exe = "/usr/bin/some-other-program";
                p.name = "some-other-pro";
            }
        }
        window_->showSnapshot(altered);
        window_->processes()->selectKeys({ProcessSpawner::keyOf(victim)});
        QSignalSpy finished(actions_.get(), &services::ProcessActions::finished);
        window_->action(ProcessAction::Kill, false)->trigger();
        QVERIFY(finished.wait(15000));
        const auto report = finished.first().at(1).value<ActionReport>();
        QCOMPARE(report.count(ActionOutcome::Refused), std::size_t(1));
        QTest::qWait(200);
        QCOMPARE(::kill(static_cast<pid_t>(victim), 0), 0);
    }

    void protectedProcessesAreRefusedAloud()
    {
        // pid 1 and the dashboard's own process: a clear refusal each, never a silent no-op.
        auto snapshot = sampler_->sample();
        QVERIFY(snapshot.ok());
        auto shared = std::make_shared<Snapshot>(std::move(snapshot).value());
        window_->showSnapshot(shared);
        const ProcessSample* init = shared->find(Pid(1));
        const ProcessSample* self = shared->find(platform::currentPid());
        QVERIFY(init && self);
        window_->processes()->setFilterText({});
        window_->processes()->selectKeys({init->key, self->key});
        QCOMPARE(window_->processes()->selectedKeys().size(), std::size_t(2));
        QSignalSpy finished(actions_.get(), &services::ProcessActions::finished);
        window_->action(ProcessAction::Kill, false)->trigger();
        QVERIFY(finished.wait(15000));
        const auto report = finished.first().at(1).value<ActionReport>();
        QCOMPARE(report.count(ActionOutcome::Refused), std::size_t(2));
        int refusals = 0;
        for (int row = 0; row < window_->activity()->count(); ++row) {
            if (window_->activity()->text(row).startsWith(QStringLiteral("Refused")) &&
                window_->activity()->severity(row) == ActivityLog::Severity::Warning)
                ++refusals;
        }
        QCOMPARE(refusals, 2);
        QVERIFY(window_->statusBar()->currentMessage().contains(QStringLiteral("refused")));
    }
};

QTEST_MAIN(TestProcessActions)
#include "TestProcessActions.moc"
