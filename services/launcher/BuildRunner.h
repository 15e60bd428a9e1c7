#pragma once

// Runs the steps of a build plan with QProcess (argument lists, never a
// shell), each in its own process group; follows the build tree's memory in
// the snapshots it is shown; stops the whole tree on request; and diagnoses
// how it ended.

#include "headroom/BuildContainment.h"
#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/CargoMessages.h"
#include "headroom/CargoOutput.h"
#include "headroom/CgroupMemory.h"
#include "headroom/Snapshot.h"
#include "services/launcher/TerminalTextDecoder.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QStringList>

#include <chrono>
#include <map>
#include <memory>
#include <optional>

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
};

class BuildRunner : public QObject {
    Q_OBJECT

  public:
    explicit BuildRunner(QObject* parent = nullptr);
    ~BuildRunner() override;

    void setGracePeriod(std::chrono::milliseconds grace) { grace_ = grace; }
    std::chrono::milliseconds gracePeriod() const { return grace_; }
    void setMacOS(bool macOS) { macOS_ = macOS; }
    // The build's oom_score_adj (0..1000, inherited by everything it starts):
    // when the kernel must kill, it picks the build, which can be restarted,
    // over the window or the editor. Negative leaves it as inherited.
    void setOomScoreAdj(int adj) { oomScoreAdj_ = adj; }
    int oomScoreAdj() const { return oomScoreAdj_; }

    // Starts the plan. False (and `error` says why) when it cannot start.
    bool start(const headroom::BuildRequest& request, const headroom::BuildPlan& plan,
               QString* error = nullptr);
    bool isRunning() const { return running_; }
    // The last step has ended; the diagnosis waits for one more snapshot.
    bool concluding() const { return finishing_; }
    // The running step's root process, once it has started.
    std::optional<headroom::ProcessKey> rootKey() const { return rootKey_; }
    // The terminal text (standard error, and the lines of standard output
    // that are not cargo messages) and cargo's JSON messages (standard output).
    const headroom::CargoOutputParser& output() const { return parser_; }
    const headroom::CargoMessageParser& messages() const { return messages_; }

  public slots:
    // Terminates the whole build tree (SIGTERM, SIGKILL after the grace period).
    void stop();
    // Follows memory: call with every snapshot while the build runs.
    void observe(std::shared_ptr<const headroom::Snapshot> snapshot);

  signals:
    void stepStarted(int index, const QString& title, const QString& commandLine);
    void outputArrived(const QString& text);
    void progressChanged(unsigned done, unsigned total, const QStringList& compilingNow);
    // Cargo waits for another build's lock on the target folder; `holder`
    // names that build when Headroom can see it.
    void waitingForLock(bool waiting, const QString& holder);
    void memoryChanged(quint64 treeBytes, quint64 peakBytes);
    void finished(const BuildRunResult& result);

  private:
    void startStep(int index);
    void onStandardError();
    void onStandardOutput(bool atEnd = false);
    void emitLogLines(const QString& text);
    void onStepFinished(int exitCode, QProcess::ExitStatus status);
    void finish(std::optional<int> exitCode, std::optional<int> signal);
    void conclude();

    static constexpr int kFinalSnapshotWaitMs = 1500;
    void runThen();

    headroom::BuildRequest request_;
    headroom::BuildPlan plan_;
    QPointer<QProcess> process_;
    headroom::CargoOutputParser parser_;
    headroom::CargoMessageParser messages_;
    QElapsedTimer clock_;
    QString pendingLine_;
    TerminalTextDecoder output_;                      // the current step's standard error
    TerminalTextDecoder stdoutText_;                  // and what its standard output shows
    std::shared_ptr<TerminalTextDecoder> thenOutput_; // the then-run command's
    std::unique_ptr<BuildContainment> job_;
    bool running_ = false;
    bool finishing_ = false;
    bool cancelled_ = false;
    bool lockShown_ = false;
    int step_ = -1;
    std::optional<headroom::ProcessKey> rootKey_;
    std::optional<std::uint64_t> oomBefore_;
    std::optional<std::uint64_t> oomAfter_;
    double lowestAvailable_ = 1.0;
    double lowestHeadroom_ = 1.0;
    std::chrono::milliseconds grace_{3000};
    bool macOS_ = false;
    int oomScoreAdj_ = 500;
    std::optional<headroom::CgroupMemoryState> cgroupBefore_; // the build's memory cgroup as it started
    std::optional<headroom::CgroupMemoryState> cgroupAfter_;
    BuildRunResult result_;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::BuildRunResult)
