// SPDX-License-Identifier: GPL-3.0-or-later
// The Build page's controller and `headroom build` given the same request,
// snapshot and history: the same plan, the same checks and the same heavy
// processes, for every preset. The workspace is a real cargo project read
// with cargo metadata; the history is a real database with recorded runs.
#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/HeadlessSession.h"
#include "services/launcher/LauncherController.h"
#include "services/launcher/WorkspaceInfo.h"
#include "support/CargoWorkspace.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;
using namespace headroom::services;

namespace {
ProcessSample process(Pid pid, Pid parent, std::string name, std::vector<std::string> argv, std::uint64_t rss,
                      const std::string& cwd, std::string exe = {})
{
    ProcessSample p;
    p.key = {pid, std::uint64_t(pid)};
    p.parentPid = parent;
    p.name = name;
    p.exe = exe.empty() ? "/usr/bin/" + name : exe;
    p.argv = std::move(argv);
    p.cwd = cwd;
    p.residentBytes = rss;
    return p;
}

// 32 GiB of RAM, 14 available and no swap; another cargo build of the same
// workspace with its rustc, test processes (one a zombie, one holding
// nothing), a browser and a kernel thread.
std::shared_ptr<const Snapshot> machine(const std::string& root)
{
    Snapshot s;
    s.memory.total = 32 * GiB;
    s.memory.available = 14 * GiB;
    s.memory.used = s.memory.total - s.memory.available;
    const std::string test = root + "/target/release/deps/sweep-0123456789abcdef";
    ProcessSample kthread = process(2, 0, "kswapd0", {}, 20 * GiB, "/");
    kthread.kernelThread = true;
    s.processes.push_back(kthread);
    s.processes.push_back(process(100, 1, "cargo", {"cargo", "build", "--release"}, 100 * MiB, root));
    s.processes.push_back(process(101, 100, "rustc", {"rustc", "--crate-name", "demo"}, 3 * GiB, root));
    s.processes.push_back(process(200, 1, "sweep-0123456789", {"sweep"}, GiB, root, test));
    s.processes.push_back(process(201, 1, "sweep-0123456789", {"sweep"}, 2 * GiB, root, test));
    ProcessSample zombie = process(202, 1, "sweep-0123456789", {"sweep"}, 9 * GiB, root, test);
    zombie.state = ProcessState::Zombie;
    s.processes.push_back(zombie);
    s.processes.push_back(process(203, 1, "sweep-0123456789", {"sweep"}, 0, root, test));
    s.processes.push_back(process(300, 1, "firefox", {"firefox"}, 5 * GiB, "/home"));
    s.processes.push_back(process(301, 1, "code", {"code"}, 100 * MiB, "/home"));
    s.processes.push_back(process(302, 1, "code", {"code"}, 100 * MiB, "/home"));
    RoleClassifier().classify(s.processes);
    assembleBuilds(s);
    return std::make_shared<const Snapshot>(std::move(s));
}

BuildRunResult finishedRun(BuildVerdict verdict, quint64 peak, std::map<std::string, quint64> crates = {})
{
    BuildRunResult r;
    r.diagnosis.verdict = verdict;
    r.exitCode = verdict == BuildVerdict::Succeeded ? 0 : 101;
    r.seconds = 30;
    r.peakTreeBytes = peak;
    r.peakByCrate = std::move(crates);
    return r;
}

void compareSteps(const BuildPlan& a, const BuildPlan& b)
{
    QCOMPARE(a.preset, b.preset);
    QCOMPARE(a.steps.size(), b.steps.size());
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        QCOMPARE(a.steps[i].title, b.steps[i].title);
        QCOMPARE(a.steps[i].program, b.steps[i].program);
        QCOMPARE(a.steps[i].args, b.steps[i].args);
        QCOMPARE(a.steps[i].environment, b.steps[i].environment);
        QCOMPARE(a.steps[i].workingDir, b.steps[i].workingDir);
        QCOMPARE(a.steps[i].displayLine(), b.steps[i].displayLine());
    }
    QCOMPARE(a.jobs, b.jobs);
    QCOMPARE(a.jobsExplanation, b.jobsExplanation);
    QCOMPARE(a.profileDir, b.profileDir);
    QCOMPARE(a.artifactPath, b.artifactPath);
    QCOMPARE(a.freeMemoryFirst, b.freeMemoryFirst);
    QCOMPARE(a.note, b.note);
}

std::vector<Pid> pids(const std::vector<ProcessSample>& rows)
{
    std::vector<Pid> out;
    for (const auto& p : rows)
        out.push_back(p.key.pid);
    return out;
}
} // namespace

class TestBuildSessionAdapters : public QObject {
    Q_OBJECT

  private slots:
    void buildPageAndHeadlessBuildAgree()
    {
        CargoWorkspace ws;
        QTemporaryDir dir;
        const QString historyPath = dir.path() + "/history.sqlite";
        QString error;
        const auto info = WorkspaceInfo::load(ws.root(), "cargo", &error);
        QVERIFY2(info, qPrintable(error));

        BuildRequest request;
        request.projectDir = ws.root().toStdString();
        request.targetKind = TargetKind::Example;
        request.targetName = "hello";
        request.features = "fast";
        request.extraArgs = {"--offline"};

        // Learned: 20 GiB for C, 12 GiB for B, nothing for A and D; 3 GiB per job.
        {
            BuildHistory history(historyPath);
            QVERIFY2(history.ok(), qPrintable(history.warning()));
            const RunTarget target = RunTarget::of(request);
            QVERIFY(history.record(info->root, planBuild(request, BuildPreset::C),
                                   finishedRun(BuildVerdict::Succeeded, 20 * GiB), 1, target));
            QVERIFY(history.record(info->root, planBuild(request, BuildPreset::B),
                                   finishedRun(BuildVerdict::Succeeded, 12 * GiB, {{"demo", 3 * GiB}}), 2,
                                   target));
        }

        LauncherController controller(historyPath, dir.path() + "/launcher.ini");
        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        controller.openProject(ws.root());
        QVERIFY(loaded.wait(60000));
        const auto snapshot = machine(info->root.toStdString());
        controller.observe(snapshot);

        const BuildHistory history(historyPath);
        QVERIFY2(history.ok(), qPrintable(history.warning()));
        HeadlessOptions options; // `headroom build` with its defaults: 80% used, learned need
        options.request = request;
        options.historyPath = historyPath;

        for (BuildPreset preset :
             {BuildPreset::A, BuildPreset::B, BuildPreset::C, BuildPreset::D, BuildPreset::Auto}) {
            options.preset = preset;
            const BuildSession headless = headlessSession(options, *info, history, snapshot);
            const BuildPlan page = controller.plan(request, preset);
            const BuildPlan terminal = headless.plan();
            compareSteps(page, terminal);
            QVERIFY(!page.steps.empty());
            QCOMPARE(page.artifactPath,
                     (info->targetDir + "/" + QString::fromStdString(page.profileDir) + "/examples/hello")
                         .toStdString());

            const auto pageChecks = controller.checks(request, preset);
            const auto terminalChecks = headless.checks();
            QCOMPARE(pageChecks.size(), std::size_t(4));
            QCOMPARE(pageChecks.size(), terminalChecks.size());
            for (std::size_t i = 0; i < pageChecks.size(); ++i) {
                QCOMPARE(pageChecks[i].id, terminalChecks[i].id);
                QCOMPARE(pageChecks[i].passed, terminalChecks[i].passed);
                QCOMPARE(pageChecks[i].verdict, terminalChecks[i].verdict);
                QCOMPARE(pageChecks[i].offenders, terminalChecks[i].offenders);
            }
            // The other cargo build of this workspace is seen by both.
            QVERIFY(!pageChecks[2].passed);
            QCOMPARE(pageChecks[2].offenders.size(), std::size_t(1));
            QCOMPARE(pageChecks[2].offenders[0].pid, Pid(100));
            // The learned peak of the preset is what both need.
            const std::uint64_t need = preset == BuildPreset::C   ? 20 * GiB
                                       : preset == BuildPreset::B ? 12 * GiB
                                                                  : 8 * GiB;
            QVERIFY2(pageChecks[1].verdict.find(formatBytes(need) + " needed") != std::string::npos,
                     pageChecks[1].verdict.c_str());
            QCOMPARE(pageChecks[1].passed, preset != BuildPreset::C); // 14 GiB there

            const auto pageHeavy = controller.heavyProcesses();
            const auto terminalHeavy = headless.heavyProcesses();
            QCOMPARE(pids(pageHeavy), pids(terminalHeavy));
            // Tests, rustc, the rest; no zombie, nothing empty, no kernel thread.
            QCOMPARE(pids(pageHeavy), (std::vector<Pid>{201, 200, 101, 300, 100, 301, 302}));
        }
        // Auto divided by the learned 3 GiB per job on both sides.
        const BuildPlan autoPlan = controller.plan(request, BuildPreset::Auto);
        QVERIFY2(autoPlan.jobsExplanation.find(formatBytes(3 * GiB) + " per job (the peak of past builds)") !=
                     std::string::npos,
                 autoPlan.jobsExplanation.c_str());

        // An explicit --need wins on the terminal, as the page's default need does not.
        options.preset = BuildPreset::C;
        options.need = 2 * GiB;
        QVERIFY(headlessSession(options, *info, history, snapshot).checks().at(1).passed);
    }

    void defaultTargetIsTheOnlyBinaryOnTheTerminal()
    {
        CargoWorkspace ws;
        CargoWorkspace::write(ws.root() + "/src/main.rs",
                              "fn main() { println!(\"{}\", demo::answer()); }\n");
        QTemporaryDir dir;
        QString error;
        const auto info = WorkspaceInfo::load(ws.root(), "cargo", &error);
        QVERIFY2(info, qPrintable(error));
        const BuildHistory history(dir.path() + "/h.sqlite");
        HeadlessOptions options;
        options.request.projectDir = ws.root().toStdString();
        const BuildSession session = headlessSession(options, *info, history, nullptr);
        QCOMPARE(session.request().targetDir, info->targetDir.toStdString());
        QVERIFY(session.checks().empty()); // no snapshot
        QCOMPARE(session.request().targetName, std::string("demo"));
        QCOMPARE(session.plan().artifactPath, (info->targetDir + "/release/demo").toStdString());
    }
};

QTEST_GUILESS_MAIN(TestBuildSessionAdapters)
#include "TestBuildSessionAdapters.moc"
