// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher on real cargo builds of a workspace this test writes, a
// scripted stand-in for cargo that dies the way an OOM-killed build does, and
// real process trees for the stop button.
#include "BuildGate.h"
#include "BuildHistory.h"
#include "BuildRunner.h"
#include "CargoWorkspace.h"
#include "CustomPresets.h"
#include "HeadlessBuild.h"
#include "LauncherController.h"
#include "WorkspaceInfo.h"
#include "core/ProcessSpawner.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include <csignal>
#include <fstream>

#include <unistd.h>

using namespace headroom;
using namespace headroom::app;

namespace {
// Drives runner.observe() with live snapshots, as the app's sampling service does.
class LiveFeed {
  public:
    explicit LiveFeed(BuildRunner& runner) : sampler_(SystemSampler::create())
    {
        timer_.setInterval(200);
        QObject::connect(&timer_, &QTimer::timeout, [this, &runner] {
            auto s = sampler_->sample();
            if (s)
                runner.observe(std::make_shared<const Snapshot>(std::move(s.value())));
        });
        timer_.start();
    }

  private:
    std::unique_ptr<SystemSampler> sampler_;
    QTimer timer_;
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

BuildRunResult waitFinished(QSignalSpy& spy, int timeoutMs = 240000)
{
    if (spy.isEmpty() && !spy.wait(timeoutMs))
        return {};
    return spy.takeFirst().at(0).value<BuildRunResult>();
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
        const auto info = WorkspaceInfo::load(ws.root(), "cargo", nullptr);
        QVERIFY(info);
        request.targetDir = info->targetDir.toStdString();
        const BuildPlan plan = planBuild(request, BuildPreset::A);

        BuildRunner runner;
        LiveFeed feed(runner);
        QSignalSpy finished(&runner, &BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        QTRY_VERIFY_WITH_TIMEOUT(runner.rootKey().has_value(), 10000);
        const std::string environ = environOf(runner.rootKey()->pid);
        QVERIFY2(environ.find(std::string("CARGO_BUILD_JOBS=1\0", 19)) != std::string::npos,
                 "the running cargo must have CARGO_BUILD_JOBS=1 in its environment");

        const BuildRunResult result = waitFinished(finished);
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Succeeded, result.diagnosis.summary.c_str());
        QCOMPARE(result.exitCode.value_or(-1), 0);
        QVERIFY(result.artifactPath.endsWith("/release/examples/hello"));
        QVERIFY(result.artifactSize > 0);
        QVERIFY(result.peakTreeBytes > 0);

        BuildHistory history(ws.scratch() + "/history.sqlite");
        QVERIFY(history.ok());
        QVERIFY(history.record(info->root, plan, result, 1000) > 0);
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

        BuildRunner runner;
        LiveFeed feed(runner);
        QSignalSpy steps(&runner, &BuildRunner::stepStarted);
        QSignalSpy output(&runner, &BuildRunner::outputArrived);
        QSignalSpy finished(&runner, &BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        const BuildRunResult result = waitFinished(finished);
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

        for (const bool counterRises : {true, false}) {
            BuildRunner runner;
            QSignalSpy finished(&runner, &BuildRunner::finished);
            QVERIFY(runner.start(request, plan));
            // The machine's counter counts only with memory near its limit.
            runner.observe(memorySnapshot(counterRises ? 0.95 : 0.5, 3));
            QTRY_VERIFY(runner.concluding());
            runner.observe(memorySnapshot(counterRises ? 0.95 : 0.5, counterRises ? 4 : 3));
            const BuildRunResult result = waitFinished(finished, 5000);
            QCOMPARE(result.exitCode.value_or(-1), 101);
            if (counterRises) {
                QVERIFY2(result.diagnosis.verdict == BuildVerdict::OutOfMemory,
                         result.diagnosis.summary.c_str());
                QVERIFY(result.diagnosis.summary.find("crate demo") != std::string::npos);
                QCOMPARE(result.diagnosis.nextPreset.value(), BuildPreset::B);
            } else {
                QVERIFY2(result.diagnosis.verdict == BuildVerdict::KilledBySignal,
                         result.diagnosis.summary.c_str());
                QVERIFY(result.diagnosis.summary.find("killed by signal 9") != std::string::npos);
                QVERIFY(!result.diagnosis.nextPreset);
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
        BuildRunner runner;
        runner.setGracePeriod(std::chrono::milliseconds(300));
        QCOMPARE(runner.oomScoreAdj(), 500);
        QSignalSpy finished(&runner, &BuildRunner::finished);
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
        runner.observe(memorySnapshot(0.3));
        QCOMPARE(waitFinished(finished, 15000).diagnosis.verdict, BuildVerdict::Cancelled);
    }

    void headlessBuildSuggestsTheSameBuildAndRejectsBadFigures()
    {
        QTemporaryDir dir;
        const QString project = dir.path() + "/oom $(touch pwned)";
        QDir().mkpath(project);
        CargoWorkspace::write(project + "/Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
        for (const QStringList& bad :
             {QStringList{"--need", "-5"}, {"--need", "nan"}, {"--need", "1e30"}, {"--max-used", "abc"},
              {"--jobs", "0"}, {"--jobs", "2000"}, {"--oom-score-adj", "-1"}})
            QCOMPARE(runHeadlessBuild(QStringList{"--project", project} + bad), 2);
        QVERIFY(!QFile::exists(dir.path() + "/pwned"));
    }

    void sigintStopsTheHeadlessBuildTree()
    {
        CargoWorkspace ws(60000); // a build script that runs for a minute
        QTemporaryDir home;
        const Pid self = ::getpid();
        std::vector<Pid> tree;
        // The build must be under way, its build script running, before Ctrl+C.
        QTimer poll;
        poll.setInterval(200);
        QObject::connect(&poll, &QTimer::timeout, [&] {
            const auto now = ProcessSpawner::liveDescendants(self);
            bool script = false;
            for (Pid p : now) {
                QFile cmd(QStringLiteral("/proc/%1/cmdline").arg(p));
                cmd.open(QIODevice::ReadOnly);
                script = script || cmd.readAll().contains("build-script-build");
            }
            if (script) {
                tree = now;
                poll.stop();
                ::kill(self, SIGINT);
            }
        });
        poll.start();
        const int rc = runHeadlessBuild({"--project", ws.root(), "--preset", "B", "--history",
                                         home.path() + "/h.sqlite", "--args", "--offline"});
        QCOMPARE(rc, 130);
        QVERIFY(!tree.empty());
        for (Pid p : tree)
            QTRY_VERIFY(ProcessSpawner::stateOf(p) == 0 || ProcessSpawner::stateOf(p) == 'Z');
        // Ctrl+C is Qt's default again afterwards: the handler is gone.
        struct sigaction now {};
        ::sigaction(SIGINT, nullptr, &now);
        QVERIFY(now.sa_handler == SIG_DFL);
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
        CargoWorkspace::write(cg + "/memory.memsw.limit_in_bytes", "67108864"); // where swap accounting exists

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
            BuildRunner runner;
            LiveFeed feed(runner);
            QSignalSpy finished(&runner, &BuildRunner::finished);
            QVERIFY(runner.start(request, planBuild(request, BuildPreset::A)));
            const BuildRunResult r = waitFinished(finished, 30000);
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
        BuildRunner runner;
        LiveFeed feed(runner);
        QSignalSpy finished(&runner, &BuildRunner::finished);
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
        const BuildRunResult r = waitFinished(finished, 30000);
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
        const auto info = WorkspaceInfo::load(ws.root(), "cargo", &error);
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

        BuildRunner runner;
        runner.setGracePeriod(std::chrono::milliseconds(500));
        spawner.installAs("cc");
        QSignalSpy finished(&runner, &BuildRunner::finished);
        QVERIFY(runner.start(request, plan));
        QTRY_VERIFY(runner.rootKey().has_value());
        const Pid root = runner.rootKey()->pid;
        QTRY_COMPARE(ProcessSpawner::liveDescendants(root).size(), std::size_t(3));
        const auto members = ProcessSpawner::liveDescendants(root);
        runner.stop();
        runner.observe(memorySnapshot(0.3)); // lets the diagnosis conclude without waiting
        const BuildRunResult result = waitFinished(finished, 15000);
        QCOMPARE(result.diagnosis.verdict, BuildVerdict::Cancelled);
        for (Pid p : members)
            QTRY_VERIFY(ProcessSpawner::stateOf(p) == 0 || ProcessSpawner::stateOf(p) == 'Z');
        QVERIFY(!runner.isRunning());
    }

    void waitingStartBeginsOnlyWhenChecksPass()
    {
        BuildGate gate;
        QSignalSpy ready(&gate, &BuildGate::ready);
        QSignalSpy waiting(&gate, &BuildGate::stillWaiting);
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
        CustomPreset bad{"", "", "'unclosed", "NOEQUALS", {}};
        QCOMPARE(bad.problems().size(), 4);
        CustomPreset make{"make all", "sh", "-c 'echo \"custom ran in $PWD with $LEVEL\"'", "LEVEL=3", {}};
        QVERIFY(make.problems().isEmpty());
        {
            LauncherController controller(dir.path() + "/h.sqlite", ini);
            controller.setCustomPresets({make});
        }
        LauncherController controller(dir.path() + "/h.sqlite", ini);
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

        QSignalSpy finished(&controller, &LauncherController::finished);
        QSignalSpy output(&controller.runner(), &BuildRunner::outputArrived);
        QString problem;
        QVERIFY2(
            controller.start(request, BuildPreset::Custom, LauncherController::StartMode::Anyway, &problem),
            qPrintable(problem));
        controller.observe(memorySnapshot(0.3));
        QVERIFY(finished.wait(10000) || !finished.isEmpty());
        const auto result = finished.first().at(0).value<BuildRunResult>();
        QCOMPARE(result.diagnosis.verdict, BuildVerdict::Succeeded);
        QString all;
        for (const auto& chunk : output)
            all += chunk.at(0).toString();
        QVERIFY2(all.contains("custom ran in " + dir.path() + " with 3"), qPrintable(all));
    }

    void historySurvivesAndCorruptionIsKeptAside()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + "/history.sqlite";
        BuildPlan plan = planBuild(BuildRequest{}, BuildPreset::Auto, JobsChoice{4, "x"});
        BuildRunResult run;
        run.preset = BuildPreset::Auto;
        run.jobs = 4;
        run.exitCode = 0;
        run.seconds = 100;
        run.diagnosis.verdict = BuildVerdict::Succeeded;
        run.peakTreeBytes = 9 * GiB;
        run.peakByCrate = {{"pyphi", 3 * GiB}, {"numpy", 2 * GiB}};
        {
            BuildHistory history(path);
            QVERIFY(history.ok());
            QVERIFY(history.record("/p", plan, run, 1));
            run.seconds = 300;
            run.peakTreeBytes = 5 * GiB;
            QVERIFY(history.record("/p", plan, run, 2));
            QVERIFY(history.record("/other", plan, run, 3));
        }
        BuildHistory reopened(path);
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
        BuildHistory recovered(broken);
        QVERIFY(recovered.ok());
        QVERIFY2(recovered.warning().contains("moved to"), qPrintable(recovered.warning()));
        const QStringList aside = QDir(dir.path()).entryList({"broken.sqlite.corrupt-*"});
        QCOMPARE(aside.size(), 1);
        QFile kept(dir.path() + "/" + aside.first());
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QVERIFY(kept.readAll().startsWith("this is not a database"));
        QVERIFY(recovered.record("/p", plan, run, 4));
    }
};

QTEST_GUILESS_MAIN(TestBuildLauncher)
#include "TestBuildLauncher.moc"
