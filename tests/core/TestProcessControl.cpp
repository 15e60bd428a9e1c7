// SPDX-License-Identifier: GPL-3.0-or-later
// Stopping real processes: the right ones, all of them, and nothing else.
#include "ProcessSpawner.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"

#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

using namespace headroom;
using namespace std::chrono_literals;

namespace {
bool alive(Pid pid)
{
    return ProcessSpawner::isAlive(pid);
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
        const QString program = spawner.installAs("nobodys");
        const auto open =
            QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadOther | QFile::ExeOther;
        QVERIFY(QFile::setPermissions(spawner.binDir(), open));
        QVERIFY(QFile::setPermissions(spawner.binDir() + "/..", open));
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                ::_exit(1);
            ::execl(program.toLocal8Bit().constData(), "nobodys", "--sleep", "30",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        QTRY_VERIFY(platform::identify(pid) && platform::identify(pid)->name == "nobodys");
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
