// SPDX-License-Identifier: GPL-3.0-or-later
// One build about to start: its plan for each preset, its checks with the
// learned peak and the figures given, and the heavy processes it lists, on
// made-up snapshots (and none).
#include "headroom/BuildSession.h"
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace headroom;

namespace {
ProcessSample process(Pid pid, Pid parent, std::string name, std::vector<std::string> argv, std::uint64_t rss,
                      std::string exe = {})
{
    ProcessSample p;
    p.key = {pid, std::uint64_t(pid)};
    p.parentPid = parent;
    p.name = name;
    p.exe = exe.empty() ? "/usr/bin/" + name : exe;
    p.argv = std::move(argv);
    p.cwd = "/home/dev/pyphi";
    p.residentBytes = rss;
    return p;
}

std::shared_ptr<const Snapshot> finish(Snapshot s)
{
    std::sort(s.processes.begin(), s.processes.end(),
              [](const ProcessSample& a, const ProcessSample& b) { return a.key.pid < b.key.pid; });
    RoleClassifier().classify(s.processes);
    assembleBuilds(s, "/nonexistent");
    return std::make_shared<const Snapshot>(std::move(s));
}

const std::string kTest = "/home/dev/pyphi/target/release/deps/sweep-0123456789abcdef";

// 31 GiB of RAM with 29.6 used, 7.7 GiB of swap free (9.1 GiB of headroom), a
// release build of the workspace and 14 test processes outside it.
std::shared_ptr<const Snapshot> busyMachine()
{
    Snapshot s;
    s.memory.total = 31 * GiB;
    s.memory.available = GiB + 2 * GiB / 5;
    s.memory.used = s.memory.total - s.memory.available;
    s.memory.swapTotal = 63 * GiB;
    s.memory.swapFree = 7 * GiB + 7 * GiB / 10;
    s.memory.swapUsed = s.memory.swapTotal - s.memory.swapFree;
    s.processes.push_back(process(100, 1, "cargo", {"cargo", "build", "--release"}, 100 * MiB));
    s.processes.push_back(process(101, 100, "rustc", {"rustc"}, 3 * GiB));
    for (Pid i = 0; i < 14; ++i)
        s.processes.push_back(process(200 + i, 1, "sweep-0123456789", {"sweep"}, GiB + GiB / 5, kTest));
    return finish(std::move(s));
}

// A quiet machine: 17 GiB available of 32, nothing building.
std::shared_ptr<const Snapshot> quietMachine()
{
    Snapshot s;
    s.memory.total = 32 * GiB;
    s.memory.available = 17 * GiB;
    s.memory.used = s.memory.total - s.memory.available;
    s.processes.push_back(process(10, 1, "bash", {"bash"}, 5 * MiB));
    return finish(std::move(s));
}

BuildRequest example()
{
    BuildRequest r;
    r.projectDir = "/home/dev/pyphi";
    r.targetKind = TargetKind::Example;
    r.targetName = "validate";
    return r;
}

BuildSessionSettings known()
{
    BuildSessionSettings s;
    s.workspace = "/home/dev/pyphi";
    s.targetDir = "/home/dev/shared-target";
    s.cpus = 4;
    return s;
}

std::string env(const BuildStep& step, const std::string& name)
{
    const auto it = step.environment.find(name);
    return it == step.environment.end() ? std::string() : it->second;
}

bool has(const std::vector<std::string>& args, const std::string& word)
{
    return std::find(args.begin(), args.end(), word) != args.end();
}
} // namespace

class TestBuildSession : public QObject {
    Q_OBJECT

  private slots:
    void eachPresetPlansItsSteps()
    {
        const auto snap = quietMachine();
        const BuildPlan a = BuildSession(example(), BuildPreset::A, snap, {}, known()).plan();
        QCOMPARE(a.preset, BuildPreset::A);
        QCOMPARE(a.steps.size(), std::size_t(1));
        QCOMPARE(env(a.steps[0], "CARGO_BUILD_JOBS"), std::string("1"));
        QVERIFY(has(a.steps[0].args, "--release"));
        QCOMPARE(a.jobs.value_or(0), 1u);
        QVERIFY(!a.freeMemoryFirst);
        // The workspace's own target folder, not <project>/target.
        QCOMPARE(a.artifactPath, std::string("/home/dev/shared-target/release/examples/validate"));

        const BuildPlan b = BuildSession(example(), BuildPreset::B, snap, {}, known()).plan();
        QCOMPARE(b.profileDir, std::string("debug"));
        QVERIFY(!has(b.steps.at(0).args, "--release"));
        QCOMPARE(b.artifactPath, std::string("/home/dev/shared-target/debug/examples/validate"));

        const BuildPlan c = BuildSession(example(), BuildPreset::C, snap, {}, known()).plan();
        QCOMPARE(c.steps.size(), std::size_t(2));
        QVERIFY(has(c.steps[0].args, "--lib"));
        QVERIFY(has(c.steps[1].args, "--example"));

        const BuildPlan d = BuildSession(example(), BuildPreset::D, snap, {}, known()).plan();
        QVERIFY(d.freeMemoryFirst);
        QCOMPARE(d.jobs.value_or(0), 1u);

        // Unknown target folder: the project's.
        const BuildPlan bare = BuildSession(example(), BuildPreset::A, snap).plan();
        QCOMPARE(bare.artifactPath, std::string("/home/dev/pyphi/target/release/examples/validate"));
    }

    void autoDividesTheMemoryThereIs()
    {
        const auto snap = quietMachine();
        BuildSessionSettings many = known();
        many.cpus = 64;
        // (17 − 1 GiB kept) ÷ 2 GiB per job (nothing learned) = 8.
        const BuildSession fresh(example(), BuildPreset::Auto, snap, {}, many);
        QCOMPARE(fresh.autoJobsInput().availableBytes, std::uint64_t(17 * GiB));
        BuildPlan plan = fresh.plan();
        QCOMPARE(plan.jobs.value_or(0), 8u);
        QVERIFY(has(plan.steps.at(0).args, "-j"));
        QCOMPARE(plan.steps[0]
                     .args[std::size_t(std::find(plan.steps[0].args.begin(), plan.steps[0].args.end(), "-j") -
                                       plan.steps[0].args.begin()) +
                           1],
                 std::string("8"));
        QVERIFY2(plan.jobsExplanation.find("no history yet") != std::string::npos,
                 plan.jobsExplanation.c_str());

        // A learned 4 GiB per job halves it.
        plan = BuildSession(example(), BuildPreset::Auto, snap, {4 * GiB, std::nullopt}, many).plan();
        QCOMPARE(plan.jobs.value_or(0), 4u);
        QVERIFY2(plan.jobsExplanation.find("the peak of past builds") != std::string::npos,
                 plan.jobsExplanation.c_str());

        // Four CPUs cap it.
        plan = BuildSession(example(), BuildPreset::Auto, snap, {}, known()).plan();
        QCOMPARE(plan.jobs.value_or(0), 4u);
        QVERIFY2(plan.jobsExplanation.find("capped at 4 CPUs") != std::string::npos,
                 plan.jobsExplanation.c_str());

        // The user's -j wins.
        BuildRequest asked = example();
        asked.jobs = 3;
        plan = BuildSession(asked, BuildPreset::Auto, snap, {}, many).plan();
        QCOMPARE(plan.jobs.value_or(0), 3u);
        QCOMPARE(env(plan.steps.at(0), "CARGO_BUILD_JOBS"), std::string("3"));
    }

    void autoDividesWhatTheContainerLeaves()
    {
        // 17 GiB available on the host, but the container's 8 GiB limit has 5 GiB left.
        Snapshot s = *quietMachine();
        CgroupMemoryState ctr;
        ctr.dir = "/sys/fs/cgroup/docker/abc";
        ctr.v2 = true;
        ctr.container = true;
        ctr.usageBytes = 3 * GiB;
        ctr.limitBytes = 8 * GiB;
        s.budget = memoryBudget(s.memory, ctr);
        const auto snap = std::make_shared<const Snapshot>(s);
        BuildSessionSettings many = known();
        many.cpus = 64;
        const BuildSession session(example(), BuildPreset::Auto, snap, {}, many);
        QCOMPARE(session.autoJobsInput().availableBytes, std::uint64_t(5 * GiB));
        // (5 − 1 GiB kept) ÷ 2 GiB per job = 2, not the host's 8.
        QCOMPARE(session.plan().jobs.value_or(0), 2u);
        // The checks speak of the limit too.
        const auto checks = session.checks();
        QVERIFY2(checks.at(1).verdict.find("left of the container limit 8.0 GiB") != std::string::npos,
                 checks.at(1).verdict.c_str());
    }

    void customRunsItsOwnPlanOrNothing()
    {
        const BuildPlan none =
            BuildSession(example(), BuildPreset::Custom, quietMachine(), {}, known()).plan();
        QCOMPARE(none.preset, BuildPreset::Custom);
        QVERIFY(none.steps.empty());

        BuildSessionSettings settings = known();
        BuildPlan custom;
        custom.preset = BuildPreset::Custom;
        custom.steps.push_back(BuildStep{"Run make", "make", {"-j2"}, {}, "/home/dev/pyphi", {}});
        settings.customPlan = custom;
        const BuildPlan plan =
            BuildSession(example(), BuildPreset::Custom, quietMachine(), {}, settings).plan();
        QCOMPARE(plan.steps.size(), std::size_t(1));
        QCOMPARE(plan.steps[0].program, std::string("make"));
        QCOMPARE(plan.steps[0].args, std::vector<std::string>{"-j2"});
    }

    void checksUseTheLearnedPeakUnlessANeedIsGiven()
    {
        const auto snap = busyMachine(); // 9.1 GiB of RAM + free swap
        const BuildSession plain(example(), BuildPreset::B, snap, {}, known());
        QCOMPARE(plain.checkOptions().requiredHeadroom, std::uint64_t(8 * GiB));
        QCOMPARE(plain.checkOptions().workspace, std::string("/home/dev/pyphi"));
        QCOMPARE(plain.checkOptions().targetDir, std::string("/home/dev/shared-target"));
        auto checks = plain.checks();
        QCOMPARE(checks.size(), std::size_t(4));
        QCOMPARE(checks[1].id, BuildCheckId::Headroom);
        QVERIFY2(checks[1].passed, checks[1].verdict.c_str());
        QVERIFY2(!checks[0].passed, checks[0].verdict.c_str()); // 95% used
        QVERIFY(!checks[2].passed);                             // the release build of this workspace
        QCOMPARE(checks[2].offenders.size(), std::size_t(1));
        QCOMPARE(checks[2].offenders[0].pid, Pid(100));
        QVERIFY(!checks[3].passed); // 14 heavy tests
        QCOMPARE(checks[3].offenders.size(), std::size_t(14));

        // A learned 12 GiB peak is more than there is.
        const BuildSession learned(example(), BuildPreset::B, snap, {std::nullopt, 12 * GiB}, known());
        QCOMPARE(learned.checkOptions().requiredHeadroom, std::uint64_t(12 * GiB));
        checks = learned.checks();
        QVERIFY2(!checks.at(1).passed, checks[1].verdict.c_str());

        // An explicit need wins over it.
        BuildSessionSettings asked = known();
        asked.need = 3 * GiB;
        const BuildSession needed(example(), BuildPreset::B, snap, {std::nullopt, 12 * GiB}, asked);
        QCOMPARE(needed.checkOptions().requiredHeadroom, std::uint64_t(3 * GiB));
        QVERIFY(needed.checks().at(1).passed);

        // A higher limit on used memory lets the 95% pass.
        asked.maxUsedFraction = 0.99;
        QVERIFY(BuildSession(example(), BuildPreset::B, snap, {}, asked).checks().at(0).passed);

        // Workspace not read yet: the project folder and its target folder.
        const BuildSession unread(example(), BuildPreset::B, snap);
        QCOMPARE(unread.checkOptions().workspace, std::string("/home/dev/pyphi"));
        QCOMPARE(unread.checkOptions().targetDir, std::string("/home/dev/pyphi/target"));
    }

    void nanAndZeroFiguresFallBackToTheDefaults()
    {
        const auto snap = busyMachine();
        for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), 0.0, -0.5, 1.5}) {
            BuildSessionSettings s = known();
            s.maxUsedFraction = bad;
            s.defaultNeed = 0;
            s.need = 0;
            s.cpus = 0;
            const BuildSession session(example(), BuildPreset::Auto, snap, {0, 0}, s);
            const BuildCheckOptions o = session.checkOptions();
            QCOMPARE(o.maxUsedFraction, 0.80);
            QCOMPARE(o.requiredHeadroom, std::uint64_t(8 * GiB));
            QVERIFY(!session.autoJobsInput().learnedPeakPerJob);
            QCOMPARE(session.autoJobsInput().cpus, 1u);
            const BuildPlan plan = session.plan();
            QCOMPARE(plan.jobs.value_or(0), 1u); // one CPU
            QVERIFY2(plan.jobsExplanation.find("no history yet") != std::string::npos,
                     plan.jobsExplanation.c_str());
            QCOMPARE(session.checks().size(), std::size_t(4));
        }
    }

    void noSnapshotYet()
    {
        const BuildSession session(example(), BuildPreset::Auto, nullptr, {}, known());
        QVERIFY(session.checks().empty());
        QVERIFY(session.heavyProcesses().empty());
        QVERIFY(session.testsToPause().empty());
        const BuildPlan plan = session.plan();
        QCOMPARE(plan.jobs.value_or(0), 1u);
        QVERIFY2(plan.jobsExplanation.rfind("no memory reading yet: ", 0) == 0, plan.jobsExplanation.c_str());
        // The other presets do not need one.
        QCOMPARE(BuildSession(example(), BuildPreset::C, nullptr).plan().steps.size(), std::size_t(2));
    }

    void emptySnapshot()
    {
        const auto empty = std::make_shared<const Snapshot>();
        const BuildSession session(example(), BuildPreset::Auto, empty, {}, known());
        QVERIFY(session.heavyProcesses().empty());
        QVERIFY(session.testsToPause().empty());
        QCOMPARE(session.plan().jobs.value_or(0), 1u); // nothing available: raised to one
        const auto checks = session.checks();
        QCOMPARE(checks.size(), std::size_t(4));
        QVERIFY(!checks[1].passed); // no headroom at all
        QVERIFY(checks[2].passed);  // no competing build
    }

    void heavyProcessesRankTestsThenRustcThenTheRest()
    {
        Snapshot s;
        s.memory.total = 32 * GiB;
        s.memory.available = 4 * GiB;
        s.processes.push_back(process(300, 1, "firefox", {"firefox"}, 5 * GiB));
        s.processes.push_back(process(301, 1, "code", {"code"}, 100 * MiB));
        s.processes.push_back(process(302, 1, "code", {"code"}, 100 * MiB));
        s.processes.push_back(process(303, 1, "rustc", {"rustc"}, 3 * GiB));
        s.processes.push_back(process(304, 1, "sweep-0123456789", {"sweep"}, GiB, kTest));
        s.processes.push_back(process(305, 1, "sweep-0123456789", {"sweep"}, 2 * GiB, kTest));
        ProcessSample zombie = process(306, 1, "sweep-0123456789", {"sweep"}, 9 * GiB, kTest);
        zombie.state = ProcessState::Zombie;
        s.processes.push_back(zombie);
        s.processes.push_back(process(307, 1, "sweep-0123456789", {"sweep"}, 0, kTest));
        ProcessSample kthread = process(2, 0, "kswapd0", {}, 20 * GiB);
        kthread.kernelThread = true;
        s.processes.push_back(kthread);
        const auto snap = finish(std::move(s));
        QCOMPARE(snap->find(Pid(304))->role, ProcessRole::Test);

        const BuildSession session(example(), BuildPreset::D, snap);
        const auto heavy = session.heavyProcesses();
        std::vector<Pid> order;
        for (const auto& p : heavy)
            order.push_back(p.key.pid);
        // No zombie, nothing without memory, no kernel thread; equal figures by pid.
        QCOMPARE(order, (std::vector<Pid>{305, 304, 303, 300, 301, 302}));
        const auto two = session.heavyProcesses(2);
        QCOMPARE(two.size(), std::size_t(2));
        QCOMPARE(two[1].key.pid, Pid(304));
        QVERIFY(session.heavyProcesses(0).empty());

        // Preset D pauses the live test processes: not the zombie.
        auto tests = session.testsToPause();
        std::vector<Pid> paused;
        for (const auto& k : tests)
            paused.push_back(k.pid);
        std::sort(paused.begin(), paused.end());
        QCOMPARE(paused, (std::vector<Pid>{304, 305, 307}));
    }

    void heavyListIsCappedAndTestsInsideABuildStay()
    {
        const auto snap = busyMachine();
        const BuildSession session(example(), BuildPreset::D, snap);
        const auto heavy = session.heavyProcesses();
        QCOMPARE(heavy.size(), BuildSession::kHeavyLimit); // 16 candidates
        for (std::size_t i = 0; i < 14; ++i)
            QCOMPARE(heavy[i].role, ProcessRole::Test);
        QCOMPARE(heavy[14].key.pid, Pid(101)); // rustc after the tests

        // A test run by the build itself (cargo test) is the build's: not paused.
        Snapshot s = *snap;
        s.processes.push_back(process(150, 100, "sweep-0123456789", {"sweep"}, GiB, kTest));
        s.builds.clear();
        const auto withTest = finish(std::move(s));
        QVERIFY(withTest->buildOf(ProcessKey{150, 150}) != nullptr);
        const auto tests = BuildSession(example(), BuildPreset::D, withTest).testsToPause();
        QCOMPARE(tests.size(), std::size_t(14));
        for (const auto& k : tests)
            QVERIFY(k.pid != Pid(150));
    }
};

QTEST_GUILESS_MAIN(TestBuildSession)
#include "TestBuildSession.moc"
