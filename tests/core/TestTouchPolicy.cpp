// SPDX-License-Identifier: GPL-3.0-or-later
// Which processes Headroom may touch, and the reason for each refusal, on
// real processes: a child of the test, pid 1, the test itself and what
// started it, kthreadd, a thread, a zombie, another user's process.
#include "headroom/BuildGuard.h"
#include "headroom/BuildTrees.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/RoleClassifier.h"
#include "headroom/SystemSampler.h"
#include "headroom/TouchPolicy.h"
#include "headroom/Units.h"
#include "support/ProcessSpawner.h"

#include <QFile>
#include <QProcess>
#include <QtTest>

#include <csignal>
#include <future>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

using namespace headroom;

namespace {

const char* why(const TouchVerdict& verdict)
{
    static std::string text;
    text = std::string(touchRuleId(verdict.rule)) + ": " + verdict.reason;
    return text.c_str();
}

bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

Snapshot sampleNow()
{
    auto sampler = SystemSampler::create();
    auto result = sampler->sample();
    return result.ok() ? std::move(result).value() : Snapshot{};
}

// A machine where Headroom (pid 500) runs under `cargo run` (pid 400), as the
// build guard sees it.
Snapshot headroomUnderCargoRun(std::uint32_t uid)
{
    Snapshot s;
    s.memory.total = 16 * GiB;
    s.memory.available = s.memory.total * 8 / 100; // critical, above the emergency line
    s.memory.used = s.memory.total - s.memory.available;
    auto add = [&](Pid pid, Pid parent, std::string name, std::vector<std::string> argv,
                   std::int64_t started) {
        ProcessSample p;
        p.key = {pid, std::uint64_t(started)};
        p.parentPid = parent;
        p.name = name;
        p.exe = "/usr/bin/" + name;
        p.argv = std::move(argv);
        p.cwd = "/w/headroom";
        p.residentBytes = 100 * MiB;
        p.startedAtMs = started;
        p.uid = uid;
        p.state = ProcessState::Sleeping;
        s.processes.push_back(p);
    };
    add(300, 1, "bash", {"bash"}, 100);
    add(400, 300, "cargo", {"cargo", "run"}, 200);
    add(500, 400, "headroom", {"/w/headroom/target/debug/headroom"}, 300);
    add(600, 300, "cargo", {"cargo", "build"}, 400); // another build beside it
    add(601, 600, "rustc", {"rustc", "--crate-name", "demo"}, 500);
    RoleClassifier().classify(s.processes);
    assembleBuilds(s, "/nonexistent");
    return s;
}

} // namespace

class TestTouchPolicy : public QObject {
    Q_OBJECT

  private slots:
    void ownChildIsAllowed()
    {
        ProcessSpawner spawner;
        const Pid child = spawner.start("editor", {});
        const auto live = platform::identify(child);
        QVERIFY(live);
        const TouchPolicy policy = TouchPolicy::live({true, false});
        const TouchVerdict verdict = policy.check(*live);
        QVERIFY2(verdict.allowed(), why(verdict));
        QVERIFY(verdict.reason.empty());
        QVERIFY(!policy.covers(child));
        QVERIFY(policy.protection(child).allowed());
        QVERIFY(!ProcessControl::protectedReason(child));
    }

    void initIsRefused()
    {
        const TouchPolicy policy = TouchPolicy::live();
        QVERIFY(policy.covers(1));
        const TouchVerdict verdict = policy.byPid(1);
        QCOMPARE(verdict.rule, TouchRule::Init);
        QVERIFY2(has(verdict.reason, "init process") && has(verdict.reason, "whole system"), why(verdict));
        if (auto live = platform::identify(1)) {
            const TouchVerdict seen = policy.check(*live);
            QCOMPARE(seen.rule, TouchRule::Init);
            QCOMPARE(seen.reason, verdict.reason);
        }
        QCOMPARE(policy.byPid(0).rule, TouchRule::NotOneProcess);
        QVERIFY2(has(policy.byPid(0).reason, "does not name a single process"), why(policy.byPid(0)));
        QCOMPARE(policy.byPid(-5).rule, TouchRule::NotOneProcess);
        QVERIFY(has(policy.byPid(-5).reason, "pid -5"));
    }

    void headroomItselfAndWhatStartedItAreRefused()
    {
        const TouchPolicy policy = TouchPolicy::live();
        const Pid self = Pid(::getpid());
        QCOMPARE(policy.self(), self);
        const TouchVerdict me = policy.check(*platform::identify(self));
        QCOMPARE(me.rule, TouchRule::Self);
        QVERIFY2(has(me.reason, "pid " + std::to_string(self) + " is Headroom itself"), why(me));

        const Pid parent = Pid(::getppid());
        const auto parentLive = platform::identify(parent);
        QVERIFY(parentLive);
        const TouchVerdict up = policy.check(*parentLive);
        QCOMPARE(up.rule, TouchRule::Ancestor);
        QVERIFY2(has(up.reason, parentLive->name + " (pid " + std::to_string(parent) + ") started Headroom"),
                 why(up));
        QVERIFY(has(up.reason, "the session it runs in"));

        // The same from a real snapshot of the machine.
        const Snapshot snapshot = sampleNow();
        QVERIFY(snapshot.find(self));
        const TouchPolicy seen = TouchPolicy::of(snapshot, platform::currentUid(), self);
        QCOMPARE(seen.check(*snapshot.find(self)).rule, TouchRule::Self);
        QCOMPARE(seen.check(*snapshot.find(parent)).rule, TouchRule::Ancestor);
    }

    void kernelThreadIsRefused()
    {
        const auto kthreadd = platform::identify(2);
        if (!kthreadd || !kthreadd->kernelThread)
            QSKIP("pid 2 is not kthreadd here (a pid namespace)");
        const TouchPolicy policy = TouchPolicy::live();
        const TouchVerdict verdict = policy.check(*kthreadd);
        QCOMPARE(verdict.rule, TouchRule::KernelThread);
        QCOMPARE(verdict.reason, std::string("kthreadd (pid 2) is a kernel thread."));
        QCOMPARE(policy.protection(2).rule, TouchRule::KernelThread);
        // Refused by the protection check too, not only once an action looks.
        const auto reason = ProcessControl::protectedReason(2);
        QVERIFY(reason);
        QVERIFY2(has(*reason, "kernel thread"), reason->c_str());

        const Snapshot snapshot = sampleNow();
        const ProcessSample* sampled = snapshot.find(2);
        QVERIFY(sampled);
        QCOMPARE(TouchPolicy::of(snapshot, platform::currentUid(), Pid(::getpid())).check(*sampled).rule,
                 TouchRule::KernelThread);
    }

    void threadOfHeadroomIsRefused()
    {
        std::promise<void> release;
        std::promise<Pid> started;
        std::thread worker([&] {
            started.set_value(static_cast<Pid>(::syscall(SYS_gettid)));
            release.get_future().wait();
        });
        const Pid tid = started.get_future().get();
        const auto live = platform::identify(tid);
        const TouchPolicy policy = TouchPolicy::live();
        const TouchVerdict verdict = live ? policy.check(*live) : TouchVerdict{};
        const TouchVerdict protection = policy.protection(tid);
        release.set_value();
        worker.join();
        QVERIFY(live);
        QCOMPARE(verdict.rule, TouchRule::Thread);
        QVERIFY2(has(verdict.reason, "is a thread of process " + std::to_string(::getpid())), why(verdict));
        QVERIFY2(has(verdict.reason, "Headroom itself"), why(verdict));
        QCOMPARE(protection.rule, TouchRule::Thread);
    }

    void zombieIsExited()
    {
        ProcessSpawner spawner;
        const Pid child = spawner.start("brief", {"--sleep", "0"});
        QTRY_COMPARE(ProcessSpawner::stateOf(child), 'Z');
        const auto live = platform::identify(child);
        QVERIFY(live);
        const TouchVerdict verdict = TouchPolicy::live().check(*live);
        QCOMPARE(verdict.rule, TouchRule::Exited);
        QVERIFY2(has(verdict.reason, "had already exited; its parent has not collected it yet"),
                 why(verdict));
    }

    void nonBuildProcessUnderBuildRolesOnly()
    {
        ProcessSpawner spawner;
        // Detached: under ctest every descendant of this test counts as a test process.
        qint64 detached = 0;
        QVERIFY(
            QProcess::startDetached(spawner.installAs("editor"), {"--sleep", "30"}, QString(), &detached));
        const Pid editor = Pid(detached);
        QVERIFY(QTest::qWaitFor([&] { return ProcessSpawner::keyOf(editor).pid == editor; }));
        const Pid rustc = spawner.start("rustc", {"--crate-name", "demo"});
        const Snapshot snapshot = sampleNow();
        ::kill(pid_t(editor), SIGKILL);
        const ProcessSample* e = snapshot.find(editor);
        const ProcessSample* r = snapshot.find(rustc);
        QVERIFY(e && r);
        QCOMPARE(e->role, ProcessRole::Other);
        QCOMPARE(r->role, ProcessRole::Rustc);
        const TouchPolicy builds =
            TouchPolicy::of(snapshot, platform::currentUid(), Pid(::getpid()), {true, true});
        const TouchVerdict refused = builds.check(*e);
        QCOMPARE(refused.rule, TouchRule::NotBuild);
        QVERIFY2(
            has(refused.reason, "editor (pid " + std::to_string(editor) + ") is not a build or test process"),
            why(refused));
        QVERIFY2(builds.check(*r).allowed(), why(builds.check(*r)));
        // Without the rule the editor may be touched (the window's own stop).
        QVERIFY(builds.check(*e, {true, false}).allowed());
    }

    void anotherUsersProcessIsRefused()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to start a process as another user");
        ProcessSpawner spawner;
        const Pid pid = spawner.startAsUser("nobodys", 65534);
        QVERIFY(pid > 0);
        const auto live = platform::identify(pid);
        const TouchVerdict mine = TouchPolicy::live({true, false}).check(*live);
        QCOMPARE(mine.rule, TouchRule::OtherUser);
        QVERIFY2(
            has(mine.reason, "nobodys (pid " + std::to_string(pid) + ") belongs to another user (uid 65534)"),
            why(mine));
        // Without the scope (root stopping a process by hand) it is allowed.
        QVERIFY(TouchPolicy::live().check(*live).allowed());
        ::kill(pid, SIGKILL);
        QVERIFY(spawner.waitGone(Pid(pid)));
    }

    void buildThatRunsHeadroomIsRefused()
    {
        constexpr std::uint32_t me = 1000;
        const Snapshot s = headroomUnderCargoRun(me);
        QCOMPARE(s.builds.size(), std::size_t(2));
        const TouchPolicy policy = TouchPolicy::of(s, me, 500, {true, false});
        QCOMPARE(policy.check(*s.find(400)).rule, TouchRule::Ancestor);
        QCOMPARE(policy.check(*s.find(300)).rule, TouchRule::Ancestor);
        for (const BuildTree& build : s.builds) {
            const TouchVerdict verdict = policy.check(s, build);
            if (build.root.pid == 400) {
                QCOMPARE(verdict.rule, TouchRule::Ancestor);
                QVERIFY2(has(verdict.reason, "cargo (pid 400) started Headroom"), why(verdict));
            } else {
                QVERIFY2(verdict.allowed(), why(verdict));
            }
        }
        // Another user: the build as a whole is refused.
        const TouchPolicy other = TouchPolicy::of(s, me + 1, 500, {true, false});
        const TouchVerdict build = other.check(s, s.builds.back());
        QCOMPARE(build.rule, TouchRule::OtherUser);
        QVERIFY2(has(build.reason, "uid 1000"), why(build));
    }

    void guardNeverPausesHeadroomOrWhatStartedIt()
    {
        constexpr std::uint32_t me = 1000;
        GuardOptions options;
        options.uid = me;
        options.guardExternalBuilds = true;
        options.selfPid = 500;
        BuildGuard guard(options);
        std::vector<Pid> paused;
        for (int i = 0; i < 8; ++i) {
            for (const GuardAction& a : guard.decide(headroomUnderCargoRun(me), PressureLevel::Critical, i)) {
                QCOMPARE(a.kind, GuardActionKind::Pause);
                paused.push_back(a.target.pid);
            }
        }
        // The other build only: never the `cargo run` that holds Headroom.
        QCOMPARE(paused, (std::vector<Pid>{601, 600}));
    }
};

QTEST_GUILESS_MAIN(TestTouchPolicy)
#include "TestTouchPolicy.moc"
