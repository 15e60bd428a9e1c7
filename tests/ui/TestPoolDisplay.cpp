// SPDX-License-Identifier: GPL-3.0-or-later
// The job pool on screen: the Build page of a run whose status has a pool
// (written by the test, followed by the real runner), the builds panel over
// a real ledger, and the Adaptive preset offered first.
#include "headroom/JobPool.h"
#include "headroom/Platform.h"
#include "headroom/RunsFolder.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "services/PoolWatcher.h"
#include "services/launcher/LauncherController.h"
#include "support/CargoWorkspace.h"
#include "ui/BuildsModel.h"
#include "ui/BuildsPanel.h"
#include "ui/launcher/CustomPresetsDialog.h"
#include "ui/launcher/LauncherPanel.h"
#include "ui/launcher/PoolChart.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDateTime>
#include <QGroupBox>
#include <QLabel>
#include <QProcess>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include <filesystem>

using namespace headroom;
using namespace headroom::services;
using namespace headroom::ui;
namespace fs = std::filesystem;

namespace {
std::int64_t nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

std::shared_ptr<const Snapshot> live()
{
    static auto sampler = SystemSampler::create();
    auto s = sampler->sample();
    return std::make_shared<const Snapshot>(std::move(s.value()));
}

ProcessKey selfKey()
{
    return platform::identify(platform::currentPid())->key;
}

// A pooled run as its supervisor writes it, supervised by this test process
// (alive, so the follower does not call it lost).
RunStatus pooledRun(const std::string& id)
{
    RunStatus s;
    s.spec.id = id;
    s.spec.title = "adaptive · demo";
    s.spec.preset = BuildPreset::Adaptive;
    s.spec.pool = true;
    s.spec.createdMs = nowMs();
    BuildStep step;
    step.title = "Build demo";
    step.program = "cargo";
    step.args = {"build", "--release"};
    s.spec.steps = {step};
    s.state = RunState::Running;
    s.startedMs = nowMs();
    s.supervisor = selfKey();
    s.step = 0;
    RunStepStatus st;
    st.root = selfKey();
    st.startedMs = s.startedMs;
    s.steps = {st};
    PoolStatus& p = s.pool;
    p.active = true;
    p.granted = 1;
    p.inUse = 1;
    p.poolGranted = 2;
    p.poolBuilds = 2;
    p.cpus = 4;
    p.budgetBytes = std::uint64_t(3.2 * double(GiB));
    p.limitBytes = 4 * GiB;
    p.limit = "container limit 4.0 GiB";
    p.reserveBytes = 512 * MiB;
    p.predictedBytes = 2 * GiB + 100 * MiB;
    p.heldBack = "tsz_checker may grow by 1.4 GiB and only 0.9 GiB is left";
    p.parallelism = {{0, 1}, {1500, 2}, {4000, 2}};
    return s;
}

QLabel* label(QWidget& in, const char* name)
{
    auto* l = in.findChild<QLabel*>(QLatin1String(name));
    return l;
}

void writeLedger(const fs::path& dir, const PoolState& state)
{
    fs::create_directories(dir);
    const std::string json = toJson(state);
    QFile f(QString::fromStdString((dir / "pool.json").string()));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(json.data(), qint64(json.size()));
}
} // namespace

// N crates whose build scripts sleep, so a real cargo build runs several
// jobs at once for long enough to be watched.
class SleepyWorkspace {
  public:
    explicit SleepyWorkspace(int crates, int sleepMs)
    {
        root_ = dir_.path() + "/sleepy";
        QStringList members, deps;
        for (int i = 1; i <= crates; ++i) {
            const QString name = QStringLiteral("part%1").arg(i);
            members << '"' + name + '"';
            deps << QStringLiteral("%1 = { path = \"%1\" }").arg(name);
            QDir().mkpath(root_ + "/" + name + "/src");
            CargoWorkspace::write(root_ + "/" + name + "/Cargo.toml",
                                  QStringLiteral("[package]\nname = \"%1\"\nversion = \"0.1.0\"\nedition = "
                                                 "\"2021\"\nbuild = \"build.rs\"\n")
                                      .arg(name)
                                      .toUtf8());
            CargoWorkspace::write(
                root_ + "/" + name + "/build.rs",
                QStringLiteral("fn main() { std::thread::sleep(std::time::Duration::from_millis(%1)); }\n")
                    .arg(sleepMs + 300 * i)
                    .toUtf8());
            CargoWorkspace::write(root_ + "/" + name + "/src/lib.rs",
                                  QStringLiteral("pub fn value() -> u32 { %1 }\n").arg(i).toUtf8());
        }
        QDir().mkpath(root_ + "/src");
        CargoWorkspace::write(
            root_ + "/Cargo.toml",
            QStringLiteral("[package]\nname = \"sleepy\"\nversion = \"0.1.0\"\nedition = "
                           "\"2021\"\n\n[dependencies]\n%1\n\n[workspace]\nmembers = [%2]\n")
                .arg(deps.join('\n'), members.join(", "))
                .toUtf8());
        CargoWorkspace::write(root_ + "/src/main.rs", "fn main() { println!(\"{}\", part1::value()); }\n");
    }
    QString root() const { return root_; }

  private:
    QTemporaryDir dir_;
    QString root_;
};

class TestPoolDisplay : public QObject {
    Q_OBJECT

    QTemporaryDir poolHome_;
    QString poolDir_;

  private slots:
    void initTestCase()
    {
        // The supervisors these tests start join a pool of their own, not the user's.
        poolDir_ = poolHome_.path() + "/pool";
        qputenv("HEADROOM_POOL_DIR", poolDir_.toUtf8());
        qputenv("HEADROOM_PEAKS_FILE", (poolHome_.path() + "/peaks.json").toUtf8());
    }

    void aRealPooledRunShowsItsPool()
    {
        QTemporaryDir dir;
        const QString runs = dir.path() + "/runs";
        QProcess cli;
        cli.start(qEnvironmentVariable("HEADROOM_CLI"), {"run", "--detach", "--runs-dir", runs, "--history",
                                                         dir.path() + "/history.sqlite", "--", "sleep", "3"});
        QVERIFY(cli.waitForFinished(30000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());

        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.setRunsDir(runs);
        LauncherPanel panel(&controller);
        panel.resize(1100, 900);
        panel.show();
        // Adopted by the controller on its own, or by asking once the supervisor has it.
        QTRY_VERIFY_WITH_TIMEOUT(!controller.runningRunId().isEmpty() || controller.adoptRunning(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.poolBox()->isVisible() && !label(panel, "poolJobs")->text().isEmpty(),
                                 10000);
        QVERIFY2(label(panel, "poolJobs")->text().startsWith("1 job running · 0 of 0 tokens"),
                 qPrintable(label(panel, "poolJobs")->text()));
        QVERIFY2(label(panel, "poolBudget")->text().contains(" left of the "),
                 qPrintable(label(panel, "poolBudget")->text()));
        QVERIFY2(!label(panel, "poolProblem")->isVisible(), qPrintable(label(panel, "poolProblem")->text()));

        // The ledger has it while it runs, and knows its root.
        const PoolView view = PoolView::readNow(poolDir_, runs);
        QVERIFY2(view.problem.isEmpty(), qPrintable(view.problem));
        QCOMPARE(view.state.members.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(view.state.members[0].runId), controller.runningRunId());
        QVERIFY(view.roots.count(view.state.members[0].runId) == 1);
        QVERIFY2(view.summary().startsWith("Job pool: 0 of ") &&
                     view.summary().contains(" tokens in use by 1 build"),
                 qPrintable(view.summary()));

        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(finished.wait(30000));
        QVERIFY(panel.poolBox()->isVisible());
        QVERIFY(panel.poolChart()->pointCount() > 0);
        QCOMPARE(panel.poolChart()->highestJobs(), 1.0);
        QTRY_VERIFY_WITH_TIMEOUT(PoolView::readNow(poolDir_, runs).state.members.empty(), 10000);
    }

    void aRealAdaptiveCargoBuild()
    {
        SleepyWorkspace ws(4, 2500);
        QTemporaryDir dir;
        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.setRunsDir(dir.path() + "/runs");
        LauncherPanel panel(&controller);
        panel.resize(1200, 1000);
        panel.show();
        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(60000));
        QCOMPARE(panel.preset(), BuildPreset::Adaptive);
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(live()); });
        feed.start(500);
        controller.observe(live());
        panel.refreshPreview(); // the checks and Adaptive's start from a memory reading
        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(
            controller.start(panel.request(), BuildPreset::Adaptive, LauncherController::StartMode::Anyway));
        // Watch it draw from the pool until its build scripts run.
        QTRY_VERIFY_WITH_TIMEOUT(panel.poolBox()->isVisible() && panel.poolChart()->pointCount() >= 8 &&
                                     !label(panel, "poolJobs")->text().isEmpty(),
                                 120000);
        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            QTest::qWait(4000); // more of the chart
            QVERIFY(panel.grab().save(shot + "/build-page-adaptive-build.png"));
        }
        QVERIFY(finished.wait(240000));
        const auto result = finished.at(0).at(0).value<BuildRunResult>();
        QVERIFY2(result.diagnosis.verdict == BuildVerdict::Succeeded, result.diagnosis.summary.c_str());
        QVERIFY(result.pool.active);
        QVERIFY2(result.pool.problem.empty(), result.pool.problem.c_str());
        QVERIFY(panel.poolBox()->isVisible());
        QVERIFY(panel.poolChart()->pointCount() >= 8);
        qInfo("adaptive build: %.1f s, highest parallelism %.0f jobs, %d chart points", result.seconds,
              panel.poolChart()->highestJobs(), panel.poolChart()->pointCount());
    }

    void adaptiveIsOfferedFirstAndIsTheDefault()
    {
        CargoWorkspace ws(0);
        QTemporaryDir dir;
        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.setRunsDir(dir.path() + "/runs");
        LauncherPanel panel(&controller);
        QComboBox* box = panel.presetBox();
        QCOMPARE(BuildPreset(box->itemData(0).toInt()), BuildPreset::Adaptive);
        QVERIFY2(box->itemText(0).contains("(recommended)"), qPrintable(box->itemText(0)));
        QVERIFY(box->itemText(0).startsWith("Adaptive"));

        panel.setPreset(BuildPreset::A); // a choice made before the project is read
        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        QCOMPARE(panel.preset(), BuildPreset::Adaptive); // never built here: Adaptive
        const BuildPlan plan = controller.plan(panel.request(), BuildPreset::Adaptive);
        QVERIFY(plan.usesPool);
        bool shown = false;
        for (QLabel* l : panel.findChildren<QLabel*>())
            shown = shown || (l->text().contains(QString::fromStdString(plan.jobsExplanation)) &&
                              l->text().contains(QString::fromStdString(
                                  std::string(presetExplanation(BuildPreset::Adaptive)))));
        QVERIFY2(shown, "the preset's explanation and the pool's start are shown");
    }

    void aCustomPresetCanUseThePool()
    {
        QTemporaryDir dir;
        CustomPreset make{"make pooled", "make", "all", {}, {}};
        make.usePool = true;
        CustomPreset plain{"make plain", "make", "-j4", {}, {}};
        {
            LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
            controller.setCustomPresets({make, plain});
        }
        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        QCOMPARE(controller.customPresets().size(), std::size_t(2));
        QVERIFY(controller.customPresets()[0].usePool); // kept in the settings
        QVERIFY(!controller.customPresets()[1].usePool);
        BuildRequest r;
        r.projectDir = dir.path().toStdString();
        controller.selectCustomPreset(0);
        const BuildPlan pooled = controller.plan(r, BuildPreset::Custom);
        QVERIFY(pooled.usesPool);
        QVERIFY(QString::fromStdString(pooled.note).contains("job pool"));
        controller.selectCustomPreset(1);
        QVERIFY(!controller.plan(r, BuildPreset::Custom).usesPool);

        CustomPresetsDialog dialog(controller.customPresets());
        QTableWidget* table = dialog.table();
        const int poolColumn = table->columnCount() - 1;
        QCOMPARE(table->horizontalHeaderItem(poolColumn)->text(), QString("Job pool"));
        QCOMPARE(table->item(0, poolColumn)->checkState(), Qt::Checked);
        QCOMPARE(table->item(1, poolColumn)->checkState(), Qt::Unchecked);
        table->item(1, poolColumn)->setCheckState(Qt::Checked);
        table->item(0, poolColumn)->setCheckState(Qt::Unchecked);
        const auto edited = dialog.presets();
        QVERIFY(!edited[0].usePool);
        QVERIFY(edited[1].usePool);
    }

    void buildPageShowsThePoolOfAFollowedRun()
    {
        QTemporaryDir dir;
        const QString runs = dir.path() + "/runs";
        const fs::path runsPath(runs.toStdString());
        fs::create_directories(runsPath);
        RunStatus status = pooledRun(newRunId());
        const RunFiles files = RunFiles::of(runsPath, status.spec.id);
        QVERIFY(writeStatusAtomically(files.status, status));
        {
            QFile log(QString::fromStdString(files.log.string()));
            QVERIFY(log.open(QIODevice::WriteOnly));
        }

        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.setRunsDir(runs);
        LauncherPanel panel(&controller);
        panel.resize(1100, 900);
        panel.show();
        QSignalSpy pool(&controller, &LauncherController::poolChanged);
        QVERIFY(controller.adoptRunning());
        QVERIFY(pool.wait(5000));
        QTRY_VERIFY(panel.poolBox()->isVisible());
        QCOMPARE(label(panel, "poolJobs")->text(),
                 QString("2 jobs running · 1 of 1 tokens · pool shared by 2 builds"));
        QCOMPARE(label(panel, "poolBudget")->text(),
                 QString("3.2 GiB left of the container limit 4.0 GiB · 512 MiB kept in reserve"));
        QVERIFY2(label(panel, "poolPredicted")->text().contains("2.1 GiB"),
                 qPrintable(label(panel, "poolPredicted")->text()));
        QVERIFY(label(panel, "poolHeldBack")->text().contains("tsz_checker may grow by 1.4 GiB"));
        QVERIFY(label(panel, "poolHeldBack")->wordWrap());
        QCOMPARE(label(panel, "poolHeldBack")->toolTip(), QString::fromStdString(status.pool.heldBack));
        QVERIFY(!label(panel, "poolPaused")->isVisible());
        QVERIFY(!label(panel, "poolRetries")->isVisible());
        QVERIFY(!label(panel, "poolProblem")->isVisible());
        QCOMPARE(panel.poolChart()->pointCount(), 3);
        QCOMPARE(panel.poolChart()->highestJobs(), 2.0);

        // The supervisor writes again: more points, a paused job, an OOM
        // retry, and a held-back reason with a terminal escape in a crate's name.
        status.pool.parallelism.push_back({6000, 3});
        status.pool.inUse = 2;
        status.pool.granted = 2;
        status.pool.paused = {"rustc tsz_parser (1.1 GiB)"};
        status.pool.oomRetries = 1;
        status.pool.retryCrate = "tsz_checker";
        status.pool.heldBack = "evil\x1b[31mcrate may grow by 2.0 GiB";
        status.updatedMs = nowMs();
        QVERIFY(writeStatusAtomically(files.status, status));
        QTRY_COMPARE_WITH_TIMEOUT(panel.poolChart()->pointCount(), 4, 5000);
        QCOMPARE(label(panel, "poolJobs")->text(),
                 QString("3 jobs running · 2 of 2 tokens · pool shared by 2 builds"));
        QVERIFY(label(panel, "poolPaused")->isVisible());
        QVERIFY(label(panel, "poolPaused")->text().contains("rustc tsz_parser (1.1 GiB)"));
        QVERIFY(label(panel, "poolRetries")->isVisible());
        QCOMPARE(label(panel, "poolRetries")->text(),
                 QString("Resumed once after an OOM kill; tsz_checker is built alone"));
        QVERIFY2(!label(panel, "poolHeldBack")->text().contains(QChar(0x1b)),
                 "an escape never reaches the screen");
        QVERIFY(!label(panel, "poolHeldBack")->toolTip().contains(QChar(0x1b)));

        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            QTest::qWait(100);
            QVERIFY(panel.grab().save(shot + "/build-page-pool-status.png"));
        }

        // The run ends: the figures stay, from the final status.
        status.state = RunState::Finished;
        status.endedMs = nowMs();
        status.exitCode = 0;
        status.stepsRun = 1;
        status.steps[0].exitCode = 0;
        status.steps[0].endedMs = nowMs();
        BuildDiagnosis d;
        d.verdict = BuildVerdict::Succeeded;
        d.summary = "The build succeeded";
        status.diagnosis = d;
        status.pool.inUse = 0;
        status.pool.heldBack.clear();
        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(writeStatusAtomically(files.status, status));
        QVERIFY(finished.wait(10000));
        QVERIFY(panel.poolBox()->isVisible());
        QCOMPARE(label(panel, "poolJobs")->text(), QString("Ended · at most 3 jobs at once"));
        QVERIFY(!label(panel, "poolHeldBack")->isVisible()); // nothing runs to hold back for
        QVERIFY(label(panel, "poolBudget")->isVisible());
        QCOMPARE(panel.poolChart()->pointCount(), 4);
    }

    void aPoolThatCouldNotBeJoinedIsSaid()
    {
        QTemporaryDir dir;
        const QString runs = dir.path() + "/runs";
        const fs::path runsPath(runs.toStdString());
        fs::create_directories(runsPath);
        RunStatus status = pooledRun(newRunId());
        status.pool = PoolStatus{};
        status.pool.problem = "the pool folder /run/user/0/headroom/pool belongs to another user";
        QVERIFY(writeStatusAtomically(RunFiles::of(runsPath, status.spec.id).status, status));
        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.setRunsDir(runs);
        LauncherPanel panel(&controller);
        panel.show();
        QSignalSpy pool(&controller, &LauncherController::poolChanged);
        QVERIFY(controller.adoptRunning());
        QVERIFY(pool.wait(5000));
        QTRY_VERIFY(panel.poolBox()->isVisible());
        QVERIFY(label(panel, "poolProblem")->isVisible());
        QVERIFY(label(panel, "poolProblem")->text().contains("belongs to another user"));
        QVERIFY(!label(panel, "poolJobs")->isVisible());
        QVERIFY(!panel.poolChart()->isVisible());
        // Never controller.stop() here: the test process stands in for the supervisor.
    }

    void buildsPanelShowsThePoolOverEveryBuild()
    {
        QTemporaryDir dir;
        const fs::path runs = fs::path(dir.path().toStdString()) / "runs";
        const fs::path poolDir = fs::path(dir.path().toStdString()) / "pool";
        fs::create_directories(runs);
        // Two pooled runs: one whose step root is in the snapshot's build
        // list (this process, standing in for cargo), one that is not.
        RunStatus mine = pooledRun("run-mine");
        mine.spec.project = "/home/u/src/demo ws";
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, mine.spec.id).status, mine));
        RunStatus other = pooledRun("run-other");
        other.steps[0].root = ProcessKey{999999, 42};
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, other.spec.id).status, other));

        PoolState state;
        state.cpus = 4;
        state.updatedMs = nowMs();
        PoolMember a;
        a.runId = mine.spec.id;
        a.supervisor = selfKey();
        a.title = "adaptive · demo";
        a.granted = 1;
        a.inUse = 1;
        a.jobs = 2;
        a.predictedBytes = GiB;
        a.heldBack = "the memory left (0.9 GiB) is less than tsz_checker's peak\n(1.4 GiB)";
        PoolMember b = a;
        b.runId = other.spec.id;
        b.title = "run · \x1b]0;owned\x07sleep";
        b.granted = 0;
        b.inUse = 0;
        b.jobs = 1;
        b.heldBack.clear();
        state.members = {a, b};
        writeLedger(poolDir, state);

        const PoolView view = PoolView::readNow(QString::fromStdString(poolDir.string()),
                                                QString::fromStdString(runs.string()));
        QVERIFY2(view.problem.isEmpty(), qPrintable(view.problem));
        QCOMPARE(view.state.members.size(), std::size_t(2));
        QCOMPARE(view.roots.at("run-mine"), selfKey());

        auto snapshot = std::make_shared<Snapshot>();
        BuildTree tree;
        tree.root = selfKey();
        tree.tool = "cargo";
        tree.subcommand = "build";
        tree.command = "cargo build --release";
        tree.workspace = dir.path().toStdString();
        tree.members = {tree.root};
        BuildTree unrelated;
        unrelated.root = ProcessKey{888888, 7};
        unrelated.tool = "make";
        unrelated.command = "make -j8";
        unrelated.workspace = "/src/other";
        unrelated.members = {unrelated.root};
        snapshot->builds = {tree, unrelated};

        BuildsPanel panel;
        QAbstractItemModelTester tester(panel.model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        panel.resize(900, 400);
        panel.show();
        panel.setSnapshot(snapshot);
        panel.setPool(view);
        QLabel* line = panel.poolLine();
        QCOMPARE(line->objectName(), QString("poolLine"));
        QVERIFY(line->isVisible());
        QVERIFY2(line->text().startsWith("Job pool: 1 of 1 tokens in use by 2 builds · held back: "),
                 qPrintable(line->text()));
        QVERIFY2(line->text().contains("held back: demo ws: the memory left (0.9 GiB) is less than "
                                       "tsz_checker's peak (1.4 GiB)"),
                 qPrintable(line->text()));
        QVERIFY2(!line->text().contains('\n'), "a line break in a member's words stays out of the line");
        QVERIFY(!line->toolTip().contains(QChar(0x1b)));
        QVERIFY(!line->toolTip().contains(QChar(0x07)));

        BuildsModel* model = panel.model();
        QCOMPARE(model->rowCount(), 2);
        const QModelIndex first = model->index(0, BuildsModel::Build);
        QVERIFY(first.data(BuildsModel::PoolMemberRole).toBool());
        QCOMPARE(first.data(BuildsModel::PoolTokensRole).toUInt(), 1u);
        QVERIFY2(first.data().toString().contains("pool 1/1"), qPrintable(first.data().toString()));
        QVERIFY(first.data(Qt::ToolTipRole).toString().contains("Draws from the job pool"));
        const QModelIndex second = model->index(1, BuildsModel::Build);
        QVERIFY(!second.data(BuildsModel::PoolMemberRole).toBool());
        QVERIFY(!second.data().toString().contains("pool"));

        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            QTest::qWait(50);
            QVERIFY(panel.grab().save(shot + "/builds-panel-pool-ledger.png"));
        }

        // The pool empties: the line goes.
        writeLedger(poolDir, PoolState{});
        panel.setPool(PoolView::readNow(QString::fromStdString(poolDir.string()),
                                        QString::fromStdString(runs.string())));
        QVERIFY(!line->isVisible());
        QVERIFY(!model->index(0, 0).data(BuildsModel::PoolMemberRole).toBool());
    }

    void watcherReadsOffTheGuiThread()
    {
        QTemporaryDir dir;
        const fs::path poolDir = fs::path(dir.path().toStdString()) / "pool";
        PoolState state;
        state.cpus = 2;
        PoolMember m;
        m.runId = "run-x";
        m.supervisor = selfKey();
        m.title = "x";
        m.granted = 1;
        state.members = {m};
        writeLedger(poolDir, state);
        PoolWatcher watcher(QString::fromStdString(poolDir.string()), dir.path() + "/runs");
        QSignalSpy read(&watcher, &PoolWatcher::poolRead);
        watcher.start();
        QVERIFY(read.wait(5000));
        QVERIFY(watcher.view().read);
        QCOMPARE(watcher.view().state.members.size(), std::size_t(1));
        QVERIFY2(watcher.view().summary().startsWith("Job pool: 0 of 1 tokens in use by 1 build"),
                 qPrintable(watcher.view().summary()));

        // A missing ledger is an empty pool, not a problem.
        PoolWatcher none(dir.path() + "/no-pool", dir.path() + "/runs");
        QSignalSpy readNone(&none, &PoolWatcher::poolRead);
        none.refresh();
        QVERIFY(readNone.wait(5000));
        QVERIFY2(none.view().problem.isEmpty(), qPrintable(none.view().problem));
        QVERIFY(none.view().summary().isEmpty());
    }
};

QTEST_MAIN(TestPoolDisplay)
#include "TestPoolDisplay.moc"
