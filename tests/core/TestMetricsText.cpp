// SPDX-License-Identifier: GPL-3.0-or-later
// The Prometheus text format as Headroom writes and reads it.
#include "headroom/MetricsText.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace headroom;

namespace {

std::vector<MetricSample> parsed(const std::string& text)
{
    auto result = parseMetricsText(text);
    if (!result) {
        qWarning("%s", result.error().c_str());
        return {};
    }
    return result.value();
}

int count(const std::string& text, const std::string& part)
{
    int n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size()))
        ++n;
    return n;
}

} // namespace

class TestMetricsText : public QObject {
    Q_OBJECT
  private slots:
    void writesHelpAndTypeOncePerFamilyInOrder()
    {
        MetricsWriter w;
        w.family("b_bytes", MetricType::Gauge, "B.");
        w.sample({}, 1);
        w.family("a_total", MetricType::Counter, "A, with a \\ and a\nnewline.");
        w.sample({{"x", "1"}}, 2);
        w.family("b_bytes", MetricType::Gauge, "B.");
        w.sample({}, 3);
        w.family("empty", MetricType::Gauge, "Never sampled.");
        const std::string text = w.text();
        QCOMPARE(count(text, "# HELP b_bytes"), 1);
        QCOMPARE(count(text, "# TYPE b_bytes gauge"), 1);
        QCOMPARE(count(text, "# TYPE a_total counter"), 1);
        QVERIFY2(text.find("empty") == std::string::npos, text.c_str());
        QVERIFY(text.find("A, with a \\\\ and a\\nnewline.") != std::string::npos);
        // Family order is the order begun; samples of one family stay together.
        QVERIFY(text.find("b_bytes 1\nb_bytes 3\n") != std::string::npos);
        QVERIFY(text.find("b_bytes") < text.find("a_total"));
        QCOMPARE(text.back(), '\n');
        QCOMPARE(MetricsWriter().text(), std::string("\n"));
    }

    void writesSpecialValuesAndWholeNumbers()
    {
        MetricsWriter w;
        w.family("v", MetricType::Gauge, "values");
        w.sample({{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN());
        w.sample({{"k", "inf"}}, std::numeric_limits<double>::infinity());
        w.sample({{"k", "-inf"}}, -std::numeric_limits<double>::infinity());
        w.sample({{"k", "big"}}, 17179869184.0);
        w.sample({{"k", "frac"}}, 0.1);
        const std::string text = w.text();
        QVERIFY2(text.find("v{k=\"nan\"} NaN\n") != std::string::npos, text.c_str());
        QVERIFY(text.find("v{k=\"inf\"} +Inf\n") != std::string::npos);
        QVERIFY(text.find("v{k=\"-inf\"} -Inf\n") != std::string::npos);
        QVERIFY(text.find("v{k=\"big\"} 17179869184\n") != std::string::npos);
        const auto back = parsed(text);
        QCOMPARE(back.size(), std::size_t(5));
        QVERIFY(std::isnan(back[0].value));
        QCOMPARE(back[1].value, std::numeric_limits<double>::infinity());
        QCOMPARE(back[2].value, -std::numeric_limits<double>::infinity());
        QCOMPARE(back[3].value, 17179869184.0);
        QCOMPARE(back[4].value, 0.1);
    }

    void dropsInvalidNames()
    {
        MetricsWriter w;
        w.family("1bad", MetricType::Gauge, "starts with a digit");
        w.sample({}, 1);
        w.family("has-dash", MetricType::Gauge, "dash");
        w.sample({}, 1);
        w.family("good", MetricType::Gauge, "fine");
        w.sample({{"bad-label", "x"}}, 1);
        w.sample({{"__reserved", "x"}}, 2);
        w.sample({{"a", "1"}, {"a", "2"}}, 3);
        w.sample("other_family", {}, 4);
        w.sample({{"ok", "y"}}, 5);
        const std::string text = w.text();
        QVERIFY2(text.find("1bad") == std::string::npos, text.c_str());
        QVERIFY(text.find("has-dash") == std::string::npos);
        QVERIFY(text.find("bad-label") == std::string::npos);
        QVERIFY(text.find("__reserved") == std::string::npos);
        QVERIFY(text.find("other_family") == std::string::npos);
        QVERIFY(text.find("good{ok=\"y\"} 5\n") != std::string::npos);
        QCOMPARE(parsed(text).size(), std::size_t(1));
    }

    void escapesHostileLabelValues_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("readBack");
        QTest::newRow("quote and backslash") << QByteArray("a\"b\\c") << QByteArray("a\"b\\c");
        QTest::newRow("newline") << QByteArray("line1\nline2\"} 666\nfake 1")
                                 << QByteArray("line1?line2\"} 666?fake 1");
        QTest::newRow("escape sequence") << QByteArray("\x1b]0;owned\x07x") << QByteArray("?]0;owned?x");
        QTest::newRow("invalid UTF-8") << QByteArray("caf\xE9 \xC0\xAF") << QByteArray("caf? ??");
        QTest::newRow("valid UTF-8 kept")
            << QByteArray("caf\xC3\xA9 \xF0\x9F\xA6\x80") << QByteArray("caf\xC3\xA9 \xF0\x9F\xA6\x80");
        QTest::newRow("backslash n literally") << QByteArray("a\\nb") << QByteArray("a\\nb");
    }
    void escapesHostileLabelValues()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, readBack);
        MetricsWriter w;
        w.family("m", MetricType::Gauge, "hostile");
        w.sample({{"v", value.toStdString()}, {"after", "z"}}, 7);
        const std::string text = w.text();
        // One sample line, whatever the value holds.
        QCOMPARE(count(text, "\n"), 3);
        const auto back = parsed(text);
        QCOMPARE(back.size(), std::size_t(1));
        QCOMPARE(QByteArray::fromStdString(std::string(back[0].label("v"))), readBack);
        QCOMPARE(back[0].label("after"), std::string_view("z"));
        QCOMPARE(back[0].value, 7.0);
    }

    void cutsLongValuesOnACharacterBoundary()
    {
        std::string value;
        while (value.size() < 300)
            value += "\xC3\xA9"; // é, two bytes
        MetricsWriter w;
        w.family("m", MetricType::Gauge, "long");
        w.sample({{"v", value}}, 1);
        w.sample({{"v", std::string(256, 'x')}}, 2);
        const auto back = parsed(w.text());
        QCOMPARE(back.size(), std::size_t(2));
        const std::string_view cut = back[0].label("v");
        QVERIFY(cut.ends_with("\xE2\x80\xA6"));
        QVERIFY(cut.size() <= MetricsWriter::kMaxLabelValueBytes + 3);
        const std::string_view body = cut.substr(0, cut.size() - 3);
        QCOMPARE(body.size() % 2, std::size_t(0)); // whole characters only
        QVERIFY(body.size() >= MetricsWriter::kMaxLabelValueBytes - 1);
        QCOMPARE(std::string(body), value.substr(0, body.size()));
        QCOMPARE(back[1].label("v"), std::string_view(std::string(256, 'x'))); // exactly the limit: kept
    }

    void parsesTheFormat()
    {
        const std::string text = "# HELP x_total Things.\n"
                                 "# TYPE x_total counter\n"
                                 "# any comment\n"
                                 "\n"
                                 "x_total{a=\"1\",b=\"q\\\"u\\\\o\\nte\",} 3 1700000000000\r\n"
                                 "  y 1.5e3\n"
                                 "z\t{ c = \"\" }\t-2.25\n"
                                 "w{} NaN\n"
                                 "colon:name +Inf -5";
        const auto back = parsed(text);
        QCOMPARE(back.size(), std::size_t(5));
        QCOMPARE(back[0].name, std::string("x_total"));
        QCOMPARE(back[0].labels.size(), std::size_t(2));
        QCOMPARE(back[0].label("b"), std::string_view("q\"u\\o\nte"));
        QCOMPARE(back[0].value, 3.0);
        QCOMPARE(back[0].timestampMs.value_or(0), std::int64_t(1700000000000));
        QCOMPARE(back[1].value, 1500.0);
        QVERIFY(!back[1].timestampMs);
        QCOMPARE(back[2].label("c"), std::string_view(""));
        QCOMPARE(back[2].value, -2.25);
        QVERIFY(std::isnan(back[3].value));
        QCOMPARE(back[4].name, std::string("colon:name"));
        QCOMPARE(back[4].timestampMs.value_or(0), std::int64_t(-5));
    }

    void refusesMalformedLines_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("html") << QByteArray("\n  <!DOCTYPE html><html><body>Sign in</body></html>")
                              << "line 2: this is an HTML page";
        QTest::newRow("json") << QByteArray("{\"status\":\"success\"}") << "line 1: expected a metric name";
        QTest::newRow("no value") << QByteArray("a 1\nb\n") << "line 2: expected a space and a value";
        QTest::newRow("bad value") << QByteArray("a 1\nb 0x10\n") << "line 2: \"0x10\" is not a number";
        QTest::newRow("out of range") << QByteArray("a 1e400\n") << "line 1: \"1e400\" is not a number";
        QTest::newRow("bad timestamp") << QByteArray("a 1 soon\n") << "line 1: \"soon\" is not a timestamp";
        QTest::newRow("trailing") << QByteArray("a 1 2 3\n") << "line 1: unexpected \"3\"";
        QTest::newRow("unquoted") << QByteArray("a{b=c} 1\n") << "line 1: the value of label b is not quoted";
        QTest::newRow("unclosed") << QByteArray("a{b=\"c} 1\n")
                                  << "line 1: the value of label b has no closing quote";
        QTest::newRow("bad escape") << QByteArray("a{b=\"\\t\"} 1\n")
                                    << "line 1: the value of label b has an unknown escape";
        QTest::newRow("twice") << QByteArray("a{b=\"1\",b=\"2\"} 1\n") << "line 1: label b is given twice";
        QTest::newRow("no comma") << QByteArray("a{b=\"1\" c=\"2\"} 1\n") << "line 1: expected , or }";
        QTest::newRow("binary") << QByteArray("\x00\x01\x02", 3) << "line 1: expected a metric name";
    }
    void refusesMalformedLines()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        const auto result = parseMetricsText(std::string_view(text.constData(), std::size_t(text.size())));
        QVERIFY(!result);
        QVERIFY2(QString::fromStdString(result.error()).startsWith(expected), result.error().c_str());
    }

    void keepsWithinLimits()
    {
        MetricsParseLimits limits;
        limits.maxBytes = 1000;
        limits.maxSamples = 3;
        limits.maxLabelsPerSample = 2;
        const auto huge = parseMetricsText(std::string(1001, '#'), limits);
        QVERIFY(!huge);
        QVERIFY2(huge.error().find("1001 bytes") != std::string::npos, huge.error().c_str());
        QVERIFY(parseMetricsText(std::string(1000, '#'), limits));
        const auto many = parseMetricsText("a 1\nb 2\nc 3\nd 4\n", limits);
        QVERIFY(!many);
        QVERIFY2(many.error().starts_with("line 4: more than 3 samples"), many.error().c_str());
        QVERIFY(parseMetricsText("a 1\nb 2\nc 3\n", limits));
        const auto labels = parseMetricsText("a{x=\"1\",y=\"2\",z=\"3\"} 1\n", limits);
        QVERIFY(!labels);
        QVERIFY2(labels.error().find("more than 2 labels") != std::string::npos, labels.error().c_str());

        // The default limits: 20 MiB of junk is refused before it is read.
        const std::string junk(20u << 20, 'x');
        QElapsedTimer timer;
        timer.start();
        QVERIFY(!parseMetricsText(junk));
        QVERIFY(timer.elapsed() < 1000);
    }

    void parsesALargeExpositionQuickly()
    {
        MetricsWriter w;
        w.family("headroom_series_bytes", MetricType::Gauge, "many");
        for (int i = 0; i < 20000; ++i)
            w.sample(
                {{"build", std::to_string(i)}, {"workspace", "/home/user/projects/p" + std::to_string(i)}},
                double(i) * 1024.0);
        const std::string text = w.text();
        QElapsedTimer timer;
        timer.start();
        const auto back = parseMetricsText(text);
        const qint64 ms = timer.elapsed();
        QVERIFY(back);
        QCOMPARE(back->size(), std::size_t(20000));
        QCOMPARE(back->back().value, 19999.0 * 1024.0);
        qInfo("20000 samples, %zu bytes, parsed in %lld ms", text.size(), ms);
    }

    void survivesMangledText()
    {
        // Every prefix and thousands of random byte changes of a real
        // exposition: each parses or fails in words, none crashes or hangs.
        MetricsWriter w;
        w.family("headroom_build_resident_bytes", MetricType::Gauge, "help");
        w.sample({{"build", "0a1b2c3d"}, {"workspace", "/home/u/a \"b\" \\c"}}, 1.5e9);
        w.family("headroom_build_outcomes_total", MetricType::Counter, "help");
        w.sample({{"preset", "A"}, {"verdict", "succeeded"}}, 3);
        const std::string text = w.text() + "x{a=\"\\n\"} -Inf 123\n";
        QVERIFY(parseMetricsText(text));
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            const auto r = parseMetricsText(std::string_view(text).substr(0, cut));
            QVERIFY(r || !r.error().empty());
        }
        QRandomGenerator random(20261203);
        int failures = 0;
        for (int round = 0; round < 5000; ++round) {
            std::string mangled = text;
            for (int k = 0, n = 1 + int(random.bounded(4)); k < n; ++k)
                mangled[random.bounded(quint32(mangled.size()))] = char(random.bounded(256));
            const auto r = parseMetricsText(mangled);
            if (!r) {
                ++failures;
                QVERIFY(r.error().starts_with("line ") || r.error().find("bytes") != std::string::npos);
            }
        }
        QVERIFY(failures > 0); // the mangling did reach the parser
    }

    void contentType()
    {
        QCOMPARE(metricsContentType(), std::string_view("text/plain; version=0.0.4; charset=utf-8"));
    }
};

QTEST_GUILESS_MAIN(TestMetricsText)
#include "TestMetricsText.moc"
