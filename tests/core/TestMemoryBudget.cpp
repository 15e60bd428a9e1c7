// SPDX-License-Identifier: GPL-3.0-or-later
// The memory budget: the cgroup readers on recorded v1 and v2 trees
// (tests/data/make-fixtures.py), the choice of the tightest limit, its words,
// and the sampler filling it in.
#include "headroom/CgroupMemory.h"
#include "headroom/MemoryBudget.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace headroom;

namespace {
const std::string kData = HEADROOM_TEST_DATA;

MemoryStatus machine(std::uint64_t total, std::uint64_t available, std::uint64_t swapTotal = 0,
                     std::uint64_t swapFree = 0)
{
    MemoryStatus m;
    m.total = total;
    m.available = available;
    m.used = total - available;
    m.swapTotal = swapTotal;
    m.swapFree = swapFree;
    m.swapUsed = swapTotal - swapFree;
    return m;
}

CgroupMemoryState v2(std::uint64_t usage, std::uint64_t inactive, std::optional<std::uint64_t> max,
                     std::optional<std::uint64_t> high = std::nullopt)
{
    CgroupMemoryState c;
    c.dir = "/sys/fs/cgroup/ci/job";
    c.v2 = true;
    c.usageBytes = usage;
    c.inactiveFileBytes = inactive;
    c.limitBytes = max;
    c.highBytes = high;
    return c;
}

void writeFile(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}
} // namespace

class TestMemoryBudget : public QObject {
    Q_OBJECT

  private slots:
    void theMachineAloneKeepsItsFigures()
    {
        const MemoryStatus m = machine(24 * GiB, 20 * GiB, 8 * GiB, 6 * GiB);
        MemoryBudget b = memoryBudget(m, std::nullopt);
        QCOMPARE(b.source, BudgetSource::System);
        QVERIFY(!b.isCgroup());
        QCOMPARE(b.availableBytes, 20 * GiB);
        QCOMPARE(b.limitBytes, 24 * GiB);
        QCOMPARE(b.usedBytes, 4 * GiB);
        QCOMPARE(b.systemAvailableBytes, 20 * GiB);
        QCOMPARE(b.describe(), std::string("system memory 24.0 GiB"));
        QVERIFY(b.cgroupDir.empty());

        // Swap counts only when the user allows swapping.
        b = memoryBudget(m, std::nullopt, {.countSwap = true});
        QCOMPARE(b.availableBytes, 26 * GiB);
        QCOMPARE(b.limitBytes, 32 * GiB);
        QCOMPARE(b.describe(), std::string("memory and swap 32.0 GiB"));
    }

    void theTightestLimitWins()
    {
        const MemoryStatus m = machine(24 * GiB, 20 * GiB);
        // 8 GiB limit, 5 GiB charged: 3 GiB left, tighter than the machine's 20.
        MemoryBudget b = memoryBudget(m, v2(5 * GiB, 0, 8 * GiB));
        QCOMPARE(b.source, BudgetSource::CgroupV2Max);
        QCOMPARE(b.availableBytes, 3 * GiB);
        QCOMPARE(b.limitBytes, 8 * GiB);
        QCOMPARE(b.usedBytes, 5 * GiB);
        QCOMPARE(b.systemAvailableBytes, 20 * GiB);
        QCOMPARE(b.cgroupDir, std::string("/sys/fs/cgroup/ci/job"));
        QCOMPARE(b.describe(), std::string("cgroup limit 8.0 GiB"));
        QCOMPARE(b.availableFraction(), 3.0 / 8.0);

        // A limit larger than what the machine has left says nothing new.
        b = memoryBudget(machine(24 * GiB, 2 * GiB), v2(5 * GiB, 0, 8 * GiB));
        QCOMPARE(b.source, BudgetSource::System);
        QCOMPARE(b.availableBytes, 2 * GiB);
        // And a tie goes to the machine.
        b = memoryBudget(machine(24 * GiB, 3 * GiB), v2(5 * GiB, 0, 8 * GiB));
        QCOMPARE(b.source, BudgetSource::System);

        // memory.high is a limit too, and here the tighter one.
        b = memoryBudget(m, v2(2 * GiB, 0, 8 * GiB, 6 * GiB));
        QCOMPARE(b.source, BudgetSource::CgroupV2High);
        QCOMPARE(b.availableBytes, 4 * GiB);
        QCOMPARE(b.limitBytes, 6 * GiB);
        QCOMPARE(b.describe(), std::string("memory.high 6.0 GiB"));

        // Over the limit: nothing left, never a wrapped-around figure.
        b = memoryBudget(m, v2(9 * GiB, 0, 8 * GiB));
        QCOMPARE(b.availableBytes, 0u);
        QCOMPARE(b.usedBytes, 8 * GiB);
        QCOMPARE(b.afterReserve(GiB), 0u);
    }

    void thePoolKeepsTheDesktopsReserveOffTheMachineOnly()
    {
        // The machine: 10 % of RAM, at least 1 GiB.
        MemoryBudget b = memoryBudget(machine(24 * GiB, 20 * GiB), std::nullopt);
        QCOMPARE(poolReserve(b), memoryReserve(24 * GiB));
        QCOMPARE(b.afterReserve(poolReserve(b)), 20 * GiB - memoryReserve(24 * GiB));

        // A 600 MiB cgroup with 500 MiB left on a roomy machine: the desktop
        // is not in it, so only a small margin is kept, not half the limit.
        b = memoryBudget(machine(24 * GiB, 20 * GiB), v2(100 * MiB, 0, 600 * MiB));
        QCOMPARE(b.source, BudgetSource::CgroupV2Max);
        QCOMPARE(poolReserve(b), 32 * MiB);
        QCOMPARE(b.afterReserve(poolReserve(b)), 468 * MiB);
        // An 8 GiB container: 3 % of it.
        b = memoryBudget(machine(24 * GiB, 20 * GiB), v2(2 * GiB, 0, 8 * GiB));
        QCOMPARE(poolReserve(b), std::uint64_t(double(8 * GiB) * 0.03));

        // The machine's own room is tighter than the cgroup's: it wins, with
        // the desktop's reserve kept.
        b = memoryBudget(machine(24 * GiB, 3 * GiB), v2(6 * GiB, 0, 8 * GiB + GiB / 2));
        QCOMPARE(b.source, BudgetSource::CgroupV2Max); // 2.5 GiB left in it, 3 on the machine
        QCOMPARE(b.afterReserve(poolReserve(b)), 3 * GiB - memoryReserve(24 * GiB));

        // Nothing left: no wrapped-around figure.
        b = memoryBudget(machine(24 * GiB, 20 * GiB), v2(9 * GiB, 0, 8 * GiB));
        QCOMPARE(b.afterReserve(poolReserve(b)), 0u);
    }

    void inactiveFilePagesAreNotCharged()
    {
        const MemoryStatus m = machine(24 * GiB, 20 * GiB);
        // 7 GiB used of 8, but 3 GiB of it inactive file cache the kernel drops first.
        MemoryBudget b = memoryBudget(m, v2(7 * GiB, 3 * GiB, 8 * GiB));
        QCOMPARE(b.availableBytes, 4 * GiB);
        QCOMPARE(b.usedBytes, 4 * GiB);
        // More inactive file pages than usage (two files read at two moments): clamped.
        b = memoryBudget(m, v2(GiB, 2 * GiB, 8 * GiB));
        QCOMPARE(b.availableBytes, 8 * GiB);
    }

    void swapCountsForTheMachineOnly()
    {
        const MemoryStatus m = machine(24 * GiB, 10 * GiB, 16 * GiB, 16 * GiB);
        // With swap the machine has 26 GiB; the cgroup's 8 GiB limit (4 left) still wins.
        MemoryBudget b = memoryBudget(m, v2(4 * GiB, 0, 8 * GiB), {.countSwap = true});
        QCOMPARE(b.source, BudgetSource::CgroupV2Max);
        QCOMPARE(b.availableBytes, 4 * GiB);
        QCOMPARE(b.systemAvailableBytes, 26 * GiB);
        QCOMPARE(b.describe(), std::string("cgroup limit 8.0 GiB"));
    }

    void aCgroupWithoutFiguresSaysNothing()
    {
        const MemoryStatus m = machine(24 * GiB, 20 * GiB);
        CgroupMemoryState c = v2(0, 0, 8 * GiB);
        c.usageBytes.reset(); // memory.current unreadable: the limit alone tells nothing of what is left
        QCOMPARE(memoryBudget(m, c).source, BudgetSource::System);
        // No limit at all.
        QCOMPARE(memoryBudget(m, v2(5 * GiB, 0, std::nullopt)).source, BudgetSource::System);
        // v1 has no memory.high.
        CgroupMemoryState one = v2(GiB, 0, std::nullopt, GiB + GiB / 2);
        one.v2 = false;
        QCOMPARE(memoryBudget(m, one).source, BudgetSource::System);
    }

    void theEffectiveLimitIsTheOneAlongThePath()
    {
        CgroupMemoryState c = v2(GiB, 0, std::nullopt);
        c.effectiveLimitBytes = 4 * GiB;
        c.limitDir = "/sys/fs/cgroup/kubepods/pod1";
        c.container = true;
        const MemoryBudget b = memoryBudget(machine(64 * GiB, 40 * GiB), c);
        QCOMPARE(b.source, BudgetSource::CgroupV2Max);
        QCOMPARE(b.availableBytes, 3 * GiB);
        QCOMPARE(b.cgroupDir, c.limitDir);
        QVERIFY(b.container);
        QCOMPARE(b.describe(), std::string("container limit 4.0 GiB"));
    }

    void theSourcesHaveIds()
    {
        QCOMPARE(budgetSourceId(BudgetSource::System), std::string_view("system"));
        QCOMPARE(budgetSourceId(BudgetSource::CgroupV1), std::string_view("cgroup-v1"));
        QCOMPARE(budgetSourceId(BudgetSource::CgroupV2Max), std::string_view("cgroup-v2-max"));
        QCOMPARE(budgetSourceId(BudgetSource::CgroupV2High), std::string_view("cgroup-v2-high"));
        QVERIFY(isContainerCgroupPath("/kubepods/burstable/pod1/ctr"));
        QVERIFY(isContainerCgroupPath("/system.slice/docker-0123.scope"));
        QVERIFY(isContainerCgroupPath("/actions_job/42"));
        QVERIFY(!isContainerCgroupPath("/user.slice/user-1000.slice/session-2.scope"));
    }

    void v1Fixtures()
    {
        const std::string root = kData + "/budget-v1/sys/fs/cgroup";
        const std::string proc = kData + "/budget-v1/proc";
        const MemoryStatus m = machine(64 * GiB, 40 * GiB);

        // A limit on the group itself; inactive file pages off its usage.
        auto ci = readProcessCgroupMemory(10, root, proc);
        QVERIFY(ci);
        QVERIFY(!ci->v2);
        QCOMPARE(ci->dir, root + "/memory/ci-limited");
        QCOMPARE(ci->limitBytes.value_or(0), 2 * GiB);
        QCOMPARE(ci->effectiveLimitBytes.value_or(0), 2 * GiB);
        QCOMPARE(ci->limitDir, root + "/memory/ci-limited");
        QCOMPARE(ci->usageBytes.value_or(0), 3 * GiB / 2);
        QCOMPARE(ci->inactiveFileBytes.value_or(0), 512 * MiB);
        QVERIFY(!ci->container);
        MemoryBudget b = memoryBudget(m, ci);
        QCOMPARE(b.source, BudgetSource::CgroupV1);
        QCOMPARE(b.availableBytes, GiB);
        QCOMPARE(b.describe(), std::string("cgroup limit 2.0 GiB"));

        // Unlimited: v1's huge figure is no limit, anywhere on the path.
        auto free = readProcessCgroupMemory(11, root, proc);
        QVERIFY(free);
        QVERIFY(!free->limitBytes);
        QVERIFY(!free->effectiveLimitBytes);
        QCOMPARE(memoryBudget(m, free).source, BudgetSource::System);

        // The container's limit is on its parent: hierarchical_memory_limit says so, the walk says where.
        auto nested = readProcessCgroupMemory(12, root, proc);
        QVERIFY(nested);
        QVERIFY(!nested->limitBytes);
        QCOMPARE(nested->effectiveLimitBytes.value_or(0), 8 * GiB);
        QCOMPARE(nested->limitDir, root + "/memory/docker/abc123");
        QVERIFY(nested->container);
        b = memoryBudget(m, nested);
        QCOMPARE(b.availableBytes, 6 * GiB);
        QCOMPARE(b.cgroupDir, root + "/memory/docker/abc123");
        QCOMPARE(b.describe(), std::string("container limit 8.0 GiB"));

        // Garbage: no figures, no crash, the machine's budget.
        auto junk = readProcessCgroupMemory(13, root, proc);
        QVERIFY(junk);
        QVERIFY(!junk->usageBytes);
        QVERIFY(!junk->limitBytes);
        QVERIFY(!junk->peakBytes);
        QVERIFY(!junk->oomKills);
        QVERIFY(!junk->inactiveFileBytes);
        QVERIFY(!junk->effectiveLimitBytes);
        QCOMPARE(memoryBudget(m, junk).source, BudgetSource::System);

        // A path out of the mount is never followed.
        QVERIFY(!readProcessCgroupMemory(14, root, proc));
        // Another process's group that is gone does not read as its parent's.
        QVERIFY(!readProcessCgroupMemory(15, root, proc));
    }

    void v1InsideAContainer()
    {
        // /proc names the host's path; the mount's root is the container's group.
        const std::string root = kData + "/budget-v1-container/sys/fs/cgroup";
        auto own = readOwnCgroupMemory(root, kData + "/budget-v1-container/proc");
        QVERIFY(own);
        QCOMPARE(own->dir, root + "/memory");
        QCOMPARE(own->effectiveLimitBytes.value_or(0), 4 * GiB);
        QVERIFY(own->container);
        const MemoryBudget b = memoryBudget(machine(64 * GiB, 40 * GiB), own);
        QCOMPARE(b.availableBytes, 2 * GiB);
        QCOMPARE(b.describe(), std::string("container limit 4.0 GiB"));
    }

    void v2Fixtures()
    {
        const std::string root = kData + "/budget-v2/sys/fs/cgroup";
        const std::string proc = kData + "/budget-v2/proc";
        const MemoryStatus m = machine(64 * GiB, 40 * GiB);

        // memory.max on the pod, "max" on the container itself.
        auto pod = readProcessCgroupMemory(20, root, proc);
        QVERIFY(pod);
        QVERIFY(pod->v2);
        QVERIFY(!pod->limitBytes);
        QCOMPARE(pod->effectiveLimitBytes.value_or(0), 4 * GiB);
        QCOMPARE(pod->limitDir, root + "/kubepods/pod1");
        QVERIFY(!pod->effectiveHighBytes);
        QCOMPARE(pod->usageBytes.value_or(0), 3 * GiB);
        QCOMPARE(pod->inactiveFileBytes.value_or(0), 512 * MiB);
        QVERIFY(pod->container);
        MemoryBudget b = memoryBudget(m, pod);
        QCOMPARE(b.source, BudgetSource::CgroupV2Max);
        QCOMPARE(b.availableBytes, GiB + GiB / 2);
        QCOMPARE(b.cgroupDir, root + "/kubepods/pod1");
        QCOMPARE(b.describe(), std::string("container limit 4.0 GiB"));

        // memory.high 6 GiB on the app, memory.max 8 GiB on the slice: high wins.
        auto app = readProcessCgroupMemory(21, root, proc);
        QVERIFY(app);
        QCOMPARE(app->effectiveLimitBytes.value_or(0), 8 * GiB);
        QCOMPARE(app->limitDir, root + "/user.slice");
        QCOMPARE(app->effectiveHighBytes.value_or(0), 6 * GiB);
        QCOMPARE(app->highDir, root + "/user.slice/app");
        QVERIFY(!app->container);
        b = memoryBudget(m, app);
        QCOMPARE(b.source, BudgetSource::CgroupV2High);
        QCOMPARE(b.availableBytes, 4 * GiB);
        QCOMPARE(b.cgroupDir, root + "/user.slice/app");
        QCOMPARE(b.describe(), std::string("memory.high 6.0 GiB"));

        // "max" everywhere: no limit.
        auto free = readProcessCgroupMemory(22, root, proc);
        QVERIFY(free);
        QVERIFY(!free->effectiveLimitBytes);
        QVERIFY(!free->effectiveHighBytes);
        QCOMPARE(free->usageBytes.value_or(0), GiB);
        QCOMPARE(memoryBudget(m, free).source, BudgetSource::System);

        // Garbage: "12abc", "-1", an overflowing number, binary junk.
        auto junk = readProcessCgroupMemory(23, root, proc);
        QVERIFY(junk);
        QVERIFY(!junk->limitBytes);
        QVERIFY(!junk->highBytes);
        QVERIFY(!junk->usageBytes);
        QVERIFY(!junk->inactiveFileBytes);
        QVERIFY(!junk->highEvents);
        QVERIFY(!junk->maxEvents);
        QVERIFY(!junk->effectiveLimitBytes);
        QCOMPARE(memoryBudget(m, junk).source, BudgetSource::System);
    }

    void v2NamespaceRootOfAContainer()
    {
        // "0::/": the limit is on the root the container sees; /.dockerenv marks it.
        const std::string root = kData + "/budget-v2-ns/sys/fs/cgroup";
        auto own = readOwnCgroupMemory(root, kData + "/budget-v2-ns/proc");
        QVERIFY(own);
        QCOMPARE(own->dir, root);
        QCOMPARE(own->effectiveLimitBytes.value_or(0), 8 * GiB);
        QVERIFY(own->container);
        const MemoryBudget b = memoryBudget(machine(64 * GiB, 40 * GiB), own);
        QCOMPARE(b.availableBytes, 4 * GiB);
        QCOMPARE(b.describe(), std::string("container limit 8.0 GiB"));
    }

    void aFifoOrAHugeFileIsNotWaitedOn()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string cg = dir.path().toStdString() + "/job";
        QVERIFY(::mkdir(cg.c_str(), 0755) == 0);
        writeFile(cg + "/cgroup.controllers", "memory\n");
        writeFile(cg + "/memory.max", std::to_string(2 * GiB) + "\n");
        writeFile(cg + "/memory.events", "high 0\nmax 0\noom 0\noom_kill 0\n");
        // Nobody writes to it: a blocking read would hang the test.
        QVERIFY(::mkfifo((cg + "/memory.current").c_str(), 0644) == 0);
        // The key sits past the bound: it is not read, and no half line is.
        writeFile(cg + "/memory.stat", std::string(9000, 'x') + "\ninactive_file 1\n");
        const auto s = readCgroupMemory(cg, true);
        QVERIFY(s);
        QVERIFY(!s->usageBytes);
        QVERIFY(!s->inactiveFileBytes);
        QCOMPARE(s->limitBytes.value_or(0), 2 * GiB);
        QCOMPARE(s->effectiveLimitBytes.value_or(0), 2 * GiB);
    }

    void theSamplerFillsTheBudget()
    {
        SamplerOptions options;
        options.procRoot = kData + "/budget-v2/proc";
        options.cgroupRoot = kData + "/budget-v2/sys/fs/cgroup";
        options.fsRoot = "/nonexistent";
        auto result = SystemSampler::create(options)->sample();
        QVERIFY2(result.ok(), result.error().c_str());
        const Snapshot& s = result.value();
        QCOMPARE(s.memory.total, 64 * GiB);
        QCOMPARE(s.budget.source, BudgetSource::CgroupV2Max);
        QCOMPARE(s.budget.availableBytes, GiB + GiB / 2);
        QCOMPARE(s.budget.limitBytes, 4 * GiB);
        QCOMPARE(s.budget.systemAvailableBytes, 40 * GiB);
        QCOMPARE(s.budget.describe(), std::string("container limit 4.0 GiB"));

        // No cgroup to read (a fixture without /proc/self): the machine's figures.
        options.procRoot = kData + "/proc-report";
        auto plain = SystemSampler::create(options)->sample();
        QVERIFY(plain.ok());
        QCOMPARE(plain.value().budget.source, BudgetSource::System);
        QCOMPARE(plain.value().budget.availableBytes, plain.value().memory.available);
        QCOMPARE(plain.value().budget.limitBytes, plain.value().memory.total);
    }

    void aRealV1CgroupLimitIsTheBudget()
    {
        // A real child group with a 512 MiB limit, and the CLI started inside it.
        const std::string base = "/sys/fs/cgroup/memory";
        if (::access((base + "/cgroup.procs").c_str(), W_OK) != 0)
            QSKIP("no writable cgroup v1 memory hierarchy here");
        const std::string group = base + "/headroom-test-" + std::to_string(::getpid());
        QVERIFY2(::mkdir(group.c_str(), 0755) == 0, group.c_str());
        const auto removeGroup = qScopeGuard([&] { ::rmdir(group.c_str()); });
        writeFile(group + "/memory.limit_in_bytes", std::to_string(512 * MiB));

        QProcess cli;
        cli.start("sh", {"-c", "echo $$ > \"$1\"/cgroup.procs && exec \"$2\" sample --json", "sh",
                         QString::fromStdString(group), HEADROOM_CLI_BIN});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(cli.readAllStandardOutput(), &error);
        QVERIFY2(doc.isObject(), qPrintable(error.errorString()));
        const QJsonObject budget = doc.object().value("budget").toObject();
        QCOMPARE(budget.value("source").toString(), QStringLiteral("cgroup-v1"));
        QCOMPARE(budget.value("limit").toInteger(), qint64(512 * MiB));
        const qint64 available = budget.value("available").toInteger();
        QVERIFY2(available > 0 && available <= qint64(512 * MiB), qPrintable(QString::number(available)));
        QCOMPARE(budget.value("cgroup").toString(), QString::fromStdString(group));
        QVERIFY2(budget.value("words").toString().endsWith(QStringLiteral("limit 512 MiB")),
                 qPrintable(budget.value("words").toString()));
        QVERIFY(budget.value("system_available").toInteger() > available);
        qInfo("in a 512 MiB group: %s, %lld bytes left", qPrintable(budget.value("words").toString()),
              static_cast<long long>(available));
    }
};

QTEST_GUILESS_MAIN(TestMemoryBudget)
#include "TestMemoryBudget.moc"
