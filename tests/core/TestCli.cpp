// SPDX-License-Identifier: GPL-3.0-or-later
// headroom-cli as a user runs it: real process, real output, real exit codes.
#include "CargoLockScene.h"
#include "ProcessSpawner.h"
#include "SnapshotJson.h"
#include "headroom/Units.h"
#include "headroom/Version.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <fstream>
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
        QCOMPARE(lines.filter(QRegularExpression("^WARNING: 3 builds share.*" +
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

        const Run done = runCli({"stop", "--extra-builds", "--yes", "--grace", "2", "--in", scene.workspace()});
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
};

QTEST_GUILESS_MAIN(TestCli)
#include "TestCli.moc"
