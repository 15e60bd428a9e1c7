// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/PressureMonitor.h"
#include "support/ReplaySeries.h"
#include "ui/ActivityLog.h"
#include "ui/BuildsModel.h"
#include "ui/BuildsPanel.h"
#include "ui/ChartsPanel.h"
#include "ui/MainWindow.h"
#include "ui/ProcessColumns.h"
#include "ui/ProcessFilterProxy.h"
#include "ui/ProcessPanel.h"
#include "ui/ProcessTreeModel.h"
#include "ui/StopBuildsDialog.h"
#include "ui/SummaryStrip.h"
#include "ui/TimeChart.h"

#include <QAction>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QToolButton>
#include <QTreeView>
#include <QTreeWidget>
#include <QtTest>

using namespace headroom;
using namespace headroom::ui;
using replay::process;

namespace {

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

QString labelText(QWidget* root, const char* name)
{
    auto* label = root->findChild<QLabel*>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

std::vector<ProcessKey> one(Pid pid, std::uint64_t startTime)
{
    return {ProcessKey{pid, startTime}};
}

double lastValue(QCPGraph* graph)
{
    return graph->data()->isEmpty() ? -1.0 : (graph->data()->constEnd() - 1)->value;
}

// The pid shown in each visible row of the process view, top to bottom.
QStringList visiblePids(ProcessPanel* panel)
{
    QStringList pids;
    QAbstractItemModel* model = panel->view()->model();
    for (int row = 0; row < model->rowCount(); ++row)
        pids << model->index(row, ProcessColumns::Pid).data().toString();
    return pids;
}

} // namespace

class TestDashboardReplay : public QObject {
    Q_OBJECT

  private slots:
    void summaryShowsTheFiguresFed()
    {
        MainWindow window;
        window.show();
        services::PressureMonitor monitor;
        connect(&monitor, &services::PressureMonitor::pressureUpdated, &window, &MainWindow::showPressure);
        auto feed = [&](const services::SnapshotPtr& s) {
            window.showSnapshot(s);
            monitor.observe(s);
        };
        for (int i = 0; i < 10; ++i)
            feed(replay::buildAt(i));
        const auto last = replay::buildAt(9);
        const MemoryStatus& m = last->memory;
        QCOMPARE(labelText(&window, "availableValue"), bytes(m.available));
        // "4.4 / 16.0 GiB"
        QVERIFY2(labelText(&window, "ramValue").endsWith(QStringLiteral(" / ") + bytes(m.total)),
                 qPrintable(labelText(&window, "ramValue")));
        QVERIFY(labelText(&window, "ramValue").startsWith(bytes(m.used).section(QLatin1Char(' '), 0, 0)));
        QCOMPARE(labelText(&window, "swapValue"), QStringLiteral("0 B / 2.0 GiB"));
        QCOMPARE(labelText(&window, "pressureValue"), QStringLiteral("0.0 % · 0.0 %"));
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Normal"));
        QCOMPARE(window.summary()->level(), services::MemoryLevel::Normal);

        // Available falls to 3 % and the kernel stalls: critical, with the reasons.
        MemoryStatus tight = replay::memory(16, 16 * 1024 - 490, 2, 1900);
        tight.pressure.some.avg10 = 42.5;
        tight.pressure.full.avg10 = 17.25;
        const services::SnapshotPtr tightSnapshot =
            replay::snapshot(10, tight, {process(1, 0, "systemd", {"/sbin/init"}, 12, "/")});
        feed(tightSnapshot);
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Critical"));
        QCOMPARE(window.summary()->level(), services::MemoryLevel::Critical);
        QVERIFY2(window.summary()->levelReason().contains(QStringLiteral("of RAM is available")),
                 qPrintable(window.summary()->levelReason()));
        QCOMPARE(labelText(&window, "pressureValue"), QStringLiteral("42.5 % · 17.3 %"));
        QCOMPARE(labelText(&window, "swapValue"), QStringLiteral("1.9 / 2.0 GiB"));

        // Thresholds come from the settings: with lower ones the same figures are only a warning.
        PressureThresholds relaxed;
        relaxed.criticalAvailablePercent = 1;
        relaxed.criticalPsiFull = 50;
        services::PressureMonitor relaxedMonitor;
        relaxedMonitor.setThresholds(relaxed);
        connect(&relaxedMonitor, &services::PressureMonitor::pressureUpdated, &window,
                &MainWindow::showPressure);
        relaxedMonitor.observe(tightSnapshot);
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Warning"));
    }

    void timeLeftShowsWhenMemoryRunsOutWithinMinutes()
    {
        MainWindow window;
        window.show();
        services::PressureMonitor monitor;
        connect(&monitor, &services::PressureMonitor::pressureUpdated, &window, &MainWindow::showPressure);
        auto feed = [&](std::int64_t i, std::uint64_t usedMiB) {
            const auto s = replay::snapshot(i, replay::memory(16, usedMiB, 0, 0), {});
            window.showSnapshot(s);
            monitor.observe(s);
        };
        // Steady: no estimate.
        for (std::int64_t i = 0; i < 12; ++i)
            feed(i, 6000);
        QVERIFY2(!window.summary()->levelDetail().contains(QStringLiteral("left")),
                 qPrintable(window.summary()->levelDetail()));
        // Climbing 100 MiB a second with about 10 GiB to go: under two minutes left.
        for (std::int64_t i = 12; i < 42; ++i)
            feed(i, 6000 + std::uint64_t(i - 11) * 100);
        QVERIFY2(window.summary()->levelDetail().contains(QStringLiteral("min left")),
                 qPrintable(window.summary()->levelDetail()));
        QVERIFY(monitor.state().secondsLeft.has_value());
        QVERIFY(*monitor.state().secondsLeft > 60 && *monitor.state().secondsLeft < 120);
        // A slow climb (1 MiB/s: hours left) shows nothing: only estimates under 5 min are shown.
        for (std::int64_t i = 42; i < 80; ++i)
            feed(i, 9000 + std::uint64_t(i - 42));
        QVERIFY2(!window.summary()->levelDetail().contains(QStringLiteral("left")),
                 qPrintable(window.summary()->levelDetail()));
    }

    void chartsShowTheValuesFed()
    {
        MainWindow window;
        window.show();
        for (int i = 0; i < 20; ++i)
            window.showSnapshot(replay::buildAt(i));
        const auto last = replay::buildAt(19);
        ChartsPanel* charts = window.charts();
        QCOMPARE(charts->usedGraph()->dataCount(), 20);
        QCOMPARE(lastValue(charts->usedGraph()), TimeChart::toGiB(last->memory.used));
        QCOMPARE(lastValue(charts->availableGraph()), TimeChart::toGiB(last->memory.available));
        QCOMPARE(lastValue(charts->swapGraph()), 0.0);

        // Stacked areas: each band is its role, the top line is the sum of all.
        std::uint64_t below = 0;
        for (ProcessRole role : kAllRoles) {
            below += last->total(role).residentBytes;
            QCOMPARE(lastValue(charts->roleGraph(role)), TimeChart::toGiB(below));
        }
        QVERIFY(last->total(ProcessRole::Rustc).residentBytes == (200 + 40 * 19) * MiB);

        // One line per build tree, at the build's resident total.
        QCOMPARE(last->builds.size(), std::size_t(1));
        QCPGraph* build = charts->buildGraph(last->builds[0].root);
        QVERIFY(build);
        QCOMPARE(build->dataCount(), 20);
        QCOMPARE(lastValue(build), TimeChart::toGiB(last->builds[0].residentBytes));
        QVERIFY(build->name().startsWith(QStringLiteral("cargo build")));

        // Hover at the newest instant reads the same figures back.
        const double now = services::MemoryHistory::toSeconds(last->steadyNs);
        const QString hover = charts->memoryChart()->hoverTextAt(now);
        QVERIFY2(hover.contains(bytes(last->memory.used)), qPrintable(hover));
        QVERIFY2(hover.contains(bytes(last->memory.available)), qPrintable(hover));
        const QString roles = charts->roleChart()->hoverTextAt(now - 0.2);
        QVERIFY2(roles.contains(QStringLiteral("rustc: ") + bytes((200 + 40 * 19) * MiB)), qPrintable(roles));
        const QString builds = charts->buildsChart()->hoverTextAt(now);
        QVERIFY2(builds.contains(bytes(last->builds[0].residentBytes)), qPrintable(builds));

        // The window shows the chosen span ending now; the y axis spans RAM.
        QCOMPARE(charts->memoryChart()->xAxis->range().upper, now);
        QCOMPARE(charts->memoryChart()->xAxis->range().size(), charts->visibleSpan());
        QVERIFY(charts->memoryChart()->yAxis->range().upper >= 16.0);
        charts->setVisibleSpan(60);
        QCOMPARE(charts->memoryChart()->xAxis->range().size(), 60.0);
    }

    void memoryChartFitsToDataAndBuildsChartCarriesTheBuild()
    {
        MainWindow window;
        window.show();
        ChartsPanel* charts = window.charts();
        // 4.0-4.3 GiB used of 16 GiB while a 300 MiB build runs.
        std::vector<ProcessSample> desk = {process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
                                           process(500, 1, "cargo", {"cargo", "build"}, 40),
                                           process(501, 500, "rustc", {"rustc", "--crate-name", "x"}, 260)};
        for (std::int64_t i = 0; i < 30; ++i)
            window.showSnapshot(replay::snapshot(i, replay::memory(16, 4096 + 10 * std::uint64_t(i)), desk));
        charts->replotNow();
        const QCPRange full = charts->memoryChart()->yAxis->range();
        QCOMPARE(full.lower, 0.0);
        QVERIFY(full.upper >= 16.0);

        // The builds chart has its own axis, in MiB for a build this small.
        const QCPRange builds = charts->buildsChart()->yAxis->range();
        QVERIFY2(builds.upper >= 300.0 / 1024 && builds.upper <= 0.5,
                 qPrintable(QString::number(builds.upper)));
        QCOMPARE(charts->buildsChart()->yUnit(), QStringLiteral("MiB"));
        QCOMPARE(charts->memoryChart()->yUnit(), QStringLiteral("GiB"));

        // Fit to data: the used line fills the chart instead of a sliver of it.
        QToolButton* fit = charts->findChild<QToolButton*>(QStringLiteral("fitToData"));
        QVERIFY(fit);
        QVERIFY(fit->isCheckable() && !fit->isChecked());
        fit->click();
        QVERIFY(charts->memoryFitToData());
        const QCPRange zoomed = charts->memoryChart()->yAxis->range();
        QVERIFY2(zoomed.lower > 3.5 && zoomed.lower <= 4.0, qPrintable(QString::number(zoomed.lower)));
        QVERIFY2(zoomed.upper >= 4096.0 / 1024 + 290.0 / 1024 && zoomed.upper < 5.0,
                 qPrintable(QString::number(zoomed.upper)));
        // New points keep it fitted.
        window.showSnapshot(replay::snapshot(30, replay::memory(16, 5200), desk));
        QVERIFY(charts->memoryChart()->yAxis->range().upper >= 5200.0 / 1024);
        QVERIFY(charts->memoryChart()->yAxis->range().upper < 6.0);

        // Remembered with the window's layout, and off again when unchecked.
        const QByteArray layout = window.saveLayout();
        MainWindow later;
        QVERIFY(later.restoreLayout(layout));
        QVERIFY(later.charts()->memoryFitToData());
        QVERIFY(later.charts()->fitToDataButton()->isChecked());
        fit->click();
        QVERIFY(!charts->memoryFitToData());
        QVERIFY(charts->memoryChart()->yAxis->range().upper >= 16.0);
    }

    void historyStaysBoundedAfter100000Samples()
    {
        ChartsPanel charts;
        charts.configure(5 * 60, 1.0); // the shortest history the settings allow
        std::vector<ProcessSample> desk = {process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
                                           process(500, 1, "cargo", {"cargo", "build"}, 60),
                                           process(501, 500, "rustc", {"rustc"}, 700)};
        auto base = replay::snapshot(0, replay::memory(16, 4000), desk);
        Snapshot s = *base;
        const std::size_t capacity = charts.history().capacity();
        for (std::int64_t i = 0; i < 100'000; ++i) {
            s.steadyNs = base->steadyNs + i * 1'000'000'000;
            s.wallMs = base->wallMs + i * 1000;
            s.memory.used = (4000 + static_cast<std::uint64_t>(i % 5000)) * MiB;
            if (i % 1000 == 0) {
                // A new build every 1000 s: old build series must age out too.
                s.builds[0].root = {500 + i, static_cast<std::uint64_t>(i)};
            }
            charts.append(s);
        }
        QCOMPARE(charts.history().capacity(), capacity);
        QVERIFY(charts.history().points().size() <= capacity);
        QVERIFY(capacity < 400);
        // The graphs hold the span and no more: 301 points at one per second.
        QVERIFY2(charts.usedGraph()->dataCount() <= 302,
                 qPrintable(QString::number(charts.usedGraph()->dataCount())));
        QVERIFY(charts.usedGraph()->dataCount() >= 290);
        for (ProcessRole role : kAllRoles)
            QVERIFY(charts.roleGraph(role)->dataCount() <= 302);
        QVERIFY(charts.history().builds().size() <= 2);
        QVERIFY(charts.buildsChart()->graphCount() <= 2);
        QCOMPARE(lastValue(charts.usedGraph()), TimeChart::toGiB((4000 + 99'999 % 5000) * MiB));
    }

    void selectionFollowsTheProcessWhenRowsReorder()
    {
        MainWindow window;
        window.show();
        auto first = replay::buildAt(0);
        window.showSnapshot(first);
        ProcessPanel* panel = window.processes();
        // Sorted by memory: code (900) first, rustc (200) second.
        QCOMPARE(visiblePids(panel).mid(0, 2), (QStringList{"400", "501"}));
        panel->selectKeys({{501, 50100}});
        QCOMPARE(panel->selectedKeys(), one(501, 50100));

        // rustc grows past the editor, new processes come and go: the selection stays on rustc.
        for (int i = 1; i < 30; ++i) {
            auto s = replay::buildAt(i);
            std::vector<ProcessSample> processes = s->processes;
            processes.push_back(
                process(700 + i, 1, "sh", {"sh", "-c", "true"}, static_cast<std::uint64_t>(i * 20)));
            window.showSnapshot(replay::snapshot(i, s->memory, processes));
            QCOMPARE(panel->selectedKeys(), one(501, 50100));
            const QModelIndexList rows = panel->view()->selectionModel()->selectedRows(ProcessColumns::Pid);
            QCOMPARE(rows.size(), 1);
            QCOMPARE(rows.first().data().toString(), QStringLiteral("501"));
        }
        // It moved to the top row on the way.
        QCOMPARE(visiblePids(panel).first(), QStringLiteral("501"));

        // Its pid comes back as another process: the selection does not jump to it.
        auto gone = replay::buildAt(30);
        std::vector<ProcessSample> processes = gone->processes;
        for (ProcessSample& p : processes) {
            if (p.key.pid == 501)
                p.key.startTime = 777;
        }
        window.showSnapshot(replay::snapshot(30, gone->memory, processes));
        QVERIFY(panel->selectedKeys().empty());
        QVERIFY(!window.action(ProcessAction::Terminate, false)->isEnabled());
    }

    void treeModeKeepsSelectionAndSumsCollapsedParents()
    {
        MainWindow window;
        window.show();
        window.showSnapshot(replay::buildAt(6));
        ProcessPanel* panel = window.processes();
        panel->selectKeys({{500, 50000}});
        panel->setTreeMode(true);
        QVERIFY(panel->treeMode());
        QCOMPARE(panel->selectedKeys(), one(500, 50000));
        const QModelIndex cargo =
            panel->view()->selectionModel()->selectedRows(ProcessColumns::Memory).first();
        // Open by default: its own memory.
        QCOMPARE(cargo.data().toString(), QStringLiteral("60 MiB"));
        panel->view()->collapse(cargo.siblingAtColumn(0));
        const auto snapshot = replay::buildAt(6);
        const std::uint64_t subtree = (60 + 200 + 40 * 6 + 150) * MiB;
        QCOMPARE(
            panel->view()->selectionModel()->selectedRows(ProcessColumns::Memory).first().data().toString(),
            QStringLiteral("Σ ") + bytes(subtree));
        window.showSnapshot(replay::buildAt(7));
        QCOMPARE(panel->selectedKeys(), one(500, 50000));
        panel->setTreeMode(false);
        QCOMPARE(panel->selectedKeys(), one(500, 50000));
    }

    void keysAndToolbarRequestActionsOnTheSelection()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showSnapshot(replay::buildAt(3));
        QSignalSpy requested(&window, &MainWindow::actionRequested);
        window.processes()->selectKeys({{501, 50100}, {502, 50200}}); // 502 does not exist yet
        window.processes()->view()->setFocus();

        QTest::keyClick(window.processes()->view(), Qt::Key_Delete);
        QCOMPARE(requested.count(), 1);
        auto request = requested.takeFirst().at(0).value<services::ActionRequest>();
        QCOMPARE(request.action, ProcessAction::Terminate);
        QVERIFY(!request.tree);
        QCOMPARE(request.targets, one(501, 50100));
        QVERIFY(request.description.contains(QStringLiteral("rustc (501)")));

        QTest::keyClick(window.processes()->view(), Qt::Key_Delete, Qt::AltModifier | Qt::ShiftModifier);
        QCOMPARE(requested.count(), 1);
        request = requested.takeFirst().at(0).value<services::ActionRequest>();
        QCOMPARE(request.action, ProcessAction::Kill);
        QVERIFY(request.tree);

        window.action(ProcessAction::Pause, false)->trigger();
        QCOMPARE(requested.takeFirst().at(0).value<services::ActionRequest>().action, ProcessAction::Pause);
    }

    void duplicateBuildsWarnAndStopTheExtraOnes()
    {
        MainWindow window;
        window.show();
        window.setIdentity(1000, 99999);
        std::vector<ProcessSample> processes = {
            process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
            process(500, 1, "cargo", {"cargo", "build", "--profile", "dist-fast", "-p", "tsz-cli"}, 60,
                    "/w/tsz"),
            process(501, 500, "rustc", {"rustc"}, 3000, "/w/tsz"),
            process(600, 1, "cargo", {"cargo", "build", "--profile", "dist-fast", "-p", "tsz-cli"}, 60,
                    "/w/tsz"),
            process(601, 600, "rustc", {"rustc"}, 2000, "/w/tsz"),
            process(700, 1, "cargo", {"cargo", "build"}, 30, "/w/other"),
        };
        processes[1].startedAtMs -= 600'000; // the first one has run ten minutes longer
        window.showSnapshot(replay::snapshot(0, replay::memory(16, 9000), processes));

        BuildsPanel* builds = window.builds();
        QCOMPARE(builds->model()->rowCount(), 3);
        QVERIFY(builds->duplicateWarningShown());
        QVERIFY(builds->model()->index(0, 0).data(BuildsModel::HasDuplicatesRole).toBool());
        QCOMPARE(builds->model()->index(0, BuildsModel::Rustc).data().toInt(), 1);
        QVERIFY(builds->roleTotalsText().contains(QStringLiteral("rustc")));

        QSignalSpy requested(&window, &MainWindow::actionRequested);
        QTest::mouseClick(builds->stopExtraButton(), Qt::LeftButton);
        // It asks first, like every stop: the extra build ticked, the kept one shown.
        QCOMPARE(requested.count(), 0);
        auto* dialog = window.findChild<StopBuildsDialog*>(QStringLiteral("stopExtraBuildsDialog"));
        QVERIFY(dialog);
        QCOMPARE(dialog->chosenRoots(), one(600, 60000));
        dialog->stopButton()->click();
        QCOMPARE(requested.count(), 1);
        const auto request = requested.first().at(0).value<services::ActionRequest>();
        QCOMPARE(request.targets, one(600, 60000));
        QCOMPARE(request.action, ProcessAction::Terminate);
        QVERIFY(request.tree);
        QVERIFY(request.onlyCurrentUser);

        // Once the extra build is gone the warning goes too.
        processes.erase(processes.begin() + 3, processes.begin() + 5);
        window.showSnapshot(replay::snapshot(1, replay::memory(16, 6000), processes));
        QVERIFY(!builds->duplicateWarningShown());
        QCOMPARE(builds->model()->rowCount(), 2);
    }

    void stopRunawayBuildsListsOnlyTheUsersBuildProcesses()
    {
        MainWindow window;
        window.show();
        window.setIdentity(1000, 410);
        std::vector<ProcessSample> processes = {
            process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
            process(300, 1, "bash", {"bash"}, 5),
            process(400, 1, "code", {"code", "."}, 900),
            process(410, 400, "headroom", {"headroom"}, 40),
            process(500, 300, "cargo", {"cargo", "test"}, 60),
            process(501, 500, "rustc", {"rustc"}, 1200),
            process(502, 500, "ld", {"ld"}, 800),
            process(600, 300, "cargo-nextest", {"cargo-nextest", "run"}, 30),
            process(601, 600, "app-0123abcd", {"target/debug/deps/app-0123abcd"}, 2000),
            process(800, 1, "rustc", {"rustc"}, 500), // someone else's
        };
        processes.back().uid = 1001;
        processes.back().user = "other";
        window.showSnapshot(replay::snapshot(0, replay::memory(16, 9000), processes));

        QSignalSpy requested(&window, &MainWindow::actionRequested);
        StopBuildsDialog* dialog = window.openStopBuildsDialog();
        QVERIFY(dialog);
        std::vector<Pid> roots;
        std::vector<Pid> listed;
        for (const services::RunawayGroup& group : dialog->groups()) {
            roots.push_back(group.root.pid);
            for (const auto& member : group.members)
                listed.push_back(member.key.pid);
        }
        std::sort(listed.begin(), listed.end());
        QVERIFY2(std::find(roots.begin(), roots.end(), 500) != roots.end(), "the cargo build is offered");
        QVERIFY(std::find(listed.begin(), listed.end(), 800) == listed.end()); // another user's rustc
        QVERIFY(std::find(listed.begin(), listed.end(), 400) == listed.end()); // not a build process
        QVERIFY(std::find(listed.begin(), listed.end(), 410) == listed.end()); // the dashboard itself
        QVERIFY(std::find(listed.begin(), listed.end(), 601) != listed.end()); // the test binary
        QVERIFY(std::find(listed.begin(), listed.end(), 501) != listed.end());
        QVERIFY(std::find(listed.begin(), listed.end(), 502) != listed.end());

        // Every box is ticked at first; the total is what stopping them frees.
        std::uint64_t expected = 0;
        for (const services::RunawayGroup& group : dialog->groups())
            expected += group.residentBytes;
        QCOMPARE(dialog->chosenBytes(), expected);
        QCOMPARE(dialog->chosenRoots().size(), dialog->groups().size());
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("runawayTotal"))->text().contains(bytes(expected)));

        // Untick the first group: it is neither counted nor stopped.
        dialog->setChecked(0, false);
        QCOMPARE(dialog->chosenBytes(), expected - dialog->groups()[0].residentBytes);
        const ProcessKey spared = dialog->groups()[0].root;
        dialog->stopButton()->click();
        QCOMPARE(requested.count(), 1);
        const auto request = requested.first().at(0).value<services::ActionRequest>();
        QCOMPARE(request.targets.size(), dialog->groups().size() - 1);
        QVERIFY(std::find(request.targets.begin(), request.targets.end(), spared) == request.targets.end());
        QCOMPARE(request.action, ProcessAction::Terminate);
        QVERIFY(request.tree);
        QVERIFY(request.onlyCurrentUser);
    }

    void everyOutcomeIsShown()
    {
        MainWindow window;
        window.show();
        services::ActionRequest request;
        request.description = QStringLiteral("Terminate 3 processes");
        ActionReport report;
        report.action = ProcessAction::Terminate;
        report.results = {
            {{10, 1}, "rustc", ActionOutcome::Done, "rustc (10) terminated"},
            {{11, 1}, "cargo", ActionOutcome::AlreadyGone, "cargo (11) had already exited"},
            {{1, 1},
             "systemd",
             ActionOutcome::Refused,
             "systemd (1) is the init process; Headroom never stops it"},
        };
        window.showActionReport(request, report);
        QStringList lines;
        for (int row = 0; row < window.activity()->count(); ++row)
            lines << window.activity()->text(row);
        QVERIFY2(lines.first().startsWith(QStringLiteral("Terminate 3 processes: ")),
                 qPrintable(lines.first()));
        QVERIFY(lines.contains(QStringLiteral("rustc (10) terminated")));
        QVERIFY(lines.contains(QStringLiteral("cargo (11) had already exited")));
        QVERIFY(lines.contains(QStringLiteral("systemd (1) is the init process; Headroom never stops it")));
        QCOMPARE(window.activity()->severity(0), ActivityLog::Severity::Warning); // not all succeeded
        QVERIFY(window.statusBar()->currentMessage().startsWith(QStringLiteral("Terminate 3 processes")));
    }
};

QTEST_MAIN(TestDashboardReplay)
#include "TestDashboardReplay.moc"
