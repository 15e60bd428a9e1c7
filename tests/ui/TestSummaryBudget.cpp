// SPDX-License-Identifier: GPL-3.0-or-later
// The summary strip inside a container: the "Available" tile shows what is
// left of the cgroup's limit and names it, the machine's figure in its tooltip.
#include "services/PressureMonitor.h"
#include "support/ReplaySeries.h"
#include "ui/MainWindow.h"
#include "ui/SummaryStrip.h"

#include <QLabel>
#include <QtTest>

using namespace headroom;
using namespace headroom::ui;

namespace {
QString labelText(QWidget* root, const char* name)
{
    auto* label = root->findChild<QLabel*>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

// The replayed desk, its host at 4 GiB used of 16, inside a container whose
// 8 GiB limit holds `usedMiB`.
services::SnapshotPtr inContainer(std::int64_t index, std::uint64_t usedMiB, std::string dir)
{
    auto s = replay::buildAt(index);
    s->memory = replay::memory(16, 4096);
    CgroupMemoryState ctr;
    ctr.dir = std::move(dir);
    ctr.v2 = true;
    ctr.container = true;
    ctr.usageBytes = usedMiB * MiB;
    ctr.limitBytes = 8 * GiB;
    s->budget = memoryBudget(s->memory, ctr);
    return s;
}
} // namespace

class TestSummaryBudget : public QObject {
    Q_OBJECT

  private slots:
    void theTileNamesTheLimit()
    {
        MainWindow window;
        window.show();
        services::PressureMonitor monitor;
        connect(&monitor, &services::PressureMonitor::pressureUpdated, &window, &MainWindow::showPressure);
        const auto feed = [&](const services::SnapshotPtr& s) {
            window.showSnapshot(s);
            monitor.observe(s);
        };
        const std::string dir = "/sys/fs/cgroup/kubepods/<b>pod</b>";
        feed(inContainer(0, 5 * 1024, dir));
        QCOMPARE(labelText(&window, "availableValue"), QStringLiteral("3.0 GiB"));
        QCOMPARE(labelText(&window, "availableDetail"), QStringLiteral("of the container limit 8.0 GiB"));
        auto* tile = window.findChild<QFrame*>(QStringLiteral("availableTile"));
        QVERIFY(tile);
        const QString tip = tile->toolTip();
        QVERIFY2(tip.contains(QStringLiteral("3.0 GiB left of the container limit 8.0 GiB (38 % of it)")),
                 qPrintable(tip));
        QVERIFY2(
            tip.contains(QStringLiteral("The machine has ") + bytes(12 * GiB) + QStringLiteral(" available")),
            qPrintable(tip));
        // The cgroup's name is text, never markup.
        QVERIFY2(tip.contains(QStringLiteral("&lt;b&gt;pod&lt;/b&gt;")) &&
                     !tip.contains(QStringLiteral("<b>")),
                 qPrintable(tip));
        // Normal: the level tile says what is left of the limit, not the host's headroom.
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Normal"));
        QCOMPARE(window.summary()->levelDetail(),
                 QStringLiteral("3.0 GiB left of the container limit 8.0 GiB"));
        // The RAM tile stays the machine's.
        QVERIFY2(labelText(&window, "ramValue").endsWith(QStringLiteral(" / 16.0 GiB")),
                 qPrintable(labelText(&window, "ramValue")));

        // 7.5 of 8 GiB used: critical, though the host has 12 GiB available.
        feed(inContainer(1, 7 * 1024 + 512, dir));
        QCOMPARE(labelText(&window, "availableValue"), QStringLiteral("512 MiB"));
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Critical"));
        QCOMPARE(window.summary()->levelReason(),
                 QStringLiteral("only 6% of the container limit 8.0 GiB is left"));

        // Out of the container (no cgroup limit): the machine's figures, no tooltip.
        auto host = replay::buildAt(2);
        host->budget = memoryBudget(host->memory, std::nullopt);
        feed(host);
        QCOMPARE(labelText(&window, "availableValue"), bytes(host->memory.available));
        QVERIFY(labelText(&window, "availableDetail").contains(QStringLiteral("% of RAM")));
        QVERIFY(tile->toolTip().isEmpty());
    }
};

QTEST_MAIN(TestSummaryBudget)
#include "TestSummaryBudget.moc"
