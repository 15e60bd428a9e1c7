// SPDX-License-Identifier: GPL-3.0-or-later
// The learned peaks file: a round trip, two processes saving at once, a
// damaged file, the bounds, and OOM-killed peaks that only raise.
#include "headroom/LearnedPeaks.h"
#include "headroom/Units.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

void writeFile(const fs::path& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Sets an environment variable for one scope.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name)
    {
        if (const char* old = std::getenv(name))
            old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv()
    {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

  private:
    const char* name_;
    std::optional<std::string> old_;
};

} // namespace

class TestLearnedPeaks : public QObject {
    Q_OBJECT

  private:
    QTemporaryDir dir_;
    fs::path file(const char* name) const { return fs::path(dir_.path().toStdString()) / name; }

  private slots:
    void defaultPath()
    {
        {
            ScopedEnv peaks("HEADROOM_PEAKS_FILE", "/tmp/x/peaks.json");
            QCOMPARE(LearnedPeaks::defaultPath(), fs::path("/tmp/x/peaks.json"));
        }
        ScopedEnv peaks("HEADROOM_PEAKS_FILE", nullptr);
        {
            ScopedEnv data("XDG_DATA_HOME", "/data/u");
            QCOMPARE(LearnedPeaks::defaultPath(), fs::path("/data/u/headroom/peaks.json"));
        }
        ScopedEnv data("XDG_DATA_HOME", nullptr);
        ScopedEnv home("HOME", "/home/someone");
        QCOMPARE(LearnedPeaks::defaultPath(), fs::path("/home/someone/.local/share/headroom/peaks.json"));
    }

    void missingFileIsNothingLearned()
    {
        const auto peaks = LearnedPeaks::load(file("none.json"));
        QVERIFY(peaks.note().empty());
        QVERIFY(!peaks.units("proj"));
        QVERIFY(!peaks.highest("proj"));
        QVERIFY(!peaks.peak("proj", "serde"));
    }

    void roundTrip()
    {
        const fs::path path = file("sub/folder/round.json");
        LearnedPeaks peaks = LearnedPeaks::load(path);
        peaks.record("/home/u/proj", "serde_derive", 1200 * MiB, 1000);
        peaks.record("/home/u/proj", "build-script:ring", 300 * MiB, 1001);
        peaks.record("/home/u/proj", "big", 3 * GiB, 1002, true);
        peaks.record("/home/u/other", "tiny", 5 * MiB, 1003);
        QCOMPARE(peaks.highest("/home/u/proj").value(), 3 * GiB);
        auto saved = peaks.save(path);
        QVERIFY2(saved, saved.error().c_str());
        QVERIFY(saved.value());

        const auto again = LearnedPeaks::load(path);
        QVERIFY2(again.note().empty(), again.note().c_str());
        QCOMPARE(again.units("/home/u/proj")->size(), std::size_t(3));
        const auto serde = again.peak("/home/u/proj", "serde_derive");
        QVERIFY(serde);
        QCOMPARE(serde->bytes, 1200 * MiB);
        QCOMPARE(serde->seenMs, std::int64_t(1000));
        QVERIFY(!serde->oomKilled);
        QVERIFY(again.peak("/home/u/proj", "big")->oomKilled);
        QCOMPARE(again.peak("/home/u/proj", "build-script:ring")->bytes, 300 * MiB);
        QCOMPARE(again.highest("/home/u/proj").value(), 3 * GiB);
        QCOMPARE(again.highest("/home/u/other").value(), 5 * MiB);
        QVERIFY(!again.peak("/home/u/proj", "tiny"));
        // No temporary or lock left beside it but the lock file itself.
        for (const auto& entry : fs::directory_iterator(path.parent_path()))
            QVERIFY2(entry.path() == path || entry.path().extension() == ".lock", entry.path().c_str());
    }

    void nothingRecordedWritesNothing()
    {
        const fs::path path = file("untouched.json");
        LearnedPeaks peaks = LearnedPeaks::load(path);
        auto saved = peaks.save(path);
        QVERIFY(saved);
        QVERIFY(!saved.value());
        QVERIFY(!fs::exists(path));
    }

    // What another supervisor saved since this one loaded stays.
    void saveMergesWithTheFile()
    {
        const fs::path path = file("merge.json");
        LearnedPeaks a = LearnedPeaks::load(path);
        LearnedPeaks b = LearnedPeaks::load(path);
        a.record("p", "x", 100 * MiB, 10);
        a.record("p", "shared", 700 * MiB, 10);
        QVERIFY(a.save(path));
        b.record("p", "y", 200 * MiB, 20);
        b.record("p", "shared", 500 * MiB, 20); // newer: replaces
        b.record("q", "z", 1 * MiB, 20);
        QVERIFY(b.save(path));
        // An older figure saved late does not replace a newer one.
        LearnedPeaks late = LearnedPeaks::load(file("nothing.json"));
        late.record("p", "shared", 900 * MiB, 15);
        QVERIFY(late.save(path));

        const auto all = LearnedPeaks::load(path);
        QCOMPARE(all.peak("p", "x")->bytes, 100 * MiB);
        QCOMPARE(all.peak("p", "y")->bytes, 200 * MiB);
        QCOMPARE(all.peak("p", "shared")->bytes, 500 * MiB);
        QCOMPARE(all.peak("q", "z")->bytes, 1 * MiB);
    }

    // Two processes save again and again into one file: under the lock no
    // figure of either is lost.
    void twoProcessesSaveAtOnce()
    {
        const fs::path path = file("forked.json");
        constexpr int kSaves = 60;
        pid_t children[2];
        for (int c = 0; c < 2; ++c) {
            const pid_t pid = ::fork();
            QVERIFY(pid >= 0);
            if (pid == 0) {
                LearnedPeaks mine = LearnedPeaks::load(path);
                bool ok = true;
                for (int i = 0; i < kSaves; ++i) {
                    mine.record("proj", std::string(c ? "b-" : "a-") + std::to_string(i),
                                std::uint64_t(i + 1) * MiB, 1000 + i);
                    mine.record("proj", "shared", std::uint64_t(c + 1) * GiB, 1000 + i, true);
                    ok = mine.save(path).ok() && ok;
                }
                ::_exit(ok ? 0 : 1);
            }
            children[c] = pid;
        }
        for (pid_t child : children) {
            int status = 0;
            QCOMPARE(::waitpid(child, &status, 0), child);
            QVERIFY(WIFEXITED(status));
            QCOMPARE(WEXITSTATUS(status), 0);
        }
        const auto all = LearnedPeaks::load(path);
        QVERIFY2(all.note().empty(), all.note().c_str());
        QVERIFY(all.units("proj"));
        QCOMPARE(all.units("proj")->size(), std::size_t(2 * kSaves + 1));
        for (int i = 0; i < kSaves; ++i) {
            QVERIFY(all.peak("proj", "a-" + std::to_string(i)));
            QVERIFY(all.peak("proj", "b-" + std::to_string(i)));
        }
        // Both were OOM-killed figures: the higher one stays.
        QCOMPARE(all.peak("proj", "shared")->bytes, 2 * GiB);
    }

    void corruptFileIsMovedAside_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("not JSON") << QByteArray("{\"version\": 1, \"projects\": {");
        QTest::newRow("an array") << QByteArray("[1, 2, 3]");
        QTest::newRow("no projects") << QByteArray("{\"version\": 1}");
        QTest::newRow("no version") << QByteArray("{\"projects\": {}}");
        QTest::newRow("binary") << QByteArray("\x00\xff\xfe garbage", 12);
    }

    void corruptFileIsMovedAside()
    {
        QFETCH(QByteArray, text);
        const fs::path path = file("corrupt.json");
        fs::remove(path);
        fs::remove(file("corrupt.json.corrupt"));
        writeFile(path, text.toStdString());
        const auto peaks = LearnedPeaks::load(path);
        QVERIFY(!peaks.note().empty());
        QVERIFY2(peaks.note().find("moved aside") != std::string::npos, peaks.note().c_str());
        QVERIFY(!peaks.units("proj"));
        QVERIFY(!fs::exists(path));
        QVERIFY(fs::exists(file("corrupt.json.corrupt")));
        QCOMPARE(QByteArray::fromStdString(readFile(file("corrupt.json.corrupt"))), text);
        // Learning starts afresh there.
        LearnedPeaks fresh = peaks;
        fresh.record("proj", "x", 1, 1);
        QVERIFY(fresh.save(path));
        QCOMPARE(LearnedPeaks::load(path).peak("proj", "x")->bytes, std::uint64_t(1));
    }

    void badEntriesAreSkipped()
    {
        const fs::path path = file("entries.json");
        writeFile(path, R"({"version": 1, "projects": {
            "p": {"seenMs": 5, "units": {
                "good": {"bytes": 1048576, "seenMs": 5},
                "negative": {"bytes": -3, "seenMs": 5},
                "text": {"bytes": "many"},
                "array": [1, 2]}},
            "q": "not a project"}})");
        const auto peaks = LearnedPeaks::load(path);
        QVERIFY2(peaks.note().empty(), peaks.note().c_str());
        QCOMPARE(peaks.units("p")->size(), std::size_t(1));
        QCOMPARE(peaks.peak("p", "good")->bytes, MiB);
        QVERIFY(!peaks.units("q"));
    }

    // A newer Headroom's file is neither used nor replaced.
    void newerVersionIsLeftAlone()
    {
        const fs::path path = file("newer.json");
        const std::string text = R"({"version": 99, "projects": {}})";
        writeFile(path, text);
        LearnedPeaks peaks = LearnedPeaks::load(path);
        QVERIFY(!peaks.note().empty());
        peaks.record("p", "x", 1, 1);
        auto saved = peaks.save(path);
        QVERIFY(!saved);
        QVERIFY2(saved.error().find("newer") != std::string::npos, saved.error().c_str());
        QCOMPARE(readFile(path), text);
        QVERIFY(!fs::exists(file("newer.json.corrupt")));
    }

    void oomKilledPeaksOnlyRaise()
    {
        LearnedPeaks peaks;
        peaks.record("p", "x", 1 * GiB, 10);
        peaks.record("p", "x", 500 * MiB, 20, true); // cut short at 500 MiB: it needs more than 1 GiB still
        QCOMPARE(peaks.peak("p", "x")->bytes, 1 * GiB);
        QVERIFY(peaks.peak("p", "x")->oomKilled);
        peaks.record("p", "x", 2 * GiB, 30, true);
        QCOMPARE(peaks.peak("p", "x")->bytes, 2 * GiB);
        // A run to the end says the truth, lower or not.
        peaks.record("p", "x", 1536 * MiB, 40);
        QCOMPARE(peaks.peak("p", "x")->bytes, 1536 * MiB);
        QVERIFY(!peaks.peak("p", "x")->oomKilled);

        // Merged into the file: an OOM figure raises what is there...
        const fs::path path = file("oom.json");
        LearnedPeaks first;
        first.record("p", "y", 1 * GiB, 100);
        first.record("p", "z", 3 * GiB, 300);
        QVERIFY(first.save(path));
        LearnedPeaks second;
        second.record("p", "y", 2 * GiB, 200, true);
        second.record("p", "y2", 2 * GiB, 200, true);
        second.record("p", "y", 512 * MiB, 250, true);
        // ...but not a figure of a later complete run.
        second.record("p", "z", 4 * GiB, 200, true);
        QVERIFY(second.save(path));
        const auto all = LearnedPeaks::load(path);
        QCOMPARE(all.peak("p", "y")->bytes, 2 * GiB);
        QVERIFY(all.peak("p", "y")->oomKilled);
        QCOMPARE(all.peak("p", "z")->bytes, 3 * GiB);
        QVERIFY(!all.peak("p", "z")->oomKilled);
    }

    void bounds()
    {
        LearnedPeaks peaks;
        // Names: at most 256 bytes, never empty.
        peaks.record("p", std::string(256, 'u'), 1, 1);
        peaks.record("p", std::string(257, 'u'), 1, 1);
        peaks.record(std::string(257, 'p'), "u", 1, 1);
        peaks.record("p", "", 1, 1);
        peaks.record("", "u", 1, 1);
        QCOMPARE(peaks.units("p")->size(), std::size_t(1));
        QVERIFY(!peaks.units(std::string(257, 'p')));

        // 2000 units: the least recently seen go.
        for (int i = 0; i < 2100; ++i)
            peaks.record("many", "unit-" + std::to_string(i), 1, 10'000 + i);
        QCOMPARE(peaks.units("many")->size(), std::size_t(2000));
        QVERIFY(!peaks.peak("many", "unit-99"));
        QVERIFY(peaks.peak("many", "unit-100"));
        QVERIFY(peaks.peak("many", "unit-2099"));
        const fs::path units = file("units.json");
        QVERIFY(peaks.save(units));
        QCOMPARE(LearnedPeaks::load(units).units("many")->size(), std::size_t(2000));

        // 200 projects: the least recently used go; the one just used stays.
        for (int i = 0; i < 210; ++i)
            peaks.record("proj-" + std::to_string(i), "u", 1, 100'000 + i);
        peaks.record("many", "again", 1, 5); // an old clock, but just used
        int kept = 0;
        for (int i = 0; i < 210; ++i)
            kept += peaks.units("proj-" + std::to_string(i)) != nullptr;
        QCOMPARE(kept, 199);
        QVERIFY(peaks.units("many"));
        QVERIFY(!peaks.units("p"));
        QVERIFY(!peaks.units("proj-0"));
        QVERIFY(peaks.units("proj-209"));

        // The file holds the same bounds.
        const fs::path path = file("bounds.json");
        QVERIFY(peaks.save(path));
        const auto loaded = LearnedPeaks::load(path);
        int inFile = 0;
        for (int i = 0; i < 210; ++i)
            inFile += loaded.units("proj-" + std::to_string(i)) != nullptr;
        QCOMPARE(inFile, 199);
        QVERIFY(!loaded.units("p"));
        QCOMPARE(loaded.units("many")->size(), std::size_t(1)); // dropped, then used afresh
    }

    void hostileNamesKeepTheFileReadable()
    {
        const fs::path path = file("hostile.json");
        LearnedPeaks peaks;
        peaks.record("p", "bad\xff\xfe\x01name\"}", 7, 1);
        peaks.record("p", "fine", 8, 1);
        QVERIFY(peaks.save(path));
        const auto again = LearnedPeaks::load(path);
        QVERIFY2(again.note().empty(), again.note().c_str());
        QCOMPARE(again.peak("p", "fine")->bytes, std::uint64_t(8));
        QCOMPARE(again.units("p")->size(), std::size_t(2));
    }

    void theStartOrderRoundTripsAndTheNewerRunWins()
    {
        const fs::path path = file("order.json");
        using Order = std::vector<std::string>;
        LearnedPeaks first = LearnedPeaks::load(path);
        QVERIFY(first.order("p").empty());
        for (const char* unit : {"a", "heavy", "b", "c"})
            first.record("p", unit, 10 * MiB, 100);
        first.record("q", "x", 1 * MiB, 100);
        // "never" has no peak: it keeps no place; repeats keep their first one.
        first.recordOrder("p", {"heavy", "never", "a", "heavy", "c", "b"});
        QCOMPARE(first.order("p"), (Order{"heavy", "a", "c", "b"}));
        QVERIFY(first.save(path));
        const auto loaded = LearnedPeaks::load(path);
        QCOMPARE(loaded.order("p"), (Order{"heavy", "a", "c", "b"}));
        QCOMPARE(loaded.peak("p", "heavy")->order, 0);
        QVERIFY(loaded.order("q").empty()); // nothing recorded its order

        // A later run of another supervisor: its order replaces the whole
        // order; its peaks leave the order alone.
        LearnedPeaks second = LearnedPeaks::load(path);
        second.record("p", "a", 20 * MiB, 200);
        second.record("p", "d", 5 * MiB, 200);
        second.recordOrder("p", {"d", "b", "a"});
        QVERIFY(second.save(path));
        LearnedPeaks third = LearnedPeaks::load(path);
        QCOMPARE(third.order("p"), (Order{"d", "b", "a"}));
        QCOMPARE(third.peak("p", "heavy")->order, -1);
        third.record("p", "c", 30 * MiB, 300); // peaks only
        QVERIFY(third.save(path));
        QCOMPARE(LearnedPeaks::load(path).order("p"), (Order{"d", "b", "a"}));
        QCOMPARE(LearnedPeaks::load(path).peak("p", "c")->bytes, 30 * MiB);
    }

    void aFileWithoutOrderOrAWrongOneIsNoOrder()
    {
        const fs::path path = file("old-order.json");
        // An older Headroom's file: no "order" at all.
        writeFile(path,
                  R"({"version":1,"projects":{"p":{"seenMs":5,"units":{"a":{"bytes":7,"seenMs":5}}}}})");
        auto old = LearnedPeaks::load(path);
        QVERIFY2(old.note().empty(), old.note().c_str());
        QCOMPARE(old.peak("p", "a")->bytes, std::uint64_t(7));
        QCOMPARE(old.peak("p", "a")->order, -1);
        QVERIFY(old.order("p").empty());
        // Places of the wrong shape are none; the peaks stay.
        writeFile(path, R"({"version":1,"projects":{"p":{"units":{)"
                        R"("a":{"bytes":7,"order":-3},"b":{"bytes":8,"order":"1"},)"
                        R"("c":{"bytes":9,"order":99999999999},"d":{"bytes":1,"order":2}}}}})");
        const auto wrong = LearnedPeaks::load(path);
        QVERIFY2(wrong.note().empty(), wrong.note().c_str());
        QCOMPARE(wrong.units("p")->size(), std::size_t(4));
        QCOMPARE(wrong.order("p"), (std::vector<std::string>{"d"}));
    }

    void theOrderIsBounded()
    {
        const fs::path path = file("order-bounds.json");
        LearnedPeaks peaks;
        std::vector<std::string> order;
        for (int i = 0; i < 2100; ++i) {
            const std::string unit = "u" + std::to_string(i);
            peaks.record("p", unit, 1, 1000 + i);
            order.push_back(unit);
        }
        peaks.recordOrder("p", order);
        QVERIFY(peaks.save(path));
        const auto loaded = LearnedPeaks::load(path);
        const auto kept = loaded.order("p");
        QVERIFY(kept.size() <= 2000);
        QVERIFY(!kept.empty());
        for (std::size_t i = 0; i < kept.size(); ++i)
            QVERIFY(loaded.peak("p", kept[i])->order == int(i));
    }
};

QTEST_GUILESS_MAIN(TestLearnedPeaks)
#include "TestLearnedPeaks.moc"
