// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Units.h"
#include "services/SamplingService.h"

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>

using namespace headroom;
using headroom::services::SamplingService;
using headroom::services::SnapshotPtr;

namespace {

// A platform backend whose reads take as long as the test says, or fail: the
// kind of system a real sampler meets when it swaps hard.
class ScriptedSampler : public SystemSampler {
  public:
    struct Script {
        std::atomic<int> delayMs{0};
        std::atomic<bool> fail{false};
        std::atomic<int> polls{0};
    };
    explicit ScriptedSampler(Script& script) : SystemSampler({}), script_(script) {}

  protected:
    Result<Snapshot> collect() override
    {
        ++script_.polls;
        std::this_thread::sleep_for(std::chrono::milliseconds(script_.delayMs.load()));
        if (script_.fail)
            return Result<Snapshot>::failure("/proc/meminfo cannot be read: permission denied");
        Snapshot snapshot;
        snapshot.steadyNs = std::chrono::steady_clock::now().time_since_epoch().count();
        snapshot.memory.total = 16 * GiB;
        snapshot.memory.available = 8 * GiB;
        snapshot.memory.used = 8 * GiB;
        return Result<Snapshot>::success(std::move(snapshot));
    }

  private:
    Script& script_;
};

} // namespace

class TestSamplingService : public QObject {
    Q_OBJECT

  private slots:
    void realSnapshotsArriveOnTheGuiThread()
    {
        SamplingService service;
        std::vector<std::int64_t> times;
        bool allOnGuiThread = true;
        connect(&service, &SamplingService::snapshotReady, this, [&](const SnapshotPtr& snapshot) {
            allOnGuiThread = allOnGuiThread && QThread::currentThread() == thread();
            QVERIFY(snapshot);
            QVERIFY(!snapshot->processes.empty());
            QVERIFY(snapshot->memory.total > 0);
            times.push_back(snapshot->steadyNs);
        });
        service.start(std::chrono::milliseconds(200));
        QTRY_VERIFY_WITH_TIMEOUT(times.size() >= 4, 10000);
        service.stop();
        QVERIFY(allOnGuiThread);
        QVERIFY(std::is_sorted(times.begin(), times.end()));
        // Polls follow the interval: four polls take at least three intervals.
        QVERIFY((times[3] - times[0]) / 1'000'000 >= 3 * 200 - 50);
    }

    void aSlowReadNeverFreezesTheWindowAndIsReported()
    {
        ScriptedSampler::Script script;
        script.delayMs = 6000; // one read hangs for six seconds
        SamplingService service([&] { return std::make_unique<ScriptedSampler>(script); });
        QSignalSpy stalled(&service, &SamplingService::samplingStalled);
        QSignalSpy ready(&service, &SamplingService::snapshotReady);
        service.start(std::chrono::milliseconds(500));

        // The GUI thread keeps turning: a 20 ms timer fires all along.
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
        ticker.start(20);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(stalled.wait(8000));
        QVERIFY2(ticks > clock.elapsed() / 20 / 2,
                 qPrintable(QStringLiteral("%1 ticks in %2 ms").arg(ticks).arg(clock.elapsed())));
        QVERIFY(stalled.first().at(0).toString().contains(QStringLiteral("No new sample")));
        script.delayMs = 0;
        QVERIFY(ready.wait(8000)); // the stuck read returned and sampling goes on
        service.stop();
    }

    void aFailingReadIsReportedOnceNotEverySecond()
    {
        ScriptedSampler::Script script;
        script.fail = true;
        SamplingService service([&] { return std::make_unique<ScriptedSampler>(script); });
        QSignalSpy failed(&service, &SamplingService::samplingFailed);
        service.start(std::chrono::milliseconds(100));
        QTRY_VERIFY(script.polls >= 5);
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("permission denied")));
        script.fail = false;
        QSignalSpy ready(&service, &SamplingService::snapshotReady);
        QVERIFY(ready.wait(3000));
        script.fail = true;
        QTRY_COMPARE(failed.count(), 2); // a new failure after a recovery is news again
        service.stop();
    }

    void theIntervalChangesWhileRunning()
    {
        ScriptedSampler::Script script;
        SamplingService service([&] { return std::make_unique<ScriptedSampler>(script); });
        service.start(std::chrono::milliseconds(5000));
        QTRY_COMPARE(script.polls.load(), 1); // the first poll comes at once
        service.setInterval(std::chrono::milliseconds(100));
        // Under the old interval the next poll would be five seconds away.
        QTRY_VERIFY_WITH_TIMEOUT(script.polls >= 6, 3000);
        service.stop();
    }
};

QTEST_MAIN(TestSamplingService)
#include "TestSamplingService.moc"
