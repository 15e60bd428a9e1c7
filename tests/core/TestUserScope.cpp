// SPDX-License-Identifier: GPL-3.0-or-later
// The systemd user scope: the command it makes, the probe on recorded trees
// with a fake systemd-run (a shell script the probe really runs), and a real
// scope where this machine has one.
#include "headroom/CgroupMemory.h"
#include "headroom/Units.h"
#include "headroom/UserScope.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace headroom;

namespace {

const std::string kData = HEADROOM_TEST_DATA;
using Args = std::vector<std::string>;

// A fake systemd-run in `dir`: records its arguments, then runs `body`.
std::string fakeSystemdRun(const QTemporaryDir& dir, const std::string& body)
{
    const std::string path = dir.filePath(QStringLiteral("systemd-run")).toStdString();
    std::ofstream(path) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n" << body << "\n";
    QFile::setPermissions(QString::fromStdString(path),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

ScopeProbeEnvironment recorded(const std::string& tree, const QTemporaryDir& bin)
{
    ScopeProbeEnvironment e;
    const std::string root = kData + "/" + tree;
    e.cgroupRoot = root + "/sys/fs/cgroup";
    e.systemdDir = root + "/run/systemd/system";
    e.runtimeBase = root + "/run/user";
    e.runtimeDir = root + "/run/user/1000";
    e.searchPath = bin.path().toStdString();
    e.uid = 1000;
    e.timeout = std::chrono::seconds(20);
    return e;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// A process that is gone or a zombie (its parent has not reaped it yet).
bool gone(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return true;
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

} // namespace

class TestUserScope : public QObject {
    Q_OBJECT

  private slots:
    void scopedCommandPrefixesTheBuild()
    {
        ScopeOptions scope{"headroom-20261202-x-0.scope", 3 * GiB, 4 * GiB};
        QCOMPARE(scopedCommand(scope, {"cargo", "build", "--release"}),
                 (Args{"systemd-run", "--user", "--scope", "--quiet", "--collect",
                       "--unit=headroom-20261202-x-0.scope", "-p", "MemoryHigh=3221225472", "-p",
                       "MemoryMax=4294967296", "--", "cargo", "build", "--release"}));
        scope.memoryHigh.reset();
        QCOMPARE(scopedCommand(scope, {"make"}),
                 (Args{"systemd-run", "--user", "--scope", "--quiet", "--collect",
                       "--unit=headroom-20261202-x-0.scope", "-p", "MemoryMax=4294967296", "--", "make"}));
        // The command's own "--" and options stay its own, after systemd-run's "--".
        QCOMPARE(
            scopedCommand({}, {"sh", "-c", "--", "-p"}),
            (Args{"systemd-run", "--user", "--scope", "--quiet", "--collect", "--", "sh", "-c", "--", "-p"}));
        QVERIFY(scopedCommand(scope, {}).empty());
    }

    void unitNamesAreSanitised()
    {
        QCOMPARE(sanitizeUnitName("headroom-a b/c;$(x)\n.scope"), std::string("headroom-a_b_c___x__.scope"));
        QCOMPARE(sanitizeUnitName("headroom-ok:1_2.3-4.scope"), std::string("headroom-ok:1_2.3-4.scope"));
        QCOMPARE(sanitizeUnitName(std::string(400, 'a')).size(), std::size_t(255));
        const Args cmd = scopedCommand({"caf\xc3\xa9 \xff.scope", {}, {}}, {"true"});
        QCOMPARE(cmd[5], std::string("--unit=caf____.scope"));
        // Always a scope's name, within systemd's 255 bytes.
        QCOMPARE(scopedCommand({"headroom-x.service", {}, {}}, {"true"})[5],
                 std::string("--unit=headroom-x.service.scope"));
        const std::string longName = scopedCommand({std::string(300, 'h'), {}, {}}, {"true"})[5];
        QCOMPARE(longName.size(), std::string("--unit=").size() + 255);
        QVERIFY(longName.substr(longName.size() - 6) == ".scope");
    }

    void noSystemdIsSaidQuicklyWithEveryReason()
    {
        QTemporaryDir bin;
        // A systemd-run that would hang: the probe must not get as far as running it.
        ScopeProbeEnvironment e = recorded("probe-nosystemd", bin);
        e.runtimeDir.clear();
        QElapsedTimer timer;
        timer.start();
        ScopeProbe p = probeUserScope(e);
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "systemd-run is not installed"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "no systemd user manager runs for this user"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "memory is on cgroup v1 here"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "systemd.unified_cgroup_hierarchy=1"), p.reason.c_str());

        fakeSystemdRun(bin, "sleep 60");
        p = probeUserScope(e);
        QVERIFY(!p.available);
        QVERIFY2(!contains(p.reason, "not installed"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "systemd is not the init system"), p.reason.c_str());
        QVERIFY2(!QFile::exists(bin.filePath(QStringLiteral("args"))), "the probe ran systemd-run anyway");
        qInfo("two probes without systemd took %lld ms", qint64(timer.elapsed()));
        QVERIFY2(timer.elapsed() < 10000, "the probe waited for something");
    }

    void eachMissingPieceIsNamed()
    {
        QTemporaryDir bin;
        fakeSystemdRun(bin, "exit 0");
        // cgroup v1 with systemd and a user manager: only the hierarchy is wrong.
        ScopeProbe p = probeUserScope(recorded("probe-v1", bin));
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "memory is on cgroup v1 here"), p.reason.c_str());
        QVERIFY2(!contains(p.reason, "user manager"), p.reason.c_str());

        p = probeUserScope(recorded("probe-nodelegate", bin));
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "memory is not delegated to the user manager"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "user@1000.service"), p.reason.c_str());

        // No XDG_RUNTIME_DIR while the manager's socket is where logind puts it.
        ScopeProbeEnvironment e = recorded("probe-v2", bin);
        e.runtimeDir.clear();
        p = probeUserScope(e);
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "XDG_RUNTIME_DIR is not set"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "run/user/1000"), p.reason.c_str());

        // A runtime folder without the manager's socket.
        QTemporaryDir runtime;
        e.runtimeDir = runtime.path().toStdString();
        p = probeUserScope(e);
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "no systemd user manager runs for this user"), p.reason.c_str());
        QVERIFY2(!QFile::exists(bin.filePath(QStringLiteral("args"))), "tried although a check failed");
    }

    void theTryRunsSystemdRunForReal()
    {
        QTemporaryDir bin;
        fakeSystemdRun(bin, "exit 0");
        ScopeProbe p = probeUserScope(recorded("probe-v2", bin));
        QVERIFY2(p.available, p.reason.c_str());
        QVERIFY(p.reason.empty());
        QFile args(bin.filePath(QStringLiteral("args")));
        QVERIFY(args.open(QIODevice::ReadOnly));
        QCOMPARE(args.readAll(), QByteArray("--user\n--scope\n--quiet\n--collect\n--\ntrue\n"));
    }

    void aFailedTrySaysWhatSystemdRunSaid()
    {
        QTemporaryDir bin;
        fakeSystemdRun(bin, "printf 'Failed to connect to bus: No medium found\\n\\033[31mred\\n' >&2\n"
                            "echo 'on stdout' \nexit 1");
        ScopeProbe p = probeUserScope(recorded("probe-v2", bin));
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "exited with code 1"), p.reason.c_str());
        QVERIFY2(contains(p.reason, "Failed to connect to bus: No medium found"), p.reason.c_str());
        QVERIFY2(!contains(p.reason, "\033") && !contains(p.reason, "\n"), p.reason.c_str());
        QVERIFY2(!contains(p.reason, "on stdout"), p.reason.c_str());
    }

    void aHangingTryIsKilledAtTheTimeout()
    {
        QTemporaryDir bin;
        const QString pidFile = bin.filePath(QStringLiteral("sleep.pid"));
        fakeSystemdRun(bin, "sleep 60 &\necho $! > '" + pidFile.toStdString() + "'\nwait");
        ScopeProbeEnvironment e = recorded("probe-v2", bin);
        e.timeout = std::chrono::milliseconds(1500);
        QElapsedTimer timer;
        timer.start();
        const ScopeProbe p = probeUserScope(e);
        const qint64 took = timer.elapsed();
        QVERIFY(!p.available);
        QVERIFY2(contains(p.reason, "did not answer within 1.5 s"), p.reason.c_str());
        QVERIFY2(took >= 1400 && took < 15000, qPrintable(QString::number(took)));
        // Its whole process group went with it.
        QFile f(pidFile);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const pid_t sleeper = pid_t(f.readAll().trimmed().toInt());
        QVERIFY(sleeper > 0);
        for (int i = 0; i < 250 && !gone(sleeper); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        QVERIFY2(gone(sleeper), "the fake systemd-run's child still runs");
    }

    // A real scope where this machine has one; elsewhere the probe's reason.
    void aRealBuildRunsInItsScope()
    {
        QElapsedTimer timer;
        timer.start();
        const ScopeProbe probe = probeUserScope();
        qInfo("probeUserScope() took %lld ms here", qint64(timer.elapsed()));
        if (!probe.available) {
            QVERIFY2(!probe.reason.empty(), "an unavailable scope must say why");
            QSKIP(("no user scope here: " + probe.reason).c_str());
        }
        const std::string unit = "headroom-test-" + std::to_string(::getpid()) + ".scope";
        const Args argv = scopedCommand({unit, 512 * MiB, GiB}, {"sleep", "30"});
        std::vector<char*> cargv;
        for (const auto& a : argv)
            cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ::execvp(cargv[0], cargv.data());
            ::_exit(127);
        }
        std::optional<CgroupMemoryState> cg;
        for (int i = 0; i < 250; ++i) {
            cg = readProcessCgroupMemory(pid);
            if (cg && cg->dir.size() >= unit.size() &&
                cg->dir.compare(cg->dir.size() - unit.size(), unit.size(), unit) == 0)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        QVERIFY(cg);
        QVERIFY2(cg->isBuildScope(), cg->dir.c_str());
        QVERIFY(cg->v2);
        QCOMPARE(cg->limitBytes.value_or(0), GiB);
        QCOMPARE(cg->highBytes.value_or(0), 512 * MiB);
        QCOMPARE(cg->oomKills.value_or(99), 0u);
    }
};

QTEST_GUILESS_MAIN(TestUserScope)
#include "TestUserScope.moc"
