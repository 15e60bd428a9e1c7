// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildChecks.h"
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <QtTest>

using namespace headroom;

namespace {
// The second report's machine: 31 GiB RAM with 29 used, 63 GiB swap with 56 used,
// 14 test processes and a release build of the same workspace.
Snapshot reportMachine()
{
    Snapshot s;
    s.memory.total = 31 * GiB;
    s.memory.available = GiB + 2 * GiB / 5;
    s.memory.used = s.memory.total - s.memory.available;
    s.memory.swapTotal = 63 * GiB;
    s.memory.swapFree = 7 * GiB + 7 * GiB / 10;
    s.memory.swapUsed = s.memory.swapTotal - s.memory.swapFree;
    auto add = [&](Pid pid, Pid parent, std::string name, std::vector<std::string> argv, std::uint64_t rss,
                   std::string exe = {}) {
        ProcessSample p;
        p.key = {pid, std::uint64_t(pid)};
        p.parentPid = parent;
        p.name = name;
        p.exe = exe.empty() ? "/usr/bin/" + name : exe;
        p.argv = std::move(argv);
        p.cwd = "/home/dev/pyphi";
        p.residentBytes = rss;
        s.processes.push_back(p);
    };
    add(100, 1, "cargo", {"cargo", "build", "--release"}, 100 * MiB);
    add(101, 100, "rustc", {"rustc"}, 3 * GiB);
    for (Pid i = 0; i < 14; ++i)
        add(200 + i, 1, "sweep-0123456789", {"sweep"}, GiB + GiB / 5,
            "/home/dev/pyphi/target/release/deps/sweep-0123456789abcdef");
    RoleClassifier().classify(s.processes);
    assembleBuilds(s, "/nonexistent");
    return s;
}
} // namespace

class TestBuildChecks : public QObject {
    Q_OBJECT

  private slots:
    void theReportsMachine()
    {
        BuildCheckOptions o;
        o.workspace = "/home/dev/pyphi";
        o.targetDir = "/home/dev/pyphi/target";
        const auto checks = runBuildChecks(reportMachine(), o);
        QCOMPARE(checks.size(), std::size_t(4));
        QVERIFY(!allPassed(checks));
        QVERIFY(!checks[0].passed);
        QVERIFY2(checks[0].verdict.find("(95%) is above the 80% limit") != std::string::npos,
                 checks[0].verdict.c_str());
        // 1.4 GiB RAM + 7.7 GiB swap = 9.1 GiB: the report's own arithmetic says A fits.
        QVERIFY(checks[1].passed);
        QCOMPARE(checks[1].verdict, std::string("RAM + free swap: 9.1 GiB available, 8.0 GiB needed."));
        QVERIFY(!checks[2].passed);
        QVERIFY(!checks[3].passed);
        QCOMPARE(checks[2].offenders.size(), std::size_t(1));
        QCOMPARE(checks[2].offenders[0].pid, Pid(100));
        QVERIFY(checks[2].verdict.find("cargo build --release") != std::string::npos);
        QCOMPARE(checks[3].offenders.size(), std::size_t(14));
        QVERIFY2(checks[3].verdict.starts_with("14 test processes use 16.8 GiB"), checks[3].verdict.c_str());
    }

    void headroomThreshold()
    {
        Snapshot s = reportMachine();
        BuildCheckOptions o;
        o.requiredHeadroom = 8 * GiB; // 1.4 + 7.7 = 9.1 GiB: enough
        QVERIFY(runBuildChecks(s, o)[1].passed);
        o.requiredHeadroom = 10 * GiB;
        const auto check = runBuildChecks(s, o)[1];
        QVERIFY(!check.passed);
        QVERIFY2(check.verdict.find("9.1 GiB available, 10.0 GiB needed") != std::string::npos,
                 check.verdict.c_str());
    }

    void aQuietMachinePasses()
    {
        Snapshot s;
        s.memory.total = 16 * GiB;
        s.memory.available = 12 * GiB;
        s.memory.used = 4 * GiB;
        s.memory.swapTotal = s.memory.swapFree = 2 * GiB;
        BuildCheckOptions o;
        o.workspace = "/w";
        const auto checks = runBuildChecks(s, o);
        QVERIFY(allPassed(checks));
        QCOMPARE(checks[3].verdict, std::string("No test processes are running."));
    }

    void insideAContainerTheLimitDecides()
    {
        // A CI runner: the host has 64 GiB, 40 of them available; the job's
        // container may use 8 GiB and already holds 4.9 of it.
        Snapshot s;
        s.memory.total = 64 * GiB;
        s.memory.available = 40 * GiB;
        s.memory.used = 24 * GiB;
        CgroupMemoryState job;
        job.dir = "/sys/fs/cgroup/actions_job/42";
        job.v2 = true;
        job.container = true;
        job.usageBytes = 4 * GiB + 9 * GiB / 10;
        job.limitBytes = 8 * GiB;
        s.budget = memoryBudget(s.memory, job);
        QVERIFY(s.budget.isCgroup());

        BuildCheckOptions o;
        o.requiredHeadroom = 6 * GiB;
        auto checks = runBuildChecks(s, o);
        // The host's 37 % used would pass; the container's 61 % passes too, in its own words.
        QVERIFY(checks[0].passed);
        QCOMPARE(
            checks[0].verdict,
            std::string("Used memory 4.9 GiB of the container limit 8.0 GiB (61%) is under the 80% limit."));
        // 40 GiB of the host would pass; 3.1 GiB left of the limit does not.
        QVERIFY(!checks[1].passed);
        QCOMPARE(checks[1].verdict,
                 std::string("3.1 GiB left of the container limit 8.0 GiB; the build needs about 6.0 GiB."));
        o.requiredHeadroom = 3 * GiB;
        checks = runBuildChecks(s, o);
        QVERIFY(checks[1].passed);
        QCOMPARE(checks[1].verdict,
                 std::string("3.1 GiB left of the container limit 8.0 GiB, 3.0 GiB needed."));

        // Nearly full: the used check fails and says what happens at a cgroup limit.
        job.usageBytes = 7 * GiB;
        s.budget = memoryBudget(s.memory, job);
        checks = runBuildChecks(s, o);
        QVERIFY(!checks[0].passed);
        QVERIFY2(checks[0].verdict.find("of the container limit 8.0 GiB (88%) is above the 80% limit: ") !=
                     std::string::npos,
                 checks[0].verdict.c_str());
        QVERIFY2(checks[0].verdict.find("OOM-killed") != std::string::npos, checks[0].verdict.c_str());

        // A limit the machine's figures are tighter than changes nothing: the old words.
        job.usageBytes = GiB;
        job.limitBytes = 60 * GiB;
        s.budget = memoryBudget(s.memory, job);
        QVERIFY(!s.budget.isCgroup());
        checks = runBuildChecks(s, o);
        QCOMPARE(checks[1].verdict, std::string("RAM + free swap: 40.0 GiB available, 3.0 GiB needed."));
    }
};

QTEST_GUILESS_MAIN(TestBuildChecks)
#include "TestBuildChecks.moc"
