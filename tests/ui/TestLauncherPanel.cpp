// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher panel offscreen, on a real workspace and a real cargo build.
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "services/launcher/HeadlessBuild.h"
#include "support/CargoWorkspace.h"
#include "support/HeadlessBuildCommand.h"
#include "support/ProcessSpawner.h"
#include "ui/launcher/FreeMemoryDialog.h"
#include "ui/launcher/LauncherPanel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace headroom;
using namespace headroom::services;
using headroom::test::runHeadlessBuild; // the `headroom build` command line, parsed as the program does
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

// The real processes, with memory to spare: only the competing-build check can fail.
std::shared_ptr<const Snapshot> roomy()
{
    auto s = std::make_shared<Snapshot>(*live());
    s->memory.total = 64 * GiB;
    s->memory.available = 60 * GiB;
    s->memory.used = 4 * GiB;
    s->memory.swapTotal = s->memory.swapFree = 0;
    return s;
}

// A workspace of several crates, so cargo counts more than one unit: a root
// package `app` with a build script, path dependencies dep1..depN, and an
// example that requires the feature "heavy" (also turned on by "everything").
class CratesWorkspace {
  public:
    explicit CratesWorkspace(int crates = 4)
    {
        root_ = dir_.path() + "/crates ws";
        QStringList members, deps;
        for (int i = 1; i <= crates; ++i) {
            const QString name = QStringLiteral("dep%1").arg(i);
            members << '"' + name + '"';
            deps << QStringLiteral("%1 = { path = \"%1\" }").arg(name);
            QDir().mkpath(root_ + "/" + name + "/src");
            CargoWorkspace::write(root_ + "/" + name + "/Cargo.toml",
                                  QStringLiteral("[package]\nname = \"%1\"\nversion = \"0.1.0\"\nedition = "
                                                 "\"2021\"\n")
                                      .arg(name)
                                      .toUtf8());
            CargoWorkspace::write(root_ + "/" + name + "/src/lib.rs",
                                  QStringLiteral("pub fn value() -> u32 { %1 }\n").arg(i).toUtf8());
        }
        QDir().mkpath(root_ + "/src");
        QDir().mkpath(root_ + "/examples");
        CargoWorkspace::write(
            root_ + "/Cargo.toml",
            QStringLiteral("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = "
                           "\"build.rs\"\n\n[workspace]\nmembers = [%1]\n\n[dependencies]\n%2\n\n"
                           "[features]\nheavy = []\neverything = [\"heavy\"]\n\n[[example]]\nname = "
                           "\"validate\"\nrequired-features = [\"heavy\"]\n")
                .arg(members.join(", "), deps.join('\n'))
                .toUtf8());
        CargoWorkspace::write(root_ + "/build.rs", "fn main() {}\n");
        QString sum = "0";
        for (int i = 1; i <= crates; ++i)
            sum += QStringLiteral(" + dep%1::value()").arg(i);
        CargoWorkspace::write(root_ + "/src/lib.rs",
                              QStringLiteral("pub fn total() -> u32 { %1 }\n").arg(sum).toUtf8());
        CargoWorkspace::write(root_ + "/examples/validate.rs",
                              "fn main() { println!(\"{}\", app::total()); }\n");
        CargoWorkspace::write(root_ + "/examples/hello.rs", "fn main() { println!(\"hello\"); }\n");
    }
    QString root() const { return root_; }

  private:
    QTemporaryDir dir_;
    QString root_;
};

QPushButton* buttonNamed(QWidget* panel, const QString& words)
{
    for (auto* b : panel->findChildren<QPushButton*>()) {
        if (b->text().remove('&').contains(words))
            return b;
    }
    return nullptr;
}
} // namespace

class TestLauncherPanel : public QObject {
    Q_OBJECT

  private slots:
    void buildsFromThePanel()
    {
        CargoWorkspace ws(300);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite");
        controller.observe(live());
        LauncherPanel panel(&controller);
        panel.resize(1100, 760);
        panel.show();

        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
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
        QCOMPARE(controller.state(), services::LauncherController::State::Idle);
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
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QVERIFY(controller.start(panel.request(), BuildPreset::A,
                                 services::LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QVERIFY2(panel.diagnosisLabel()->text().contains("The build succeeded"),
                 qPrintable(panel.diagnosisLabel()->text()));
        QVERIFY(panel.diagnosisLabel()->text().contains("examples/hello"));
        QVERIFY(panel.log()->toPlainText().contains("CARGO_BUILD_JOBS=1"));
        QVERIFY(panel.log()->toPlainText().contains("Compiling demo"));
        QCOMPARE(controller.runs().size(), std::size_t(1));

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
            services::LauncherController controller(dir.path() + "/history.sqlite", ini);
            QVERIFY(!controller.lastBuild()); // nothing started yet
            controller.observe(live());
            LauncherPanel panel(&controller);
            QVERIFY(!panel.startLast());
            QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
            panel.setProject(ws.root());
            QVERIFY(loaded.wait(30000));
            auto* kind = panel.findChildren<QComboBox*>().at(2);
            kind->setCurrentIndex(kind->findData(int(TargetKind::Example)));
            panel.setPreset(BuildPreset::B);
            QSignalSpy finished(&controller, &services::LauncherController::finished);
            QVERIFY(controller.start(panel.request(), BuildPreset::B,
                                     services::LauncherController::StartMode::Anyway));
            QVERIFY(finished.wait(240000));
            QVERIFY(controller.lastBuild());
            QCOMPARE(controller.lastBuild()->title(),
                     QStringLiteral("B · ") + QFileInfo(ws.root()).fileName());
        }
        // A later session (the tray's "Start last build"): a fresh panel reads
        // the workspace, fills the form and starts the same preset and target.
        services::LauncherController controller(dir.path() + "/history.sqlite", ini);
        controller.observe(live());
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(live()); });
        feed.start(250);
        LauncherPanel panel(&controller);
        QSignalSpy started(&controller, &services::LauncherController::planStarted);
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QVERIFY(panel.startLast());
        QVERIFY(started.wait(30000));
        const auto plan = started.at(0).at(0).value<BuildPlan>();
        QCOMPARE(plan.preset, BuildPreset::B);
        QCOMPARE(panel.preset(), BuildPreset::B);
        QCOMPARE(panel.request().targetKind, TargetKind::Example);
        QCOMPARE(panel.request().targetName, std::string("hello"));
        QVERIFY(finished.wait(240000));
        QCOMPARE(controller.runs().size(), std::size_t(2));
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
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        LauncherPanel panel(&controller);
        panel.show();
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        controller.observe(live());

        panel.startRequested();
        QCOMPARE(controller.state(), services::LauncherController::State::Idle);
        QVERIFY(panel.checksLabel()->text().contains("Another build is running on this workspace"));
        QVERIFY2(panel.pauseTestsButton()->isVisible(), qPrintable(panel.checksLabel()->text()));
        QVERIFY(panel.stopOtherBuildButton()->isVisible());

        QSignalSpy acted(&controller, &services::LauncherController::actionsDone);
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
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QVERIFY(controller.start(panel.request(), BuildPreset::B,
                                 services::LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QTRY_COMPARE(ProcessSpawner::stateOf(sweep), 'S');
    }

    void progressEndsOnCargosCount()
    {
        CratesWorkspace ws(4);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.observe(live());
        LauncherPanel panel(&controller);
        panel.resize(1100, 760);
        panel.show();
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        panel.setPreset(BuildPreset::B);
        QVERIFY(panel.progressBar()->toolTip().contains("crates and build scripts cargo compiles"));
        // The example that needs a feature: chosen, it builds with it.
        panel.targetKindBox()->setCurrentIndex(panel.targetKindBox()->findData(int(TargetKind::Example)));
        panel.targetNameBox()->setCurrentIndex(panel.targetNameBox()->findData(QStringLiteral("validate")));
        QCOMPARE(panel.request().features, std::string("heavy"));

        QSignalSpy progress(&controller, &services::LauncherController::progressChanged);
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        QVERIFY(controller.start(panel.request(), BuildPreset::B,
                                 services::LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QVERIFY(panel.diagnosisLabel()->text().contains("The build succeeded"));
        QVERIFY(!progress.isEmpty());
        const unsigned total = progress.last().at(1).toUInt();
        QVERIFY2(total > 4, qPrintable(QString::number(total))); // four deps, the app, its build script
        QCOMPARE(panel.progressBar()->maximum(), int(total));
        QCOMPARE(panel.progressBar()->value(), int(total));
        QCOMPARE(panel.progressBar()->text(), QStringLiteral("%1 / %1 units").arg(total));
        QVERIFY(panel.diagnosisLabel()->text().contains("examples/validate"));
        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            QTest::qWait(50);
            QVERIFY(panel.grab().save(shot + "/launcher-crates.png"));
        }

        // A failed build ends on the last count cargo gave, not on 0 / 1.
        CargoWorkspace::write(ws.root() + "/src/lib.rs", "pub fn total() -> u32 { \"not a number\" }\n");
        progress.clear();
        QVERIFY(controller.start(panel.request(), BuildPreset::B,
                                 services::LauncherController::StartMode::Anyway));
        QVERIFY(finished.wait(240000));
        QVERIFY(panel.diagnosisLabel()->text().contains("error"));
        // Said with cargo's JSON messages: the error, its file and place.
        QVERIFY2(panel.diagnosisLabel()->text().contains("Compile error: error[E0308]: mismatched types"),
                 qPrintable(panel.diagnosisLabel()->text()));
        QVERIFY2(panel.diagnosisLabel()->text().contains("at src/lib.rs:1:25"),
                 qPrintable(panel.diagnosisLabel()->text()));
        QVERIFY(panel.log()->toPlainText().contains("--> src/lib.rs:1:25"));
        QVERIFY(!panel.log()->toPlainText().contains("\"reason\""));
        QVERIFY(!progress.isEmpty());
        const unsigned done = progress.last().at(0).toUInt();
        const unsigned seen = progress.last().at(1).toUInt();
        QVERIFY(seen > 1);
        QCOMPARE(panel.progressBar()->maximum(), int(seen));
        QCOMPARE(panel.progressBar()->value(), int(done));
        QCOMPARE(panel.progressBar()->text(), QStringLiteral("%1 / %2 units").arg(done).arg(seen));
    }

    void requiredFeaturesAreOfferedAndChecked()
    {
        CratesWorkspace ws(1);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.observe(live());
        LauncherPanel panel(&controller);
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        const auto* app = controller.workspace()->package("app");
        QVERIFY(app);
        QCOMPARE(app->requiredFor(TargetKind::Example, "validate"), QStringList{"heavy"});
        QVERIFY(app->requiredFor(TargetKind::Example, "hello").isEmpty());

        panel.targetKindBox()->setCurrentIndex(panel.targetKindBox()->findData(int(TargetKind::Example)));
        QComboBox* names = panel.targetNameBox();
        const int validate = names->findData(QStringLiteral("validate"));
        QVERIFY(validate >= 0);
        QCOMPARE(names->itemText(validate), QStringLiteral("validate (needs feature heavy)"));
        QCOMPARE(names->itemText(names->findData(QStringLiteral("hello"))), QStringLiteral("hello"));

        // Choosing it turns the feature on; the request names the bare target.
        names->setCurrentIndex(names->findData(QStringLiteral("hello")));
        QCOMPARE(panel.featuresEdit()->text(), QString());
        names->setCurrentIndex(validate);
        QCOMPARE(panel.featuresEdit()->text(), QStringLiteral("heavy"));
        QCOMPARE(panel.request().targetName, std::string("validate"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--example validate"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--features heavy"));
        QVERIFY(checkRequest(panel.request(), *controller.workspace()).isEmpty());

        // Taken away again, the build is refused before it starts, saying what to add.
        panel.featuresEdit()->setText(QString());
        QSignalSpy started(&controller, &services::LauncherController::planStarted);
        panel.startRequested();
        QCOMPARE(controller.state(), services::LauncherController::State::Idle);
        QVERIFY2(panel.diagnosisLabel()->text().contains("example validate needs --features heavy"),
                 qPrintable(panel.diagnosisLabel()->text()));
        QCOMPARE(started.count(), 0);

        // A feature that turns it on counts, so do --all-features and the defaults.
        BuildRequest r = panel.request();
        r.features = "everything";
        QVERIFY(checkRequest(r, *controller.workspace()).isEmpty());
        r.features.clear();
        r.extraArgs = {"--all-features"};
        QVERIFY(checkRequest(r, *controller.workspace()).isEmpty());

        // The headless build uses the same check: exit 2 with that message.
        QCOMPARE(runHeadlessBuild({"--project", ws.root(), "--example", "validate", "--preset", "B"}), 2);
        r.extraArgs.clear();
        QVERIFY(checkRequest(r, *controller.workspace())
                    .join(' ')
                    .contains("example validate needs --features heavy"));
    }

    // "Try Auto with -j 1" after an OOM kill builds the same target with
    // that -j, not with what Auto would pick again.
    void nextStepCarriesTheSuggestedJobs()
    {
        CratesWorkspace ws(1);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.observe(live());
        LauncherPanel panel(&controller);
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        panel.targetKindBox()->setCurrentIndex(panel.targetKindBox()->findData(int(TargetKind::Example)));
        panel.targetNameBox()->setCurrentIndex(panel.targetNameBox()->findData(QStringLiteral("validate")));

        services::BuildRunResult killed;
        killed.signal = 9;
        killed.diagnosis.verdict = BuildVerdict::OutOfMemory;
        killed.diagnosis.summary = "Out of memory";
        killed.diagnosis.nextPreset = BuildPreset::Auto;
        killed.diagnosis.nextJobs = 1;
        emit controller.finished(killed);

        QSignalSpy started(&controller, &services::LauncherController::planStarted);
        QPushButton* next = panel.nextButton();
        QVERIFY(!next->isHidden());
        next->click();
        QVERIFY(started.wait(30000) || started.count() > 0);
        const auto plan = started.first().at(0).value<BuildPlan>();
        QCOMPARE(plan.preset, BuildPreset::Auto);
        QCOMPARE(plan.jobs, std::optional<unsigned>(1u));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--example validate"));
        controller.stop();
        QTRY_COMPARE_WITH_TIMEOUT(controller.state(), services::LauncherController::State::Idle, 60000);

        // Choosing a preset by hand forgets the suggested -j.
        panel.presetBox()->setCurrentIndex(panel.presetBox()->findData(int(BuildPreset::A)));
        panel.presetBox()->setCurrentIndex(panel.presetBox()->findData(int(BuildPreset::Auto)));
        QVERIFY(!panel.request().jobs);
    }

    void checksGrowWithTheirText()
    {
        CargoWorkspace ws(300);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        LauncherPanel panel(&controller);
        panel.resize(640, 700);
        panel.show();
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        controller.observe(tight());
        panel.startRequested();
        QTest::qWait(50);
        QLabel* checks = panel.checksLabel();
        QVERIFY(checks->text().contains("above the 80% limit"));
        const QString shot = qEnvironmentVariable("HEADROOM_SCREENSHOT_DIR");
        if (!shot.isEmpty())
            QVERIFY(panel.grab().save(shot + "/launcher-checks.png"));
        // Every line is shown whole: tall enough for its wrapped text, and not
        // wider than the part of the panel it sits in.
        QVERIFY2(checks->height() >= checks->heightForWidth(checks->width()),
                 qPrintable(QStringLiteral("%1 < %2")
                                .arg(checks->height())
                                .arg(checks->heightForWidth(checks->width()))));
        QVERIFY(checks->heightForWidth(checks->width()) > 4 * checks->fontMetrics().height());
        const QRect shown(checks->mapTo(&panel, QPoint(0, 0)), checks->size());
        QVERIFY2(panel.rect().contains(shown), qPrintable(QStringLiteral("%1,%2 %3x%4 in %5x%6")
                                                              .arg(shown.x())
                                                              .arg(shown.y())
                                                              .arg(shown.width())
                                                              .arg(shown.height())
                                                              .arg(panel.width())
                                                              .arg(panel.height())));
        // Not hidden behind a scroll area's edge either.
        for (QWidget* w = checks->parentWidget(); w && w != &panel; w = w->parentWidget()) {
            if (auto* viewport = qobject_cast<QScrollArea*>(w)) {
                const QRect inViewport(checks->mapTo(viewport->viewport(), QPoint(0, 0)), checks->size());
                QVERIFY(viewport->viewport()->rect().contains(inViewport));
            }
        }
    }

    void duplicateBuildOffersToWaitForIt()
    {
        CargoWorkspace ws(300);
        ProcessSpawner spawner;
        const Pid other = spawner.start("cargo", {"build", "{", "rustc", "}"}, ws.root(), 2);
        const Pid otherRustc = ProcessSpawner::liveDescendants(other).at(0);

        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        LauncherPanel panel(&controller);
        panel.show();
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        panel.setPreset(BuildPreset::B);

        // Short of memory as well: waiting for memory is what is offered.
        auto shortAndBusy = std::make_shared<Snapshot>(*tight());
        controller.observe(shortAndBusy);
        panel.startRequested();
        QVERIFY(panel.waitButton()->isVisible());
        QVERIFY2(panel.waitButton()->text().remove('&').contains("Wait until memory is available"),
                 qPrintable(panel.waitButton()->text()));

        // Only the other build is in the way: wait for it, not for memory.
        controller.observe(roomy());
        panel.startRequested();
        QCOMPARE(controller.state(), services::LauncherController::State::Idle);
        QVERIFY(panel.checksLabel()->text().contains("Another build is running on this workspace"));
        QVERIFY(panel.waitButton()->isVisible());
        QCOMPARE(panel.waitButton()->text().remove('&'), QStringLiteral("Wait for that build to finish"));
        const QPushButton* memoryWait = buttonNamed(&panel, "Wait until memory");
        QVERIFY(!memoryWait || !memoryWait->isVisible());

        QSignalSpy started(&controller, &services::LauncherController::planStarted);
        QSignalSpy finished(&controller, &services::LauncherController::finished);
        panel.waitButton()->click();
        QCOMPARE(controller.state(), services::LauncherController::State::Waiting);
        for (int i = 0; i < 3; ++i) {
            controller.observe(roomy());
            QTest::qWait(50);
        }
        QCOMPARE(controller.state(), services::LauncherController::State::Waiting);
        QCOMPARE(started.count(), 0);

        // The other build ends: this one starts by itself.
        ::kill(other, SIGTERM);
        ::kill(otherRustc, SIGTERM);
        QVERIFY(spawner.waitGone(other));
        QTRY_VERIFY(!ProcessSpawner::isAlive(otherRustc));
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, [&] { controller.observe(roomy()); });
        feed.start(250);
        QVERIFY(started.wait(10000));
        QVERIFY(finished.wait(240000));
        QVERIFY2(panel.diagnosisLabel()->text().contains("The build succeeded"),
                 qPrintable(panel.diagnosisLabel()->text()));
    }

    void profileShowsWhatThePresetBuilds()
    {
        CargoWorkspace ws(300);
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite", dir.path() + "/launcher.ini");
        controller.observe(live());
        LauncherPanel panel(&controller);
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(ws.root());
        QVERIFY(loaded.wait(30000));
        QComboBox* profile = panel.profileBox();

        panel.setPreset(BuildPreset::B);
        QCOMPARE(profile->currentText(), QStringLiteral("dev"));
        QVERIFY(!profile->isEnabled());
        QCOMPARE(panel.request().profile, std::string("dev"));
        QVERIFY(!panel.commandPreview()->toPlainText().contains("--release"));
        for (BuildPreset p : {BuildPreset::A, BuildPreset::C, BuildPreset::D, BuildPreset::Auto}) {
            panel.setPreset(p);
            QCOMPARE(profile->currentText(), QStringLiteral("release"));
            QVERIFY(profile->isEnabled());
            QVERIFY(panel.commandPreview()->toPlainText().contains("--release"));
        }

        // A custom profile the person picks is kept, except under B.
        panel.setPreset(BuildPreset::A);
        profile->lineEdit()->selectAll();
        QTest::keyClicks(profile->lineEdit(), "dist-fast");
        QTest::keyClick(profile->lineEdit(), Qt::Key_Return);
        QCOMPARE(profile->currentText(), QStringLiteral("dist-fast"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--profile dist-fast"));
        panel.setPreset(BuildPreset::B);
        QCOMPARE(profile->currentText(), QStringLiteral("dev"));
        QVERIFY(!panel.commandPreview()->toPlainText().contains("dist-fast"));
        panel.setPreset(BuildPreset::C);
        QCOMPARE(profile->currentText(), QStringLiteral("dist-fast"));
        QVERIFY(panel.commandPreview()->toPlainText().contains("--profile dist-fast"));
    }

    void pickingAProjectRestoresItsForm()
    {
        CargoWorkspace first(300);
        CratesWorkspace second(1);
        QTemporaryDir dir;
        const QString ini = dir.path() + "/launcher.ini";
        {
            services::LauncherController controller(dir.path() + "/history.sqlite", ini);
            LauncherPanel panel(&controller);
            QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
            panel.setProject(first.root());
            QVERIFY(loaded.wait(30000));
            panel.targetKindBox()->setCurrentIndex(panel.targetKindBox()->findData(int(TargetKind::Example)));
            panel.featuresEdit()->setText("fast");
            panel.extraArgsEdit()->setText("--locked");

            panel.setProject(second.root());
            QVERIFY(loaded.wait(30000));
            // Another project: nothing of the first one's form is carried over.
            QCOMPARE(panel.request().targetKind, TargetKind::Default);
            QCOMPARE(panel.featuresEdit()->text(), QString());
            QCOMPARE(panel.extraArgsEdit()->text(), QString());
            panel.targetKindBox()->setCurrentIndex(panel.targetKindBox()->findData(int(TargetKind::Example)));
            panel.targetNameBox()->setCurrentIndex(panel.targetNameBox()->findData(QStringLiteral("hello")));

            panel.setProject(first.root());
            QVERIFY(loaded.wait(30000));
            QCOMPARE(panel.request().targetKind, TargetKind::Example);
            QCOMPARE(panel.request().targetName, std::string("hello"));
            QCOMPARE(panel.featuresEdit()->text(), QStringLiteral("fast"));
            QCOMPARE(panel.extraArgsEdit()->text(), QStringLiteral("--locked"));
        }
        // A later session remembers both.
        services::LauncherController controller(dir.path() + "/history.sqlite", ini);
        LauncherPanel panel(&controller);
        QSignalSpy loaded(&controller, &services::LauncherController::workspaceLoaded);
        panel.setProject(second.root());
        QVERIFY(loaded.wait(30000));
        QCOMPARE(panel.request().targetKind, TargetKind::Example);
        QCOMPARE(panel.request().targetName, std::string("hello"));
        panel.setProject(first.root());
        QVERIFY(loaded.wait(30000));
        QCOMPARE(panel.request().targetName, std::string("hello"));
        QCOMPARE(panel.featuresEdit()->text(), QStringLiteral("fast"));
        QCOMPARE(panel.extraArgsEdit()->text(), QStringLiteral("--locked"));
    }

    void badProjectIsExplained()
    {
        QTemporaryDir dir;
        services::LauncherController controller(dir.path() + "/history.sqlite");
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
