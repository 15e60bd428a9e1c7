// SPDX-License-Identifier: GPL-3.0-or-later
// The Linux backend on recorded procfs trees (tests/data/make-fixtures.py).
#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildTrees.h"
#include "headroom/CgroupMemory.h"
#include "headroom/Platform.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace headroom;

namespace {
const std::string kData = HEADROOM_TEST_DATA;

std::unique_ptr<SystemSampler> samplerFor(const std::string& proc, const std::string& fs = "/nonexistent")
{
    SamplerOptions options;
    options.procRoot = kData + "/" + proc;
    options.fsRoot = kData + "/" + fs;
    return SystemSampler::create(options);
}
} // namespace

class TestLinuxFixtures : public QObject {
    Q_OBJECT

    Snapshot report;

  private slots:
    void initTestCase()
    {
        auto result = samplerFor("proc-report", "fs-report")->sample();
        QVERIFY2(result.ok(), result.error().c_str());
        report = result.value();
    }

    void memoryFromTheReport()
    {
        const auto& m = report.memory;
        QCOMPARE(m.total, 31 * GiB);
        QCOMPARE(m.available, std::uint64_t(1.4 * 1024 * 1024) * KiB);
        QCOMPARE(m.used, m.total - m.available);
        QCOMPARE(m.swapTotal, 63 * GiB);
        QCOMPARE(m.swapFree, std::uint64_t(7.7 * 1024 * 1024) * KiB);
        QCOMPARE(m.swapUsed, m.swapTotal - m.swapFree);
        QCOMPARE(m.cache, (819200u + 102400u) * KiB);
        QCOMPARE(m.compressedStored.value_or(0), 524288u * KiB);
        QCOMPARE(m.compressedOriginal.value_or(0), 1572864u * KiB);
        QVERIFY(m.pressure.available);
        QCOMPARE(m.pressure.some.avg10, 42.5);
        QCOMPARE(m.pressure.full.avg10, 12.25);
        QCOMPARE(m.oomKillCount.value_or(0), 3u);
        QCOMPARE(report.uptimeSeconds, 5000.0);
        QVERIFY(report.notes.empty());
    }

    void hostileNames()
    {
        const auto* odd = report.find(Pid(100));
        QVERIFY(odd);
        QCOMPARE(odd->name, std::string("my (odd) proc"));
        QCOMPARE(odd->argv.at(0), std::string("./my (odd) proc"));
        QCOMPARE(odd->displayName(), std::string("my (odd) proc"));
        QCOMPARE(odd->commandLine(), std::string("'./my (odd) proc' --flag"));

        const auto* newline = report.find(Pid(101));
        QVERIFY(newline);
        QCOMPARE(newline->name, std::string("a) b\n(c"));
        QCOMPARE(newline->parentPid, Pid(1));

        const auto* bytes = report.find(Pid(102));
        QVERIFY(bytes);
        QCOMPARE(bytes->name, std::string("caf\xe9\xff"));
        QVERIFY(bytes->argv.empty());
        QCOMPARE(bytes->commandLine(), std::string("[caf\xe9\xff]"));
    }

    void kernelThreadsZombiesAndVanished()
    {
        const auto* kthreadd = report.find(Pid(2));
        QVERIFY(kthreadd && kthreadd->kernelThread);
        QVERIFY(kthreadd->argv.empty() && kthreadd->exe.empty());
        QCOMPARE(kthreadd->role, ProcessRole::Other);
        const auto* worker = report.find(Pid(3));
        QVERIFY(worker && worker->kernelThread);
        QCOMPARE(worker->state, ProcessState::Idle);

        const auto* zombie = report.find(Pid(103));
        QVERIFY(zombie);
        QCOMPARE(zombie->state, ProcessState::Zombie);
        QVERIFY(zombie->argv.empty());

        QVERIFY2(!report.find(Pid(104)), "a process whose stat vanished must be skipped, not half-filled");
        QVERIFY(std::is_sorted(report.processes.begin(), report.processes.end(),
                               [](const auto& a, const auto& b) { return a.key.pid < b.key.pid; }));
    }

    void identityAndOwner()
    {
        const auto* cargo = report.find(Pid(200));
        QVERIFY(cargo);
        QCOMPARE(cargo->key.startTime, 400000u);
        struct stat info {};
        QCOMPARE(::stat((kData + "/proc-report/200").c_str(), &info), 0);
        QCOMPARE(cargo->uid, std::uint32_t(info.st_uid));
        QVERIFY(!cargo->user.empty());
        const long ticks = ::sysconf(_SC_CLK_TCK);
        QCOMPARE(cargo->startedAtMs, std::int64_t(1766944800) * 1000 + std::int64_t(400000) * 1000 / ticks);
        QCOMPARE(cargo->residentBytes, 150 * MiB);
        QCOMPARE(cargo->cwd, std::string("/home/dev/pyphi/crates/core"));
        QCOMPARE(cargo->exe, std::string("/home/dev/.rustup/toolchains/stable/bin/cargo"));
        QVERIFY(!cargo->cargoTargetDir); // its environment has none
        QCOMPARE(report.find(Pid(300))->cargoTargetDir.value_or(""), std::string("/home/dev/pyphi/target"));
    }

    void roles()
    {
        const std::pair<Pid, ProcessRole> expected[] = {
            {1, ProcessRole::Other},         {100, ProcessRole::Other}, {200, ProcessRole::Cargo},
            {201, ProcessRole::Rustc},       {202, ProcessRole::Rustc}, {203, ProcessRole::Linker},
            {204, ProcessRole::BuildScript}, {300, ProcessRole::Cargo}, {301, ProcessRole::Rustc},
            {400, ProcessRole::Test},        {500, ProcessRole::Test},  {501, ProcessRole::Test},
            {502, ProcessRole::Test},        {600, ProcessRole::Other},
        };
        for (const auto& [pid, role] : expected) {
            const auto* p = report.find(pid);
            QVERIFY2(p, qPrintable(QString("pid %1 missing").arg(pid)));
            QVERIFY2(p->role == role,
                     qPrintable(QString("pid %1 is %2, expected %3")
                                    .arg(pid)
                                    .arg(QString::fromStdString(std::string(roleId(p->role))))
                                    .arg(QString::fromStdString(std::string(roleId(role))))));
        }
    }

    void buildTreesAndDuplicates()
    {
        QCOMPARE(report.builds.size(), std::size_t(2));
        const BuildTree& release = report.builds[0]; // heaviest first
        QCOMPARE(release.root.pid, Pid(200));
        QCOMPARE(release.tool, std::string("cargo"));
        QCOMPARE(release.subcommand, std::string("build"));
        QCOMPARE(release.profile, std::string("release"));
        QCOMPARE(release.workspace, std::string("/home/dev/pyphi")); // from crates/core up to [workspace]
        QCOMPARE(release.targetDir, std::string("/home/dev/pyphi/target"));
        std::vector<Pid> members;
        for (const auto& k : release.members)
            members.push_back(k.pid);
        QCOMPARE(members, (std::vector<Pid>{200, 201, 202, 203, 204}));
        QCOMPARE(release.residentBytes, (150u + 3000u + 2500u + 40u + 20u) * MiB);
        QCOMPARE(release.count(ProcessRole::Rustc), 2u);
        QCOMPARE(release.count(ProcessRole::Linker), 1u);
        QCOMPARE(release.count(ProcessRole::BuildScript), 1u);
        QVERIFY(release.elapsedSeconds > 0);

        const BuildTree& test = report.builds[1];
        QCOMPARE(test.root.pid, Pid(300));
        QCOMPARE(test.subcommand, std::string("test"));
        QCOMPARE(release.duplicates, std::vector<std::size_t>{1});
        QCOMPARE(test.duplicates, std::vector<std::size_t>{0});
        QCOMPARE(report.buildOf(ProcessKey{203, 460000})->root.pid, Pid(200));
        QVERIFY(!report.buildOf(ProcessKey{600, 100000}));
    }

    void roleTotals()
    {
        QCOMPARE(report.total(ProcessRole::Rustc).count, 3u);
        QCOMPARE(report.total(ProcessRole::Rustc).residentBytes, (3000u + 2500u + 1000u) * MiB);
        QCOMPARE(report.total(ProcessRole::Test).count, 4u);
        QCOMPARE(report.total(ProcessRole::Test).residentBytes, (1200u + 30u + 800u + 1u) * MiB);
        const std::string text = describeRoleTotals(report);
        QVERIFY2(text.starts_with("3 rustc, 6.3 GiB; 4 test processes, 2.0 GiB"), text.c_str());
    }

    void secondSampleHasCpuPercent()
    {
        auto sampler = samplerFor("proc-report");
        QVERIFY(sampler->sample().ok());
        auto second = sampler->sample();
        QVERIFY(second.ok());
        const auto* cargo = second->find(Pid(200));
        QVERIFY(cargo && cargo->cpuPercent);
        QCOMPARE(*cargo->cpuPercent, 0.0); // recorded times do not move
    }

    void oldKernelWithoutPsi()
    {
        auto result = samplerFor("proc-nopsi")->sample();
        QVERIFY(result.ok());
        const auto& m = result->memory;
        QVERIFY(!m.pressure.available);
        QVERIFY(!m.oomKillCount);
        QCOMPARE(m.available, (1000000u + 100000u + 2000000u + 400000u) * KiB);
        QCOMPARE(result->notes.size(), std::size_t(1));
        QVERIFY(result->notes[0].find("pressure") != std::string::npos);
        QCOMPARE(result->processes.size(), std::size_t(1));
    }

    void staticFieldsAreReadOncePerProcessLifetime()
    {
        QTemporaryDir dir;
        const QString root = dir.path() + "/proc";
        QVERIFY(QProcess::execute("cp", {"-a", QString::fromStdString(kData + "/proc-nopsi"), root}) == 0);
        // pid 50 is caught mid-exec: no arguments yet.
        QDir().mkpath(root + "/50");
        QFile stat(root + "/50/stat");
        QVERIFY(stat.open(QIODevice::WriteOnly));
        stat.write("50 (cargo) R 1 50 50 0 -1 4194304 0 0 0 0 1 1 0 0 20 0 1 0 777 1000 10 "
                   "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        stat.close();
        const auto write = [&](const QString& file, const QByteArray& bytes) {
            QFile f(root + file);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(bytes);
        };
        write("/50/cmdline", "");
        SamplerOptions options;
        options.procRoot = root.toStdString();
        auto sampler = SystemSampler::create(options);
        auto first = sampler->sample();
        QVERIFY(first.ok());
        QVERIFY(first->find(Pid(50))->argv.empty());

        write("/50/cmdline", QByteArray("cargo\0build\0", 12));
        write("/1/cmdline", QByteArray("/sbin/changed\0", 14));
        auto second = sampler->sample();
        QVERIFY(second.ok());
        // The process that had no arguments is read again...
        QCOMPARE(second->find(Pid(50))->argv, (std::vector<std::string>{"cargo", "build"}));
        QCOMPARE(second->find(Pid(50))->role, ProcessRole::Cargo);
        // ...one fully read is not: argv does not change without an exec.
        QCOMPARE(second->find(Pid(1))->argv, (std::vector<std::string>{"/sbin/init"}));
    }

    void aReusedPidIsReadAfreshAndMachineFactsOnce()
    {
        QTemporaryDir dir;
        const QString root = dir.path() + "/proc";
        QVERIFY(QProcess::execute("cp", {"-a", QString::fromStdString(kData + "/proc-nopsi"), root}) == 0);
        const auto write = [&](const QString& file, const QByteArray& bytes) {
            QFile f(root + file);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(bytes);
        };
        SamplerOptions options;
        options.procRoot = root.toStdString();
        auto sampler = SystemSampler::create(options);
        auto first = sampler->sample();
        QVERIFY(first.ok());
        QCOMPARE(first->find(Pid(1))->argv, (std::vector<std::string>{"/sbin/init"}));
        const long ticks = ::sysconf(_SC_CLK_TCK);
        QCOMPARE(first->find(Pid(1))->startedAtMs, std::int64_t(1700000000) * 1000 + 1000 * 1000 / ticks);

        // Pid 1 is now another process (a later start time) running another
        // program; the boot time in stat changes too, which no kernel does.
        write("/1/stat", "1 (init) S 0 1 1 0 -1 4194304 10 0 0 0 0 0 0 0 20 0 1 0 5000 1000000 512 "
                         "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        write("/1/cmdline", QByteArray("/sbin/other-init\0", 17));
        write("/stat", "cpu  1 2 3 4\nbtime 1800000000\n");
        auto second = sampler->sample();
        QVERIFY(second.ok());
        const ProcessSample* reused = second->find(Pid(1));
        QVERIFY(reused);
        QCOMPARE(reused->key, (ProcessKey{1, 5000}));
        QCOMPARE(reused->argv, (std::vector<std::string>{"/sbin/other-init"}));
        QCOMPARE(reused->residentBytes, 512 * std::uint64_t(::sysconf(_SC_PAGESIZE)));
        QCOMPARE(reused->startedAtMs, std::int64_t(1700000000) * 1000 + 5000 * 1000 / ticks);
    }

    void machineFactsWaitForAReadableSystem()
    {
        // Sampled before procfs is there, then after: the boot time (a
        // machine fact, read once) still comes from the tree.
        QTemporaryDir dir;
        const QString root = dir.path() + "/proc";
        SamplerOptions options;
        options.procRoot = root.toStdString();
        auto sampler = SystemSampler::create(options);
        QVERIFY(!sampler->sample().ok());
        QVERIFY(QProcess::execute("cp", {"-a", QString::fromStdString(kData + "/proc-nopsi"), root}) == 0);
        auto later = sampler->sample();
        QVERIFY2(later.ok(), later.error().c_str());
        const long ticks = ::sysconf(_SC_CLK_TCK);
        QCOMPARE(later->find(Pid(1))->startedAtMs, std::int64_t(1700000000) * 1000 + 1000 * 1000 / ticks);
    }

    void identifyReadsTheTreeItIsGiven()
    {
        const std::string root = kData + "/proc-report";
        const auto cargo = platform::identify(200, root);
        QVERIFY(cargo);
        QCOMPARE(cargo->key, (ProcessKey{200, 400000}));
        QCOMPARE(cargo->parentPid, Pid(1));
        QCOMPARE(cargo->name, std::string("cargo"));
        QCOMPARE(cargo->state, ProcessState::Sleeping);
        QVERIFY(!cargo->kernelThread);
        QCOMPARE(cargo->threadOf, Pid(0));
        QCOMPARE(cargo->exe, std::string("/home/dev/.rustup/toolchains/stable/bin/cargo"));
        struct stat info {};
        QCOMPARE(::stat((root + "/200").c_str(), &info), 0);
        QCOMPARE(cargo->uid, std::uint32_t(info.st_uid));

        const auto odd = platform::identify(101, root);
        QVERIFY(odd);
        QCOMPARE(odd->name, std::string("a) b\n(c"));
        QCOMPARE(odd->exe, std::string("/usr/bin/weird"));

        const auto kthreadd = platform::identify(2, root);
        QVERIFY(kthreadd && kthreadd->kernelThread);
        QCOMPARE(kthreadd->parentPid, Pid(0));
        QVERIFY(kthreadd->exe.empty());
        QCOMPARE(platform::identify(103, root)->state, ProcessState::Zombie);

        QVERIFY2(!platform::identify(104, root), "a process whose stat vanished is no process");
        QVERIFY(!platform::identify(999, root));
        QVERIFY(!platform::identify(0, root));
        QVERIFY(!platform::identify(-200, root));
        QVERIFY(!platform::identify(200, kData + "/no-such-proc"));
        // Only the tree given is read, never the machine's own /proc.
        QVERIFY(!platform::identify(200, kData + "/proc-nopsi"));
        const auto init = platform::identify(1, kData + "/proc-nopsi");
        QVERIFY(init && init->name == "init" && init->exe == "/sbin/init" && init->key.startTime == 1000);
    }

    void identifyTellsAThreadFromItsProcess()
    {
        // /proc/<tid> opens for any thread id and its stat describes the
        // thread; status's Tgid names the process it belongs to.
        QTemporaryDir dir;
        const QString root = dir.path() + "/proc";
        QVERIFY(QProcess::execute("cp", {"-a", QString::fromStdString(kData + "/proc-report"), root}) == 0);
        QDir().mkpath(root + "/205");
        const auto write = [&](const QString& file, const QByteArray& bytes) {
            QFile f(root + file);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(bytes);
        };
        write("/205/stat", "205 (rustc) R 200 200 200 0 -1 4194368 0 0 0 0 7 3 0 0 20 0 2 0 450020 1000 10 "
                           "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        write("/205/status", "Name:\trustc\nState:\tR (running)\nTgid:\t201\nPid:\t205\nPPid:\t200\n");
        const auto thread = platform::identify(205, root.toStdString());
        QVERIFY(thread);
        QCOMPARE(thread->threadOf, Pid(201));
        QCOMPARE(thread->key, (ProcessKey{205, 450020}));
        QCOMPARE(platform::identify(201, root.toStdString())->threadOf, Pid(0));
    }

    void listIdentitiesReadsTheTreeItIsGiven()
    {
        const std::string root = kData + "/proc-report";
        const auto all = platform::listIdentities(root);
        std::vector<Pid> pids;
        for (const auto& id : all) {
            pids.push_back(id.key.pid);
            QVERIFY2(id.exe.empty(), "listIdentities() reads no executables");
        }
        std::sort(pids.begin(), pids.end());
        // 104 vanished mid-scan: its folder is there, its stat is not.
        QCOMPARE(pids, (std::vector<Pid>{1, 2, 3, 100, 101, 102, 103, 200, 201, 202, 203, 204, 300, 301, 400,
                                         500, 501, 502, 600}));
        // The same processes, keys and parents as the sampler sees in the tree.
        QCOMPARE(all.size(), report.processes.size());
        for (const auto& id : all) {
            const ProcessSample* p = report.find(id.key.pid);
            QVERIFY(p);
            QCOMPARE(id.key, p->key);
            QCOMPARE(id.parentPid, p->parentPid);
            QCOMPARE(id.name, p->name);
            QCOMPARE(id.state, p->state);
            QCOMPARE(id.kernelThread, p->kernelThread);
        }
        const auto one = platform::listIdentities(kData + "/proc-nopsi");
        QCOMPARE(one.size(), std::size_t(1));
        QCOMPARE(one[0].key, (ProcessKey{1, 1000}));
        QVERIFY(platform::listIdentities(kData + "/no-such-proc").empty());
    }

    void isAliveReadsTheTreeItIsGiven()
    {
        const std::string root = kData + "/proc-report";
        QVERIFY(platform::isAlive(ProcessKey{200, 400000}, root));
        QVERIFY2(!platform::isAlive(ProcessKey{200, 400001}, root), "another start time is another process");
        QVERIFY2(!platform::isAlive(ProcessKey{103, 1000}, root), "a zombie has exited");
        QVERIFY(!platform::isAlive(ProcessKey{104, 1000}, root));
    }

    void cgroupOfAProcessInTheTree()
    {
        const std::string proc = kData + "/proc-report";
        const std::string cgroups = kData + "/fs-report/sys/fs/cgroup";
        const auto v2 = readProcessCgroupMemory(201, cgroups, proc);
        QVERIFY(v2);
        QVERIFY(v2->v2);
        QCOMPARE(v2->dir, cgroups + "/user.slice/user-1000.slice/session-2.scope");
        QCOMPARE(v2->oomKills.value_or(0), 2u);
        QCOMPARE(v2->peakBytes.value_or(0), 30 * GiB);
        QCOMPARE(v2->limitBytes.value_or(0), 31 * GiB);
        QVERIFY(v2->nearLimit());

        const auto v1 = readProcessCgroupMemory(300, cgroups, proc);
        QVERIFY(v1);
        QVERIFY(!v1->v2);
        QCOMPARE(v1->dir, cgroups + "/memory/build");
        QCOMPARE(v1->oomKills.value_or(0), 1u);
        QCOMPARE(v1->peakBytes.value_or(0), 6 * GiB);
        QVERIFY2(!v1->limitBytes, "v1's huge page-aligned limit means none");

        QVERIFY2(!readProcessCgroupMemory(200, cgroups, proc), "pid 200 of the tree has no cgroup file");
        QVERIFY(!readProcessCgroupMemory(201, cgroups, kData + "/proc-nopsi"));
    }

    void cgroupV2ScopeOfABuildStep()
    {
        const std::string proc = kData + "/proc-scope";
        const std::string start = kData + "/scope-start/sys/fs/cgroup";
        const std::string scope = "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                  "headroom-20261202-061813-4242-ab12-0.scope";
        const auto s = readProcessCgroupMemory(4242, start, proc);
        QVERIFY(s);
        QVERIFY(s->v2);
        QCOMPARE(s->dir, start + scope);
        QVERIFY(s->isBuildScope());
        QCOMPARE(s->highBytes.value_or(0), 3 * GiB);
        QCOMPARE(s->limitBytes.value_or(0), 4 * GiB);
        QCOMPARE(s->peakBytes.value_or(0), 48 * MiB);
        QCOMPARE(s->highEvents.value_or(99), 0u);
        QCOMPARE(s->maxEvents.value_or(99), 0u);
        QCOMPARE(s->oomEvents.value_or(99), 0u);
        QCOMPARE(s->oomKills.value_or(99), 0u);
        QVERIFY(!s->nearLimit());

        const auto oom = readCgroupMemory(kData + "/scope-oom/sys/fs/cgroup" + scope, true);
        QVERIFY(oom);
        QCOMPARE(oom->highEvents.value_or(0), 12u);
        QCOMPARE(oom->maxEvents.value_or(0), 5u);
        QCOMPARE(oom->oomEvents.value_or(0), 1u);
        QCOMPARE(oom->oomKills.value_or(0), 1u);
        QCOMPARE(oom->peakBytes.value_or(0), 4 * GiB);
        QVERIFY(oom->nearLimit());

        // "max" in memory.max and memory.high is no limit, not a number.
        const auto unlimited = readProcessCgroupMemory(4243, start, proc);
        QVERIFY(unlimited);
        QVERIFY(unlimited->isBuildScope());
        QVERIFY2(!unlimited->limitBytes, "memory.max \"max\" is no limit");
        QVERIFY2(!unlimited->highBytes, "memory.high \"max\" is no throttle");
        QCOMPARE(unlimited->peakBytes.value_or(0), 2 * GiB);
        QVERIFY(!unlimited->nearLimit());

        // The login session's cgroup is not a build's scope, and neither is v1's.
        const auto session = readProcessCgroupMemory(4244, start, proc);
        QVERIFY(session);
        QVERIFY(!session->isBuildScope());
        QVERIFY(!readProcessCgroupMemory(300, kData + "/fs-report/sys/fs/cgroup", kData + "/proc-report")
                     ->isBuildScope());
    }

    void scopeCountersBecomeTheDiagnosis()
    {
        const std::string scope = "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                  "headroom-20261202-061813-4242-ab12-0.scope";
        const auto at = [&](const char* tree) {
            const auto s = readCgroupMemory(kData + "/" + tree + "/sys/fs/cgroup" + scope, true);
            if (!s)
                qFatal("no recorded scope in %s", tree);
            return *s;
        };
        CargoOutputParser output;
        output.feed("error: could not compile `big` (lib)\n\nCaused by:\n  process didn't exit successfully: "
                    "`rustc --crate-name big` (signal: 9, SIGKILL: kill)\n");
        BuildOutcomeFacts killed;
        killed.exitCode = 101;
        addCgroupFacts(killed, at("scope-start"), at("scope-oom"));
        QVERIFY(killed.cgroupIsBuildScope);
        QVERIFY(killed.cgroupHitMax);
        QCOMPARE(killed.cgroupMaxEvents, 5u);
        QVERIFY(killed.cgroupThrottled);
        QCOMPARE(killed.cgroupHighEvents, 12u);
        QCOMPARE(killed.cgroupLimitBytes.value_or(0), 4 * GiB);
        auto d = diagnoseBuild(killed, output, BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(d.summary.rfind("Out of memory: the build's scope hit its MemoryMax of 4.0 GiB", 0) == 0,
                 d.summary.c_str());
        QVERIFY2(d.detail.find("counted 1 OOM kill") != std::string::npos, d.detail.c_str());
        QVERIFY2(d.detail.find("slowed down 12 times at MemoryHigh (3.0 GiB)") != std::string::npos,
                 d.detail.c_str());
        QVERIFY2(d.nextStep.find("MemoryMax (now 4.0 GiB)") != std::string::npos, d.nextStep.c_str());

        // Read too early (still in the session, which has kills of its own):
        // the scope is new, its counters start at zero, not at the session's.
        const auto early =
            readProcessCgroupMemory(4244, kData + "/scope-start/sys/fs/cgroup", kData + "/proc-scope");
        QVERIFY(early);
        BuildOutcomeFacts late;
        late.exitCode = 101;
        addCgroupFacts(late, *early, at("scope-oom"));
        QCOMPARE(late.cgroupOomKillsBefore.value_or(99), 0u);
        QCOMPARE(late.cgroupMaxEvents, 5u);
        QCOMPARE(diagnoseBuild(late, output, BuildPreset::Custom).summary, d.summary);

        // Throttled, never at the limit, and it succeeded.
        BuildOutcomeFacts slowed;
        slowed.exitCode = 0;
        addCgroupFacts(slowed, at("scope-start"), at("scope-throttled"));
        QVERIFY(slowed.cgroupThrottled);
        QVERIFY(!slowed.cgroupHitMax);
        d = diagnoseBuild(slowed, CargoOutputParser(), BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::Succeeded);
        QVERIFY2(d.detail.rfind("It was slowed down 7 times at MemoryHigh (3.0 GiB)", 0) == 0,
                 d.detail.c_str());

        // Nothing rose between two readings of the same state: nothing to say.
        BuildOutcomeFacts calm;
        calm.exitCode = 0;
        addCgroupFacts(calm, at("scope-throttled"), at("scope-throttled"));
        QVERIFY(!calm.cgroupThrottled);
        QVERIFY(diagnoseBuild(calm, CargoOutputParser(), BuildPreset::Custom).detail.empty());
    }

    void missingProcfsIsAClearFailure()
    {
        auto result = samplerFor("no-such-proc")->sample();
        QVERIFY(!result.ok());
        QVERIFY2(result.error().find("no-such-proc") != std::string::npos, result.error().c_str());
        QVERIFY2(result.error().find("procfs") != std::string::npos, result.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestLinuxFixtures)
#include "TestLinuxFixtures.moc"
