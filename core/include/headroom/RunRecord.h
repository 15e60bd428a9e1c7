// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// One supervised build run, as the files of the runs folder hold it: what to
// run (RunSpec, written by the front-end that starts the run) and how it
// goes (RunStatus, rewritten by the supervisor while it runs, atomically).
// Every front-end (the window, `headroom build`, `headroom run`, `headroom
// runs`) reads the same status, so a front-end that closes or crashes loses
// nothing: the next one reads where the run is.

#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/Process.h"
#include "headroom/Result.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// What a run was started from: named in `headroom runs` and in history.
enum class RunOrigin { Window, HeadlessBuild, Command };
std::string_view runOriginId(RunOrigin origin); // "window", "build", "run"

// What the front-end asks the supervisor to run. Plain data; the supervisor
// runs exactly this and nothing it reads from elsewhere.
struct RunSpec {
    std::string id; // the run's name in the runs folder: [A-Za-z0-9_-], at most 64 bytes
    RunOrigin origin = RunOrigin::Command;
    std::string title;    // "A · tsz", "cargo nextest run": for lists and the tray
    std::string project;  // the history's key: the workspace root, or the folder a command ran in
    BuildRequest request; // target kind and name (the artifact), then-run, project folder
    BuildPreset preset = BuildPreset::Custom;
    std::optional<unsigned> jobs;
    std::vector<BuildStep> steps; // run one after another while each exits 0
    std::string artifactPath;     // the planned file; cargo's reported one wins
    // How history files the run (RunTarget's fields): kind "default", "bin",
    // "example", "lib", "custom" or "command"; empty: not recorded.
    std::string targetPackage, targetKind, targetName, targetFeatures;
    std::string historyPath;     // the history database; the supervisor records into its inbox
    int oomScoreAdj = 500;       // Linux: inherited by the whole build; negative: left as inherited
    std::int64_t graceMs = 3000; // stop: SIGTERM, then SIGKILL after this
    // Linux with a systemd user manager: the transient scope's MemoryHigh
    // (throttle) and MemoryMax (the scope's own OOM kill). Unset: none.
    std::optional<std::uint64_t> memoryHigh;
    std::optional<std::uint64_t> memoryMax;
    std::int64_t createdMs = 0; // wall clock, ms since the epoch
    // Draws from the job pool (JobPool): the Adaptive preset and `headroom
    // run`. Its steps get the lane's jobserver and lose their own -j.
    bool pool = false;
    unsigned poolStartTokens = 0; // where the lane may start once peaks are learned (Auto's -j - 1)
};

enum class RunState {
    Starting,       // the spec is written, the supervisor has not taken it yet
    Running,        // the supervisor runs a step (or the then-run command)
    Finished,       // the run is over and `diagnosis` says how
    SupervisorLost, // the supervisor ended before the run did (a reader found it gone)
};
std::string_view runStateId(RunState state); // "starting", "running", "finished", "supervisor-lost"

struct RunStepStatus {
    std::optional<ProcessKey> root; // the step's first process, once started
    std::optional<int> exitCode;
    std::optional<int> signal;
    std::int64_t startedMs = 0;
    std::int64_t endedMs = 0; // 0 while it runs
};

// The job pool as this run sees it, rewritten while it runs.
struct PoolStatus {
    bool active = false;      // the run draws from the pool
    std::string problem;      // why it could not join, in words (then it runs with cargo's own -j)
    unsigned granted = 0;     // tokens its lane holds (jobs beyond the implicit one)
    unsigned inUse = 0;       // of those, taken by its jobs now
    unsigned poolGranted = 0; // over every build in the pool
    unsigned poolBuilds = 0;  // builds drawing from it now
    unsigned cpus = 0;
    std::uint64_t budgetBytes = 0; // what may still be used before the limit (MemoryBudget)
    std::uint64_t limitBytes = 0;
    std::string limit; // MemoryBudget::describe(): "container limit 8.0 GiB"
    std::uint64_t reserveBytes = 0;
    std::uint64_t predictedBytes = 0; // the predicted peak of what runs now
    std::string heldBack;             // why no more tokens are given; empty: none held back
    std::vector<std::string> paused;  // jobs the pool paused, in words
    unsigned oomRetries = 0;          // times the build was resumed after an OOM kill (at most 2)
    std::string retryCrate;           // the crate that was killed, built alone on the retry
    // Parallelism over time, for the chart: (ms since the run started, jobs
    // running = tokens in use + 1). At most 600 points, thinned when full.
    std::vector<std::pair<std::int64_t, unsigned>> parallelism;
};

struct RunStatus {
    static constexpr int kVersion = 1;
    RunSpec spec;
    RunState state = RunState::Starting;
    std::optional<ProcessKey> supervisor;
    std::int64_t startedMs = 0; // the first step's start
    std::int64_t updatedMs = 0; // the supervisor's last write
    std::int64_t endedMs = 0;

    // Progress, rewritten while it runs.
    int step = -1;                    // index into spec.steps; == steps.size() for the then-run command
    std::vector<RunStepStatus> steps; // one per step started
    unsigned done = 0, total = 0;     // cargo's progress bar, when it shows one
    std::vector<std::string> compilingNow;
    bool waitingForLock = false;
    std::string lockHolder; // the other build holding the target folder's lock, when known
    std::uint64_t treeBytes = 0;
    std::uint64_t peakTreeBytes = 0;
    std::uint64_t peakSystemUsed = 0;
    std::map<std::string, std::uint64_t> peakByCrate; // rustc --crate-name -> peak resident bytes
    std::string containment;                          // how the build is kept together, in words
    std::string cgroupDir;                            // the build's memory cgroup, when known
    bool stopRequested = false;

    // The outcome, once Finished.
    std::optional<int> exitCode; // the last step's
    std::optional<int> signal;
    double seconds = 0.0;
    std::optional<BuildDiagnosis> diagnosis;
    std::string artifactPath;
    std::int64_t artifactSize = -1;
    std::vector<std::string> executables;
    unsigned errorCount = 0, warningCount = 0;
    int stepsRun = 0;
    std::optional<int> thenRunExitCode;
    std::string problem; // SupervisorLost, a history that could not be written: in words
    PoolStatus pool;

    // The exit code a terminal front-end exits with: the then-run command's
    // after a success, 128 + the signal, never 0 for a failure.
    int exitCodeForShell() const;
    // The root of whatever runs now (the current step's first process).
    std::optional<ProcessKey> currentRoot() const;
};

// The status as JSON (one object, UTF-8). Strings that are not UTF-8 (a
// process's argument) are written with their bad bytes replaced.
std::string toJson(const RunStatus& status);
// Reads it back; failure (with the reason) for malformed JSON, a wrong
// version or a field of the wrong type. Missing fields keep their defaults.
Result<RunStatus> parseRunStatus(std::string_view json);

// The history record of a finished run, as one JSON object in the form the
// history database's pending file keeps (project, preset, target, times,
// verdict, peaks, steps, crates) with its "runId".
std::string historyRecordJson(const RunStatus& status);

// A run id that is new for this machine: time, pid and a random part.
std::string newRunId();
// Ids are file names: [A-Za-z0-9_-]{1,64}.
bool isValidRunId(std::string_view id);

} // namespace headroom
