// SPDX-License-Identifier: GPL-3.0-or-later
// The Windows job lane (a named semaphore), cross-compiled with MinGW-w64 and
// run under Wine: winlane.exe serves a lane steered from here, and other
// Windows processes open it by name as jobserver clients do, take a token and
// give it back, while the lane's waiting() and steer() are read from its side;
// and the pool's ledger written by several Windows processes at once
// (LockFileEx, MoveFileExW), its members dropped once their processes end.
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

class TestWindowsLane : public QObject {
    Q_OBJECT

  private:
    QString wine_ = QStringLiteral(HEADROOM_WINE);
    QString lane_ = QStringLiteral(HEADROOM_WINLANE);
    QString prefix_ = QStringLiteral(HEADROOM_WINEPREFIX);
    QProcessEnvironment env_;
    QList<QProcess*> started_;

    QProcess* start(const QStringList& args)
    {
        auto* p = new QProcess(this);
        p->setProcessEnvironment(env_);
        p->start(wine_, QStringList{lane_} + args);
        started_.append(p);
        return p;
    }

    // The next line the process prints, or empty after `timeoutMs`.
    static QString line(QProcess* p, int timeoutMs = 60000)
    {
        QElapsedTimer timer;
        timer.start();
        while (!p->canReadLine() && timer.elapsed() < timeoutMs) {
            if (!p->waitForReadyRead(500) && p->state() == QProcess::NotRunning)
                break;
        }
        return p->canReadLine() ? QString::fromUtf8(p->readLine()).trimmed() : QString();
    }

    static QString ask(QProcess* lane, const QByteArray& command)
    {
        lane->write(command + "\n");
        return line(lane);
    }

    static QString newRunId() { return "wl-" + QString::number(QRandomGenerator::global()->generate(), 16); }

    static QString windowsPath(const QString& unixPath)
    {
        return "Z:" + QString(unixPath).replace('/', '\\'); // Wine's Z: drive is the Unix root
    }

  private slots:
    void initTestCase()
    {
        if (wine_.isEmpty() || !QFileInfo(wine_).isExecutable())
            QSKIP("Wine is not installed (Debian: wine64); the Windows build cannot be run here.");
        if (!QFileInfo::exists(lane_))
            QSKIP(qPrintable("The MinGW cross build is missing (" + lane_ +
                             "): build it with cmake --preset mingw && cmake --build --preset mingw."));
        env_ = QProcessEnvironment::systemEnvironment();
        env_.insert("WINEPREFIX", prefix_);
        env_.insert("WINEDEBUG", "-all");
        env_.insert("WINEDLLOVERRIDES", "mscoree,mshtml=");
        env_.remove("DISPLAY");
        env_.remove("WAYLAND_DISPLAY");
        QDir().mkpath(QFileInfo(prefix_).path());
        // The first start creates the prefix; one wineserver for the whole test.
        QProcess first;
        first.setProcessEnvironment(env_);
        first.start(wine_, {lane_, "try", "headroom-none"});
        QVERIFY(first.waitForFinished(300000));
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
    }

    void aClientTakesATokenAndGivesItBack()
    {
        const QString id = newRunId();
        QProcess* lane = start({"serve", id, "3"});
        QCOMPARE(line(lane), "auth=headroom-" + id + " makeflags= -j --jobserver-auth=headroom-" + id);
        QCOMPARE(ask(lane, "state"), QString("granted=0 waiting=0 inuse=0"));

        // No token given: a client finds none.
        QProcess* early = start({"try", "headroom-" + id});
        QCOMPARE(line(early), QString("opened"));
        QCOMPARE(line(early), QString("none"));
        QVERIFY(early->waitForFinished(30000));
        QCOMPARE(early->exitCode(), 1);

        QCOMPARE(ask(lane, "steer 2"), QString("granted=2 waiting=2 inuse=0"));
        QProcess* client = start({"client", "headroom-" + id});
        QCOMPARE(line(client), QString("opened"));
        QCOMPARE(line(client), QString("took"));
        QCOMPARE(ask(lane, "state"), QString("granted=2 waiting=1 inuse=1"));

        // The held token cannot be taken back until it is returned; then it is.
        QCOMPARE(ask(lane, "steer 0"), QString("granted=1 waiting=0 inuse=1"));
        client->write("\n");
        QCOMPARE(line(client), QString("returned"));
        QVERIFY(client->waitForFinished(30000));
        QCOMPARE(client->exitCode(), 0);
        QString after;
        for (int i = 0; i < 50 && after != "granted=0 waiting=0 inuse=0"; ++i) {
            QThread::msleep(100);
            after = ask(lane, "state");
        }
        QCOMPARE(after, QString("granted=0 waiting=0 inuse=0"));

        // Never past the lane's maximum.
        QCOMPARE(ask(lane, "steer 9"), QString("granted=3 waiting=3 inuse=0"));
        QProcess* late = start({"try", "headroom-" + id});
        QCOMPARE(line(late), QString("opened"));
        QCOMPARE(line(late), QString("took"));
        QCOMPARE(line(late), QString("returned"));
        QVERIFY(late->waitForFinished(30000));
        QCOMPARE(ask(lane, "state"), QString("granted=3 waiting=3 inuse=0"));
        lane->write("quit\n");
        QVERIFY(lane->waitForFinished(30000));
        QCOMPARE(lane->exitCode(), 0);
    }

    void aSecondLaneOfTheSameNameIsRefused()
    {
        const QString id = newRunId();
        QProcess* lane = start({"serve", id, "1"});
        QVERIFY(line(lane).startsWith("auth=headroom-" + id));
        QProcess* twin = start({"serve", id, "1"});
        const QString refusal = line(twin);
        QVERIFY2(refusal.contains("another program already has a semaphore"), qPrintable(refusal));
        QVERIFY(twin->waitForFinished(30000));
        QCOMPARE(twin->exitCode(), 2);
        lane->write("quit\n");
        QVERIFY(lane->waitForFinished(30000));

        // Gone with its last handle: nobody can open it now.
        QProcess* after = start({"try", "headroom-" + id});
        QVERIFY(line(after).startsWith("cannot open"));
        QVERIFY(after->waitForFinished(30000));
    }

    void theLedgerTakesUpdatesFromManyProcesses()
    {
        QTemporaryDir dir;
        const QString pool = windowsPath(dir.path() + "/pool");
        QList<QProcess*> writers;
        for (int w = 0; w < 3; ++w)
            writers.append(start({"pool", pool, "w" + QString::number(w), "10"}));
        for (QProcess* writer : writers)
            QCOMPARE(line(writer, 120000), QString("added"));
        QProcess* count = start({"members", pool});
        QCOMPARE(line(count), QString("members=30"));
        QVERIFY(count->waitForFinished(30000));
        QVERIFY(QFileInfo::exists(dir.path() + "/pool/pool.json"));
        QVERIFY(!QFileInfo::exists(dir.path() + "/pool/pool.json.corrupt"));

        for (QProcess* writer : writers) {
            writer->write("\n");
            QVERIFY(writer->waitForFinished(30000));
            QCOMPARE(writer->exitCode(), 0);
        }
        // Their supervisors are gone, so their members are (Wine may take a
        // moment to let go of an ended process).
        QString members;
        for (int attempt = 0; attempt < 10 && members != "members=0"; ++attempt) {
            if (attempt > 0)
                QTest::qWait(300);
            QProcess* after = start({"members", pool});
            members = line(after);
            QVERIFY(after->waitForFinished(30000));
        }
        QCOMPARE(members, QString("members=0"));
    }
};

QTEST_GUILESS_MAIN(TestWindowsLane)
#include "TestWindowsLane.moc"
