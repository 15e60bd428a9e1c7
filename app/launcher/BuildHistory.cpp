// SPDX-License-Identifier: GPL-3.0-or-later
#include "BuildHistory.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace headroom::app {

namespace {
QVariant optionalInt(const std::optional<int>& v)
{
    return v ? QVariant(*v) : QVariant(QMetaType(QMetaType::Int));
}
} // namespace

QString BuildHistory::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/history.sqlite";
}

BuildHistory::BuildHistory(const QString& path)
    : path_(path), connection_("headroom-history-" + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    QDir().mkpath(QFileInfo(path_).absolutePath());
    ok_ = open();
    if (!ok_ && QFileInfo::exists(path_)) {
        // Keep the unreadable file for the user; start a fresh one beside it.
        const QString aside =
            path_ + ".corrupt-" + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        QSqlDatabase::database(connection_, false).close();
        if (QFile::rename(path_, aside)) {
            warning_ =
                QStringLiteral("The build history %1 could not be read and was moved to %2; a new history "
                               "was started.")
                    .arg(path_, aside);
            ok_ = open();
        } else {
            warning_ =
                QStringLiteral("The build history %1 could not be read, nor moved aside; history is off "
                               "for this session.")
                    .arg(path_);
        }
    } else if (!ok_) {
        warning_ =
            QStringLiteral("The build history %1 could not be created; history is off for this session.")
                .arg(path_);
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

bool BuildHistory::open()
{
    QSqlDatabase db = QSqlDatabase::contains(connection_) ? QSqlDatabase::database(connection_, false)
                                                          : QSqlDatabase::addDatabase("QSQLITE", connection_);
    if (!db.isValid())
        return false;
    db.setDatabaseName(path_);
    if (!db.open())
        return false;
    QSqlQuery check(db);
    // A file that is not a database fails here, not at open().
    if (!check.exec("PRAGMA quick_check") || !check.next() || check.value(0).toString() != "ok") {
        db.close();
        return false;
    }
    QSqlQuery pragma(db);
    pragma.exec("PRAGMA journal_mode=WAL");
    pragma.exec("PRAGMA foreign_keys=ON");
    return createSchema();
}

bool BuildHistory::createSchema()
{
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    QSqlQuery q(db);
    return q.exec("CREATE TABLE IF NOT EXISTS runs ("
                  " id INTEGER PRIMARY KEY, project TEXT NOT NULL, preset TEXT NOT NULL, started_ms INTEGER,"
                  " seconds REAL, verdict TEXT, summary TEXT, exit_code INTEGER, signal INTEGER,"
                  " peak_tree_bytes INTEGER, peak_system_used INTEGER, jobs INTEGER, artifact TEXT)") &&
           q.exec("CREATE TABLE IF NOT EXISTS steps ("
                  " run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER, title TEXT,"
                  " command TEXT, environment TEXT)") &&
           q.exec("CREATE TABLE IF NOT EXISTS crate_peaks ("
                  " run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE, crate TEXT, peak_bytes INTEGER)") &&
           q.exec("CREATE INDEX IF NOT EXISTS runs_project ON runs(project)");
}

qint64 BuildHistory::record(const QString& project, const BuildPlan& plan, const BuildRunResult& r,
                            qint64 startedMs)
{
    if (!ok_)
        return 0;
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    if (!db.transaction())
        return 0;
    QSqlQuery q(db);
    q.prepare("INSERT INTO runs (project, preset, started_ms, seconds, verdict, summary, exit_code, signal,"
              " peak_tree_bytes, peak_system_used, jobs, artifact)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.addBindValue(project);
    q.addBindValue(QString::fromStdString(std::string(presetId(plan.preset))));
    q.addBindValue(startedMs);
    q.addBindValue(r.seconds);
    q.addBindValue(QString::fromStdString(std::string(verdictId(r.diagnosis.verdict))));
    q.addBindValue(QString::fromStdString(r.diagnosis.summary));
    q.addBindValue(optionalInt(r.exitCode));
    q.addBindValue(optionalInt(r.signal));
    q.addBindValue(qint64(r.peakTreeBytes));
    q.addBindValue(qint64(r.peakSystemUsed));
    q.addBindValue(r.jobs ? QVariant(int(*r.jobs)) : QVariant(QMetaType(QMetaType::Int)));
    q.addBindValue(r.artifactPath);
    if (!q.exec()) {
        db.rollback();
        return 0;
    }
    const qint64 id = q.lastInsertId().toLongLong();
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const BuildStep& step = plan.steps[i];
        QString environment;
        for (const auto& [k, v] : step.environment)
            environment += QString::fromStdString(k + "=" + v + "\n");
        QSqlQuery s(db);
        s.prepare("INSERT INTO steps (run_id, idx, title, command, environment) VALUES (?, ?, ?, ?, ?)");
        s.addBindValue(id);
        s.addBindValue(int(i));
        s.addBindValue(QString::fromStdString(step.title));
        s.addBindValue(QString::fromStdString(step.displayLine()));
        s.addBindValue(environment);
        if (!s.exec()) {
            db.rollback();
            return 0;
        }
    }
    for (const auto& [crate, bytes] : r.peakByCrate) {
        QSqlQuery c(db);
        c.prepare("INSERT INTO crate_peaks (run_id, crate, peak_bytes) VALUES (?, ?, ?)");
        c.addBindValue(id);
        c.addBindValue(QString::fromStdString(crate));
        c.addBindValue(qint64(bytes));
        if (!c.exec()) {
            db.rollback();
            return 0;
        }
    }
    return db.commit() ? id : 0;
}

std::vector<HistoryRun> BuildHistory::runs(const QString& project, int limit) const
{
    std::vector<HistoryRun> out;
    if (!ok_)
        return out;
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    QSqlQuery q(db);
    q.prepare(
        "SELECT id, preset, started_ms, seconds, verdict, summary, exit_code, signal, peak_tree_bytes,"
        " peak_system_used, jobs FROM runs WHERE project = ? ORDER BY started_ms DESC, id DESC LIMIT ?");
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
    for (const HistoryRun& run : runs(project, 1000)) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const PresetStats& s) { return s.preset == run.preset; });
        if (it == out.end()) {
            out.push_back(PresetStats{run.preset});
            it = out.end() - 1;
        }
        ++it->runs;
        it->peakTreeBytes = std::max(it->peakTreeBytes, run.peakTreeBytes);
        if (run.verdict == "succeeded")
            ++it->succeeded;
    }
    for (auto& stats : out) {
        std::vector<double> seconds;
        for (const HistoryRun& run : runs(project, 1000)) {
            if (run.preset == stats.preset && run.verdict == "succeeded")
                seconds.push_back(run.seconds);
        }
        std::sort(seconds.begin(), seconds.end());
        stats.typicalSeconds = seconds.empty() ? 0.0 : seconds[seconds.size() / 2];
    }
    std::sort(out.begin(), out.end(),
              [](const PresetStats& a, const PresetStats& b) { return a.preset < b.preset; });
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

std::optional<quint64> BuildHistory::learnedPeakPerJob(const QString& project) const
{
    const auto crates = hungriestCrates(project, 1);
    if (crates.empty() || crates.front().peakBytes == 0)
        return std::nullopt;
    return crates.front().peakBytes;
}

std::optional<quint64> BuildHistory::learnedPeak(const QString& project, const QString& preset) const
{
    if (!ok_)
        return std::nullopt;
    QSqlQuery q(QSqlDatabase::database(connection_, false));
    q.prepare(preset.isEmpty() ? "SELECT MAX(peak_tree_bytes) FROM runs WHERE project = ?"
                               : "SELECT MAX(peak_tree_bytes) FROM runs WHERE project = ? AND preset = ?");
    q.addBindValue(project);
    if (!preset.isEmpty())
        q.addBindValue(preset);
    if (!q.exec() || !q.next() || q.value(0).isNull() || q.value(0).toULongLong() == 0)
        return std::nullopt;
    return q.value(0).toULongLong();
}

} // namespace headroom::app
