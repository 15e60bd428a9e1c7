// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/CommandLine.h"

#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <csignal>

using headroom::app::parseCommandLine;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runDashboard(const QStringList& args, const QProcessEnvironment& env, int timeoutMs = 60000)
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(HEADROOM_DASHBOARD_BIN), args);
    Run run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        run.err = QStringLiteral("timed out");
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

// A private home so the runs neither read nor write the user's settings and log.
QProcessEnvironment isolated(const QTemporaryDir& home)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    return env;
}

} // namespace

class TestHeadroomCommandLine : public QObject {
    Q_OBJECT

  private slots:
    void parsesTheDashboardOptions()
    {
        auto parsed =
            parseCommandLine({"headroom", "--interval", "2.5", "--screenshot", "/tmp/x.png", "--after", "5"});
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.options.intervalSeconds.value_or(0), 2.5);
        QCOMPARE(parsed.options.screenshotPath, QStringLiteral("/tmp/x.png"));
        QCOMPARE(parsed.options.screenshotAfter, 5);
        QCOMPARE(parsed.options.windowSize, QSize(1366, 768)); // screenshots default to a laptop screen

        QVERIFY(!parseCommandLine({"headroom", "--interval", "0.1"}).error.isEmpty());
        QVERIFY(!parseCommandLine({"headroom", "--interval", "fast"}).error.isEmpty());
        QVERIFY(!parseCommandLine({"headroom", "--after", "3"}).error.isEmpty()); // without --screenshot
        QVERIFY(!parseCommandLine({"headroom", "--size", "huge"}).error.isEmpty());
        QVERIFY(!parseCommandLine({"headroom", "--color-scheme", "purple"}).error.isEmpty());
        QVERIFY(!parseCommandLine({"headroom", "frobnicate"}).error.isEmpty());
        QVERIFY(!parseCommandLine({"headroom", "--no-such-option"}).error.isEmpty());
        // Qt's own options are for QApplication.
        QVERIFY(parseCommandLine({"headroom", "-platform", "offscreen"}).error.isEmpty());
        QCOMPARE(parseCommandLine({"headroom", "--color-scheme", "Dark"}).options.colorScheme,
                 QStringLiteral("dark"));
    }

    void screenshotRendersTheWholeWindow()
    {
        QTemporaryDir home;
        const QString png = home.filePath(QStringLiteral("dashboard.png"));
        const Run run =
            runDashboard({"--screenshot", png, "--after", "2", "--interval", "0.5"}, isolated(home));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(1366, 768));
        // Not a blank canvas: the picture holds many colours (text, charts, the level tile).
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7) {
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY2(colours.size() > 50, qPrintable(QString::number(colours.size())));
        // The run is in the log, in the app-data folder.
        QFile log(home.filePath(QStringLiteral("data/headroom/headroom.log")));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(log.readAll().contains("screenshot 1366x768 written"));
    }

    void cliCommandsRunWithoutADisplay()
    {
        QTemporaryDir home;
        QProcessEnvironment env = isolated(home);
        // A GUI platform with no display to open: QApplication would abort.
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        const Run sample = runDashboard({"sample"}, env);
        QVERIFY2(sample.exitCode == 0, qPrintable(sample.err));
        QVERIFY2(sample.out.contains(QStringLiteral("Memory")), qPrintable(sample.out));
        const Run top = runDashboard({"top"}, env);
        QCOMPARE(top.exitCode, 0);
        QVERIFY(!top.out.isEmpty());
        const Run version = runDashboard({"--version"}, env);
        QCOMPARE(version.exitCode, 0);
        QVERIFY(version.out.startsWith(QStringLiteral("headroom ")));
        const Run help = runDashboard({"--help"}, env);
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains(QStringLiteral("--screenshot")));
        const Run bad = runDashboard({"--interval", "99"}, env);
        QCOMPARE(bad.exitCode, 2);
        QVERIFY(bad.err.contains(QStringLiteral("--interval")));
    }

    void terminateSignalShutsDownInOrder()
    {
        QTemporaryDir home;
        QProcess process;
        process.setProcessEnvironment(isolated(home));
        process.start(QStringLiteral(HEADROOM_DASHBOARD_BIN),
                      {"--settings", home.filePath(QStringLiteral("headroom.conf")), "--interval", "0.5"});
        QVERIFY(process.waitForStarted());
        QFile log(home.filePath(QStringLiteral("data/headroom/headroom.log")));
        auto logText = [&log] {
            QByteArray text;
            if (log.open(QIODevice::ReadOnly)) {
                text = log.readAll();
                log.close();
            }
            return text;
        };
        QTRY_VERIFY_WITH_TIMEOUT(logText().contains("starting"), 20000);
        QTest::qWait(1500); // a few samples
        ::kill(static_cast<pid_t>(process.processId()), SIGTERM);
        QVERIFY(process.waitForFinished(15000));
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 0);
        const QByteArray text = logText();
        QVERIFY(text.contains("asked to quit by a signal"));
        QVERIFY(text.contains("Headroom exits with status 0"));
        // The window layout is saved on the way out, as on a normal quit.
        QSettings saved(home.filePath(QStringLiteral("headroom.conf")), QSettings::IniFormat);
        QVERIFY(saved.contains(QStringLiteral("window/layout")));
    }

    void settingsFileDoesNotMoveTheBuildHistory()
    {
        // `headroom build` records in the app-data folder: a window started
        // with --settings must read and write the same history.
        QTemporaryDir home;
        QDir().mkpath(home.filePath(QStringLiteral("elsewhere")));
        const QString settings = home.filePath(QStringLiteral("elsewhere/headroom.conf"));
        const QString png = home.filePath(QStringLiteral("shot.png"));
        Run run = runDashboard({"--settings", settings, "--screenshot", png, "--after", "1"}, isolated(home));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY(QFile::exists(home.filePath(QStringLiteral("data/headroom/history.sqlite"))));
        QVERIFY(!QFile::exists(home.filePath(QStringLiteral("elsewhere/history.sqlite"))));

        // Only --history moves it.
        const QString chosen = home.filePath(QStringLiteral("chosen.sqlite"));
        QCOMPARE(parseCommandLine({"headroom", "--history", chosen}).options.historyPath, chosen);
        run = runDashboard({"--settings", settings, "--history", chosen, "--screenshot", png, "--after", "1"},
                           isolated(home));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY(QFile::exists(chosen));
    }

    void damagedSettingsStillOpenTheWindow()
    {
        QTemporaryDir home;
        const QString settings = home.filePath(QStringLiteral("broken.conf"));
        QFile file(settings);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray("\x00\x01\x02 not settings \xff", 18));
        file.close();
        const QString png = home.filePath(QStringLiteral("shot.png"));
        const Run run =
            runDashboard({"--settings", settings, "--screenshot", png, "--after", "1"}, isolated(home));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY(run.err.contains(QStringLiteral("damaged")));
        QVERIFY(QFile::exists(png));
        QCOMPARE(QDir(home.path()).entryList({QStringLiteral("broken.conf.corrupt-*")}).size(), 1);
    }

    // Each bad value ends the real program at once with status 2 and a message
    // naming the option, instead of a dashboard that stops sampling (NaN), never
    // exits (an --after that overflows) or allocates tens of GB (--size).
    void badNumbersStopTheProgram_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("names");
        const QString png = QStringLiteral("/nonexistent/never-written.png");
        QTest::newRow("interval nan") << QStringList{"--interval", "nan"} << "--interval";
        QTest::newRow("interval inf") << QStringList{"--interval", "inf"} << "--interval";
        QTest::newRow("interval -nan") << QStringList{"--interval", "-nan"} << "--interval";
        QTest::newRow("after INT_MAX")
            << QStringList{"--screenshot", png, "--after", "2147483647"} << "--after";
        QTest::newRow("after 2^31") << QStringList{"--screenshot", png, "--after", "2147483648"} << "--after";
        QTest::newRow("after 0") << QStringList{"--screenshot", png, "--after", "0"} << "--after";
        QTest::newRow("size 99999x99999")
            << QStringList{"--screenshot", png, "--size", "99999x99999"} << "--size";
        QTest::newRow("size 8193x600") << QStringList{"--screenshot", png, "--size", "8193x600"} << "--size";
        QTest::newRow("size 800x99") << QStringList{"--screenshot", png, "--size", "800x099"} << "--size";
        QTest::newRow("cli stop grace nan")
            << QStringList{"stop", "1234", "--start-time", "5", "--grace", "nan"} << "--grace";
        QTest::newRow("cli sample interval nan")
            << QStringList{"sample", "--interval", "nan"} << "--interval";
    }

    void badNumbersStopTheProgram()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, names);
        QTemporaryDir home;
        const Run run = runDashboard(args, isolated(home), 20000);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(names), qPrintable(run.err));
    }

    // One definition for the whole program: every flag of the dashboard, and
    // each command with the options it was given, come out as plain values.
    void parsesEveryDashboardFlagAndEachCommand()
    {
        using Choice = headroom::app::ParsedCommandLine::Choice;
        auto parsed = parseCommandLine({"headroom", "--hidden", "--verbose", "--size", "800x600",
                                        "--settings", "/tmp/s.conf", "--color-scheme", "light"});
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.choice, Choice::Dashboard);
        QVERIFY(parsed.options.startHidden);
        QVERIFY(parsed.options.verbose);
        QCOMPARE(parsed.options.windowSize, QSize(800, 600));
        QCOMPARE(parsed.options.settingsPath, QStringLiteral("/tmp/s.conf"));
        QCOMPARE(parsed.options.colorScheme, QStringLiteral("light"));
        QVERIFY(!parsed.options.intervalSeconds);
        QCOMPARE(parseCommandLine({"headroom"}).options.windowSize, QSize()); // the default size
        QCOMPARE(parseCommandLine({"headroom"}).choice, Choice::Dashboard);

        parsed =
            parseCommandLine({"headroom",   "build",      "--project",        "/p", "--preset", "auto",
                              "-p",         "core",       "--jobs",           "4",  "--need",   "2.5",
                              "--max-used", "90",         "--oom-score-adj",  "0",  "--args",   "--offline",
                              "--then-run", "./x --fast", "--wait-for-memory"});
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.choice, Choice::Build);
        const headroom::HeadlessBuildOptions& build = parsed.commandLine->buildOptions();
        QCOMPARE(build.project, std::string("/p"));
        QCOMPARE(build.preset, std::string("auto"));
        QCOMPARE(build.package, std::string("core"));
        QCOMPARE(build.jobs.value_or(0), 4u);
        QCOMPARE(build.needGiB.value_or(0), 2.5);
        QCOMPARE(build.maxUsedPercent, 90.0);
        QCOMPARE(build.oomScoreAdj, 0);
        QCOMPARE(build.extraArgs.value_or(""), std::string("--offline"));
        QCOMPARE(build.thenRun.value_or(""), std::string("./x --fast"));
        QVERIFY(build.waitForMemory);
        const auto defaults = parseCommandLine({"headroom", "build", "--project", "/p"});
        QCOMPARE(defaults.commandLine->buildOptions().preset, std::string("A"));
        QCOMPARE(defaults.commandLine->buildOptions().oomScoreAdj, 500);
        QCOMPARE(defaults.commandLine->buildOptions().maxUsedPercent, 80.0);
        QVERIFY(!defaults.commandLine->buildOptions().jobs && !defaults.commandLine->buildOptions().needGiB);

        QCOMPARE(parseCommandLine({"headroom", "top", "-n", "5"}).choice, Choice::Command);
        // Qt's options are only looked for before a command.
        QCOMPARE(parseCommandLine({"headroom", "-platform", "offscreen", "--hidden"}).choice,
                 Choice::Dashboard);
        QCOMPARE(parseCommandLine({"headroom", "top", "-style", "x"}).choice, Choice::Exit);
    }

    // `headroom --help` lists every command with what it does and the
    // dashboard's flags; each command's --help lists its own options.
    void helpOfEachCommand_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("says");
        QTest::newRow("headroom") << QStringList{"--help"}
                                  << QStringList{"opens the dashboard",
                                                 "Print one snapshot",
                                                 "The heaviest processes",
                                                 "Pause, resume, terminate or kill",
                                                 "memory-safe preset",
                                                 "--interval",
                                                 "--screenshot",
                                                 "--after",
                                                 "--size",
                                                 "--settings",
                                                 "--history",
                                                 "--color-scheme",
                                                 "--hidden",
                                                 "--verbose",
                                                 "--version"};
        QTest::newRow("sample") << QStringList{"sample", "--help"}
                                << QStringList{"Usage: headroom sample", "Print one snapshot", "--json"};
        QTest::newRow("top") << QStringList{"top", "--help"}
                             << QStringList{"Usage: headroom top", "The heaviest processes", "--lines"};
        QTest::newRow("stop") << QStringList{"stop", "--help"}
                              << QStringList{"Usage: headroom stop", "--start-time", "Exit codes: 0 done"};
        QTest::newRow("build") << QStringList{"build", "--help"}
                               << QStringList{"Usage: headroom build",
                                              "memory-safe preset",
                                              "--project",
                                              "--preset",
                                              "--package",
                                              "--example",
                                              "--bin",
                                              "--lib",
                                              "--features",
                                              "--profile",
                                              "--args",
                                              "--then-run",
                                              "--wait-for-memory",
                                              "--max-used",
                                              "--need",
                                              "--history",
                                              "--cargo",
                                              "--jobs",
                                              "--oom-score-adj",
                                              "128 + the signal"};
    }

    void helpOfEachCommand()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, says);
        QTemporaryDir home;
        const Run run = runDashboard(args, isolated(home), 20000);
        QCOMPARE(run.exitCode, 0);
        for (const QString& words : says)
            QVERIFY2(run.out.contains(words), qPrintable(words + " in:\n" + run.out));
        if (args.size() > 1) // a command's help is about the command alone
            QVERIFY2(!run.out.contains("--screenshot"), qPrintable(run.out));
    }

    // The CLI's commands run through `headroom` exactly as through headroom-cli.
    void cliCommandsRunThroughTheDashboardProgram()
    {
        QTemporaryDir home;
        const Run json = runDashboard({"sample", "--json", "--interval", "0"}, isolated(home));
        QCOMPARE(json.exitCode, 0);
        QJsonParseError error;
        const QJsonObject root = QJsonDocument::fromJson(json.out.toUtf8(), &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        QCOMPARE(root.value("schema").toString(), QStringLiteral("headroom.snapshot"));
        QVERIFY(root.value("processes").toArray().size() > 1);

        QProcess victim;
        victim.start(QStringLiteral("sleep"), {QStringLiteral("300")});
        QVERIFY(victim.waitForStarted());
        const QString pid = QString::number(victim.processId());
        // Its start time as `headroom sample --json` tells it, the way a script finds it.
        QString startTime;
        const Run listed = runDashboard({"sample", "--json", "--interval", "0"}, isolated(home));
        for (const auto& value :
             QJsonDocument::fromJson(listed.out.toUtf8()).object().value("processes").toArray()) {
            if (value.toObject().value("pid").toInteger() == victim.processId())
                startTime = QString::number(value.toObject().value("start_time").toInteger());
        }
        QVERIFY(!startTime.isEmpty());
        const Run wrong = runDashboard({"stop", pid, "--start-time", startTime + "1"}, isolated(home));
        QCOMPARE(wrong.exitCode, 5); // refused: not the process that started then
        QCOMPARE(victim.state(), QProcess::Running);
        const Run done = runDashboard({"stop", pid, "--start-time", startTime, "--json"}, isolated(home));
        QVERIFY2(done.exitCode == 0, qPrintable(done.err));
        QVERIFY(victim.waitForFinished(10000));
        QCOMPARE(QJsonDocument::fromJson(done.out.toUtf8()).object().value("schema").toString(),
                 QStringLiteral("headroom.action"));
    }

    // Bad values and misplaced options of every kind end the real program
    // with status 2 and a message that names what is wrong, before any window
    // or build starts.
    void badArgumentsStopTheProgram_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("says");
        const QString png = QStringLiteral("/nonexistent/never-written.png");
        QTest::newRow("dashboard flag before a command")
            << QStringList{"--interval", "2", "top"} << "--interval is an option of the dashboard";
        QTest::newRow("dashboard flag after a command")
            << QStringList{"top", "--screenshot", png} << "--screenshot";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command 'frobnicate'";
        QTest::newRow("unknown option") << QStringList{"--frobnicate"} << "--frobnicate";
        QTest::newRow("screenshot empty") << QStringList{"--screenshot", ""} << "--screenshot";
        QTest::newRow("settings empty") << QStringList{"--settings", ""} << "--settings";
        QTest::newRow("interval empty") << QStringList{"--interval", ""} << "--interval";
        QTest::newRow("interval 1e0") << QStringList{"--interval", "1e0"} << "--interval";
        QTest::newRow("interval -1") << QStringList{"--interval=-1"} << "--interval";
        QTest::newRow("after -1") << QStringList{"--screenshot", png, "--after=-1"} << "--after";
        QTest::newRow("after +5") << QStringList{"--screenshot", png, "--after", "+5"} << "--after";
        QTest::newRow("size empty") << QStringList{"--size", ""} << "--size";
        QTest::newRow("color scheme empty") << QStringList{"--color-scheme", ""} << "--color-scheme";
        QTest::newRow("hidden with screenshot") << QStringList{"--hidden", "--screenshot", png} << "--hidden";
        QTest::newRow("build without project") << QStringList{"build"} << "--project DIR is required";
        QTest::newRow("build project empty") << QStringList{"build", "--project", ""} << "--project";
        QTest::newRow("build unknown option")
            << QStringList{"build", "--project", "/tmp", "--frobnicate"} << "--frobnicate";
        QTest::newRow("build preset Z")
            << QStringList{"build", "--project", "/tmp", "--preset", "Z"} << "unknown preset \"Z\"";
        QTest::newRow("build jobs +4")
            << QStringList{"build", "--project", "/tmp", "--jobs", "+4"} << "--jobs";
        QTest::newRow("build jobs 1025")
            << QStringList{"build", "--project", "/tmp", "--jobs", "1025"} << "--jobs";
        QTest::newRow("build need nan")
            << QStringList{"build", "--project", "/tmp", "--need", "nan"} << "--need";
        QTest::newRow("build need 0") << QStringList{"build", "--project", "/tmp", "--need", "0"} << "--need";
        QTest::newRow("build max-used 1e2")
            << QStringList{"build", "--project", "/tmp", "--max-used", "1e2"} << "--max-used";
        QTest::newRow("build max-used empty")
            << QStringList{"build", "--project", "/tmp", "--max-used", ""} << "--max-used";
        QTest::newRow("build oom-score-adj 1001")
            << QStringList{"build", "--project", "/tmp", "--oom-score-adj", "1001"} << "--oom-score-adj";
        QTest::newRow("build args quote")
            << QStringList{"build", "--project", "/tmp", "--args", "\"--offline"} << "--args";
        QTest::newRow("build then-run empty")
            << QStringList{"build", "--project", "/tmp", "--then-run", ""} << "--then-run";
        QTest::newRow("build cargo empty")
            << QStringList{"build", "--project", "/tmp", "--cargo", ""} << "--cargo";
        QTest::newRow("top lines nan") << QStringList{"top", "-n", "nan"} << "--lines";
        QTest::newRow("stop start empty")
            << QStringList{"stop", "1234", "--start-time", ""} << "--start-time";
    }

    void badArgumentsStopTheProgram()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, says);
        QTemporaryDir home;
        const Run run = runDashboard(args, isolated(home), 20000);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(says), qPrintable(run.err));
        QVERIFY2(run.err.contains(QStringLiteral("headroom")), qPrintable(run.err));
        QVERIFY(
            !QFile::exists(home.filePath(QStringLiteral("data/headroom/headroom.log")))); // no window started
    }

    void largestSizesAreStillAccepted()
    {
        const auto parsed = parseCommandLine({"headroom", "--screenshot", "/tmp/x.png", "--size", "8192x100",
                                              "--after", "100000", "--interval", "10"});
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.options.windowSize, QSize(8192, 100));
        QCOMPARE(parsed.options.screenshotAfter, 100000);
    }
};

QTEST_GUILESS_MAIN(TestHeadroomCommandLine)
#include "TestHeadroomCommandLine.moc"
