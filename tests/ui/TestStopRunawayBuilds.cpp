// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Platform.h"
#include "headroom/Units.h"
#include "services/ProcessActions.h"
#include "support/LiveSnapshot.h"
#include "support/ProcessSpawner.h"
#include "ui/ActivityLog.h"
#include "ui/BuildsModel.h"
#include "ui/BuildsPanel.h"
#include "ui/MainWindow.h"
#include "ui/StopBuildsDialog.h"

#include <QFile>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTreeWidget>
#include <QtTest>

#include <csignal>
#include <sys/types.h>

using namespace headroom;
using namespace headroom::ui;

namespace {

bool alive(Pid pid)
{
    return ProcessSpawner::isAlive(pid);
}

} // namespace

class TestStopRunawayBuilds : public QObject {
    Q_OBJECT

  private slots:
    void fakeBuildIsShownAndStoppedWhollyWhileOthersLive()
    {
        ProcessSpawner spawner;
        const QString workspace = spawner.makeDir(QStringLiteral("ws"));
        QFile manifest(workspace + QStringLiteral("/Cargo.toml"));
        QVERIFY(manifest.open(QIODevice::WriteOnly));
        manifest.write("[package]\nname = \"app\"\nversion = \"0.1.0\"\n");
        manifest.close();

        const Pid cargo = spawner.start(QStringLiteral("cargo"),
                                        {"build", "--release", "{", "rustc", "--mem", "16", "--crate-name",
                                         "app", "}", "{", "rustc", "--mem", "8", "--crate-name", "dep", "}"},
                                        workspace, 3);
        QVERIFY(cargo > 0);
        const std::vector<Pid> rustcs = ProcessSpawner::liveDescendants(cargo);
        QCOMPARE(rustcs.size(), std::size_t(2));
        // The unrelated process is started detached, so it is not a descendant
        // of this test: under ctest (a test runner) every descendant of the
        // test counts as a test process, and rightly so.
        qint64 detached = 0;
        QVERIFY(QProcess::startDetached(spawner.installAs(QStringLiteral("editor")), {"--mem", "4"},
                                        QString(), &detached));
        const Pid editor = detached;
        const auto killEditor = qScopeGuard([editor] { ::kill(static_cast<pid_t>(editor), SIGKILL); });
        QTRY_VERIFY(ProcessSpawner::keyOf(editor).pid == editor);

        auto sampler = SystemSampler::create();
        QVERIFY(live::sampleOnly(*sampler, spawner.binDir())); // a first poll for CPU %
        const services::SnapshotPtr snapshot = live::sampleOnly(*sampler, spawner.binDir());
        QVERIFY(snapshot);

        MainWindow window;
        window.setIdentity(platform::currentUid(), platform::currentPid());
        window.show();
        window.showSnapshot(snapshot);

        // The builds panel shows the fake build: cargo with its two rustc.
        BuildsModel* builds = window.builds()->model();
        QCOMPARE(builds->rowCount(), 1);
        QCOMPARE(builds->index(0, BuildsModel::Build).data().toString(),
                 QStringLiteral("cargo build · release · pid %1").arg(cargo));
        QCOMPARE(builds->index(0, BuildsModel::Workspace).data().toString(), workspace);
        QCOMPARE(builds->index(0, BuildsModel::Rustc).data().toInt(), 2);
        QVERIFY(builds->index(0, 0).data(BuildsModel::ResidentBytesRole).toULongLong() >= 24 * MiB);

        services::ProcessActions actions;
        actions.setGrace(std::chrono::milliseconds(2000));
        connect(&window, &MainWindow::actionRequested, &actions, &services::ProcessActions::request);
        connect(&actions, &services::ProcessActions::finished, &window, &MainWindow::showActionReport);
        QSignalSpy finished(&actions, &services::ProcessActions::finished);

        // Stop runaway builds: the dialog lists the build with both rustc, not the editor.
        StopBuildsDialog* dialog = window.openStopBuildsDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->groups().size(), std::size_t(1));
        std::vector<Pid> listed;
        for (const auto& member : dialog->groups().front().members)
            listed.push_back(member.key.pid);
        std::sort(listed.begin(), listed.end());
        std::vector<Pid> expected = {cargo, rustcs[0], rustcs[1]};
        std::sort(expected.begin(), expected.end());
        QCOMPARE(listed, expected);

        dialog->setAllChecked(true);
        dialog->stopButton()->click();
        QVERIFY(finished.wait(20000));
        const auto report = finished.first().at(1).value<ActionReport>();
        QVERIFY2(report.allSucceeded(), report.summary().c_str());
        QVERIFY(report.count(ActionOutcome::Done) >= 1);

        spawner.waitGone(cargo, std::chrono::seconds(5));
        QVERIFY(!alive(cargo));
        for (Pid rustc : rustcs)
            QTRY_VERIFY_WITH_TIMEOUT(!alive(rustc), 5000);
        // The unrelated process never noticed.
        QVERIFY(alive(editor));
        QCOMPARE(ProcessSpawner::stateOf(editor), 'S');

        // The outcome is in the window.
        QVERIFY2(window.activity()->text(0).startsWith(QStringLiteral("Stop runaway builds")),
                 qPrintable(window.activity()->text(0)));
        QCOMPARE(window.activity()->severity(0), ActivityLog::Severity::Success);
    }

    void extraDuplicateBuildIsStoppedAndTheFirstKept()
    {
        ProcessSpawner spawner;
        const QString workspace = spawner.makeDir(QStringLiteral("same"));
        const Pid first = spawner.start(QStringLiteral("cargo"), {"build", "{", "rustc", "}"}, workspace, 2);
        QTest::qWait(1100); // start times one second apart: the first has run longer
        const Pid second =
            spawner.start(QStringLiteral("cargo"), {"build", "-p", "x", "{", "rustc", "}"}, workspace, 2);
        QVERIFY(first > 0 && second > 0);
        const std::vector<Pid> secondChildren = ProcessSpawner::liveDescendants(second);

        auto sampler = SystemSampler::create();
        // Keep the duplicate links: sample, narrow by hand with indices intact.
        Result<Snapshot> full = sampler->sample();
        QVERIFY(full.ok());
        auto snapshot = std::make_shared<Snapshot>(std::move(full).value());
        const std::string prefix = spawner.binDir().toStdString() + "/";
        std::vector<BuildTree> ours;
        for (const BuildTree& build : snapshot->builds) {
            const ProcessSample* root = snapshot->find(build.root);
            if (root && root->exe.rfind(prefix, 0) == 0)
                ours.push_back(build);
        }
        QCOMPARE(ours.size(), std::size_t(2));
        ours[0].duplicates = {1};
        ours[1].duplicates = {0};
        for (const BuildTree& build : snapshot->builds) {
            if (build.root.pid == first || build.root.pid == second)
                QVERIFY2(!build.duplicates.empty(), "the core links builds of one workspace");
        }
        snapshot->builds = ours;
        std::erase_if(snapshot->processes,
                      [&](const ProcessSample& p) { return p.exe.rfind(prefix, 0) != 0; });

        MainWindow window;
        window.setIdentity(platform::currentUid(), platform::currentPid());
        window.show();
        window.showSnapshot(snapshot);
        QVERIFY(window.builds()->duplicateWarningShown());

        // The two builds read differently in the list.
        BuildsModel* model = window.builds()->model();
        QCOMPARE(model->rowCount(), 2);
        QVERIFY(model->index(0, BuildsModel::Build).data().toString() !=
                model->index(1, BuildsModel::Build).data().toString());
        QVERIFY2(model->index(0, BuildsModel::Build).data().toString().contains(QStringLiteral("pid ")),
                 qPrintable(model->index(0, BuildsModel::Build).data().toString()));

        services::ProcessActions actions;
        connect(&window, &MainWindow::actionRequested, &actions, &services::ProcessActions::request);
        QSignalSpy requested(&window, &MainWindow::actionRequested);
        QSignalSpy finished(&actions, &services::ProcessActions::finished);
        // The button asks first: a confirmation with the extra build ticked,
        // the kept one shown, nothing stopped yet.
        QTest::mouseClick(window.builds()->stopExtraButton(), Qt::LeftButton);
        auto* dialog = window.findChild<StopBuildsDialog*>(QStringLiteral("stopExtraBuildsDialog"));
        QVERIFY(dialog);
        QTRY_VERIFY(dialog->isVisible());
        QCOMPARE(dialog->groups().size(), std::size_t(2));
        QVERIFY(dialog->groups()[0].kept);
        QCOMPARE(dialog->groups()[0].root.pid, first);
        QVERIFY(!dialog->groups()[1].kept);
        QCOMPARE(dialog->groups()[1].root.pid, second);
        QCOMPARE(dialog->chosenRoots(), (std::vector<ProcessKey>{dialog->groups()[1].root}));
        QCOMPARE(dialog->chosenBytes(), dialog->groups()[1].residentBytes);
        QVERIFY(dialog->list()->topLevelItem(0)->text(0).startsWith(QStringLiteral("Kept: ")));
        QVERIFY2(dialog->list()->topLevelItem(0)->text(3).contains(QStringLiteral("started first")),
                 qPrintable(dialog->list()->topLevelItem(0)->text(3)));
        dialog->setAllChecked(true); // the kept one cannot be ticked
        QCOMPARE(dialog->chosenRoots().size(), std::size_t(1));
        QTest::qWait(200);
        QCOMPARE(requested.count(), 0);
        QVERIFY(alive(second));
        dialog->stopButton()->click();
        QVERIFY(finished.wait(20000));

        spawner.waitGone(second, std::chrono::seconds(5));
        QVERIFY(!alive(second));
        for (Pid child : secondChildren)
            QTRY_VERIFY_WITH_TIMEOUT(!alive(child), 5000);
        QVERIFY(alive(first));
        QCOMPARE(ProcessSpawner::liveDescendants(first).size(), std::size_t(1));
    }
};

QTEST_MAIN(TestStopRunawayBuilds)
#include "TestStopRunawayBuilds.moc"
