// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The window's and `headroom build`'s side of a supervised build: it writes
// the run's spec into the runs folder, starts the supervisor (`headroom-cli
// supervise`, detached in its own session) and follows the run's log and
// status, as signals. The supervisor runs the steps, samples memory and
// diagnoses the end; this side never owns a build process, so closing or
// killing it never ends a build. A run started elsewhere can be adopted.

#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/Process.h"
#include "headroom/RunRecord.h"
#include "services/launcher/TerminalTextDecoder.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

namespace headroom {
class RunFollower;
}

namespace headroom::services {

struct BuildRunResult {
    headroom::BuildDiagnosis diagnosis;
    headroom::BuildPreset preset = headroom::BuildPreset::A;
    std::optional<unsigned> jobs;
    std::optional<int> exitCode; // the last step's exit code
    std::optional<int> signal;   // or the signal that ended it
    double seconds = 0.0;
    QString artifactPath;     // the executable cargo reported for the target, or the planned path
    qint64 artifactSize = -1; // -1 when it does not exist
    QStringList executables;  // every executable cargo reported building, in order
    unsigned errorCount = 0;  // compiler errors in cargo's JSON messages
    unsigned warningCount = 0;
    quint64 peakTreeBytes = 0;
    quint64 peakSystemUsed = 0;
    std::map<std::string, quint64> peakByCrate; // rustc --crate-name -> peak resident bytes
    int stepsRun = 0;
    std::optional<int> thenRunExitCode;
    QString runId;             // the supervised run (the runs folder's name for it); empty: none started
    QString logPath;           // its whole output, byte for byte
    headroom::PoolStatus pool; // the job pool as the run last saw it (active: it drew from the pool)
};

class BuildRunner : public QObject {
    Q_OBJECT

  public:
    explicit BuildRunner(QObject* parent = nullptr);
    // Never stops the run: it outlives whoever follows it.
    ~BuildRunner() override;

    void setGracePeriod(std::chrono::milliseconds grace) { grace_ = grace; }
    std::chrono::milliseconds gracePeriod() const { return grace_; }
    // The build's oom_score_adj (0..1000, inherited by everything it starts):
    // when the kernel must kill, it picks the build, which can be restarted,
    // over the window or the editor. Negative leaves it as inherited.
    void setOomScoreAdj(int adj) { oomScoreAdj_ = adj; }
    int oomScoreAdj() const { return oomScoreAdj_; }

    // What the next start() writes into the run's spec: who starts it, its
    // title in lists, the project and target history files it under, the
    // history the supervisor posts it to (empty: none), and the memory limits
    // of its scope (Linux with a systemd user manager).
    void setOrigin(headroom::RunOrigin origin) { origin_ = origin; }
    void setTitle(const QString& title) { title_ = title; }
    void setProject(const QString& project) { project_ = project; }
    void setTarget(const QString& package, const QString& kind, const QString& name, const QString& features);
    void setHistoryPath(const QString& path) { historyPath_ = path; }
    void setMemoryLimits(std::optional<std::uint64_t> high, std::optional<std::uint64_t> max);
    // The runs folder; empty: defaultRunsDir() ($HEADROOM_RUNS_DIR wins).
    void setRunsDir(const QString& dir) { runsDir_ = dir; }
    QString runsDir() const;

    // The supervisor's program: $HEADROOM_CLI, else headroom-cli beside this
    // program, else in the build tree (../cli), else on PATH. Empty, with
    // `error` saying where it looked, when there is none.
    static QString supervisorProgram(QString* error = nullptr);

    // Starts the plan under a new supervisor. False (and `error` says why)
    // when it cannot start.
    bool start(const headroom::BuildRequest& request, const headroom::BuildPlan& plan,
               QString* error = nullptr);
    // Follows a run that is already under way, from the end of its log.
    bool adopt(const QString& runId, QString* error = nullptr);
    bool isRunning() const { return running_; }
    // The running step's root process, once it has started.
    std::optional<headroom::ProcessKey> rootKey() const;
    QString runId() const { return QString::fromStdString(id_); }
    QString logPath() const;
    // The run's status as last read; the spec it was started with.
    const std::optional<headroom::RunStatus>& status() const { return status_; }
    const headroom::BuildRequest& request() const { return request_; }
    const headroom::BuildPlan& plan() const { return plan_; }

    // How long a supervisor may take to take the run before it is given up.
    static constexpr int kSupervisorStartMs = 20000;
    static constexpr std::uint64_t kAdoptTailBytes = 256 * 1024;

  public slots:
    // Asks the supervisor to stop the whole build tree (SIGTERM, SIGKILL
    // after the grace period); `finished` follows when it has.
    void stop();

  signals:
    void stepStarted(int index, const QString& title, const QString& commandLine);
    void outputArrived(const QString& text);
    void progressChanged(unsigned done, unsigned total, const QStringList& compilingNow);
    // Cargo waits for another build's lock on the target folder; `holder`
    // names that build when Headroom can see it.
    void waitingForLock(bool waiting, const QString& holder);
    void memoryChanged(quint64 treeBytes, quint64 peakBytes);
    // The job pool as the run sees it (PoolStatus): whenever it changes,
    // and once for an adopted run. Not sent for a run that never asked for
    // the pool and has nothing to say about it.
    void poolChanged(const headroom::PoolStatus& pool);
    void finished(const BuildRunResult& result);

  private:
    void follow(const std::string& id, bool fromTail);
    void poll();
    void takeLog(const std::string& bytes);
    void flushLog();
    void emitLogLines(const QString& text);
    void takeStatus(const headroom::RunStatus& status);
    void announceStepsUpTo(int index);
    void end(const QString& problem);
    BuildRunResult resultOf(const headroom::RunStatus& status) const;

    headroom::BuildRequest request_;
    headroom::BuildPlan plan_;
    std::unique_ptr<headroom::RunFollower> follower_;
    QTimer timer_;
    QElapsedTimer clock_;
    std::string id_;
    std::optional<headroom::RunStatus> status_;
    TerminalTextDecoder decoder_;
    QString pendingLine_;
    bool running_ = false;
    int announcedStep_ = -1;
    unsigned lastDone_ = 0, lastTotal_ = 0;
    std::vector<std::string> lastCompiling_;
    bool lockShown_ = false;
    std::string lockHolder_;
    std::uint64_t lastTree_ = 0, lastPeak_ = 0;
    std::optional<headroom::PoolStatus> lastPool_;
    QString lastProblem_;

    std::chrono::milliseconds grace_{3000};
    int oomScoreAdj_ = 500;
    headroom::RunOrigin origin_ = headroom::RunOrigin::Window;
    QString title_, project_, historyPath_, runsDir_;
    QString targetPackage_, targetKind_, targetName_, targetFeatures_;
    std::optional<std::uint64_t> memoryHigh_, memoryMax_;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::BuildRunResult)
Q_DECLARE_METATYPE(headroom::PoolStatus)
