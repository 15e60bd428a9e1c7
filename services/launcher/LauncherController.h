// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Everything the launcher panel can ask for, without widgets: the project and
// what its workspace offers, the plan of a preset, the pre-build checks, a
// start that can wait for memory, freeing memory for preset D, the running
// build and its history. The plan, checks and heavy processes come from a
// BuildSession, as for `headroom build`. The panel binds to it; the dashboard
// feeds it snapshots.

#include "headroom/BuildChecks.h"
#include "headroom/BuildSession.h"
#include "headroom/ProcessControl.h"
#include "services/launcher/BuildGate.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/BuildRunner.h"
#include "services/launcher/CustomPresets.h"
#include "services/launcher/WorkspaceInfo.h"

#include <QElapsedTimer>
#include <QObject>

#include <functional>
#include <memory>
#include <optional>

namespace headroom::services {

class LauncherController : public QObject {
    Q_OBJECT

  public:
    enum class State { Idle, LoadingProject, Waiting, Running };
    Q_ENUM(State)

    // `settingsPath` holds custom presets and recent projects (an INI file);
    // empty uses the application's default settings.
    explicit LauncherController(const QString& historyPath, const QString& settingsPath = {},
                                QObject* parent = nullptr);
    ~LauncherController() override;

    State state() const { return state_; }
    const std::optional<WorkspaceInfo>& workspace() const { return workspace_; }
    // Set when the launcher's settings file was damaged and moved aside.
    const QString& settingsWarning() const { return settingsWarning_; }
    void setGracePeriod(std::chrono::milliseconds grace) { runner_.setGracePeriod(grace); }
    void setOomScoreAdj(int adjustment) { runner_.setOomScoreAdj(adjustment); }
    // The runs folder the builds are supervised in; empty: defaultRunsDir().
    void setRunsDir(const QString& dir) { runner_.setRunsDir(dir); }
    QString runsDir() const { return runner_.runsDir(); }
    void setCargoProgram(const QString& cargo) { cargo_ = cargo; }
    void setCheckOptions(double maxUsedFraction, std::uint64_t defaultNeed);

    const std::vector<CustomPreset>& customPresets() const { return customPresets_; }
    void setCustomPresets(std::vector<CustomPreset> presets);
    // The custom preset that BuildPreset::Custom runs.
    void selectCustomPreset(int index) { customIndex_ = index; }
    QStringList recentProjects() const;
    void setRecentProjects(const QStringList& recent);

    // Loads the workspace (cargo metadata) off the GUI thread.
    void openProject(const QString& projectDir);

    // The exact steps a preset would run now (Auto's -j from the latest snapshot).
    BuildPlan plan(BuildRequest request, BuildPreset preset) const;
    // Problems with the request (unknown target, feature...); empty when fine.
    QStringList validate(const BuildRequest& request) const;
    std::vector<BuildCheck> checks(const BuildRequest& request, BuildPreset preset) const;
    // Heaviest processes, tests and rustc first: what preset D offers to pause or stop.
    std::vector<ProcessSample> heavyProcesses(std::size_t limit = BuildSession::kHeavyLimit) const;
    // The root of the build running now, if one is.
    std::optional<ProcessKey> runningBuildRoot() const;
    // The supervised run followed now (empty when none).
    QString runningRunId() const { return state_ == State::Running ? runner_.runId() : QString(); }

    // Follows the newest run of the runs folder that still runs under a live
    // supervisor (a build started by an earlier window, or from a terminal)
    // and tells about the others. Done once on its own after construction
    // (or at the first snapshot); true when a run was adopted.
    bool adoptRunning();

    // WaitForBuild waits only for the competing build on this workspace to end.
    enum class StartMode { CheckFirst, Anyway, WaitForMemory, WaitForBuild };
    // Starts (or waits to start) a build. False with `problem` when it cannot.
    bool start(const BuildRequest& request, BuildPreset preset, StartMode mode, QString* problem = nullptr);
    // Preset D: pause or stop these processes first, then start preset A.
    void freeMemoryThenStart(const BuildRequest& request, const std::vector<ProcessKey>& targets,
                             ProcessAction action);
    // The offers of a failed check: pause the heavy test processes (resumed
    // when the next build ends), or stop the competing build's whole tree.
    void pauseForBuild(const std::vector<ProcessKey>& tests);
    void stopCompetingBuild(const std::vector<ProcessKey>& roots);
    void stop();
    void cancelWaiting();
    // Resumes the processes preset D paused, if any are still paused.
    void resumePaused();

    // The build started last (kept across runs), for "Start last build".
    struct LastBuild {
        BuildRequest request;
        BuildPreset preset = BuildPreset::A;
        QString customPreset;  // the custom preset's name, for BuildPreset::Custom
        QString title() const; // "A · tsz"
    };
    std::optional<LastBuild> lastBuild() const;

    // The form last used for a project (target, features, profile, arguments),
    // kept across runs so picking the project again restores it.
    void rememberProjectForm(const BuildRequest& request);
    std::optional<BuildRequest> projectForm(const QString& projectDir) const;
    // The preset last started for a project (and the custom preset's name);
    // none when the project was never built from here.
    std::optional<std::pair<BuildPreset, QString>> projectPreset(const QString& projectDir) const;

    // The build history: where it is, what went wrong opening it, and the
    // loaded workspace's runs, per-preset figures and hungriest crates.
    const QString& historyPath() const { return history_->path(); }
    const QString& historyWarning() const { return history_->warning(); }
    // Runs that could not be written yet wait here.
    QString pendingHistoryPath() const { return history_->pendingPath(); }
    std::vector<HistoryRun> runs(int limit = 50) const;
    std::vector<PresetStats> presetStats() const;
    std::vector<CratePeak> hungriestCrates(int limit = 10) const;

  public slots:
    void observe(std::shared_ptr<const headroom::Snapshot> snapshot);

  signals:
    void stateChanged(headroom::services::LauncherController::State state);
    // The running build, as its runner reports it.
    void stepStarted(int index, const QString& title, const QString& commandLine);
    void outputArrived(const QString& text);
    void progressChanged(unsigned done, unsigned total, const QStringList& compilingNow);
    void waitingForLock(bool waiting, const QString& holder);
    void memoryChanged(quint64 treeBytes, quint64 peakBytes);
    void poolChanged(const headroom::PoolStatus& pool);
    void workspaceLoaded(const QString& projectDir);
    void workspaceFailed(const QString& projectDir, const QString& message);
    void checksFailed(const std::vector<headroom::BuildCheck>& checks);
    void waiting(const QString& reason, int secondsWaited);
    void planStarted(const headroom::BuildPlan& plan);
    void actionsDone(const headroom::ActionReport& report);
    void finished(const headroom::services::BuildRunResult& result);
    void historyChanged();
    // The run just finished could not be written to the history (and where it was kept).
    void historyProblem(const QString& text);
    void message(const QString& text);

  private:
    void setState(State state);
    void launch();
    void rememberLastBuild();
    // The target a run is recorded (and its peak learned) under: a custom
    // preset is its own target, the command it runs.
    RunTarget runTarget(const BuildRequest& request, BuildPreset preset) const;
    const CustomPreset* customPreset() const;
    BuildSession session(const BuildRequest& request, BuildPreset preset) const;
    // Applies `action` off the GUI thread, then reports it and runs `then`
    // (unless the controller is gone by then).
    void actInBackground(std::vector<ProcessKey> targets, ProcessAction action, bool tree,
                         bool rememberPaused, std::function<void()> then = {});
    void runEnded(const BuildRunResult& result);
    void importInbox();

    std::unique_ptr<BuildHistory> history_;
    std::unique_ptr<QSettings> settings_;
    QString settingsWarning_;
    std::vector<CustomPreset> customPresets_;
    int customIndex_ = -1;
    BuildRunner runner_;
    BuildGate gate_;
    State state_ = State::Idle;
    QString cargo_ = QStringLiteral("cargo");
    std::optional<WorkspaceInfo> workspace_;
    QString loadingDir_;
    std::shared_ptr<const Snapshot> snapshot_;
    BuildRequest request_;
    BuildPreset preset_ = BuildPreset::A;
    BuildPlan plan_;
    qint64 startedMs_ = 0;
    QString recordProject_; // what the running build is recorded under
    RunTarget recordTarget_;
    bool adoptChecked_ = false;
    QElapsedTimer waitClock_;
    std::vector<ProcessKey> paused_;
    double maxUsedFraction_ = 0.80;
    std::uint64_t defaultNeed_ = 8ull << 30;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::BuildPlan)
Q_DECLARE_METATYPE(std::vector<headroom::BuildCheck>)
