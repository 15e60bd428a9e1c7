// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// One build about to start, as the launcher sees it: the request and preset,
// the latest snapshot and what this project's history has learned. From these
// alone it gives the plan (steps and Auto's -j arithmetic), the pre-build
// checks and the heavy processes offered to pause or stop. The Build page and
// `headroom build` both ask it, so they never disagree. Pure logic.

#include "headroom/BuildChecks.h"
#include "headroom/BuildPlan.h"
#include "headroom/Snapshot.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

// What the build history has learned for this project, as plain figures.
// Unset (or zero) when nothing was learned.
struct LearnedFigures {
    std::optional<std::uint64_t> peakPerJob; // highest rustc peak: what one more job costs (Auto)
    std::optional<std::uint64_t> peak;       // highest build-tree peak of this preset and target
};

struct BuildSessionSettings {
    double maxUsedFraction = 0.80;          // of RAM, to start at; outside (0, 1] means the default
    std::uint64_t defaultNeed = 8ull << 30; // RAM + free swap needed when nothing was learned
    std::optional<std::uint64_t> need;      // asked for explicitly: wins over the learned peak
    unsigned cpus = 1;                      // at most this many jobs for Auto
    std::string workspace;                  // the workspace root; empty while unknown: the project folder
    std::string targetDir;                  // cargo's target folder; empty while unknown: <project>/target
    std::optional<BuildPlan> customPlan;    // what BuildPreset::Custom runs; unset: none chosen
};

class BuildSession {
  public:
    // How many heavy processes the launcher lists.
    static constexpr std::size_t kHeavyLimit = 15;

    BuildSession(BuildRequest request, BuildPreset preset, std::shared_ptr<const Snapshot> snapshot,
                 LearnedFigures learned = {}, BuildSessionSettings settings = {});

    // The request as it will run: the target folder filled in when known.
    const BuildRequest& request() const { return request_; }
    BuildPreset preset() const { return preset_; }

    // What Auto divides: the memory available now, the learned (or default)
    // peak per job and the CPUs.
    AutoJobsInput autoJobsInput() const;
    // The exact steps the preset runs now.
    BuildPlan plan() const;
    // What the checks test against: the learned peak, else the default need,
    // unless a need was asked for.
    BuildCheckOptions checkOptions() const;
    // Empty before the first snapshot.
    std::vector<BuildCheck> checks() const;

    // Live processes that hold memory, test processes first, then rustc, then
    // the rest, heaviest first within each (pid breaks ties): what preset D
    // offers to pause or stop.
    std::vector<ProcessSample> heavyProcesses(std::size_t limit = kHeavyLimit) const;
    // The test processes preset D pauses on its own: those outside any build tree.
    std::vector<ProcessKey> testsToPause() const;

  private:
    BuildRequest request_;
    BuildPreset preset_;
    std::shared_ptr<const Snapshot> snapshot_;
    LearnedFigures learned_;
    BuildSessionSettings settings_;
};

} // namespace headroom
