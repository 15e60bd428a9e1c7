// SPDX-License-Identifier: GPL-3.0-or-later
// headroom-cli as a user runs it: real process, real output, real exit codes.
#include "cli/SnapshotJson.h"
#include "cli/TopTable.h"
#include "headroom/CgroupMemory.h"
#include "headroom/Units.h"
#include "headroom/Version.h"
#include "support/CargoLockScene.h"
#include "support/ProcessSpawner.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace headroom;

namespace {
struct Run {
    int code = -1;
    QString out;
    QString err;
};

Run runCli(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(HEADROOM_CLI_BIN), args);
    Run run;
    if (!p.waitForFinished(30000))
        return run;
    run.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.out = QString::fromUtf8(p.readAllStandardOutput());
    run.err = QString::fromUtf8(p.readAllStandardError());
    return run;
}

// The bytes a terminal would get: stdout and stderr undecoded.
struct RawRun {
    int code = -1;
    QByteArray out;
    QByteArray err;
    qint64 ms = -1;
};

RawRun runCliRaw(const QStringList& args)
{
    QProcess p;
    QElapsedTimer timer;
    timer.start();
    p.start(QStringLiteral(HEADROOM_CLI_BIN), args);
    RawRun run;
    if (!p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished();
        return run;
    }
    run.ms = timer.elapsed();
    run.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    return run;
}

// ESC (a 7-bit CSI starts with it), U+202E (right-to-left override) and U+009B
// (the 8-bit CSI), as they would reach a terminal.
bool holdsSteeringBytes(const QByteArray& bytes)
{
    return bytes.contains('\x1b') || bytes.contains("\xe2\x80\xae") || bytes.contains("\xc2\x9b");
}

QJsonObject findProcess(const QJsonArray& processes, Pid pid)
{
    for (const auto& value : processes) {
        if (value.toObject().value("pid").toInteger() == pid)
            return value.toObject();
    }
    return {};
}
} // namespace

class TestCli : public QObject {
    Q_OBJECT

  private slots:
    void versionAndHelp()
    {
        const Run version = runCli({"--version"});
        QCOMPARE(version.code, 0);
        QCOMPARE(version.out.trimmed(), QString("headroom-cli " HEADROOM_VERSION));
        const Run help = runCli({"--help"});
        QCOMPARE(help.code, 0);
        for (const char* word : {"sample", "top", "stop", "Exit codes"})
            QVERIFY2(help.out.contains(word), word);
    }

    // Each command's --help says what it does and lists its options; the
    // program's help lists every command and where to read more.
    void helpOfEachCommand_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QStringList>("says");
        QTest::newRow("sample") << "sample"
                                << QStringList{"Print one snapshot", "--json", "--pretty", "--interval"};
        QTest::newRow("top") << "top"
                             << QStringList{"The heaviest processes", "--lines", "--builds", "--width",
                                            "--interval"};
        QTest::newRow("stop") << "stop"
                              << QStringList{"Pause, resume, terminate or kill",
                                             "--start-time",
                                             "--signal",
                                             "--grace",
                                             "--extra-builds",
                                             "Exit codes: 0 done"};
        QTest::newRow("run") << "run"
                             << QStringList{"Run any build command under Headroom's supervisor",
                                            "--on-interrupt",
                                            "--detach",
                                            "--memory-high",
                                            "--memory-max",
                                            "--then-run",
                                            "--oom-score-adj",
                                            "--runs-dir",
                                            "--history",
                                            "after `--`"};
        QTest::newRow("runs") << "runs" << QStringList{"The supervised runs", "--json", "--runs-dir", "stop"};
        QTest::newRow("export") << "export" << QStringList{"This machine's memory budget",
                                                           "--listen",
                                                           "--textfile",
                                                           "--every",
                                                           "--once",
                                                           "127.0.0.1:9464"};
    }

    void helpOfEachCommand()
    {
        QFETCH(QString, command);
        QFETCH(QStringList, says);
        const Run help = runCli({command, "--help"});
        QCOMPARE(help.code, 0);
        QVERIFY2(help.out.contains("Usage: headroom-cli " + command), qPrintable(help.out));
        for (const QString& words : says)
            QVERIFY2(help.out.contains(words), qPrintable(words + " in:\n" + help.out));
        const Run program = runCli({"--help"});
        QVERIFY2(program.out.contains(says.first()), qPrintable(program.out)); // listed with what it does
        QVERIFY(program.out.contains("COMMAND --help"));
    }

    // `build` runs the launcher, which needs Qt: headroom-cli says where it is.
    void buildNeedsTheDashboardProgram()
    {
        for (const QStringList& args : {QStringList{"build"}, QStringList{"build", "--project", "/tmp"}}) {
            const Run run = runCli(args);
            QCOMPARE(run.code, 2);
            QVERIFY2(run.err.contains("build needs the headroom program"), qPrintable(run.err));
            QVERIFY(run.out.isEmpty());
        }
        const QString help = runCli({"--help"}).out;
        QVERIFY2(help.contains(QRegularExpression("^  stop ", QRegularExpression::MultilineOption)),
                 qPrintable(help));
        QVERIFY2(!help.contains(QRegularExpression("^  build ", QRegularExpression::MultilineOption)),
                 qPrintable(help));
    }

    void badArgumentsFailClearly_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("says");
        QTest::newRow("no command") << QStringList{} << "subcommand";
        QTest::newRow("unknown command") << QStringList{"explode"} << "unknown command 'explode'";
        QTest::newRow("bad option") << QStringList{"top", "--frobnicate"} << "frobnicate";
        QTest::newRow("bad number") << QStringList{"top", "-n", "lots"} << "lots";
        QTest::newRow("stop without start time") << QStringList{"stop", "1234"} << "--start-time is required";
        QTest::newRow("stop bad signal")
            << QStringList{"stop", "1234", "--start-time", "5", "--signal", "nuke"} << "nuke";
        QTest::newRow("stop bad option") << QStringList{"stop", "1234", "--now"} << "--now";
        QTest::newRow("sample stray word") << QStringList{"sample", "extra"} << "extra";
        QTest::newRow("run without a command") << QStringList{"run", "--detach"} << "give the command to run";
        QTest::newRow("run with nothing after --") << QStringList{"run", "--"} << "give the command to run";
        QTest::newRow("run bad interrupt choice")
            << QStringList{"run", "--on-interrupt", "maybe", "--", "true"} << "wants ask, stop or leave";
        QTest::newRow("run bad size") << QStringList{"run", "--memory-max", "lots", "true"} << "lots";
        QTest::newRow("run unknown option before the command")
            << QStringList{"run", "--frobnicate", "true"} << "frobnicate";
        QTest::newRow("run unmatched then-run quote")
            << QStringList{"run", "--then-run", "echo 'x", "true"} << "unmatched quote";
        QTest::newRow("runs stop without id") << QStringList{"runs", "stop"} << "id";
        QTest::newRow("runs stray word") << QStringList{"runs", "extra"} << "extra";
        QTest::newRow("export port too big")
            << QStringList{"export", "--listen", "127.0.0.1:65536"} << "65536";
        QTest::newRow("export bare IPv6") << QStringList{"export", "--listen", "::1:9464"} << "brackets";
        QTest::newRow("export every without textfile")
            << QStringList{"export", "--every", "5"} << "--textfile";
        QTest::newRow("export every zero")
            << QStringList{"export", "--textfile", "/tmp", "--every", "0"} << "0";
        QTest::newRow("export once and listen")
            << QStringList{"export", "--once", "--listen", "127.0.0.1:1"} << "--listen";
    }

    void badArgumentsFailClearly()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, says);
        const Run run = runCli(args);
        QCOMPARE(run.code, 2);
        QVERIFY2((run.err + run.out).contains(says), qPrintable(run.err + run.out));
    }

    void sampleJson()
    {
        ProcessSpawner spawner;
        const Pid cargo =
            spawner.start("cargo", {"build", "{", "rustc", "--mem", "8", "}"}, spawner.makeDir("w"), 2);
        const Run run = runCli({"sample", "--json", "--interval", "0.1"});
        QCOMPARE(run.code, 0);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(run.out.toUtf8(), &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QJsonObject root = doc.object();
        QCOMPARE(root.value("schema").toString(), QString("headroom.snapshot"));
        QCOMPARE(root.value("version").toInt(), 1);
        QCOMPARE(root.value("headroom_version").toString(), QString(HEADROOM_VERSION));

        std::ifstream meminfo("/proc/meminfo");
        std::string key;
        std::uint64_t totalKiB = 0;
        meminfo >> key >> totalKiB;
        const QJsonObject memory = root.value("memory").toObject();
        QCOMPARE(std::uint64_t(memory.value("total").toInteger()), totalKiB * KiB);
        QVERIFY(memory.contains("swap") && memory.contains("pressure") && memory.contains("oom_kill_count"));

        const QJsonArray processes = root.value("processes").toArray();
        const QJsonObject rustcParent = findProcess(processes, cargo);
        QCOMPARE(rustcParent.value("role").toString(), QString("cargo"));
        QCOMPARE(rustcParent.value("ppid").toInteger(), qint64(::getpid()));
        QCOMPARE(std::uint64_t(rustcParent.value("start_time").toInteger()),
                 ProcessSpawner::keyOf(cargo).startTime);
        QVERIFY(rustcParent.value("cpu_percent").isDouble());

        bool sawBuild = false;
        for (const auto& b : root.value("builds").toArray()) {
            const QJsonObject build = b.toObject();
            if (build.value("root").toObject().value("pid").toInteger() != cargo)
                continue;
            sawBuild = true;
            QCOMPARE(build.value("counts").toObject().value("rustc").toInt(), 1);
            QCOMPARE(build.value("members").toArray().size(), 2);
            QVERIFY(build.value("rss").toInteger() >= qint64(8 * MiB));
        }
        QVERIFY(sawBuild);
        QVERIFY2(root.value("summary").toString().contains(QRegularExpression("\\d+ rustc, ")),
                 qPrintable(root.value("summary").toString()));

        // Where the cgroup has no limit the budget is the machine's; else it names the limit.
        const QJsonObject budget = root.value("budget").toObject();
        const auto own = readOwnCgroupMemory();
        if (!own || !(own->effectiveLimitBytes || own->limitBytes || own->highBytes)) {
            QCOMPARE(budget.value("source").toString(), QString("system"));
            QCOMPARE(budget.value("limit").toInteger(), memory.value("total").toInteger());
            QCOMPARE(budget.value("available").toInteger(), memory.value("available").toInteger());
            QVERIFY(budget.value("cgroup").isNull());
            QVERIFY2(budget.value("words").toString().startsWith("system memory "),
                     qPrintable(budget.value("words").toString()));
        } else {
            QVERIFY(budget.value("available").toInteger() <= budget.value("limit").toInteger());
            QVERIFY(!budget.value("words").toString().isEmpty());
        }
    }

    void budgetOfACgroupInJsonAndTop()
    {
        Snapshot s;
        s.memory.total = 64 * GiB;
        s.memory.available = 40 * GiB;
        s.memory.used = 24 * GiB;
        CgroupMemoryState ctr;
        ctr.dir = "/sys/fs/cgroup/kubepods/pod1/ctr\x1b[2J";
        ctr.v2 = true;
        ctr.container = true;
        ctr.usageBytes = 5 * GiB;
        ctr.inactiveFileBytes = GiB;
        ctr.limitBytes = 8 * GiB;
        s.budget = memoryBudget(s.memory, ctr);

        const QJsonObject budget =
            QJsonDocument::fromJson(QByteArray::fromStdString(headroom::cli::snapshotToJson(s, false)))
                .object()
                .value("budget")
                .toObject();
        QCOMPARE(budget.value("source").toString(), QString("cgroup-v2-max"));
        QCOMPARE(budget.value("available").toInteger(), qint64(4 * GiB));
        QCOMPARE(budget.value("limit").toInteger(), qint64(8 * GiB));
        QCOMPARE(budget.value("used").toInteger(), qint64(4 * GiB));
        QCOMPARE(budget.value("system_available").toInteger(), qint64(40 * GiB));
        QCOMPARE(budget.value("container").toBool(), true);
        QCOMPARE(budget.value("cgroup").toString(), QString::fromStdString(ctr.dir));
        QCOMPARE(budget.value("words").toString(), QString("container limit 8.0 GiB"));

        // top says which limit applies under the host's figures; the cgroup's name never reaches the terminal
        // raw.
        const std::string top = headroom::cli::renderMemorySummary(s);
        QVERIFY2(
            top.find(
                "\nBudget  4.0 GiB left of the container limit 8.0 GiB (50%) · /sys/fs/cgroup/kubepods") !=
                std::string::npos,
            top.c_str());
        QVERIFY(top.find('\x1b') == std::string::npos);

        // No cgroup limit: no budget line, the header as it always was.
        s.budget = memoryBudget(s.memory, std::nullopt);
        QVERIFY(headroom::cli::renderMemorySummary(s).find("Budget") == std::string::npos);
    }

    void jsonSurvivesBytesThatAreNotUtf8()
    {
        Snapshot s;
        ProcessSample p;
        p.key = {7, 7};
        p.name = "caf\xe9\xff";
        p.argv = {"a\nb", "\x01"};
        s.processes.push_back(p);
        const std::string text = headroom::cli::snapshotToJson(s, false);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QJsonObject proc = doc.object().value("processes").toArray().at(0).toObject();
        QCOMPARE(proc.value("name").toString(), QString::fromUtf8("caf\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(proc.value("argv").toArray().at(0).toString(), QString("a\nb"));
    }

    void topShowsRolesAndBuilds()
    {
        ProcessSpawner spawner;
        const Pid cargo =
            spawner.start("cargo", {"build", "{", "rustc", "--mem", "64", "}"}, spawner.makeDir("w"), 2);
        const Run few = runCli({"top", "-n", "3", "--interval", "0"});
        QCOMPARE(few.code, 0);
        const int fewHeader = few.out.indexOf(QRegularExpression("PID\\s+START"));
        QVERIFY(fewHeader > 0);
        QCOMPARE(few.out.mid(fewHeader).trimmed().count('\n'), 3);

        const Run run = runCli({"top", "-n", "500", "--builds", "--width", "200", "--interval", "0"});
        QCOMPARE(run.code, 0);
        QVERIFY(run.out.contains("Memory  used"));
        QVERIFY2(run.out.contains("Builds ("), qPrintable(run.out));
        QVERIFY(run.out.contains("pid " + QString::number(cargo)));
        QVERIFY(run.out.contains("1 rustc"));
        const QStringList lines = run.out.split('\n');
        const int header = lines.indexOf(QRegularExpression("^\\s+PID\\s+START.*COMMAND$"));
        QVERIFY(header >= 0);
        QStringList rows = lines.mid(header + 1);
        rows.removeAll(QString());
        QVERIFY(rows.size() >= 2);
        // Only build processes, heaviest first.
        bool sawRustc = false;
        for (const QString& row : rows) {
            const QStringList cells = row.simplified().split(' ');
            QVERIFY2(cells.size() > 4 && cells[3] != "other", qPrintable(row));
            sawRustc = sawRustc || cells[3] == "rustc";
        }
        QVERIFY(sawRustc);
    }

    void stopExtraBuildsKeepsTheBuildHoldingTheLock()
    {
        CargoLockScene scene;
        QVERIFY2(scene.start(), "three cargo builds, two blocked on the first one's lock");
        const QString holder = QString::number(scene.holder());

        // top --builds: one warning for the group, three builds told apart.
        const Run top = runCli({"top", "--builds", "--width", "400", "--interval", "0"});
        QCOMPARE(top.code, 0);
        const QStringList lines = top.out.split('\n');
        QCOMPARE(lines
                     .filter(QRegularExpression("^WARNING: 3 builds share.*" +
                                                QRegularExpression::escape(scene.workspace())))
                     .size(),
                 1);
        const QStringList keep = lines.filter(QRegularExpression("^  keep  .*pid " + holder + " "));
        QCOMPARE(keep.size(), 1);
        QVERIFY2(keep.first().endsWith(" — holds the lock"), qPrintable(keep.first()));
        for (qint64 waiter : {scene.waiterA(), scene.waiterB()}) {
            const QStringList stop =
                lines.filter(QRegularExpression("^  stop  .*pid " + QString::number(waiter) + " "));
            QCOMPARE(stop.size(), 1);
            QVERIFY2(stop.first().contains("waiting for the lock"), qPrintable(stop.first()));
        }
        QVERIFY2(top.out.contains("cargo build -p lockdemo · dev · pid " + QString::number(scene.waiterA())),
                 qPrintable(top.out));

        // No terminal and no --yes: refuses, nothing stopped.
        const Run refused = runCli({"stop", "--extra-builds", "--in", scene.workspace()});
        QCOMPARE(refused.code, 2);
        QVERIFY2(refused.err.contains("--yes"), qPrintable(refused.err));
        QVERIFY2(refused.out.contains("  keep  ") && refused.out.contains("pid " + holder),
                 qPrintable(refused.out));
        for (qint64 pid : {scene.holder(), scene.waiterA(), scene.waiterB()})
            QVERIFY(ProcessSpawner::isAlive(pid));

        const Run done =
            runCli({"stop", "--extra-builds", "--yes", "--grace", "2", "--in", scene.workspace()});
        QVERIFY2(done.code == 0, qPrintable(done.out + done.err));
        for (qint64 pid : {scene.waiterA(), scene.waiterB()})
            QTRY_VERIFY_WITH_TIMEOUT(!ProcessSpawner::isAlive(pid), 10000);
        QVERIFY(ProcessSpawner::isAlive(scene.holder()));

        const Run badUse = runCli({"stop", "--extra-builds", "1234"});
        QCOMPARE(badUse.code, 2);
    }

    void stopEndsTheProcessAndReportsIt()
    {
        ProcessSpawner spawner;
        const Pid pid = spawner.start("victim", {});
        const QString start = QString::number(ProcessSpawner::keyOf(pid).startTime);
        const Run wrong = runCli({"stop", QString::number(pid), "--start-time", start + "1"});
        QCOMPARE(wrong.code, 5);
        QVERIFY(wrong.err.contains("Refused"));
        QVERIFY(ProcessSpawner::stateOf(pid) == 'S');

        const Run run = runCli({"stop", QString::number(pid), "--start-time", start, "--json"});
        QCOMPARE(run.code, 0);
        const QJsonObject report = QJsonDocument::fromJson(run.out.toUtf8()).object();
        QCOMPARE(report.value("schema").toString(), QString("headroom.action"));
        QCOMPARE(report.value("results").toArray().at(0).toObject().value("outcome").toString(),
                 QString("done"));
        QVERIFY(spawner.waitGone(pid));

        const Run again = runCli({"stop", QString::number(pid), "--start-time", start});
        QCOMPARE(again.code, 3);
        QVERIFY(again.err.contains("already exited"));
    }

    void stopTreeWithPauseAndResume()
    {
        ProcessSpawner spawner;
        const Pid cargo = spawner.start("cargo", {"{", "rustc", "}"}, {}, 2);
        const Pid rustc = ProcessSpawner::liveDescendants(cargo).at(0);
        const QString start = QString::number(ProcessSpawner::keyOf(cargo).startTime);
        QCOMPARE(
            runCli({"stop", QString::number(cargo), "--start-time", start, "--tree", "--signal", "pause"})
                .code,
            0);
        QTRY_COMPARE(ProcessSpawner::stateOf(rustc), 'T');
        QCOMPARE(
            runCli({"stop", QString::number(cargo), "--start-time", start, "--tree", "--signal", "resume"})
                .code,
            0);
        QTRY_COMPARE(ProcessSpawner::stateOf(rustc), 'S');
    }

    void numbersAreCheckedStrictly_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("names");
        QTest::newRow("sample interval nan") << QStringList{"sample", "--interval", "nan"} << "--interval";
        QTest::newRow("sample interval inf") << QStringList{"sample", "--interval", "inf"} << "--interval";
        QTest::newRow("sample interval empty") << QStringList{"sample", "--interval", ""} << "--interval";
        QTest::newRow("sample interval -1") << QStringList{"sample", "--interval=-1"} << "--interval";
        QTest::newRow("top interval nan") << QStringList{"top", "--interval", "nan"} << "--interval";
        QTest::newRow("top lines 1e20") << QStringList{"top", "-n", "1e20"} << "--lines";
        QTest::newRow("top lines 2^64") << QStringList{"top", "-n", "18446744073709551616"} << "--lines";
        QTest::newRow("top lines 0") << QStringList{"top", "-n", "0"} << "--lines";
        QTest::newRow("top width nan") << QStringList{"top", "--width", "nan"} << "--width";
        QTest::newRow("top width -1") << QStringList{"top", "--width=-1"} << "--width";
        QTest::newRow("stop pid 1e20") << QStringList{"stop", "1e20", "--start-time", "5"} << "pid";
        QTest::newRow("stop pid 0") << QStringList{"stop", "0", "--start-time", "5"} << "pid";
        QTest::newRow("stop pid 2^31") << QStringList{"stop", "2147483648", "--start-time", "5"} << "pid";
        QTest::newRow("stop start empty")
            << QStringList{"stop", "1234", "--start-time", ""} << "--start-time";
        QTest::newRow("stop start -1") << QStringList{"stop", "1234", "--start-time=-1"} << "--start-time";
        QTest::newRow("stop start 2^64")
            << QStringList{"stop", "1234", "--start-time", "18446744073709551616"} << "--start-time";
        QTest::newRow("stop start 1.5")
            << QStringList{"stop", "1234", "--start-time", "1.5"} << "--start-time";
        QTest::newRow("stop grace nan")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", "nan"} << "--grace";
        QTest::newRow("stop grace inf")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", "inf"} << "--grace";
        QTest::newRow("stop grace -1")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace=-1"} << "--grace";
        QTest::newRow("top lines empty") << QStringList{"top", "-n", ""} << "--lines";
        QTest::newRow("top lines -3") << QStringList{"top", "--lines=-3"} << "--lines";
        QTest::newRow("top width 1001") << QStringList{"top", "--width", "1001"} << "--width";
        QTest::newRow("sample interval 61") << QStringList{"sample", "--interval", "61"} << "--interval";
        QTest::newRow("sample interval hex") << QStringList{"sample", "--interval", "0x1"} << "--interval";
        QTest::newRow("stop pid empty") << QStringList{"stop", "", "--start-time", "5"} << "pid";
        QTest::newRow("stop pid -5") << QStringList{"stop", "--start-time", "5", "--", "-5"} << "pid";
        QTest::newRow("stop grace empty")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", ""} << "--grace";
        QTest::newRow("stop grace 601")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", "601"} << "--grace";
        QTest::newRow("stop grace 1e400")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", "1e400"} << "--grace";
    }

    void numbersAreCheckedStrictly()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, names);
        const Run run = runCli(args);
        QCOMPARE(run.code, 2);
        QVERIFY2(run.err.contains(names), qPrintable(run.err + run.out));
    }

    void goodNumbersStillWork()
    {
        QCOMPARE(runCli({"top", "-n", "1", "--width", "40", "--interval", "0"}).code, 0);
        QCOMPARE(runCli({"sample", "--interval", "0.05"}).code, 0);
        ProcessSpawner spawner;
        const Pid pid = spawner.start("victim", {});
        const QString start = QString::number(ProcessSpawner::keyOf(pid).startTime);
        QCOMPARE(runCli({"stop", QString::number(pid), "--start-time", start, "--grace", "0.5"}).code, 0);
        QVERIFY(spawner.waitGone(pid));
    }

    void hostileNamesNeverReachTheTerminal()
    {
        ProcessSpawner spawner;
        // ESC [31m, U+202E and the 8-bit CSI U+009B, 12 bytes: the kernel keeps all of them.
        const QString name = QString::fromUtf8("\x1b[31m\xe2\x80\xae\xc2\x9bx%1");
        const Pid pid = spawner.start(name, {"\x1b]0;title\x07", QString::fromUtf8("\xe2\x80\xae")});
        QVERIFY(pid > 0);

        const RawRun top = runCliRaw({"top", "-n", "100000", "--width", "1000", "--interval", "0"});
        QCOMPARE(top.code, 0);
        QVERIFY(top.out.contains(QByteArray::number(pid) + " "));
        QVERIFY2(!holdsSteeringBytes(top.out + top.err), top.out.constData());

        const RawRun plain = runCliRaw({"sample", "--interval", "0"});
        QCOMPARE(plain.code, 0);
        QVERIFY(!holdsSteeringBytes(plain.out + plain.err));

        const RawRun json = runCliRaw({"sample", "--json", "--pretty", "--interval", "0"});
        QCOMPARE(json.code, 0);
        QVERIFY(!holdsSteeringBytes(json.out + json.err));
        // Escaped, not replaced: a JSON reader gets the exact name back.
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(json.out, &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QJsonObject proc = findProcess(doc.object().value("processes").toArray(), pid);
        QCOMPARE(proc.value("name").toString(), name);
        QCOMPARE(proc.value("argv").toArray().at(1).toString(), QString("\x1b]0;title\x07"));
    }

    void hostileManifestsDoNotSlowTheSample()
    {
        ProcessSpawner spawner;
        // A cargo whose folder holds a sparse 1 GiB Cargo.toml.
        const QString big = spawner.makeDir("big");
        {
            std::ofstream manifest((big + "/Cargo.toml").toStdString());
            manifest << "[package]\nname='big'\n";
        }
        QCOMPARE(::truncate((big + "/Cargo.toml").toLocal8Bit().constData(), off_t(1) << 30), 0);
        // One whose Cargo.toml is a FIFO nobody writes to.
        const QString fifo = spawner.makeDir("fifo");
        QCOMPARE(::mkfifo((fifo + "/Cargo.toml").toLocal8Bit().constData(), 0644), 0);
        // And an ordinary workspace member.
        const QString ws = spawner.makeDir("ws");
        QDir().mkpath(ws + "/member");
        std::ofstream(ws.toStdString() + "/Cargo.toml") << "[workspace]\nmembers = [\"member\"]\n";
        std::ofstream(ws.toStdString() + "/member/Cargo.toml") << "[package]\nname = \"member\"\n";

        const Pid bigCargo = spawner.start("cargo", {"build"}, big);
        const Pid fifoCargo = spawner.start("cargo", {"check"}, fifo);
        const Pid memberCargo = spawner.start("cargo", {"build"}, ws + "/member");
        QVERIFY(bigCargo > 0 && fifoCargo > 0 && memberCargo > 0);

        const RawRun run = runCliRaw({"sample", "--json", "--interval", "0"});
        rusage usage{};
        ::getrusage(RUSAGE_CHILDREN, &usage);
        qInfo("sample with a 1 GiB and a FIFO manifest: %lld ms, largest child peak RSS %ld KiB", run.ms,
              usage.ru_maxrss);
        QCOMPARE(run.code, 0); // it completed, within runCliRaw's timeout
        QVERIFY2(usage.ru_maxrss < 256 * 1024, qPrintable(QString::number(usage.ru_maxrss)));

        std::map<Pid, QString> workspaces;
        for (const auto& b : QJsonDocument::fromJson(run.out).object().value("builds").toArray()) {
            const QJsonObject build = b.toObject();
            workspaces[build.value("root").toObject().value("pid").toInteger()] =
                build.value("workspace").toString();
        }
        QCOMPARE(workspaces[memberCargo], QDir(ws).canonicalPath());
        QCOMPARE(workspaces[bigCargo], QDir(big).canonicalPath());
        QCOMPARE(workspaces[fifoCargo], QDir(fifo).canonicalPath());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "TestCli.moc"
