// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher panel offscreen, on a real workspace and a real cargo build.
#include "CargoWorkspace.h"
#include "FreeMemoryDialog.h"
#include "LauncherPanel.h"
#include "core/ProcessSpawner.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"

#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;
using namespace headroom::app;
using namespace headroom::ui;

namespace {
std::shared_ptr<const Snapshot> live()
{
    static auto sampler = SystemSampler::create();
    auto s = sampler->sample();
    return std::make_shared<const Snapshot>(std::move(s.value()));
}

std::shared_ptr<const Snapshot> tight()
{
    auto s = std::make_shared<Snapshot>(*live());
    s->memory.total = 31 * GiB;
    s->memory.available = GiB;
    s->memory.used = 30 * GiB;
    s->memory.swapTotal = s->memory.swapFree = 0;
    return s;
}
} // namespace

class TestLauncherPanel : public QObject {
    Q_OBJECT

  private slots:
    void buildsFromThePanel()
    {
        CargoWorkspace ws(300);
        QTemporaryDir dir;
        LauncherController controller(dir.path() + "/history.sqlite");
        controller.observe(live());
        LauncherPanel panel(&controller);
        panel.resize(1100, 760);
        panel.show();

        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        QVERIFY(panel.startButton()->isEnabled());

        auto* kind = panel.findChildren<QComboBox*>().at(2);
        kind->setCurrentIndex(kind->findData(int(TargetKind::Example)));
        panel.setPreset(BuildPreset::A);
        const BuildRequest request = panel.request();
        QCOMPARE(request.targetKind, TargetKind::Example);
        QCOMPARE(request.targetName, std::string("hello"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("CARGO_BUILD_JOBS=1"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--example hello --release"));
        QVERIFY(panel.recentProjects().contains(ws.root()));

        // Tight memory: the checks fail and the panel offers the choices.
        controller.observe(tight());
        panel.startRequested();
        QVERIFY(panel.checksLabel()->text().contains("above the 80% limit"));
        QCOMPARE(controller.state(), LauncherController::State::Idle);
        QVERIFY(panel.findChild<QPushButton*>() != nullptr);
        for (auto* button : panel.findChildren<QPushButton*>()) {
            if (button->text().contains("anyway") || button->text().contains("Wait until"))
                QVERIFY2(button->isVisible(), qPrintable(button->text()));
        }
        QVERIFY(panel.findChild<QPushButton*>() != nullptr);

        // Start anyway with real memory readings flowing.
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(live()); });
        feed.start(250);
        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(controller.start(panel.request(), BuildPreset::A, LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QVERIFY2(panel.diagnosisLabel()->text().contains("The build succeeded"),
                 qPrintable(panel.diagnosisLabel()->text()));
        QVERIFY(panel.diagnosisLabel()->text().contains("examples/hello"));
        QVERIFY(panel.log()->toPlainText().contains("CARGO_BUILD_JOBS=1"));
        QVERIFY(panel.log()->toPlainText().contains("Compiling demo"));
        QCOMPARE(controller.history().runs(controller.workspace()->root).size(), std::size_t(1));

        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            QTest::qWait(50); // let the layout take the new texts in
            QVERIFY(panel.grab().save(shot + "/launcher.png"));
        }
    }

    void startLastRepeatsTheLastBuildInALaterSession()
    {
        CargoWorkspace ws(300);
        QTemporaryDir dir;
        const QString ini = dir.path() + "/launcher.ini";
        {
            LauncherController controller(dir.path() + "/history.sqlite", ini);
            QVERIFY(!controller.lastBuild()); // nothing started yet
            controller.observe(live());
            LauncherPanel panel(&controller);
            QVERIFY(!panel.startLast());
            QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
            panel.setProject(ws.root());
            QVERIFY(loaded.wait(30000));
            auto* kind = panel.findChildren<QComboBox*>().at(2);
            kind->setCurrentIndex(kind->findData(int(TargetKind::Example)));
            panel.setPreset(BuildPreset::B);
            QSignalSpy finished(&controller, &LauncherController::finished);
            QVERIFY(controller.start(panel.request(), BuildPreset::B, LauncherController::StartMode::Anyway));
            QVERIFY(finished.wait(240000));
            QVERIFY(controller.lastBuild());
            QCOMPARE(controller.lastBuild()->title(), QStringLiteral("B · ") + QFileInfo(ws.root()).fileName());
        }
        // A later session (the tray's "Start last build"): a fresh panel reads
        // the workspace, fills the form and starts the same preset and target.
        LauncherController controller(dir.path() + "/history.sqlite", ini);
        controller.observe(live());
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(live()); });
        feed.start(250);
        LauncherPanel panel(&controller);
        QSignalSpy started(&controller, &LauncherController::planStarted);
        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(panel.startLast());
        QVERIFY(started.wait(30000));
        const auto plan = started.at(0).at(0).value<BuildPlan>();
        QCOMPARE(plan.preset, BuildPreset::B);
        QCOMPARE(panel.preset(), BuildPreset::B);
        QCOMPARE(panel.request().targetKind, TargetKind::Example);
        QCOMPARE(panel.request().targetName, std::string("hello"));
        QVERIFY(finished.wait(240000));
        QCOMPARE(controller.history().runs(controller.workspace()->root).size(), std::size_t(2));
    }

    void failedChecksOfferToPauseTestsAndStopTheOtherBuild()
    {
        CargoWorkspace ws(300);
        ProcessSpawner spawner;
        // Heavy tests elsewhere, and another cargo on this very workspace.
        const Pid tests = spawner.start("cargo-nextest", {"run", "{", "sweep", "--mem", "600", "}"}, {}, 2);
        const Pid sweep = ProcessSpawner::liveDescendants(tests).at(0);
        const Pid other = spawner.start("cargo", {"build", "{", "rustc", "}"}, ws.root(), 2);
        const Pid otherRustc = ProcessSpawner::liveDescendants(other).at(0);

        QTemporaryDir dir;
        LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        LauncherPanel panel(&controller);
        panel.show();
        QSignalSpy loaded(&controller, &LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        controller.observe(live());

        panel.startRequested();
        QCOMPARE(controller.state(), LauncherController::State::Idle);
        QVERIFY(panel.checksLabel()->text().contains("Another build is running on this workspace"));
        QVERIFY2(panel.pauseTestsButton()->isVisible(), qPrintable(panel.checksLabel()->text()));
        QVERIFY(panel.stopOtherBuildButton()->isVisible());

        QSignalSpy acted(&controller, &LauncherController::actionsDone);
        panel.pauseTestsButton()->click();
        QVERIFY(acted.wait(10000));
        QTRY_COMPARE(ProcessSpawner::stateOf(sweep), 'T');
        QCOMPARE(ProcessSpawner::stateOf(other), 'S'); // untouched so far

        panel.stopOtherBuildButton()->click();
        QVERIFY(acted.wait(15000));
        QVERIFY(spawner.waitGone(other));
        QTRY_VERIFY(ProcessSpawner::stateOf(otherRustc) == 0 || ProcessSpawner::stateOf(otherRustc) == 'Z');
        QVERIFY(ProcessSpawner::stateOf(tests) != 0); // the tests were paused, never stopped

        // The build runs; when it ends the paused tests run again.
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(live()); });
        feed.start(250);
        QSignalSpy finished(&controller, &LauncherController::finished);
        QVERIFY(controller.start(panel.request(), BuildPreset::B, LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QTRY_COMPARE(ProcessSpawner::stateOf(sweep), 'S');
    }

    void badProjectIsExplained()
    {
        QTemporaryDir dir;
        LauncherController controller(dir.path() + "/history.sqlite");
        LauncherPanel panel(&controller);
        panel.setProject(dir.path() + "/no such folder");
        QVERIFY(panel.diagnosisLabel()->text().contains("does not exist"));
        QVERIFY(!panel.startButton()->isEnabled());
        panel.setProject(dir.path());
        QVERIFY(panel.diagnosisLabel()->text().contains("has no Cargo.toml"));
    }

    void freeMemoryDialogSuggestsTests()
    {
        std::vector<ProcessSample> rows(3);
        rows[0].key = {10, 1};
        rows[0].role = ProcessRole::Test;
        rows[0].residentBytes = 2 * GiB;
        rows[1].key = {11, 1};
        rows[1].role = ProcessRole::Rustc;
        rows[1].residentBytes = GiB;
        rows[2].key = {12, 1};
        rows[2].role = ProcessRole::Other;
        rows[2].residentBytes = 3 * GiB;
        FreeMemoryDialog dialog(rows);
        QCOMPARE(dialog.chosen().size(), std::size_t(1));
        QCOMPARE(dialog.chosen()[0].pid, Pid(10));
        QCOMPARE(dialog.action(), ProcessAction::Pause);
        dialog.setChecked(11, true);
        dialog.setChecked(10, false);
        QCOMPARE(dialog.chosen().size(), std::size_t(1));
        QCOMPARE(dialog.chosen()[0].pid, Pid(11));
        QVERIFY(dialog.findChild<QLabel*>(QString(), Qt::FindChildrenRecursively) != nullptr);
    }
};

QTEST_MAIN(TestLauncherPanel)
#include "TestLauncherPanel.moc"
