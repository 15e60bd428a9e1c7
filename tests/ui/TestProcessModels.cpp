// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/ReplaySeries.h"
#include "ui/ProcessColumns.h"
#include "ui/ProcessFilterProxy.h"
#include "ui/ProcessTableModel.h"
#include "ui/ProcessTreeModel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

using namespace headroom;
using namespace headroom::ui;
using replay::process;

namespace {

services::SnapshotPtr snap(std::int64_t index, std::vector<ProcessSample> processes)
{
    return replay::snapshot(index, replay::memory(16, 4000), std::move(processes));
}

std::vector<ProcessSample> desk(std::uint64_t rustcMiB = 700)
{
    return {
        process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
        process(300, 1, "bash", {"bash"}, 5),
        process(400, 1, "code", {"code", "."}, 900),
        process(500, 300, "cargo", {"cargo", "build"}, 60),
        process(501, 500, "rustc", {"rustc", "--crate-name", "app"}, rustcMiB),
        process(502, 500, "rustc", {"rustc", "--crate-name", "dep"}, 300),
    };
}

// Column values of the proxy's top-level rows, top to bottom.
QStringList column(const QAbstractItemModel& model, int col, const QModelIndex& parent = {})
{
    QStringList values;
    for (int row = 0; row < model.rowCount(parent); ++row)
        values << model.index(row, col, parent).data().toString();
    return values;
}

QModelIndex findPid(const QAbstractItemModel& model, Pid pid, const QModelIndex& parent = {})
{
    for (int row = 0; row < model.rowCount(parent); ++row) {
        const QModelIndex index = model.index(row, ProcessColumns::Pid, parent);
        if (index.data().toString() == QString::number(pid))
            return index;
        const QModelIndex inside = findPid(model, pid, index.siblingAtColumn(0));
        if (inside.isValid())
            return inside;
    }
    return {};
}

} // namespace

class TestProcessModels : public QObject {
    Q_OBJECT

  private slots:
    void tableShowsEveryProcessWithItsCells()
    {
        ProcessTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        QCOMPARE(model.rowCount(), 6);
        QCOMPARE(model.columnCount(), int(ProcessColumns::Count));
        const int row = model.rowOf({501, 50100});
        QVERIFY(row >= 0);
        QCOMPARE(model.index(row, ProcessColumns::Name).data().toString(), QStringLiteral("rustc"));
        QCOMPARE(model.index(row, ProcessColumns::Role).data().toString(), QStringLiteral("rustc"));
        QCOMPARE(model.index(row, ProcessColumns::User).data().toString(), QStringLiteral("dev"));
        QCOMPARE(model.index(row, ProcessColumns::Memory).data().toString(), QStringLiteral("700 MiB"));
        QCOMPARE(model.index(row, ProcessColumns::Memory).data(ProcessColumns::SortRole).toULongLong(),
                 700 * MiB);
        QCOMPARE(model.index(row, ProcessColumns::Command).data().toString(),
                 QStringLiteral("rustc --crate-name app"));
        QVERIFY(
            model.index(row, ProcessColumns::Role).data(Qt::ForegroundRole).isValid()); // roles are coloured
        QCOMPARE(model.headerData(ProcessColumns::Memory, Qt::Horizontal).toString(),
                 QStringLiteral("Memory"));
    }

    void rowsStayPutAcrossRefreshes()
    {
        ProcessTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        const int rustcRow = model.rowOf({501, 50100});
        QPersistentModelIndex rustc = model.index(rustcRow, 0);

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        // 502 ends, 503 starts, rustc grows.
        auto next = desk(1500);
        next.erase(next.begin() + 5);
        next.push_back(process(503, 500, "cc", {"cc", "-o", "app"}, 120));
        model.setSnapshot(snap(1, next));

        QCOMPARE(reset.count(), 0);
        // Only the row whose figures moved is announced; the sleepers stay quiet.
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().row(), rustc.row());
        QCOMPARE(changed.first().at(1).toModelIndex().row(), rustc.row());
        QCOMPARE(removed.count(), 1);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(model.rowCount(), 6);
        QVERIFY(rustc.isValid());
        QCOMPARE(model.index(rustc.row(), ProcessColumns::Memory).data().toString(),
                 QStringLiteral("1.5 GiB"));
        QCOMPARE(model.rowOf({502, 50200}), -1);
        QVERIFY(model.rowOf({503, 50300}) >= 0);
    }

    void aReusedPidIsANewRow()
    {
        ProcessTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        QPersistentModelIndex old = model.index(model.rowOf({502, 50200}), 0);
        auto next = desk();
        next[5].key.startTime = 99999; // pid 502 exited and came back as another process
        model.setSnapshot(snap(1, next));
        QVERIFY(!old.isValid());
        QCOMPARE(model.rowOf({502, 50200}), -1);
        QVERIFY(model.rowOf({502, 99999}) >= 0);
    }

    void proxySortsByMemoryAsNumbers()
    {
        ProcessTableModel model;
        ProcessFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        // 900 MiB sorts above 12 MiB though "12" > "9" as text; 1.5 GiB above both.
        model.setSnapshot(snap(0, desk(1536)));
        proxy.sort(ProcessColumns::Memory, Qt::DescendingOrder);
        QCOMPARE(column(proxy, ProcessColumns::Pid), (QStringList{"501", "400", "502", "500", "1", "300"}));
        proxy.sort(ProcessColumns::Pid, Qt::AscendingOrder);
        QCOMPARE(column(proxy, ProcessColumns::Pid), (QStringList{"1", "300", "400", "500", "501", "502"}));
        // Re-sorts by itself when the figures change.
        proxy.sort(ProcessColumns::Memory, Qt::DescendingOrder);
        auto next = desk(10);
        model.setSnapshot(snap(1, next));
        QCOMPARE(column(proxy, ProcessColumns::Pid).first(), QStringLiteral("400"));
        QCOMPARE(column(proxy, ProcessColumns::Pid).last(), QStringLiteral("300"));
    }

    void filterByWordsAndBuildRole()
    {
        ProcessTableModel model;
        ProcessFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        proxy.sort(ProcessColumns::Pid, Qt::AscendingOrder);

        proxy.setFilterText(QStringLiteral("rustc dep"));
        QCOMPARE(column(proxy, ProcessColumns::Pid), QStringList{"502"});
        proxy.setFilterText(QStringLiteral("CRATE-NAME"));
        QCOMPARE(column(proxy, ProcessColumns::Pid), (QStringList{"501", "502"}));
        proxy.setFilterText(QStringLiteral("400"));
        QCOMPARE(column(proxy, ProcessColumns::Pid), QStringList{"400"});
        proxy.setFilterText({});
        proxy.setBuildProcessesOnly(true);
        QCOMPARE(column(proxy, ProcessColumns::Pid), (QStringList{"500", "501", "502"}));
        proxy.setFilterText(QStringLiteral("nothing-matches-this"));
        QCOMPARE(proxy.rowCount(), 0);
    }

    void treeNestsChildrenAndSumsCollapsedSubtrees()
    {
        ProcessTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        QCOMPARE(model.rowCount(), 1); // systemd holds everything
        const QModelIndex cargo = model.indexOf({500, 50000});
        QVERIFY(cargo.isValid());
        QCOMPARE(model.parent(cargo), model.indexOf({300, 30000}));
        QCOMPARE(model.rowCount(cargo), 2);

        // Collapsed: cargo shows cargo + both rustc.
        const auto sum = model.subtreeSum({500, 50000});
        QCOMPARE(sum.residentBytes, (60 + 700 + 300) * MiB);
        QCOMPARE(sum.processes, 3);
        QCOMPARE(cargo.siblingAtColumn(ProcessColumns::Memory).data().toString(),
                 QStringLiteral("Σ 1.0 GiB"));
        QCOMPARE(cargo.siblingAtColumn(ProcessColumns::Memory).data(ProcessColumns::SortRole).toULongLong(),
                 1060 * MiB);
        // Expanded: its own figure; the children carry the rest.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setExpanded(cargo, true);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(cargo.siblingAtColumn(ProcessColumns::Memory).data().toString(), QStringLiteral("60 MiB"));
        // A leaf never shows a sum.
        QCOMPARE(model.indexOf({501, 50100}, ProcessColumns::Memory).data().toString(),
                 QStringLiteral("700 MiB"));
        // The root sums the whole desk.
        QCOMPARE(model.subtreeSum({1, 100}).residentBytes, (12 + 5 + 900 + 60 + 700 + 300) * MiB);
    }

    void treeFollowsEndsStartsAndReparenting()
    {
        ProcessTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        QPersistentModelIndex rustc = model.indexOf({501, 50100});
        QPersistentModelIndex code = model.indexOf({400, 40000});

        // cargo dies: the kernel hands its rustc children to init.
        auto next = desk();
        next.erase(next.begin() + 3);
        for (ProcessSample& p : next) {
            if (p.parentPid == 500)
                p.parentPid = 1;
        }
        next.push_back(process(600, 400, "node", {"node", "server.js"}, 80));
        model.setSnapshot(snap(1, next));

        QVERIFY(!model.indexOf({500, 50000}).isValid());
        QVERIFY(code.isValid()); // untouched rows keep their index
        const QModelIndex moved = model.indexOf({501, 50100});
        QVERIFY(moved.isValid());
        QCOMPARE(model.parent(moved), model.indexOf({1, 100}));
        QCOMPARE(model.parent(model.indexOf({600, 60000})), model.indexOf({400, 40000}));
        QCOMPARE(model.subtreeSum({400, 40000}).residentBytes, (900 + 80) * MiB);
        Q_UNUSED(rustc)
    }

    void treeUnderProxyKeepsParentsOfMatches()
    {
        ProcessTreeModel model;
        ProcessFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(snap(0, desk()));
        proxy.setBuildProcessesOnly(true);
        // systemd and bash do not build, but lead to cargo: they stay as the path.
        QVERIFY(findPid(proxy, 500).isValid());
        QVERIFY(findPid(proxy, 501).isValid());
        QVERIFY(!findPid(proxy, 400).isValid());
        proxy.setFilterText(QStringLiteral("dep"));
        QVERIFY(findPid(proxy, 502).isValid());
        QVERIFY(!findPid(proxy, 501).isValid());
    }
};

QTEST_MAIN(TestProcessModels)
#include "TestProcessModels.moc"
