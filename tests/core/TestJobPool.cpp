// SPDX-License-Identifier: GPL-3.0-or-later
// The job pool's ledger on real files and real processes: updates from many
// processes at once lose nothing, a dead supervisor is dropped, a corrupt or
// hostile ledger is set aside without a crash, the lock times out with a
// reason, and the folder is refused when it is a link or someone else's.
#include "headroom/JobPool.h"
#include "headroom/Platform.h"

#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

void writeFile(const fs::path& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

ProcessKey self()
{
    return platform::identify(platform::currentPid())->key;
}

PoolMember member(const std::string& id, const ProcessKey& supervisor, unsigned granted = 1)
{
    PoolMember m;
    m.runId = id;
    m.supervisor = supervisor;
    m.title = "title of " + id;
    m.granted = granted;
    m.inUse = granted;
    m.jobs = 2;
    m.growthBytes = 3ull << 30;
    m.predictedBytes = 5ull << 30;
    m.lastGrantMs = 1700000000000;
    m.youngestJobMs = 1700000000500;
    m.heldBack = "memory: 1.2 GiB left";
    return m;
}

} // namespace

class TestJobPool : public QObject {
    Q_OBJECT

  private slots:
    void roundTrips()
    {
        PoolState state;
        state.cpus = 16;
        state.updatedMs = 42;
        state.members = {member("a", {123, 456}, 3), member("b", {7, 8}, 0)};
        state.members[1].title = "B · \xc3\xa9t\xc3\xa9";
        const auto back = parsePoolState(toJson(state));
        QVERIFY2(back, back.error().c_str());
        QCOMPARE(back->cpus, 16u);
        QCOMPARE(back->updatedMs, std::int64_t(42));
        QCOMPARE(int(back->members.size()), 2);
        const PoolMember& a = back->members[0];
        QCOMPARE(a.runId, std::string("a"));
        QCOMPARE(a.supervisor, (ProcessKey{123, 456}));
        QCOMPARE(a.granted, 3u);
        QCOMPARE(a.inUse, 3u);
        QCOMPARE(a.jobs, 2u);
        QCOMPARE(a.growthBytes, 3ull << 30);
        QCOMPARE(a.predictedBytes, 5ull << 30);
        QCOMPARE(a.lastGrantMs, std::int64_t(1700000000000));
        QCOMPARE(a.youngestJobMs, std::int64_t(1700000000500));
        QCOMPARE(a.heldBack, std::string("memory: 1.2 GiB left"));
        QCOMPARE(back->members[1].title, state.members[1].title);
        QCOMPARE(back->granted(), 3u);
        QVERIFY(back->find("b"));
        QVERIFY(!back->find("c"));
    }

    void hostileLedgersNeverCrash_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<bool>("valid");
        QTest::newRow("not json") << QByteArray("{not json") << false;
        QTest::newRow("array") << QByteArray("[1,2]") << false;
        QTest::newRow("no version") << QByteArray("{\"members\":[]}") << false;
        QTest::newRow("members a string") << QByteArray("{\"version\":1,\"members\":\"x\"}") << false;
        QTest::newRow("granted a string")
            << QByteArray("{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":\"many\"}]}") << false;
        QTest::newRow("granted negative")
            << QByteArray("{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":-1}]}") << false;
        QTest::newRow("granted huge")
            << QByteArray("{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":1099511627776}]}") << false;
        QTest::newRow("granted fraction")
            << QByteArray("{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":1.5}]}") << false;
        QTest::newRow("supervisor a number")
            << QByteArray("{\"version\":1,\"members\":[{\"runId\":\"a\",\"supervisor\":3}]}") << false;
        QTest::newRow("member a number") << QByteArray("{\"version\":1,\"members\":[3]}") << false;
        QTest::newRow("nulls are defaults")
            << QByteArray("{\"version\":1,\"cpus\":null,\"members\":[{\"runId\":\"a\",\"title\":null}]}") << true;
        QTest::newRow("deeply nested") << QByteArray(200000, '[') << false;
    }

    void hostileLedgersNeverCrash()
    {
        QFETCH(QByteArray, json);
        QFETCH(bool, valid);
        const auto parsed = parsePoolState(std::string_view(json.constData(), std::size_t(json.size())));
        QCOMPARE(parsed.ok(), valid);
        if (!valid)
            QVERIFY(!parsed.error().empty());
    }

    void hostileLedgersAreBounded()
    {
        std::string json = "{\"version\":1,\"members\":[";
        for (int i = 0; i < 10000; ++i)
            json += std::string(i ? "," : "") + "{\"runId\":\"r" + std::to_string(i) + "\",\"title\":\"" +
                    std::string(i == 0 ? 100000 : 3, 'x') + "\"}";
        json += ",{\"runId\":\"r1\"}]}";
        const auto parsed = parsePoolState(json);
        QVERIFY2(parsed, parsed.error().c_str());
        QCOMPARE(int(parsed->members.size()), 256);
        QCOMPARE(parsed->members[0].title.size(), std::size_t(512));

        // Cut where a character starts, never inside one.
        std::string accents;
        for (int i = 0; i < 400; ++i)
            accents += "\xc3\xa9";
        const auto cut = parsePoolState("{\"version\":1,\"members\":[{\"runId\":\"a\",\"title\":\"" + accents + "\"}]}");
        QVERIFY(cut);
        QCOMPARE(cut->members[0].title.size(), std::size_t(512));
        QCOMPARE(static_cast<unsigned char>(cut->members[0].title.back()), 0xa9);
    }

    void updatesFromManyProcessesLoseNothing()
    {
        QTemporaryDir dir;
        const JobPool pool(dir.path().toStdString());
        QVERIFY(pool.prepare());
        const ProcessKey parent = self();
        constexpr int kWriters = 8, kEach = 15;
        std::vector<pid_t> writers;
        for (int w = 0; w < kWriters; ++w) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                int failed = 0;
                for (int i = 0; i < kEach; ++i) {
                    const auto r = pool.update(
                        [&](PoolState& s) {
                            s.members.push_back(member("w" + std::to_string(w) + "-" + std::to_string(i), parent));
                        },
                        std::chrono::milliseconds(20000));
                    failed += r ? 0 : 1;
                }
                ::_exit(failed);
            }
            QVERIFY(pid > 0);
            writers.push_back(pid);
        }
        // A reader without the lock meanwhile never sees half a ledger.
        int reads = 0;
        bool running = true;
        while (running) {
            const auto seen = pool.read();
            QVERIFY2(seen, seen.error().c_str());
            ++reads;
            running = false;
            for (pid_t w : writers) {
                if (::waitpid(w, nullptr, WNOHANG) == 0)
                    running = true;
            }
        }
        for (pid_t w : writers) {
            int status = 0;
            if (::waitpid(w, &status, 0) == w)
                QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        const auto state = pool.read();
        QVERIFY2(state, state.error().c_str());
        QCOMPARE(int(state->members.size()), kWriters * kEach);
        for (int w = 0; w < kWriters; ++w)
            for (int i = 0; i < kEach; ++i)
                QVERIFY(state->find("w" + std::to_string(w) + "-" + std::to_string(i)));
        qInfo("%d unlocked reads while %d processes wrote %d updates", reads, kWriters, kWriters * kEach);
        QVERIFY(!fs::exists(fs::path(dir.path().toStdString()) / "pool.json.corrupt"));
    }

    void aDeadSupervisorIsDropped()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        const JobPool pool(base);
        QVERIFY(pool.prepare());
        const pid_t child = ::fork();
        if (child == 0) {
            ::pause();
            ::_exit(0);
        }
        const auto key = platform::identify(child);
        QVERIFY(key);
        // Its lane, left behind.
        QCOMPARE(::mkfifo((base / "dead.fifo").c_str(), 0600), 0);
        QVERIFY(pool.update([&](PoolState& s) {
            s.members.push_back(member("dead", key->key, 2));
            s.members.push_back(member("alive", self(), 1));
        }));
        QCOMPARE(int(pool.read()->members.size()), 2);
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        // A reader already leaves it out; the next update drops it for good.
        QCOMPARE(int(pool.read()->members.size()), 1);
        const auto state = pool.update({});
        QVERIFY2(state, state.error().c_str());
        QCOMPARE(int(state->members.size()), 1);
        QCOMPARE(state->members[0].runId, std::string("alive"));
        QCOMPARE(state->granted(), 1u);
        QVERIFY(!fs::exists(fs::symlink_status(base / "dead.fifo")));
        QVERIFY(readFile(base / "pool.json").find("dead") == std::string::npos);

        // A member that names the right pid with another start time is another process.
        ProcessKey impostor = self();
        impostor.startTime += 1;
        const auto after = pool.update([&](PoolState& s) { s.members.push_back(member("impostor", impostor)); });
        QVERIFY(after);
        QVERIFY(!pool.update({})->find("impostor"));
        QVERIFY(pool.leave("alive"));
        QCOMPARE(int(pool.read()->members.size()), 0);
    }

    void aCorruptLedgerIsSetAside()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        const JobPool pool(base);
        QVERIFY(pool.prepare());
        writeFile(base / "pool.json", "{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":\"many\"}]}");
        const auto read = pool.read();
        QVERIFY(!read);
        QVERIFY2(read.error().find("granted") != std::string::npos, read.error().c_str());
        const auto state = pool.update([](PoolState& s) { s.members.push_back(member("fresh", self())); });
        QVERIFY2(state, state.error().c_str());
        QCOMPARE(int(state->members.size()), 1);
        QCOMPARE(readFile(base / "pool.json.corrupt"),
                 std::string("{\"version\":1,\"members\":[{\"runId\":\"a\",\"granted\":\"many\"}]}"));
        QVERIFY(pool.read());
        QCOMPARE(pool.read()->members[0].runId, std::string("fresh"));
        struct stat st {};
        QCOMPARE(::stat((base / "pool.json").c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
    }

    void aHeldLockTimesOutWithAReason()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        const JobPool pool(base);
        QVERIFY(pool.prepare());
        const int fd = ::open((base / "pool.lock").c_str(), O_RDWR | O_CREAT, 0600);
        QVERIFY(fd >= 0);
        int ready[2];
        QCOMPARE(::pipe(ready), 0);
        const pid_t holder = ::fork();
        if (holder == 0) {
            const int own = ::open((base / "pool.lock").c_str(), O_RDWR);
            ::flock(own, LOCK_EX);
            char c = 'x';
            [[maybe_unused]] auto n = ::write(ready[1], &c, 1);
            ::pause();
            ::_exit(0);
        }
        char c = 0;
        QCOMPARE(::read(ready[0], &c, 1), ssize_t(1));
        const auto blocked = pool.update({}, std::chrono::milliseconds(150));
        QVERIFY(!blocked);
        QVERIFY2(blocked.error().find("locked by another build") != std::string::npos, blocked.error().c_str());
        ::kill(holder, SIGKILL);
        ::waitpid(holder, nullptr, 0);
        QVERIFY(pool.update({}, std::chrono::milliseconds(2000)));
        ::close(fd);
        ::close(ready[0]);
        ::close(ready[1]);
    }

    void prepareMakesAPrivateFolder()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        const JobPool pool(base / "headroom-0" / "pool");
        const auto made = pool.prepare();
        QVERIFY2(made, made.error().c_str());
        struct stat st {};
        QCOMPARE(::stat(pool.dir().c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0700));
        QCOMPARE(::stat((base / "headroom-0").c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0700));
        ::chmod(pool.dir().c_str(), 0755);
        QVERIFY(pool.prepare());
        QCOMPARE(::stat(pool.dir().c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0700));
        QVERIFY(pool.update({}));
        QCOMPARE(pool.read()->members.size(), std::size_t(0));
    }

    void prepareRefusesALinkOrAForeignFolder()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        fs::create_directories(base / "real");
        fs::create_directory_symlink(base / "real", base / "link");
        const auto linked = JobPool(base / "link").prepare();
        QVERIFY(!linked);
        QVERIFY2(linked.error().find("symbolic link") != std::string::npos, linked.error().c_str());
        QVERIFY2(linked.error().find("HEADROOM_POOL_DIR") != std::string::npos, linked.error().c_str());

        const fs::path file = base / "file";
        writeFile(file, "x");
        QVERIFY(!JobPool(file).prepare());

        if (::geteuid() != 0)
            QSKIP("giving a folder to another user needs root");
        fs::create_directories(base / "foreign");
        QCOMPARE(::chown((base / "foreign").c_str(), 65534, 65534), 0);
        const auto foreign = JobPool(base / "foreign").prepare();
        QVERIFY(!foreign);
        QVERIFY2(foreign.error().find("another user (uid 65534)") != std::string::npos, foreign.error().c_str());
        // A folder of ours inside someone else's could be swapped under us.
        QCOMPARE(::mkdir((base / "foreign" / "pool").c_str(), 0700), 0);
        const auto inside = JobPool(base / "foreign" / "pool").prepare();
        QVERIFY(!inside);
        QVERIFY2(inside.error().find("parent") != std::string::npos, inside.error().c_str());
    }

    void defaultFolder()
    {
        const QByteArray poolDir = qgetenv("HEADROOM_POOL_DIR");
        const QByteArray runtime = qgetenv("XDG_RUNTIME_DIR");
        qputenv("HEADROOM_POOL_DIR", "/somewhere/pool");
        QCOMPARE(defaultPoolDir(), fs::path("/somewhere/pool"));
        qunsetenv("HEADROOM_POOL_DIR");
        qputenv("XDG_RUNTIME_DIR", "/run/user/1000");
        QCOMPARE(defaultPoolDir(), fs::path("/run/user/1000/headroom/pool"));
        qunsetenv("XDG_RUNTIME_DIR");
        QCOMPARE(defaultPoolDir(), fs::temp_directory_path() / ("headroom-" + std::to_string(::geteuid())) / "pool");
        if (!poolDir.isNull())
            qputenv("HEADROOM_POOL_DIR", poolDir);
        if (!runtime.isNull())
            qputenv("XDG_RUNTIME_DIR", runtime);
    }
};

QTEST_GUILESS_MAIN(TestJobPool)
#include "TestJobPool.moc"
