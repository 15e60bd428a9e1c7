// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PressureMessage.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "services/MemoryLevel.h"
#include "services/PressureMonitor.h"
#include "services/TrayPresenter.h"
#include "support/LiveSnapshot.h"
#include "support/ProcessSpawner.h"
#include "support/ReplaySeries.h"
#include "support/SnapshotBuilder.h"

#include <QSignalSpy>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace headroom;
using namespace headroom::services;

namespace {

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

QString ramLine(const MemoryStatus& m)
{
    QString line = QStringLiteral("RAM %1 of %2 used (%3 %)")
                       .arg(bytes(m.used), bytes(m.total))
                       .arg(m.usedFraction() * 100.0, 0, 'f', 0);
    if (m.swapTotal > 0)
        line += QStringLiteral(" · swap %1 of %2").arg(bytes(m.swapUsed), bytes(m.swapTotal));
    return line;
}

// The desk of ReplaySeries with a build whose memory grows by 40 MiB a
// second: normal at first, a warning from poll 13 on (under 20 % of 16 GiB
// available), RAM and swap gone about two minutes after that.
SnapshotPtr runningOutAt(std::int64_t index)
{
    auto s = replay::buildAt(index);
    s->memory = replay::memory(16, 12600 + 40 * static_cast<std::uint64_t>(index));
    return s;
}

} // namespace

// The tray's status from what the dashboard knows, without a tray: a real
// sample of this machine, a replayed build running out of memory, and
// constructed edge cases. The time left is worded in one place for the tray,
// the summary strip and the notifications.
class TestTrayPresenter : public QObject {
    Q_OBJECT

  private slots:
    void waitingForTheFirstSample()
    {
        TrayGuardState guard;
        guard.guardOn = true;
        guard.quiet = true;
        guard.heldPaused = true;
        guard.canPause = true;
        guard.haveRunaway = true;
        const TrayStatus s =
            TrayPresenter::present(nullptr, {}, guard, {QStringLiteral("Preset A · tsz"), true});
        QVERIFY(!s.hasData);
        QCOMPARE(s.tooltip, QStringLiteral("Headroom: waiting for the first sample"));
        QCOMPARE(s.usedFraction, 0.0);
        QCOMPARE(s.level, PressureLevel::Normal);
        // The menu's toggles hold before any sample; stopping needs one.
        QVERIFY(s.guardOn);
        QVERIFY(s.quiet);
        QVERIFY(s.heldPaused);
        QVERIFY(s.canPause);
        QVERIFY(!s.haveRunaway);
        QCOMPARE(s.lastBuild, QStringLiteral("Preset A · tsz"));
        QVERIFY(s.canStartBuild);
    }

    void lastBuildIsOfferedOnlyWhenTheLauncherIsIdle()
    {
        const SnapshotPtr snapshot = replay::buildAt(0);
        QVERIFY(!TrayPresenter::present(snapshot, {}, {}, {QStringLiteral("Preset A · tsz"), false})
                     .canStartBuild);
        QVERIFY(!TrayPresenter::present(snapshot, {}, {}, {QString(), true}).canStartBuild);
        const TrayStatus s =
            TrayPresenter::present(snapshot, {}, {}, {QStringLiteral("Preset A · tsz"), true});
        QVERIFY(s.canStartBuild);
        QCOMPARE(s.lastBuild, QStringLiteral("Preset A · tsz"));
    }

    void liveSampleOfThisMachine()
    {
        // A real cargo-named tree with a rustc holding 64 MiB, sampled from /proc.
        ProcessSpawner spawner;
        const QString work = spawner.makeDir(QStringLiteral("traywork"));
        spawner.installAs(QStringLiteral("rustc"));
        const Pid root = spawner.start(QStringLiteral("cargo"),
                                       {QStringLiteral("build"), QStringLiteral("{"), QStringLiteral("rustc"),
                                        QStringLiteral("--mem"), QStringLiteral("64"),
                                        QStringLiteral("--sleep"), QStringLiteral("60"), QStringLiteral("}"),
                                        QStringLiteral("--sleep"), QStringLiteral("60")},
                                       work, 2);
        QVERIFY(root > 0);
        auto sampler = SystemSampler::create();
        QVERIFY(sampler);
        live::sampleOnly(*sampler, spawner.binDir()); // a first poll primes CPU figures
        QTest::qWait(300);
        const SnapshotPtr snapshot = live::sampleOnly(*sampler, spawner.binDir());
        QVERIFY(snapshot);
        QVERIFY(snapshot->memory.total > 0);

        PressureMonitor monitor;
        monitor.observe(snapshot);
        TrayGuardState guard;
        guard.guardOn = true;
        guard.haveRunaway = true;
        const TrayStatus s = TrayPresenter::present(snapshot, monitor.state(), guard, {});
        QVERIFY(s.hasData);
        QCOMPARE(s.level, monitor.level());
        QCOMPARE(s.usedFraction, snapshot->memory.usedFraction());
        QVERIFY(s.usedFraction > 0.0 && s.usedFraction < 1.0);
        QVERIFY(s.haveRunaway);
        const QStringList lines = s.tooltip.split(QLatin1Char('\n'));
        QVERIFY2(lines.size() >= 4, qPrintable(s.tooltip));
        if (monitor.state().reason.isEmpty())
            QCOMPARE(lines.at(0), QStringLiteral("Headroom: memory normal"));
        else
            QCOMPARE(lines.at(0), QStringLiteral("Headroom: %1, %2")
                                      .arg(levelName(monitor.level()).toLower(), monitor.state().reason));
        QCOMPARE(lines.at(1), ramLine(snapshot->memory));
        // The heaviest of what is left after narrowing: the spawned tree.
        const QString top = QString::fromStdString(describeTopConsumer(*snapshot));
        QVERIFY2(top.startsWith(QStringLiteral("cargo build")) || top.startsWith(QStringLiteral("rustc")),
                 qPrintable(top));
        QCOMPARE(lines.at(2), QStringLiteral("Top: %1").arg(top));
        QCOMPARE(lines.last(), QStringLiteral("Build guard on"));
        QVERIFY(!s.tooltip.contains(QStringLiteral("runs out"))); // one sample: no trend yet
    }

    void replayedBuildRunningOutOfMemory()
    {
        PressureMonitor monitor;
        QSignalSpy due(&monitor, &PressureMonitor::notificationDue);
        TrayPresenter tray;
        QStringList seen;
        for (std::int64_t i = 0; i <= 20; ++i) {
            const SnapshotPtr s = runningOutAt(i);
            monitor.observe(s);
            if (tray.update(s, monitor.state(), {}, {}))
                seen << tray.status().tooltip;
            // Each poll's figures change, so each one is a new status.
            QCOMPARE(seen.size(), static_cast<qsizetype>(i + 1));
            QCOMPARE(tray.status().level, i >= 13 ? PressureLevel::Warning : PressureLevel::Normal);
        }
        const TrayStatus& s = tray.status();
        // 13400 MiB of 16 GiB used; 2984 MiB available + 2 GiB swap, falling
        // by 40 MiB a second: 126 s left.
        QVERIFY(monitor.state().secondsLeft);
        QVERIFY2(std::abs(*monitor.state().secondsLeft - 5032.0 / 40.0) < 0.5,
                 qPrintable(QString::number(*monitor.state().secondsLeft)));
        const QStringList lines = s.tooltip.split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 4);
        QVERIFY2(lines.at(0).startsWith(QStringLiteral("Headroom: warning, ")), qPrintable(lines.at(0)));
        QCOMPARE(lines.at(0), QStringLiteral("Headroom: warning, %1").arg(monitor.state().reason));
        QCOMPARE(lines.at(1), ramLine(runningOutAt(20)->memory));
        QVERIFY2(lines.at(2).startsWith(QStringLiteral("Top: cargo build in app · ")),
                 qPrintable(lines.at(2)));
        QCOMPARE(lines.at(3), QStringLiteral("Memory runs out in about 2 min"));
        QCOMPARE(s.usedFraction, 13400.0 / 16384.0);

        // The same words in the summary strip's form and in the notification,
        // which went out once the warning held for two polls.
        QCOMPARE(describeTimeLeft(monitor.state().secondsLeft), QStringLiteral("about 2 min left"));
        QCOMPARE(due.size(), 1);
        QCOMPARE(due.first().at(0).value<PressureLevel>(), PressureLevel::Warning);
        const QString body = due.first().at(2).toString();
        QVERIFY2(body.contains(QStringLiteral("rustc · ")), qPrintable(body));
        QVERIFY2(body.endsWith(QStringLiteral("; about 2 min left")), qPrintable(body));

        // Nothing new: no new status to push.
        QVERIFY(!tray.update(runningOutAt(20), monitor.state(), {}, {}));
        TrayGuardState held;
        held.heldPaused = true;
        QVERIFY(tray.update(runningOutAt(20), monitor.state(), held, {}));
        QVERIFY(tray.status().tooltip.endsWith(QStringLiteral("\nBuilds paused by Headroom")));
        QVERIFY(tray.status().heldPaused);
    }

    void aContainerRunsOutBeforeTheHost()
    {
        // The same desk inside a container with an 8 GiB limit: the host
        // stays at 4 GiB used of 16, the container's usage grows by 40 MiB a
        // poll from 6 GiB. Its limit decides the level, the time left and the words.
        PressureMonitor monitor;
        TrayPresenter tray;
        const auto at = [](std::int64_t i) {
            auto s = replay::buildAt(i);
            s->memory = replay::memory(16, 4096);
            CgroupMemoryState ctr;
            ctr.dir = "/sys/fs/cgroup/system.slice/docker-0123.scope";
            ctr.v2 = true;
            ctr.container = true;
            ctr.usageBytes = 6 * GiB + std::uint64_t(i) * 40 * MiB;
            ctr.limitBytes = 8 * GiB;
            s->budget = memoryBudget(s->memory, ctr);
            return SnapshotPtr(s);
        };
        for (std::int64_t i = 0; i <= 20; ++i) {
            monitor.observe(at(i));
            tray.update(at(i), monitor.state(), {}, {});
        }
        // 2048 − 800 MiB = 1248 MiB left of 8 GiB (15 %): a warning the host's figures never give.
        QCOMPARE(monitor.level(), PressureLevel::Warning);
        QCOMPARE(monitor.state().reason, QStringLiteral("only 15% of the container limit 8.0 GiB is left"));
        QVERIFY(monitor.state().secondsLeft);
        QVERIFY2(std::abs(*monitor.state().secondsLeft - 1248.0 / 40.0) < 0.5,
                 qPrintable(QString::number(*monitor.state().secondsLeft)));
        const TrayStatus& s = tray.status();
        const QStringList lines = s.tooltip.split(QLatin1Char('\n'));
        QCOMPARE(lines.at(1), ramLine(at(20)->memory));
        QCOMPARE(lines.at(2), QStringLiteral("1.2 GiB left of the container limit 8.0 GiB"));
        QCOMPARE(lines.last(), QStringLiteral("Memory runs out in under a minute"));
        QCOMPARE(s.usedFraction, 1.0 - 1248.0 / 8192.0);

        // Without the limit the same host is quiet and the tooltip has no budget line.
        auto host = replay::buildAt(20);
        host->memory = replay::memory(16, 4096);
        host->budget = memoryBudget(host->memory, std::nullopt);
        const TrayStatus plain = TrayPresenter::present(host, {}, {}, {});
        QVERIFY(!plain.tooltip.contains(QStringLiteral("limit")));
        QCOMPARE(plain.usedFraction, host->memory.usedFraction());
    }

    void timeLeftWords()
    {
        QCOMPARE(formatTimeLeft(30.0), QStringLiteral("under a minute"));
        QCOMPARE(describeTimeLeft(30.0), QStringLiteral("under a minute left"));
        QCOMPARE(formatTimeLeft(100.0), QStringLiteral("about 2 min"));
        QCOMPARE(describeTimeLeft(100.0), QStringLiteral("about 2 min left"));
        QCOMPARE(describeTimeLeft(std::nullopt), QString());
        QCOMPARE(describeTimeLeft(900.0), QString()); // far out: noise
        QCOMPARE(describeTimeLeft(-5.0), QString());
        QCOMPARE(describeTimeLeft(std::numeric_limits<double>::quiet_NaN()), QString());
        QCOMPARE(describeTimeLeft(std::numeric_limits<double>::infinity()), QString());
    }

    void notificationBodyAddsTheTimeLeft()
    {
        // The core's numbers, worded here: what used to be the core's
        // "…; about 2 min left".
        Snapshot s;
        s.memory = replay::memory(16, 15000);
        auto add = [&](Pid pid, std::string name, ProcessRole role, std::uint64_t rss) {
            support::addProcess(s, pid, std::move(name), role, rss);
        };
        add(10, "firefox", ProcessRole::Other, 3 * GiB);
        add(20, "rustc", ProcessRole::Rustc, 4 * GiB);
        add(21, "rustc", ProcessRole::Rustc, 2 * GiB);
        for (Pid pid = 30; pid < 34; ++pid)
            add(pid, "tests-0123", ProcessRole::Test, GiB);
        const LevelReading reading{PressureLevel::Critical, "only 8% of RAM is available"};
        QCOMPARE(PressureMonitor::notificationBody(pressureMessage(s, reading, 100.0)),
                 QStringLiteral("2 rustc · 6.0 GiB, 4 test processes · 4.0 GiB; about 2 min left"));
        QCOMPARE(PressureMonitor::notificationBody(pressureMessage(s, reading, 900.0)),
                 QStringLiteral("2 rustc · 6.0 GiB, 4 test processes · 4.0 GiB"));
        QCOMPARE(PressureMonitor::notificationBody(pressureMessage(Snapshot{}, reading, 30.0)),
                 QStringLiteral("under a minute left"));
    }

    void oddInputDoesNotBreakIt()
    {
        // An empty sample (no memory figures, no processes) and a NaN estimate.
        auto empty = std::make_shared<Snapshot>();
        PressureState pressure;
        pressure.level = PressureLevel::Critical;
        pressure.reason = QStringLiteral("swap is full");
        pressure.secondsLeft = std::numeric_limits<double>::quiet_NaN();
        const TrayStatus s = TrayPresenter::present(empty, pressure, {}, {});
        QVERIFY(s.hasData);
        QCOMPARE(s.level, PressureLevel::Critical);
        QCOMPARE(s.usedFraction, 0.0);
        QCOMPARE(s.tooltip.split(QLatin1Char('\n')).size(), 2);
        QVERIFY(s.tooltip.startsWith(QStringLiteral("Headroom: critical, swap is full\nRAM ")));
    }
};

QTEST_GUILESS_MAIN(TestTrayPresenter)
#include "TestTrayPresenter.moc"
