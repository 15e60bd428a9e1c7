// SPDX-License-Identifier: GPL-3.0-or-later
// Prometheus's HTTP API as the window uses it: the queries it sends (PromQL
// string escaping, percent-encoding) and the answers it reads, including the
// hostile ones: HTML login pages, errors from the server, wrong result
// types, bodies over the limits, NaN and infinities.
#include "headroom/MachineMetrics.h"
#include "headroom/PrometheusApi.h"

#include <QtTest>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace headroom;

namespace {

// Shaped as Prometheus answers /api/v1/query, with the edge cases added.
const char* kVector = R"({"status":"success","data":{"resultType":"vector","result":[
 {"metric":{"__name__":"headroom_memory_used_bytes","instance":"buildbox:9464","job":"headroom"},
  "value":[1764751234.567,"8589934592"]},
 {"metric":{"__name__":"headroom_level","instance":"buildbox:9464","job":"headroom","level":"warning"},
  "value":[1764751234.567,"1"]},
 {"metric":{"__name__":"headroom_budget_available_bytes","instance":"buildbox:9464","job":"headroom"},
  "value":[1764751234.567,"NaN"]},
 {"metric":{"__name__":"headroom_seconds_left","instance":"buildbox:9464","job":"headroom"},
  "value":[1764751234.567,"+Inf"]},
 {"metric":{"__name__":"headroom_x","instance":"buildbox:9464","job":"headroom"},
  "value":[1764751234,"-Inf"]}
]}})";

const char* kMatrix = R"({"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"headroom_memory_used_bytes","instance":"b:9464","job":"headroom"},
  "values":[[1764751200,"100"],[1764751215,"200"],[1764751230.5,"1e3"]]},
 {"metric":{"__name__":"headroom_role_resident_bytes","instance":"b:9464","job":"headroom","role":"linker"},
  "values":[[1764751215,"42"]]}
]}})";

// Answers of a real Prometheus 2.42 scraping a real `headroom export` every
// second, recorded with curl (workspace paths renamed).
std::string recorded(const char* name)
{
    std::ifstream in(std::string(HEADROOM_TEST_DATA) + "/prometheus/" + name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string vectorOf(int results)
{
    std::string text = R"({"status":"success","data":{"resultType":"vector","result":[)";
    for (int i = 0; i < results; ++i) {
        if (i)
            text += ',';
        text += R"({"metric":{"__name__":"headroom_a","n":")" + std::to_string(i) + R"("},"value":[1,"1"]})";
    }
    return text + "]}}";
}

} // namespace

class TestPrometheusApi : public QObject {
    Q_OBJECT
  private slots:
    void instantQueryEscapesTheInstance()
    {
        QCOMPARE(headroomInstantQuery("buildbox:9464"),
                 std::string(R"({__name__=~"headroom_.+",instance="buildbox:9464"})"));
        // A quote or a backslash cannot end the string early and add a matcher.
        QCOMPARE(headroomInstantQuery("a\",job=\"x\\"),
                 std::string("{__name__=~\"headroom_.+\",instance=\"a\\\",job=\\\"x\\\\\"}"));
        QCOMPARE(headroomInstantQuery("a\nb\x7f"),
                 std::string("{__name__=~\"headroom_.+\",instance=\"a\\x0Ab\\x7F\"}"));
        QCOMPARE(headroomInstantQuery("bü"),
                 std::string("{__name__=~\"headroom_.+\",instance=\"b\\xC3\\xBC\"}"));
        QCOMPARE(familyQuery("headroom_memory_used_bytes", "h\"1"),
                 std::string("headroom_memory_used_bytes{instance=\"h\\\"1\"}"));
    }

    void urlEncodeKeepsOnlyUnreserved()
    {
        QCOMPARE(urlEncode("aZ09-._~"), std::string("aZ09-._~"));
        QCOMPARE(urlEncode(R"({__name__=~"x",i="a b&c"})"),
                 std::string("%7B__name__%3D~%22x%22%2Ci%3D%22a%20b%26c%22%7D"));
        QCOMPARE(urlEncode("+/?#%ü"), std::string("%2B%2F%3F%23%25%C3%BC"));
        QCOMPARE(urlEncode(""), std::string());
    }

    void vectorIsRead()
    {
        const auto read = parsePrometheusVector(kVector);
        QVERIFY2(read.ok(), read.error().c_str());
        QCOMPARE(read->size(), std::size_t(5));
        const MetricSample& used = read->at(0);
        QCOMPARE(used.name, std::string("headroom_memory_used_bytes"));
        QCOMPARE(used.value, 8589934592.0);
        QCOMPARE(used.label("instance"), std::string_view("buildbox:9464"));
        QCOMPARE(used.label("job"), std::string_view("headroom"));
        QCOMPARE(used.label("__name__"), std::string_view());
        QCOMPARE(used.labels.size(), std::size_t(2));
        QCOMPARE(used.timestampMs.value_or(0), std::int64_t(1764751234567));
        QCOMPARE(read->at(1).label("level"), std::string_view("warning"));
        QVERIFY(std::isnan(read->at(2).value));
        QVERIFY(std::isinf(read->at(3).value) && read->at(3).value > 0);
        QVERIFY(std::isinf(read->at(4).value) && read->at(4).value < 0);
        QCOMPARE(read->at(4).timestampMs.value_or(0), std::int64_t(1764751234000));
    }

    void emptyVectorIsNoSamples()
    {
        const auto read =
            parsePrometheusVector(R"({"status":"success","data":{"resultType":"vector","result":[]}})");
        QVERIFY(read.ok());
        QVERIFY(read->empty());
    }

    void matrixIsRead()
    {
        const auto read = parsePrometheusMatrix(kMatrix);
        QVERIFY2(read.ok(), read.error().c_str());
        QCOMPARE(read->size(), std::size_t(2));
        const MetricSeries& used = read->at(0);
        QCOMPARE(used.name, std::string("headroom_memory_used_bytes"));
        QCOMPARE(used.points.size(), std::size_t(3));
        QCOMPARE(used.points[0], std::make_pair(std::int64_t(1764751200000), 100.0));
        QCOMPARE(used.points[2], std::make_pair(std::int64_t(1764751230500), 1000.0));
        for (const auto& [key, value] : used.labels)
            QVERIFY(key != "__name__");
        QCOMPARE(read->at(1).labels.size(), std::size_t(3));
    }

    void serverErrorIsSaidInItsWords()
    {
        const auto read = parsePrometheusVector("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
                                                "\"invalid parameter \\\"query\\\": 1:2: parse error\"}");
        QVERIFY(!read.ok());
        QCOMPARE(
            read.error(),
            std::string(R"(answered with an error (bad_data): invalid parameter "query": 1:2: parse error)"));
        const auto bare = parsePrometheusMatrix(R"({"status":"error"})");
        QCOMPARE(bare.error(), std::string("answered with an error"));
    }

    void notPrometheusIsSaid_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("words");
        QTest::newRow("html") << QByteArray("\n  <!DOCTYPE html><html><body>Sign in</body></html>")
                              << "answered with HTML, not Prometheus: is the URL right?";
        QTest::newRow("empty") << QByteArray(" \r\n") << "answered with an empty body";
        QTest::newRow("metrics text") << QByteArray("# TYPE up gauge\nup 1\n") << "is not JSON";
        QTest::newRow("truncated") << QByteArray(R"({"status":"success","data":{"resultType":"vec)")
                                   << "is not JSON";
        QTest::newRow("array") << QByteArray("[1,2]") << "is not JSON";
        QTest::newRow("no status") << QByteArray(R"({"data":{}})") << "no \"status\"";
        QTest::newRow("no data") << QByteArray(R"({"status":"success"})") << "without \"data\"";
        QTest::newRow("scalar")
            << QByteArray(R"({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}})")
            << "answered with a scalar where a vector was asked for";
        QTest::newRow("matrix") << QByteArray(
                                       R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                                << "answered with a matrix where a vector was asked for";
        QTest::newRow("result not list")
            << QByteArray(R"({"status":"success","data":{"resultType":"vector","result":{}}})")
            << "without a \"result\" list";
        QTest::newRow("value a number")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}})")
            << "malformed value in result 1";
        QTest::newRow("value words")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"12abc"]}]}})")
            << "malformed value in result 1";
        QTest::newRow("timestamp string")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","1"]}]}})")
            << "malformed timestamp";
        QTest::newRow("timestamp huge")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"1"]}]}})")
            << "malformed timestamp";
        QTest::newRow("label not string")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}})")
            << "malformed metric";
        QTest::newRow("no metric")
            << QByteArray(
                   R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}})")
            << "malformed metric";
        QTest::newRow("deep") << QByteArray(R"({"status":)") + QByteArray(100000, '[') << "nested too deeply";
        QTest::newRow("bad utf8") << QByteArray("{\"status\":\"su\xff\"}") << "is not JSON";
    }

    void notPrometheusIsSaid()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, words);
        const std::string_view text(body.constData(), std::size_t(body.size()));
        const auto read = parsePrometheusVector(text);
        QVERIFY(!read.ok());
        QVERIFY2(QString::fromStdString(read.error()).contains(words), read.error().c_str());
    }

    void matrixMalformedPointsFail()
    {
        const auto read = parsePrometheusMatrix(
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2]]}]}})");
        QVERIFY(!read.ok());
        QVERIFY2(read.error().find("malformed value in result 1") != std::string::npos, read.error().c_str());
        const auto vector =
            parsePrometheusMatrix(R"({"status":"success","data":{"resultType":"vector","result":[]}})");
        QVERIFY(!vector.ok());
        QVERIFY(vector.error().find("a vector where a matrix") != std::string::npos);
    }

    void limitsAreKept()
    {
        MetricsParseLimits limits;
        limits.maxSamples = 10;
        QVERIFY(parsePrometheusVector(vectorOf(10), limits).ok());
        const auto many = parsePrometheusVector(vectorOf(11), limits);
        QVERIFY(!many.ok());
        QVERIFY2(many.error().find("more than 10 samples") != std::string::npos, many.error().c_str());

        // Points of a matrix count as samples.
        const auto points = parsePrometheusMatrix(
            R"({"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{},"values":[[1,"1"],[2,"1"],[3,"1"],[4,"1"],[5,"1"],[6,"1"]]},
              {"metric":{},"values":[[1,"1"],[2,"1"],[3,"1"],[4,"1"],[5,"1"]]}]}})",
            limits);
        QVERIFY(!points.ok());
        QVERIFY(points.error().find("more than 10 samples") != std::string::npos);

        limits = {};
        limits.maxBytes = 100;
        const auto large = parsePrometheusVector(vectorOf(5), limits);
        QVERIFY(!large.ok());
        QVERIFY2(large.error().find("answered with more than 1 MiB") != std::string::npos,
                 large.error().c_str());

        limits = {};
        limits.maxLabelsPerSample = 2;
        QVERIFY(
            parsePrometheusVector(
                R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"x","a":"1","b":"2"},"value":[1,"1"]}]}})",
                limits)
                .ok());
        const auto labels = parsePrometheusVector(
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","b":"2","c":"3"},"value":[1,"1"]}]}})",
            limits);
        QVERIFY(!labels.ok());
        QVERIFY2(labels.error().find("more than 2 labels") != std::string::npos, labels.error().c_str());
    }

    void recordedAnswersAreRead()
    {
        const auto vector = parsePrometheusVector(recorded("vector.json"));
        QVERIFY2(vector.ok(), vector.error().c_str());
        QCOMPARE(vector->size(), std::size_t(43));
        bool sawTotal = false;
        for (const MetricSample& sample : vector.value()) {
            QCOMPARE(sample.label("instance"), std::string_view("127.0.0.1:19464"));
            QCOMPARE(sample.timestampMs.value_or(0), std::int64_t(1796288192677));
            if (sample.name == metric::kMemoryTotal) {
                sawTotal = true;
                QCOMPARE(sample.value, 25275990016.0);
            }
        }
        QVERIFY(sawTotal);
        // The machine reads back from Prometheus's answer as from the exporter's text.
        const auto view = machineViewFromSamples(vector.value());
        QVERIFY2(view.ok(), view.error().c_str());
        QCOMPARE(view->hostname, std::string("vm"));
        QCOMPARE(view->snapshot.memory.total, std::uint64_t(25275990016));
        QCOMPARE(view->snapshot.memory.used, std::uint64_t(2259140608));
        QCOMPARE(view->level.level, PressureLevel::Normal);
        QCOMPARE(view->snapshot.builds.size(), std::size_t(2));

        std::vector<MetricSeries> all;
        for (const char* name : {"range-headroom_memory_used_bytes.json",
                                 "range-headroom_role_resident_bytes.json", "range-headroom_level.json"}) {
            auto series = parsePrometheusMatrix(recorded(name));
            QVERIFY2(series.ok(), series.error().c_str());
            QVERIFY(!series->empty());
            for (MetricSeries& one : series.value()) {
                QCOMPARE(one.points.size(), std::size_t(4));
                all.push_back(std::move(one));
            }
        }
        QCOMPARE(all.front().points.front(), std::make_pair(std::int64_t(1796288189000), 2101395456.0));
        const std::vector<Snapshot> history = machineHistoryFromSeries(all);
        QCOMPARE(history.size(), std::size_t(4));
        QCOMPARE(history.back().memory.used, std::uint64_t(2280665088));

        const auto error = parsePrometheusVector(recorded("error.json"));
        QVERIFY(!error.ok());
        QCOMPARE(error.error(),
                 std::string("answered with an error (bad_data): invalid parameter \"query\": 1:5: "
                             "parse error: unclosed left parenthesis"));
    }

    void damagedAnswersNeverCrash()
    {
        // Every cut of a real answer, and bytes changed all through it: each is
        // read or refused in words, never a crash (the sanitizer build runs this too).
        const std::string real = recorded("vector.json");
        QVERIFY(real.size() > 1000);
        std::size_t refused = 0;
        for (std::size_t cut = 0; cut < real.size(); cut += 7) {
            const auto read = parsePrometheusVector(std::string_view(real).substr(0, cut));
            refused += read.ok() ? 0 : 1;
            QVERIFY(read.ok() || !read.error().empty());
        }
        QVERIFY(refused > 0);
        const char replacements[] = {'"', '{', '[', '\\', '\0', '\xff', ',', '9'};
        std::uint32_t seed = 12345;
        for (int round = 0; round < 600; ++round) {
            std::string damaged = real;
            for (int k = 0; k < 3; ++k) {
                seed = seed * 1664525u + 1013904223u;
                damaged[seed % damaged.size()] = replacements[(seed >> 24) % sizeof replacements];
            }
            const auto vector = parsePrometheusVector(damaged);
            QVERIFY(vector.ok() || !vector.error().empty());
            const auto matrix = parsePrometheusMatrix(damaged);
            QVERIFY(!matrix.ok()); // a vector is never a matrix
        }
    }

    void fullAnswerIsRead()
    {
        // The default limits take a full answer of 20000 samples, and no more.
        const auto read = parsePrometheusVector(vectorOf(20000));
        QVERIFY2(read.ok(), read.error().c_str());
        QCOMPARE(read->size(), std::size_t(20000));
        QVERIFY(!parsePrometheusVector(vectorOf(20001)).ok());
    }
};

QTEST_GUILESS_MAIN(TestPrometheusApi)
#include "TestPrometheusApi.moc"
