// SPDX-License-Identifier: GPL-3.0-or-later
// The Windows build of headroom-cli, cross-compiled with MinGW-w64, run under
// Wine: its JSON is checked against what Windows (Wine) itself reports, and
// its stop/pause/resume act on real Windows processes started by winprobe.exe.
#include "headroom/MachineMetrics.h"
#include "headroom/Version.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cmath>

namespace {

struct Run {
    int code = -1;
    QByteArray out;
    QByteArray err;
};

} // namespace

class TestWindowsCli : public QObject {
    Q_OBJECT

  private:
    QString wine_ = QStringLiteral(HEADROOM_WINE);
    QString cli_ = QStringLiteral(HEADROOM_WINDOWS_CLI);
    QString probe_ = QStringLiteral(HEADROOM_WINPROBE);
    QString prefix_ = QStringLiteral(HEADROOM_WINEPREFIX);
    QProcessEnvironment env_;
    QList<QProcess*> started_;

    QProcess* startWine(const QStringList& args)
    {
        auto* p = new QProcess(this);
        p->setProcessEnvironment(env_);
        p->start(wine_, args);
        started_.append(p);
        return p;
    }

    Run wine(const QStringList& args, int timeoutMs = 60000, const QString& runsDir = {})
    {
        QProcess p;
        QProcessEnvironment env = env_;
        if (!runsDir.isEmpty())
            env.insert("HEADROOM_RUNS_DIR", windowsPath(runsDir));
        p.setProcessEnvironment(env);
        p.start(wine_, args);
        Run run;
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished();
            return run;
        }
        run.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        run.out = p.readAllStandardOutput();
        run.err = p.readAllStandardError();
        return run;
    }

    QJsonObject sample()
    {
        const Run run = wine({cli_, "sample", "--json", "--interval", "0"});
        if (run.code != 0)
            qWarning() << "sample failed:" << run.code << run.err;
        return QJsonDocument::fromJson(run.out).object();
    }

    static QJsonObject findProcess(const QJsonObject& snapshot, qint64 pid)
    {
        for (const auto& value : snapshot.value("processes").toArray()) {
            if (value.toObject().value("pid").toInteger() == pid)
                return value.toObject();
        }
        return {};
    }

    // Starts `winprobe spawn DEPTH` and returns the pids of the chain, parent first.
    QList<qint64> spawnChain(QProcess*& process, int depth)
    {
        process = startWine({probe_, "spawn", QString::number(depth), "120"});
        QList<qint64> chain;
        static const QRegularExpression link("parent=(\\d+) child=(\\d+)");
        QByteArray seen;
        QElapsedTimer timer;
        timer.start();
        while (chain.size() < depth + 1 && timer.elapsed() < 60000) {
            process->waitForReadyRead(1000);
            seen += process->readAllStandardOutput();
            chain.clear();
            auto it = link.globalMatch(QString::fromUtf8(seen));
            while (it.hasNext()) {
                const auto m = it.next();
                if (chain.isEmpty())
                    chain.append(m.captured(1).toLongLong());
                chain.append(m.captured(2).toLongLong());
            }
        }
        return chain;
    }

    static QString windowsPath(const QString& unixPath)
    {
        // Wine's Z: drive is the Unix root.
        return "Z:" + QDir::toNativeSeparators(unixPath).replace('/', '\\');
    }

    static qint64 readCounter(const QString& file)
    {
        for (int attempt = 0; attempt < 20; ++attempt) {
            QFile f(file);
            if (f.open(QIODevice::ReadOnly)) {
                bool ok = false;
                const qint64 value = f.readAll().trimmed().toLongLong(&ok);
                if (ok)
                    return value;
            }
            QThread::msleep(10); // the writer truncates, then writes
        }
        return -1;
    }

    // The run `id` as `runs --json` lists it in `runsDir`; empty when not listed.
    QJsonObject listedRun(const QString& runsDir, const QString& id)
    {
        const Run run = wine({cli_, "runs", "--json"}, 60000, runsDir);
        for (const auto& value : QJsonDocument::fromJson(run.out).object().value("runs").toArray()) {
            if (value.toObject().value("id").toString() == id)
                return value.toObject();
        }
        return {};
    }

    // The process of `snapshot` with this pid and name (any case), or none.
    static QJsonObject findNamed(const QJsonObject& snapshot, const QString& name, qint64 parent)
    {
        for (const auto& value : snapshot.value("processes").toArray()) {
            const QJsonObject p = value.toObject();
            if (p.value("name").toString().compare(name, Qt::CaseInsensitive) == 0 &&
                p.value("ppid").toInteger() == parent)
                return p;
        }
        return {};
    }

    static bool sameProcess(const QJsonObject& snapshot, const QJsonObject& process)
    {
        const QJsonObject now = findProcess(snapshot, process.value("pid").toInteger());
        return !now.isEmpty() &&
               now.value("start_time").toInteger() == process.value("start_time").toInteger();
    }

  private slots:
    void initTestCase()
    {
        if (wine_.isEmpty() || !QFileInfo(wine_).isExecutable())
            QSKIP("Wine is not installed (Debian: wine64); the Windows build cannot be run here.");
        if (!QFileInfo::exists(cli_) || !QFileInfo::exists(probe_))
            QSKIP(qPrintable("The MinGW cross build is missing (" + cli_ +
                             "): build it with cmake --preset mingw && cmake --build --preset mingw."));
        env_ = QProcessEnvironment::systemEnvironment();
        env_.insert("WINEPREFIX", prefix_);
        env_.insert("WINEDEBUG", "-all");
        // No Mono or Gecko installer prompts, no display needed.
        env_.insert("WINEDLLOVERRIDES", "mscoree,mshtml=");
        env_.remove("DISPLAY");
        env_.remove("WAYLAND_DISPLAY");
        QDir().mkpath(QFileInfo(prefix_).path());
        // The first start creates the prefix, which takes a while; then keep
        // one wineserver up for the whole test so each run starts quickly.
        const Run first = wine({probe_, "memory"}, 300000);
        QVERIFY2(first.code == 0, first.err.constData());
        QProcess server;
        server.setProcessEnvironment(env_);
        server.start(QFileInfo(wine_).dir().filePath("wineserver"), {"-p"});
        server.waitForFinished(10000);
    }

    void cleanupTestCase()
    {
        for (QProcess* p : started_) {
            if (p->state() != QProcess::NotRunning) {
                p->kill();
                p->waitForFinished(5000);
            }
        }
        if (!env_.isEmpty()) {
            // End every Windows process this test left in its own prefix.
            QProcess server;
            server.setProcessEnvironment(env_);
            server.start(QFileInfo(wine_).dir().filePath("wineserver"), {"-k"});
            server.waitForFinished(10000);
        }
    }

    void versionMatchesTheProject()
    {
        const Run run = wine({cli_, "--version"});
        QCOMPARE(run.code, 0);
        QCOMPARE(QString::fromUtf8(run.out).trimmed(), QString("headroom-cli " HEADROOM_VERSION));
    }

    void memoryMatchesWhatWineReports()
    {
        const Run probe = wine({probe_, "memory"});
        QCOMPARE(probe.code, 0);
        const auto m = QRegularExpression("total=(\\d+)").match(QString::fromUtf8(probe.out));
        QVERIFY2(m.hasMatch(), probe.out.constData());
        const qint64 windowsTotal = m.captured(1).toLongLong();

        const QJsonObject snapshot = sample();
        QCOMPARE(snapshot.value("schema").toString(), QString("headroom.snapshot"));
        const QJsonObject memory = snapshot.value("memory").toObject();
        const qint64 total = memory.value("total").toInteger();
        QCOMPARE(total, windowsTotal);

        // Wine reports the host's memory: compare with the kernel's MemTotal.
        QFile meminfo("/proc/meminfo");
        QVERIFY(meminfo.open(QIODevice::ReadOnly));
        const auto line =
            QRegularExpression("MemTotal:\\s+(\\d+) kB").match(QString::fromUtf8(meminfo.readAll()));
        QVERIFY(line.hasMatch());
        const double hostTotal = double(line.captured(1).toLongLong()) * 1024.0;
        QVERIFY2(std::abs(double(total) - hostTotal) <= hostTotal * 0.01,
                 qPrintable(QString("CLI total %1, host MemTotal %2").arg(total).arg(hostTotal)));

        const qint64 available = memory.value("available").toInteger();
        QVERIFY(available > 0 && available <= total);
        QCOMPARE(memory.value("used").toInteger(), total - available);
        QVERIFY(memory.value("committed").toInteger() > 0);
        QVERIFY(memory.value("commit_limit").toInteger() >= total);
        const QJsonObject swap = memory.value("swap").toObject();
        QCOMPARE(swap.value("used").toInteger() + swap.value("free").toInteger(),
                 swap.value("total").toInteger());
    }

    void listsItsOwnProcess()
    {
        // winprobe starts the CLI and tells its pid, which Wine does not
        // expose to the Unix side.
        const Run run = wine({probe_, "run", cli_, "sample", "--json", "--interval", "0"});
        QCOMPARE(run.code, 0);
        const auto m = QRegularExpression("launcher=(\\d+) pid=(\\d+)").match(QString::fromUtf8(run.err));
        QVERIFY2(m.hasMatch(), run.err.constData());
        const qint64 launcher = m.captured(1).toLongLong();
        const qint64 pid = m.captured(2).toLongLong();

        const QJsonObject snapshot = QJsonDocument::fromJson(run.out).object();
        const QJsonObject self = findProcess(snapshot, pid);
        QVERIFY2(!self.isEmpty(), "the CLI's own process is not in its snapshot");
        QCOMPARE(self.value("name").toString(), QString("headroom-cli.exe"));
        QCOMPARE(self.value("ppid").toInteger(), launcher);
        QVERIFY(self.value("rss").toInteger() > 0); // the working set
        QVERIFY(self.value("private_bytes").toInteger() > 0);
        QVERIFY(self.value("start_time").toInteger() > 0);
        QVERIFY(self.value("exe").toString().endsWith("headroom-cli.exe"));
        QVERIFY(self.value("threads").toInteger() >= 1);
        const QJsonArray argv = self.value("argv").toArray();
        QVERIFY2(argv.size() == 5 && argv.at(1).toString() == "sample" && argv.at(2).toString() == "--json",
                 QJsonDocument(argv).toJson(QJsonDocument::Compact).constData());
        const qint64 startedMs = self.value("started_at_ms").toInteger();
        QVERIFY(std::abs(QDateTime::currentMSecsSinceEpoch() - startedMs) < 10 * 60 * 1000);
        QVERIFY(!self.value("user").toString().isEmpty());

        const QJsonObject parent = findProcess(snapshot, launcher);
        QCOMPARE(parent.value("name").toString(), QString("winprobe.exe"));
    }

    void stopsAChildItListsWithTheRightParent()
    {
        QProcess* spawner = nullptr;
        const QList<qint64> chain = spawnChain(spawner, 1);
        QCOMPARE(chain.size(), 2);
        const qint64 parentPid = chain[0];
        const qint64 childPid = chain[1];

        const QJsonObject child = findProcess(sample(), childPid);
        QVERIFY2(!child.isEmpty(), "the spawned child is not listed");
        QCOMPARE(child.value("ppid").toInteger(), parentPid);
        QCOMPARE(child.value("name").toString(), QString("winprobe.exe"));
        QCOMPARE(child.value("argv").toArray().at(1).toString(), QString("spawn"));
        const QString startTime = QString::number(child.value("start_time").toInteger());

        // A wrong start time names another process: refused, child untouched.
        const Run wrong = wine({cli_, "stop", QString::number(childPid), "--start-time", "12345", "--json"});
        QCOMPARE(wrong.code, 5);
        QVERIFY(!findProcess(sample(), childPid).isEmpty());

        const Run stop = wine({cli_, "stop", QString::number(childPid), "--start-time", startTime, "--json"});
        QVERIFY2(stop.code == 0, stop.out.constData());
        const QJsonObject report = QJsonDocument::fromJson(stop.out).object();
        QCOMPARE(report.value("results").toArray().at(0).toObject().value("outcome").toString(),
                 QString("done"));

        // The parent waits on its child and prints the exit code it saw.
        QVERIFY(spawner->waitForFinished(30000));
        QVERIFY2(spawner->readAllStandardOutput().contains("exit=1"),
                 "the child did not end by TerminateProcess");
        const QJsonObject after = findProcess(sample(), childPid);
        QVERIFY(after.isEmpty() || QString::number(after.value("start_time").toInteger()) != startTime);

        // Once gone, a second stop says so instead of failing.
        const Run again =
            wine({cli_, "stop", QString::number(childPid), "--start-time", startTime, "--json"});
        QCOMPARE(again.code, 3);
    }

    void stopsAWholeTree()
    {
        QProcess* spawner = nullptr;
        const QList<qint64> chain = spawnChain(spawner, 2);
        QCOMPARE(chain.size(), 3);
        const QJsonObject snapshot = sample();
        QCOMPARE(findProcess(snapshot, chain[2]).value("ppid").toInteger(), chain[1]);
        const QJsonObject root = findProcess(snapshot, chain[0]);
        const Run stop = wine({cli_, "stop", QString::number(chain[0]), "--start-time",
                               QString::number(root.value("start_time").toInteger()), "--tree", "--json"});
        QVERIFY2(stop.code == 0, stop.out.constData());
        const QJsonObject report = QJsonDocument::fromJson(stop.out).object();
        QCOMPARE(report.value("results").toArray().size(), 3);
        QVERIFY(spawner->waitForFinished(30000));
        const QJsonObject after = sample();
        for (qint64 pid : chain) {
            const QJsonObject p = findProcess(after, pid);
            QVERIFY2(p.isEmpty() || p.value("name").toString() != "winprobe.exe",
                     qPrintable(QString("pid %1 survived the tree stop").arg(pid)));
        }
    }

    void pausesAndResumes()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString counter = dir.filePath("counter");
        QProcess* ticker = startWine({probe_, "tick", windowsPath(counter), "120"});
        QTRY_VERIFY_WITH_TIMEOUT(readCounter(counter) > 0, 30000);

        qint64 pid = 0;
        QString startTime;
        for (const auto& value : sample().value("processes").toArray()) {
            const QJsonObject p = value.toObject();
            if (p.value("argv").toArray().contains(QJsonValue("tick"))) {
                pid = p.value("pid").toInteger();
                startTime = QString::number(p.value("start_time").toInteger());
            }
        }
        QVERIFY(pid > 0);
        const QStringList target{cli_, "stop", QString::number(pid), "--start-time", startTime, "--signal"};

        QCOMPARE(wine(target + QStringList{"pause"}).code, 0);
        const qint64 frozen = readCounter(counter);
        QThread::msleep(600);
        QCOMPARE(readCounter(counter), frozen);

        QCOMPARE(wine(target + QStringList{"resume"}).code, 0);
        QTRY_VERIFY_WITH_TIMEOUT(readCounter(counter) > frozen, 5000);

        QCOMPARE(wine(target + QStringList{"kill"}).code, 0);
        QVERIFY(ticker->waitForFinished(30000));
    }

    void jobObjectStopsTheWholeTree()
    {
        const Run run = wine({probe_, "job"});
        const QString out = QString::fromUtf8(run.out);
        QVERIFY2(run.code == 0, qPrintable(out + QString::fromUtf8(run.err)));
        QVERIFY(out.contains("members=2"));
        QVERIFY(out.contains("terminate: ok"));
        QVERIFY(out.contains("close: ok"));
    }

    void childProcessRunsAStepWithItsOutputInFiles()
    {
        // winprobe drives headroom::ChildProcess and startDetached on real
        // Windows processes and reports each check; see winprobe.cpp.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const Run run = wine({probe_, "child", windowsPath(dir.filePath("child"))}, 180000);
        const QString out = QString::fromUtf8(run.out);
        const QString all = out + QString::fromUtf8(run.err);
        for (const char* check : {"exit-code", "one-log", "key", "two-files", "arguments", "environment",
                                  "working-dir", "missing-program", "terminate-tree", "outlives-starter",
                                  "inherits-only-streams", "current-executable", "detached"})
            QVERIFY2(out.contains(QString(check) + ": ok\n") || out.contains(QString(check) + ": ok\r\n"),
                     qPrintable(QString(check) + " did not pass:\n" + all));
        QCOMPARE(run.code, 0);
    }

    void runEndsWithTheBuildsExitCodeAndLogsItsOutput()
    {
        QTemporaryDir runs;
        QVERIFY(runs.isValid());
        const Run run = wine({cli_, "run", "--", "cmd", "/c", "echo hi & exit 3"}, 120000, runs.path());
        QVERIFY2(run.code == 3, qPrintable(QString::number(run.code) + ": " + QString::fromUtf8(run.err)));
        const QStringList logs = QDir(runs.path()).entryList({"*.log"}, QDir::Files);
        QCOMPARE(logs.size(), 1);
        QFile log(runs.filePath(logs.first()));
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QByteArray text = log.readAll();
        QVERIFY2(text.contains("hi"), text.constData());
        const QString id = QFileInfo(logs.first()).completeBaseName();
        const QJsonObject listed = listedRun(runs.path(), id);
        QCOMPARE(listed.value("state").toString(), QString("finished"));
        QCOMPARE(listed.value("exit_code").toInt(), 3);
        QCOMPARE(listed.value("verdict").toString(), QString("failed"));
    }

    void runsStopEndsADetachedRunAndItsChildren()
    {
        QTemporaryDir runs;
        QVERIFY(runs.isValid());
        const Run started = wine({cli_, "run", "--detach", "--", "cmd", "/c", "ping -n 60 127.0.0.1 >nul"},
                                 120000, runs.path());
        QVERIFY2(started.code == 0, started.err.constData());
        const QString id = QString::fromUtf8(started.out).split('\n').first().trimmed();
        QVERIFY2(!id.isEmpty(), started.out.constData());

        // The supervisor starts cmd, cmd starts ping.
        QJsonObject listed, cmd, ping;
        QElapsedTimer timer;
        timer.start();
        while (ping.isEmpty() && timer.elapsed() < 60000) {
            listed = listedRun(runs.path(), id);
            const qint64 root = listed.value("root_pid").toInteger();
            if (listed.value("state").toString() == "running" && root > 0) {
                const QJsonObject snapshot = sample();
                cmd = findProcess(snapshot, root);
                ping = findNamed(snapshot, "ping.exe", root);
            }
            if (ping.isEmpty())
                QThread::msleep(300);
        }
        QVERIFY2(!ping.isEmpty(), QJsonDocument(listed).toJson().constData());
        QCOMPARE(cmd.value("name").toString().toLower(), QString("cmd.exe"));

        timer.restart();
        const Run stop = wine({cli_, "runs", "stop", id}, 120000, runs.path());
        QVERIFY2(stop.code == 0, qPrintable(QString::fromUtf8(stop.out + stop.err)));
        qInfo() << "runs stop took" << timer.elapsed() << "ms";
        const QJsonObject after = sample();
        QVERIFY2(!sameProcess(after, ping), "ping survived the stop");
        QVERIFY2(!sameProcess(after, cmd), "cmd survived the stop");
        listed = listedRun(runs.path(), id);
        QCOMPARE(listed.value("state").toString(), QString("finished"));
        QCOMPARE(listed.value("verdict").toString(), QString("cancelled"));
        QVERIFY(listed.value("stop_requested").toBool());
    }

    void aBuildOutlivesItsKilledSupervisor()
    {
        // The job the supervisor puts the build in does not end it when the
        // supervisor goes: the build runs to its end and leaves its mark.
        QTemporaryDir runs;
        QVERIFY(runs.isValid());
        const QString done = runs.filePath("DONE");
        const Run started = wine({cli_, "run", "--detach", "--", "cmd", "/c",
                                  "ping -n 6 127.0.0.1 >nul & echo done>" + windowsPath(done)},
                                 120000, runs.path());
        QVERIFY2(started.code == 0, started.err.constData());
        const QString id = QString::fromUtf8(started.out).split('\n').first().trimmed();

        QJsonObject listed, supervisor;
        QElapsedTimer timer;
        timer.start();
        while (supervisor.isEmpty() && timer.elapsed() < 60000) {
            listed = listedRun(runs.path(), id);
            if (listed.value("state").toString() == "running" && listed.value("root_pid").toInteger() > 0)
                supervisor = findProcess(sample(), listed.value("supervisor_pid").toInteger());
            if (supervisor.isEmpty())
                QThread::msleep(300);
        }
        QVERIFY2(!supervisor.isEmpty(), QJsonDocument(listed).toJson().constData());
        QCOMPARE(supervisor.value("argv").toArray().at(1).toString(), QString("supervise"));
        const Run kill =
            wine({cli_, "stop", QString::number(supervisor.value("pid").toInteger()), "--start-time",
                  QString::number(supervisor.value("start_time").toInteger()), "--signal", "kill"});
        QVERIFY2(kill.code == 0, kill.out.constData());
        QVERIFY(!QFileInfo::exists(done));

        listed = listedRun(runs.path(), id);
        QCOMPARE(listed.value("state").toString(), QString("supervisor-lost"));
        QVERIFY2(listed.value("build_alive").toBool(), QJsonDocument(listed).toJson().constData());
        QVERIFY2(listed.value("problem").toString().contains("still runs"),
                 qPrintable(listed.value("problem").toString()));
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(done), 60000);
    }

    // `export` on Winsock: the text Prometheus reads, served and printed.
    void exportServesMetrics()
    {
        const Run once = wine({cli_, "export", "--once"});
        QCOMPARE(once.code, 0);
        QVERIFY2(!once.out.contains('\r'), "the console's text mode turned \\n into \\r\\n");
        const auto samples = headroom::parseMetricsText(once.out.toStdString());
        QVERIFY2(samples, samples.error().c_str());
        const auto view = headroom::machineViewFromSamples(samples.value());
        QVERIFY2(view, view.error().c_str());
        QCOMPARE(qint64(view->snapshot.memory.total),
                 sample().value("memory").toObject().value("total").toInteger());

        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        QProcess* server = startWine({cli_, "export", "--listen", QString("127.0.0.1:%1").arg(port)});
        QByteArray said;
        QTRY_VERIFY_WITH_TIMEOUT((said += server->readAllStandardOutput()).contains("Serving metrics"),
                                 30000);
        const auto request = [port](const QByteArray& text) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, port);
            if (!socket.waitForConnected(5000))
                return QByteArray();
            socket.write(text);
            QByteArray reply;
            QElapsedTimer timer;
            timer.start();
            while (socket.state() == QAbstractSocket::ConnectedState && timer.elapsed() < 10000) {
                socket.waitForReadyRead(100);
                reply += socket.readAll();
            }
            return reply + socket.readAll();
        };
        const QByteArray metrics = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        QVERIFY2(metrics.startsWith("HTTP/1.1 200 OK\r\n"), metrics.left(200).constData());
        QVERIFY(metrics.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        const QByteArray body = metrics.mid(metrics.indexOf("\r\n\r\n") + 4);
        QVERIFY(headroom::parseMetricsText(body.toStdString()));
        QVERIFY(body.contains("\nheadroom_info{hostname="));
        QVERIFY(request("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 405"));
        QVERIFY(request("GET /metrics HTTP/1.1\r\nX: " + QByteArray(9000, 'a') + "\r\n\r\n")
                    .startsWith("HTTP/1.1 431"));

        const Run taken = wine({cli_, "export", "--listen", QString("127.0.0.1:%1").arg(port)});
        QCOMPARE(taken.code, 1);
        QVERIFY2(taken.err.contains("in use"), taken.err.constData());
    }

    void vanishedPidIsReportedNotCrashed()
    {
        const Run run = wine({cli_, "stop", "4000000", "--start-time", "1"});
        QCOMPARE(run.code, 3);
        QVERIFY(run.err.contains("already exited"));
    }
};

QTEST_GUILESS_MAIN(TestWindowsCli)
#include "TestWindowsCli.moc"
