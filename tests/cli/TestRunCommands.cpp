// SPDX-License-Identifier: GPL-3.0-or-later
// `headroom-cli run` and `runs` as a user runs them, over a real supervisor,
// real commands and real signals; and the run follower every front-end reads
// a run with, over real files.
#include "headroom/Platform.h"
#include "headroom/RunFollower.h"
#include "headroom/RunsFolder.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void append(const fs::path& path, const std::string& bytes)
{
    std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
}

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Waits (generously: two cores are shared) until `done` says yes.
template <typename Done> bool waitFor(Done done, int timeoutMs = 15000)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

// A run's status as a front-end writes it, supervised by this test process
// (alive, so a follower does not call it lost).
RunStatus runningStatus(const std::string& id)
{
    RunStatus s;
    s.spec.id = id;
    s.spec.title = "test";
    s.spec.createdMs = nowMs();
    s.state = RunState::Running;
    s.startedMs = nowMs();
    s.supervisor = platform::identify(platform::currentPid())->key;
    return s;
}

struct CliRun {
    int code = -1;
    QByteArray out;
    QByteArray err;
};

// A home of its own (the default runs folder and history stay out of the
// user's), the runs folder and the history in it.
struct Scene {
    QTemporaryDir dir;
    fs::path home() const { return fs::path(dir.path().toStdString()); }
    fs::path runs() const { return home() / "runs"; }
    QString runsArg() const { return QString::fromStdString(runs().string()); }
    QString historyArg() const { return QString::fromStdString((home() / "history.sqlite").string()); }

    void prepare(QProcess& p) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("HOME", dir.path());
        env.insert("XDG_DATA_HOME", dir.path() + "/data");
        env.remove("HEADROOM_RUNS_DIR");
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(dir.path());
    }

    // `run --runs-dir R --history H OPTIONS -- COMMAND...`
    QStringList runArgs(const QStringList& options, const QStringList& command) const
    {
        return QStringList{"run", "--runs-dir", runsArg(), "--history", historyArg()} + options +
               QStringList{"--"} + command;
    }

    CliRun cli(const QStringList& args, int timeoutMs = 60000) const
    {
        QProcess p;
        prepare(p);
        p.start(QStringLiteral(HEADROOM_CLI_BIN), args);
        CliRun run;
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

    // The one run in the folder, once it has one.
    std::optional<RunEntry> onlyRun() const
    {
        const auto entries = listRuns(runs());
        if (entries.size() != 1 || !entries.front().status)
            return std::nullopt;
        return entries.front();
    }

    // Waits until the only run is running with its command started.
    bool waitUntilRunning() const
    {
        return waitFor([&] {
            const auto run = onlyRun();
            return run && run->status->state == RunState::Running && run->status->currentRoot();
        });
    }

    fs::path file(const char* name) const { return home() / name; }
};

// `headroom-cli ARGS` on a terminal of its own (a pseudo-terminal the test
// holds the other end of), as a person runs it: Ctrl+C typed there reaches it.
struct TerminalRun {
    pid_t pid = -1;
    int master = -1;
    std::string seen; // everything it wrote to the terminal

    bool start(const QStringList& args, const QString& workingDir)
    {
        master = ::posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
            return false;
        const std::string slave = ::ptsname(master);
        std::vector<std::string> words{HEADROOM_CLI_BIN};
        for (const QString& a : args)
            words.push_back(a.toStdString());
        std::vector<char*> argv;
        for (auto& w : words)
            argv.push_back(w.data());
        argv.push_back(nullptr);
        const std::string dir = workingDir.toStdString();
        pid = ::fork();
        if (pid == 0) {
            ::setsid();
            const int tty = ::open(slave.c_str(), O_RDWR); // the session's controlling terminal
            if (tty < 0 || ::chdir(dir.c_str()) != 0)
                ::_exit(127);
            ::dup2(tty, 0);
            ::dup2(tty, 1);
            ::dup2(tty, 2);
            ::close(master);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        return pid > 0;
    }

    // Reads what it wrote until `needle` shows up (true) or the time is over.
    bool readUntil(const std::string& needle, int timeoutMs = 15000)
    {
        QElapsedTimer timer;
        timer.start();
        while (seen.find(needle) == std::string::npos) {
            if (timer.elapsed() > timeoutMs)
                return false;
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                char buffer[4096];
                const auto n = ::read(master, buffer, sizeof buffer);
                if (n <= 0)
                    return seen.find(needle) != std::string::npos;
                seen.append(buffer, std::size_t(n));
            }
        }
        return true;
    }

    void type(const std::string& keys)
    {
        [[maybe_unused]] auto n = ::write(master, keys.data(), keys.size());
    }

    // Its exit code, once it has exited (draining the terminal meanwhile).
    std::optional<int> wait(int timeoutMs = 30000)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                readUntil("\x01never", 200);
                return WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
            }
            readUntil("\x01never", 100);
        }
        return std::nullopt;
    }

    ~TerminalRun()
    {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (master >= 0)
            ::close(master);
    }
};

} // namespace

class TestRunCommands : public QObject {
    Q_OBJECT

  private slots:
    // ---- The follower, over files written by the test ----

    void followerReturnsALogWrittenInPiecesInOrder()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "pieces");
        QVERIFY(writeStatusAtomically(files.status, runningStatus("pieces")));
        RunFollower follower(runs, "pieces");

        auto first = follower.poll();
        QVERIFY(first.status);
        QCOMPARE(first.status->state, RunState::Running);
        QVERIFY(first.logBytes.empty()); // no log yet
        QVERIFY(!follower.done());

        std::string written;
        std::string read;
        const std::vector<std::string> pieces = {
            "   Compiling a v0.1.0\n", "half a li",           "ne\n", "\xE6\x9E",
            "\x84 \x1b]0;raw\x07\n",   std::string(3000, 'x')};
        for (const std::string& piece : pieces) {
            append(files.log, piece);
            written += piece;
            read += follower.poll().logBytes;
            QCOMPARE(read, written); // each poll brings what was appended since
        }
        // At most maxBytes a poll: the rest comes with the next ones, in order.
        append(files.log, std::string(10000, 'y') + "\nend\n");
        written += std::string(10000, 'y') + "\nend\n";
        int polls = 0;
        for (auto u = follower.poll(1000); !u.logBytes.empty(); u = follower.poll(1000)) {
            QVERIFY(u.logBytes.size() <= 1000);
            read += u.logBytes;
            ++polls;
        }
        QCOMPARE(polls, 11);
        QCOMPARE(read, written);
        QVERIFY(!follower.done()); // still running

        RunStatus finished = runningStatus("pieces");
        finished.state = RunState::Finished;
        QVERIFY(writeStatusAtomically(files.status, finished));
        append(files.log, "last\n");
        const auto last = follower.poll();
        QVERIFY(last.status);
        QCOMPARE(last.status->state, RunState::Finished);
        QCOMPARE(last.logBytes, std::string("last\n"));
        QVERIFY(follower.done());
    }

    void followerReportsAStatusOnlyWhenItChanges()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "changes");
        RunStatus s = runningStatus("changes");
        QVERIFY(writeStatusAtomically(files.status, s));
        RunFollower follower(runs, "changes");
        QVERIFY(follower.poll().status);
        QVERIFY(!follower.poll().status);
        QVERIFY(writeStatusAtomically(files.status, s)); // rewritten, the same
        QVERIFY(!follower.poll().status);
        s.done = 7;
        s.total = 40;
        QVERIFY(writeStatusAtomically(files.status, s));
        const auto changed = follower.poll();
        QVERIFY(changed.status);
        QCOMPARE(changed.status->done, 7u);
        QCOMPARE(follower.status()->total, 40u);
        QVERIFY(changed.problem.empty());
    }

    void followerSkipsToTheTailAtALineStart()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "tail");
        QVERIFY(writeStatusAtomically(files.status, runningStatus("tail")));
        std::string log;
        for (int i = 0; i < 500; ++i)
            log += "line " + std::to_string(i) + " of the build\n";
        append(files.log, log);

        for (const std::uint64_t tail : {std::uint64_t(1), std::uint64_t(57), std::uint64_t(100),
                                         std::uint64_t(1000), std::uint64_t(4321)}) {
            RunFollower follower(runs, "tail");
            follower.skipToTail(tail);
            std::string read;
            for (auto u = follower.poll(); !u.logBytes.empty(); u = follower.poll())
                read += u.logBytes;
            QVERIFY2(read.size() <= tail, qPrintable(QString::number(tail)));
            QVERIFY(log.ends_with(read));
            // A line's start: the byte before it ends a line (or it is the whole tail).
            const std::size_t at = log.size() - read.size();
            QVERIFY2(read.empty() || log[at - 1] == '\n', qPrintable(QString::number(tail)));
            QVERIFY2(read.empty() || read.starts_with("line "), read.c_str());
            // It is the longest such tail: the previous line would not have fitted.
            const std::size_t previous = log.rfind('\n', at - 2);
            QVERIFY(log.size() - (previous + 1) > tail);
        }
        // A tail at least as long as the log: all of it.
        RunFollower whole(runs, "tail");
        whole.skipToTail(log.size() + 10);
        QCOMPARE(whole.poll().logBytes, log);
        // The tail starting just after a line break is kept whole.
        RunFollower exact(runs, "tail");
        const std::string lastLine = "line 499 of the build\n";
        exact.skipToTail(lastLine.size());
        QCOMPARE(exact.poll().logBytes, lastLine);
    }

    void followerReportsACorruptStatusAndMovesItAside()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "broken");
        std::ofstream(files.status) << "{\"version\": 1, \"spec\": {\"id\": \"broken\"";
        append(files.log, "some output\n");
        RunFollower follower(runs, "broken");
        const auto u = follower.poll();
        QVERIFY(!u.status);
        QVERIFY2(u.problem.find("moved aside") != std::string::npos, u.problem.c_str());
        QCOMPARE(follower.statusProblem(), u.problem);
        QVERIFY(!fs::exists(files.status));
        fs::path aside = files.status;
        aside += ".corrupt";
        QVERIFY(fs::exists(aside));
        QCOMPARE(u.logBytes, std::string("some output\n")); // the log still reads
        // Said once, not at every poll; and the follower never claims the run done.
        const auto again = follower.poll();
        QVERIFY(again.problem.empty());
        QVERIFY(!follower.statusProblem().empty());
        QVERIFY(!follower.done());
    }

    void followerSeesALostSupervisor()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "lost");
        RunStatus s = runningStatus("lost");
        s.supervisor->startTime += 12345; // this pid, another process: gone
        QVERIFY(writeStatusAtomically(files.status, s));
        RunFollower follower(runs, "lost");
        std::string problem;
        QVERIFY(waitFor(
            [&] {
                const auto u = follower.poll();
                if (!u.problem.empty())
                    problem = u.problem;
                return follower.status() && follower.status()->state == RunState::SupervisorLost;
            },
            5000));
        QVERIFY2(problem.find("supervisor") != std::string::npos, problem.c_str());
        QVERIFY(follower.done());
        // The status file says so too, for every other reader.
        QCOMPARE(readStatusFile(files.status).value().state, RunState::SupervisorLost);
    }

    // ---- headroom-cli run / runs, end to end ----

    void runExitsWithTheCommandsCode()
    {
        Scene scene;
        const CliRun run =
            scene.cli(scene.runArgs({}, {"sh", "-c", "echo out-line; echo err-line >&2; exit 3"}));
        QCOMPARE(run.code, 3);
        QVERIFY2(run.out.contains("out-line\n"), run.out.constData());
        QVERIFY2(run.out.contains("err-line\n"), run.out.constData()); // the combined log
        const auto entry = scene.onlyRun();
        QVERIFY(entry);
        const RunStatus& s = *entry->status;
        QCOMPARE(s.state, RunState::Finished);
        QCOMPARE(s.exitCode, std::optional<int>(3));
        QCOMPARE(s.spec.origin, RunOrigin::Command);
        QCOMPARE(s.spec.targetKind, std::string("command"));
        QCOMPARE(s.spec.targetName, std::string("sh"));
        QCOMPARE(fs::path(s.spec.project), scene.home());
        QCOMPARE(s.spec.steps.size(), std::size_t(1));
        QCOMPARE(s.spec.steps[0].program, std::string("sh"));
        QVERIFY(s.spec.title.starts_with("sh -c "));
        // The summary names the log.
        const std::string log = RunFiles::of(scene.runs(), s.spec.id).log.string();
        QVERIFY2(run.err.contains(QByteArray::fromStdString("Log: " + log)), run.err.constData());
        // A success exits 0; the command's own options pass through untouched.
        const CliRun ok =
            scene.cli(QStringList{"run", "--runs-dir", scene.runsArg(), "--history", scene.historyArg(), "sh",
                                  "-c", "echo \"$@\"", "x", "--detach", "--", "-q"});
        QCOMPARE(ok.code, 0);
        QVERIFY2(ok.out.contains("--detach -- -q\n"), ok.out.constData());
    }

    // After a success the then-run command runs, and its exit code is the
    // run's; a history path given relative to here is recorded here.
    void thenRunGivesTheExitCodeAndHistoryIsRecorded()
    {
        Scene scene;
        const CliRun run = scene.cli({"run", "--runs-dir", scene.runsArg(), "--history", "rel.sqlite",
                                      "--then-run", "sh -c 'echo then-ran; exit 5'", "--", "echo", "built"});
        QCOMPARE(run.code, 5);
        QVERIFY2(run.out.contains("built\n"), run.out.constData());
        QVERIFY2(run.out.contains("then-ran\n"), run.out.constData());
        const auto entry = scene.onlyRun();
        QVERIFY(entry);
        QCOMPARE(entry->status->thenRunExitCode, std::optional<int>(5));
        const fs::path inbox = scene.home() / "rel.sqlite.inbox" / (entry->status->spec.id + ".json");
        QVERIFY2(waitFor([&] { return fs::exists(inbox); }, 5000), inbox.c_str());
        const QJsonObject record =
            QJsonDocument::fromJson(QByteArray::fromStdString(readAll(inbox))).object();
        QCOMPARE(record.value("runId").toString().toStdString(), entry->status->spec.id);
    }

    void runFiltersTerminalControlButKeepsTheLogRaw()
    {
        Scene scene;
        const CliRun run = scene.cli(scene.runArgs(
            {}, {"printf", "\\033]0;owned title\\007\\033[2J\\033[10;5H\\033[1;31mred\\033[0m plain\\n"}));
        QCOMPARE(run.code, 0);
        QVERIFY2(run.out.contains("\x1b[1;31mred\x1b[0m plain\n"), run.out.constData());
        QVERIFY(!run.out.contains("\x1b]"));
        QVERIFY(!run.out.contains("owned title"));
        QVERIFY(!run.out.contains("\x1b[2J"));
        QVERIFY(!run.out.contains("\x1b[10;5H"));
        const auto entry = scene.onlyRun();
        QVERIFY(entry);
        const std::string log = readAll(RunFiles::of(scene.runs(), entry->status->spec.id).log);
        QVERIFY(log.find("\x1b]0;owned title\x07\x1b[2J\x1b[10;5H\x1b[1;31mred\x1b[0m plain\n") !=
                std::string::npos);
    }

    void detachedRunIsListedAndStopped()
    {
        Scene scene;
        QElapsedTimer timer;
        timer.start();
        const CliRun started = scene.cli(scene.runArgs({"--detach"}, {"sh", "-c", "sleep 30; true"}));
        QCOMPARE(started.code, 0);
        QVERIFY(timer.elapsed() < 15000);
        const QList<QByteArray> lines = started.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const std::string id = lines[0].toStdString();
        QVERIFY(isValidRunId(id));
        const RunFiles files = RunFiles::of(scene.runs(), id);
        QCOMPARE(lines[1].toStdString(), files.log.string());
        QVERIFY(scene.waitUntilRunning());
        const RunStatus running = *scene.onlyRun()->status;
        const ProcessKey root = *running.currentRoot();
        QVERIFY(platform::isAlive(root));
        std::optional<ProcessKey> sleeper;
#ifdef __linux__
        QVERIFY(waitFor([&] {
            const std::string children = readAll("/proc/" + std::to_string(root.pid) + "/task/" +
                                                 std::to_string(root.pid) + "/children");
            if (children.empty())
                return false;
            const auto identity = platform::identify(Pid(std::stol(children)));
            if (identity)
                sleeper = identity->key;
            return identity.has_value();
        }));
#endif

        const CliRun list = scene.cli({"runs", "--runs-dir", scene.runsArg()});
        QCOMPARE(list.code, 0);
        const QString listed = QString::fromUtf8(list.out);
        const auto line = listed.split('\n').filter(QString::fromStdString(id));
        QCOMPARE(line.size(), 1);
        QVERIFY2(line[0].contains(" running "), qPrintable(listed));
        QVERIFY2(line[0].contains(QString::fromStdString(files.log.string())), qPrintable(listed));
        QVERIFY2(line[0].contains("sh -c 'sleep 30; true'"), qPrintable(listed));

        const CliRun json = scene.cli({"runs", "--json", "--runs-dir", scene.runsArg()});
        QCOMPARE(json.code, 0);
        const QJsonObject doc = QJsonDocument::fromJson(json.out).object();
        QCOMPARE(doc.value("schema").toString(), QString("headroom.runs"));
        QCOMPARE(doc.value("version").toInt(), 1);
        const QJsonArray runs = doc.value("runs").toArray();
        QCOMPARE(runs.size(), 1);
        const QJsonObject r = runs[0].toObject();
        QCOMPARE(r.value("id").toString().toStdString(), id);
        QCOMPARE(r.value("state").toString(), QString("running"));
        QCOMPARE(r.value("log").toString().toStdString(), files.log.string());
        QCOMPARE(r.value("root_pid").toInteger(), qint64(root.pid));
        QVERIFY(r.value("supervisor_alive").toBool());

        // The id given after `stop`, the folder after it: the same run.
        timer.restart();
        const CliRun stop =
            scene.cli({"runs", "stop", QString::fromStdString(id), "--runs-dir", scene.runsArg()});
        QCOMPARE(stop.code, 0);
        QVERIFY2(stop.out.contains("stop"), stop.out.constData());
        QVERIFY(timer.elapsed() < running.spec.graceMs + 10000);
        QVERIFY(!platform::isAlive(root));
        if (sleeper)
            QVERIFY(waitFor([&] { return !platform::isAlive(*sleeper); }, 5000));
        const RunStatus after = readStatusFile(files.status).value();
        QCOMPARE(after.state, RunState::Finished);
        QVERIFY(after.diagnosis);
        QCOMPARE(after.diagnosis->verdict, BuildVerdict::Cancelled);
        QVERIFY(after.stopRequested);

        // Stopping it again: it has finished already.
        const CliRun again =
            scene.cli({"runs", "stop", QString::fromStdString(id), "--runs-dir", scene.runsArg()});
        QCOMPARE(again.code, 3);
        QVERIFY2(again.err.contains("ended already"), again.err.constData());
        const CliRun listedAfter = scene.cli({"runs", "--runs-dir", scene.runsArg()});
        QVERIFY2(listedAfter.out.contains("finished: cancelled"), listedAfter.out.constData());
    }

    void interruptLeavesTheRunGoing()
    {
        Scene scene;
        const fs::path done = scene.file("DONE");
        QProcess front;
        scene.prepare(front);
        front.start(QStringLiteral(HEADROOM_CLI_BIN),
                    scene.runArgs({"--on-interrupt", "leave"}, {"sh", "-c", "sleep 3; touch DONE"}));
        QVERIFY(front.waitForStarted());
        QVERIFY(scene.waitUntilRunning());
        ::kill(Pid(front.processId()), SIGINT);
        QVERIFY(front.waitForFinished(10000));
        QCOMPARE(front.exitCode(), 130);
        const QByteArray err = front.readAllStandardError();
        QVERIFY2(
            err.contains("The run goes on: " + QByteArray::fromStdString(scene.onlyRun()->status->spec.id)),
            err.constData());
        QVERIFY2(err.contains("runs`, log: "), err.constData());
        QVERIFY(!fs::exists(done));                         // the front-end left before the command ended...
        QVERIFY(waitFor([&] { return fs::exists(done); })); // ...and the command went on
        QVERIFY(waitFor([&] { return scene.onlyRun()->status->state == RunState::Finished; }));
        QCOMPARE(scene.onlyRun()->status->diagnosis->verdict, BuildVerdict::Succeeded);
    }

    void interruptStopsTheRun_data()
    {
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QByteArray>("says");
        QTest::newRow("stop") << QStringList{"--on-interrupt", "stop"} << QByteArray("to stop");
        // Ask, with no terminal to ask on: stop, and say why.
        QTest::newRow("ask without a terminal") << QStringList{} << QByteArray("not a terminal");
    }

    void interruptStopsTheRun()
    {
        QFETCH(QStringList, options);
        QFETCH(QByteArray, says);
        Scene scene;
        const fs::path done = scene.file("DONE");
        QProcess front;
        scene.prepare(front);
        front.start(QStringLiteral(HEADROOM_CLI_BIN),
                    scene.runArgs(options, {"sh", "-c", "sleep 3; touch DONE"}));
        QVERIFY(front.waitForStarted());
        QVERIFY(scene.waitUntilRunning());
        ::kill(Pid(front.processId()), SIGINT);
        QVERIFY(front.waitForFinished(20000));
        // It follows the run to its end: killed by SIGTERM, 128 + 15.
        QCOMPARE(front.exitCode(), 143);
        const QByteArray err = front.readAllStandardError();
        QVERIFY2(err.contains(says), err.constData());
        const RunStatus s = *scene.onlyRun()->status;
        QCOMPARE(s.state, RunState::Finished);
        QCOMPARE(s.diagnosis->verdict, BuildVerdict::Cancelled);
        QVERIFY(!platform::isAlive(*s.currentRoot()));
        std::this_thread::sleep_for(std::chrono::seconds(4));
        QVERIFY(!fs::exists(done));
    }

    // Ctrl+C on a terminal asks; the answer is done: leave, stop, or a second
    // Ctrl+C (stop), after an answer it does not know (asked again).
    void interruptOnATerminalAsks_data()
    {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<int>("code");
        QTest::addColumn<bool>("runGoesOn");
        QTest::newRow("leave") << "l\n" << 130 << true;
        QTest::newRow("stop") << "s\n" << 143 << false;
        QTest::newRow("unknown, then stop") << "maybe\nstop\n" << 143 << false;
        QTest::newRow("second Ctrl+C") << "\x03" << 143 << false;
    }

    void interruptOnATerminalAsks()
    {
        QFETCH(QString, answer);
        QFETCH(int, code);
        QFETCH(bool, runGoesOn);
        Scene scene;
        TerminalRun front;
        QVERIFY(front.start(scene.runArgs({}, {"sh", "-c", "echo started; sleep 3; touch DONE"}),
                            scene.dir.path()));
        QVERIFY(front.readUntil("started"));
        QVERIFY(scene.waitUntilRunning());
        front.type("\x03"); // Ctrl+C, as the terminal's line discipline sends SIGINT
        QVERIFY2(front.readUntil("Stop the run (s) or leave it running (l)? [s/l]"), front.seen.c_str());
        front.type(answer.toStdString());
        const auto exit = front.wait();
        QVERIFY2(exit, front.seen.c_str());
        QCOMPARE(*exit, code);
        if (answer.startsWith("maybe"))
            QVERIFY(front.seen.find("[s/l]", front.seen.find("maybe")) != std::string::npos); // asked again
        const fs::path done = scene.file("DONE");
        if (runGoesOn) {
            QVERIFY2(front.seen.find("The run goes on") != std::string::npos, front.seen.c_str());
            QVERIFY(waitFor([&] { return fs::exists(done); }));
        } else {
            QCOMPARE(scene.onlyRun()->status->diagnosis->verdict, BuildVerdict::Cancelled);
            std::this_thread::sleep_for(std::chrono::seconds(4));
            QVERIFY(!fs::exists(done));
        }
    }

    void terminateSignalLeavesTheRunGoing()
    {
        Scene scene;
        const fs::path done = scene.file("DONE");
        QProcess front;
        scene.prepare(front);
        front.start(QStringLiteral(HEADROOM_CLI_BIN),
                    scene.runArgs({"--on-interrupt", "stop"}, {"sh", "-c", "sleep 3; touch DONE"}));
        QVERIFY(front.waitForStarted());
        QVERIFY(scene.waitUntilRunning());
        ::kill(Pid(front.processId()), SIGTERM);
        QVERIFY(front.waitForFinished(10000));
        QCOMPARE(front.exitStatus(), QProcess::NormalExit);
        QCOMPARE(front.exitCode(), 143);
        QVERIFY(front.readAllStandardError().contains("The run goes on"));
        QVERIFY(waitFor([&] { return fs::exists(done); }));
    }

    void runsListsACorruptStatus()
    {
        Scene scene;
        fs::create_directories(scene.runs());
        const fs::path status = scene.runs() / "20260101-000000-1-abcd.json";
        std::ofstream(status) << "{ not json";
        const CliRun list = scene.cli({"runs", "--runs-dir", scene.runsArg()});
        QCOMPARE(list.code, 0);
        QVERIFY2(list.out.contains("20260101-000000-1-abcd.json  corrupt: "), list.out.constData());
        QVERIFY(list.out.contains("moved aside"));
        fs::path aside = status;
        aside += ".corrupt";
        QVERIFY(fs::exists(aside));
        QVERIFY(!fs::exists(status));
        // An empty folder says so.
        const CliRun empty = scene.cli({"runs", "--runs-dir", scene.runsArg()});
        QCOMPARE(empty.code, 0);
        QVERIFY2(empty.out.startsWith("No runs in "), empty.out.constData());
    }

    // A title, a problem and a project come from what a process controls:
    // `runs` shows them without letting them drive the terminal.
    void runsShowsHostileTextSafely()
    {
        Scene scene;
        RunStatus s = runningStatus("20260101-000000-2-evil");
        s.spec.title = "cargo \x1b]0;owned\x07build \xe2\x80\xae\x1b[2J" + std::string(500, 'x');
        s.state = RunState::Finished;
        s.problem = "bad\x1b[31m\nsecond line";
        s.diagnosis = BuildDiagnosis{};
        s.diagnosis->verdict = BuildVerdict::Failed;
        QVERIFY(writeStatusAtomically(RunFiles::of(scene.runs(), s.spec.id).status, s));
        const CliRun list = scene.cli({"runs", "--runs-dir", scene.runsArg()});
        QCOMPARE(list.code, 0);
        QVERIFY2(list.out.contains("20260101-000000-2-evil  finished: failed"), list.out.constData());
        QVERIFY(!list.out.contains('\x1b'));
        QVERIFY(!list.out.contains("\xe2\x80\xae"));
        QVERIFY(list.out.size() < 400); // the title is cut
        const CliRun stop =
            scene.cli({"runs", "stop", "20260101-000000-2-evil", "--runs-dir", scene.runsArg()});
        QCOMPARE(stop.code, 3);
        QVERIFY(!stop.err.contains('\x1b'));
        QVERIFY2(stop.err.contains("  second line"), stop.err.constData());
        // JSON escapes it instead.
        const CliRun json = scene.cli({"runs", "--json", "--runs-dir", scene.runsArg()});
        QVERIFY(!json.out.contains('\x1b'));
        const QJsonObject r =
            QJsonDocument::fromJson(json.out).object().value("runs").toArray()[0].toObject();
        QCOMPARE(r.value("title").toString().toStdString(), s.spec.title);
    }

    void runsStopSaysWhenThereIsNothingToStop()
    {
        Scene scene;
        QCOMPARE(scene.cli(scene.runArgs({}, {"true"})).code, 0);
        const std::string id = scene.onlyRun()->status->spec.id;
        const CliRun finished =
            scene.cli({"runs", "--runs-dir", scene.runsArg(), "stop", QString::fromStdString(id)});
        QCOMPARE(finished.code, 3);
        const CliRun unknown =
            scene.cli({"runs", "--runs-dir", scene.runsArg(), "stop", "20990101-000000-1-zzzz"});
        QCOMPARE(unknown.code, 1);
        QVERIFY2(unknown.err.contains("There is no run"), unknown.err.constData());
        const CliRun hostile = scene.cli({"runs", "--runs-dir", scene.runsArg(), "stop", "../../etc/passwd"});
        QCOMPARE(hostile.code, 1);
        QVERIFY2(hostile.err.contains("is not a run id"), hostile.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestRunCommands)
#include "TestRunCommands.moc"
