// SPDX-License-Identifier: GPL-3.0-or-later
// `headroom export` as Prometheus and node_exporter see it: the real
// exporter, a real Prometheus scraping it every second, a real node_exporter
// reading its textfile, and hostile clients at its door.
#include "headroom/JobPool.h"
#include "headroom/LearnedPeaks.h"
#include "headroom/MachineMetrics.h"
#include "headroom/Platform.h"
#include "headroom/RunsFolder.h"
#include "support/LocalServers.h"

#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUrlQuery>
#include <QtTest>

#include <filesystem>
#include <sys/stat.h>

using namespace headroom;
using headroom::test::stopProcess;

namespace {

QByteArray readLog(const QString& file)
{
    QFile f(file);
    return f.open(QIODevice::ReadOnly) ? f.read(4000) : QByteArray();
}

const QString kPromtool = QStringLiteral("/usr/bin/promtool");
const QString kNodeExporter = QStringLiteral("/usr/bin/prometheus-node-exporter");

struct HttpReply {
    int status = 0; // 0: no answer at all
    QByteArray head;
    QByteArray body;
    bool closed = false; // the server closed the connection
};

HttpReply parseReply(const QByteArray& raw)
{
    HttpReply r;
    const int split = raw.indexOf("\r\n\r\n");
    r.head = split < 0 ? raw : raw.left(split);
    r.body = split < 0 ? QByteArray() : raw.mid(split + 4);
    const QList<QByteArray> words = r.head.split(' ');
    if (words.size() >= 2 && words[0].startsWith("HTTP/1."))
        r.status = words[1].toInt();
    return r;
}

// Sends `request` as it is and reads until the server closes.
HttpReply exchange(quint16 port, const QByteArray& request, int timeoutMs = 5000,
                   const QHostAddress& host = QHostAddress(QHostAddress::LocalHost))
{
    QTcpSocket socket;
    socket.connectToHost(host, port);
    if (!socket.waitForConnected(timeoutMs))
        return {};
    socket.write(request);
    socket.flush();
    QByteArray raw;
    QElapsedTimer timer;
    timer.start();
    while (socket.state() == QAbstractSocket::ConnectedState && timer.elapsed() < timeoutMs) {
        socket.waitForReadyRead(100);
        raw += socket.readAll();
    }
    raw += socket.readAll();
    HttpReply r = parseReply(raw);
    r.closed = socket.state() != QAbstractSocket::ConnectedState;
    return r;
}

HttpReply get(quint16 port, const QByteArray& target, int timeoutMs = 5000)
{
    return exchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeoutMs);
}

// Prometheus and node_exporter (Go): HTTP/1.0, so that they close after the
// answer and send it whole, not chunked.
HttpReply getFromGo(quint16 port, const QByteArray& target, int timeoutMs = 3000)
{
    return exchange(port, "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", timeoutMs);
}

QByteArray headerValue(const QByteArray& head, const QByteArray& name)
{
    for (const QByteArray& line : head.split('\n'))
        if (line.toLower().startsWith(name.toLower() + ":"))
            return line.mid(name.size() + 1).trimmed();
    return {};
}

} // namespace

class TestMetricsExport : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    quint16 exporterPort_ = 0;
    QProcess exporter_;
    QProcess prometheus_;
    quint16 prometheusPort_ = 0;
    QProcessEnvironment env_;

    QString path(const QString& name) const { return dir_.filePath(name); }

    bool startExporter(QProcess& p, const QStringList& args)
    {
        p.setProcessEnvironment(env_);
        p.start(QStringLiteral(HEADROOM_CLI_BIN), QStringList{"export"} + args);
        return p.waitForStarted(3000);
    }

    // A finished run and a learned peak, so outcomes and peaks have something to say.
    void prepareData()
    {
        RunStatus run;
        run.spec.id = "20261203-oom-1";
        run.spec.preset = BuildPreset::Adaptive;
        run.spec.project = "/home/u/tsz";
        run.state = RunState::Finished;
        BuildDiagnosis diagnosis;
        diagnosis.verdict = BuildVerdict::OutOfMemory;
        run.diagnosis = diagnosis;
        QVERIFY(writeStatusAtomically(RunFiles::of(path("runs").toStdString(), run.spec.id).status, run));
        LearnedPeaks peaks;
        peaks.record("/home/u/tsz", "tsz_checker", 1536ull << 20, 1764750000000);
        QVERIFY(peaks.save(path("peaks.json").toStdString()));
    }

    QElapsedTimer testTimer_;

  private slots:
    void init() { testTimer_.start(); }
    void cleanup() { qInfo("%lld ms", testTimer_.elapsed()); }

    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        env_ = QProcessEnvironment::systemEnvironment();
        env_.insert("HEADROOM_RUNS_DIR", path("runs"));
        env_.insert("HEADROOM_POOL_DIR", path("pool"));
        env_.insert("HEADROOM_PEAKS_FILE", path("peaks.json"));
        prepareData();

        exporterPort_ = test::freeLoopbackPort();
        QVERIFY(exporterPort_ != 0);
        QVERIFY(startExporter(exporter_, {"--listen", QString("127.0.0.1:%1").arg(exporterPort_)}));
        QByteArray said;
        QTRY_VERIFY2_WITH_TIMEOUT((said += exporter_.readAllStandardOutput()).contains("Serving metrics on"),
                                  exporter_.readAllStandardError().constData(), 3000);

        // Prometheus boots while the other tests run; it scrapes every second.
        if (QFile::exists(test::kPrometheusBinary)) {
            prometheusPort_ = test::freeLoopbackPort();
            QString why;
            QVERIFY2(test::startPrometheus(prometheus_, dir_.path(),
                                           QString("127.0.0.1:%1").arg(exporterPort_), prometheusPort_, &why),
                     qPrintable(why));
        }
    }

    void cleanupTestCase()
    {
        stopProcess(prometheus_);
        if (exporter_.state() != QProcess::NotRunning) {
            // SIGTERM, as systemd stops the unit: a clean exit, code 0.
            exporter_.terminate();
            QVERIFY(exporter_.waitForFinished(3000));
            QCOMPARE(exporter_.exitStatus(), QProcess::NormalExit);
            QCOMPARE(exporter_.exitCode(), 0);
        }
    }

    void servesMetrics()
    {
        const HttpReply reply = get(exporterPort_, "/metrics");
        QCOMPARE(reply.status, 200);
        QCOMPARE(headerValue(reply.head, "Content-Type"), QByteArray(metricsContentType().data()));
        QCOMPARE(headerValue(reply.head, "Connection"), QByteArray("close"));
        QCOMPARE(headerValue(reply.head, "Content-Length").toLongLong(), qint64(reply.body.size()));
        const auto samples = parseMetricsText(reply.body.toStdString());
        QVERIFY2(samples, samples.error().c_str());
        const auto view = machineViewFromSamples(samples.value());
        QVERIFY2(view, view.error().c_str());
        QVERIFY(view->snapshot.memory.total > 0);
        QCOMPARE(QString::fromStdString(view->hostname), QHostInfo::localHostName());
        QCOMPARE(view->outcomes.size(), std::size_t(1));
        QCOMPARE(view->outcomes[0].verdict, std::string("out-of-memory"));
        QCOMPARE(view->outcomes[0].preset, std::string("adaptive"));
        QCOMPARE(view->outcomes[0].count, std::uint64_t(1));
        QCOMPARE(view->peaks.size(), std::size_t(1));
        QCOMPARE(view->peaks[0].bytes, std::uint64_t(1536ull << 20));
        QVERIFY(!view->pool); // no pool folder
        QVERIFY(!reply.body.contains("pid"));

        // promtool, Prometheus's own checker, accepts the scrape.
        if (QFile::exists(kPromtool)) {
            QProcess promtool;
            promtool.setProcessChannelMode(QProcess::MergedChannels);
            promtool.start(kPromtool, {"check", "metrics"});
            QVERIFY(promtool.waitForStarted(3000));
            promtool.write(reply.body);
            promtool.closeWriteChannel();
            QVERIFY(promtool.waitForFinished(5000));
            QVERIFY2(promtool.exitCode() == 0, promtool.readAll().constData());
        }

        const HttpReply root = get(exporterPort_, "/");
        QCOMPARE(root.status, 200);
        QVERIFY(root.body.contains("/metrics"));
        QVERIFY(!root.body.contains("<"));
        QCOMPARE(get(exporterPort_, "/nothing").status, 404);
        const HttpReply head = exchange(exporterPort_, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(head.status, 200);
        QVERIFY(head.body.isEmpty());
    }

    void countsOutcomesAndReadsThePool()
    {
        const auto scrape = [this] {
            const auto samples = parseMetricsText(get(exporterPort_, "/metrics").body.toStdString());
            return samples ? machineViewFromSamples(samples.value())
                           : Result<MachineView>::failure(samples.error());
        };
        const auto count = [](const MachineView& v, const std::string& verdict) {
            for (const BuildOutcomeCount& c : v.outcomes)
                if (c.verdict == verdict)
                    return c.count;
            return std::uint64_t(0);
        };
        // The runs folder keeps only the latest runs: a pruned run stays counted.
        QVERIFY(QFile::remove(path("runs/20261203-oom-1.json")));
        RunStatus run;
        run.spec.id = "20261203-ok-2";
        run.spec.preset = BuildPreset::A;
        run.state = RunState::Finished;
        run.diagnosis = BuildDiagnosis{};
        run.diagnosis->verdict = BuildVerdict::Succeeded;
        QVERIFY(writeStatusAtomically(RunFiles::of(path("runs").toStdString(), run.spec.id).status, run));
        auto view = scrape();
        QVERIFY2(view, view.error().c_str());
        QCOMPARE(count(view.value(), "out-of-memory"), std::uint64_t(1));
        QCOMPARE(count(view.value(), "succeeded"), std::uint64_t(1));
        view = scrape(); // counted once, however often it is scraped
        QCOMPARE(count(view.value(), "succeeded"), std::uint64_t(1));

        // A build joins the job pool (this test is its supervisor, alive).
        const auto self = platform::identify(platform::currentPid());
        QVERIFY(self);
        const JobPool pool(path("pool").toStdString());
        QVERIFY(pool.prepare());
        const auto joined = pool.update([&self](PoolState& state) {
            state.cpus = 4;
            PoolMember m;
            m.runId = "20261203-ok-3";
            m.supervisor = self->key;
            m.granted = 2;
            m.inUse = 1;
            m.jobs = 2;
            m.heldBack = "the next crate does not fit";
            state.members.push_back(m);
        });
        QVERIFY2(joined, joined.error().c_str());
        view = scrape();
        QVERIFY(view->pool);
        QCOMPARE(view->pool->granted, 2u);
        QCOMPARE(view->pool->inUse, 1u);
        QCOMPARE(view->pool->capacity, 3u);
        QCOMPARE(view->pool->builds, 1u);
        QCOMPARE(view->pool->jobs, 2u);
        QCOMPARE(view->pool->heldBack, 1u);
        QCOMPARE(view->pool->budgetBytes, view->snapshot.budget.availableBytes);
        QVERIFY(view->pool->reserveBytes > 0);
    }

    void refusesBadRequests()
    {
        // A client that sends half a request and stalls: closed after 5 s,
        // and everyone else is served meanwhile.
        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, exporterPort_);
        QVERIFY(slow.waitForConnected(2000));
        slow.write("GET /metr");
        slow.flush();
        QElapsedTimer slowTimer;
        slowTimer.start();

        QByteArray big =
            "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + QByteArray(9000, 'a') + "\r\n\r\n";
        QCOMPARE(exchange(exporterPort_, big).status, 431);
        const HttpReply post =
            exchange(exporterPort_, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        QCOMPARE(post.status, 405);
        QCOMPARE(headerValue(post.head, "Allow"), QByteArray("GET, HEAD"));
        QCOMPARE(exchange(exporterPort_, "\x16\x03\x01 \x02\x01\xfc\r\n\r\n").status, 400); // TLS, not HTTP
        QCOMPARE(exchange(exporterPort_, "GET http://x/metrics HTTP/1.1\r\n\r\n").status, 400);
        QCOMPARE(exchange(exporterPort_, "GET /metrics SPDY/3\r\n\r\n").status, 400);
        QElapsedTimer others;
        others.start();
        QCOMPARE(get(exporterPort_, "/metrics").status, 200);
        QVERIFY2(others.elapsed() < 2000, "a stalled client held up another");
        QVERIFY(slow.state() == QAbstractSocket::ConnectedState);

        // Stalled clients hold every connection thread (16, the slow one
        // included): the next is told to come back (503) at once instead of
        // waiting in a queue. A stalled client turned away because another
        // (a scrape of Prometheus) held a thread then does not count.
        std::vector<std::unique_ptr<QTcpSocket>> more;
        int held = 1;
        for (int i = 0; i < 40 && held < 16; ++i) {
            more.push_back(std::make_unique<QTcpSocket>());
            QTcpSocket& socket = *more.back();
            socket.connectToHost(QHostAddress::LocalHost, exporterPort_);
            QVERIFY(socket.waitForConnected(2000));
            socket.write("GET / HTTP/1.1\r\n");
            socket.flush();
            if (!socket.waitForReadyRead(100))
                ++held; // no answer: it holds its thread
        }
        QCOMPARE(held, 16);
        others.restart();
        const HttpReply busy = get(exporterPort_, "/metrics");
        QCOMPARE(busy.status, 503);
        QVERIFY(others.elapsed() < 2000);

        QByteArray answer;
        while (slow.state() == QAbstractSocket::ConnectedState && slowTimer.elapsed() < 8000) {
            slow.waitForReadyRead(100);
            answer += slow.readAll();
        }
        answer += slow.readAll();
        const qint64 waited = slowTimer.elapsed();
        QVERIFY2(slow.state() != QAbstractSocket::ConnectedState, "the stalled client was never let go");
        QVERIFY2(waited >= 4500 && waited < 7000, qPrintable(QString::number(waited)));
        QCOMPARE(parseReply(answer).status, 408);
        for (const auto& socket : more) {
            if (socket->state() == QAbstractSocket::ConnectedState)
                socket->waitForDisconnected(2000);
            const int status = parseReply(socket->readAll()).status;
            QVERIFY2(status == 408 || status == 503, qPrintable(QString::number(status)));
        }
        // Their threads are free again.
        QTRY_COMPARE_WITH_TIMEOUT(get(exporterPort_, "/").status, 200, 2000);
    }

    void refusesAPortInUse()
    {
        QProcess second;
        second.setProcessChannelMode(QProcess::MergedChannels);
        QVERIFY(startExporter(second, {"--listen", QString("127.0.0.1:%1").arg(exporterPort_)}));
        QVERIFY(second.waitForFinished(5000));
        QVERIFY(second.exitCode() != 0);
        QVERIFY2(second.readAll().contains("in use"), "no word of the port in use");
        QCOMPARE(exporter_.state(), QProcess::Running);
    }

    void prometheusScrapesIt()
    {
        if (!QFile::exists(test::kPrometheusBinary))
            QSKIP("Prometheus is not installed (/usr/bin/prometheus); scripts/dev.sh installs it");
        QCOMPARE(prometheus_.state(), QProcess::Running);
        const std::string served = get(exporterPort_, "/metrics").body.toStdString();
        const auto servedView = machineViewFromSamples(parseMetricsText(served).value()).value();

        const QString instance = QString("127.0.0.1:%1").arg(exporterPort_);
        const auto query = [this](const QString& promql) {
            QUrlQuery q;
            q.addQueryItem("query", promql);
            const QByteArray target =
                "/api/v1/query?" + q.query(QUrl::FullyEncoded).toUtf8().replace("+", "%2B");
            const HttpReply reply = getFromGo(prometheusPort_, target);
            return QJsonDocument::fromJson(reply.body).object()["data"].toObject()["result"].toArray();
        };
        // Prometheus has scraped it a few times, and the last scrape went
        // through (the busy test above turned some away with 503).
        const auto number = [](const QJsonArray& result) {
            return result.isEmpty() ? -1.0 : result[0].toObject()["value"].toArray()[1].toString().toDouble();
        };
        const QString good = QString("sum_over_time(up{instance=\"%1\"}[1m])").arg(instance);
        const QString up = QString("up{instance=\"%1\"}").arg(instance);
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 10000 && !(number(query(good)) >= 3 && number(query(up)) == 1))
            QTest::qWait(200);
        QVERIFY2(number(query(good)) >= 3, readLog(path("prometheus.log")).constData());
        QCOMPARE(number(query(up)), 1.0);

        const QJsonArray total = query(QString("headroom_memory_total_bytes{instance=\"%1\"}").arg(instance));
        QCOMPARE(total.size(), 1);
        QCOMPARE(total[0].toObject()["value"].toArray()[1].toString().toULongLong(),
                 quint64(servedView.snapshot.memory.total));
        const QJsonArray info = query(QString("headroom_info{instance=\"%1\"}").arg(instance));
        QCOMPARE(info.size(), 1);
        QCOMPARE(info[0].toObject()["metric"].toObject()["hostname"].toString(),
                 QString::fromStdString(servedView.hostname));

        // Everything of the instance, read back as the window reads a machine.
        std::vector<MetricSample> samples;
        for (const QJsonValue& one :
             query(QString("{__name__=~\"headroom_.+\",instance=\"%1\"}").arg(instance))) {
            MetricSample s;
            const QJsonObject metric = one.toObject()["metric"].toObject();
            for (auto it = metric.begin(); it != metric.end(); ++it) {
                if (it.key() == "__name__")
                    s.name = it.value().toString().toStdString();
                else
                    s.labels.emplace_back(it.key().toStdString(), it.value().toString().toStdString());
            }
            s.value = one.toObject()["value"].toArray()[1].toString().toDouble();
            samples.push_back(std::move(s));
        }
        const auto view = machineViewFromSamples(samples);
        QVERIFY2(view, (view.error() + " " + std::to_string(samples.size())).c_str());
        QCOMPARE(view->snapshot.memory.total, servedView.snapshot.memory.total);
        QCOMPARE(view->hostname, servedView.hostname);
        QCOMPARE(view->outcomes.size(), servedView.outcomes.size());
        QCOMPARE(view->outcomes[0].count, servedView.outcomes[0].count);
        QCOMPARE(view->peaks.size(), std::size_t(1));
        QVERIFY(view->pool);
        QCOMPARE(view->pool->granted, servedView.pool->granted);
    }

    void nodeExporterReadsTheTextfile()
    {
        if (!QFile::exists(kNodeExporter))
            QSKIP("node_exporter is not installed (/usr/bin/prometheus-node-exporter)");
        const QString textDir = path("textfile");

        QProcess missing;
        missing.setProcessChannelMode(QProcess::MergedChannels);
        QVERIFY(startExporter(missing, {"--textfile", textDir}));
        QVERIFY(missing.waitForFinished(5000));
        QVERIFY(missing.exitCode() != 0);
        QVERIFY2(missing.readAll().contains("does not exist"), "no word of the missing folder");

        QVERIFY(QDir().mkpath(textDir));
        ::umask(0077); // whatever the umask, node_exporter (another user) must read the file
        QProcess writer;
        writer.setProcessChannelMode(QProcess::MergedChannels);
        QVERIFY(startExporter(writer, {"--textfile", textDir, "--every", "1"}));
        ::umask(0022);
        const QString file = textDir + "/headroom.prom";
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(file), 3000);
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(file).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0644);

        QProcess node;
        node.setProcessChannelMode(QProcess::MergedChannels);
        const quint16 port = test::freeLoopbackPort();
        node.start(kNodeExporter, {"--collector.disable-defaults", "--collector.textfile",
                                   "--collector.textfile.directory=" + textDir,
                                   QString("--web.listen-address=127.0.0.1:%1").arg(port)});
        QVERIFY(node.waitForStarted(3000));
        HttpReply reply;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 5000 && reply.status != 200) {
            reply = getFromGo(port, "/metrics");
            if (reply.status != 200)
                QTest::qWait(100);
        }
        stopProcess(node);
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.body.contains("\nheadroom_memory_total_bytes "));
        QVERIFY(reply.body.contains("\nheadroom_info{"));
        QVERIFY(reply.body.contains("\nheadroom_build_outcomes_total{"));
        QVERIFY2(reply.body.contains("\nnode_textfile_scrape_error 0"), "node_exporter could not read it");

        // --every rewrites it; SIGTERM ends the writer cleanly.
        const QDateTime first = QFileInfo(file).lastModified();
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(file).lastModified() > first, 3000);
        writer.terminate();
        QVERIFY(writer.waitForFinished(3000));
        QCOMPARE(writer.exitCode(), 0);
        // Nothing left behind but the file itself.
        QCOMPARE(QDir(textDir).entryList(QDir::Files), QStringList{"headroom.prom"});
    }

    void servesIPv6()
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHostIPv6, 0))
            QSKIP("this machine has no IPv6 loopback");
        probe.close();
        QProcess v6;
        QVERIFY(startExporter(v6, {"--listen", "[::1]:0"}));
        QByteArray said;
        QTRY_VERIFY_WITH_TIMEOUT((said += v6.readAllStandardOutput()).contains("/metrics"), 3000);
        // "Serving metrics on http://[::1]:PORT/metrics": port 0 asks for a free one.
        const QByteArray address = said.mid(said.indexOf("[::1]:") + 6);
        const quint16 port = quint16(address.left(address.indexOf('/')).toUInt());
        QVERIFY2(port != 0, said.constData());
        const HttpReply reply = exchange(port, "GET /metrics HTTP/1.1\r\nHost: [::1]\r\n\r\n", 5000,
                                         QHostAddress(QHostAddress::LocalHostIPv6));
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.body.contains("headroom_memory_total_bytes"));
        // Loopback only: not on the IPv4 side.
        QCOMPARE(exchange(port, "GET / HTTP/1.1\r\n\r\n", 500).status, 0);
        stopProcess(v6);
        QCOMPARE(v6.exitCode(), 0);
    }

    void printsOnce()
    {
        QProcess once;
        QVERIFY(startExporter(once, {"--once"}));
        QVERIFY(once.waitForFinished(5000));
        QCOMPARE(once.exitCode(), 0);
        const QByteArray text = once.readAllStandardOutput();
        QVERIFY(text.startsWith("# HELP headroom_memory_total_bytes"));
        QVERIFY(parseMetricsText(text.toStdString()));

        QProcess both;
        QVERIFY(startExporter(both, {"--once", "--textfile", path(".")}));
        QVERIFY(both.waitForFinished(5000));
        QCOMPARE(both.exitCode(), 2);
        QProcess bad;
        bad.setProcessChannelMode(QProcess::MergedChannels);
        QVERIFY(startExporter(bad, {"--listen", "::1:9464"}));
        QVERIFY(bad.waitForFinished(5000));
        QCOMPARE(bad.exitCode(), 2);
        QVERIFY(bad.readAll().contains("brackets"));
    }
};

QTEST_GUILESS_MAIN(TestMetricsExport)
#include "TestMetricsExport.moc"
