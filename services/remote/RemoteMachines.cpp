// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/RemoteMachines.h"

#include "headroom/PrometheusApi.h"
#include "services/SafeDisplayText.h"

#include <QDateTime>
#include <QHash>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <QUrl>
#if QT_CONFIG(ssl)
#include <QSslConfiguration>
#endif

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <spdlog/spdlog.h>

namespace headroom::services {
namespace {

constexpr qint64 kMaxResponseBytes = qint64(8) << 20;
constexpr int kFirstBackoffSeconds = 2;
constexpr int kMaxBackoffSeconds = 60;
constexpr int kMaxHistoryPoints = 300;
// An exporter's own readings kept for its history: a day at 5 s would be
// 17280 snapshots; readings closer than span/1000 replace each other instead.
constexpr std::size_t kMaxKeptReadings = 1000;

const char* const kHistoryFamilies[] = {
    metric::kMemoryTotal,     metric::kMemoryAvailable, metric::kMemoryUsed,    metric::kSwapTotal,
    metric::kSwapUsed,        metric::kRoleResident,    metric::kBuildResident, metric::kLevel,
    metric::kBudgetAvailable, metric::kBudgetLimit,
};

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// "buildbox:9464": how a person names the machine in an error.
QString whereOf(const QUrl& url)
{
    const QString host = url.host();
    const QString shown = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return safeDisplayText(url.port() >= 0 ? shown + QLatin1Char(':') + QString::number(url.port()) : shown,
                           200);
}

QString secondsText(double seconds)
{
    return QStringLiteral("%1 s").arg(seconds, 0, 'g', 3);
}

// <base>/api/v1/<endpoint>?<query>: the base may carry a path prefix.
QUrl apiUrl(const QString& base, const char* endpoint, const QString& encodedQuery)
{
    QUrl url(base.trimmed());
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/api/v1/") + QLatin1String(endpoint));
    url.setQuery(encodedQuery, QUrl::StrictMode);
    return url;
}

QString param(const char* name, const std::string& value)
{
    return QLatin1String(name) + QLatin1Char('=') + QString::fromStdString(urlEncode(value));
}

// One finished request as the worker sees it: the body, or why there is none.
struct Answer {
    QByteArray body;
    int httpStatus = 0;
    QString reason; // HTTP reason phrase
    QString error;  // empty: the transfer worked (the status may still be an error)
};

using AnswerHandler = std::function<void(const Answer&)>;

} // namespace

// Lives on the worker thread; every member is touched there only.
class RemoteWorker : public QObject {
    Q_OBJECT
  public:
    RemoteWorker(std::shared_ptr<CredentialStore> credentials, QMutex* statesMutex,
                 QHash<QString, MachineState>* states)
        : credentials_(std::move(credentials)), statesMutex_(statesMutex), states_(states)
    {
    }

    ~RemoteWorker() override
    {
        for (auto& [id, machine] : machines_)
            stop(machine);
        abortHistory();
    }

    void setMachines(const MachineList& list)
    {
        std::map<QString, MachineEntry> wanted;
        for (const MachineEntry& entry : list)
            wanted.emplace(entry.id, entry);
        for (auto it = machines_.begin(); it != machines_.end();) {
            const auto found = wanted.find(it->first);
            if (found != wanted.end() && sameConnection(found->second, it->second.entry)) {
                it->second.entry = found->second; // a new name or tray choice: nothing to ask again
                ++it;
                continue;
            }
            // Gone, or asked differently now: stopped at once, asked anew below.
            stop(it->second);
            {
                QMutexLocker lock(statesMutex_);
                states_->remove(it->first);
            }
            if (it->first == shown_)
                abortHistory();
            it = machines_.erase(it);
        }
        for (const auto& [id, entry] : wanted) {
            if (machines_.count(id))
                continue;
            Machine& machine = machines_[id];
            machine.entry = entry;
            // A manager of its own: Qt shares connections (and the TLS settings
            // they were made with) between requests to one host and port, and
            // another machine's CA or credentials must never apply to this one.
            machine.network = new QNetworkAccessManager(this);
            machine.timer = new QTimer(this);
            machine.timer->setSingleShot(true);
            connect(machine.timer, &QTimer::timeout, this, [this, id = id] { poll(id); });
            machine.state.id = id;
            publish(machine.state);
            poll(id);
            if (id == shown_)
                fetchHistory();
        }
    }

    void setShown(const QString& id)
    {
        if (id == shown_)
            return;
        shown_ = id;
        fetchHistory();
    }

    void setHistorySpan(double seconds)
    {
        span_ = std::clamp(std::isfinite(seconds) ? seconds : 1800.0, 10.0, 31.0 * 24 * 3600);
        for (auto& [id, machine] : machines_)
            trimKept(machine);
        fetchHistory();
    }

    void setInterval(double seconds)
    {
        interval_ = std::clamp(std::isfinite(seconds) ? seconds : 5.0, 1.0, 300.0);
        // A machine waiting on the old interval is asked again on the new one;
        // a backoff keeps its own time.
        for (auto& [id, machine] : machines_)
            if (machine.timer->isActive() && machine.backoffSeconds == 0)
                machine.timer->start(int(interval_ * 1000));
    }

    void setTimeout(double seconds)
    {
        timeout_ = std::clamp(std::isfinite(seconds) ? seconds : 10.0, 0.1, 300.0);
    }

  signals:
    void viewReady(const QString& id, const headroom::services::MachineViewPtr& view);
    void historyReady(const QString& id, const headroom::services::MachineHistoryPtr& history);
    void stateChanged(const headroom::services::MachineState& state);

  private:
    static bool sameConnection(const MachineEntry& a, const MachineEntry& b)
    {
        return a.kind == b.kind && a.url == b.url && a.instance == b.instance && a.username == b.username &&
               a.caFile == b.caFile;
    }

    struct Request {
        QPointer<QNetworkReply> reply;
        QPointer<QTimer> deadline; // a child of the reply
    };

    struct Machine {
        MachineEntry entry;
        QNetworkAccessManager* network = nullptr;
        QTimer* timer = nullptr;
        Request request;
        MachineState state;
        int backoffSeconds = 0;
        std::deque<Snapshot> kept; // an exporter's readings, for its history
    };

    void stop(Machine& machine)
    {
        if (machine.timer) {
            machine.timer->stop();
            machine.timer->deleteLater();
            machine.timer = nullptr;
        }
        cancel(machine.request);
        if (machine.network) {
            machine.network->deleteLater();
            machine.network = nullptr;
        }
    }

    static void cancel(Request& request)
    {
        if (request.reply) {
            request.reply->disconnect();
            request.reply->abort();
            request.reply->deleteLater();
        }
        request.reply = nullptr;
        if (request.deadline)
            request.deadline->stop();
        request.deadline = nullptr;
    }

    void abortHistory()
    {
        ++historyGeneration_;
        for (Request& request : historyRequests_)
            cancel(request);
        historyRequests_.clear();
    }

    void publish(const MachineState& state)
    {
        {
            QMutexLocker lock(statesMutex_);
            states_->insert(state.id, state);
        }
        emit stateChanged(state);
    }

    // Basic auth and the machine's CA; empty, or why the request cannot be made.
    QString prepare(const MachineEntry& entry, QNetworkRequest& request)
    {
        request.setTransferTimeout(int(timeout_ * 1000));
        // A redirect to another host would carry the password there: each
        // redirect is checked in get().
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                             QNetworkRequest::UserVerifiedRedirectPolicy);
        request.setMaximumRedirectsAllowed(5);
        request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Headroom"));
        if (!entry.username.isEmpty()) {
            QString error;
            const std::optional<QString> password =
                credentials_ ? credentials_->lookup(entry.id, &error) : std::nullopt;
            if (!error.isEmpty())
                return QStringLiteral("its password cannot be read: %1").arg(error);
            const QByteArray pair = entry.username.toUtf8() + ':' + password.value_or(QString()).toUtf8();
            request.setRawHeader("Authorization", "Basic " + pair.toBase64());
        }
        if (!entry.caFile.isEmpty()) {
#if QT_CONFIG(ssl)
            QSslConfiguration tls = request.sslConfiguration();
            if (!tls.addCaCertificates(entry.caFile, QSsl::Pem))
                return QStringLiteral("the CA certificate %1 cannot be read or holds no PEM certificate")
                    .arg(safeDisplayText(entry.caFile, 300));
            request.setSslConfiguration(tls);
#else
            return QStringLiteral("this build of Headroom has no TLS support for the CA certificate");
#endif
        }
        return {};
    }

    // GET with a deadline and a size limit; `done` is called once, unless the
    // request is cancelled first.
    Request get(QNetworkAccessManager* network, const QNetworkRequest& request, AnswerHandler done)
    {
        Request handle;
        QNetworkReply* reply = network->get(request);
        handle.reply = reply;
        auto body = std::make_shared<QByteArray>();
        auto ownError = std::make_shared<QString>();
        const QString where = whereOf(request.url());
        const double timeout = timeout_;

        // The transfer timeout restarts with every byte; a server that trickles
        // must still end: one deadline for the whole request.
        auto* deadline = new QTimer(reply);
        deadline->setSingleShot(true);
        handle.deadline = deadline;
        connect(deadline, &QTimer::timeout, reply, [reply, ownError, where, timeout] {
            *ownError =
                QStringLiteral("%1 did not answer: timed out after %2").arg(where, secondsText(timeout));
            reply->abort();
        });
        deadline->start(int(timeout * 1000));

        // Followed on the same host and port only, and never from https down to http.
        const QUrl origin = request.url();
        connect(
            reply, &QNetworkReply::redirected, reply, [reply, ownError, where, origin](const QUrl& target) {
                const QUrl to = origin.resolved(target);
                const bool downgrade =
                    origin.scheme() == QLatin1String("https") && to.scheme() != QLatin1String("https");
                if (to.host().compare(origin.host(), Qt::CaseInsensitive) == 0 &&
                    to.port(origin.scheme() == QLatin1String("https") ? 443 : 80) ==
                        origin.port(origin.scheme() == QLatin1String("https") ? 443 : 80) &&
                    !downgrade) {
                    emit reply->redirectAllowed();
                    return;
                }
                *ownError =
                    QStringLiteral("%1 redirected to %2; Headroom follows redirects on the same host only, "
                                   "so that the password stays there: put the final URL in the settings")
                        .arg(where, whereOf(to));
                reply->abort();
            });
        // A size the server announces is refused before a byte is read.
        connect(reply, &QNetworkReply::metaDataChanged, reply, [reply, ownError, where] {
            const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
            if (length.isValid() && length.toLongLong() > kMaxResponseBytes && ownError->isEmpty()) {
                *ownError = QStringLiteral("%1 sent a response larger than 8 MiB; it is not read").arg(where);
                reply->abort();
            }
        });
        connect(reply, &QNetworkReply::readyRead, reply, [reply, body, ownError, where] {
            body->append(reply->read(kMaxResponseBytes + 1 - body->size()));
            if (body->size() > kMaxResponseBytes && ownError->isEmpty()) {
                *ownError = QStringLiteral("%1 sent a response larger than 8 MiB; it is not read").arg(where);
                reply->abort();
            }
        });
        connect(reply, &QNetworkReply::finished, this,
                [reply, body, ownError, where, timeout, done = std::move(done)] {
                    Answer answer;
                    if (ownError->isEmpty())
                        body->append(reply->read(kMaxResponseBytes + 1 - body->size()));
                    answer.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                    answer.reason = safeDisplayText(
                        QString::fromUtf8(
                            reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray()),
                        100);
                    const bool httpError = answer.httpStatus >= 300;
                    if (!ownError->isEmpty())
                        answer.error = *ownError;
                    else if (body->size() > kMaxResponseBytes)
                        answer.error =
                            QStringLiteral("%1 sent a response larger than 8 MiB; it is not read").arg(where);
                    else if (reply->error() != QNetworkReply::NoError && !httpError)
                        answer.error = transferError(reply, where, timeout); // no answer, or half of one
                    if (answer.error.isEmpty())
                        answer.body = std::move(*body);
                    reply->deleteLater();
                    done(answer);
                });
        return handle;
    }

    static QString transferError(QNetworkReply* reply, const QString& where, double timeout)
    {
        switch (reply->error()) {
        case QNetworkReply::NoError:
            return QStringLiteral("%1 sent no HTTP answer").arg(where);
        case QNetworkReply::ConnectionRefusedError:
            return QStringLiteral("%1 refused the connection").arg(where);
        case QNetworkReply::HostNotFoundError:
            return QStringLiteral("%1 was not found: is the host name right?").arg(where);
        case QNetworkReply::RemoteHostClosedError:
            return QStringLiteral("%1 closed the connection without answering").arg(where);
        case QNetworkReply::TimeoutError:
        case QNetworkReply::OperationCanceledError:
            return QStringLiteral("%1 did not answer: timed out after %2").arg(where, secondsText(timeout));
        case QNetworkReply::SslHandshakeFailedError:
            return QStringLiteral("the TLS connection to %1 failed (%2)")
                .arg(where, safeDisplayText(reply->errorString(), 300));
        case QNetworkReply::TooManyRedirectsError:
            return QStringLiteral("%1 redirected more than 5 times").arg(where);
        default:
            return QStringLiteral("%1 could not be read (%2)")
                .arg(where, safeDisplayText(reply->errorString(), 300));
        }
    }

    // What an HTTP error status says, when the body does not say better.
    static QString statusError(const Answer& answer, const QString& where, const MachineEntry& entry)
    {
        if (answer.httpStatus == 401 || answer.httpStatus == 403)
            return entry.username.isEmpty()
                       ? QStringLiteral("%1 asks for a user name and password (HTTP %2)")
                             .arg(where)
                             .arg(answer.httpStatus)
                       : QStringLiteral("%1 did not accept the user name and password (HTTP %2)")
                             .arg(where)
                             .arg(answer.httpStatus);
        return QStringLiteral("%1 answered HTTP %2 %3: is the URL right?")
            .arg(where)
            .arg(answer.httpStatus)
            .arg(answer.reason);
    }

    void poll(const QString& id)
    {
        const auto it = machines_.find(id);
        if (it == machines_.end())
            return;
        Machine& machine = it->second;
        cancel(machine.request);
        const MachineEntry& entry = machine.entry;
        const QUrl url = entry.kind == MachineEntry::Kind::Prometheus
                             ? apiUrl(entry.url, "query",
                                      param("query", headroomInstantQuery(entry.instance.toStdString())))
                             : QUrl(entry.url.trimmed());
        const QString where = whereOf(url);
        QNetworkRequest request(url);
        request.setRawHeader(
            "Accept", entry.kind == MachineEntry::Kind::Prometheus
                          ? QByteArray("application/json")
                          : QByteArray(metricsContentType().data(), qsizetype(metricsContentType().size())));
        if (const QString problem = prepare(entry, request); !problem.isEmpty()) {
            failed(machine, QStringLiteral("%1: %2").arg(where, problem));
            return;
        }
        machine.request = get(machine.network, request,
                              [this, id, where](const Answer& answer) { polled(id, where, answer); });
    }

    void polled(const QString& id, const QString& where, const Answer& answer)
    {
        const auto it = machines_.find(id);
        if (it == machines_.end())
            return;
        Machine& machine = it->second;
        machine.request = {};
        if (!answer.error.isEmpty()) {
            failed(machine, answer.error);
            return;
        }
        const std::string_view text(answer.body.constData(), std::size_t(answer.body.size()));
        const bool prometheus = machine.entry.kind == MachineEntry::Kind::Prometheus;
        const bool httpOk = answer.httpStatus >= 200 && answer.httpStatus < 300;
        // Prometheus explains a bad query in JSON with a 4xx/5xx status: its words are better.
        if (!httpOk && !(prometheus &&
                         (answer.httpStatus == 400 || answer.httpStatus == 422 || answer.httpStatus == 503) &&
                         text.find('{') != std::string_view::npos)) {
            failed(machine, statusError(answer, where, machine.entry));
            return;
        }
        Result<std::vector<MetricSample>> samples =
            prometheus ? parsePrometheusVector(text) : parseMetricsText(text);
        if (!samples) {
            const QString why = safeDisplayText(QString::fromStdString(samples.error()), 500);
            failed(machine,
                   prometheus
                       ? QStringLiteral("%1 %2").arg(where, why)
                       : QStringLiteral("%1 did not send metrics Headroom can read: %2").arg(where, why));
            return;
        }
        if (prometheus && samples->empty()) {
            failed(machine,
                   QStringLiteral("%1 has no Headroom series for instance \"%2\": is the instance right, "
                                  "and does Prometheus scrape it?")
                       .arg(where, safeDisplayText(machine.entry.instance, 200)));
            return;
        }
        Result<MachineView> view = machineViewFromSamples(samples.value());
        if (!view) {
            failed(machine, QStringLiteral("%1: %2").arg(
                                where, safeDisplayText(QString::fromStdString(view.error()), 500)));
            return;
        }
        MachineView reading = std::move(view.value());
        const qint64 now = nowMs();
        if (reading.snapshot.wallMs == 0)
            reading.snapshot.wallMs = now;
        if (reading.snapshot.steadyNs == 0)
            reading.snapshot.steadyNs = reading.snapshot.wallMs * 1'000'000;
        if (!prometheus) {
            const auto spacing = qint64(span_ * 1000.0 / double(kMaxKeptReadings));
            const std::size_t n = machine.kept.size();
            if (n >= 2 && reading.snapshot.wallMs - machine.kept[n - 2].wallMs < spacing)
                machine.kept.back() = reading.snapshot;
            else
                machine.kept.push_back(reading.snapshot);
            trimKept(machine);
        }

        const bool wasUp = machine.state.reach == MachineReach::Up;
        machine.backoffSeconds = 0;
        machine.state.reach = MachineReach::Up;
        machine.state.error.clear();
        machine.state.retryInSeconds = 0;
        machine.state.lastSeenMs = now;
        publish(machine.state);
        emit viewReady(id, std::make_shared<const MachineView>(std::move(reading)));
        machine.timer->start(int(interval_ * 1000));
        // The shown machine's history could not be fetched while it was down.
        if (!wasUp && id == shown_ && historyWanted_ && historyRequests_.empty())
            fetchHistory();
    }

    void failed(Machine& machine, const QString& error)
    {
        machine.backoffSeconds = machine.backoffSeconds == 0
                                     ? kFirstBackoffSeconds
                                     : std::min(machine.backoffSeconds * 2, kMaxBackoffSeconds);
        machine.state.reach = MachineReach::Unreachable;
        machine.state.error = error;
        machine.state.retryInSeconds = machine.backoffSeconds;
        publish(machine.state);
        machine.timer->start(machine.backoffSeconds * 1000);
    }

    void trimKept(Machine& machine)
    {
        const qint64 oldest = nowMs() - qint64(span_ * 1000);
        while (!machine.kept.empty() &&
               (machine.kept.front().wallMs < oldest || machine.kept.size() > kMaxKeptReadings))
            machine.kept.pop_front();
    }

    void fetchHistory()
    {
        abortHistory();
        historyWanted_ = false;
        const auto it = machines_.find(shown_);
        if (shown_.isEmpty() || it == machines_.end())
            return;
        Machine& machine = it->second;
        const QString id = shown_;
        if (machine.entry.kind == MachineEntry::Kind::Exporter) {
            trimKept(machine);
            emit historyReady(
                id, std::make_shared<const std::vector<Snapshot>>(machine.kept.begin(), machine.kept.end()));
            return;
        }

        historyWanted_ = true; // until an answer arrives
        const qint64 end = nowMs();
        const double stepSeconds = std::max(1.0, std::ceil(span_ / kMaxHistoryPoints));
        const double start = double(end) / 1000.0 - span_;
        const unsigned generation = historyGeneration_;
        auto collected = std::make_shared<std::vector<MetricSeries>>();
        auto pending = std::make_shared<int>(int(std::size(kHistoryFamilies)));
        auto failure = std::make_shared<QString>();
        QNetworkRequest prepared;
        prepared.setRawHeader("Accept", "application/json");
        if (const QString problem = prepare(machine.entry, prepared); !problem.isEmpty()) {
            spdlog::warn("history of {}: {}", id.toStdString(), safeDisplayText(problem).toStdString());
            return;
        }
        for (const char* family : kHistoryFamilies) {
            const QString query =
                param("query", familyQuery(family, machine.entry.instance.toStdString())) + QLatin1Char('&') +
                param("start", QString::number(start, 'f', 3).toStdString()) + QLatin1Char('&') +
                param("end", QString::number(end / 1000.0, 'f', 3).toStdString()) + QLatin1Char('&') +
                param("step", QString::number(stepSeconds, 'f', 0).toStdString());
            const QUrl url = apiUrl(machine.entry.url, "query_range", query);
            QNetworkRequest request(prepared);
            request.setUrl(url);
            const QString where = whereOf(url);
            historyRequests_.push_back(get(machine.network, request, [=, this](const Answer& answer) {
                if (generation != historyGeneration_)
                    return;
                if (!answer.error.isEmpty()) {
                    *failure = answer.error;
                } else {
                    const std::string_view text(answer.body.constData(), std::size_t(answer.body.size()));
                    auto series = parsePrometheusMatrix(text);
                    if (!series)
                        *failure = QStringLiteral("%1 %2").arg(where, QString::fromStdString(series.error()));
                    else
                        for (MetricSeries& one : series.value())
                            collected->push_back(std::move(one));
                }
                if (--*pending > 0)
                    return;
                historyRequests_.clear();
                if (!failure->isEmpty()) {
                    spdlog::warn("history of {}: {}", id.toStdString(),
                                 safeDisplayText(*failure).toStdString());
                    return;
                }
                historyWanted_ = false;
                emit historyReady(
                    id, std::make_shared<const std::vector<Snapshot>>(machineHistoryFromSeries(*collected)));
            }));
        }
    }

    std::shared_ptr<CredentialStore> credentials_;
    QMutex* statesMutex_;
    QHash<QString, MachineState>* states_;
    std::map<QString, Machine> machines_;
    std::vector<Request> historyRequests_;
    unsigned historyGeneration_ = 0;
    bool historyWanted_ = false; // the shown machine's history is asked for and not yet had
    QString shown_;
    double span_ = 1800.0;
    double interval_ = 5.0;
    double timeout_ = 10.0;
};

struct RemoteMachines::Private {
    QThread thread;
    RemoteWorker* worker = nullptr;
    mutable QMutex statesMutex;
    QHash<QString, MachineState> states;

    template <class Call> void post(Call&& call)
    {
        QMetaObject::invokeMethod(worker, std::forward<Call>(call), Qt::QueuedConnection);
    }
};

RemoteMachines::RemoteMachines(std::shared_ptr<CredentialStore> credentials, QObject* parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    qRegisterMetaType<MachineViewPtr>();
    qRegisterMetaType<MachineHistoryPtr>();
    qRegisterMetaType<MachineState>();
    d->thread.setObjectName(QStringLiteral("remote machines"));
    d->worker = new RemoteWorker(std::move(credentials), &d->statesMutex, &d->states);
    d->worker->moveToThread(&d->thread);
    connect(d->worker, &RemoteWorker::viewReady, this, &RemoteMachines::viewReady);
    connect(d->worker, &RemoteWorker::historyReady, this, &RemoteMachines::historyReady);
    connect(d->worker, &RemoteWorker::stateChanged, this, &RemoteMachines::stateChanged);
    d->thread.start();
}

RemoteMachines::~RemoteMachines()
{
    // The worker is deleted on its own thread, which aborts every request;
    // then the thread ends. Nothing waits for a server.
    RemoteWorker* worker = d->worker;
    QThread* thread = &d->thread;
    d->post([worker, thread] {
        delete worker;
        thread->quit();
    });
    d->thread.wait();
}

void RemoteMachines::setMachines(const MachineList& machines)
{
    RemoteWorker* worker = d->worker;
    d->post([worker, machines] { worker->setMachines(machines); });
}

void RemoteMachines::setShown(const QString& id)
{
    RemoteWorker* worker = d->worker;
    d->post([worker, id] { worker->setShown(id); });
}

void RemoteMachines::setHistorySpan(double seconds)
{
    RemoteWorker* worker = d->worker;
    d->post([worker, seconds] { worker->setHistorySpan(seconds); });
}

void RemoteMachines::setInterval(double seconds)
{
    RemoteWorker* worker = d->worker;
    d->post([worker, seconds] { worker->setInterval(seconds); });
}

void RemoteMachines::setTimeout(double seconds)
{
    RemoteWorker* worker = d->worker;
    d->post([worker, seconds] { worker->setTimeout(seconds); });
}

MachineState RemoteMachines::state(const QString& id) const
{
    QMutexLocker lock(&d->statesMutex);
    if (const auto it = d->states.constFind(id); it != d->states.constEnd())
        return *it;
    MachineState unknown;
    unknown.id = id;
    return unknown;
}

} // namespace headroom::services

#include "RemoteMachines.moc"
