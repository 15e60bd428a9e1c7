// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher on real cargo builds of a workspace this test writes, a
// scripted stand-in for cargo that dies the way an OOM-killed build does, and
// real process trees for the stop button.
#include "headroom/RunObserver.h"
#include "headroom/RunsFolder.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "services/launcher/BuildGate.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/BuildRunner.h"
#include "services/launcher/CustomPresets.h"
#include "services/launcher/HeadlessBuild.h"
#include "services/launcher/LauncherController.h"
#include "services/launcher/WorkspaceInfo.h"
#include "support/CargoWorkspace.h"
#include "support/HeadlessBuildCommand.h"
#include "support/ProcessSpawner.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

using namespace headroom;
using namespace headroom::services;
using headroom::test::runHeadlessBuild; // the `headroom build` command line, parsed as the program does

namespace {
// The newest supervised run of the runs folder (HEADROOM_RUNS_DIR, private
// to this test) created since `sinceMs`.
std::optional<RunStatus> newestRun(qint64 sinceMs)
{
    for (const RunEntry& e : listRuns(defaultRunsDir())) {
        if (e.status && e.status->spec.createdMs >= sinceMs)
            return e.status;
    }
    return std::nullopt;
}

// The live process tree of that run's current step: its root first.
std::vector<Pid> supervisedTree(qint64 sinceMs)
{
    const auto run = newestRun(sinceMs);
    const auto root = run && run->state == RunState::Running ? run->currentRoot() : std::nullopt;
    if (!root || !ProcessSpawner::isAlive(root->pid))
        return {};
    std::vector<Pid> tree{root->pid};
    for (Pid p : ProcessSpawner::liveDescendants(root->pid))
        tree.push_back(p);
    return tree;
}

bool isBuildScript(Pid pid)
{
    QFile cmd(QStringLiteral("/proc/%1/cmdline").arg(pid));
    return cmd.open(QIODevice::ReadOnly) && cmd.readAll().contains("build-script-build");
}

// Standard input from a file while it lives.
class StdinFrom {
  public:
    explicit StdinFrom(const char* path) : saved_(::dup(0))
    {
        const int fd = ::open(path, O_RDONLY);
        ::dup2(fd, 0);
        ::close(fd);
    }
    ~StdinFrom()
    {
        ::dup2(saved_, 0);
        ::close(saved_);
    }

  private:
    int saved_;
};

std::string environOf(Pid pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

BuildRequest requestFor(const CargoWorkspace& ws)
{
    BuildRequest r;
    r.projectDir = ws.root().toStdString();
    r.targetKind = TargetKind::Example;
    r.targetName = "hello";
    r.features = "fast";
    r.profile = "release";
    r.extraArgs = {"--offline"};
    return r;
}

std::shared_ptr<const Snapshot> memorySnapshot(double usedFraction, std::uint64_t oomKills = 0)
{
    auto s = std::make_shared<Snapshot>();
    s->memory.total = 16 * GiB;
    s->memory.used = std::uint64_t(usedFraction * double(16 * GiB));
    s->memory.available = s->memory.total - s->memory.used;
    s->memory.oomKillCount = oomKills;
    return s;
}

services::BuildRunResult waitFinished(QSignalSpy& spy, int timeoutMs = 240000)
{
    if (spy.isEmpty() && !spy.wait(timeoutMs))
        return {};
    return spy.takeFirst().at(0).value<services::BuildRunResult>();
}

// Runs the sqlite3 program on `path`: a second process, as another tool
// reading or writing the history would be.
QString sqlite(const QString& path, const QString& sql)
{
    QProcess p;
    p.start("sqlite3", {path, sql});
    p.waitForFinished(20000);
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

// The history file made unwritable in a way that also stops root: the
// immutable attribute (chattr +i), or plain permissions for other users.
class ReadOnlyFile {
  public:
    explicit ReadOnlyFile(const QString& path) : path_(path)
    {
        if (::geteuid() == 0)
            ok_ = QProcess::execute("chattr", {"+i", path_}) == 0;
        else
            ok_ = QFile::setPermissions(path_, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
    }
    ~ReadOnlyFile() { release(); }
    bool ok() const { return ok_; }
    void release()
    {
        if (!ok_)
            return;
        if (::geteuid() == 0)
            QProcess::execute("chattr", {"-i", path_});
        else
            QFile::setPermissions(path_, QFile::ReadOwner | QFile::WriteOwner);
        ok_ = false;
    }

  private:
    QString path_;
    bool ok_ = false;
};

// Captures what this process writes to stderr while it lives.
class StderrCapture {
  public:
    StderrCapture()
    {
        std::fflush(stderr);
        saved_ = ::dup(2);
        file_.open();
        ::dup2(file_.handle(), 2);
    }
    ~StderrCapture() { stop(); }
    QString stop()
    {
        if (saved_ >= 0) {
            std::fflush(stderr);
            ::dup2(saved_, 2);
            ::close(saved_);
            saved_ = -1;
            file_.seek(0);
            text_ = QString::fromLocal8Bit(file_.readAll());
        }
        return text_;
    }

  private:
    QTemporaryFile file_;
    int saved_ = -1;
    QString text_;
};

services::BuildRunResult finishedRun(BuildVerdict verdict, double seconds, quint64 peak,
                                     std::map<std::string, quint64> crates = {})
{
    services::BuildRunResult r;
    r.diagnosis.verdict = verdict;
    r.exitCode = verdict == BuildVerdict::Succeeded ? 0 : 101;
    r.seconds = seconds;
    r.peakTreeBytes = peak;
    r.peakByCrate = std::move(crates);
    return r;
}

services::RunTarget targetOf(TargetKind kind, const std::string& name = {})
{
    BuildRequest r;
    r.targetKind = kind;
    r.targetName = name;
    return services::RunTarget::of(r);
}

int lineCount(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return int(f.readAll().count('\n'));
}
} // namespace

class TestBuildLauncher : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("cargo").isEmpty())
            QFAIL("cargo is not on PATH: scripts/dev.sh test installs it");
    }

    void presetABuildsWithOneJobAndRecordsHistory()
    {
        CargoWorkspace ws;
        BuildRequest request = requestFor(ws);
        const auto info = services::WorkspaceInfo::load(ws.root(), "cargo", nullptr);
        QVERIFY(info);
        request.targetDir = info->targetDir.toStdString();
        const BuildPlan plan = planBuild(request, BuildPreset::A);

        services::BuildRunner runner;
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        QTRY_VERIFY_WITH_TIMEOUT(runner.rootKey().has_value(), 10000);
        const std::string environ = environOf(runner.rootKey()->pid);
        QVERIFY2(environ.find(std::string("CARGO_BUILD_JOBS=1\0", 19)) != std::string::npos,
                 "the running cargo must have CARGO_BUILD_JOBS=1 in its environment");

        const services::BuildRunResult result = waitFinished(finished);
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Succeeded, result.diagnosis.summary.c_str());
        QCOMPARE(result.exitCode.value_or(-1), 0);
        QVERIFY(result.artifactPath.endsWith("/release/examples/hello"));
        QVERIFY(result.artifactSize > 0);
        QVERIFY(result.peakTreeBytes > 0);

        services::BuildHistory history(ws.scratch() + "/history.sqlite");
        QVERIFY(history.ok());
        QVERIFY(history.record(info->root, plan, result, 1000).ok());
        const auto runs = history.runs(info->root);
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].preset, QString("A"));
        QCOMPARE(runs[0].verdict, QString("succeeded"));
        QVERIFY(runs[0].commands.at(0).contains("CARGO_BUILD_JOBS=1"));
        QCOMPARE(runs[0].peakTreeBytes, result.peakTreeBytes);
    }

    void presetCRunsTwoStepsInOrderThenRunsTheProgram()
    {
        CargoWorkspace ws(200);
        BuildRequest request = requestFor(ws);
        request.profile = "dist-fast";
        const BuildPlan plan = planBuild(request, BuildPreset::C);
        request.thenRun = {plan.artifactPath};

        services::BuildRunner runner;
        QSignalSpy steps(&runner, &services::BuildRunner::stepStarted);
        QSignalSpy output(&runner, &services::BuildRunner::outputArrived);
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        const services::BuildRunResult result = waitFinished(finished);
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Succeeded, result.diagnosis.summary.c_str());
        QCOMPARE(steps.size(), 3); // library, example, then-run
        QVERIFY(steps.at(0).at(2).toString().contains("--lib"));
        QVERIFY(!steps.at(0).at(2).toString().contains("--example"));
        QVERIFY(steps.at(1).at(2).toString().contains("--example hello"));
        QVERIFY(steps.at(1).at(2).toString().contains("--profile dist-fast"));
        QCOMPARE(result.stepsRun, 2);
        QVERIFY(result.artifactPath.endsWith("/target/dist-fast/examples/hello"));
        QCOMPARE(result.thenRunExitCode.value_or(-1), 0);
        QString all;
        for (const auto& chunk : output)
            all += chunk.at(0).toString();
        QVERIFY2(all.contains("42"), qPrintable(all.right(500)));
    }

    // A real compile error: the summary, the place and the count come from
    // cargo's JSON messages, and the log shows rustc's text as a terminal would.
    void compileErrorIsReportedFromCargosMessages()
    {
        CargoWorkspace ws(400);
        CargoWorkspace::write(ws.root() + "/examples/broken.rs",
                              "fn main() {\n    let x: u32 = \"text\";\n    println!(\"{}\", x);\n}\n");
        BuildRequest request = requestFor(ws);
        request.targetName = "broken";
        const BuildPlan plan = planBuild(request, BuildPreset::B);

        services::BuildRunner runner;
        QSignalSpy steps(&runner, &services::BuildRunner::stepStarted);
        QSignalSpy output(&runner, &services::BuildRunner::outputArrived);
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        QTRY_VERIFY_WITH_TIMEOUT(runner.rootKey().has_value(), 10000);
        // Read while the build script sleeps.
        std::ifstream in("/proc/" + std::to_string(runner.rootKey()->pid) + "/cmdline", std::ios::binary);
        const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        QVERIFY2(cmdline.find(std::string("--message-format=json-diagnostic-rendered-ansi\0", 47)) !=
                     std::string::npos,
                 "cargo must run with the JSON message format");
        const services::BuildRunResult result = waitFinished(finished);
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::CompileError, result.diagnosis.summary.c_str());
        QCOMPARE(result.diagnosis.summary, std::string("Compile error: error[E0308]: mismatched types"));
        QVERIFY2(result.diagnosis.detail.find("at examples/broken.rs:2:18") != std::string::npos,
                 result.diagnosis.detail.c_str());
        QVERIFY(result.diagnosis.detail.find("in example broken") != std::string::npos);
        QCOMPARE(result.errorCount, 1u);
        // The line people copy is cargo's human one.
        QVERIFY(!steps.at(0).at(2).toString().contains("message-format"));
        QString all;
        for (const auto& chunk : output)
            all += chunk.at(0).toString();
        QVERIFY2(all.contains("error[E0308]: mismatched types\n"), qPrintable(all.right(800)));
        QVERIFY(all.contains("--> examples/broken.rs:2:18"));
        QVERIFY(all.contains("expected `u32`, found `&str`"));
        QVERIFY(all.contains("Compiling demo")); // standard error, as before
        QVERIFY(all.contains("could not compile `demo`"));
        QVERIFY2(!all.contains(QChar(0x1b)), qPrintable(all.right(800))); // the log strips colours
        QVERIFY(!all.contains("\"reason\""));                             // no raw JSON in the log
        QVERIFY(result.artifactSize < 0);
    }

    // The target folder moved by the workspace's own cargo config: the plan's
    // guess is wrong, the executable cargo reported is the one checked.
    void artifactIsTheOneCargoReported()
    {
        CargoWorkspace ws(200);
        QDir().mkpath(ws.root() + "/.cargo");
        CargoWorkspace::write(ws.root() + "/.cargo/config.toml", "[build]\ntarget-dir = \"elsewhere\"\n");
        const BuildRequest request = requestFor(ws);
        const BuildPlan plan = planBuild(request, BuildPreset::B);
        QVERIFY(QString::fromStdString(plan.artifactPath).endsWith("/target/debug/examples/hello"));

        services::BuildRunner runner;
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        const services::BuildRunResult result = waitFinished(finished);
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Succeeded, result.diagnosis.summary.c_str());
        QVERIFY2(result.artifactPath == ws.root() + "/elsewhere/debug/examples/hello",
                 qPrintable(result.artifactPath));
        QVERIFY(result.artifactSize > 0);
        QVERIFY(result.executables.contains(result.artifactPath));
        QVERIFY(!QFileInfo::exists(QString::fromStdString(plan.artifactPath)));
    }

    void oomKillIsDiagnosedOnlyWithTheOomSign()
    {
        QTemporaryDir dir;
        const QString fake = dir.path() + "/cargo";
        // A quoted heredoc: the backticks must reach the output, not the shell.
        CargoWorkspace::write(fake,
                              "#!/bin/sh\n"
                              "cat <<'EOF'\n"
                              "   Compiling demo v0.1.0\n"
                              "error: could not compile `demo` (lib)\n"
                              "\n"
                              "Caused by:\n"
                              "  process didn't exit successfully: `rustc --crate-name demo src/lib.rs` "
                              "(signal: 9, SIGKILL: kill)\n"
                              "EOF\n"
                              "exit 101\n");
        QFile::setPermissions(fake, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        BuildRequest request;
        request.projectDir = dir.path().toStdString();
        request.cargoProgram = fake.toStdString();
        const BuildPlan plan = planBuild(request, BuildPreset::A);

        // Through the supervisor: the exit code and the kill line reach the
        // diagnosis. The machine's OOM counter is the machine's own here, so
        // either verdict may be right; both name the kill.
        {
            services::BuildRunner runner;
            QSignalSpy finished(&runner, &services::BuildRunner::finished);
            QVERIFY(runner.start(request, plan));
            const services::BuildRunResult result = waitFinished(finished, 30000);
            QCOMPARE(result.exitCode.value_or(-1), 101);
            QVERIFY2(result.diagnosis.verdict == BuildVerdict::KilledBySignal ||
                         result.diagnosis.verdict == BuildVerdict::OutOfMemory,
                     result.diagnosis.summary.c_str());
            QVERIFY2(result.diagnosis.summary.find("demo") != std::string::npos ||
                         result.diagnosis.summary.find("signal 9") != std::string::npos,
                     result.diagnosis.summary.c_str());
        }

        // The conclusion the supervisor draws (RunObserver), with the memory
        // it is shown: only a counter that rises with memory near its limit
        // says out of memory.
        const std::string said = "   Compiling demo v0.1.0\n"
                                 "error: could not compile `demo` (lib)\n"
                                 "\n"
                                 "Caused by:\n"
                                 "  process didn't exit successfully: `rustc --crate-name demo src/lib.rs` "
                                 "(signal: 9, SIGKILL: kill)\n";
        for (const bool counterRises : {true, false}) {
            RunObserver observer;
            observer.observe(*memorySnapshot(counterRises ? 0.95 : 0.5, 3), std::nullopt);
            observer.buildEnded();
            observer.observeAfterEnd(*memorySnapshot(counterRises ? 0.95 : 0.5, counterRises ? 4 : 3));
            CargoOutputParser output;
            output.feed(said);
            output.finish();
            CargoMessageParser messages;
            RunEndFacts end;
            end.exitCode = 101;
            RunPlanFacts facts;
            facts.request = request;
            facts.preset = plan.preset;
            facts.jobs = plan.jobs;
            facts.plannedArtifact = plan.artifactPath;
            const BuildDiagnosis d = observer.conclude(end, facts, output, messages).diagnosis;
            if (counterRises) {
                QVERIFY2(d.verdict == BuildVerdict::OutOfMemory, d.summary.c_str());
                QVERIFY(d.summary.find("crate demo") != std::string::npos);
                QCOMPARE(d.nextPreset.value(), BuildPreset::B);
            } else {
                QVERIFY2(d.verdict == BuildVerdict::KilledBySignal, d.summary.c_str());
                QVERIFY(d.summary.find("killed by signal 9") != std::string::npos);
                QVERIFY(!d.nextPreset);
            }
        }
    }

    void buildProcessesGetARaisedOomScore()
    {
        QTemporaryDir dir;
        const QString fake = dir.path() + "/cargo";
        CargoWorkspace::write(fake, "#!/bin/sh\nsleep 30 &\nwait\n");
        QFile::setPermissions(fake, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        BuildRequest request;
        request.projectDir = dir.path().toStdString();
        request.cargoProgram = fake.toStdString();
        services::BuildRunner runner;
        runner.setGracePeriod(std::chrono::milliseconds(300));
        QCOMPARE(runner.oomScoreAdj(), 500);
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, planBuild(request, BuildPreset::A)));
        QTRY_VERIFY(runner.rootKey().has_value());
        const Pid root = runner.rootKey()->pid;
        QTRY_COMPARE(ProcessSpawner::liveDescendants(root).size(), std::size_t(1));
        auto adjOf = [](Pid pid) {
            QFile f(QStringLiteral("/proc/%1/oom_score_adj").arg(pid));
            f.open(QIODevice::ReadOnly);
            return f.readAll().trimmed();
        };
        QCOMPARE(adjOf(root), QByteArray("500"));
        QCOMPARE(adjOf(ProcessSpawner::liveDescendants(root).front()), QByteArray("500")); // inherited
        QVERIFY(adjOf(::getpid()) != "500");
        runner.stop();
        QCOMPARE(waitFinished(finished, 15000).diagnosis.verdict, BuildVerdict::Cancelled);
    }

    void headlessBuildSuggestsTheSameBuildAndRejectsBadFigures()
    {
        QTemporaryDir dir;
        const QString project = dir.path() + "/oom $(touch pwned)";
        QDir().mkpath(project);
        CargoWorkspace::write(project + "/Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
        for (const QStringList& bad : {QStringList{"--need", "-5"},
                                       {"--need", "nan"},
                                       {"--need", "1e30"},
                                       {"--max-used", "abc"},
                                       {"--jobs", "0"},
                                       {"--jobs", "2000"},
                                       {"--oom-score-adj", "-1"}})
            QCOMPARE(runHeadlessBuild(QStringList{"--project", project} + bad), 2);
        QVERIFY(!QFile::exists(dir.path() + "/pwned"));
    }

    // Ctrl+C in `headroom build`: --on-interrupt stop, and the default
    // ("ask") with an input that is not a terminal to ask, stop the whole
    // build tree and exit 130.
    void sigintStopsTheHeadlessBuildTree_data()
    {
        QTest::addColumn<QString>("onInterrupt");
        QTest::newRow("stop") << QStringLiteral("stop");
        QTest::newRow("ask, no terminal") << QStringLiteral("ask");
    }

    void sigintStopsTheHeadlessBuildTree()
    {
        QFETCH(QString, onInterrupt);
        CargoWorkspace ws(60000); // a build script that runs for a minute
        QTemporaryDir home;
        const Pid self = ::getpid();
        const qint64 since = QDateTime::currentMSecsSinceEpoch();
        std::vector<Pid> tree;
        // The build must be under way, its build script running, before Ctrl+C.
        QTimer poll;
        poll.setInterval(200);
        QObject::connect(&poll, &QTimer::timeout, [&] {
            const auto now = supervisedTree(since);
            if (std::any_of(now.begin(), now.end(), isBuildScript)) {
                tree = now;
                poll.stop();
                ::kill(self, SIGINT);
            }
        });
        poll.start();
        StdinFrom nothing("/dev/null");
        const int rc =
            runHeadlessBuild({"--project", ws.root(), "--preset", "B", "--history", home.path() + "/h.sqlite",
                              "--args", "--offline", "--on-interrupt", onInterrupt});
        QCOMPARE(rc, 130);
        QVERIFY(!tree.empty());
        for (Pid p : tree)
            QTRY_VERIFY(ProcessSpawner::stateOf(p) == 0 || ProcessSpawner::stateOf(p) == 'Z');
        // Ctrl+C is Qt's default again afterwards: the handler is gone.
        struct sigaction now {};
        ::sigaction(SIGINT, nullptr, &now);
        QVERIFY(now.sa_handler == SIG_DFL);
        // And the run is recorded once, as stopped by the user.
        services::BuildHistory history(home.path() + "/h.sqlite");
        const auto runs = history.runs(services::WorkspaceInfo::load(ws.root(), "cargo", nullptr)->root);
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].verdict, QString("cancelled"));
    }

    // --on-interrupt leave: `headroom build` exits 130 at once, the build goes
    // on under its supervisor to its end, and is recorded in the history.
    void sigintCanLeaveTheHeadlessBuildRunning()
    {
        CargoWorkspace ws(4000);
        QTemporaryDir home;
        const Pid self = ::getpid();
        const qint64 since = QDateTime::currentMSecsSinceEpoch();
        std::vector<Pid> tree;
        QTimer poll;
        poll.setInterval(200);
        QObject::connect(&poll, &QTimer::timeout, [&] {
            const auto now = supervisedTree(since);
            if (std::any_of(now.begin(), now.end(), isBuildScript)) {
                tree = now;
                poll.stop();
                ::kill(self, SIGINT);
            }
        });
        poll.start();
        QElapsedTimer clock;
        clock.start();
        const int rc =
            runHeadlessBuild({"--project", ws.root(), "--preset", "B", "--example", "hello", "--history",
                              home.path() + "/h.sqlite", "--args", "--offline", "--on-interrupt", "leave"});
        QCOMPARE(rc, 130);
        QVERIFY(!tree.empty());
        const auto running = newestRun(since);
        QVERIFY(running);
        QVERIFY2(running->state == RunState::Running, "the build was left running");
        QVERIFY(ProcessSpawner::isAlive(tree.front()));
        // It ends on its own, and well.
        std::optional<RunStatus> ended;
        QTRY_VERIFY_WITH_TIMEOUT((ended = newestRun(since)) && ended->state == RunState::Finished, 120000);
        QVERIFY(ended->diagnosis);
        QVERIFY2(ended->diagnosis->verdict == BuildVerdict::Succeeded, ended->diagnosis->summary.c_str());
        QVERIFY(QFileInfo(QString::fromStdString(ended->artifactPath)).isFile());
        // The next open of the history records what the supervisor posted.
        QTRY_VERIFY(QFileInfo::exists(QString::fromStdString(
            (historyInboxDir((home.path() + "/h.sqlite").toStdString()) / (ended->spec.id + ".json"))
                .string())));
        services::BuildHistory history(home.path() + "/h.sqlite");
        const auto runs = history.runs(QString::fromStdString(ended->spec.project));
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].runId, QString::fromStdString(ended->spec.id));
        QCOMPARE(runs[0].verdict, QString("succeeded"));
        QVERIFY(QDir(history.inboxPath()).entryList({"*.json"}, QDir::Files).isEmpty());
    }

    void realOomKillInAMemoryCgroupIsDiagnosedAndAKillElsewhereIsNot()
    {
        QFile own("/proc/self/cgroup");
        own.open(QIODevice::ReadOnly);
        QString base;
        for (const QByteArray& line : own.readAll().split('\n')) {
            const QList<QByteArray> parts = line.split(':');
            if (parts.size() == 3 && parts[1].split(',').contains("memory"))
                base = "/sys/fs/cgroup/memory" + QString::fromUtf8(parts[2] == "/" ? "" : parts[2]);
        }
        if (base.isEmpty() || !QFile::exists(base + "/memory.oom_control"))
            QSKIP("No cgroup v1 memory controller mounted at /sys/fs/cgroup/memory");
        const QString cg = base + QStringLiteral("/headroom-oom-%1").arg(::getpid());
        if (!QDir().mkdir(cg))
            QSKIP("Cannot create a memory cgroup here (not root?)");
        auto cleanup = qScopeGuard([&] { QDir().rmdir(cg); });
        CargoWorkspace::write(cg + "/memory.limit_in_bytes", "67108864");
        CargoWorkspace::write(cg + "/memory.memsw.limit_in_bytes",
                              "67108864"); // where swap accounting exists

        QTemporaryDir dir;
        const QString fake = dir.path() + "/cargo";
        // The fake build moves itself into the limited cgroup, waits for a
        // sample to see it there, then touches 200 MiB.
        CargoWorkspace::write(fake, QStringLiteral("#!/bin/sh\necho $$ > '%1/cgroup.procs'\nsleep 1\n"
                                                   "exec /usr/bin/python3 -c \"b = b'x' * (200 << 20)\"\n")
                                        .arg(cg)
                                        .toUtf8());
        QFile::setPermissions(fake, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        BuildRequest request;
        request.projectDir = dir.path().toStdString();
        request.cargoProgram = fake.toStdString();
        request.targetKind = TargetKind::Example;
        request.targetName = "validate";
        request.features = "heavy";
        request.extraArgs = {"--offline"};
        {
            services::BuildRunner runner;
            QSignalSpy finished(&runner, &services::BuildRunner::finished);
            QVERIFY(runner.start(request, planBuild(request, BuildPreset::A)));
            const services::BuildRunResult r = waitFinished(finished, 30000);
            QCOMPARE(r.signal.value_or(0), 9);
            QVERIFY2(r.diagnosis.verdict == BuildVerdict::OutOfMemory, r.diagnosis.summary.c_str());
            QVERIFY2(r.diagnosis.summary.rfind("Out of memory", 0) == 0, r.diagnosis.summary.c_str());
            QCOMPARE(r.diagnosis.nextPreset.value(), BuildPreset::B);
            const auto next = nextBuildCommand(request, *r.diagnosis.nextPreset, r.diagnosis.nextJobs);
            for (const char* word : {"--example", "validate", "--features", "heavy", "--args", "--offline"})
                QVERIFY2(std::find(next.begin(), next.end(), word) != next.end(), word);
        }

        // A kill -9 of the build while a process in ANOTHER cgroup is OOM-killed:
        // the machine's counter rises, but nothing points at this build.
        CargoWorkspace::write(fake, "#!/bin/sh\nexec sleep 30\n");
        services::BuildRunner runner;
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, planBuild(request, BuildPreset::A)));
        QTRY_VERIFY(runner.rootKey().has_value());
        QTest::qWait(600); // the first sample holds the counter before
        QProcess hog;
        hog.start("/bin/sh", {"-c", QStringLiteral("echo $$ > '%1/cgroup.procs' && exec /usr/bin/python3 -c "
                                                   "\"b = b'x' * (200 << 20)\"")
                                        .arg(cg)});
        QVERIFY(hog.waitForFinished(20000));
        QCOMPARE(hog.exitStatus(), QProcess::CrashExit);
        ::kill(pid_t(runner.rootKey()->pid), SIGKILL);
        const services::BuildRunResult r = waitFinished(finished, 30000);
        QCOMPARE(r.signal.value_or(0), 9);
        QVERIFY2(r.diagnosis.verdict == BuildVerdict::KilledBySignal, r.diagnosis.summary.c_str());
        QVERIFY2(r.diagnosis.detail.find("elsewhere") != std::string::npos, r.diagnosis.detail.c_str());
    }

    void badInputGetsAClearMessage()
    {
        QTemporaryDir dir;
        QVERIFY(checkProject(dir.path() + "/missing", "cargo").contains("does not exist"));
        QVERIFY(checkProject(dir.path(), "cargo").contains("has no Cargo.toml"));
        QVERIFY(checkProject("", "cargo").contains("Choose a project folder"));
        CargoWorkspace ws;
        QVERIFY(checkProject(ws.root(), "no-such-cargo-here").contains("was not found on PATH"));
        QVERIFY(checkProject(ws.root(), "cargo").isEmpty());

        QString error;
        const auto info = services::WorkspaceInfo::load(ws.root(), "cargo", &error);
        QVERIFY2(info, qPrintable(error));
        QCOMPARE(info->packages.size(), std::size_t(1));
        QCOMPARE(info->allExamples(), QStringList{"hello"});
        QVERIFY(info->allFeatures().contains("fast"));
        QVERIFY(info->profiles.contains("dist-fast"));

        BuildRequest good = requestFor(ws);
        QVERIFY(checkRequest(good, *info).isEmpty());
        BuildRequest bad = good;
        bad.package = "nope";
        QVERIFY(checkRequest(bad, *info).join(' ').contains("no package \"nope\""));
        bad = good;
        bad.targetName = "missing";
        QVERIFY(checkRequest(bad, *info).join(' ').contains("no example \"missing\". Examples here: hello"));
        bad = good;
        bad.features = "fast,turbo";
        QVERIFY(checkRequest(bad, *info).join(' ').contains("no feature \"turbo\""));
        bad = good;
        bad.profile = "ludicrous";
        QVERIFY(checkRequest(bad, *info).join(' ').contains("no profile \"ludicrous\""));

        // The headless command says the same and exits 2 before running anything.
        QCOMPARE(runHeadlessBuild({"--project", dir.path() + "/missing"}), 2);
        QCOMPARE(runHeadlessBuild({"--project", ws.root(), "--preset", "Z"}), 2);
        QCOMPARE(runHeadlessBuild({"--project", ws.root(), "--example", "missing"}), 2);
    }

    void stopLeavesNoProcessOfTheTreeAlive()
    {
        ProcessSpawner spawner;
        BuildRequest request;
        request.projectDir = spawner.makeDir("w").toStdString();
        BuildPlan plan;
        plan.preset = BuildPreset::Custom;
        BuildStep step;
        step.title = "fake build";
        step.program = spawner.installAs("cargo").toStdString();
        spawner.installAs("rustc");
        step.args = {"build", "{", "rustc", "--mem", "8", "{", "cc", "}", "}", "{", "rustc", "}"};
        step.workingDir = request.projectDir;
        plan.steps.push_back(step);

        services::BuildRunner runner;
        runner.setGracePeriod(std::chrono::milliseconds(500));
        spawner.installAs("cc");
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        QTRY_VERIFY(runner.rootKey().has_value());
        const Pid root = runner.rootKey()->pid;
        QTRY_COMPARE(ProcessSpawner::liveDescendants(root).size(), std::size_t(3));
        const auto members = ProcessSpawner::liveDescendants(root);
        runner.stop();
        const services::BuildRunResult result = waitFinished(finished, 15000);
        QCOMPARE(result.diagnosis.verdict, BuildVerdict::Cancelled);
        for (Pid p : members)
            QTRY_VERIFY(ProcessSpawner::stateOf(p) == 0 || ProcessSpawner::stateOf(p) == 'Z');
        QVERIFY(!runner.isRunning());
    }

    void waitingStartBeginsOnlyWhenChecksPass()
    {
        services::BuildGate gate;
        QSignalSpy ready(&gate, &services::BuildGate::ready);
        QSignalSpy waiting(&gate, &services::BuildGate::stillWaiting);
        BuildCheckOptions options;
        options.requiredHeadroom = 4 * GiB;
        gate.arm(options);
        // A replayed series: memory tight for three samples, then freed.
        for (double used : {0.95, 0.90, 0.85})
            gate.observe(memorySnapshot(used));
        QCOMPARE(ready.size(), 0);
        QCOMPARE(waiting.size(), 3);
        QVERIFY(waiting.at(0).at(0).toString().contains("above the 80% limit"));
        gate.observe(memorySnapshot(0.40));
        QCOMPARE(ready.size(), 1);
        QVERIFY(!gate.armed());
        gate.observe(memorySnapshot(0.30));
        QCOMPARE(ready.size(), 1); // once per arm
    }

    void customPresetsPersistAndRun()
    {
        QTemporaryDir dir;
        const QString ini = dir.path() + "/settings.ini";
        services::CustomPreset bad{"", "", "'unclosed", "NOEQUALS", {}};
        QCOMPARE(bad.problems().size(), 4);
        services::CustomPreset make{
            "make all", "sh", "-c 'echo \"custom ran in $PWD with $LEVEL\"'", "LEVEL=3", {}};
        QVERIFY(make.problems().isEmpty());
        make.memoryMax = 2 * GiB; // the scope's limit, written into the run's spec
        {
            services::LauncherController controller(dir.path() + "/h.sqlite", ini);
            controller.setCustomPresets({make});
        }
        services::LauncherController controller(dir.path() + "/h.sqlite", ini);
        QCOMPARE(controller.customPresets().size(), std::size_t(1));
        QCOMPARE(controller.customPresets()[0].arguments, make.arguments);
        controller.selectCustomPreset(0);

        BuildRequest request;
        request.projectDir = dir.path().toStdString(); // no Cargo.toml: fine for a custom preset
        const BuildPlan plan = controller.plan(request, BuildPreset::Custom);
        QCOMPARE(plan.steps.size(), std::size_t(1));
        QCOMPARE(plan.steps[0].args,
                 (std::vector<std::string>{"-c", "echo \"custom ran in $PWD with $LEVEL\""}));
        QCOMPARE(plan.steps[0].environment.at("LEVEL"), std::string("3"));

        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QSignalSpy output(&controller, &services::LauncherController::outputArrived);
        QString problem;
        QVERIFY2(controller.start(request, BuildPreset::Custom,
                                  services::LauncherController::StartMode::Anyway, &problem),
                 qPrintable(problem));
        controller.observe(memorySnapshot(0.3));
        QVERIFY(finished.wait(10000) || !finished.isEmpty());
        const auto result = finished.first().at(0).value<services::BuildRunResult>();
        QCOMPARE(result.diagnosis.verdict, BuildVerdict::Succeeded);
        QString all;
        for (const auto& chunk : output)
            all += chunk.at(0).toString();
        QVERIFY2(all.contains("custom ran in " + dir.path() + " with 3"), qPrintable(all));
        const auto run = findRun(defaultRunsDir(), result.runId.toStdString());
        QVERIFY2(run, run ? "" : run.error().c_str());
        QCOMPARE(run.value().status->spec.memoryMax.value_or(0), std::uint64_t(2 * GiB));
        QVERIFY(!run.value().status->spec.memoryHigh);
        QCOMPARE(run.value().status->spec.targetKind, std::string("custom"));
        QCOMPARE(run.value().status->spec.origin, RunOrigin::Window);
    }

    void historySurvivesAndCorruptionIsKeptAside()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        BuildPlan plan = planBuild(BuildRequest{}, BuildPreset::Auto, JobsChoice{4, "x"});
        services::BuildRunResult run;
        run.preset = BuildPreset::Auto;
        run.jobs = 4;
        run.exitCode = 0;
        run.seconds = 100;
        run.diagnosis.verdict = BuildVerdict::Succeeded;
        run.peakTreeBytes = 9 * GiB;
        run.peakByCrate = {{"pyphi", 3 * GiB}, {"numpy", 2 * GiB}};
        {
            services::BuildHistory history(path);
            QVERIFY(history.ok());
            QVERIFY(history.record("/p", plan, run, 1));
            run.seconds = 300;
            run.peakTreeBytes = 5 * GiB;
            QVERIFY(history.record("/p", plan, run, 2));
            QVERIFY(history.record("/other", plan, run, 3));
        }
        services::BuildHistory reopened(path);
        QVERIFY(reopened.ok());
        QVERIFY(reopened.warning().isEmpty());
        QCOMPARE(reopened.runs("/p").size(), std::size_t(2));
        const auto stats = reopened.presetStats("/p");
        QCOMPARE(stats.size(), std::size_t(1));
        QCOMPARE(stats[0].runs, 2);
        QCOMPARE(stats[0].peakTreeBytes, quint64(9 * GiB));
        const auto crates = reopened.hungriestCrates("/p");
        QCOMPARE(crates.size(), std::size_t(2));
        QCOMPARE(crates[0].crate, QString("pyphi"));
        QCOMPARE(reopened.learnedPeakPerJob("/p").value_or(0), quint64(3 * GiB));
        QCOMPARE(reopened.learnedPeak("/p", "auto").value_or(0), quint64(9 * GiB));
        QVERIFY(!reopened.learnedPeak("/nowhere"));

        const QString broken = dir.path() + "/broken.sqlite";
        CargoWorkspace::write(broken,
                              QByteArray("this is not a database, but someone's data", 42).repeated(200));
        services::BuildHistory recovered(broken);
        QVERIFY(recovered.ok());
        QVERIFY2(recovered.warning().contains("moved to"), qPrintable(recovered.warning()));
        const QStringList aside = QDir(dir.path()).entryList({"broken.sqlite.corrupt-*"});
        QCOMPARE(aside.size(), 1);
        QFile kept(dir.path() + "/" + aside.first());
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QVERIFY(kept.readAll().startsWith("this is not a database"));
        QVERIFY(recovered.record("/p", plan, run, 4));
    }

    // The supervisors' inbox: each finished run is recorded once by its run
    // id, whoever records it first; a file that is not a run is kept aside.
    void historyImportsTheInboxOnceByRunId()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        BuildRequest request;
        request.projectDir = "/p";
        request.targetKind = TargetKind::Example;
        request.targetName = "hello";
        const BuildPlan plan = planBuild(request, BuildPreset::B);
        RunStatus status;
        status.spec.id = newRunId();
        status.spec.project = "/p";
        status.spec.preset = BuildPreset::B;
        status.spec.steps = plan.steps;
        status.spec.targetKind = "example";
        status.spec.targetName = "hello";
        status.state = RunState::Finished;
        status.startedMs = 1000;
        status.seconds = 12.5;
        status.exitCode = 0;
        status.diagnosis = BuildDiagnosis{BuildVerdict::Succeeded, "Built.", {}, {}, {}, {}};
        status.peakTreeBytes = 3 * GiB;
        status.peakByCrate = {{"demo", GiB}};
        QVERIFY(postHistoryRecord(path.toStdString(), status));
        const QString inbox = QString::fromStdString(historyInboxDir(path.toStdString()).string());
        CargoWorkspace::write(inbox + "/broken.json", "{\"project\": \"/p\", torn");
        const QString id = QString::fromStdString(status.spec.id);

        services::BuildHistory history(path);
        QVERIFY(history.ok());
        QCOMPARE(history.inboxPath(), inbox);
        QVERIFY2(history.warning().contains("moved aside to " + inbox + "/broken.json.corrupt"),
                 qPrintable(history.warning()));
        auto runs = history.runs("/p");
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].runId, id);
        QCOMPARE(runs[0].verdict, QString("succeeded"));
        QCOMPARE(runs[0].preset, QString("B"));
        QCOMPARE(runs[0].seconds, 12.5);
        QCOMPARE(runs[0].peakTreeBytes, quint64(3 * GiB));
        QCOMPARE(runs[0].target.kind, QString("example"));
        QCOMPARE(runs[0].commands.size(), qsizetype(plan.steps.size()));
        QCOMPARE(history.hungriestCrates("/p").at(0).crate, QString("demo"));
        QVERIFY(!QFile::exists(inbox + "/" + id + ".json"));
        QFile kept(inbox + "/broken.json.corrupt");
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QVERIFY(kept.readAll().contains("torn")); // kept as it was, never deleted

        // The front-end that followed the run records it too, and the
        // supervisor's post comes again: still one run.
        services::BuildRunResult followed = finishedRun(BuildVerdict::Succeeded, 12.5, 3 * GiB);
        followed.runId = id;
        const services::RecordResult again = history.record("/p", plan, followed, 1000);
        QVERIFY2(again.ok(), qPrintable(again.message));
        QCOMPARE(again.id, runs[0].id);
        QVERIFY(postHistoryRecord(path.toStdString(), status));
        const services::InboxImport imported = history.importInbox();
        QCOMPARE(imported.imported, 0);
        QVERIFY2(imported.problems.isEmpty(), qPrintable(imported.problems.join(' ')));
        QCOMPARE(history.runs("/p").size(), std::size_t(1));
        QVERIFY(QDir(inbox).entryList({"*.json"}, QDir::Files).isEmpty());

        // A run without an id (recorded before runs had one) is still its own.
        QVERIFY(history.record("/p", plan, finishedRun(BuildVerdict::Failed, 3, GiB), 2000));
        QVERIFY(history.record("/p", plan, finishedRun(BuildVerdict::Failed, 3, GiB), 3000));
        QCOMPARE(history.runs("/p").size(), std::size_t(3));
    }

    void historyFromBeforeRunIdsGainsTheColumn()
    {
        if (QStandardPaths::findExecutable("sqlite3").isEmpty())
            QSKIP("sqlite3 is needed to write a history of the older shape");
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        sqlite(
            path,
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, project TEXT NOT NULL, preset TEXT NOT NULL,"
            " started_ms INTEGER, seconds REAL, verdict TEXT, summary TEXT, exit_code INTEGER,"
            " signal INTEGER, peak_tree_bytes INTEGER, peak_system_used INTEGER, jobs INTEGER,"
            " artifact TEXT);"
            " INSERT INTO runs (project, preset, started_ms, verdict) VALUES ('/p', 'A', 5, 'succeeded');");
        services::BuildHistory history(path);
        QVERIFY2(history.ok(), qPrintable(history.warning()));
        auto runs = history.runs("/p");
        QCOMPARE(runs.size(), std::size_t(1));
        QVERIFY(runs[0].runId.isEmpty());
        services::BuildRunResult r = finishedRun(BuildVerdict::Succeeded, 1, GiB);
        r.runId = "20260101-000000-1-abcd";
        QVERIFY(history.record("/p", planBuild(BuildRequest{}, BuildPreset::A), r, 6));
        QVERIFY(history.record("/p", planBuild(BuildRequest{}, BuildPreset::A), r, 6));
        QCOMPARE(history.runs("/p").size(), std::size_t(2));
        QVERIFY(sqlite(path, "PRAGMA index_list(runs)").contains("runs_run_id"));
    }

    void historyIsWrittenAheadLogged()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        {
            services::BuildHistory history(path);
            QVERIFY(history.ok());
            QVERIFY(history.record("/p", planBuild(BuildRequest{}, BuildPreset::A),
                                   finishedRun(BuildVerdict::Succeeded, 1, GiB), 1));
        }
        QCOMPARE(sqlite(path, "PRAGMA journal_mode"), QString("wal"));
        // A file an older Headroom left in rollback mode is switched too.
        const QString old = dir.path() + "/old.sqlite";
        QCOMPARE(sqlite(old, "PRAGMA journal_mode=DELETE; CREATE TABLE x(y);"), QString("delete"));
        {
            services::BuildHistory history(old);
            QVERIFY2(history.ok(), qPrintable(history.warning()));
        }
        QCOMPARE(sqlite(old, "PRAGMA journal_mode"), QString("wal"));
    }

    void historyHeldByAnotherProgramIsWaitedForNeverMovedAside()
    {
        if (QStandardPaths::findExecutable("sqlite3").isEmpty())
            QFAIL("the sqlite3 program is needed to hold the database from a second process");
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        {
            services::BuildHistory history(path);
            QVERIFY(history.ok());
        }
        // Rollback mode, as every history written before WAL worked: there an
        // exclusive transaction keeps readers out.
        QCOMPARE(sqlite(path, "PRAGMA journal_mode=DELETE"), QString("delete"));

        QProcess other;
        other.start("sqlite3", {path});
        QVERIFY(other.waitForStarted());
        other.write("BEGIN EXCLUSIVE;\nINSERT INTO runs (project, preset) VALUES ('/other-writer', 'A');\n"
                    ".print locked\n");
        QByteArray said;
        QTRY_VERIFY2_WITH_TIMEOUT((said += other.readAllStandardOutput()).contains("locked"),
                                  qPrintable(said + other.readAllStandardError()), 10000);

        QElapsedTimer clock;
        clock.start();
        services::BuildHistory history(path);
        QVERIFY(!history.ok());
        QVERIFY2(history.warning().contains("in use by another program (" + path + ")"),
                 qPrintable(history.warning()));
        QVERIFY(clock.elapsed() >= services::BuildHistory::kBusyWaitMs - 500); // it waited...
        QVERIFY(clock.elapsed() < 3 * services::BuildHistory::kBusyWaitMs);    // ...for a bounded time
        QVERIFY(QFile::exists(path));
        QCOMPARE(QDir(dir.path()).entryList({"history.sqlite.corrupt-*"}).size(), 0);

        const BuildPlan plan = planBuild(BuildRequest{}, BuildPreset::B);
        const services::RecordResult held =
            history.record("/p", plan, finishedRun(BuildVerdict::Succeeded, 2, GiB), 10);
        QVERIFY(!held.ok());
        QVERIFY(held.kept);
        QVERIFY2(held.message.contains("The build history is in use by another program (" + path +
                                       "); this run will be recorded when it is free"),
                 qPrintable(held.message));
        QCOMPARE(lineCount(history.pendingPath()), 1);

        // The other program was not disturbed: its transaction commits.
        other.write("COMMIT;\n.print committed\n.quit\n");
        other.closeWriteChannel();
        QVERIFY(other.waitForFinished(10000));
        QCOMPARE(other.exitCode(), 0);
        QVERIFY2(other.readAllStandardError().isEmpty(), "the other writer got an error");

        // Free now: the kept run goes in first, then this one.
        const services::RecordResult later =
            history.record("/p", plan, finishedRun(BuildVerdict::Succeeded, 3, GiB), 20);
        QVERIFY2(later.ok(), qPrintable(later.message));
        QVERIFY(history.ok());
        const auto runs = history.runs("/p");
        QCOMPARE(runs.size(), std::size_t(2));
        QCOMPARE(runs[1].startedMs, qint64(10));
        QCOMPARE(history.runs("/other-writer").size(), std::size_t(1));
        QVERIFY(!QFile::exists(history.pendingPath()));
    }

    void recordFailureIsSaidAndTheRunKept()
    {
        CargoWorkspace ws;
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        {
            services::BuildHistory history(path);
            QVERIFY(history.ok());
        }
        ReadOnlyFile readOnly(path);
        QVERIFY2(readOnly.ok(), "could not make the history file read-only (chattr +i needs ext4 or alike)");

        // The window: the controller says it after the result.
        services::CustomPreset quick{"quick", "sh", "-c true", {}, {}};
        services::LauncherController controller(path, dir.path() + "/launcher.ini");
        controller.setCustomPresets({quick});
        controller.selectCustomPreset(0);
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QSignalSpy problem(&controller, &services::LauncherController::historyProblem);
        QSignalSpy changed(&controller, &services::LauncherController::historyChanged);
        BuildRequest request;
        request.projectDir = dir.path().toStdString();
        QString why;
        QVERIFY2(controller.start(request, BuildPreset::Custom,
                                  services::LauncherController::StartMode::Anyway, &why),
                 qPrintable(why));
        controller.observe(memorySnapshot(0.3));
        QTRY_COMPARE_WITH_TIMEOUT(problem.size(), 1, 20000);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(changed.size(), 0);
        const QString said = problem.first().at(0).toString();
        QVERIFY2(said.contains("could not be written") && said.contains("readonly"), qPrintable(said));
        QVERIFY2(said.contains("kept in " + controller.pendingHistoryPath()), qPrintable(said));
        QCOMPARE(lineCount(controller.pendingHistoryPath()), 1);

        // The terminal: headroom build says it on stderr.
        StderrCapture capture;
        const int exit = runHeadlessBuild({"--project", ws.root(), "--preset", "B", "--lib", "--args",
                                           "--offline", "--history", path, "--max-used", "100"});
        const QString err = capture.stop();
        QCOMPARE(exit, 0); // the build itself succeeded
        QVERIFY2(err.contains("headroom build: could not record this run in the history: "), qPrintable(err));
        QCOMPARE(lineCount(controller.pendingHistoryPath()), 2);
        // Unwritable is not unreadable: the file was never taken for corrupt.
        QCOMPARE(QDir(dir.path()).entryList({"history.sqlite.corrupt-*"}).size(), 0);

        // Writable again: the next open records both runs.
        readOnly.release();
        services::BuildHistory reopened(path);
        QVERIFY2(reopened.ok(), qPrintable(reopened.warning()));
        QCOMPARE(reopened.runs(dir.path()).size(), std::size_t(1));
        const auto info = services::WorkspaceInfo::load(ws.root(), "cargo", nullptr);
        QVERIFY(info);
        const auto cli = reopened.runs(info->root);
        QCOMPARE(cli.size(), std::size_t(1));
        QCOMPARE(cli[0].target.kind, QString("lib"));
        QVERIFY(!QFile::exists(reopened.pendingPath()));
    }

    void unfinishedRunsNeverLowerWhatWasLearned()
    {
        QTemporaryDir dir;
        services::BuildHistory history(dir.path() + "/history.sqlite");
        QVERIFY(history.ok());
        const BuildPlan planB = planBuild(BuildRequest{}, BuildPreset::B);
        const services::RunTarget example = targetOf(TargetKind::Example, "hello");
        const quint64 fallback = 8 * GiB;

        // Only OOM-killed and cancelled runs: each was stopped below its need.
        QVERIFY(history.record("/p", planB,
                               finishedRun(BuildVerdict::OutOfMemory, 40, 482 * MiB, {{"big", 482 * MiB}}), 1,
                               example));
        QVERIFY(history.record("/p", planB, finishedRun(BuildVerdict::Cancelled, 2, 24 * MiB), 2, example));
        QVERIFY(!history.learnedPeak("/p", "B", example, fallback));
        QVERIFY(!history.learnedPeak("/p", "B"));
        QVERIFY(!history.learnedPeakPerJob("/p", 2 * GiB));
        // ...but one that got past the default says the default is too low.
        QVERIFY(
            history.record("/p", planB, finishedRun(BuildVerdict::OutOfMemory, 50, 12 * GiB), 3, example));
        QCOMPARE(history.learnedPeak("/p", "B", example, fallback).value_or(0), 12 * GiB);

        // A finished run measures; killed runs only ever raise the figure.
        QVERIFY(history.record("/p", planB,
                               finishedRun(BuildVerdict::Succeeded, 60, 1792 * MiB, {{"big", 1792 * MiB}}), 4,
                               example));
        QCOMPARE(history.learnedPeak("/p", "B", example, fallback).value_or(0), 12 * GiB);
        QCOMPARE(history.learnedPeakPerJob("/p", 2 * GiB).value_or(0), 1792 * MiB);
        QVERIFY(history.record("/p", planB,
                               finishedRun(BuildVerdict::KilledBySignal, 5, 300 * MiB, {{"big", 300 * MiB}}),
                               5, example));
        QCOMPARE(history.learnedPeakPerJob("/p", 2 * GiB).value_or(0), 1792 * MiB);

        const services::RunTarget lib = targetOf(TargetKind::Lib);
        QVERIFY(history.record("/q", planB, finishedRun(BuildVerdict::Succeeded, 60, 1792 * MiB), 1, lib));
        QVERIFY(history.record("/q", planB, finishedRun(BuildVerdict::Cancelled, 1, 24 * MiB), 2, lib));
        QCOMPARE(history.learnedPeak("/q", "B", lib, fallback).value_or(0), 1792 * MiB);
    }

    void historyCountsEachTargetApart()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        // A history from before targets were kept: the old schema, one old run.
        sqlite(path,
               "CREATE TABLE runs (id INTEGER PRIMARY KEY, project TEXT NOT NULL, preset TEXT NOT NULL,"
               " started_ms INTEGER, seconds REAL, verdict TEXT, summary TEXT, exit_code INTEGER,"
               " signal INTEGER, peak_tree_bytes INTEGER, peak_system_used INTEGER, jobs INTEGER,"
               " artifact TEXT);"
               "CREATE TABLE steps (run_id INTEGER, idx INTEGER, title TEXT, command TEXT, environment TEXT);"
               "CREATE TABLE crate_peaks (run_id INTEGER, crate TEXT, peak_bytes INTEGER);"
               "INSERT INTO runs (project, preset, started_ms, seconds, verdict, peak_tree_bytes)"
               " VALUES ('/p', 'B', 1, 7.0, 'succeeded', 3221225472);");
        services::BuildHistory history(path);
        QVERIFY2(history.ok(), qPrintable(history.warning()));
        QVERIFY(history.warning().isEmpty());
        const BuildPlan planB = planBuild(BuildRequest{}, BuildPreset::B);
        const services::RunTarget lib = targetOf(TargetKind::Lib);
        const services::RunTarget example = targetOf(TargetKind::Example, "hello");
        for (int i = 0; i < 3; ++i)
            QVERIFY(history.record("/p", planB, finishedRun(BuildVerdict::Succeeded, 0.2, 100 * MiB), 10 + i,
                                   lib));
        for (int i = 0; i < 3; ++i)
            QVERIFY(history.record("/p", planB, finishedRun(BuildVerdict::Succeeded, 30.0 + i, 2 * GiB),
                                   20 + i, example));

        const auto stats = history.presetStats("/p");
        QCOMPARE(stats.size(), std::size_t(3));
        const auto find = [&](const services::RunTarget& t) {
            return *std::find_if(stats.begin(), stats.end(),
                                 [&](const services::PresetStats& s) { return s.target == t; });
        };
        QCOMPARE(find(lib).runs, 3);
        QCOMPARE(find(lib).typicalSeconds, 0.2);
        QCOMPARE(find(example).runs, 3);
        QCOMPARE(find(example).typicalSeconds, 31.0);
        QCOMPARE(find(services::RunTarget{}).runs, 1);
        QCOMPARE(find(services::RunTarget{}).target.label(), QString("target not recorded"));
        QCOMPARE(find(example).target.label(), QString("example hello"));

        const auto runs = history.runs("/p");
        QCOMPARE(runs.back().target.known(), false); // the old run
        QCOMPARE(runs.front().target, example);

        // The learned need follows the target; the old run may have been either.
        QVERIFY(history.record("/p", planB, finishedRun(BuildVerdict::Succeeded, 40, 5 * GiB), 30, example));
        QCOMPARE(history.learnedPeak("/p", "B", lib).value_or(0), quint64(3 * GiB));
        QCOMPARE(history.learnedPeak("/p", "B", example).value_or(0), quint64(5 * GiB));
        QCOMPARE(history.learnedPeak("/p", "B").value_or(0), quint64(5 * GiB));
    }

    void damagedLauncherSettingsAreSaidAndKeptAside()
    {
        QTemporaryDir dir;
        const QString ini = dir.path() + "/launcher.ini";
        QByteArray noise;
        for (int i = 0; i < 4096; ++i)
            noise.append(char((i * 7919 + 13) % 256));
        CargoWorkspace::write(ini, noise);
        {
            services::LauncherController controller(dir.path() + "/h.sqlite", ini);
            QVERIFY2(controller.settingsWarning().contains("damaged"),
                     qPrintable(controller.settingsWarning()));
            QVERIFY(controller.settingsWarning().contains(ini));
            QVERIFY(controller.customPresets().empty());
            QVERIFY(controller.recentProjects().isEmpty());
            QVERIFY(!controller.lastBuild());
            controller.setRecentProjects({"/somewhere"});
            controller.setCustomPresets({services::CustomPreset{"make", "make", {}, {}, {}}});
        }
        const QStringList aside = QDir(dir.path()).entryList({"launcher.ini.corrupt-*"});
        QCOMPARE(aside.size(), 1);
        QFile kept(dir.path() + "/" + aside.first());
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), noise);
        // Started clean: what was saved since reads back, with no warning.
        services::LauncherController again(dir.path() + "/h.sqlite", ini);
        QVERIFY(again.settingsWarning().isEmpty());
        QCOMPARE(again.recentProjects(), QStringList{"/somewhere"});
        QCOMPARE(again.customPresets().size(), std::size_t(1));
    }

    // A step's output arrives in reads of any size: a colour code or a UTF-8
    // character cut between two reads must come out whole, not as U+FFFD or
    // as a leaked "31m".
    void outputCutAnywhereIsDecodedWhole()
    {
        const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
        if (python.isEmpty())
            QSKIP("python3 is needed to write output in small pieces");
        const int lines = 300;
        // Every line: colours (CSI), a window title (OSC), 2-, 3- and 4-byte characters.
        const char* script = R"(
import os, sys, time
line = '\x1b[1m\x1b[31mred\x1b[0m caf\u00e9 \u2713 \u65e5\u672c \U0001F980 \x1b]0;title\x07line {}\n'
data = ''.join(line.format(i) for i in range(int(sys.argv[1]))).encode('utf-8')
sizes = [1, 2, 3, 5, 7, 11, 13, 1, 1, 4]
i = k = 0
while i < len(data):
    n = sizes[k % len(sizes)]
    os.write(1, data[i:i + n])
    i += n
    k += 1
    if k % 3 == 0:
        time.sleep(0.0003)
)";
        QTemporaryDir dir;
        BuildRequest request;
        request.projectDir = dir.path().toStdString();
        BuildPlan plan;
        plan.preset = BuildPreset::Custom;
        BuildStep step;
        step.title = "colourful output";
        step.program = python.toStdString();
        step.args = {"-c", script, std::to_string(lines)};
        step.workingDir = request.projectDir;
        plan.steps.push_back(step);

        services::BuildRunner runner;
        QSignalSpy output(&runner, &services::BuildRunner::outputArrived);
        QSignalSpy finished(&runner, &services::BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        waitFinished(finished, 60000);
        QString all;
        for (const auto& call : output)
            all += call.at(0).toString();
        qInfo("%lld output signals for %lld characters", static_cast<long long>(output.count()),
              static_cast<long long>(all.size()));
        QVERIFY2(output.count() > 1, "the output came in one piece: nothing was cut");
        QVERIFY2(!all.contains(QChar(QChar::ReplacementCharacter)), qPrintable(all.left(400)));
        QVERIFY(!all.contains(QChar(0x1b)));
        QVERIFY(!all.contains(QChar(0x07)));
        QVERIFY2(!all.contains(QStringLiteral("31m")) && !all.contains(QStringLiteral("[0m")) &&
                     !all.contains(QStringLiteral("title")),
                 qPrintable(all.left(400)));
        QStringList expected;
        for (int i = 0; i < lines; ++i)
            expected << QString::fromUtf8(
                            "red caf\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x80 line ") +
                            QString::number(i);
        QStringList got = all.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        got.removeIf([](const QString& l) { return !l.contains(QStringLiteral(" line ")); });
        QCOMPARE(got, expected);
    }
};

QTEST_GUILESS_MAIN(TestBuildLauncher)
#include "TestBuildLauncher.moc"
