// SPDX-License-Identifier: GPL-3.0-or-later
// The build supervisor as front-ends start it: `headroom-cli supervise
// STATUS-FILE` on a run written in state Starting, with real commands, real
// files and real signals; and what it stands on (ChildProcess, startDetached,
// the run observer).
#include "headroom/ChildProcess.h"
#include "headroom/Platform.h"
#include "headroom/RunObserver.h"
#include "headroom/RunsFolder.h"
#include "headroom/UserScope.h"
#include "support/CargoWorkspace.h"
#include "support/SnapshotBuilder.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeFile(const fs::path& path, const std::string& text, bool executable = false)
{
    std::ofstream(path, std::ios::binary) << text;
    if (executable)
        ::chmod(path.c_str(), 0755);
}

BuildStep shellStep(const std::string& script, const std::string& dir)
{
    BuildStep step;
    step.title = "Run";
    step.program = "sh";
    step.args = {"-c", script};
    step.workingDir = dir;
    return step;
}

// A runs folder of its own, where the one-time note about scopes was said already.
struct Runs {
    QTemporaryDir temp;
    fs::path dir;
    explicit Runs(bool noteSaid = true)
    {
        dir = fs::path(temp.path().toStdString()) / "runs";
        fs::create_directories(dir);
        if (noteSaid)
            writeFile(dir / ".no-user-scope", "said\n");
    }
    fs::path root() const { return dir.parent_path(); }

    RunStatus spec(std::vector<BuildStep> steps) const
    {
        RunStatus s;
        s.spec.id = newRunId();
        s.spec.title = "test";
        s.spec.project = root().string();
        s.spec.request.projectDir = root().string();
        s.spec.steps = std::move(steps);
        s.spec.historyPath = (root() / "history.sqlite").string();
        s.spec.graceMs = 1000;
        s.spec.createdMs = QDateTime::currentMSecsSinceEpoch();
        return s;
    }
    fs::path write(const RunStatus& s) const
    {
        const fs::path path = RunFiles::of(dir, s.spec.id).status;
        const auto written = writeStatusAtomically(path, s);
        if (!written)
            qFatal("%s", written.error().c_str());
        return path;
    }
    RunFiles files(const RunStatus& s) const { return RunFiles::of(dir, s.spec.id); }
    RunStatus read(const RunStatus& s) const
    {
        auto r = readStatusFile(files(s).status);
        if (!r)
            qFatal("%s", r.error().c_str());
        return r.value();
    }
};

struct Supervised {
    int code = -1;
    QString err;
};

Supervised superviseToEnd(const fs::path& statusPath, int timeoutMs = 60000)
{
    QProcess p;
    p.start(QStringLiteral(HEADROOM_CLI_BIN), {"supervise", QString::fromStdString(statusPath.string())});
    Supervised run;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return run;
    }
    run.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.err = QString::fromUtf8(p.readAllStandardError());
    return run;
}

// Waits until the supervisor runs the step and says so: its root is known.
std::optional<RunStatus> waitForRoot(const Runs& runs, const RunStatus& s, int timeoutMs = 20000)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (auto r = readStatusFile(runs.files(s).status);
            r && r->state == RunState::Running && r->currentRoot())
            return r.value();
        QTest::qWait(50);
    }
    return std::nullopt;
}

std::vector<ProcessKey> treeOf(Pid root)
{
    std::vector<ProcessKey> keys;
    const auto all = platform::listIdentities();
    std::set<Pid> members{root};
    bool grew = true;
    while (grew) {
        grew = false;
        for (const auto& p : all) {
            if (!members.count(p.key.pid) && members.count(p.parentPid)) {
                members.insert(p.key.pid);
                grew = true;
            }
        }
    }
    for (const auto& p : all) {
        if (members.count(p.key.pid))
            keys.push_back(p.key);
    }
    return keys;
}

BuildVerdict verdictOf(const RunStatus& s)
{
    return s.diagnosis ? s.diagnosis->verdict : BuildVerdict::Failed;
}

} // namespace

class TestSupervisor : public QObject {
    Q_OBJECT

  private slots:
    void failingStepFinishesWithItsCode()
    {
        Runs runs;
        RunStatus s = runs.spec({shellStep("exit 3", runs.root().string())});
        const Supervised run = superviseToEnd(runs.write(s));
        QCOMPARE(run.code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.state, RunState::Finished);
        QCOMPARE(done.exitCode.value_or(-1), 3);
        QVERIFY(!done.signal);
        QCOMPARE(verdictOf(done), BuildVerdict::Failed);
        QCOMPARE(done.exitCodeForShell(), 3);
        QVERIFY(done.supervisor);
        QCOMPARE(done.steps.size(), std::size_t(1));
        QVERIFY(done.steps[0].root);
        QCOMPARE(done.steps[0].exitCode.value_or(-1), 3);
        QVERIFY(done.endedMs >= done.startedMs && done.startedMs > 0);
        QCOMPARE(done.containment, std::string("its own process group"));
        QVERIFY(!fs::exists(runs.files(s).stdoutMessages));
    }

    // Started by a parent that ignores SIGCHLD (an ignored signal stays
    // ignored across exec), it still learns how its step ended.
    void anInheritedIgnoredSigchldDoesNotHideTheExit()
    {
        Runs runs;
        RunStatus s = runs.spec({shellStep("exit 5", runs.root().string())});
        const fs::path path = runs.write(s);
        QProcess p;
        if (!QFile::exists("/usr/bin/python3"))
            QSKIP("needs python3 to start a program with SIGCHLD ignored");
        p.start("/usr/bin/python3",
                {"-c",
                 "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
                 "os.execv(sys.argv[1], [sys.argv[1], 'supervise', sys.argv[2]])",
                 QStringLiteral(HEADROOM_CLI_BIN), QString::fromStdString(path.string())});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QCOMPARE(runs.read(s).exitCode.value_or(-1), 5);
    }

    // As a front-end starts it: detached, its own complaints into the run's log.
    void aDetachedSupervisorRunsTheRunToItsEnd()
    {
        Runs runs;
        RunStatus s = runs.spec({shellStep("echo detached; sleep 1", runs.root().string())});
        const auto pid =
            startDetached({HEADROOM_CLI_BIN, "supervise", runs.write(s).string()}, {}, runs.files(s).log);
        QVERIFY2(pid, pid.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(runs.read(s).state == RunState::Finished, 30000);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.supervisor->pid, pid.value());
        QCOMPARE(verdictOf(done), BuildVerdict::Succeeded);
        QCOMPARE(readAll(runs.files(s).log), std::string("detached\n"));
        // A second supervisor for the same run refuses, and says so in the log.
        const auto again = startDetached({HEADROOM_CLI_BIN, "supervise", runs.files(s).status.string()}, {},
                                         runs.files(s).log);
        QVERIFY(again);
        QTRY_VERIFY_WITH_TIMEOUT(readAll(runs.files(s).log).find("left alone") != std::string::npos, 10000);
        QCOMPARE(runs.read(s).updatedMs, done.updatedMs);
    }

    void logHoldsExactlyTheBytesTheBuildWrote()
    {
        Runs runs;
        // Invalid UTF-8, a 100 000-byte line, standard error after standard output.
        RunStatus s = runs.spec({shellStep("printf '\\377\\376\\n'; head -c 100000 /dev/zero | tr '\\000' x; "
                                           "printf '\\n'; printf 'to stderr\\r\\n' >&2; "
                                           "head -c 3000000 /dev/zero | tr '\\000' y",
                                           runs.root().string())});
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const std::string expected =
            "\xff\xfe\n" + std::string(100000, 'x') + "\nto stderr\r\n" + std::string(3000000, 'y');
        const std::string log = readAll(runs.files(s).log);
        QCOMPARE(log.size(), expected.size());
        QVERIFY(log == expected);
        QCOMPARE(verdictOf(runs.read(s)), BuildVerdict::Succeeded);
    }

    // A cargo that prints JSON messages on standard output and, on standard
    // error, that rustc was killed by signal 9.
    void fakeCargoKilledRustc()
    {
        Runs runs;
        const fs::path cargo = runs.root() / "cargo";
        const fs::path exe = runs.root() / "big";
        writeFile(exe, "binary");
        writeFile(
            cargo,
            "#!/bin/sh\n"
            "printf '%s\\n' \"$@\" > \"$0.args\"\n"
            "printf '%s\\n' '{\"reason\":\"compiler-artifact\",\"package_id\":\"path+file:///w#big@0.1.0\","
            "\"target\":{\"name\":\"big\",\"kind\":[\"bin\"]},\"filenames\":[\"" +
                exe.string() + "\"],\"executable\":\"" + exe.string() +
                "\",\"fresh\":false}'\n"
                "printf '%s\\n' "
                "'{\"reason\":\"compiler-message\",\"package_id\":\"path+file:///w#big@0.1.0\","
                "\"target\":{\"name\":\"big\",\"kind\":[\"bin\"]},\"message\":{\"level\":\"warning\","
                "\"message\":\"unused variable\",\"code\":null,\"spans\":[],\"rendered\":\"warning: unused "
                "variable: RENDERED\\n\"}}'\n"
                "echo 'plain program output'\n"
                "cat >&2 <<'EOF'\n"
                "   Compiling big v0.1.0\n"
                "error: could not compile `big` (lib)\n"
                "\n"
                "Caused by:\n"
                "  process didn't exit successfully: `rustc --crate-name big src/lib.rs` (signal: 9, "
                "SIGKILL: kill)\n"
                "EOF\n"
                "exit 101\n",
            true);
        BuildStep step;
        step.title = "Build";
        step.program = cargo.string();
        step.args = {"build", "--release"};
        step.workingDir = runs.root().string();
        step.messageFormat = "json-diagnostic-rendered-ansi";
        RunStatus s = runs.spec({step});
        s.spec.preset = BuildPreset::A;
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.exitCode.value_or(-1), 101);
        QVERIFY2(verdictOf(done) == BuildVerdict::KilledBySignal ||
                     verdictOf(done) == BuildVerdict::OutOfMemory,
                 done.diagnosis ? done.diagnosis->summary.c_str() : "no diagnosis");
        QVERIFY2(done.diagnosis->summary.find("big") != std::string::npos, done.diagnosis->summary.c_str());
        QCOMPARE(done.warningCount, 1u);
        QCOMPARE(done.executables, std::vector<std::string>{exe.string()});
        // cargo got the message format; the log has the rendered text, not the JSON.
        QVERIFY(readAll(cargo.string() + ".args").find("--message-format=json-diagnostic-rendered-ansi") !=
                std::string::npos);
        const std::string log = readAll(runs.files(s).log);
        QVERIFY2(log.find("warning: unused variable: RENDERED\n") != std::string::npos, log.c_str());
        QVERIFY(log.find("plain program output\n") != std::string::npos);
        QVERIFY(log.find("(signal: 9, SIGKILL: kill)") != std::string::npos);
        QVERIFY(log.find("\"reason\"") == std::string::npos);
        QVERIFY(!fs::exists(runs.files(s).stdoutMessages)); // removed once the run ended
    }

    void laterStepsNeverStartAfterAFailure()
    {
        Runs runs;
        const fs::path started = runs.root() / "STARTED";
        RunStatus s = runs.spec({shellStep("exit 1", runs.root().string()),
                                 shellStep("touch '" + started.string() + "'", runs.root().string())});
        s.spec.request.thenRun = {"touch", (runs.root() / "THEN").string()};
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.steps.size(), std::size_t(1));
        QCOMPARE(done.stepsRun, 1);
        QCOMPARE(done.exitCode.value_or(-1), 1);
        QVERIFY(!fs::exists(started));
        QVERIFY(!fs::exists(runs.root() / "THEN"));
        QVERIFY(!done.thenRunExitCode);
    }

    void stepsRunInOrderThenTheThenRunCommand()
    {
        Runs runs;
        RunStatus s = runs.spec(
            {shellStep("echo first", runs.root().string()), shellStep("echo second", runs.root().string())});
        s.spec.request.thenRun = {"sh", "-c", "echo \"then ran in $(pwd)\"; exit 4"};
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(verdictOf(done), BuildVerdict::Succeeded);
        QCOMPARE(done.stepsRun, 2);
        QCOMPARE(done.step, 2);
        QCOMPARE(done.thenRunExitCode.value_or(-1), 4);
        QCOMPARE(done.exitCodeForShell(), 4);
        QCOMPARE(readAll(runs.files(s).log),
                 "first\nsecond\nthen ran in " + fs::canonical(runs.root()).string() + "\n");
    }

    // The status says what cargo's terminal text says while it runs: the
    // progress bar, then the wait for another build's lock; and the tree's memory.
    void theStatusFollowsProgressAndTheLock()
    {
        Runs runs;
        const fs::path go = runs.root() / "GO";
        RunStatus s =
            runs.spec({shellStep("printf '    Building [=====>     ] 3/10: foo, bar(build)\\r' >&2; "
                                 "while [ ! -e '" +
                                     go.string() +
                                     "' ]; do sleep 0.1; done; "
                                     "printf '    Blocking waiting for file lock on build directory\\n' >&2; "
                                     "sleep 2",
                                 runs.root().string())});
        QProcess supervisor;
        supervisor.start(QStringLiteral(HEADROOM_CLI_BIN),
                         {"supervise", QString::fromStdString(runs.write(s).string())});
        QVERIFY(waitForRoot(runs, s));
        QTRY_VERIFY_WITH_TIMEOUT(runs.read(s).total == 10, 10000);
        RunStatus now = runs.read(s);
        QCOMPARE(now.done, 3u);
        QCOMPARE(now.compilingNow, (std::vector<std::string>{"foo", "bar(build)"}));
        QVERIFY(!now.waitingForLock);
        // The sampler saw the tree by now (it samples at the start, then every second).
        QTRY_VERIFY_WITH_TIMEOUT(runs.read(s).peakTreeBytes > 0, 10000);
        writeFile(go, "");
        QTRY_VERIFY_WITH_TIMEOUT(runs.read(s).waitingForLock, 10000);
        QCOMPARE(runs.read(s).state, RunState::Running);
        QVERIFY(supervisor.waitForFinished(30000));
        const RunStatus done = runs.read(s);
        QCOMPARE(done.state, RunState::Finished);
        QVERIFY(done.peakTreeBytes > 0);
        QVERIFY(done.updatedMs >= done.startedMs);
    }

    // A real cargo build of a generated workspace whose cargo config moves the
    // target folder: the artifact is the one cargo reported, then it runs.
    void aRealCargoBuildAndItsThenRun()
    {
        QProcess probe;
        probe.start("cargo", {"--version"});
        if (!probe.waitForFinished(30000) || probe.exitCode() != 0)
            QSKIP("cargo is not installed");
        Runs runs;
        CargoWorkspace ws(300);
        QDir().mkpath(ws.root() + "/.cargo");
        CargoWorkspace::write(ws.root() + "/.cargo/config.toml", "[build]\ntarget-dir = \"elsewhere\"\n");
        BuildRequest request;
        request.projectDir = ws.root().toStdString();
        request.targetKind = TargetKind::Example;
        request.targetName = "hello";
        request.profile = "dev";
        request.extraArgs = {"--offline"};
        const std::string built = request.projectDir + "/elsewhere/debug/examples/hello";
        request.thenRun = {built};
        const BuildPlan plan = planBuild(request, BuildPreset::B);
        RunStatus s = runs.spec(plan.steps);
        s.spec.request = request;
        s.spec.preset = plan.preset;
        s.spec.jobs = plan.jobs;
        s.spec.artifactPath = plan.artifactPath;
        QVERIFY(s.spec.artifactPath != built);
        QCOMPARE(superviseToEnd(runs.write(s), 240000).code, 0);
        const RunStatus done = runs.read(s);
        QVERIFY2(verdictOf(done) == BuildVerdict::Succeeded,
                 done.diagnosis ? done.diagnosis->summary.c_str() : "no diagnosis");
        QCOMPARE(done.artifactPath, built);
        QVERIFY(done.artifactSize > 0);
        QVERIFY(std::find(done.executables.begin(), done.executables.end(), built) != done.executables.end());
        QCOMPARE(done.thenRunExitCode.value_or(-1), 0);
        const std::string log = readAll(runs.files(s).log);
        QVERIFY2(log.find("Compiling demo") != std::string::npos, log.c_str());
        QVERIFY2(log.find("\n42\n") != std::string::npos, log.c_str());
        QVERIFY(log.find("\"reason\"") == std::string::npos);
    }

    // A real OOM kill in a memory cgroup with a limit (cgroup v1 here): the
    // supervisor follows the build into the cgroup and reads its own counter.
    void aRealOomKillInAMemoryCgroupIsDiagnosed()
    {
        QString base;
        {
            QFile own("/proc/self/cgroup");
            own.open(QIODevice::ReadOnly);
            for (const QByteArray& line : own.readAll().split('\n')) {
                const QList<QByteArray> parts = line.split(':');
                if (parts.size() == 3 && parts[1].split(',').contains("memory"))
                    base = "/sys/fs/cgroup/memory" + QString::fromUtf8(parts[2] == "/" ? "" : parts[2]);
            }
        }
        if (base.isEmpty() || !QFile::exists(base + "/memory.oom_control"))
            QSKIP("No cgroup v1 memory controller mounted at /sys/fs/cgroup/memory");
        const QString cg = base + QStringLiteral("/headroom-supervise-oom-%1").arg(::getpid());
        if (!QDir().mkdir(cg))
            QSKIP("Cannot create a memory cgroup here (not root?)");
        auto cleanup = qScopeGuard([&] { QDir().rmdir(cg); });
        writeFile(cg.toStdString() + "/memory.limit_in_bytes", "67108864");
        writeFile(cg.toStdString() + "/memory.memsw.limit_in_bytes", "67108864"); // where swap is accounted

        Runs runs;
        const fs::path cargo = runs.root() / "cargo";
        writeFile(cargo,
                  "#!/bin/sh\necho $$ > '" + cg.toStdString() +
                      "/cgroup.procs'\nsleep 1\nexec /usr/bin/python3 -c \"b = b'x' * (200 << 20)\"\n",
                  true);
        BuildStep step;
        step.title = "Build";
        step.program = cargo.string();
        step.workingDir = runs.root().string();
        RunStatus s = runs.spec({step});
        s.spec.preset = BuildPreset::A;
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.signal.value_or(0), 9);
        QVERIFY2(verdictOf(done) == BuildVerdict::OutOfMemory,
                 done.diagnosis ? done.diagnosis->summary.c_str() : "no diagnosis");
        QVERIFY2(done.diagnosis->summary.rfind("Out of memory", 0) == 0, done.diagnosis->summary.c_str());
        QCOMPARE(done.cgroupDir, cg.toStdString());
        QCOMPARE(done.exitCodeForShell(), 128 + 9);
    }

    void aCommandThatCannotStartSaysWhy()
    {
        Runs runs;
        BuildStep step = shellStep("", runs.root().string());
        step.program = (runs.root() / "no-such-program").string();
        step.args.clear();
        RunStatus s = runs.spec({step});
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const RunStatus done = runs.read(s);
        QCOMPARE(done.state, RunState::Finished);
        QCOMPARE(done.exitCode.value_or(-1), 127);
        QVERIFY(verdictOf(done) != BuildVerdict::Succeeded);
        const std::string log = readAll(runs.files(s).log);
        QVERIFY2(log.find("cannot run " + step.program + ": No such file or directory") != std::string::npos,
                 log.c_str());
    }

    void stopStopsTheWholeTree_data()
    {
        QTest::addColumn<bool>("byFile");
        QTest::newRow("stop file") << true;
        QTest::newRow("requestStop (file and SIGTERM)") << false;
    }

    void stopStopsTheWholeTree()
    {
        QFETCH(bool, byFile);
        Runs runs;
        // Every process ignores SIGTERM: only the SIGKILL after the grace ends them.
        RunStatus s = runs.spec({shellStep("trap '' TERM; sleep 60 & sleep 60; wait", runs.root().string())});
        s.spec.graceMs = 1000;
        QProcess supervisor;
        supervisor.start(QStringLiteral(HEADROOM_CLI_BIN),
                         {"supervise", QString::fromStdString(runs.write(s).string())});
        const auto running = waitForRoot(runs, s);
        QVERIFY(running);
        const Pid root = running->currentRoot()->pid;
        std::vector<ProcessKey> tree;
        QTRY_VERIFY_WITH_TIMEOUT((tree = treeOf(root)).size() >= 3, 10000); // sh and two sleeps
        QElapsedTimer timer;
        timer.start();
        if (byFile) {
            writeFile(runs.files(s).stop, "stop\n");
        } else {
            const auto asked = requestStop(runs.dir, s.spec.id);
            QVERIFY2(asked, asked.error().c_str());
        }
        QVERIFY(supervisor.waitForFinished(30000));
        QCOMPARE(supervisor.exitCode(), 0);
        // The grace, the final snapshot's wait and a few seconds of slack.
        QVERIFY2(timer.elapsed() < 1000 + 1500 + 8000, qPrintable(QString::number(timer.elapsed())));
        qInfo("stopped and concluded in %lld ms (grace 1000 ms, final wait 1500 ms)", timer.elapsed());
        for (const ProcessKey& key : tree)
            QVERIFY2(!platform::isAlive(key), qPrintable(QString::number(key.pid)));
        const RunStatus done = runs.read(s);
        QCOMPARE(verdictOf(done), BuildVerdict::Cancelled);
        QVERIFY2(done.diagnosis->summary.find("stopped") != std::string::npos,
                 done.diagnosis->summary.c_str());
        QVERIFY(done.stopRequested);
        QVERIFY(!fs::exists(runs.files(s).stop));
        QVERIFY(readAll(runs.files(s).log).find("stopped by the user") != std::string::npos);
    }

    void theBuildOutlivesAKilledSupervisor()
    {
        Runs runs;
        const fs::path doneFile = runs.root() / "DONE";
        RunStatus s =
            runs.spec({shellStep("sleep 3; touch '" + doneFile.string() + "'", runs.root().string())});
        QProcess supervisor;
        supervisor.start(QStringLiteral(HEADROOM_CLI_BIN),
                         {"supervise", QString::fromStdString(runs.write(s).string())});
        const auto running = waitForRoot(runs, s);
        QVERIFY(running);
        QCOMPARE(Pid(running->supervisor->pid), Pid(supervisor.processId()));
        supervisor.kill(); // SIGKILL: no chance to clean up
        QVERIFY(supervisor.waitForFinished(5000));
        const auto listed = listRuns(runs.dir);
        QCOMPARE(listed.size(), std::size_t(1));
        QVERIFY(listed[0].status);
        QCOMPARE(listed[0].status->state, RunState::SupervisorLost);
        QVERIFY(listed[0].buildAlive);
        QVERIFY2(listed[0].problem.find("still runs") != std::string::npos, listed[0].problem.c_str());
        QTRY_VERIFY_WITH_TIMEOUT(fs::exists(doneFile), 15000);
    }

    void aFinishedRunIsPostedToTheHistoryInbox()
    {
        Runs runs;
        RunStatus s = runs.spec({shellStep("echo hi", runs.root().string())});
        s.spec.targetKind = "command";
        s.spec.targetName = "sh";
        QCOMPARE(superviseToEnd(runs.write(s)).code, 0);
        const fs::path inbox = historyInboxDir(s.spec.historyPath) / (s.spec.id + ".json");
        QVERIFY(fs::exists(inbox));
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(readAll(inbox)), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(doc.object().value("runId").toString().toStdString(), s.spec.id);
        QCOMPARE(doc.object().value("verdict").toString(), QString("succeeded"));
        QVERIFY(runs.read(s).problem.empty());
    }

    void refusesARunThatIsNotWaiting()
    {
        Runs runs;
        const fs::path marker = runs.root() / "RAN";
        RunStatus s = runs.spec({shellStep("touch '" + marker.string() + "'", runs.root().string())});
        s.state = RunState::Running;
        s.supervisor = ProcessKey{1, 1};
        const fs::path path = runs.write(s);
        const Supervised taken = superviseToEnd(path);
        QCOMPARE(taken.code, 2);
        QVERIFY2(taken.err.contains("left alone"), qPrintable(taken.err));
        QCOMPARE(runs.read(s).state, RunState::Running);

        writeFile(path, "{ not json");
        const Supervised corrupt = superviseToEnd(path);
        QCOMPARE(corrupt.code, 2);
        QVERIFY2(corrupt.err.contains("moved aside"), qPrintable(corrupt.err));

        const Supervised missing = superviseToEnd(runs.dir / "nothing.json");
        QCOMPARE(missing.code, 2);
        QVERIFY(!fs::exists(marker));
    }

    // Two supervisors started at once for one run: one runs it, the other refuses.
    void twoSupervisorsAtOnceRunItOnce()
    {
        for (int round = 0; round < 3; ++round) {
            Runs runs;
            const fs::path count = runs.root() / "COUNT";
            RunStatus s =
                runs.spec({shellStep("echo ran >> '" + count.string() + "'; sleep 1", runs.root().string())});
            const QString path = QString::fromStdString(runs.write(s).string());
            QProcess a, b;
            a.start(QStringLiteral(HEADROOM_CLI_BIN), {"supervise", path});
            b.start(QStringLiteral(HEADROOM_CLI_BIN), {"supervise", path});
            QVERIFY(a.waitForFinished(60000));
            QVERIFY(b.waitForFinished(60000));
            const std::set<int> codes{a.exitCode(), b.exitCode()};
            QCOMPARE(codes, (std::set<int>{0, 2}));
            QCOMPARE(readAll(count), std::string("ran\n"));
            QCOMPARE(runs.read(s).state, RunState::Finished);
        }
    }

    void theMissingScopeIsSaidOnce()
    {
        const ScopeProbe probe = probeUserScope();
        if (probe.available)
            QSKIP("a systemd user scope works here: there is nothing to say");
        Runs runs(false);
        RunStatus first = runs.spec({shellStep("echo one", runs.root().string())});
        first.spec.memoryMax = 1ull << 30;
        QCOMPARE(superviseToEnd(runs.write(first)).code, 0);
        const std::string log = readAll(runs.files(first).log);
        QVERIFY2(log.find("without a systemd user scope") != std::string::npos, log.c_str());
        QVERIFY2(log.find("not applied") != std::string::npos, log.c_str());
        QVERIFY(log.find("one\n") != std::string::npos);
        RunStatus second = runs.spec({shellStep("echo two", runs.root().string())});
        QCOMPARE(superviseToEnd(runs.write(second)).code, 0);
        QCOMPARE(readAll(runs.files(second).log), std::string("two\n"));
    }

    // ChildProcess: files for the streams, environment, folder, oom_score_adj, group.
    void childProcessStartsWithItsFilesAndSettings()
    {
        QTemporaryDir temp;
        const fs::path dir = temp.path().toStdString();
        ChildSpec spec;
        spec.argv = {"sh", "-c",
                     "echo \"$HEADROOM_TEST_VALUE $(pwd)\"; echo err >&2; cat /proc/self/oom_score_adj "
                     "2>/dev/null || echo none; ps -o pgid= -p $$ | tr -d ' ' >&2"};
        spec.workingDir = dir;
        spec.environment = {{"HEADROOM_TEST_VALUE", "set here"}};
        spec.stdoutFile = dir / "out";
        spec.stderrFile = dir / "err";
        spec.oomScoreAdj = 700;
        auto child = ChildProcess::start(spec);
        QVERIFY2(child, child.error().c_str());
        const auto exit = child.value()->wait(std::chrono::milliseconds(10000));
        QVERIFY(exit);
        QCOMPARE(exit->exitCode.value_or(-1), 0);
        const std::string out = readAll(dir / "out");
        QVERIFY2(out.find("set here " + fs::canonical(dir).string() + "\n") == 0, out.c_str());
#ifdef __linux__
        QVERIFY2(out.find("\n700\n") != std::string::npos, out.c_str());
#endif
        const std::string err = readAll(dir / "err");
        QVERIFY2(err.find("err\n" + std::to_string(child.value()->key().pid)) == 0, err.c_str());
        QVERIFY(child.value()->key().startTime != 0);

        ChildSpec missing;
        missing.argv = {"headroom-no-such-program-x"};
        auto failed = ChildProcess::start(missing);
        QVERIFY(!failed);
        QCOMPARE(failed.error(),
                 std::string("cannot run headroom-no-such-program-x: No such file or directory"));
        ChildSpec badDir = spec;
        badDir.workingDir = dir / "absent";
        auto noDir = ChildProcess::start(badDir);
        QVERIFY(!noDir);
        QVERIFY2(noDir.error().find("absent") != std::string::npos, noDir.error().c_str());

        ChildSpec killed;
        killed.argv = {"sh", "-c", "kill -9 $$"};
        auto k = ChildProcess::start(killed);
        QVERIFY(k);
        const auto kexit = k.value()->wait(std::chrono::milliseconds(10000));
        QVERIFY(kexit);
        QCOMPARE(kexit->signal.value_or(0), SIGKILL);
    }

    void startDetachedLeavesNoChildAndOwnsItsSession()
    {
        QTemporaryDir temp;
        const fs::path dir = temp.path().toStdString();
        const fs::path info = dir / "info";
        auto pid =
            startDetached({"sh", "-c", "echo $$ $PPID > '" + info.string() + "'; sleep 2"}, dir, dir / "log");
        QVERIFY2(pid, pid.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(readAll(info).find('\n') != std::string::npos, 10000);
        const std::string text = readAll(info);
        QCOMPARE(std::stoll(text), pid.value());
        QVERIFY(std::stoll(text.substr(text.find(' ') + 1)) != ::getpid()); // not our child
        // A session of its own (the intermediate child's, so it can never take a terminal back).
        QVERIFY(::getsid(pid_t(pid.value())) != ::getsid(0));
        QVERIFY(::getsid(pid_t(pid.value())) > 0);
        QVERIFY(!startDetached({"headroom-no-such-program-x"}));
        QCOMPARE(currentExecutable(), fs::path(QCoreApplication::applicationFilePath().toStdString()));
    }

    // The observation and the conclusion, on hand-made snapshots.
    void observerKeepsPeaksAndReadsTheOomCounter()
    {
        const ProcessKey root{100, 100};
        auto snapshot = [&](std::uint64_t rustcBytes, std::uint64_t oomKills) {
            Snapshot s;
            s.memory.total = 16ull << 30;
            s.memory.available = 1ull << 30;
            s.memory.used = s.memory.total - s.memory.available;
            s.memory.oomKillCount = oomKills;
            support::addProcess(s, 100, "cargo", ProcessRole::Cargo, 50u << 20);
            support::addProcess(s, 101, "rustc", ProcessRole::Rustc, rustcBytes);
            s.processes.back().parentPid = 100;
            s.processes.back().argv = {"rustc", "--crate-name", "big"};
            return s;
        };
        RunObserver observer;
        observer.observe(snapshot(400u << 20, 7), root);
        observer.observe(snapshot(900u << 20, 7), root);
        observer.observe(snapshot(100u << 20, 7), root);
        QCOMPARE(observer.peakByCrate().at("big"), std::uint64_t(900u << 20));
        QCOMPARE(observer.peakTreeBytes(), std::uint64_t(950u << 20));
        QCOMPARE(observer.treeBytes(), std::uint64_t(150u << 20));
        observer.buildEnded();
        observer.observeAfterEnd(snapshot(0, 8));
        QCOMPARE(observer.oomKillsBefore().value_or(0), std::uint64_t(7));
        QCOMPARE(observer.oomKillsAfter().value_or(0), std::uint64_t(8));

        CargoOutputParser output;
        output.feed("error: could not compile `big` (lib)\n\nCaused by:\n  process didn't exit successfully: "
                    "`rustc --crate-name big src/lib.rs` (signal: 9, SIGKILL: kill)\n");
        CargoMessageParser messages;
        RunPlanFacts plan;
        plan.preset = BuildPreset::A;
        RunEndFacts end;
        end.exitCode = 101;
        const RunOutcome oom = observer.conclude(end, plan, output, messages);
        QVERIFY2(oom.diagnosis.verdict == BuildVerdict::OutOfMemory, oom.diagnosis.summary.c_str());
        end.cancelledByUser = true;
        QCOMPARE(observer.conclude(end, plan, output, messages).diagnosis.verdict, BuildVerdict::Cancelled);

        RunStatus status;
        observer.fillMemory(status);
        applyOutcome(status, oom);
        QCOMPARE(status.peakByCrate.at("big"), std::uint64_t(900u << 20));
        QCOMPARE(status.diagnosis->verdict, BuildVerdict::OutOfMemory);
    }
};

QTEST_GUILESS_MAIN(TestSupervisor)
#include "TestSupervisor.moc"
