// SPDX-License-Identifier: GPL-3.0-or-later
// The build guard on real processes: fake cargo/rustc/test-binary trees and an
// unrelated program, sampled for real, with a replayed pressure series laid
// over the real snapshots. Pauses must show as state T in /proc, resumes as
// running again, the emergency line must terminate the largest tree only, and
// the unrelated program must never be touched.
#include "app/Logging.h"
#include "app/desktop/DesktopIntegration.h"
#include "headroom/Platform.h"
#include "headroom/Units.h"
#include "services/GuardService.h"
#include "services/ProcessActions.h"
#include "support/LiveSnapshot.h"
#include "support/ProcessSpawner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QtTest>

#include <csignal>
#include <set>
#include <spdlog/spdlog.h>

using namespace headroom;
using namespace headroom::app;
using namespace headroom::services;

namespace {

bool alive(Pid pid)
{
    return ProcessSpawner::isAlive(pid);
}

bool stopped(Pid pid)
{
    return ProcessSpawner::stateOf(pid) == 'T';
}

// A pressure series is replayed over real snapshots: the processes are the
// machine's, the memory figures and the clock are the series'.
struct Replay {
    SystemSampler& sampler;
    QString root;
    double t = 1000.0;

    services::SnapshotPtr at(double availablePercent, double step = 1.0)
    {
        auto live = live::sampleOnly(sampler, root);
        if (!live)
            return nullptr;
        auto s = std::make_shared<Snapshot>(*live);
        s->memory.total = 16 * GiB;
        s->memory.available = std::uint64_t(availablePercent / 100.0 * double(s->memory.total));
        s->memory.used = s->memory.total - s->memory.available;
        t += step;
        s->steadyNs = std::int64_t(t * 1e9);
        return s;
    }
};

PressureLevel levelFor(double availablePercent)
{
    return availablePercent <= 10   ? PressureLevel::Critical
           : availablePercent <= 20 ? PressureLevel::Warning
                                    : PressureLevel::Normal;
}

QString installTestBinary(const QString& workspace)
{
    // cargo names test binaries <crate>-<16 hex> in target/<profile>/deps.
    const QString deps = workspace + QStringLiteral("/target/debug/deps");
    QDir().mkpath(deps);
    const QString path = deps + QStringLiteral("/app-0123456789abcdef");
    QFile::copy(QStringLiteral(HEADROOM_FAKEPROC), path);
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

void writeManifest(const QString& workspace, const char* name)
{
    QFile manifest(workspace + QStringLiteral("/Cargo.toml"));
    if (manifest.open(QIODevice::WriteOnly))
        manifest.write(QByteArray("[package]\nname = \"") + name + "\"\nversion = \"0.1.0\"\n");
}

} // namespace

class TestGuardService : public QObject {
    Q_OBJECT

    struct Scene {
        ProcessSpawner spawner;
        Pid launched = 0;               // cargo build started "from Headroom": 64 + 32 MiB of rustc
        std::vector<Pid> launchedRustc; // oldest first
        Pid external = 0;               // cargo test started elsewhere, with a 16 MiB test binary
        Pid testBinary = 0;
        Pid editor = 0; // unrelated, detached: never a build process
        QString root;
        ~Scene()
        {
            if (editor > 0)
                ::kill(pid_t(editor), SIGKILL);
        }
    };

    // A scene, sampled for real, and a guard that acts on it through the safe path.
    struct Rig {
        Scene scene;
        std::unique_ptr<SystemSampler> sampler = SystemSampler::create();
        std::unique_ptr<Replay> replay;
        services::ProcessActions actions;
        services::GuardService guard{&actions, platform::currentUid()};

        explicit Rig(bool enabled, bool external = false)
        {
            actions.setGrace(std::chrono::milliseconds(500));
            services::GuardService::Settings settings;
            settings.enabled = enabled;
            settings.guardExternalBuilds = external;
            settings.restSeconds = 30;
            guard.setSettings(settings);
        }
        // Feeds one replayed sample and waits for the actions it caused.
        bool feed(double available, double step = 1.0)
        {
            const auto s = replay->at(available, step);
            if (!s)
                return false;
            guard.observe(s, levelFor(available));
            actions.waitForAll();
            QCoreApplication::processEvents(); // deliver the queued reports
            return true;
        }
    };

    bool setUp(Rig& rig)
    {
        if (!setUp(rig.scene))
            return false;
        rig.replay = std::make_unique<Replay>(Replay{*rig.sampler, rig.scene.root});
        return rig.replay->at(60) != nullptr; // a first poll, for CPU %
    }

    bool setUp(Scene& scene)
    {
        const QString wsA = scene.spawner.makeDir(QStringLiteral("a"));
        const QString wsB = scene.spawner.makeDir(QStringLiteral("b"));
        writeManifest(wsA, "a");
        writeManifest(wsB, "b");
        scene.root = QFileInfo(scene.spawner.binDir()).path();
        scene.launched =
            scene.spawner.start(QStringLiteral("cargo"),
                                {"build", "--release", "{", "rustc", "--mem", "64", "--crate-name", "big",
                                 "}", "{", "rustc", "--mem", "32", "--crate-name", "small", "}"},
                                wsA, 3);
        scene.launchedRustc = ProcessSpawner::liveDescendants(scene.launched);
        std::stable_sort(scene.launchedRustc.begin(), scene.launchedRustc.end(), [](Pid a, Pid b) {
            return ProcessSpawner::keyOf(a).startTime < ProcessSpawner::keyOf(b).startTime;
        });
        scene.external = scene.spawner.start(
            QStringLiteral("cargo"), {"test", "{", installTestBinary(wsB), "--mem", "16", "}"}, wsB, 2);
        const auto tests = ProcessSpawner::liveDescendants(scene.external);
        scene.testBinary = tests.empty() ? 0 : tests.front();
        // Detached: under ctest every descendant of this test counts as a test process.
        qint64 detached = 0;
        if (!QProcess::startDetached(scene.spawner.installAs(QStringLiteral("editor")), {"--mem", "8"},
                                     QString(), &detached))
            return false;
        scene.editor = Pid(detached);
        return scene.launched > 0 && scene.launchedRustc.size() == 2 && scene.external > 0 &&
               scene.testBinary > 0 &&
               QTest::qWaitFor([&] { return ProcessSpawner::keyOf(scene.editor).pid == scene.editor; });
    }

    static std::vector<Pid> members(const Scene& s)
    {
        return {s.launched, s.launchedRustc[0], s.launchedRustc[1]};
    }

  private slots:
    void initTestCase()
    {
        qRegisterMetaType<services::ActionRequest>();
        qRegisterMetaType<ActionReport>();
    }

    void pausesTheLaunchedBuildOnCriticalAndResumesItOldestFirst()
    {
        Rig rig(true);
        QVERIFY(setUp(rig));
        const Scene& scene = rig.scene;
        services::GuardService& guard = rig.guard;
        QSignalSpy requests(&rig.actions, &services::ProcessActions::started);
        const ProcessKey launchedKey = ProcessSpawner::keyOf(scene.launched);
        guard.setLaunchedRoots([launchedKey] { return std::vector<ProcessKey>{launchedKey}; });
        QSignalSpy acted(&guard, &services::GuardService::acted);
        auto feed = [&](double available, double step = 1.0) { QVERIFY(rig.feed(available, step)); };

        // Normal and warning: nothing happens.
        feed(60);
        feed(15);
        QCOMPARE(requests.count(), 0);

        // Critical: one process per sample, youngest first, the launched build only.
        for (int i = 0; i < 5; ++i)
            feed(8);
        QCOMPARE(requests.count(), 3);
        std::vector<Pid> order;
        for (const auto& call : requests) {
            const auto r = call.at(0).value<services::ActionRequest>();
            QCOMPARE(r.action, ProcessAction::Pause);
            QVERIFY(r.onlyCurrentUser);
            order.push_back(r.targets.front().pid);
        }
        // Youngest first; between two started in the same clock tick, the larger
        // first (the rustc of "big", 64 MiB, was started first by the fake cargo).
        const bool sameTick = ProcessSpawner::keyOf(scene.launchedRustc[0]).startTime ==
                              ProcessSpawner::keyOf(scene.launchedRustc[1]).startTime;
        const std::vector<Pid> rustcFirst =
            sameTick ? std::vector<Pid>{scene.launchedRustc[0], scene.launchedRustc[1]}
                     : std::vector<Pid>{scene.launchedRustc[1], scene.launchedRustc[0]};
        QCOMPARE(order, (std::vector<Pid>{rustcFirst[0], rustcFirst[1], scene.launched}));
        for (Pid p : members(scene))
            QTRY_VERIFY2(stopped(p), qPrintable(QStringLiteral("pid %1 is not paused").arg(p)));
        QVERIFY(!stopped(scene.external));
        QVERIFY(!stopped(scene.testBinary));
        QVERIFY(!stopped(scene.editor));
        QVERIFY(guard.holdsPaused());
        QVERIFY(!acted.isEmpty());
        QVERIFY(acted.last().at(0).toString().contains(QStringLiteral("paused")));

        // Normal again, but within the rest period: they stay paused.
        requests.clear();
        feed(60);
        QCOMPARE(requests.count(), 0);
        for (Pid p : members(scene))
            QVERIFY(stopped(p));

        // After the rest period: all resumed, oldest first.
        feed(60, 31);
        QCOMPARE(requests.count(), 3);
        order.clear();
        for (const auto& call : requests) {
            const auto r = call.at(0).value<services::ActionRequest>();
            QCOMPARE(r.action, ProcessAction::Resume);
            order.push_back(r.targets.front().pid);
        }
        QCOMPARE(order.front(), scene.launched); // the oldest: the build itself
        QCOMPARE(std::set<Pid>(order.begin() + 1, order.end()),
                 (std::set<Pid>{scene.launchedRustc[0], scene.launchedRustc[1]}));
        for (Pid p : members(scene))
            QTRY_VERIFY2(!stopped(p) && alive(p), qPrintable(QStringLiteral("pid %1 is not running").arg(p)));
        QVERIFY(!guard.holdsPaused());
        QVERIFY(alive(scene.editor) && !stopped(scene.editor));
    }

    void emergencyTerminatesTheLargestTreeOnly()
    {
        Rig rig(true, true); // both builds are guarded
        QVERIFY(setUp(rig));
        Scene& scene = rig.scene;
        services::GuardService& guard = rig.guard;
        QSignalSpy acted(&guard, &services::GuardService::acted);
        auto feed = [&](double available) { QVERIFY(rig.feed(available)); };

        // Critical long enough to pause every build process of both trees.
        for (int i = 0; i < 7; ++i)
            feed(8);
        for (Pid p : {scene.launched, scene.launchedRustc[0], scene.launchedRustc[1], scene.external,
                      scene.testBinary})
            QTRY_VERIFY2(stopped(p), qPrintable(QStringLiteral("pid %1 is not paused").arg(p)));
        QVERIFY(!stopped(scene.editor));

        // Below the emergency line with builds paused: the largest tree (96 MiB of rustc) goes.
        feed(4);
        for (Pid p : members(scene))
            QVERIFY2(scene.spawner.waitGone(p), qPrintable(QStringLiteral("pid %1 is still alive").arg(p)));
        QVERIFY(acted.last().at(0).toString().contains(QStringLiteral("stopped a build")));
        QVERIFY(acted.last().at(1).toString().contains(QStringLiteral("4%")));
        // The smaller build stays paused, the editor runs on.
        QVERIFY(stopped(scene.external));
        QVERIFY(stopped(scene.testBinary));
        QVERIFY(alive(scene.editor) && !stopped(scene.editor));

        // Still at the line a second later: the guard waits to see the memory come back.
        feed(4);
        QVERIFY(alive(scene.external));

        // The user resumes by hand from the tray: everything Headroom holds goes on.
        guard.resumeAll();
        rig.actions.waitForAll();
        QTRY_VERIFY(!stopped(scene.external) && !stopped(scene.testBinary));
        QVERIFY(!guard.holdsPaused());
    }

    void offByDefaultAndTouchesNothing()
    {
        Rig rig(false);
        QVERIFY(setUp(rig));
        const Scene& scene = rig.scene;
        QSignalSpy requests(&rig.actions, &services::ProcessActions::started);
        QVERIFY(!services::GuardService(&rig.actions, platform::currentUid()).enabled()); // off by default
        for (double available : {8.0, 8.0, 4.0, 3.0, 60.0})
            QVERIFY(rig.feed(available));
        QCOMPARE(requests.count(), 0);
        for (Pid p : {scene.launched, scene.external, scene.testBinary, scene.editor})
            QVERIFY(alive(p) && !stopped(p));
    }

    void trayPauseAndResumeBuildsAndTests()
    {
        Rig rig(false);
        QVERIFY(setUp(rig));
        const Scene& scene = rig.scene;
        services::GuardService& guard = rig.guard;
        services::ProcessActions& actions = rig.actions;
        Replay& replay = *rig.replay;
        guard.observe(replay.at(60), PressureLevel::Normal);
        QVERIFY(guard.canPause());
        QVERIFY(guard.canPauseTests());

        // "Pause tests": the test binary only.
        guard.pauseTests();
        actions.waitForAll();
        QTRY_VERIFY(stopped(scene.testBinary));
        QVERIFY(!stopped(scene.external));
        QVERIFY(!stopped(scene.launched));
        QVERIFY(guard.holdsPaused());

        // "Pause builds": both build trees, whole; never the editor.
        guard.observe(replay.at(60), PressureLevel::Normal);
        guard.pauseBuilds();
        actions.waitForAll();
        for (Pid p : {scene.launched, scene.launchedRustc[0], scene.launchedRustc[1], scene.external})
            QTRY_VERIFY2(stopped(p), qPrintable(QStringLiteral("pid %1 is not paused").arg(p)));
        QVERIFY(!stopped(scene.editor));

        // "Resume builds": everything Headroom paused runs again.
        guard.resumeAll();
        actions.waitForAll();
        for (Pid p : {scene.launched, scene.launchedRustc[0], scene.launchedRustc[1], scene.external,
                      scene.testBinary})
            QTRY_VERIFY2(!stopped(p) && alive(p), qPrintable(QStringLiteral("pid %1 is not running").arg(p)));
        QVERIFY(!guard.holdsPaused());
    }

    // A test process named "x%1y%2" with ESC [1m, U+202E and the 8-bit CSI
    // (15 bytes: the kernel keeps all): the guard's notification and its log
    // line quote it whole, without those bytes and without a second arg()
    // filling its "%1".
    void hostileNamesReachNoMessageOrLogLine()
    {
        const QByteArray hostileBytes("x%1y%2\x1b[1m\xe2\x80\xae\xc2\x9b");
        const QString hostile = QString::fromUtf8(hostileBytes);
        const auto steers = [](const QByteArray& b) {
            return b.contains('\x1b') || b.contains("\xe2\x80\xae") || b.contains("\xc2\x9b");
        };
        QTemporaryDir logDir;
        const auto previousLogger = spdlog::default_logger();
        const LoggingSetup logging = initLogging(logDir.path(), false);
        QVERIFY2(!logging.filePath.isEmpty(), qPrintable(logging.problem));

        ProcessSpawner spawner;
        const QString ws = spawner.makeDir(QStringLiteral("h"));
        writeManifest(ws, "h");
        const QString hostilePath = spawner.installAs(hostile);
        const Pid cargo = spawner.start(
            QStringLiteral("cargo"),
            {"test", "{", installTestBinary(ws), "{", hostilePath, "--mem", "8", "}", "}"}, ws, 3);
        QVERIFY(cargo > 0);
        Pid named = 0;
        for (Pid p : ProcessSpawner::liveDescendants(cargo)) {
            QFile comm(QStringLiteral("/proc/%1/comm").arg(p));
            if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == hostileBytes)
                named = p;
        }
        QVERIFY2(named > 0, "the kernel did not keep the name");

        auto sampler = SystemSampler::create();
        Replay replay{*sampler, QFileInfo(spawner.binDir()).path()};
        QVERIFY(replay.at(60));
        services::ProcessActions actions;
        services::GuardService guard(&actions, platform::currentUid());
        services::GuardService::Settings settings;
        settings.enabled = true;
        settings.restSeconds = 30;
        guard.setSettings(settings);
        // Only this tree, as if Headroom had launched it: never another build on the machine.
        const ProcessKey cargoKey = ProcessSpawner::keyOf(cargo);
        guard.setLaunchedRoots([cargoKey] { return std::vector<ProcessKey>{cargoKey}; });
        QSignalSpy acted(&guard, &services::GuardService::acted);
        // Critical: the youngest process, the one with the name, is paused first.
        guard.observe(replay.at(8), PressureLevel::Critical);
        actions.waitForAll();
        QTRY_VERIFY(stopped(named));

        QVERIFY(!acted.isEmpty());
        const QString body = acted.first().at(1).toString();
        QVERIFY2(body.contains(QStringLiteral("x%1y%2?[1m?? (") + QString::number(named) + QLatin1Char(')')),
                 qPrintable(body));
        QVERIFY(!steers(body.toUtf8()));
        const DesktopNotification shown = safeNotification(
            {DesktopNotification::Kind::Guard, PressureLevel::Critical, hostile, body + "\n" + hostile, {}});
        QVERIFY(!steers(shown.title.toUtf8()) && !steers(shown.body.toUtf8()));
        QCOMPARE(shown.body.count(QLatin1Char('\n')), 1); // the body's own line breaks stay

        spdlog::default_logger()->flush();
        QFile log(logging.filePath);
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QByteArray lines = log.readAll();
        QVERIFY2(lines.contains("build guard: pause x%1y%2?[1m??"), lines.constData());
        QVERIFY(!steers(lines));

        guard.resumeAll();
        actions.waitForAll();
        qInstallMessageHandler(nullptr);
        spdlog::set_default_logger(previousLogger);
    }
};

QTEST_MAIN(TestGuardService)
#include "TestGuardService.moc"
