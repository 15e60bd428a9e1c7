// SPDX-License-Identifier: GPL-3.0-or-later
// POSIX build containment on real process trees: the build leads a process
// group, and ending it ends the group, never more.
#include "headroom/BuildContainment.h"

#include <QtTest>

#include <chrono>
#include <csignal>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace headroom;

namespace {

// Waits for our child `pid` to end; the signal that ended it, 0 for a normal
// exit, -1 when it did not end in time.
int waitEnded(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (done < 0)
            return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

// Until `pid` runs `sleep` (exec done), at most a few seconds.
bool waitExec(pid_t pid)
{
    for (int i = 0; i < 500; ++i) {
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/comm", int(pid));
        QFile comm(path);
        if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == "sleep")
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

[[noreturn]] void execSleep()
{
    ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
}

} // namespace

class TestBuildContainment : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase()
    {
        // Orphaned grandchildren come back to us, so the test can reap them.
        QCOMPARE(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        QCOMPARE(BuildContainment::creationFlags(), std::uint32_t(0));
    }

    void theGroupEndsAsOne()
    {
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            BuildContainment::prepareChild();
            const pid_t grandchild = ::fork();
            if (grandchild == 0)
                execSleep();
            [[maybe_unused]] const auto n = ::write(fds[1], &grandchild, sizeof grandchild);
            execSleep();
        }
        ::close(fds[1]);
        pid_t grandchild = 0;
        QCOMPARE(::read(fds[0], &grandchild, sizeof grandchild), ssize_t(sizeof grandchild));
        ::close(fds[0]);
        QVERIFY(grandchild > 0);

        BuildContainment containment;
        const ContainmentResult attached = containment.attach(child);
        QVERIFY2(attached.ok, attached.message.c_str());
        QCOMPARE(::getpgid(child), child);
        QCOMPARE(::getpgid(grandchild), child);
        QVERIFY(::getpgid(0) != child);

        const ContainmentResult ended = containment.terminate();
        QVERIFY2(ended.ok, ended.message.c_str());
        QCOMPARE(waitEnded(child), SIGKILL);
        QCOMPARE(waitEnded(grandchild), SIGKILL);
    }

    void attachMakesTheGroupBeforeExec()
    {
        // The parent's setpgid() covers a child that has not run
        // prepareChild() yet (here: never).
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            ::close(fds[1]);
            char go = 0;
            [[maybe_unused]] const auto n = ::read(fds[0], &go, 1);
            execSleep();
        }
        ::close(fds[0]);
        BuildContainment containment;
        const ContainmentResult attached = containment.attach(child);
        QVERIFY2(attached.ok, attached.message.c_str());
        QCOMPARE(::getpgid(child), child);
        [[maybe_unused]] const auto n = ::write(fds[1], "x", 1);
        ::close(fds[1]);
        QVERIFY(waitExec(child));
        QVERIFY(containment.terminate().ok);
        QCOMPARE(waitEnded(child), SIGKILL);
    }

    void aProcessInOurGroupIsNotContained()
    {
        // Started without prepareChild() and already past exec: it shares our
        // group, so ending "its" group would end the test itself.
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0)
            execSleep();
        QVERIFY(waitExec(child));
        BuildContainment containment;
        const ContainmentResult attached = containment.attach(child);
        QVERIFY(!attached.ok);
        QVERIFY2(attached.message.find("process group") != std::string::npos, attached.message.c_str());
        const ContainmentResult ended = containment.terminate();
        QVERIFY(!ended.ok);
        QCOMPARE(::kill(child, 0), 0); // untouched
        ::kill(child, SIGKILL);
        QCOMPARE(waitEnded(child), SIGKILL);
    }

    void anEndedGroupIsNotSignalled()
    {
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            BuildContainment::prepareChild();
            ::execlp("true", "true", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        BuildContainment containment;
        QVERIFY(containment.attach(child).ok);
        QCOMPARE(waitEnded(child), 0);
        const ContainmentResult ended = containment.terminate();
        QVERIFY2(ended.ok, ended.message.c_str());
        QVERIFY2(ended.message.find("ended already") != std::string::npos, ended.message.c_str());
    }

    void onlyStartedBuildsAreContained()
    {
        BuildContainment containment;
        QVERIFY(!containment.attach(::getpid()).ok);
        QVERIFY(!containment.attach(0).ok);
        QVERIFY(!containment.attach(-1).ok);
        QVERIFY(!containment.terminate().ok);
        BuildContainment moved = std::move(containment);
        QVERIFY(!containment.attach(::getpid()).ok); // moved from: refuses, does not crash
        QVERIFY(!containment.terminate().ok);
    }
};

QTEST_GUILESS_MAIN(TestBuildContainment)
#include "TestBuildContainment.moc"
