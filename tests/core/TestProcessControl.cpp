// SPDX-License-Identifier: GPL-3.0-or-later
// Stopping real processes: the right ones, all of them, and nothing else.
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "support/ProcessSpawner.h"

#include <QFile>
#include <QtTest>

#include <future>
#include <set>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace headroom;
using namespace std::chrono_literals;

namespace {
bool alive(Pid pid)
{
    return ProcessSpawner::isAlive(pid);
}

std::vector<Pid> pidsIn(const QString& file)
{
    std::vector<Pid> out;
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (!line.trimmed().isEmpty())
            out.push_back(line.trimmed().toLongLong());
    }
    return out;
}

std::string outcomes(const ActionReport& report)
{
    std::string text;
    for (const auto& r : report.results)
        text += std::to_string(r.key.pid) + ":" + std::string(outcomeId(r.outcome)) + " " + r.message + "\n";
    return text;
}
} // namespace

class TestProcessControl : public QObject {
    Q_OBJECT

  private slots:
    void treeTerminateLeavesNothingAlive()
    {
        ProcessSpawner spawner;
        const QString ws = spawner.makeDir("ws");
        const Pid cargo = spawner.start(
            "cargo",
            {"build", "{", "rustc", "{", "cc", "}", "}", "{", "rustc", "}", "{", "build-script-build", "}"},
            ws, 5);
        const Pid bystander = spawner.start("editor", {});
        const auto members = ProcessSpawner::liveDescendants(cargo);
        QCOMPARE(members.size(), std::size_t(4));

        ActionOptions options;
        options.tree = true;
        const ActionReport report =
            ProcessControl().apply(ProcessSpawner::keyOf(cargo), ProcessAction::Terminate, options);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QCOMPARE(report.results.size(), std::size_t(5));
        QCOMPARE(report.count(ActionOutcome::Done), std::size_t(5));
        QVERIFY(spawner.waitGone(cargo, 3s));
        for (Pid p : members)
            QVERIFY2(!alive(p), qPrintable(QString("pid %1 survived").arg(p)));
        QVERIFY2(alive(bystander), "an unrelated process was touched");
        QCOMPARE(report.summary(), std::string("5 processes terminated"));
    }

    void treeKill()
    {
        ProcessSpawner spawner;
        const Pid cargo = spawner.start("cargo", {"{", "rustc", "}", "{", "rustc", "}"}, {}, 3);
        const auto members = ProcessSpawner::liveDescendants(cargo);
        ActionOptions options;
        options.tree = true;
        const auto report =
            ProcessControl().apply(ProcessSpawner::keyOf(cargo), ProcessAction::Kill, options);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QVERIFY(spawner.waitGone(cargo, 3s));
        for (Pid p : members)
            QVERIFY(!alive(p));
    }

    void terminateEscalatesAfterGrace()
    {
        ProcessSpawner spawner;
        const Pid ignoresTerm = spawner.start("ignoresTerm", {"--ignore-term"});
        ActionOptions options;
        options.grace = 300ms;
        const auto start = std::chrono::steady_clock::now();
        const auto report =
            ProcessControl().apply(ProcessSpawner::keyOf(ignoresTerm), ProcessAction::Terminate, options);
        QVERIFY(std::chrono::steady_clock::now() - start >= 300ms);
        QCOMPARE(report.results.size(), std::size_t(1));
        QCOMPARE(report.results[0].outcome, ActionOutcome::Done);
        QVERIFY2(report.results[0].message.find("ignored SIGTERM") != std::string::npos,
                 report.results[0].message.c_str());
        QVERIFY(spawner.waitGone(ignoresTerm, 3s));
    }

    void wrongStartTimeIsRefused()
    {
        ProcessSpawner spawner;
        const Pid pid = spawner.start("victim", {});
        ProcessKey key = ProcessSpawner::keyOf(pid);
        key.startTime += 1;
        const auto report = ProcessControl().apply(key, ProcessAction::Kill);
        QCOMPARE(report.results.size(), std::size_t(1));
        QCOMPARE(report.results[0].outcome, ActionOutcome::Refused);
        QVERIFY(report.results[0].message.find("start time") != std::string::npos);
        QThread::msleep(100);
        QVERIFY2(alive(pid), "the process behind a wrong start time must live on");
        QCOMPARE(platform::sendSignal(key, ProcessAction::Kill).outcome, ActionOutcome::AlreadyGone);
        QVERIFY(alive(pid));
    }

    void pauseAndResumeTree()
    {
        ProcessSpawner spawner;
        const Pid runner = spawner.start("cargo-nextest", {"{", "tests-a", "}", "{", "tests-b", "}"}, {}, 3);
        const auto members = ProcessSpawner::liveDescendants(runner);
        ActionOptions options;
        options.tree = true;
        const ProcessKey key = ProcessSpawner::keyOf(runner);
        auto report = ProcessControl().apply(key, ProcessAction::Pause, options);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QTRY_COMPARE(ProcessSpawner::stateOf(runner), 'T');
        for (Pid p : members)
            QTRY_COMPARE(ProcessSpawner::stateOf(p), 'T');
        report = ProcessControl().apply(key, ProcessAction::Resume, options);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QTRY_COMPARE(ProcessSpawner::stateOf(runner), 'S');
        for (Pid p : members)
            QTRY_COMPARE(ProcessSpawner::stateOf(p), 'S');
    }

    void protectedProcessesAreRefused()
    {
        ProcessControl control;
        for (Pid pid : {Pid(0), Pid(1), Pid(::getpid()), Pid(::getppid())}) {
            auto id = platform::identify(pid);
            const ProcessKey key = id ? id->key : ProcessKey{pid, 0};
            const auto report = control.apply(key, ProcessAction::Kill);
            QCOMPARE(report.results.size(), std::size_t(1));
            QVERIFY2(report.results[0].outcome == ActionOutcome::Refused, report.results[0].message.c_str());
            QVERIFY(report.results[0].message.starts_with("Refused: "));
        }
        QVERIFY(ProcessControl::protectedReason(1)->find("init") != std::string::npos);
        QVERIFY(ProcessControl::protectedReason(::getppid())->find("started Headroom") != std::string::npos);
    }

    void goneProcessIsReportedAsGone()
    {
        ProcessSpawner spawner;
        const Pid pid = spawner.start("brief", {});
        const ProcessKey key = ProcessSpawner::keyOf(pid);
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        QVERIFY(spawner.waitGone(pid));
        const auto report = ProcessControl().apply(key, ProcessAction::Terminate);
        QCOMPARE(report.results[0].outcome, ActionOutcome::AlreadyGone);
        QVERIFY(report.allSucceeded());
        QCOMPARE(report.summary(), std::string("1 already gone"));
    }

    void anotherUsersProcess()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to start a process as another user");
        // A process of user nobody: refused when only our own may be touched.
        ProcessSpawner spawner;
        const Pid pid = spawner.startAsUser("nobodys", 65534);
        QVERIFY(pid > 0);
        ActionOptions options;
        options.onlyCurrentUser = true;
        const auto report = ProcessControl().apply(ProcessSpawner::keyOf(pid), ProcessAction::Kill, options);
        QCOMPARE(report.results[0].outcome, ActionOutcome::Refused);
        QVERIFY(report.results[0].message.find("another user") != std::string::npos);
        QVERIFY(alive(pid));

        // And the OS's own refusal, seen from that user: it may not signal ours.
        const Pid ours = spawner.start("ours", {});
        const ProcessKey oursKey = ProcessSpawner::keyOf(ours);
        int pipeFds[2];
        QCOMPARE(::pipe(pipeFds), 0);
        const pid_t probe = ::fork();
        if (probe == 0) {
            ::close(pipeFds[0]);
            if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                ::_exit(1);
            const auto r = ProcessControl().apply(oursKey, ProcessAction::Kill);
            const char code = static_cast<char>(r.results.at(0).outcome);
            if (::write(pipeFds[1], &code, 1) != 1)
                ::_exit(2);
            ::_exit(0);
        }
        ::close(pipeFds[1]);
        char code = -1;
        QCOMPARE(::read(pipeFds[0], &code, 1), ssize_t(1));
        ::close(pipeFds[0]);
        ::waitpid(probe, nullptr, 0);
        QCOMPARE(static_cast<ActionOutcome>(code), ActionOutcome::NotPermitted);
        QVERIFY(alive(ours));

        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }

    void termTrappingForkerLeavesNoSurvivor()
    {
        // It traps SIGTERM and forks every few milliseconds; each child ignores
        // SIGTERM and starts a grandchild. Woken for its SIGTERM, it forks on
        // through the grace period: every process it ever made must be gone.
        ProcessSpawner spawner;
        const QString pids = spawner.makeDir("out") + "/pids";
        const Pid forker = spawner.start("forker", {"--forker", pids});
        const Pid bystander = spawner.start("editor", {});
        QTRY_VERIFY(pidsIn(pids).size() >= 20);
        ActionOptions options;
        options.tree = true;
        options.grace = 400ms;
        const auto start = std::chrono::steady_clock::now();
        const ActionReport report =
            ProcessControl().apply(ProcessSpawner::keyOf(forker), ProcessAction::Terminate, options);
        const auto took = std::chrono::steady_clock::now() - start;
        const auto made = pidsIn(pids);
        std::vector<Pid> survivors;
        for (Pid p : made) {
            if (alive(p))
                survivors.push_back(p);
        }
        for (Pid p : survivors)
            ::kill(static_cast<pid_t>(p), SIGKILL); // orphans the spawner would not find
        QVERIFY2(survivors.empty(), qPrintable(QString("%1 of %2 survived: %3")
                                                   .arg(survivors.size())
                                                   .arg(made.size())
                                                   .arg(QString::fromStdString(report.summary()))));
        QVERIFY(spawner.waitGone(forker, 3s));
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QCOMPARE(report.survivors(), std::size_t(0));
        // Every process it made is accounted for in the report.
        std::set<Pid> reported;
        for (const auto& r : report.results)
            reported.insert(r.key.pid);
        for (Pid p : made)
            QVERIFY2(reported.count(p), qPrintable(QString("pid %1 missing from the report").arg(p)));
        QVERIFY(report.results.size() > made.size() / 2);
        QVERIFY2(took < 10s, "stopping took too long");
        QVERIFY2(alive(bystander), "an unrelated process was touched");
    }

    void orphanedMemberIsStillKilled()
    {
        // The parent exits on SIGTERM; its child ignores it and is re-parented
        // to init during the grace period, out of the parent's tree.
        ProcessSpawner spawner;
        const Pid cargo = spawner.start("cargo", {"{", "rustc", "--ignore-term", "}"}, {}, 2);
        const auto members = ProcessSpawner::liveDescendants(cargo);
        QCOMPARE(members.size(), std::size_t(1));
        ActionOptions options;
        options.tree = true;
        options.grace = 300ms;
        const auto report =
            ProcessControl().apply(ProcessSpawner::keyOf(cargo), ProcessAction::Terminate, options);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QCOMPARE(report.count(ActionOutcome::Done), std::size_t(2));
        QVERIFY(!alive(members[0]));
        QVERIFY(spawner.waitGone(cargo, 3s));
    }

    void deepChainIsReportedGone()
    {
        // Thousands of processes take longer than a fixed couple of seconds to
        // exit: every one of them must be waited for, not reported alive.
        constexpr int kDepth = 1000;
        ProcessSpawner spawner;
        const auto building = std::chrono::steady_clock::now();
        const Pid head = spawner.start("chain", {"--mem", "0", "--chain", QString::number(kDepth)});
        QTRY_COMPARE_WITH_TIMEOUT(ProcessSpawner::liveDescendants(head).size(), std::size_t(kDepth - 1),
                                  40000);
        qInfo("built a chain of %d in %lld ms", kDepth,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - building)
                                         .count()));
        ActionOptions options;
        options.tree = true;
        const auto start = std::chrono::steady_clock::now();
        const auto report = ProcessControl().apply(ProcessSpawner::keyOf(head), ProcessAction::Kill, options);
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        qInfo("killed a chain of %d in %lld ms", kDepth, static_cast<long long>(took.count()));
        QCOMPARE(report.results.size(), std::size_t(kDepth));
        QCOMPARE(report.survivors(), std::size_t(0));
        QVERIFY2(report.allSucceeded(), report.summary().c_str());
        QCOMPARE(report.count(ActionOutcome::Done), std::size_t(kDepth));
        QCOMPARE(report.summary(), std::to_string(kDepth) + " processes killed");
        QVERIFY(spawner.waitGone(head, 3s));
        QVERIFY(ProcessSpawner::liveDescendants(head).empty());
        QVERIFY(took < 60s);
    }

    void threadIdOfAChildIsRefused()
    {
        ProcessSpawner spawner;
        const QString file = spawner.makeDir("out") + "/tids";
        const Pid pid = spawner.start("threaded", {"--threads", "3", file});
        QTRY_COMPARE(pidsIn(file).size(), std::size_t(3));
        for (Pid tid : pidsIn(file)) {
            const auto live = platform::identify(tid);
            QVERIFY(live);
            QCOMPARE(live->threadOf, pid);
            for (bool tree : {false, true}) {
                ActionOptions options;
                options.tree = tree;
                const auto report = ProcessControl().apply(live->key, ProcessAction::Kill, options);
                QCOMPARE(report.results.size(), std::size_t(1));
                QCOMPARE(report.results[0].outcome, ActionOutcome::Refused);
                QVERIFY2(report.results[0].message.find("is a thread of process") != std::string::npos,
                         report.results[0].message.c_str());
                QVERIFY2(report.results[0].message.find(std::to_string(pid)) != std::string::npos,
                         report.results[0].message.c_str());
            }
            const auto sent = platform::sendSignal(live->key, ProcessAction::Kill);
            QCOMPARE(sent.outcome, ActionOutcome::Refused);
            QVERIFY(sent.reason.find("stop the process instead") != std::string::npos);
        }
        QThread::msleep(100);
        QVERIFY2(alive(pid), "a thread id must not stand for its process");
    }

    void threadIdOfHeadroomItselfIsRefused()
    {
        std::promise<void> release;
        std::promise<Pid> started;
        std::thread worker([&] {
            started.set_value(static_cast<Pid>(::syscall(SYS_gettid)));
            release.get_future().wait();
        });
        const Pid tid = started.get_future().get();
        const auto live = platform::identify(tid);
        QVERIFY(live);
        QCOMPARE(live->threadOf, Pid(::getpid()));
        const auto reason = ProcessControl::protectedReason(tid);
        QVERIFY(reason && reason->find("Headroom itself") != std::string::npos);
        for (auto action : {ProcessAction::Kill, ProcessAction::Pause, ProcessAction::Terminate}) {
            const auto report = ProcessControl().apply(live->key, action);
            QCOMPARE(report.results[0].outcome, ActionOutcome::Refused);
        }
        QCOMPARE(platform::sendSignal(live->key, ProcessAction::Pause).outcome, ActionOutcome::Refused);
        release.set_value();
        worker.join();
    }

    void anotherProgramUnderTheSameKeyIsRefused()
    {
        // A pid reused within one clock tick has the same (pid, start time):
        // the program recorded in the sample is what tells them apart.
        ProcessSpawner spawner;
        const Pid pid = spawner.start("victim", {});
        const auto live = platform::identify(pid);
        QVERIFY(live);
        QCOMPARE(live->exe, (spawner.binDir() + "/victim").toStdString());
        for (const ProcessTarget& seen : {ProcessTarget{live->key, "victim", "/usr/bin/other"},
                                          ProcessTarget{live->key, "other", live->exe}}) {
            for (bool tree : {false, true}) {
                ActionOptions options;
                options.tree = tree;
                const auto report =
                    ProcessControl().apply(std::vector<ProcessTarget>{seen}, ProcessAction::Kill, options);
                QCOMPARE(report.results.size(), std::size_t(1));
                QCOMPARE(report.results[0].outcome, ActionOutcome::Refused);
                QVERIFY2(report.results[0].message.find("another process now") != std::string::npos,
                         report.results[0].message.c_str());
            }
        }
        QThread::msleep(50);
        QVERIFY(alive(pid));
        ProcessSample sample;
        sample.key = live->key;
        sample.name = "victim";
        sample.exe = live->exe;
        const auto report = ProcessControl().apply(std::vector<ProcessTarget>{ProcessTarget::of(sample)},
                                                   ProcessAction::Kill);
        QVERIFY2(report.allSucceeded(), outcomes(report).c_str());
        QVERIFY(spawner.waitGone(pid, 3s));
    }

    void survivorsAreNamedInTheSummary()
    {
        ActionReport report;
        report.action = ProcessAction::Terminate;
        report.results.push_back(
            {{10, 1}, "cargo", ActionOutcome::Done, "cargo (pid 10) terminated.", false});
        report.results.push_back({{11, 1}, "rustc", ActionOutcome::Failed, "still alive", true});
        report.results.push_back({{12, 1}, "rustc", ActionOutcome::Failed, "could not", false});
        QVERIFY(!report.allSucceeded());
        QCOMPARE(report.survivors(), std::size_t(1));
        QCOMPARE(report.summary(), std::string("1 process terminated, 1 failed, 1 still alive"));
    }

    void actionIds()
    {
        for (auto a :
             {ProcessAction::Pause, ProcessAction::Resume, ProcessAction::Terminate, ProcessAction::Kill})
            QCOMPARE(actionFromId(actionId(a)).value(), a);
        QVERIFY(!actionFromId("explode"));
    }
};

QTEST_GUILESS_MAIN(TestProcessControl)
#include "TestProcessControl.moc"
