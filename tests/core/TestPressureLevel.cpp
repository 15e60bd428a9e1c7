// SPDX-License-Identifier: GPL-3.0-or-later
// The level machine, the time-to-exhaustion estimate and the notification
// rate limiter on synthetic series.
#include "headroom/PressureLevel.h"
#include "headroom/PressureMessage.h"
#include "headroom/Units.h"
#include "support/SnapshotBuilder.h"

#include <QtTest>

using namespace headroom;

namespace {
MemoryStatus memory(double availablePercent, double swapUsedPercent = 0.0, std::optional<double> psiSome = {},
                    std::optional<double> psiFull = {})
{
    MemoryStatus m;
    m.total = 16 * GiB;
    m.available = std::uint64_t(availablePercent / 100.0 * double(m.total));
    m.used = m.total - m.available;
    m.swapTotal = 8 * GiB;
    m.swapUsed = std::uint64_t(swapUsedPercent / 100.0 * double(m.swapTotal));
    m.swapFree = m.swapTotal - m.swapUsed;
    if (psiSome || psiFull) {
        m.pressure.available = true;
        m.pressure.some.avg10 = psiSome.value_or(0.0);
        m.pressure.full.avg10 = psiFull.value_or(0.0);
    }
    return m;
}
} // namespace

Q_DECLARE_METATYPE(headroom::PressureLevel)

class TestPressureLevel : public QObject {
    Q_OBJECT

  private slots:
    void thresholds_data()
    {
        QTest::addColumn<double>("available");
        QTest::addColumn<double>("swap");
        QTest::addColumn<double>("some");
        QTest::addColumn<double>("full");
        QTest::addColumn<PressureLevel>("level");
        QTest::newRow("plenty") << 60.0 << 10.0 << 0.0 << 0.0 << PressureLevel::Normal;
        QTest::newRow("available 20%") << 20.0 << 0.0 << 0.0 << 0.0 << PressureLevel::Warning;
        QTest::newRow("swap 75%") << 50.0 << 75.0 << 0.0 << 0.0 << PressureLevel::Warning;
        QTest::newRow("psi some 10") << 50.0 << 0.0 << 10.0 << 0.0 << PressureLevel::Warning;
        QTest::newRow("available 10%") << 10.0 << 0.0 << 0.0 << 0.0 << PressureLevel::Critical;
        QTest::newRow("psi full 10") << 50.0 << 0.0 << 0.0 << 10.0 << PressureLevel::Critical;
        QTest::newRow("just above warning") << 20.5 << 74.0 << 9.9 << 0.0 << PressureLevel::Normal;
    }

    void thresholds()
    {
        QFETCH(double, available);
        QFETCH(double, swap);
        QFETCH(double, some);
        QFETCH(double, full);
        QFETCH(PressureLevel, level);
        const auto reading = PressureLevelMachine::assess(memory(available, swap, some, full), {}, 0.0);
        QCOMPARE(reading.level, level);
        QCOMPARE(reading.reason.empty(), level == PressureLevel::Normal);
    }

    void hysteresisDoesNotFlap()
    {
        PressureLevelMachine machine;
        // Hovering at the warning line: in at 20%, out only past 25%.
        const double series[] = {30, 20, 21, 19.5, 22, 24.9, 21, 25.5, 24, 19};
        const PressureLevel expected[] = {
            PressureLevel::Normal,  PressureLevel::Warning, PressureLevel::Warning, PressureLevel::Warning,
            PressureLevel::Warning, PressureLevel::Warning, PressureLevel::Warning, PressureLevel::Normal,
            PressureLevel::Normal,  PressureLevel::Warning};
        int changes = 0;
        PressureLevel last = PressureLevel::Normal;
        for (std::size_t i = 0; i < std::size(series); ++i) {
            const auto reading = machine.update(memory(series[i]));
            QVERIFY2(reading.level == expected[i],
                     qPrintable(QString("sample %1 (%2%)").arg(i).arg(series[i])));
            changes += reading.level != last;
            last = reading.level;
        }
        QCOMPARE(changes, 3);
    }

    void criticalStepsDownThroughWarning()
    {
        PressureLevelMachine machine;
        QCOMPARE(machine.update(memory(8)).level, PressureLevel::Critical);
        QCOMPARE(machine.update(memory(13)).level, PressureLevel::Critical); // within the margin
        QCOMPARE(machine.update(memory(16)).level, PressureLevel::Warning);
        QCOMPARE(machine.update(memory(40)).level, PressureLevel::Normal);
        // Straight from critical, far past every margin: normal at once.
        QCOMPARE(machine.update(memory(5)).level, PressureLevel::Critical);
        QCOMPARE(machine.update(memory(60)).level, PressureLevel::Normal);
    }

    void aCgroupLimitDecidesWhereItApplies()
    {
        // The host has 60 % available; the container's 4 GiB limit has 0.3 GiB left (7.5 %).
        const MemoryStatus host = memory(60);
        CgroupMemoryState ctr;
        ctr.dir = "/sys/fs/cgroup/kubepods/pod1";
        ctr.v2 = true;
        ctr.container = true;
        ctr.limitBytes = 4 * GiB;
        ctr.usageBytes = 4 * GiB - 3 * GiB / 10;
        MemoryBudget budget = memoryBudget(host, ctr);
        QVERIFY(budget.isCgroup());
        QCOMPARE(PressureLevelMachine::assess(host, {}, 0.0).level, PressureLevel::Normal);
        LevelReading reading = PressureLevelMachine::assess(host, budget, {}, 0.0);
        QCOMPARE(reading.level, PressureLevel::Critical);
        QCOMPARE(reading.reason, std::string("only 7% of the container limit 4.0 GiB is left"));

        // 0.7 GiB left (17.5 %): warning; the machine steps with hysteresis as before.
        ctr.usageBytes = 4 * GiB - 7 * GiB / 10;
        PressureLevelMachine machine;
        QCOMPARE(machine.update(host, memoryBudget(host, ctr)).level, PressureLevel::Warning);
        ctr.usageBytes = 4 * GiB - GiB; // 25 % left: within the 5-point margin, still warning
        QCOMPARE(machine.update(host, memoryBudget(host, ctr)).level, PressureLevel::Warning);
        ctr.usageBytes = GiB; // 75 % left
        QCOMPARE(machine.update(host, memoryBudget(host, ctr)).level, PressureLevel::Normal);

        // No cgroup limit: the machine's RAM, exactly as update(memory) says.
        PressureLevelMachine plain;
        reading = plain.update(memory(8), memoryBudget(memory(8), std::nullopt));
        QCOMPARE(reading.level, PressureLevel::Critical);
        QCOMPARE(reading.reason, std::string("only 8% of RAM is available"));
        // Swap and PSI stay the machine's, a cgroup or not.
        QCOMPARE(PressureLevelMachine::assess(memory(60, 80), budget, {}, 0.0).level,
                 PressureLevel::Critical);
        ctr.usageBytes = GiB;
        QCOMPARE(PressureLevelMachine::assess(memory(60, 80), memoryBudget(host, ctr), {}, 0.0).level,
                 PressureLevel::Warning);
    }

    void kernelLevelOnMacOS()
    {
        MemoryStatus m = memory(50);
        m.pressure.kernelLevel = 4;
        QCOMPARE(PressureLevelMachine::assess(m, {}, 0).level, PressureLevel::Critical);
        m.pressure.kernelLevel = 2;
        QCOMPARE(PressureLevelMachine::assess(m, {}, 0).level, PressureLevel::Warning);
    }

    void timeToExhaustion()
    {
        ExhaustionEstimator estimator;
        QVERIFY(!estimator.secondsLeft());
        // Losing 100 MiB a second with 12 GiB left: about two minutes.
        for (int t = 0; t <= 30; ++t)
            estimator.add(t, 15 * GiB - std::uint64_t(t) * 100 * MiB);
        const auto left = estimator.secondsLeft();
        QVERIFY(left);
        const double expected = double(15 * GiB - 3000 * MiB) / double(100 * MiB);
        QVERIFY2(std::abs(*left - expected) < 1.0, qPrintable(QString::number(*left)));

        ExhaustionEstimator steady;
        for (int t = 0; t <= 30; ++t)
            steady.add(t, 8 * GiB + (t % 2) * MiB);
        QVERIFY(!steady.secondsLeft()); // flat: no estimate
        ExhaustionEstimator rising;
        for (int t = 0; t <= 30; ++t)
            rising.add(t, 4 * GiB + std::uint64_t(t) * MiB);
        QVERIFY(!rising.secondsLeft());
    }

    void windowForgetsOldSamples()
    {
        ExhaustionEstimator estimator(30.0);
        for (int t = 0; t < 60; ++t) // a fall long ago...
            estimator.add(t, 20 * GiB - std::uint64_t(t) * 200 * MiB);
        for (int t = 60; t <= 100; ++t) // ...then flat for the last 40 s
            estimator.add(t, 8 * GiB);
        QVERIFY(!estimator.secondsLeft());
    }

    void notificationsAreRateLimited()
    {
        NotificationPolicy policy;
        double t = 0;
        auto feed = [&](PressureLevel level) { return policy.shouldNotify(t++, level); };
        QVERIFY(!feed(PressureLevel::Normal));
        // A one-sample spike says nothing.
        QVERIFY(!feed(PressureLevel::Critical));
        QVERIFY(!feed(PressureLevel::Normal));
        QVERIFY(!feed(PressureLevel::Normal));
        // Warning that holds: one notification, after the second sample.
        QVERIFY(!feed(PressureLevel::Warning));
        QVERIFY(feed(PressureLevel::Warning));
        for (int i = 0; i < 100; ++i)
            QVERIFY(!feed(PressureLevel::Warning));
        // Escalation is a change: notified.
        QVERIFY(!feed(PressureLevel::Critical));
        QVERIFY(feed(PressureLevel::Critical));
        // The same level repeats only after five minutes.
        int repeats = 0;
        for (int i = 0; i < 700; ++i)
            repeats += feed(PressureLevel::Critical);
        QCOMPARE(repeats, 2);
        // Quiet mode: nothing at all.
        policy.setQuiet(true);
        QVERIFY(!feed(PressureLevel::Normal));
        QVERIFY(!feed(PressureLevel::Normal));
        QVERIFY(!feed(PressureLevel::Warning));
        QVERIFY(!feed(PressureLevel::Warning));
    }

    void messageNamesWhatHoldsTheMemory()
    {
        Snapshot s;
        s.memory = memory(8);
        auto add = [&](Pid pid, std::string name, ProcessRole role, std::uint64_t rss) {
            support::addProcess(s, pid, std::move(name), role, rss);
        };
        add(10, "firefox", ProcessRole::Other, 3 * GiB);
        add(20, "rustc", ProcessRole::Rustc, 4 * GiB);
        add(21, "rustc", ProcessRole::Rustc, 2 * GiB);
        for (Pid pid = 30; pid < 34; ++pid)
            add(pid, "tests-0123", ProcessRole::Test, GiB);
        const LevelReading reading{PressureLevel::Critical, "only 8% of RAM is available"};
        const PressureMessage m = pressureMessage(s, reading, 100.0);
        QCOMPARE(m.title, std::string("Memory critical: only 8% of RAM is available"));
        // The time left stays a number; its words are made where it is shown
        // (TestTrayPresenter checks "…; about 2 min left").
        QCOMPARE(m.body, std::string("2 rustc · 6.0 GiB, 4 test processes · 4.0 GiB"));
        QCOMPARE(m.secondsLeft, std::optional<double>(100.0));
        // Far from running out: no estimate.
        QCOMPARE(pressureMessage(s, reading, 900.0).body,
                 std::string("2 rustc · 6.0 GiB, 4 test processes · 4.0 GiB"));
        QVERIFY(!pressureMessage(s, reading, 900.0).secondsLeft);
        QCOMPARE(describeTopConsumer(s), std::string("rustc · 4.0 GiB"));

        // No build running: the largest processes instead.
        Snapshot quiet;
        quiet.processes = {s.processes[0]};
        QCOMPARE(describeConsumers(quiet), std::string("firefox · 3.0 GiB"));
        QCOMPARE(timeLeftWorthShowing(30.0), std::optional<double>(30.0));
        QVERIFY(!timeLeftWorthShowing(std::nullopt));
        QVERIFY(!timeLeftWorthShowing(-1.0));
        QVERIFY(!timeLeftWorthShowing(kShowTimeLeftBelowSeconds));
    }
};

QTEST_GUILESS_MAIN(TestPressureLevel)
#include "TestPressureLevel.moc"
