// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What Headroom tells Prometheus about a machine, and how the window reads a
// machine back from those series. Both directions live here so that every
// metric's name and labels are written in one place.
//
// Label cardinality is bounded (documented in README, "Prometheus export"):
// no pid labels; at most kMaxExportedBuilds build series (heaviest first),
// kMaxExportedPeaks learned crate peaks, fixed role and level sets; label
// values are cut at MetricsWriter::kMaxLabelValueBytes.

#include "headroom/JobPool.h"
#include "headroom/MetricsText.h"
#include "headroom/PressureLevel.h"
#include "headroom/Result.h"
#include "headroom/RunRecord.h"
#include "headroom/Snapshot.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

inline constexpr std::size_t kMaxExportedBuilds = 20;
inline constexpr std::size_t kMaxExportedPeaks = 50;

// Finished builds counted by preset, outcome and diagnosis (from the runs
// folder's statuses).
struct BuildOutcomeCount {
    std::string preset;  // presetId(): "A", "adaptive", "custom", ...
    std::string verdict; // verdictId(): "succeeded", "out-of-memory", ...
    std::uint64_t count = 0;
};

// The last learned peak of one crate of one project.
struct CratePeak {
    std::string project; // workspace folder
    std::string crate;
    std::uint64_t bytes = 0;
    bool oomKilled = false;
};

struct MachineMetricsInputs {
    const Snapshot* snapshot = nullptr; // required
    LevelReading level;
    std::optional<double> secondsLeft; // time to exhaustion, when estimated
    std::optional<PoolState> pool;     // the job pool's ledger; none: no pool folder
    std::vector<BuildOutcomeCount> outcomes;
    std::vector<CratePeak> peaks; // heaviest first; only kMaxExportedPeaks are written
    std::string hostname;
    std::string version; // Headroom's
};

// The whole exposition for one scrape.
std::string renderMachineMetrics(const MachineMetricsInputs& inputs);

// Outcome counts from statuses of finished runs.
std::vector<BuildOutcomeCount> countOutcomes(const std::vector<RunStatus>& finished);

// A machine as read back from its series (a Headroom exporter's /metrics,
// or a Prometheus instant query for one instance). Read-only: builds carry
// no members, `command` "build <id>" (the exporter's build id: command lines
// are not exported) and a synthetic root (pid 0, startTime a hash of the
// build's labels, remoteBuildKey), which names no process on this machine and
// must never be acted on.
struct PoolSummary {
    unsigned granted = 0;
    unsigned inUse = 0;
    unsigned capacity = 0; // CPUs - 1
    unsigned builds = 0;
    unsigned jobs = 0;
    unsigned heldBack = 0; // builds held back
    std::uint64_t budgetBytes = 0;
    std::uint64_t reserveBytes = 0;
};

struct MachineView {
    Snapshot snapshot; // memory, budget, builds, roleTotals, wallMs; no processes
    LevelReading level;
    std::optional<double> secondsLeft;
    std::optional<PoolSummary> pool;
    std::vector<BuildOutcomeCount> outcomes;
    std::vector<CratePeak> peaks;
    std::string hostname;
    std::string version;
};

// Fails (in words) when the samples hold no Headroom series at all ("no
// headroom_ series: is this a Headroom exporter?"); missing families leave
// their fields at zero. Whatever the samples hold, the view keeps at most
// kMaxExportedBuilds builds and kMaxExportedPeaks peaks (the heaviest).
Result<MachineView> machineViewFromSamples(const std::vector<MetricSample>& samples);

// The machine over time, from range-query series of the families above:
// one Snapshot per distinct timestamp (oldest first), with memory, roleTotals
// and builds (resident bytes only) filled, steadyNs = wallMs * 1e6. For the
// charts, which draw Snapshots. At most kMaxExportedBuilds builds each.
std::vector<Snapshot> machineHistoryFromSeries(const std::vector<MetricSeries>& series);

// The synthetic root given to a remote build: same labels, same key.
ProcessKey remoteBuildKey(const BuildTree& build);

// Names of the families the window asks Prometheus for in range queries.
namespace metric {
inline constexpr const char* kMemoryTotal = "headroom_memory_total_bytes";
inline constexpr const char* kMemoryAvailable = "headroom_memory_available_bytes";
inline constexpr const char* kMemoryUsed = "headroom_memory_used_bytes";
inline constexpr const char* kSwapTotal = "headroom_swap_total_bytes";
inline constexpr const char* kSwapUsed = "headroom_swap_used_bytes";
inline constexpr const char* kRoleResident = "headroom_role_resident_bytes";   // {role}
inline constexpr const char* kBuildResident = "headroom_build_resident_bytes"; // {build, tool, ...}
inline constexpr const char* kLevel = "headroom_level";                        // {level} state set
inline constexpr const char* kBudgetAvailable = "headroom_budget_available_bytes";
inline constexpr const char* kBudgetLimit = "headroom_budget_limit_bytes";
} // namespace metric

} // namespace headroom
