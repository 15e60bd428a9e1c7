// SPDX-License-Identifier: GPL-3.0-or-later
// The Linux backend on the live /proc, against the kernel's own files,
// `free -b`, and real process trees this test starts.
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "support/ProcessSpawner.h"

#include <QProcess>
#include <QtTest>

#include <csignal>
#include <fstream>
#include <unistd.h>

using namespace headroom;

namespace {
std::uint64_t meminfoKiB(const std::string& key)
{
    std::ifstream in("/proc/meminfo");
    std::string name;
    std::uint64_t value = 0;
    std::string unit;
    while (in >> name >> value) {
        std::getline(in, unit);
        if (name == key + ":")
            return value;
    }
    return 0;
}

std::uint64_t distance(std::uint64_t a, std::uint64_t b)
{
    return a > b ? a - b : b - a;
}

Snapshot sampleOrFail(SystemSampler& sampler)
{
    auto result = sampler.sample();
    if (!result)
        qFatal("sample failed: %s", result.error().c_str());
    return result.value();
}
} // namespace

class TestLiveSampler : public QObject {
    Q_OBJECT

  private slots:
    void memoryAgreesWithMeminfo()
    {
        auto sampler = SystemSampler::create();
        const Snapshot s = sampleOrFail(*sampler);
        QCOMPARE(s.memory.total, meminfoKiB("MemTotal") * KiB);
        QCOMPARE(s.memory.swapTotal, meminfoKiB("SwapTotal") * KiB);
        // Available moves while we read; allow 256 MiB (a compiler may be running) of drift.
        QVERIFY(distance(s.memory.available, meminfoKiB("MemAvailable") * KiB) < 256 * MiB);
        QCOMPARE(s.memory.used, s.memory.total - s.memory.available);
        QVERIFY(s.memory.oomKillCount.has_value());
    }

    void memoryAgreesWithFree()
    {
        QProcess free;
        free.start("free", {"-b"});
        QVERIFY2(free.waitForFinished(5000), "free -b did not run (procps missing?)");
        auto sampler = SystemSampler::create();
        const Snapshot s = sampleOrFail(*sampler);
        const QStringList lines = QString::fromLocal8Bit(free.readAllStandardOutput()).split('\n');
        QVERIFY(lines.size() >= 3);
        const QStringList mem = lines[1].simplified().split(' ');
        const QStringList swap = lines[2].simplified().split(' ');
        QCOMPARE(mem[0], QString("Mem:"));
        QCOMPARE(mem[1].toULongLong(), s.memory.total);
        QVERIFY2(distance(mem[2].toULongLong(), s.memory.used) < 256 * MiB,
                 qPrintable(QString("free used %1, ours %2").arg(mem[2]).arg(s.memory.used)));
        QVERIFY(distance(mem[6].toULongLong(), s.memory.available) < 256 * MiB);
        QCOMPARE(swap[1].toULongLong(), s.memory.swapTotal);
    }

    void childrenWithHostileNamesAppear()
    {
        ProcessSpawner spawner;
        const QString dir = spawner.makeDir("odd place");
        const Pid pid = spawner.start("my (odd) proc", {"--mem", "24", "--flag with space"}, dir);
        QVERIFY(pid > 0);
        // ctest is itself a test runner, and would make every child of this test a test process.
        SamplerOptions options;
        options.classifier.testRunners.clear();
        auto sampler = SystemSampler::create(options);
        const Snapshot s = sampleOrFail(*sampler);
        const ProcessSample* p = s.find(pid);
        QVERIFY(p);
        QCOMPARE(p->parentPid, Pid(::getpid()));
        QCOMPARE(p->name, std::string("my (odd) proc"));
        QCOMPARE(p->displayName(), std::string("my (odd) proc"));
        QCOMPARE(p->argv.size(), std::size_t(4));
        QCOMPARE(p->argv[3], std::string("--flag with space"));
        QCOMPARE(p->cwd, dir.toStdString());
        QCOMPARE(p->exe, (spawner.binDir() + "/my (odd) proc").toStdString());
        QCOMPARE(p->role, ProcessRole::Other);
        QVERIFY2(p->residentBytes >= 24 * MiB, qPrintable(QString::number(p->residentBytes)));
        QCOMPARE(p->uid, std::uint32_t(::geteuid()));
        QCOMPARE(p->key, ProcessSpawner::keyOf(pid));
        QVERIFY(p->startedAtMs > 0);
        QVERIFY(!p->kernelThread);
        QVERIFY(p->state == ProcessState::Sleeping || p->state == ProcessState::Running);
    }

    void fakeBuildIsOneTreeWithSummedMemory()
    {
        ProcessSpawner spawner;
        const QString ws = spawner.makeDir("ws");
        const Pid cargo =
            spawner.start("cargo",
                          {"build", "--release", "{", "rustc", "--mem", "16", "--crate-name", "a", "}", "{",
                           "rustc", "--mem", "16", "--crate-name", "b", "{", "cc", "}", "}"},
                          ws, 4);
        auto sampler = SystemSampler::create();
        const Snapshot s = sampleOrFail(*sampler);
        const BuildTree* build = nullptr;
        for (const auto& b : s.builds) {
            if (b.root.pid == cargo)
                build = &b;
        }
        QVERIFY(build);
        QCOMPARE(build->members.size(), std::size_t(4));
        QCOMPARE(build->count(ProcessRole::Cargo), 1u);
        QCOMPARE(build->count(ProcessRole::Rustc), 2u);
        QCOMPARE(build->count(ProcessRole::Linker), 1u); // cc under rustc links
        QCOMPARE(build->workspace, ws.toStdString());
        QCOMPARE(build->profile, std::string("release"));
        std::uint64_t sum = 0;
        for (const auto& k : build->members) {
            const auto* member = s.find(k);
            QVERIFY(member);
            sum += member->residentBytes;
        }
        QCOMPARE(build->residentBytes, sum);
        QVERIFY(build->residentBytes >= 32 * MiB);
        QVERIFY(build->duplicates.empty());
    }

    void twoBuildsInOneFolderAreDuplicates()
    {
        ProcessSpawner spawner;
        const QString ws = spawner.makeDir("same");
        const Pid first = spawner.start("cargo", {"build", "{", "rustc", "}"}, ws, 2);
        const Pid second = spawner.start("cargo", {"build", "-p", "x", "{", "rustc", "}"}, ws, 2);
        const QString other = spawner.makeDir("elsewhere");
        const Pid third = spawner.start("cargo", {"build"}, other, 1);
        auto sampler = SystemSampler::create();
        const Snapshot s = sampleOrFail(*sampler);
        std::map<Pid, const BuildTree*> byRoot;
        for (const auto& b : s.builds)
            byRoot[b.root.pid] = &b;
        QVERIFY(byRoot.count(first) && byRoot.count(second) && byRoot.count(third));
        QCOMPARE(byRoot[first]->duplicates.size(), std::size_t(1));
        QCOMPARE(byRoot[second]->duplicates.size(), std::size_t(1));
        QCOMPARE(s.builds[byRoot[first]->duplicates[0]].root.pid, second);
        QVERIFY(byRoot[third]->duplicates.empty());
    }

    void execKeepingTheNameShowsTheNewArguments()
    {
        // exec() of the same program keeps the pid, the start time, the name and
        // the executable; only the arguments tell the new image apart.
        ProcessSpawner spawner;
        const Pid pid = spawner.start("reexec", {"--reexec-on-usr1", "first-image"});
        auto sampler = SystemSampler::create();
        const Snapshot before = sampleOrFail(*sampler);
        const auto* p = before.find(pid);
        QVERIFY(p);
        QCOMPARE(p->argv.back(), std::string("first-image"));
        const std::string exe = p->exe;
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGUSR1), 0);
        const QString cmdline = QString("/proc/%1/cmdline").arg(pid);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QFile f(cmdline);
                return f.open(QIODevice::ReadOnly) && f.readAll().contains("--generation-two");
            }(),
            5000);
        const Snapshot after = sampleOrFail(*sampler);
        p = after.find(pid);
        QVERIFY(p);
        QCOMPARE(p->key, before.find(pid)->key);
        QCOMPARE(p->name, std::string("reexec"));
        QCOMPARE(p->exe, exe);
        QCOMPARE(p->argv.back(), std::string("--generation-two"));
    }

    void exitedProcessLeavesTheTable()
    {
        ProcessSpawner spawner;
        auto sampler = SystemSampler::create();
        const Pid pid = spawner.start("short-lived", {"--sleep", "1"});
        QVERIFY(sampleOrFail(*sampler).find(pid));
        QVERIFY(spawner.waitGone(pid, std::chrono::seconds(5)));
        const Snapshot after = sampleOrFail(*sampler);
        const auto* p = after.find(pid);
        QVERIFY(!p || p->state == ProcessState::Zombie);
    }

    void cpuPercentOnTheSecondSample()
    {
        auto sampler = SystemSampler::create();
        const Snapshot first = sampleOrFail(*sampler);
        QVERIFY(!first.find(Pid(::getpid()))->cpuPercent);
        // Burn a little CPU so our own figure is above zero.
        volatile double x = 0;
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
        while (std::chrono::steady_clock::now() < until)
            x = x + 1.0;
        const Snapshot second = sampleOrFail(*sampler);
        const auto* self = second.find(Pid(::getpid()));
        QVERIFY(self && self->cpuPercent);
        QVERIFY2(*self->cpuPercent > 10.0, qPrintable(QString::number(*self->cpuPercent)));
        QVERIFY(*self->cpuPercent < 250.0);
    }
};

QTEST_GUILESS_MAIN(TestLiveSampler)
#include "TestLiveSampler.moc"
