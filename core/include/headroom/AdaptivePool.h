// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A supervised run's part in the job pool: its lane (JobLane), its member
// entry in the ledger (JobPool), the learned peaks (LearnedPeaks) and the
// policy (decidePool), put together. The supervisor calls tick() once per
// memory sample and applies nothing itself: tokens, pausing and resuming
// happen here, and the status and the log get what changed.

#include "headroom/ChildProcess.h"
#include "headroom/JobLane.h"
#include "headroom/JobPool.h"
#include "headroom/LearnedPeaks.h"
#include "headroom/PoolPolicy.h"
#include "headroom/RunRecord.h"
#include "headroom/Snapshot.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

struct AdaptiveOptions {
    PoolSettings settings;
    std::filesystem::path poolDir = defaultPoolDir();
    std::filesystem::path peaksPath = LearnedPeaks::defaultPath();
};

class AdaptivePool {
  public:
    // Joins the pool for `spec` (its id, title, project, poolStartTokens).
    // Failure says why (the runtime folder cannot be made, no fifo here);
    // the supervisor then runs the build without the pool and says so.
    static Result<std::unique_ptr<AdaptivePool>> join(const RunSpec& spec, AdaptiveOptions options = {});
    // Resumes whatever it paused, leaves the ledger, removes the lane.
    ~AdaptivePool();
    AdaptivePool(const AdaptivePool&) = delete;
    AdaptivePool& operator=(const AdaptivePool&) = delete;

    // Makes a step draw from the lane: the jobserver environment, its own
    // -j taken out. Returns a line for the log when it took something out
    // ("Headroom: -j 8 is left out: the job pool decides the parallelism").
    std::string prepare(ChildSpec& child) const;

    struct Tick {
        PoolStatus status;   // for RunStatus::pool (parallelism appended to what was given)
        std::string logLine; // "Headroom: pool: 3 of 7 tokens, 5.2 GiB budget (container limit 8.0 GiB)"
                             // when the tokens or the reason changed; empty otherwise
    };
    // One steering step: reads the lane, finds the run's jobs in the
    // snapshot under `root`, updates the ledger, decides and applies.
    Tick tick(const Snapshot& snapshot, const std::optional<ProcessKey>& root,
              const std::vector<std::string>& compilingNow, std::int64_t nowMs);

    // An OOM retry: the crate that died runs alone (no tokens while it runs).
    void setExclusive(std::optional<std::string> crate);
    // At the run's end: the peaks it saw (rustc by crate, build scripts by
    // package), saved to the learned peaks; killed: those were OOM-killed.
    Result<bool> learn(const std::map<std::string, std::uint64_t>& peakByUnit,
                       const std::vector<std::string>& killed = {});

    const JobLane& lane() const;

    // Added for the OOM retry: the peak of each unit's process tree as this
    // run's ticks saw it (rustc by crate, build scripts "build-script:<pkg>"),
    // and the unit that was the largest job at the last tick (the likely
    // victim when cargo's output does not name it).
    const std::map<std::string, std::uint64_t>& peaksSeen() const;
    std::optional<std::string> largestJob() const;

  private:
    AdaptivePool();
    struct State;
    std::unique_ptr<State> state_;
};

// The pool's unit of a process: the crate of a rustc (--crate-name),
// "build-script:<pkg>" for a build script run from
// .../build/<pkg>-<hash>/build-script-build; empty for anything else.
std::string poolUnitOf(const ProcessSample& process);
// The package a build script's path names: ".../build/ring-0f3a9c2d1e4b5a6f/
// build-script-build" -> "ring"; empty when the path is not a build script's.
std::string buildScriptPackageOf(std::string_view path);
// A unit in words: "serde", "the build script of ring".
std::string poolUnitWords(std::string_view unit);

} // namespace headroom
