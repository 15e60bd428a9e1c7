// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

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
} // namespace

class TestBuildTrees : public QObject {
    Q_OBJECT

  private slots:
    void makeWrappingCargoIsOneBuild()
    {
        auto s = snapshotOf({
            proc(10, 1, "make", {"make", "-C", "sub", "all"}, "/src"),
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
