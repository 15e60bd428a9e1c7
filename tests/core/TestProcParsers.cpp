// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProcParsers.h"

#include <QtTest>

using namespace headroom;
using namespace headroom::procfs;

class TestProcParsers : public QObject {
    Q_OBJECT

  private:
    static std::string statWith(const std::string& comm, char state = 'S')
    {
        return "4242 (" + comm + ") " + state +
               " 17 4242 4242 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 7 0 123456 1000000 2048 "
               "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    }

  private slots:
    void statPlainName()
    {
        auto stat = parseStat(statWith("rustc"));
        QVERIFY(stat);
        QCOMPARE(stat->pid, Pid(4242));
        QCOMPARE(stat->comm, std::string("rustc"));
        QCOMPARE(stat->state, 'S');
        QCOMPARE(stat->parentPid, Pid(17));
        QCOMPARE(stat->utimeTicks, 250u);
        QCOMPARE(stat->stimeTicks, 50u);
        QCOMPARE(stat->threads, 7u);
        QCOMPARE(stat->startTimeTicks, 123456u);
        QCOMPARE(stat->rssPages, 2048u);
        QVERIFY(!stat->kernelThread());
    }

    void statHostileNames_data()
    {
        QTest::addColumn<QByteArray>("comm");
        QTest::newRow("spaces and parens") << QByteArray("my (odd) proc");
        QTest::newRow("closing paren then fields") << QByteArray(") S 1 2 3");
        QTest::newRow("newline") << QByteArray("a) b\n(c");
        QTest::newRow("not utf-8") << QByteArray("caf\xe9\xff");
        QTest::newRow("empty") << QByteArray("");
    }

    void statHostileNames()
    {
        QFETCH(QByteArray, comm);
        const std::string name(comm.constData(), static_cast<std::size_t>(comm.size()));
        auto stat = parseStat(statWith(name, 'T'));
        QVERIFY(stat);
        QCOMPARE(stat->comm, name);
        QCOMPARE(stat->state, 'T');
        QCOMPARE(stat->parentPid, Pid(17));
        QCOMPARE(stat->startTimeTicks, 123456u);
    }

    void statRejectsTruncated()
    {
        QVERIFY(!parseStat("4242 (cargo) S 1 2 3"));
        QVERIFY(!parseStat("garbage"));
        QVERIFY(!parseStat(""));
        QVERIFY(!parseStat("x (cargo) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23"));
    }

    void statKernelThread()
    {
        std::string line = statWith("kworker/0:1");
        line.replace(line.find("4194304"), 7, "2129984"); // PF_KTHREAD | others
        auto stat = parseStat(line);
        QVERIFY(stat);
        QVERIFY(stat->kernelThread());
    }

    void states()
    {
        QCOMPARE(stateFromLetter('Z'), ProcessState::Zombie);
        QCOMPARE(stateFromLetter('T'), ProcessState::Stopped);
        QCOMPARE(stateFromLetter('t'), ProcessState::Stopped);
        QCOMPARE(stateFromLetter('D'), ProcessState::DiskSleep);
        QCOMPARE(stateFromLetter('?'), ProcessState::Unknown);
    }

    void meminfoLikeFree()
    {
        MemoryStatus m;
        QVERIFY(parseMeminfo("MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\n"
                             "Buffers:          50 kB\nCached:          300 kB\nSReclaimable:     20 kB\n"
                             "SwapTotal:       400 kB\nSwapFree:        150 kB\nCommitted_AS:    900 kB\n",
                             m));
        QCOMPARE(m.total, 1000u * 1024);
        QCOMPARE(m.available, 600u * 1024);
        QCOMPARE(m.used, 400u * 1024);  // total - available, as procps-ng 4 free
        QCOMPARE(m.cache, 320u * 1024); // Cached + SReclaimable
        QCOMPARE(m.swapUsed, 250u * 1024);
        QCOMPARE(m.committed, 900u * 1024);
        QCOMPARE(m.headroom(), (600u + 150u) * 1024);
        QVERIFY(!m.compressedStored);
    }

    void meminfoWithoutAvailable()
    {
        MemoryStatus m;
        QVERIFY(parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\n", m));
        QCOMPARE(m.available, 350u * 1024);
        QVERIFY(!parseMeminfo("MemFree: 100 kB\n", m));
        QVERIFY(!parseMeminfo("", m));
    }

    void pressure()
    {
        auto p = parsePressure("some avg10=1.50 avg60=2.25 avg300=0.00 total=12345\n"
                               "full avg10=0.75 avg60=0.10 avg300=0.01 total=678\n");
        QVERIFY(p);
        QVERIFY(p->available);
        QCOMPARE(p->some.avg10, 1.5);
        QCOMPARE(p->some.avg60, 2.25);
        QCOMPARE(p->some.totalMicroseconds, 12345u);
        QCOMPARE(p->full.avg10, 0.75);
        QVERIFY(!parsePressure(""));
        QVERIFY(!parsePressure("nonsense\n"));
    }

    void oomAndBootAndUptime()
    {
        QCOMPARE(parseOomKillCount("pgfault 5\noom_kill 7\nfoo 1\n").value_or(0), 7u);
        QVERIFY(!parseOomKillCount("pgfault 5\n"));
        QCOMPARE(parseBootTime("cpu 1 2\nbtime 1700000000\n").value_or(0), std::int64_t(1700000000));
        QCOMPARE(parseUptime("123.45 999.0\n").value_or(0), 123.45);
    }

    void cmdline()
    {
        using namespace std::string_literals;
        QCOMPARE(parseCmdline("cargo\0build\0--release\0"s),
                 (std::vector<std::string>{"cargo", "build", "--release"}));
        QCOMPARE(parseCmdline("a b\0\0c\0"s), (std::vector<std::string>{"a b", "", "c"}));
        // A process that rewrote its argv into one string.
        QCOMPARE(parseCmdline("postgres: writer process   "s),
                 (std::vector<std::string>{"postgres: writer process   "}));
        QVERIFY(parseCmdline(""s).empty());
    }

    void environment()
    {
        using namespace std::string_literals;
        const std::string env = "HOME=/root\0CARGO_TARGET_DIR=/tmp/t\0CARGO_TARGET_DIRX=no\0"s;
        QCOMPARE(findEnvironmentValue(env, "CARGO_TARGET_DIR").value_or(""), std::string("/tmp/t"));
        QVERIFY(!findEnvironmentValue(env, "PATH"));
        QVERIFY(!findEnvironmentValue(env, "CARGO"));
    }
};

QTEST_GUILESS_MAIN(TestProcParsers)
#include "TestProcParsers.moc"
