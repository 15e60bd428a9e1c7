// SPDX-License-Identifier: GPL-3.0-or-later
// The build guard's decisions on a replayed pressure series.
#include "headroom/BuildGuard.h"
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <QtTest>

using namespace headroom;

namespace {
constexpr std::uint32_t kMe = 1000;

Snapshot machine(double availablePercent)
{
    Snapshot s;
    s.memory.total = 16 * GiB;
    s.memory.available = std::uint64_t(availablePercent / 100.0 * double(s.memory.total));
    s.memory.used = s.memory.total - s.memory.available;
    s.wallMs = 10'000'000;
    auto add = [&](Pid pid, Pid parent, std::string name, std::uint64_t rss, std::int64_t started,
                   std::uint32_t uid = kMe, std::string exe = {}) {
        ProcessSample p;
        p.key = {pid, std::uint64_t(started)};
        p.parentPid = parent;
        p.name = name;
        p.exe = exe.empty() ? "/usr/bin/" + name : exe;
        p.argv = {name, "build"};
        p.cwd = "/w/" + std::to_string(parent == 1 ? pid : parent);
        p.residentBytes = rss;
        p.startedAtMs = started;
        p.uid = uid;
        p.state = ProcessState::Sleeping;
        s.processes.push_back(p);
    };
    add(100, 1, "cargo", 100 * MiB, 1000);
    add(101, 100, "rustc", 1 * GiB, 2000);
    add(102, 100, "rustc", 2 * GiB, 3000);
    add(103, 100, "demo-0123456789", 500 * MiB, 4000, kMe, "/w/100/target/debug/deps/demo-0123456789abcdef");
    add(200, 1, "cargo", 50 * MiB, 1500); // a build Headroom did not start
    add(201, 200, "rustc", 3 * GiB, 1600);
    add(300, 1, "cargo", 50 * MiB, 5000, 1001); // another user's
    add(301, 300, "rustc", 4 * GiB, 5100, 1001);
    add(400, 1, "code", 3 * GiB, 500); // the editor: never a build process
    RoleClassifier().classify(s.processes);
    assembleBuilds(s, "/nonexistent");
    return s;
}

std::vector<Pid> targets(const std::vector<GuardAction>& actions, GuardActionKind kind)
{
    std::vector<Pid> out;
    for (const auto& a : actions) {
        if (a.kind == kind)
            out.push_back(a.target.pid);
    }
    return out;
}
} // namespace

class TestBuildGuard : public QObject {
    Q_OBJECT

  private slots:
    void pausesYoungestFirstAndResumesOldestFirst()
    {
        GuardOptions options;
        options.uid = kMe;
        options.launchedRoots = {ProcessKey{100, 1000}};
        BuildGuard guard(options);
        double now = 0;
        std::vector<Pid> paused;
        for (int i = 0; i < 6; ++i) {
            const auto actions = guard.decide(machine(8), PressureLevel::Critical, now++);
            for (Pid p : targets(actions, GuardActionKind::Pause))
                paused.push_back(p);
        }
        // Only the launched build's processes, youngest first; nothing else.
        QCOMPARE(paused, (std::vector<Pid>{103, 102, 101, 100}));
        QCOMPARE(guard.paused().size(), std::size_t(4));

        // Warning holds them; normal resumes them, oldest first, once the grace period allows.
        QVERIFY(guard.decide(machine(18), PressureLevel::Warning, now++).empty());
        // Seconds after the pauses: within the grace period, nothing is resumed yet.
        QVERIFY(guard.decide(machine(40), PressureLevel::Normal, now++).empty());
        now += 60;
        const auto resumed =
            targets(guard.decide(machine(40), PressureLevel::Normal, now), GuardActionKind::Resume);
        QCOMPARE(resumed, (std::vector<Pid>{100, 101, 102, 103}));
        QVERIFY(guard.paused().empty());
    }

    void neverTwiceWithinTheGracePeriod()
    {
        GuardOptions options;
        options.uid = kMe;
        options.launchedRoots = {ProcessKey{100, 1000}};
        options.graceSeconds = 30;
        BuildGuard guard(options);
        QCOMPARE(targets(guard.decide(machine(8), PressureLevel::Critical, 0), GuardActionKind::Pause),
                 std::vector<Pid>{103});
        // Back to normal at once: 103 was acted on a second ago, so it stays paused for now.
        QVERIFY(guard.decide(machine(40), PressureLevel::Normal, 1).empty());
        QCOMPARE(targets(guard.decide(machine(40), PressureLevel::Normal, 31), GuardActionKind::Resume),
                 std::vector<Pid>{103});
    }

    void emergencyTerminatesTheLargestGuardedTreeOnly()
    {
        GuardOptions options;
        options.uid = kMe;
        options.guardExternalBuilds = true;
        BuildGuard guard(options);
        double now = 0;
        guard.decide(machine(8), PressureLevel::Critical, now++); // pauses one process
        QVERIFY(!guard.paused().empty());
        const auto actions = guard.decide(machine(4), PressureLevel::Critical, now++);
        const auto terminated = targets(actions, GuardActionKind::TerminateTree);
        // Our two builds: 100's tree holds 3.6 GiB, 200's 3.05 GiB; the other user's 4 GiB tree is not ours.
        QCOMPARE(terminated, std::vector<Pid>{100});
        QVERIFY(actions[0].reason.find("4%") != std::string::npos);
    }

    void emergencyInsideACgroupCountsItsLimit()
    {
        GuardOptions options;
        options.uid = kMe;
        options.guardExternalBuilds = true;
        BuildGuard guard(options);
        double now = 0;
        // The machine has half its RAM available: no emergency by its figures...
        Snapshot s = machine(50);
        guard.decide(s, PressureLevel::Critical, now++); // pauses one process
        QVERIFY(!guard.paused().empty());
        QVERIFY(
            targets(guard.decide(s, PressureLevel::Critical, now++), GuardActionKind::TerminateTree).empty());
        // ...but inside a 10 GiB container limit, 0.3 GiB (3 %) is left: stop the largest build.
        CgroupMemoryState ctr;
        ctr.dir = "/sys/fs/cgroup/memory/docker/abc";
        ctr.container = true;
        ctr.usageBytes = 10 * GiB - 3 * GiB / 10;
        ctr.effectiveLimitBytes = 10 * GiB;
        ctr.limitDir = ctr.dir;
        s.budget = memoryBudget(s.memory, ctr);
        QCOMPARE(s.budget.source, BudgetSource::CgroupV1);
        const auto actions = guard.decide(s, PressureLevel::Critical, now++);
        QCOMPARE(targets(actions, GuardActionKind::TerminateTree), std::vector<Pid>{100});
        QCOMPARE(actions[0].reason,
                 std::string("memory left fell to 3% of the container limit 10.0 GiB with builds paused"));
    }

    void emergencyMayStopAPausedBuildButWaitsBeforeTheNext()
    {
        GuardOptions options;
        options.uid = kMe;
        options.guardExternalBuilds = true;
        options.graceSeconds = 30;
        BuildGuard guard(options);
        double now = 0;
        // Everything of ours paused, roots included.
        for (int i = 0; i < 6; ++i)
            guard.decide(machine(8), PressureLevel::Critical, now++);
        QCOMPARE(guard.paused().size(), std::size_t(6));
        // Still falling: the largest tree goes although its root was paused seconds ago.
        QCOMPARE(
            targets(guard.decide(machine(4), PressureLevel::Critical, now++), GuardActionKind::TerminateTree),
            std::vector<Pid>{100});
        // The snapshot still shows 100's tree while it winds down: nothing else is
        // stopped until the grace period has passed...
        for (int i = 0; i < 5; ++i)
            QVERIFY(targets(guard.decide(machine(3), PressureLevel::Critical, now++),
                            GuardActionKind::TerminateTree)
                        .empty());
        // ...then the next largest, if memory is still at the emergency line.
        now += 30;
        const auto next =
            targets(guard.decide(machine(3), PressureLevel::Critical, now), GuardActionKind::TerminateTree);
        QCOMPARE(next.size(), std::size_t(1));
    }

    void externalBuildsOnlyWhenAskedAndNeverAnotherUsers()
    {
        GuardOptions options;
        options.uid = kMe;
        options.guardExternalBuilds = true;
        BuildGuard guard(options);
        std::vector<Pid> paused;
        for (int i = 0; i < 12; ++i) {
            for (Pid p :
                 targets(guard.decide(machine(8), PressureLevel::Critical, i), GuardActionKind::Pause))
                paused.push_back(p);
        }
        std::sort(paused.begin(), paused.end());
        QCOMPARE(paused, (std::vector<Pid>{100, 101, 102, 103, 200, 201}));

        BuildGuard onlyLaunched(GuardOptions{kMe, 5.0, 30.0, false, {}});
        QVERIFY(onlyLaunched.decide(machine(8), PressureLevel::Critical, 0).empty());
    }
};

QTEST_GUILESS_MAIN(TestBuildGuard)
#include "TestBuildGuard.moc"
