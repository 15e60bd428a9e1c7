#pragma once

// Every build run, kept in a SQLite database in the app-data folder: what
// ran, how long, how it ended, and the memory it took (the build tree's peak
// and each crate's rustc peak, which cargo itself does not keep). A corrupt
// database is moved aside with a warning, never silently emptied.

#include "BuildRunner.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace headroom::app {

struct HistoryRun {
    qint64 id = 0;
    QString project;
    QString preset;
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

struct PresetStats {
    QString preset;
    int runs = 0;
    int succeeded = 0;
    double typicalSeconds = 0.0; // median of the successful runs
    quint64 peakTreeBytes = 0;   // highest seen
};

struct CratePeak {
    QString crate;
    quint64 peakBytes = 0;
};

class BuildHistory {
  public:
    // Opens (or creates) the database at `path`. Check ok()/warning().
    explicit BuildHistory(const QString& path);
    ~BuildHistory();
    BuildHistory(const BuildHistory&) = delete;
    BuildHistory& operator=(const BuildHistory&) = delete;

    bool ok() const { return ok_; }
    // Set when the file was unreadable and moved aside, or could not be opened.
    const QString& warning() const { return warning_; }
    const QString& path() const { return path_; }

    // Records one run in a single transaction; the new row's id, or 0.
    qint64 record(const QString& project, const headroom::BuildPlan& plan, const BuildRunResult& result,
                  qint64 startedMs);

    std::vector<HistoryRun> runs(const QString& project, int limit = 50) const;
    std::vector<PresetStats> presetStats(const QString& project) const;
    std::vector<CratePeak> hungriestCrates(const QString& project, int limit = 10) const;
    // The highest rustc peak seen for this project: what one more job costs.
    std::optional<quint64> learnedPeakPerJob(const QString& project) const;
    // The highest build-tree peak of this project (for one preset, or any).
    std::optional<quint64> learnedPeak(const QString& project, const QString& preset = {}) const;

    static QString defaultPath();

  private:
    bool open();
    bool createSchema();

    QString path_;
    QString connection_;
    QString warning_;
    bool ok_ = false;
};

} // namespace headroom::app
