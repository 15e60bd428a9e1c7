// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildDuplicates.h"
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "support/CargoLockScene.h"

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace headroom;

namespace {
ProcessSample proc(Pid pid, Pid parent, std::string name, std::vector<std::string> argv, std::string cwd,
                   std::uint64_t rssMiB = 10)
{
    ProcessSample p;
    p.key = {pid, std::uint64_t(pid) * 7};
    p.parentPid = parent;
    p.name = name;
    p.exe = "/usr/bin/" + name;
    p.argv = std::move(argv);
    p.cwd = std::move(cwd);
    p.residentBytes = rssMiB * MiB;
    p.startedAtMs = 1000;
    return p;
}

Snapshot snapshotOf(std::vector<ProcessSample> processes)
{
    Snapshot s;
    s.wallMs = 61000;
    s.processes = std::move(processes);
    RoleClassifier().classify(s.processes);
    return s;
}

void writeFile(const QString& path, const char* text)
{
    QDir().mkpath(QFileInfo(path).path());
    std::ofstream(path.toStdString()) << text;
}
const BuildTree* buildOf(const Snapshot& s, Pid root)
{
    for (const auto& b : s.builds) {
        if (b.root.pid == root)
            return &b;
    }
    return nullptr;
}

std::size_t indexOf(const Snapshot& s, Pid root)
{
    for (std::size_t i = 0; i < s.builds.size(); ++i) {
        if (s.builds[i].root.pid == root)
            return i;
    }
    return s.builds.size();
}

// Three cargo builds of /ws: 10 started first, 20 next, 30 last (the youngest).
Snapshot threeCargoBuilds(bool youngestCompiles)
{
    auto a = proc(10, 1, "cargo",
                  {"/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo", "build",
                   "--release", "-p", "tsz-cli"},
                  "/ws");
    auto b = proc(20, 1, "cargo", {"cargo", "build", "--release", "-p", "tsz-cli", "-p", "tsz-conformance"},
                  "/ws");
    auto c = proc(30, 1, "cargo", {"cargo", "build", "--release", "--package=tsz-lsp"}, "/ws");
    a.startedAtMs = 1000;
    b.startedAtMs = 1010;
    c.startedAtMs = 5000;
    std::vector<ProcessSample> processes{a, b, c};
    if (youngestCompiles) {
        auto rustc = proc(31, 30, "rustc", {"rustc", "--crate-name", "tsz_cli"}, "/ws", 900);
        rustc.cpuTimeNs = 43'000'000'000ull;
        processes.push_back(rustc);
    }
    auto s = snapshotOf(processes);
    assembleBuilds(s, "/nonexistent");
    return s;
}

// Peak resident memory of this process so far (VmHWM), in KiB.
std::uint64_t peakResidentKiB()
{
    std::ifstream status("/proc/self/status");
    std::string word;
    while (status >> word) {
        if (word == "VmHWM:") {
            std::uint64_t kib = 0;
            status >> kib;
            return kib;
        }
    }
    return 0;
}
} // namespace

class TestBuildTrees : public QObject {
    Q_OBJECT

  private slots:
    void makeWrappingCargoIsOneBuild()
    {
        auto s = snapshotOf({
            // make chdirs into -C before it runs: its cwd is that folder.
            proc(10, 1, "make", {"make", "-C", "sub", "all"}, "/src/sub"),
            proc(11, 10, "cargo", {"cargo", "build"}, "/src/sub"),
            proc(12, 11, "rustc", {"rustc"}, "/src/sub", 500),
        });
        assembleBuilds(s, "/nonexistent");
        QCOMPARE(s.builds.size(), std::size_t(1));
        QCOMPARE(s.builds[0].tool, std::string("make"));
        QCOMPARE(s.builds[0].workspace, std::string("/src/sub"));
        QCOMPARE(s.builds[0].members.size(), std::size_t(3));
        QCOMPARE(s.builds[0].residentBytes, 520 * MiB);
        QCOMPARE(s.builds[0].elapsedSeconds, 60.0);
    }

    void cargoOptions()
    {
        auto s = snapshotOf({
            proc(10, 1, "cargo",
                 {"cargo", "+nightly", "build", "--manifest-path", "crates/a/Cargo.toml",
                  "--target-dir=../tgt", "--profile", "dist-fast"},
                 "/w"),
        });
        assembleBuilds(s, "/nonexistent");
        QCOMPARE(s.builds.size(), std::size_t(1));
        const auto& b = s.builds[0];
        QCOMPARE(b.subcommand, std::string("build"));
        QCOMPARE(b.profile, std::string("dist-fast"));
        QCOMPARE(b.workspace, std::string("/w/crates/a"));
        QCOMPARE(b.targetDir, std::string("/tgt"));
    }

    void sameTargetDirIsADuplicate()
    {
        auto s = snapshotOf({
            proc(10, 1, "cargo", {"cargo", "build", "--target-dir", "/shared/t"}, "/a"),
            proc(20, 1, "cargo", {"cargo", "check", "--target-dir", "/shared/t"}, "/b"),
            proc(30, 1, "cargo", {"cargo", "build"}, "/c"),
        });
        assembleBuilds(s, "/nonexistent");
        QCOMPARE(s.builds.size(), std::size_t(3));
        std::size_t flagged = 0;
        for (const auto& b : s.builds) {
            if (b.workspace == "/c")
                QVERIFY(b.duplicates.empty());
            else
                flagged += b.duplicates.size();
        }
        QCOMPARE(flagged, std::size_t(2));
    }

    void workspaceDiscovery()
    {
        QTemporaryDir dir;
        const QString root = dir.path();
        writeFile(root + "/ws/Cargo.toml", "[package]\nname='x'\n\n[workspace]\nmembers=['m']\n");
        writeFile(root + "/ws/m/Cargo.toml", "[package]\nname='m'\n");
        writeFile(root + "/solo/Cargo.toml", "[package]\nname='solo'\n");
        QDir().mkpath(root + "/ws/m/src");
        QDir().mkpath(root + "/none/deep");
        QCOMPARE(findCargoWorkspace("/ws/m/src", root.toStdString()), std::string("/ws"));
        QCOMPARE(findCargoWorkspace("/solo", root.toStdString()), std::string("/solo"));
        QCOMPARE(findCargoWorkspace("/none/deep", root.toStdString()), std::string("/none/deep"));
        // Live paths (fsRoot "/") work the same.
        QCOMPARE(findCargoWorkspace((root + "/ws/m").toStdString()), (root + "/ws").toStdString());
    }

    void makeAndNinjaAreAlreadyInTheirFolder()
    {
        auto s = snapshotOf({
            proc(10, 1, "ninja", {"ninja", "-C", "b"}, "/w/b"),
            proc(20, 1, "make", {"make", "-C", "/abs/dir", "-j8"}, "/abs/dir"),
            proc(30, 1, "gmake", {"gmake", "-C", "sub"}, "/src/sub"),
            proc(40, 1, "cmake", {"cmake", "--build", "out"}, "/p"),
            // The build folder comes from CMakePresets.json: the project is where it runs.
            proc(50, 1, "cmake", {"cmake", "--build", "--preset", "dev"}, "/q"),
        });
        assembleBuilds(s, "/nonexistent");
        QCOMPARE(s.builds.size(), std::size_t(5));
        std::map<Pid, std::string> byRoot;
        for (const auto& b : s.builds)
            byRoot[b.root.pid] = b.workspace;
        QCOMPARE(byRoot[10], std::string("/w/b"));
        QCOMPARE(byRoot[20], std::string("/abs/dir"));
        QCOMPARE(byRoot[30], std::string("/src/sub"));
        // cmake --build does not chdir; its own cwd is where it was started.
        QCOMPARE(byRoot[40], std::string("/p/out"));
        QCOMPARE(byRoot[50], std::string("/q"));
    }

    void hostileManifestsAreNotRead()
    {
        QTemporaryDir dir;
        const QString root = dir.path();
        writeFile(root + "/ws/Cargo.toml", "[workspace]\nmembers=['*']\n");
        // A sparse manifest of 1 GiB: read whole, it costs seconds and a GiB.
        QDir().mkpath(root + "/ws/big");
        {
            std::ofstream big((root + "/ws/big/Cargo.toml").toStdString());
            big << "[package]\nname='big'\n";
        }
        QCOMPARE(::truncate((root + "/ws/big/Cargo.toml").toLocal8Bit().constData(), off_t(1) << 30), 0);
        // A FIFO nobody writes to: opening it for reading blocks forever.
        QDir().mkpath(root + "/ws/fifo");
        QCOMPARE(::mkfifo((root + "/ws/fifo/Cargo.toml").toLocal8Bit().constData(), 0644), 0);
        // A manifest that is a link to a device.
        QDir().mkpath(root + "/ws/dev");
        QCOMPARE(::symlink("/dev/zero", (root + "/ws/dev/Cargo.toml").toLocal8Bit().constData()), 0);

        const std::uint64_t peakBefore = peakResidentKiB();
        const auto started = std::chrono::steady_clock::now();
        for (int round = 0; round < 3; ++round) {
            QCOMPARE(findCargoWorkspace("/ws/big", root.toStdString()), std::string("/ws"));
            QCOMPARE(findCargoWorkspace("/ws/fifo", root.toStdString()), std::string("/ws"));
            QCOMPARE(findCargoWorkspace("/ws/dev", root.toStdString()), std::string("/ws"));
        }
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        const std::uint64_t grewKiB = peakResidentKiB() - peakBefore;
        qInfo("3 rounds over a 1 GiB manifest, a FIFO and a device: %lld ms, peak RSS grew %llu KiB",
              static_cast<long long>(ms.count()), static_cast<unsigned long long>(grewKiB));
        QVERIFY2(grewKiB < 64 * 1024, qPrintable(QString::number(grewKiB)));
    }

    void manifestAnswerIsKeptUntilTheFileChanges()
    {
        QTemporaryDir dir;
        const QString root = dir.path();
        const QString manifest = root + "/ws/Cargo.toml";
        writeFile(manifest, "[package]  \n");
        writeFile(root + "/ws/m/Cargo.toml", "[package]\n");
        QCOMPARE(findCargoWorkspace("/ws/m", root.toStdString()), std::string("/ws/m"));

        struct stat before {};
        QCOMPARE(::stat(manifest.toLocal8Bit().constData(), &before), 0);
        // Same inode, same size, same time: the cached answer stands.
        {
            std::fstream rewrite(manifest.toStdString(), std::ios::in | std::ios::out);
            rewrite << "[workspace]";
        }
        const timespec times[2] = {before.st_atim, before.st_mtim};
        QCOMPARE(::utimensat(AT_FDCWD, manifest.toLocal8Bit().constData(), times, 0), 0);
        QCOMPARE(findCargoWorkspace("/ws/m", root.toStdString()), std::string("/ws/m"));

        // A new modification time: read again.
        const timespec later[2] = {before.st_atim, {before.st_mtim.tv_sec + 5, 0}};
        QCOMPARE(::utimensat(AT_FDCWD, manifest.toLocal8Bit().constData(), later, 0), 0);
        QCOMPARE(findCargoWorkspace("/ws/m", root.toStdString()), std::string("/ws"));
    }

    void treeHelpers()
    {
        auto s = snapshotOf({
            proc(1, 0, "init", {}, "/"),
            proc(5, 1, "a", {}, "/"),
            proc(6, 5, "b", {}, "/"),
            proc(7, 6, "c", {}, "/"),
            proc(8, 9, "x", {}, "/"), // a cycle: 8 <-> 9
            proc(9, 8, "y", {}, "/"),
        });
        ProcessTree tree(s.processes);
        QCOMPARE(tree.descendants(5).size(), std::size_t(2));
        QCOMPARE(tree.ancestors(7).size(), std::size_t(3));
        QCOMPARE(tree.descendants(8).size(), std::size_t(1));
        QVERIFY(tree.ancestors(9).size() <= s.processes.size());
        QCOMPARE(tree.indexOf(42), ProcessTree::npos);
        QCOMPARE(s.find(Pid(6))->name, std::string("b"));
        QVERIFY(!s.find(ProcessKey{6, 1}));
    }

    void noBuildsNoSummary()
    {
        auto s = snapshotOf({proc(5, 1, "bash", {"bash"}, "/")});
        assembleBuilds(s);
        QVERIFY(s.builds.empty());
        QCOMPARE(describeRoleTotals(s), std::string());
        QCOMPARE(s.total(ProcessRole::Other).count, 1u);
    }

    void lockTableIsParsed()
    {
        const auto locks = parseProcLocks("1: FLOCK  ADVISORY  READ 13340 fe:00:11116546 0 EOF\n"
                                          "2: FLOCK  ADVISORY  WRITE 13292 fe:00:10953362 0 EOF\n"
                                          "2: -> FLOCK  ADVISORY  WRITE 13340 fe:00:10953362 0 EOF\n"
                                          "3: POSIX  ADVISORY  WRITE 812 00:1a:77 0 EOF\n"
                                          "4: OFDLCK ADVISORY  READ  -1 08:0f:99 0 EOF\n"
                                          "garbage line\n"
                                          "5: FLOCK  ADVISORY  WRITE abc fe:00:1 0 EOF\n");
        QCOMPARE(locks.size(), std::size_t(5));
        QCOMPARE(locks[1].pid, Pid(13292));
        QVERIFY(locks[1].write && !locks[1].waiting);
        QCOMPARE(locks[1].devMajor, 0xfeu);
        QCOMPARE(locks[1].inode, std::uint64_t(10953362));
        QVERIFY(locks[2].waiting);
        QCOMPARE(locks[2].pid, Pid(13340));
        QCOMPARE(locks[2].kind, std::string("FLOCK"));
        QCOMPARE(locks[3].kind, std::string("POSIX"));
        QCOMPARE(locks[4].pid, Pid(-1));
        QCOMPARE(locks[4].devMinor, 0x0fu);
    }

    void lockHolderIsKeptEvenWhenYoungest()
    {
        auto s = threeCargoBuilds(false);
        QCOMPARE(s.builds.size(), std::size_t(3));
        // 30 holds target/release/.cargo-lock (inode 500); 10 and 20, both
        // older, are blocked on it. Both also share the package cache (inode 7).
        const std::vector<FileLockEntry> locks = {
            {"FLOCK", false, false, 10, 0xfe, 0, 7},  {"FLOCK", false, false, 20, 0xfe, 0, 7},
            {"FLOCK", true, false, 30, 0xfe, 0, 500}, {"FLOCK", true, true, 10, 0xfe, 0, 500},
            {"FLOCK", true, true, 20, 0xfe, 0, 500},
        };
        std::vector<std::vector<LockFileId>> files(s.builds.size(), {{0xfe, 0, 500}, {0xfe, 0, 501}});
        assignLockStates(s, locks, files);
        QCOMPARE(buildOf(s, 30)->lock, BuildLockState::Holds);
        QCOMPARE(buildOf(s, 10)->lock, BuildLockState::Waiting);
        QCOMPARE(buildOf(s, 20)->lock, BuildLockState::Waiting);

        const auto groups = duplicateGroups(s);
        QCOMPARE(groups.size(), std::size_t(1));
        QCOMPARE(groups[0].kept, indexOf(s, 30));
        QCOMPARE(groups[0].builds.front(), indexOf(s, 30));
        QCOMPARE(groups[0].reason, DuplicateGroup::Reason::HoldsLock);
        QCOMPARE(duplicateVerdict(s, groups[0], indexOf(s, 30)), std::string("holds the lock"));
        QCOMPARE(duplicateVerdict(s, groups[0], indexOf(s, 10)), std::string("waiting for the lock"));
        auto extra = extraDuplicateBuilds(s);
        std::sort(extra.begin(), extra.end());
        QCOMPARE(extra, (std::vector<ProcessKey>{buildOf(s, 10)->root, buildOf(s, 20)->root}));
    }

    void withoutLockStateTheWorkingBuildIsKept()
    {
        // No lock table (Windows, macOS): the youngest build is the one compiling.
        auto s = threeCargoBuilds(true);
        QCOMPARE(buildOf(s, 30)->lock, BuildLockState::Unknown);
        auto groups = duplicateGroups(s);
        QCOMPARE(groups.size(), std::size_t(1));
        QCOMPARE(groups[0].kept, indexOf(s, 30));
        QCOMPARE(groups[0].reason, DuplicateGroup::Reason::Working);
        QCOMPARE(duplicateVerdict(s, groups[0], indexOf(s, 10)), std::string("no compiler running"));

        // Nothing compiling: the one that did the most work, then the oldest.
        s = threeCargoBuilds(false);
        s.builds[indexOf(s, 20)].cpuTimeNs = 9'000'000'000ull;
        groups = duplicateGroups(s);
        QCOMPARE(groups[0].kept, indexOf(s, 20));
        QCOMPARE(groups[0].reason, DuplicateGroup::Reason::MostProgress);
        // A few milliseconds of CPU more is noise: the oldest is kept.
        s = threeCargoBuilds(false);
        s.builds[indexOf(s, 30)].cpuTimeNs = 40'000'000ull;
        groups = duplicateGroups(s);
        QCOMPARE(groups[0].kept, indexOf(s, 10));
        QCOMPARE(groups[0].reason, DuplicateGroup::Reason::StartedFirst);
        QCOMPARE(duplicateVerdict(s, groups[0], indexOf(s, 30)), std::string("started later"));
    }

    void aBuildThatOnlyWaitsIsNeverKept()
    {
        // The holder is outside the group (it exited, or is another tool):
        // the one not waiting is kept even if it started last and did least.
        auto s = threeCargoBuilds(false);
        s.builds[indexOf(s, 10)].lock = BuildLockState::Waiting;
        s.builds[indexOf(s, 10)].cpuTimeNs = 5'000'000'000ull;
        s.builds[indexOf(s, 20)].lock = BuildLockState::Waiting;
        s.builds[indexOf(s, 30)].lock = BuildLockState::None;
        const auto groups = duplicateGroups(s);
        QCOMPARE(groups[0].kept, indexOf(s, 30));
    }

    void duplicateBuildsHaveDistinctLabels()
    {
        auto s = threeCargoBuilds(false);
        s.builds[indexOf(s, 10)].lock = BuildLockState::Holds;
        QCOMPARE(buildName(s, *buildOf(s, 10)), std::string("cargo build -p tsz-cli"));
        QCOMPARE(buildName(s, *buildOf(s, 20)), std::string("cargo build -p tsz-cli -p tsz-conformance"));
        QCOMPARE(buildName(s, *buildOf(s, 30)), std::string("cargo build -p tsz-lsp"));
        QCOMPARE(buildLabel(s, *buildOf(s, 10)),
                 std::string("cargo build -p tsz-cli · release · pid 10 · 1 min 00 s · holds the lock"));
        // Hostile package names reach the label sanitised.
        s.processes[0].argv = {"cargo", "build", "-p", "a\x1b]0;owned\x07"};
        QVERIFY(buildName(s, *buildOf(s, 10)).find('\x1b') == std::string::npos);
    }

    void displayCommandShowsTheProgramName()
    {
        ProcessSample p;
        p.name = "cargo";
        p.argv = {"/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo", "build", "-p", "a b"};
        QCOMPARE(p.displayCommand(), std::string("cargo build -p 'a b'"));
        QCOMPARE(
            p.commandLine(),
            std::string("/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo build -p 'a b'"));
        p.argv = {"C:\\Users\\u\\.cargo\\bin\\cargo.exe", "check"};
        QCOMPARE(p.displayCommand(), std::string("cargo check"));
        p.argv.clear();
        QCOMPARE(p.displayCommand(), std::string("[cargo]"));
    }

    void realCargoBuildsShowWhoHoldsTheLock()
    {
        CargoLockScene scene;
        QVERIFY2(scene.start(), "three cargo builds, two blocked on the first one's lock");
        auto sampler = SystemSampler::create();
        // cargo prints "Blocking waiting for file lock" just before it calls
        // the blocking flock(): sample until the kernel lists both waiters.
        auto sampled = sampler->sample();
        for (int attempt = 0; attempt < 50 && sampled.ok(); ++attempt) {
            const BuildTree* a = buildOf(sampled.value(), scene.waiterA());
            const BuildTree* b = buildOf(sampled.value(), scene.waiterB());
            if (a && b && a->lock == BuildLockState::Waiting && b->lock == BuildLockState::Waiting)
                break;
            QTest::qWait(100);
            sampled = sampler->sample();
        }
        QVERIFY(sampled.ok());
        const Snapshot& s = sampled.value();
        const BuildTree* holder = buildOf(s, scene.holder());
        const BuildTree* waiterA = buildOf(s, scene.waiterA());
        const BuildTree* waiterB = buildOf(s, scene.waiterB());
        QVERIFY(holder && waiterA && waiterB);
        QCOMPARE(holder->duplicates.size(), std::size_t(2));
        QCOMPARE(holder->lock, BuildLockState::Holds);
        QCOMPARE(waiterA->lock, BuildLockState::Waiting);
        QCOMPARE(waiterB->lock, BuildLockState::Waiting);
        QVERIFY(holder->count(ProcessRole::BuildScript) >= 1);
        bool found = false;
        for (const DuplicateGroup& group : duplicateGroups(s)) {
            if (s.builds[group.kept].root.pid == scene.holder()) {
                found = true;
                QCOMPARE(group.builds.size(), std::size_t(3));
                QCOMPARE(group.reason, DuplicateGroup::Reason::HoldsLock);
            }
        }
        QVERIFY(found);
        QVERIFY(buildLabel(s, *holder).ends_with("holds the lock"));
        QVERIFY(buildLabel(s, *waiterA).ends_with("waiting for the lock"));
        QVERIFY(buildLabel(s, *waiterA) != buildLabel(s, *waiterB));
    }

    void units()
    {
        QCOMPARE(formatBytes(512), std::string("512 B"));
        QCOMPARE(formatBytes(1536), std::string("1.5 KiB"));
        QCOMPARE(formatBytes(340 * MiB), std::string("340 MiB"));
        QCOMPARE(formatBytes(17 * GiB + GiB / 5), std::string("17.2 GiB"));
        QCOMPARE(formatDuration(3.14), std::string("3.1 s"));
        QCOMPARE(formatDuration(252), std::string("4 min 12 s"));
        QCOMPARE(formatDuration(7500), std::string("2 h 05 min"));
    }
};

QTEST_GUILESS_MAIN(TestBuildTrees)
#include "TestBuildTrees.moc"
