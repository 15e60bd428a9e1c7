// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/BuildHistory.h"

#include "headroom/RunsFolder.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace headroom::services {

namespace {

QString q(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

// SQLite's primary result code behind a Qt error (Qt may report the extended one).
int sqliteCode(const QSqlError& error)
{
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok);
    return ok ? (code & 0xff) : -1;
}

// SQLITE_BUSY, SQLITE_LOCKED: another connection holds the file; it is fine, just not ours now.
bool isBusy(const QSqlError& error)
{
    const int code = sqliteCode(error);
    return code == 5 || code == 6;
}

// SQLITE_CORRUPT, SQLITE_NOTADB: the only errors that say the file itself is bad.
bool isCorrupt(const QSqlError& error)
{
    const int code = sqliteCode(error);
    return code == 11 || code == 26;
}

QString describe(const QSqlError& error)
{
    const QString text = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    return text.isEmpty() ? QStringLiteral("unknown error") : text;
}

QVariant nullableInt(const QJsonValue& v)
{
    return v.isDouble() ? QVariant(v.toInt()) : QVariant(QMetaType(QMetaType::Int));
}

// Qt binds a null QString as SQL NULL: an empty field must stay an empty string.
QString text(const QString& s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

QVariant nullableText(const QJsonValue& v)
{
    return v.isString() ? QVariant(text(v.toString())) : QVariant(QMetaType(QMetaType::QString));
}

QJsonValue optionalJson(const std::optional<int>& v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

// One run as a JSON object: the form record() writes and the pending file keeps.
QJsonObject runToJson(const QString& project, const BuildPlan& plan, const BuildRunResult& r,
                      qint64 startedMs, const RunTarget& target)
{
    QJsonObject o;
    if (!r.runId.isEmpty())
        o["runId"] = r.runId;
    o["project"] = project;
    o["preset"] = q(presetId(plan.preset));
    if (target.known()) {
        o["package"] = target.package;
        o["targetKind"] = target.kind;
        o["targetName"] = target.name;
        o["features"] = target.features;
    }
    o["startedMs"] = startedMs;
    o["seconds"] = r.seconds;
    o["verdict"] = q(verdictId(r.diagnosis.verdict));
    o["summary"] = QString::fromStdString(r.diagnosis.summary);
    o["exitCode"] = optionalJson(r.exitCode);
    o["signal"] = optionalJson(r.signal);
    o["peakTreeBytes"] = qint64(r.peakTreeBytes);
    o["peakSystemUsed"] = qint64(r.peakSystemUsed);
    o["jobs"] = r.jobs ? QJsonValue(int(*r.jobs)) : QJsonValue(QJsonValue::Null);
    o["artifact"] = r.artifactPath;
    QJsonArray steps;
    for (const BuildStep& step : plan.steps) {
        QString environment;
        for (const auto& [k, v] : step.environment)
            environment += QString::fromStdString(k + "=" + v + "\n");
        steps.append(QJsonObject{{"title", QString::fromStdString(step.title)},
                                 {"command", QString::fromStdString(step.displayLine())},
                                 {"environment", environment}});
    }
    o["steps"] = steps;
    QJsonArray crates;
    for (const auto& [crate, bytes] : r.peakByCrate)
        crates.append(QJsonObject{{"crate", QString::fromStdString(crate)}, {"bytes", qint64(bytes)}});
    o["crates"] = crates;
    return o;
}

// The row of a run id recorded before: 0 when there is none, -1 with `error`.
qint64 rowOfRunId(QSqlDatabase& db, const QString& runId, QSqlError* error)
{
    QSqlQuery q(db);
    q.prepare("SELECT id FROM runs WHERE run_id = ?");
    q.addBindValue(runId);
    if (!q.exec()) {
        *error = q.lastError();
        return -1;
    }
    return q.next() ? q.value(0).toLongLong() : 0;
}

// Inserts one run (the caller holds the transaction); the new id, or 0 with
// `error`. A run id recorded before is not inserted again: its row is the answer.
qint64 insertRun(QSqlDatabase& db, const QJsonObject& o, QSqlError* error, bool* existed = nullptr)
{
    const QString runId = o["runId"].toString();
    if (existed)
        *existed = false;
    if (!runId.isEmpty()) {
        const qint64 known = rowOfRunId(db, runId, error);
        if (known < 0)
            return 0;
        if (known > 0) {
            if (existed)
                *existed = true;
            return known;
        }
    }
    QSqlQuery q(db);
    q.prepare(
        "INSERT INTO runs (project, preset, started_ms, seconds, verdict, summary, exit_code, signal,"
        " peak_tree_bytes, peak_system_used, jobs, artifact, package, target_kind, target_name, features,"
        " run_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.addBindValue(o["project"].toString());
    q.addBindValue(o["preset"].toString());
    q.addBindValue(qint64(o["startedMs"].toDouble()));
    q.addBindValue(o["seconds"].toDouble());
    q.addBindValue(o["verdict"].toString());
    q.addBindValue(o["summary"].toString());
    q.addBindValue(nullableInt(o["exitCode"]));
    q.addBindValue(nullableInt(o["signal"]));
    q.addBindValue(qint64(o["peakTreeBytes"].toDouble()));
    q.addBindValue(qint64(o["peakSystemUsed"].toDouble()));
    q.addBindValue(nullableInt(o["jobs"]));
    q.addBindValue(o["artifact"].toString());
    q.addBindValue(nullableText(o["package"]));
    q.addBindValue(nullableText(o["targetKind"]));
    q.addBindValue(nullableText(o["targetName"]));
    q.addBindValue(nullableText(o["features"]));
    q.addBindValue(runId.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(runId));
    if (!q.exec()) {
        *error = q.lastError();
        return 0;
    }
    const qint64 id = q.lastInsertId().toLongLong();
    const QJsonArray steps = o["steps"].toArray();
    for (qsizetype i = 0; i < steps.size(); ++i) {
        const QJsonObject step = steps[i].toObject();
        QSqlQuery s(db);
        s.prepare("INSERT INTO steps (run_id, idx, title, command, environment) VALUES (?, ?, ?, ?, ?)");
        s.addBindValue(id);
        s.addBindValue(int(i));
        s.addBindValue(step["title"].toString());
        s.addBindValue(step["command"].toString());
        s.addBindValue(step["environment"].toString());
        if (!s.exec()) {
            *error = s.lastError();
            return 0;
        }
    }
    for (const QJsonValue& value : o["crates"].toArray()) {
        const QJsonObject crate = value.toObject();
        QSqlQuery c(db);
        c.prepare("INSERT INTO crate_peaks (run_id, crate, peak_bytes) VALUES (?, ?, ?)");
        c.addBindValue(id);
        c.addBindValue(crate["crate"].toString());
        c.addBindValue(qint64(crate["bytes"].toDouble()));
        if (!c.exec()) {
            *error = c.lastError();
            return 0;
        }
    }
    return id;
}

// A finished run measured its peak; any other run stopped before it.
std::optional<quint64> combine(const QVariant& measured, const QVariant& atLeast,
                               std::optional<quint64> fallback)
{
    const quint64 floor = atLeast.isNull() ? 0 : atLeast.toULongLong();
    if (!measured.isNull() && measured.toULongLong() > 0)
        return std::max(measured.toULongLong(), floor);
    if (floor > 0 && fallback && floor > *fallback)
        return floor;
    return std::nullopt;
}

constexpr qint64 kMaxPendingBytes = 16 << 20;
// One inbox file holds one run: anything larger is not one of ours.
constexpr qint64 kMaxInboxFileBytes = 4 << 20;
// Files read per import; the rest wait for the next.
constexpr int kMaxInboxFiles = 500;

} // namespace

RunTarget RunTarget::of(const BuildRequest& request)
{
    RunTarget t;
    t.package = QString::fromStdString(request.package);
    switch (request.targetKind) {
    case TargetKind::Default:
        t.kind = QStringLiteral("default");
        break;
    case TargetKind::Bin:
        t.kind = QStringLiteral("bin");
        break;
    case TargetKind::Example:
        t.kind = QStringLiteral("example");
        break;
    case TargetKind::Lib:
        t.kind = QStringLiteral("lib");
        break;
    }
    // The default target's name is only what Headroom guessed the artifact to be.
    if (request.targetKind == TargetKind::Bin || request.targetKind == TargetKind::Example)
        t.name = QString::fromStdString(request.targetName);
    t.features = QString::fromStdString(request.features);
    return t;
}

QString RunTarget::label() const
{
    if (!known())
        return QStringLiteral("target not recorded");
    QString text = kind == QLatin1String("default") ? QStringLiteral("default target") : kind;
    if (!name.isEmpty())
        text += ' ' + name;
    if (!package.isEmpty())
        text += QStringLiteral(" of ") + package;
    if (!features.isEmpty())
        text += QStringLiteral(" · features ") + features;
    return text;
}

QString BuildHistory::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/history.sqlite";
}

BuildHistory::BuildHistory(const QString& path)
    : path_(path), connection_("headroom-history-" + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    QDir().mkpath(QFileInfo(path_).absolutePath());
    QString why;
    switch (open(&why)) {
    case Opened::Yes:
        ok_ = true;
        break;
    case Opened::Busy:
        warning_ =
            QStringLiteral("The build history is in use by another program (%1); runs will be recorded "
                           "when it is free.")
                .arg(path_);
        break;
    case Opened::Failed:
        warning_ = QStringLiteral("The build history %1 could not be opened (%2); runs are kept in %3 and "
                                  "recorded when it can be.")
                       .arg(path_, why, pendingPath());
        break;
    case Opened::Corrupt: {
        // Keep the unreadable file for the user; start a fresh one beside it.
        const QString aside =
            path_ + ".corrupt-" + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        if (QFile::rename(path_, aside)) {
            // A journal left by the bad file must not be replayed into the new one.
            if (QFile::exists(path_ + "-wal"))
                QFile::rename(path_ + "-wal", aside + "-wal");
            QFile::remove(path_ + "-shm");
            QFile::remove(path_ + "-journal");
            warning_ =
                QStringLiteral("The build history %1 could not be read (%2) and was moved to %3; a new "
                               "history was started.")
                    .arg(path_, why, aside);
            QString again;
            ok_ = open(&again) == Opened::Yes;
            if (!ok_)
                warning_ += QStringLiteral(" The new history could not be opened either (%1).").arg(again);
        } else {
            corruptAndStuck_ = true;
            warning_ = QStringLiteral("The build history %1 could not be read (%2), nor moved aside; history "
                                      "is off for this session.")
                           .arg(path_, why);
        }
        break;
    }
    }
    if (ok_) {
        InboxImport import;
        replayPending(&import);
        if (!import.problems.isEmpty())
            warning_ = import.problems.join(' ');
    }
}

BuildHistory::~BuildHistory()
{
    {
        QSqlDatabase db = QSqlDatabase::database(connection_, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(connection_);
}

BuildHistory::Opened BuildHistory::open(QString* why)
{
    QSqlDatabase db = QSqlDatabase::contains(connection_) ? QSqlDatabase::database(connection_, false)
                                                          : QSqlDatabase::addDatabase("QSQLITE", connection_);
    if (!db.isValid()) {
        *why = QStringLiteral("the Qt SQLite driver is missing");
        return Opened::Failed;
    }
    db.close();
    db.setDatabaseName(path_);
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyWaitMs));
    if (!db.open()) {
        *why = describe(db.lastError());
        return isBusy(db.lastError())      ? Opened::Busy
               : isCorrupt(db.lastError()) ? Opened::Corrupt
                                           : Opened::Failed;
    }
    const auto fail = [&](const QSqlError& error) {
        *why = describe(error);
        db.close();
        return isBusy(error) ? Opened::Busy : isCorrupt(error) ? Opened::Corrupt : Opened::Failed;
    };
    {
        // A file that is not a database fails here, not at open(). The query
        // ends with this scope: the journal mode cannot change while it is active.
        QSqlQuery check(db);
        if (!check.exec("PRAGMA quick_check"))
            return fail(check.lastError());
        const QString verdict = check.next() ? check.value(0).toString() : QStringLiteral("no answer");
        if (verdict != QLatin1String("ok")) {
            *why = QStringLiteral("integrity check: ") + verdict.left(200);
            db.close();
            return Opened::Corrupt;
        }
    }
    {
        QSqlQuery pragma(db);
        // Readers then never wait for a writer, and a crash never leaves a hot journal.
        if (!pragma.exec("PRAGMA journal_mode=WAL"))
            return fail(pragma.lastError());
        pragma.exec("PRAGMA foreign_keys=ON");
    }
    if (!createSchema(why)) {
        db.close();
        if (!why->startsWith(QLatin1String("busy:")))
            return Opened::Failed;
        why->remove(0, 5);
        return Opened::Busy;
    }
    return Opened::Yes;
}

bool BuildHistory::createSchema(QString* why)
{
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    QSqlQuery q(db);
    const auto run = [&](const QString& sql) {
        if (q.exec(sql))
            return true;
        *why = (isBusy(q.lastError()) ? QStringLiteral("busy:") : QString()) + describe(q.lastError());
        return false;
    };
    if (!run("CREATE TABLE IF NOT EXISTS runs ("
             " id INTEGER PRIMARY KEY, project TEXT NOT NULL, preset TEXT NOT NULL, started_ms INTEGER,"
             " seconds REAL, verdict TEXT, summary TEXT, exit_code INTEGER, signal INTEGER,"
             " peak_tree_bytes INTEGER, peak_system_used INTEGER, jobs INTEGER, artifact TEXT,"
             " package TEXT, target_kind TEXT, target_name TEXT, features TEXT)") ||
        !run("CREATE TABLE IF NOT EXISTS steps ("
             " run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER, title TEXT,"
             " command TEXT, environment TEXT)") ||
        !run("CREATE TABLE IF NOT EXISTS crate_peaks ("
             " run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE, crate TEXT, peak_bytes INTEGER)") ||
        !run("CREATE INDEX IF NOT EXISTS runs_project ON runs(project)"))
        return false;
    // Histories written before runs kept their target: add the columns; their
    // old rows keep NULL, "target not recorded".
    QStringList columns;
    if (!run("PRAGMA table_info(runs)"))
        return false;
    while (q.next())
        columns << q.value(1).toString();
    q.finish();
    // And before runs had a supervisor's id: NULL for those, so the unique
    // index lets any number of them be.
    for (const char* column : {"package", "target_kind", "target_name", "features", "run_id"}) {
        if (columns.contains(QLatin1String(column)))
            continue;
        if (!run(QStringLiteral("ALTER TABLE runs ADD COLUMN %1 TEXT").arg(QLatin1String(column))))
            return false;
    }
    return run("CREATE UNIQUE INDEX IF NOT EXISTS runs_run_id ON runs(run_id)");
}

QString BuildHistory::busyMessage() const
{
    return QStringLiteral(
               "The build history is in use by another program (%1); this run will be recorded when "
               "it is free.")
        .arg(path_);
}

void BuildHistory::reopenIfUnavailable()
{
    if (ok_ || corruptAndStuck_)
        return;
    QString why;
    if (open(&why) == Opened::Yes) {
        ok_ = true;
        warning_.clear();
    }
}

QString BuildHistory::keepPending(const QString& line)
{
    QFile file(pendingPath());
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text))
        return file.errorString();
    const QByteArray bytes = line.toUtf8() + '\n';
    if (file.write(bytes) != bytes.size() || !file.flush())
        return file.errorString();
    return {};
}

QString BuildHistory::inboxPath() const
{
    return QString::fromStdString(historyInboxDir(path_.toStdString()).string());
}

QSqlError BuildHistory::replayPending(InboxImport* import)
{
    InboxImport ignored;
    InboxImport& report = import ? *import : ignored;
    if (!ok_)
        return {};
    QFile file(pendingPath());
    QByteArray content;
    const bool pending = file.exists() && file.open(QIODevice::ReadOnly);
    if (pending) {
        content = file.read(kMaxPendingBytes);
        file.close();
    }
    // The supervisors' finished runs: one file each, read whole or not at all.
    struct InboxRun {
        QString path;
        QJsonObject row;
    };
    std::vector<InboxRun> inbox;
    const QDir inboxDir(inboxPath());
    const QFileInfoList files =
        inboxDir.exists() ? inboxDir.entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)
                          : QFileInfoList();
    for (const QFileInfo& info : files) {
        if (int(inbox.size()) >= kMaxInboxFiles)
            break;
        QString why;
        QJsonObject row;
        QFile f(info.filePath());
        if (info.size() > kMaxInboxFileBytes) {
            why = QStringLiteral("%1 bytes, too large for one run").arg(info.size());
        } else if (!f.open(QIODevice::ReadOnly)) {
            continue; // being written or not ours to read: left for the next import
        } else {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(f.read(kMaxInboxFileBytes), &error);
            if (!doc.isObject())
                why = error.error != QJsonParseError::NoError ? error.errorString()
                                                              : QStringLiteral("not a JSON object");
            else if (!doc.object()["project"].isString() || !doc.object()["preset"].isString())
                why = QStringLiteral("no project or preset");
            else
                row = doc.object();
        }
        f.close();
        if (!why.isEmpty()) {
            const QString aside = info.filePath() + QStringLiteral(".corrupt");
            QFile::remove(aside); // an older copy of the same name was kept already
            const bool moved = QFile::rename(info.filePath(), aside);
            report.problems << (moved
                                    ? QStringLiteral("A finished run in the history inbox could not be read "
                                                     "(%1); it was moved aside to %2.")
                                          .arg(why, aside)
                                    : QStringLiteral("A finished run in the history inbox could not be read "
                                                     "(%1), nor moved aside: %2.")
                                          .arg(why, info.filePath()));
            continue;
        }
        inbox.push_back({info.filePath(), row});
    }
    if (!pending && inbox.empty())
        return {};

    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    if (!db.transaction())
        return db.lastError();
    int imported = 0;
    for (const QByteArray& line : content.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (!doc.isObject() || !doc.object()["project"].isString())
            continue; // a torn or foreign line: nothing to record
        QSqlError error;
        bool existed = false;
        if (insertRun(db, doc.object(), &error, &existed) == 0) {
            db.rollback();
            return error; // still not writable: the file stays for the next try
        }
        imported += existed ? 0 : 1;
    }
    for (const InboxRun& run : inbox) {
        QSqlError error;
        bool existed = false;
        if (insertRun(db, run.row, &error, &existed) == 0) {
            db.rollback();
            return error; // the inbox keeps them for the next try
        }
        imported += existed ? 0 : 1;
    }
    // The pending file goes only with the commit, so a run is never recorded
    // twice nor lost.
    if (pending && !QFile::remove(pendingPath())) {
        db.rollback();
        return {};
    }
    if (!db.commit()) {
        const QSqlError error = db.lastError();
        db.rollback();
        if (pending) {
            QFile back(pendingPath());
            if (back.open(QIODevice::WriteOnly))
                back.write(content);
        }
        return error;
    }
    // An inbox file left behind by a failed remove is recorded once anyway: by its run id.
    for (const InboxRun& run : inbox)
        QFile::remove(run.path);
    report.imported += imported;
    return {};
}

InboxImport BuildHistory::importInbox()
{
    InboxImport report;
    reopenIfUnavailable();
    if (!ok_) {
        if (QDir(inboxPath()).exists())
            report.problems << QStringLiteral("Finished runs wait in %1: %2").arg(inboxPath(), warning_);
        return report;
    }
    const QSqlError error = replayPending(&report);
    if (error.type() != QSqlError::NoError)
        report.problems << QStringLiteral("The build history %1 could not be written (%2); the finished "
                                          "runs wait in %3 and are recorded when it can be.")
                               .arg(path_, describe(error), inboxPath());
    return report;
}

RecordResult BuildHistory::record(const QString& project, const BuildPlan& plan, const BuildRunResult& r,
                                  qint64 startedMs, const RunTarget& target)
{
    const QJsonObject row = runToJson(project, plan, r, startedMs, target);
    reopenIfUnavailable();
    QString problem;
    bool busy = false;
    if (ok_) {
        // Older runs first; when they cannot go in, neither can this one, and
        // a second wait for the same lock would only delay the message.
        QSqlError error = replayPending();
        QSqlDatabase db = QSqlDatabase::database(connection_, false);
        qint64 id = 0;
        if (error.type() != QSqlError::NoError) {
            // kept below, after the older ones
        } else if (db.transaction()) {
            id = insertRun(db, row, &error);
            if (id > 0 && !db.commit()) {
                error = db.lastError();
                id = 0;
            }
            if (id == 0)
                db.rollback();
        } else {
            error = db.lastError();
        }
        if (id > 0)
            return RecordResult{id, {}, false};
        busy = isBusy(error);
        problem =
            QStringLiteral("the build history %1 could not be written (%2)").arg(path_, describe(error));
    } else {
        busy = warning_.contains(QLatin1String("in use by another program"));
        problem = corruptAndStuck_ ? QStringLiteral("the build history %1 is unreadable").arg(path_)
                                   : QStringLiteral("the build history %1 is not open").arg(path_);
    }
    const QString notKept = keepPending(QString::fromUtf8(QJsonDocument(row).toJson(QJsonDocument::Compact)));
    RecordResult result;
    result.kept = notKept.isEmpty();
    if (busy)
        result.message = busyMessage();
    else
        result.message =
            problem[0].toUpper() + problem.mid(1) +
            (result.kept ? QStringLiteral("; the run is kept in %1 and will be recorded when the "
                                          "history can be written.")
                               .arg(pendingPath())
                         : QStringLiteral("."));
    if (!result.kept)
        result.message +=
            QStringLiteral(" It could not be kept for later either (%1): this run is lost.").arg(notKept);
    return result;
}

std::vector<HistoryRun> BuildHistory::runs(const QString& project, int limit) const
{
    std::vector<HistoryRun> out;
    if (!ok_)
        return out;
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    QSqlQuery q(db);
    q.prepare("SELECT id, preset, started_ms, seconds, verdict, summary, exit_code, signal, peak_tree_bytes,"
              " peak_system_used, jobs, package, target_kind, target_name, features, run_id"
              " FROM runs WHERE project = ? ORDER BY started_ms DESC, id DESC LIMIT ?");
    q.addBindValue(project);
    q.addBindValue(limit);
    if (!q.exec())
        return out;
    while (q.next()) {
        HistoryRun run;
        run.id = q.value(0).toLongLong();
        run.project = project;
        run.preset = q.value(1).toString();
        run.startedMs = q.value(2).toLongLong();
        run.seconds = q.value(3).toDouble();
        run.verdict = q.value(4).toString();
        run.summary = q.value(5).toString();
        if (!q.value(6).isNull())
            run.exitCode = q.value(6).toInt();
        if (!q.value(7).isNull())
            run.signal = q.value(7).toInt();
        run.peakTreeBytes = q.value(8).toULongLong();
        run.peakSystemUsed = q.value(9).toULongLong();
        if (!q.value(10).isNull())
            run.jobs = q.value(10).toUInt();
        if (!q.value(12).isNull()) {
            run.target.package = q.value(11).toString();
            run.target.kind = q.value(12).toString();
            run.target.name = q.value(13).toString();
            run.target.features = q.value(14).toString();
        }
        run.runId = q.value(15).toString();
        QSqlQuery s(db);
        s.prepare("SELECT command FROM steps WHERE run_id = ? ORDER BY idx");
        s.addBindValue(run.id);
        if (s.exec()) {
            while (s.next())
                run.commands << s.value(0).toString();
        }
        out.push_back(std::move(run));
    }
    return out;
}

std::vector<PresetStats> BuildHistory::presetStats(const QString& project) const
{
    std::vector<PresetStats> out;
    std::vector<std::vector<double>> seconds;
    for (const HistoryRun& run : runs(project, 1000)) {
        auto it = std::find_if(out.begin(), out.end(), [&](const PresetStats& s) {
            return s.preset == run.preset && s.target == run.target;
        });
        if (it == out.end()) {
            out.push_back(PresetStats{run.preset, 0, 0, 0.0, 0, run.target});
            seconds.emplace_back();
            it = out.end() - 1;
        }
        ++it->runs;
        it->peakTreeBytes = std::max(it->peakTreeBytes, run.peakTreeBytes);
        if (run.verdict == "succeeded") {
            ++it->succeeded;
            seconds[std::size_t(it - out.begin())].push_back(run.seconds);
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& s = seconds[i];
        std::sort(s.begin(), s.end());
        out[i].typicalSeconds = s.empty() ? 0.0 : s[s.size() / 2];
    }
    std::sort(out.begin(), out.end(), [](const PresetStats& a, const PresetStats& b) {
        return a.preset != b.preset ? a.preset < b.preset : a.target.label() < b.target.label();
    });
    return out;
}

std::vector<CratePeak> BuildHistory::hungriestCrates(const QString& project, int limit) const
{
    std::vector<CratePeak> out;
    if (!ok_)
        return out;
    QSqlQuery q(QSqlDatabase::database(connection_, false));
    q.prepare("SELECT c.crate, MAX(c.peak_bytes) AS peak FROM crate_peaks c JOIN runs r ON r.id = c.run_id"
              " WHERE r.project = ? GROUP BY c.crate ORDER BY peak DESC LIMIT ?");
    q.addBindValue(project);
    q.addBindValue(limit);
    if (q.exec()) {
        while (q.next())
            out.push_back(CratePeak{q.value(0).toString(), q.value(1).toULongLong()});
    }
    return out;
}

std::optional<quint64> BuildHistory::learnedPeakPerJob(const QString& project,
                                                       std::optional<quint64> fallback) const
{
    if (!ok_)
        return std::nullopt;
    QSqlQuery q(QSqlDatabase::database(connection_, false));
    q.prepare("SELECT MAX(CASE WHEN r.verdict = 'succeeded' THEN NULLIF(c.peak_bytes, 0) END),"
              " MAX(CASE WHEN r.verdict <> 'succeeded' THEN NULLIF(c.peak_bytes, 0) END)"
              " FROM crate_peaks c JOIN runs r ON r.id = c.run_id WHERE r.project = ?");
    q.addBindValue(project);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return combine(q.value(0), q.value(1), fallback);
}

std::optional<quint64> BuildHistory::learnedPeak(const QString& project, const QString& preset,
                                                 const std::optional<RunTarget>& target,
                                                 std::optional<quint64> fallback) const
{
    if (!ok_)
        return std::nullopt;
    QSqlQuery q(QSqlDatabase::database(connection_, false));
    QString sql = "SELECT MAX(CASE WHEN verdict = 'succeeded' THEN NULLIF(peak_tree_bytes, 0) END),"
                  " MAX(CASE WHEN verdict <> 'succeeded' THEN NULLIF(peak_tree_bytes, 0) END)"
                  " FROM runs WHERE project = ?";
    if (!preset.isEmpty())
        sql += " AND preset = ?";
    const bool byTarget = target && target->known();
    if (byTarget)
        sql += " AND (target_kind IS NULL OR (target_kind = ? AND IFNULL(target_name, '') = ?"
               " AND IFNULL(features, '') = ? AND IFNULL(package, '') = ?))";
    q.prepare(sql);
    q.addBindValue(project);
    if (!preset.isEmpty())
        q.addBindValue(preset);
    if (byTarget) {
        q.addBindValue(text(target->kind));
        q.addBindValue(text(target->name));
        q.addBindValue(text(target->features));
        q.addBindValue(text(target->package));
    }
    if (!q.exec() || !q.next())
        return std::nullopt;
    return combine(q.value(0), q.value(1), fallback);
}

} // namespace headroom::services
