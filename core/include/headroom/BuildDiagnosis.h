// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Why a build ended the way it did, in words, and the next safe step.

#include "headroom/BuildPlan.h"
#include "headroom/CargoMessages.h"
#include "headroom/CargoOutput.h"
#include "headroom/CgroupMemory.h"

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

enum class BuildVerdict {
    Succeeded,
    OutOfMemory,    // killed by signal 9 and the build's cgroup counted an OOM kill, or the machine's
                    // counter rose while memory was near its limit (then the summary says "Probably")
    KilledBySignal, // killed by signal 9 (or another signal) for another reason
    CompileError,
    MissingArtifact, // cargo said yes but the expected file is not there (or cargo reported none)
    Cancelled,       // stopped from Headroom
    Failed,          // any other non-zero exit
};

std::string_view verdictId(BuildVerdict verdict);

struct BuildOutcomeFacts {
    std::optional<int> exitCode; // normal exit
    std::optional<int> signal;   // killed by this signal
    bool cancelledByUser = false;
    bool artifactExpected = false;
    bool artifactExists = false;
    // cargo's JSON messages were read and reported no artifact for the target.
    bool artifactNotReported = false;
    std::optional<std::uint64_t> oomKillsBefore; // kernel counter at start
    std::optional<std::uint64_t> oomKillsAfter;  // and at the end
    double lowestAvailableFraction = 1.0;        // least available RAM seen during the build, of total
    double lowestHeadroomFraction = 1.0;         // least (available + free swap) / (total + swap total)
    bool macOS = false;                          // "Killed: 9" there is often code signing
    unsigned jobs = 0;                           // -j used, 0 when unknown
    // The memory cgroup the build ran in (v2 memory.events or v1 memory.oom_control):
    // its own OOM-kill counter is evidence, the machine's alone is not.
    std::optional<std::uint64_t> cgroupOomKillsBefore;
    std::optional<std::uint64_t> cgroupOomKillsAfter;
    bool cgroupNearLimit = false; // the cgroup's peak usage came within 10% of its limit
    // The build ran in its own transient scope (Linux, systemd user manager):
    // every kill it counted was of the build.
    bool cgroupIsBuildScope = false;
    std::optional<std::uint64_t> cgroupLimitBytes; // its MemoryMax (memory.max); none: no limit
    std::optional<std::uint64_t> cgroupHighBytes;  // its MemoryHigh (memory.high); none: no throttle
    bool cgroupThrottled = false;       // memory.events "high" rose: the kernel slowed the build down
    std::uint64_t cgroupHighEvents = 0; // by how much
    bool cgroupHitMax = false;          // memory.events "max" rose: usage reached MemoryMax
    std::uint64_t cgroupMaxEvents = 0;
};

struct BuildDiagnosis {
    BuildVerdict verdict = BuildVerdict::Failed;
    std::string summary;                   // one sentence
    std::string detail;                    // what was seen: the killed process, the error and its place
    std::optional<BuildPreset> nextPreset; // the ladder's next step
    std::optional<unsigned> nextJobs;      // Auto: a lower -j
    std::string nextStep;                  // the advice in words
};

// The facts the build's memory cgroup gives, read as it started and as it ended.
// When `after` is the build's own scope and `before` was read elsewhere (the
// build had not moved into its scope yet), the scope's counters count from
// zero: a transient scope is new for each step.
void addCgroupFacts(BuildOutcomeFacts& facts, const CgroupMemoryState& before,
                    const CgroupMemoryState& after);

// `output` read the terminal text (progress, the lock, cargo's own errors,
// killed processes); `messages`, when given, cargo's JSON messages: their
// errors come first, with the count, the place and the target.
BuildDiagnosis diagnoseBuild(const BuildOutcomeFacts& facts, const CargoOutputParser& output,
                             BuildPreset preset, const CargoMessageParser* messages = nullptr);

} // namespace headroom
