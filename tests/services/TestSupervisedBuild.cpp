// SPDX-License-Identifier: GPL-3.0-or-later
// Builds belong to their supervisor, not to the window: a real cargo build
// started by a launcher in another process survives that process's SIGKILL
// and is recorded; a running build is followed again by a new launcher,
// whose stop ends every process of its tree.
#include "headroom/Platform.h"
#include "headroom/RunsFolder.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/BuildRunner.h"
#include "services/launcher/LauncherController.h"
#include "support/CargoWorkspace.h"
#include "support/ProcessSpawner.h"

#include <QCoreApplication>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace headroom;
using namespace headroom::services;

namespace {

constexpr int kBuildScriptMs = 4000;
constexpr const char* kChildMode = "--launch-and-wait";

BuildRequest requestFor(const QString& project)
{
    BuildRequest r;
    r.projectDir = project.toStdString();
    r.targetKind = TargetKind::Example;
    r.targetName = "hello";
    r.profile = "release";
    r.extraArgs = {"--offline"};
    return r;
}

// The other process: a launcher, as the window has, that starts preset B
// of the project, prints the run's id and waits to be killed.
int launchAndWait(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 6)
        return 2;
    const QString history = QString::fromLocal8Bit(argv[2]);
    const QString settings = QString::fromLocal8Bit(argv[3]);
    const QString runsDir = QString::fromLocal8Bit(argv[4]);
    const QString project = QString::fromLocal8Bit(argv[5]);
    LauncherController controller(history, settings);
    controller.setRunsDir(runsDir);
    QObject::connect(&controller, &LauncherController::workspaceLoaded, [&] {
        QString problem;
        if (!controller.start(requestFor(project), BuildPreset::B, LauncherController::StartMode::Anyway,
                              &problem)) {
            std::fprintf(stderr, "cannot start: %s\n", qPrintable(problem));
            app.exit(3);
        }
    });
    QObject::connect(&controller, &LauncherController::workspaceFailed,
                     [&](const QString&, const QString& why) {
                         std::fprintf(stderr, "cannot load: %s\n", qPrintable(why));
                         app.exit(4);
                     });
    QObject::connect(&controller, &LauncherController::message,
                     [](const QString& text) { std::fprintf(stderr, "%s\n", qPrintable(text)); });
    QTimer announce;
    announce.setInterval(50);
    QObject::connect(&announce, &QTimer::timeout, [&] {
        if (controller.runningRunId().isEmpty())
            return;
        std::printf("run %s\n", qPrintable(controller.runningRunId()));
        std::fflush(stdout);
        announce.stop();
    });
    announce.start();
    controller.openProject(project);
    return app.exec();
}

std::optional<RunStatus> statusOf(const QString& runsDir, const QString& id)
{
    auto found = findRun(runsDir.toStdString(), id.toStdString());
    if (!found)
        return std::nullopt;
    return found.value().status;
}

// The current step's live tree, root first.
std::vector<Pid> treeOf(const RunStatus& status)
{
    const auto root = status.currentRoot();
    if (!root || !ProcessSpawner::isAlive(root->pid))
        return {};
    std::vector<Pid> tree{root->pid};
    for (Pid p : ProcessSpawner::liveDescendants(root->pid))
        tree.push_back(p);
    return tree;
}

bool runsBuildScript(const RunStatus& status)
{
    for (Pid p : treeOf(status)) {
        QFile cmd(QStringLiteral("/proc/%1/cmdline").arg(p));
        if (cmd.open(QIODevice::ReadOnly) && cmd.readAll().contains("build-script-build"))
            return true;
    }
    return false;
}

bool gone(Pid pid)
{
    const char state = ProcessSpawner::stateOf(pid);
    return state == 0 || state == 'Z' || state == 'X';
}

} // namespace

class TestSupervisedBuild : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("cargo").isEmpty())
            QFAIL("cargo is not on PATH: scripts/dev.sh test installs it");
        QString why;
        QVERIFY2(!BuildRunner::supervisorProgram(&why).isEmpty(), qPrintable(why));
    }

    void buildOutlivesTheKilledLauncherAndIsRecorded()
    {
        CargoWorkspace ws(kBuildScriptMs);
        QTemporaryDir home;
        const QString history = home.path() + "/history.sqlite";
        const QString settings = home.path() + "/launcher.ini";
        const QString runsDir = home.path() + "/runs";

        QProcess child;
        child.setProcessChannelMode(QProcess::SeparateChannels);
        child.start(QCoreApplication::applicationFilePath(),
                    {kChildMode, history, settings, runsDir, ws.root()});
        QVERIFY(child.waitForStarted());
        QString runId;
        QByteArray said;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                said += child.readAllStandardOutput();
                const qsizetype at = said.indexOf("run ");
                const qsizetype end = said.indexOf('\n', at);
                if (at < 0 || end < 0)
                    return false;
                runId = QString::fromUtf8(said.mid(at + 4, end - at - 4));
                return true;
            }(),
            60000);
        QVERIFY2(isValidRunId(runId.toStdString()), qPrintable(runId));

        // Killed while its build script sleeps: the build is under way.
        std::optional<RunStatus> status;
        QTRY_VERIFY_WITH_TIMEOUT((status = statusOf(runsDir, runId)) && runsBuildScript(*status), 180000);
        const std::vector<Pid> tree = treeOf(*status);
        QVERIFY(::kill(pid_t(child.processId()), SIGKILL) == 0);
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        QVERIFY2(ProcessSpawner::isAlive(tree.front()), "the build went down with its launcher");

        // The build ends on its own, and well.
        QTRY_VERIFY_WITH_TIMEOUT((status = statusOf(runsDir, runId)) && status->state == RunState::Finished,
                                 240000);
        QVERIFY(status->diagnosis);
        QVERIFY2(status->diagnosis->verdict == BuildVerdict::Succeeded, status->diagnosis->summary.c_str());
        const QString artifact = QString::fromStdString(status->artifactPath);
        QVERIFY2(artifact.endsWith("/debug/examples/hello") && QFileInfo(artifact).isFile(),
                 qPrintable(artifact));

        // The next window's launcher has it in its history.
        const QString posted = QString::fromStdString(
            (historyInboxDir(history.toStdString()) / (runId.toStdString() + ".json")).string());
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(posted), 20000);
        LauncherController controller(history, settings);
        controller.setRunsDir(runsDir);
        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        controller.openProject(ws.root());
        QVERIFY(loaded.wait(60000));
        const auto runs = controller.runs();
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].runId, runId);
        QCOMPARE(runs[0].verdict, QString("succeeded"));
        QCOMPARE(runs[0].exitCode.value_or(-1), 0);
        QVERIFY2(runs[0].seconds > kBuildScriptMs / 1000.0, qPrintable(QString::number(runs[0].seconds)));
        QCOMPARE(runs[0].preset, QString("B"));
        QCOMPARE(runs[0].target.kind, QString("example"));
        QVERIFY(!QFileInfo::exists(posted));                           // imported once, then removed
        QCOMPARE(controller.state(), LauncherController::State::Idle); // a finished run is not adopted
    }

    void runningBuildIsAdoptedAndItsStopEndsTheWholeTree()
    {
        QTemporaryDir home;
        const QString history = home.path() + "/history.sqlite";
        const QString runsDir = home.path() + "/runs";
        BuildRequest request;
        request.projectDir = home.path().toStdString();
        BuildPlan plan;
        plan.preset = BuildPreset::Custom;
        BuildStep step;
        step.title = "ticking build";
        step.program = "sh";
        // Two children that would outlive a careless stop, output, and
        // cargo's progress line on standard error.
        step.args = {"-c", "sleep 300 & sleep 300 & i=0; while [ $i -lt 1500 ]; do echo \"tick $i\"; "
                           "printf '    Building [=>   ] %d/1500: demo, other\\r' $i >&2; i=$((i+1)); "
                           "sleep 0.2; done; wait"};
        step.workingDir = request.projectDir;
        plan.steps.push_back(step);

        QString id;
        {
            // The first front-end starts it and goes away: the run stays.
            BuildRunner first;
            first.setRunsDir(runsDir);
            first.setHistoryPath(history);
            first.setProject(home.path());
            first.setTarget({}, "custom", "ticking", {});
            first.setGracePeriod(std::chrono::milliseconds(1000));
            QString error;
            QVERIFY2(first.start(request, plan, &error), qPrintable(error));
            id = first.runId();
            QTRY_VERIFY_WITH_TIMEOUT(first.rootKey().has_value(), 20000);
        }
        std::optional<RunStatus> status;
        QTRY_VERIFY_WITH_TIMEOUT((status = statusOf(runsDir, id)) && treeOf(*status).size() >= 3, 20000);

        LauncherController controller(history, home.path() + "/launcher.ini");
        controller.setRunsDir(runsDir);
        QSignalSpy planStarted(&controller, &LauncherController::planStarted);
        QSignalSpy output(&controller, &LauncherController::outputArrived);
        QSignalSpy progress(&controller, &LauncherController::progressChanged);
        QSignalSpy finished(&controller, &LauncherController::finished);
        QTRY_COMPARE_WITH_TIMEOUT(controller.state(), LauncherController::State::Running, 10000);
        QCOMPARE(controller.runningRunId(), id);
        QCOMPARE(planStarted.size(), 1);
        QCOMPARE(planStarted.at(0).at(0).value<BuildPlan>().steps.at(0).title, std::string("ticking build"));
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 10000);
        QCOMPARE(progress.last().at(1).toUInt(), 1500u);
        QVERIFY(progress.last().at(0).toUInt() <= 1500u);
        const int before = int(output.size());
        QTRY_VERIFY_WITH_TIMEOUT(output.size() > before, 5000); // still arriving, live
        QString all;
        for (const auto& chunk : output)
            all += chunk.at(0).toString();
        QVERIFY2(all.contains("tick "), qPrintable(all.right(300)));
        QVERIFY2(!all.contains("Building ["), qPrintable(all.right(300))); // the progress bar, not the log
        QCOMPARE(controller.runningBuildRoot(), status->currentRoot());

        // Every process the run had: the supervisor's steps' roots and their trees.
        status = statusOf(runsDir, id);
        QVERIFY(status);
        std::vector<Pid> members = treeOf(*status);
        for (const auto& s : status->steps) {
            if (s.root)
                members.push_back(s.root->pid);
        }
        const Pid group = status->currentRoot()->pid; // each step leads its own process group
        QVERIFY(members.size() >= 3);

        controller.stop();
        QVERIFY(finished.wait(30000) || !finished.isEmpty());
        const auto result = finished.first().at(0).value<BuildRunResult>();
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Cancelled, result.diagnosis.summary.c_str());
        QCOMPARE(result.runId, id);
        for (Pid p : members)
            QTRY_VERIFY2(gone(p), qPrintable(QStringLiteral("pid %1 survived the stop").arg(p)));
        errno = 0;
        QTRY_VERIFY(::kill(-pid_t(group), 0) == -1 && errno == ESRCH);
        status = statusOf(runsDir, id);
        QVERIFY(status && status->state == RunState::Finished);
        QVERIFY(status->stopRequested);
        QCOMPARE(controller.state(), LauncherController::State::Idle);

        // Recorded once, as stopped by the user, though both the launcher and
        // the supervisor (into the inbox, before it exits) record it.
        QVERIFY(status->supervisor);
        QTRY_VERIFY_WITH_TIMEOUT(!platform::isAlive(*status->supervisor), 20000);
        BuildHistory recorded(history);
        QVERIFY(recorded.ok());
        QVERIFY(QDir(recorded.inboxPath()).entryList({"*.json"}, QDir::Files).isEmpty());
        const auto runs = recorded.runs(home.path());
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].runId, id);
        QCOMPARE(runs[0].verdict, QString("cancelled"));
        QVERIFY2(runs[0].summary.contains("stopped", Qt::CaseInsensitive), qPrintable(runs[0].summary));
    }
};

int main(int argc, char** argv)
{
    if (argc > 1 && std::string(argv[1]) == kChildMode)
        return launchAndWait(argc, argv);
    QCoreApplication app(argc, argv);
    TestSupervisedBuild test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestSupervisedBuild.moc"
