#pragma once

// Every build run, kept in a SQLite database in the app-data folder: what
// ran, how long, how it ended, and the memory it took (the build tree's peak
// and each crate's rustc peak, which cargo itself does not keep). A corrupt
// database is moved aside with a warning, never silently emptied; a database
// another program holds is waited for and left alone; a run that cannot be
// written is kept in a pending file beside the database and recorded later.

#include "services/launcher/BuildRunner.h"

#include <QSqlError>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace headroom::services {

// What a run built: runs of one preset that build different targets need
// different time and memory, so they are counted apart.
struct RunTarget {
    QString package;
    QString kind; // "default", "bin", "example", "lib"; empty: not recorded (older runs)
    QString name;
    QString features;

    static RunTarget of(const headroom::BuildRequest& request);
    bool known() const { return !kind.isEmpty(); }
    // "example hello · features fast", "lib", "target not recorded".
    QString label() const;
    bool operator==(const RunTarget&) const = default;
};

struct HistoryRun {
    qint64 id = 0;
    QString runId; // the supervised run's id; empty for runs recorded before runs had one
    QString project;
    QString preset;
    RunTarget target;
    qint64 startedMs = 0;
    double seconds = 0.0;
    QString verdict;
    QString summary;
    std::optional<int> exitCode;
    std::optional<int> signal;
    quint64 peakTreeBytes = 0;
    quint64 peakSystemUsed = 0;
    std::optional<unsigned> jobs;
    QStringList commands; // the steps, as shown to the user
};

// One preset building one target.
struct PresetStats {
    QString preset;
    int runs = 0;
    int succeeded = 0;
    double typicalSeconds = 0.0; // median of the successful runs
    quint64 peakTreeBytes = 0;   // highest seen
    RunTarget target;
};

struct CratePeak {
    QString crate;
    quint64 peakBytes = 0;
};

// The outcome of recording a run.
struct RecordResult {
    qint64 id = 0;     // the new row; 0 when the run is not in the database
    QString message;   // why not, and where the run was kept meanwhile
    bool kept = false; // in the pending file: recorded when the database can be written
    bool ok() const { return id > 0; }
    explicit operator bool() const { return ok(); }
};

// What importing the history inbox did.
struct InboxImport {
    int imported = 0;     // runs recorded now (a run recorded before is only removed from the inbox)
    QStringList problems; // files that did not parse (moved aside), a history that could not be written
};

class BuildHistory {
  public:
    // How long opening or writing waits for another program that holds the database.
    static constexpr int kBusyWaitMs = 5000;

    // Opens (or creates) the database at `path`. Check ok()/warning().
    explicit BuildHistory(const QString& path);
    ~BuildHistory();
    BuildHistory(const BuildHistory&) = delete;
    BuildHistory& operator=(const BuildHistory&) = delete;

    bool ok() const { return ok_; }
    // Set when the file was unreadable and moved aside, is held by another
    // program, or could not be opened.
    const QString& warning() const { return warning_; }
    const QString& path() const { return path_; }
    // Runs that could not be written yet, one JSON object a line.
    QString pendingPath() const { return path_ + QStringLiteral(".pending.jsonl"); }
    // Where supervisors leave the runs they finished (historyInboxDir()).
    QString inboxPath() const;

    // Records one run in a single transaction. When the database cannot be
    // written (held by another program, read-only, disk full) the run is kept
    // in pendingPath() and recorded on the next open that can write. A run
    // with a run id (result.runId) is recorded once: recording it again
    // answers with the row it already has.
    RecordResult record(const QString& project, const headroom::BuildPlan& plan, const BuildRunResult& result,
                        qint64 startedMs, const RunTarget& target = {});

    // Records the runs waiting in the inbox (and the pending file), once
    // each by run id, in one transaction, and removes their files after the
    // commit. A file that does not parse is moved aside (<name>.corrupt) and
    // named in the problems, never deleted. Opening the history does this too.
    InboxImport importInbox();

    std::vector<HistoryRun> runs(const QString& project, int limit = 50) const;
    // Per preset and target: a lib-only build and an example build of one
    // preset are two rows.
    std::vector<PresetStats> presetStats(const QString& project) const;
    std::vector<CratePeak> hungriestCrates(const QString& project, int limit = 10) const;

    // Learned figures. A run that did not succeed (killed, cancelled, failed)
    // was stopped before its peak: it is a lower bound that may raise a
    // figure, never one that sets or lowers it. With no successful run the
    // figure is the lower bound only when it is above `fallback` (what the
    // caller would use without history); otherwise nothing is learned.
    //
    // The highest rustc peak: what one more job costs.
    std::optional<quint64> learnedPeakPerJob(const QString& project,
                                             std::optional<quint64> fallback = std::nullopt) const;
    // The highest build-tree peak of this project, for one preset (or any)
    // and one target (or any). Runs recorded before targets were count for
    // every target.
    std::optional<quint64> learnedPeak(const QString& project, const QString& preset = {},
                                       const std::optional<RunTarget>& target = std::nullopt,
                                       std::optional<quint64> fallback = std::nullopt) const;

    static QString defaultPath();

  private:
    enum class Opened { Yes, Busy, Corrupt, Failed };
    Opened open(QString* why);
    bool createSchema(QString* why);
    void reopenIfUnavailable();
    // Records the pending runs and the inbox's; the error that stopped it, if any.
    QSqlError replayPending(InboxImport* import = nullptr);
    QString keepPending(const QString& line);
    QString busyMessage() const;

    QString path_;
    QString connection_;
    QString warning_;
    bool ok_ = false;
    bool corruptAndStuck_ = false; // unreadable and could not be moved aside: never retried
};

} // namespace headroom::services
