// SPDX-License-Identifier: GPL-3.0-or-later
// The remote machines service against real HTTP servers made here, on
// 127.0.0.1: a Headroom exporter's text, HTML, 20 MiB of junk, malformed
// metrics, a server that never answers, a closed port, basic auth with the
// password from a file credential store, Prometheus's JSON API, the backoff,
// and stopping at once (a removed machine, the object destroyed mid-request).
#include "headroom/MachineMetrics.h"
#include "headroom/PrometheusApi.h"
#include "services/remote/CredentialStore.h"
#include "services/remote/RemoteMachines.h"
#include "support/LocalServers.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrlQuery>
#include <QtTest>

#include <functional>

using namespace headroom;
using namespace headroom::services;

namespace {

struct HttpRequest {
    QByteArray method;
    QByteArray target;                     // path and query, as sent
    QHash<QByteArray, QByteArray> headers; // lower-case names
};

struct HttpReply {
    int status = 200;
    QByteArray contentType = "text/plain; version=0.0.4";
    QByteArray body;
    bool silent = false;   // accept, read, never answer
    qint64 junkBytes = 0;  // instead of the body: this many bytes of junk, with no Content-Length
    qint64 announced = -1; // a Content-Length to claim instead of the body's; the connection then stays open
    QByteArray location;   // a redirect's target
    bool trickle = false;  // the body one byte every 50 ms
};

// A small HTTP/1.1 server: one request per connection, then it closes.
class HttpServer : public QObject {
  public:
    using Handler = std::function<HttpReply(const HttpRequest&)>;

    explicit HttpServer(Handler handler, quint16 port = 0) : HttpServer(std::move(handler), port, nullptr) {}

    // HTTPS with this certificate and key (PEM files).
    static std::unique_ptr<HttpServer> tls(Handler handler, const QString& certFile, const QString& keyFile)
    {
        QFile cert(certFile);
        QFile key(keyFile);
        if (!cert.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly))
            return nullptr;
        auto server = std::make_unique<QSslServer>();
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(QSslCertificate(cert.readAll(), QSsl::Pem));
        config.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem));
        config.setPeerVerifyMode(QSslSocket::VerifyNone);
        server->setSslConfiguration(config);
        return std::unique_ptr<HttpServer>(new HttpServer(std::move(handler), 0, std::move(server)));
    }

    bool listening() const { return listening_; }
    quint16 port() const { return server_->serverPort(); }
    QString url(const QString& path = {}) const
    {
        return QStringLiteral("%1://127.0.0.1:%2%3").arg(scheme_).arg(port()).arg(path);
    }
    QList<HttpRequest> requests;
    int disconnectedEarly = 0; // connections the client closed before the whole answer was sent

  private:
    HttpServer(Handler handler, quint16 port, std::unique_ptr<QTcpServer> server)
        : handler_(std::move(handler)), server_(server ? std::move(server) : std::make_unique<QTcpServer>()),
          scheme_(qobject_cast<QSslServer*>(server_.get()) ? QStringLiteral("https") : QStringLiteral("http"))
    {
        listening_ = server_->listen(QHostAddress::LocalHost, port);
        // After the TLS handshake, for HTTPS.
        connect(server_.get(), &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket* socket = server_->nextPendingConnection())
                serve(socket);
        });
    }

    void serve(QTcpSocket* socket)
    {
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            HttpRequest request;
            const QList<QByteArray> lines = buffer->left(end).split('\n');
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            request.method = first.value(0);
            request.target = first.value(1);
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    request.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                           lines[i].mid(colon + 1).trimmed());
            }
            buffer->clear();
            requests << request;
            const HttpReply reply = handler_(request);
            if (reply.silent)
                return;
            QByteArray head = "HTTP/1.1 " + QByteArray::number(reply.status) +
                              " Whatever\r\nContent-Type: " + reply.contentType + "\r\nConnection: close\r\n";
            if (!reply.junkBytes)
                head += "Content-Length: " +
                        QByteArray::number(reply.announced >= 0 ? reply.announced : reply.body.size()) +
                        "\r\n";
            if (reply.status == 401)
                head += "WWW-Authenticate: Basic realm=\"test\"\r\n";
            if (!reply.location.isEmpty())
                head += "Location: " + reply.location + "\r\n";
            socket->write(head + "\r\n");
            if (reply.junkBytes) {
                const QByteArray chunk(1 << 20, 'j');
                for (qint64 sent = 0; sent < reply.junkBytes; sent += chunk.size())
                    socket->write(chunk);
                auto written = std::make_shared<qint64>(-qint64(head.size() + 2));
                connect(socket, &QTcpSocket::bytesWritten, this, [written](qint64 n) { *written += n; });
                connect(socket, &QTcpSocket::disconnected, this, [this, written, total = reply.junkBytes] {
                    if (*written < total)
                        ++disconnectedEarly;
                });
            } else if (reply.trickle) {
                auto* timer = new QTimer(socket);
                auto left = std::make_shared<QByteArray>(reply.body);
                connect(timer, &QTimer::timeout, socket, [socket, left] {
                    if (!left->isEmpty()) {
                        socket->write(left->left(1));
                        left->remove(0, 1);
                    }
                });
                timer->start(50);
                return;
            } else {
                socket->write(reply.body);
            }
            if (reply.announced < 0)
                socket->disconnectFromHost();
        });
    }

    Handler handler_;
    std::unique_ptr<QTcpServer> server_;
    QString scheme_;
    bool listening_ = false;
};

std::string exporterText(std::uint64_t usedBytes = 6ull << 30)
{
    Snapshot snapshot;
    snapshot.wallMs = QDateTime::currentMSecsSinceEpoch();
    snapshot.memory.total = 16ull << 30;
    snapshot.memory.used = usedBytes;
    snapshot.memory.available = snapshot.memory.total - usedBytes;
    snapshot.memory.swapTotal = 2ull << 30;
    snapshot.memory.swapUsed = 1ull << 20;
    MachineMetricsInputs inputs;
    inputs.snapshot = &snapshot;
    inputs.level.level = PressureLevel::Normal;
    inputs.hostname = "buildbox";
    inputs.version = "9.9.9";
    return renderMachineMetrics(inputs);
}

HttpReply text(const std::string& body, int status = 200)
{
    HttpReply reply;
    reply.status = status;
    reply.body = QByteArray::fromStdString(body);
    return reply;
}

MachineEntry exporterEntry(const QString& id, const QString& url)
{
    MachineEntry entry;
    entry.id = id;
    entry.name = id;
    entry.kind = MachineEntry::Kind::Exporter;
    entry.url = url;
    return entry;
}

MachineEntry prometheusEntry(const QString& id, const QString& url, const QString& instance)
{
    MachineEntry entry;
    entry.id = id;
    entry.name = id;
    entry.kind = MachineEntry::Kind::Prometheus;
    entry.url = url;
    entry.instance = instance;
    return entry;
}

// The first state of `id` that satisfies `wanted`, waiting up to `ms`.
std::optional<MachineState> waitForState(QSignalSpy& spy, const QString& id,
                                         const std::function<bool(const MachineState&)>& wanted, int ms)
{
    QElapsedTimer timer;
    timer.start();
    qsizetype seen = 0;
    while (timer.elapsed() < ms) {
        for (; seen < spy.size(); ++seen) {
            const auto state = spy.at(seen).at(0).value<MachineState>();
            if (state.id == id && wanted(state))
                return state;
        }
        spy.wait(50);
    }
    return std::nullopt;
}

bool unreachable(const MachineState& s)
{
    return s.reach == MachineReach::Unreachable;
}
bool up(const MachineState& s)
{
    return s.reach == MachineReach::Up;
}

MachineViewPtr waitForView(QSignalSpy& spy, const QString& id, int ms)
{
    QElapsedTimer timer;
    timer.start();
    qsizetype seen = 0;
    while (timer.elapsed() < ms) {
        for (; seen < spy.size(); ++seen)
            if (spy.at(seen).at(0).toString() == id)
                return spy.at(seen).at(1).value<MachineViewPtr>();
        spy.wait(50);
    }
    return nullptr;
}

} // namespace

class TestRemoteMachines : public QObject {
    Q_OBJECT
  private slots:
    void exporterReadingArrives()
    {
        HttpServer server([](const HttpRequest& r) {
            return r.target == "/metrics" ? text(exporterText()) : text("not here", 404);
        });
        QVERIFY(server.listening());
        RemoteMachines remote(nullptr);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        remote.setMachines({exporterEntry(QStringLiteral("box"), server.url(QStringLiteral("/metrics")))});
        const MachineViewPtr view = waitForView(views, QStringLiteral("box"), 5000);
        QVERIFY(view);
        QCOMPARE(view->hostname, std::string("buildbox"));
        QCOMPARE(view->snapshot.memory.total, 16ull << 30);
        QCOMPARE(view->snapshot.memory.used, 6ull << 30);
        QVERIFY(view->snapshot.wallMs > 0);
        const auto state = waitForState(states, QStringLiteral("box"), up, 1000);
        QVERIFY(state);
        QVERIFY(state->error.isEmpty());
        QVERIFY(state->lastSeenMs > 0);
        QCOMPARE(remote.state(QStringLiteral("box")).reach, MachineReach::Up);
        QCOMPARE(server.requests.first().method, QByteArray("GET"));
        QVERIFY(server.requests.first().headers.value("accept").contains("text/plain"));
        QVERIFY(!server.requests.first().headers.contains("authorization"));

        // Its own readings are its history.
        remote.setInterval(1);
        QTRY_VERIFY_WITH_TIMEOUT(views.size() >= 2, 3000);
        QSignalSpy histories(&remote, &RemoteMachines::historyReady);
        remote.setShown(QStringLiteral("box"));
        QVERIFY(histories.wait(2000));
        const auto history = histories.first().at(1).value<MachineHistoryPtr>();
        QVERIFY(history);
        QVERIFY(history->size() >= 2);
        QVERIFY(history->front().wallMs <= history->back().wallMs);
        QCOMPARE(history->back().memory.used, 6ull << 30);
    }

    void failuresAreSaidInWords()
    {
        HttpServer html([](const HttpRequest&) {
            HttpReply reply = text("<!DOCTYPE html><html><body>Please sign in</body></html>");
            reply.contentType = "text/html";
            return reply;
        });
        HttpServer junk([](const HttpRequest&) {
            HttpReply reply;
            reply.junkBytes = 20ll << 20;
            return reply;
        });
        HttpServer announced([](const HttpRequest&) {
            HttpReply reply = text("# a start");
            reply.announced = 1ll << 30;
            return reply;
        });
        HttpServer malformed(
            [](const HttpRequest&) { return text("headroom_memory_used_bytes{role=\"x 12\n"); });
        HttpServer silent([](const HttpRequest&) {
            HttpReply reply;
            reply.silent = true;
            return reply;
        });
        HttpServer trickle([](const HttpRequest&) {
            HttpReply reply = text(exporterText());
            reply.trickle = true;
            return reply;
        });
        HttpServer missing([](const HttpRequest&) { return text("404 page not found\n", 404); });
        HttpServer notHeadroom([](const HttpRequest&) { return text("# TYPE up gauge\nup 1\n"); });
        const quint16 closedPort = test::freeLoopbackPort();
        QVERIFY(closedPort);

        RemoteMachines remote(nullptr);
        remote.setTimeout(0.5);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        QElapsedTimer timer;
        timer.start();
        remote.setMachines({
            prometheusEntry(QStringLiteral("html"), html.url(), QStringLiteral("b:9464")),
            exporterEntry(QStringLiteral("junk"), junk.url(QStringLiteral("/metrics"))),
            exporterEntry(QStringLiteral("announced"), announced.url(QStringLiteral("/metrics"))),
            exporterEntry(QStringLiteral("malformed"), malformed.url(QStringLiteral("/metrics"))),
            exporterEntry(QStringLiteral("silent"), silent.url(QStringLiteral("/metrics"))),
            exporterEntry(QStringLiteral("trickle"), trickle.url(QStringLiteral("/metrics"))),
            prometheusEntry(QStringLiteral("missing"), missing.url(QStringLiteral("/prom/")),
                            QStringLiteral("b")),
            exporterEntry(QStringLiteral("not-headroom"), notHeadroom.url(QStringLiteral("/metrics"))),
            exporterEntry(QStringLiteral("closed"),
                          QStringLiteral("http://127.0.0.1:%1/metrics").arg(closedPort)),
        });

        const auto expect = [&](const char* id, const QString& words) {
            const auto state = waitForState(states, QLatin1String(id), unreachable, 5000);
            QVERIFY2(state, id);
            QVERIFY2(state->error.contains(words),
                     qPrintable(QLatin1String(id) + QStringLiteral(": ") + state->error));
            QCOMPARE(state->retryInSeconds, 2);
            QCOMPARE(remote.state(QLatin1String(id)).reach, MachineReach::Unreachable);
        };
        expect("html", QStringLiteral("127.0.0.1:%1 answered with HTML, not Prometheus: is the URL right?")
                           .arg(html.port()));
        expect("junk", QStringLiteral("127.0.0.1:%1 sent a response larger than 8 MiB").arg(junk.port()));
        expect("announced",
               QStringLiteral("127.0.0.1:%1 sent a response larger than 8 MiB").arg(announced.port()));
        expect("malformed",
               QStringLiteral("127.0.0.1:%1 did not send metrics Headroom can read").arg(malformed.port()));
        expect("silent",
               QStringLiteral("127.0.0.1:%1 did not answer: timed out after 0.5 s").arg(silent.port()));
        // Bytes that keep coming slowly do not hold the request open past its time.
        expect("trickle",
               QStringLiteral("127.0.0.1:%1 did not answer: timed out after 0.5 s").arg(trickle.port()));
        expect("missing", QStringLiteral("127.0.0.1:%1 answered HTTP 404").arg(missing.port()));
        expect("not-headroom", QStringLiteral("no headroom_ series"));
        expect("closed", QStringLiteral("127.0.0.1:%1 refused the connection").arg(closedPort));
        QVERIFY2(timer.elapsed() < 4000, "every failure is known within the timeout, in parallel");
        QVERIFY(views.isEmpty());

        // The query went to the path under the base URL, asking for Headroom's series of the instance.
        QCOMPARE(missing.requests.size(), 1);
        const QByteArray target = missing.requests.first().target;
        QVERIFY2(target.startsWith("/prom/api/v1/query?query="), target.constData());
        QCOMPARE(QUrl::fromPercentEncoding(target.mid(target.indexOf('=') + 1)).toStdString(),
                 headroomInstantQuery("b"));
        // The junk was not read to its end.
        QTRY_COMPARE_WITH_TIMEOUT(junk.disconnectedEarly, 1, 2000);
    }

    void redirectsStayOnTheHost()
    {
        HttpServer elsewhere([](const HttpRequest&) { return text(exporterText()); });
        const QByteArray target = elsewhere.url(QStringLiteral("/metrics")).toUtf8();
        HttpServer server([target](const HttpRequest& r) {
            HttpReply reply;
            reply.status = 302;
            if (r.target == "/old")
                reply.location = "/metrics"; // the same host: followed
            else if (r.target == "/away")
                reply.location = target; // another port: not followed
            else
                return text(exporterText());
            return reply;
        });
        QTemporaryDir dir;
        std::shared_ptr<CredentialStore> credentials =
            makeFileCredentialStore(dir.filePath(QStringLiteral("credentials.json")));
        QCOMPARE(credentials->store(QStringLiteral("away"), QStringLiteral("pw")), QString());
        RemoteMachines remote(credentials);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        MachineEntry away = exporterEntry(QStringLiteral("away"), server.url(QStringLiteral("/away")));
        away.username = QStringLiteral("watcher");
        remote.setMachines(
            {exporterEntry(QStringLiteral("moved"), server.url(QStringLiteral("/old"))), away});
        QVERIFY(waitForState(states, QStringLiteral("moved"), up, 5000));
        const auto refused = waitForState(states, QStringLiteral("away"), unreachable, 5000);
        QVERIFY(refused);
        QVERIFY2(
            refused->error.contains(
                QStringLiteral("redirected to 127.0.0.1:%1; Headroom follows redirects on the same host only")
                    .arg(elsewhere.port())),
            qPrintable(refused->error));
        QVERIFY2(elsewhere.requests.isEmpty(), "the password never went to the other server");
    }

    void renamingAMachineDoesNotAskAgain()
    {
        HttpServer server([](const HttpRequest&) { return text(exporterText()); });
        RemoteMachines remote(nullptr);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        MachineEntry entry = exporterEntry(QStringLiteral("box"), server.url(QStringLiteral("/metrics")));
        remote.setMachines({entry});
        QVERIFY(waitForView(views, QStringLiteral("box"), 5000));
        entry.name = QStringLiteral("renamed");
        entry.followInTray = true;
        remote.setMachines({entry});
        QTest::qWait(300);
        QCOMPARE(server.requests.size(), 1);
        QCOMPARE(remote.state(QStringLiteral("box")).reach, MachineReach::Up);
        // A new URL is a new connection: asked at once.
        entry.url += QStringLiteral("?again");
        remote.setMachines({entry});
        QTRY_COMPARE_WITH_TIMEOUT(server.requests.size(), 2, 2000);
    }

    void tlsTrustsTheMachinesOwnCa()
    {
        QTemporaryDir dir;
        const QString cert = dir.filePath(QStringLiteral("cert.pem"));
        const QString key = dir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                       QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                       QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                       QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                       QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                       QStringLiteral("subjectAltName=IP:127.0.0.1"), QStringLiteral("-keyout"), key,
                       QStringLiteral("-out"), cert});
        QVERIFY2(openssl.waitForFinished(10000) && openssl.exitCode() == 0,
                 "openssl (package openssl) makes the test's certificate");
        auto server = HttpServer::tls([](const HttpRequest&) { return text(exporterText()); }, cert, key);
        QVERIFY(server && server->listening());

        RemoteMachines remote(nullptr);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        MachineEntry untrusted =
            exporterEntry(QStringLiteral("untrusted"), server->url(QStringLiteral("/metrics")));
        MachineEntry trusted =
            exporterEntry(QStringLiteral("trusted"), server->url(QStringLiteral("/metrics")));
        trusted.caFile = cert;
        MachineEntry missing =
            exporterEntry(QStringLiteral("no-ca"), server->url(QStringLiteral("/metrics")));
        missing.caFile = dir.filePath(QStringLiteral("gone.pem"));
        remote.setMachines({untrusted, trusted, missing});

        QVERIFY(waitForView(views, QStringLiteral("trusted"), 5000));
        const auto refused = waitForState(states, QStringLiteral("untrusted"), unreachable, 5000);
        QVERIFY(refused);
        QVERIFY2(refused->error.contains(
                     QStringLiteral("the TLS connection to 127.0.0.1:%1 failed").arg(server->port())),
                 qPrintable(refused->error));
        const auto noCa = waitForState(states, QStringLiteral("no-ca"), unreachable, 5000);
        QVERIFY(noCa);
        QVERIFY2(noCa->error.contains(QStringLiteral("the CA certificate")) &&
                     noCa->error.contains(QStringLiteral("gone.pem")),
                 qPrintable(noCa->error));
        for (const QList<QVariant>& args : views)
            QCOMPARE(args.at(0).toString(), QStringLiteral("trusted"));
    }

    void passwordComesFromTheCredentialStore()
    {
        QTemporaryDir dir;
        std::shared_ptr<CredentialStore> credentials =
            makeFileCredentialStore(dir.filePath(QStringLiteral("credentials.json")));
        QCOMPARE(credentials->store(QStringLiteral("guarded"), QStringLiteral("wrong")), QString());
        const QByteArray good = "Basic " + QByteArray("watcher:s3cr:t ü").toBase64();
        HttpServer server([good](const HttpRequest& r) {
            if (r.headers.value("authorization") != good)
                return text("Unauthorized\n", 401);
            return text(exporterText());
        });
        RemoteMachines remote(credentials);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        MachineEntry entry = exporterEntry(QStringLiteral("guarded"), server.url(QStringLiteral("/metrics")));
        entry.username = QStringLiteral("watcher");
        remote.setMachines({entry});
        const auto refused = waitForState(states, QStringLiteral("guarded"), unreachable, 5000);
        QVERIFY(refused);
        QVERIFY2(
            refused->error.contains(QStringLiteral("did not accept the user name and password (HTTP 401)")),
            qPrintable(refused->error));
        QVERIFY(views.isEmpty());

        // The right password, stored while it waits, is used on the next try.
        QCOMPARE(credentials->store(QStringLiteral("guarded"), QStringLiteral("s3cr:t ü")), QString());
        QVERIFY(waitForState(states, QStringLiteral("guarded"), up, 4000));
        QVERIFY(waitForView(views, QStringLiteral("guarded"), 1000));
        QCOMPARE(server.requests.last().headers.value("authorization"), good);
    }

    void backoffGrowsAndSuccessResetsIt()
    {
        // Two machines at once: one stays down (its wait doubles), the other
        // comes up once and goes down again (its wait starts over at 2 s).
        const quint16 downPort = test::freeLoopbackPort();
        const quint16 flakyPort = test::freeLoopbackPort();
        QVERIFY(downPort && flakyPort && downPort != flakyPort);
        RemoteMachines remote(nullptr);
        remote.setInterval(1);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        const QString down = QStringLiteral("down");
        const QString flaky = QStringLiteral("flaky");
        remote.setMachines(
            {exporterEntry(down, QStringLiteral("http://127.0.0.1:%1/metrics").arg(downPort)),
             exporterEntry(flaky, QStringLiteral("http://127.0.0.1:%1/metrics").arg(flakyPort))});
        const auto first = waitForState(states, down, unreachable, 3000);
        QVERIFY(first);
        QCOMPARE(first->retryInSeconds, 2);
        const auto flakyFirst = waitForState(states, flaky, unreachable, 3000);
        QVERIFY(flakyFirst);
        QCOMPARE(flakyFirst->retryInSeconds, 2);

        auto server =
            std::make_unique<HttpServer>([](const HttpRequest&) { return text(exporterText()); }, flakyPort);
        QVERIFY(server->listening());
        const auto back = waitForState(states, flaky, up, 3500);
        QVERIFY(back);
        QCOMPARE(back->retryInSeconds, 0);
        QVERIFY(back->error.isEmpty());
        server.reset();

        const auto second = waitForState(
            states, down,
            [](const MachineState& s) {
                return s.reach == MachineReach::Unreachable && s.retryInSeconds != 2;
            },
            3500);
        QVERIFY(second);
        QCOMPARE(second->retryInSeconds, 4);
        // The flaky one's next failure waits 2 s again, not 4.
        const auto again = waitForState(
            states, flaky,
            [&](const MachineState& s) { return s.reach == MachineReach::Unreachable && s.lastSeenMs > 0; },
            3000);
        QVERIFY(again);
        QCOMPARE(again->retryInSeconds, 2);
        QVERIFY2(again->error.contains(QStringLiteral("refused the connection")), qPrintable(again->error));
    }

    void prometheusAnswersAreRead()
    {
        // Prometheus's JSON API for the instance's series: the exporter's text
        // as Prometheus returns it, with instance and job labels.
        const auto samples = parseMetricsText(exporterText(5ull << 30));
        QVERIFY2(samples.ok(), samples.error().c_str());
        std::string result;
        for (const MetricSample& sample : samples.value()) {
            std::string metric =
                "\"__name__\":\"" + sample.name + "\",\"instance\":\"b:9464\",\"job\":\"headroom\"";
            for (const auto& [key, value] : sample.labels)
                metric += ",\"" + key + "\":\"" + value + "\""; // plain names and values only in this text
            result += std::string(result.empty() ? "" : ",") + "{\"metric\":{" + metric +
                      "},\"value\":[1764751234.5,\"" + QString::number(sample.value, 'g', 17).toStdString() +
                      "\"]}";
        }
        const std::string vector =
            R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
        const std::string matrix =
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"headroom_memory_used_bytes","instance":"b:9464","job":"headroom"},"values":[[1764751200,"1073741824"],[1764751215,"2147483648"]]},{"metric":{"__name__":"headroom_memory_total_bytes","instance":"b:9464","job":"headroom"},"values":[[1764751200,"17179869184"],[1764751215,"17179869184"]]}]}})";
        HttpServer server([&](const HttpRequest& r) {
            HttpReply reply;
            reply.contentType = "application/json";
            if (r.target.startsWith("/api/v1/query?"))
                reply.body = QByteArray::fromStdString(vector);
            else if (r.target.startsWith("/api/v1/query_range?"))
                reply.body =
                    r.target.contains("headroom_memory_used_bytes") ||
                            r.target.contains("headroom_memory_total_bytes")
                        ? QByteArray::fromStdString(matrix)
                        : QByteArray(R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
            else
                reply.status = 404;
            return reply;
        });
        RemoteMachines remote(nullptr);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        QSignalSpy histories(&remote, &RemoteMachines::historyReady);
        remote.setShown(QStringLiteral("prom"));
        remote.setHistorySpan(3600);
        remote.setMachines({prometheusEntry(QStringLiteral("prom"), server.url(), QStringLiteral("b:9464"))});
        const MachineViewPtr view = waitForView(views, QStringLiteral("prom"), 5000);
        QVERIFY(view);
        QCOMPARE(view->snapshot.memory.used, 5ull << 30);
        QCOMPARE(view->hostname, std::string("buildbox"));

        QVERIFY(histories.wait(3000) || !histories.isEmpty());
        const auto history = histories.last().at(1).value<MachineHistoryPtr>();
        QVERIFY(history);
        QCOMPARE(history->size(), std::size_t(2));
        QCOMPARE(history->at(0).memory.used, 1ull << 30);
        QCOMPARE(history->at(1).memory.used, 2ull << 30);

        // One range query per family over the span, at most ~300 points.
        int ranges = 0;
        for (const HttpRequest& r : server.requests) {
            if (!r.target.startsWith("/api/v1/query_range?"))
                continue;
            ++ranges;
            const QUrlQuery query(QUrl(QString::fromLatin1(r.target)).query());
            QCOMPARE(query.queryItemValue(QStringLiteral("step")), QStringLiteral("12"));
            const double span = query.queryItemValue(QStringLiteral("end")).toDouble() -
                                query.queryItemValue(QStringLiteral("start")).toDouble();
            QVERIFY(std::abs(span - 3600) < 1);
        }
        QCOMPARE(ranges, 10);
    }

    void prometheusErrorIsItsOwnWords()
    {
        HttpServer server([](const HttpRequest&) {
            HttpReply reply;
            reply.status = 400;
            reply.contentType = "application/json";
            reply.body = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter "
                         "\\\"query\\\": 1:3: parse error\"}";
            return reply;
        });
        RemoteMachines remote(nullptr);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        remote.setMachines({prometheusEntry(QStringLiteral("p"), server.url(), QStringLiteral("x\"y"))});
        const auto state = waitForState(states, QStringLiteral("p"), unreachable, 5000);
        QVERIFY(state);
        QVERIFY2(
            state->error.contains(QStringLiteral("answered with an error (bad_data): invalid parameter")),
            qPrintable(state->error));
    }

    void removedMachineStopsAtOnce()
    {
        HttpServer silent([](const HttpRequest&) {
            HttpReply reply;
            reply.silent = true;
            return reply;
        });
        RemoteMachines remote(nullptr);
        remote.setTimeout(0.5);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        remote.setMachines({exporterEntry(QStringLiteral("gone"), silent.url(QStringLiteral("/metrics")))});
        QTRY_COMPARE_WITH_TIMEOUT(silent.requests.size(), 1, 3000);
        remote.setMachines({});
        // Its request is dropped: no timeout is ever reported for it.
        QTest::qWait(1000);
        for (const QList<QVariant>& args : states)
            QVERIFY(args.at(0).value<MachineState>().reach != MachineReach::Unreachable);
        QCOMPARE(remote.state(QStringLiteral("gone")).reach, MachineReach::Connecting);
    }

    void destructionDoesNotWaitForAServer()
    {
        HttpServer silent([](const HttpRequest&) {
            HttpReply reply;
            reply.silent = true;
            return reply;
        });
        auto remote = std::make_unique<RemoteMachines>(nullptr);
        remote->setTimeout(10);
        remote->setMachines({exporterEntry(QStringLiteral("slow"), silent.url(QStringLiteral("/metrics")))});
        QTRY_COMPARE_WITH_TIMEOUT(silent.requests.size(), 1, 3000);
        QElapsedTimer timer;
        timer.start();
        remote.reset();
        QVERIFY2(timer.elapsed() < 1000, qPrintable(QString::number(timer.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestRemoteMachines)
#include "TestRemoteMachines.moc"
