// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What a running build is seen to do, and what Headroom concludes when it
// ends: written once, for the supervisor that runs every build and for any
// front-end that needs the same facts. Fed with the snapshots taken while
// the build runs (the build tree's memory, the rustc peaks per crate, the
// machine's OOM-kill counter, the lowest available memory, the build's
// memory cgroup) and, at the end, with how the last step ended and what
// cargo said; gives the diagnosis and the outcome fields of a RunStatus.

#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/CargoMessages.h"
#include "headroom/CargoOutput.h"
#include "headroom/CgroupMemory.h"
#include "headroom/Process.h"
#include "headroom/RunRecord.h"
#include "headroom/Snapshot.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

// How the build's last step ended, as the runner saw it.
struct RunEndFacts {
    std::optional<int> exitCode;
    std::optional<int> signal;
    bool cancelledByUser = false;
    bool macOS = false; // "Killed: 9" there is often code signing
};

// What the build and cargo's messages come to.
struct RunOutcome {
    BuildDiagnosis diagnosis;
    std::string artifactPath;             // cargo's reported executable for the target, or the planned path
    std::int64_t artifactSize = -1;       // -1: no such file (or cargo reported none)
    std::vector<std::string> executables; // every executable cargo reported, in order, once each
    unsigned errorCount = 0, warningCount = 0;
    std::string ignoredNote; // lines that looked like cargo messages and were not read (for the log)
};

// The plan facts a conclusion needs (RunSpec has them all).
struct RunPlanFacts {
    BuildRequest request;
    BuildPreset preset = BuildPreset::Custom;
    std::optional<unsigned> jobs;
    std::string plannedArtifact;
    static RunPlanFacts of(const RunSpec& spec);
};

class RunObserver {
  public:
    // A step's first process started (each step calls it; the first one
    // starts the facts). Reads the build's memory cgroup where there is one.
    void stepStarted(const ProcessKey& root);
    // Follows memory: call with every snapshot while the build runs, with
    // the current step's root. The machine's figures are taken even when the
    // root is not (or no longer) in the snapshot.
    void observe(const Snapshot& snapshot, const std::optional<ProcessKey>& root);
    // Reads the memory cgroup the step's root runs in now (Linux; cheap: a
    // few small files). Called often while it runs: a transient scope's
    // cgroup goes away with its last process, so its last counters are the
    // ones read while it lived. A build moved into another cgroup after it
    // started (systemd-run moves itself into the scope, then execs the
    // build) is followed there.
    void followCgroup(const ProcessKey& root);
    // The last step ended: reads the cgroup's counters once more (or keeps
    // the last ones read, when the cgroup is gone).
    void buildEnded();
    // The snapshot taken after the end (a kernel OOM kill may be the very last
    // thing that happened): only the machine's OOM counter is read from it.
    void observeAfterEnd(const Snapshot& snapshot);

    std::uint64_t treeBytes() const { return treeBytes_; } // the last snapshot's
    std::uint64_t peakTreeBytes() const { return peakTreeBytes_; }
    std::uint64_t peakSystemUsed() const { return peakSystemUsed_; }
    const std::map<std::string, std::uint64_t>& peakByCrate() const { return peakByCrate_; }
    double lowestAvailableFraction() const { return lowestAvailable_; }
    double lowestHeadroomFraction() const { return lowestHeadroom_; }
    std::optional<std::uint64_t> oomKillsBefore() const { return oomBefore_; }
    std::optional<std::uint64_t> oomKillsAfter() const { return oomAfter_; }
    const std::optional<CgroupMemoryState>& cgroupBefore() const { return cgroupBefore_; }
    const std::optional<CgroupMemoryState>& cgroupAfter() const { return cgroupAfter_; }

    // The facts diagnoseBuild() reads, from what was observed and how it ended.
    BuildOutcomeFacts outcomeFacts(const RunEndFacts& end, const RunPlanFacts& plan) const;
    // The conclusion: the artifact (cargo's word over the plan's guess), the
    // message counts and the diagnosis.
    RunOutcome conclude(const RunEndFacts& end, const RunPlanFacts& plan, const CargoOutputParser& output,
                        const CargoMessageParser& messages) const;

    // The memory fields of a status (tree, peaks, per crate, cgroup folder).
    void fillMemory(RunStatus& status) const;

  private:
    std::uint64_t treeBytes_ = 0;
    std::uint64_t peakTreeBytes_ = 0;
    std::uint64_t peakSystemUsed_ = 0;
    std::map<std::string, std::uint64_t> peakByCrate_;
    double lowestAvailable_ = 1.0;
    double lowestHeadroom_ = 1.0;
    std::optional<std::uint64_t> oomBefore_;
    std::optional<std::uint64_t> oomAfter_;
    std::optional<CgroupMemoryState> cgroupBefore_;
    std::optional<CgroupMemoryState> cgroupAfter_;
    std::optional<CgroupMemoryState> cgroupLatest_;
};

// The rustc --crate-name of a process, empty when it names none.
std::string crateNameOf(const ProcessSample& process);

// The other build holding the lock our build (rooted at `root`) waits for:
// one on the same workspace or target folder, as "cargo build --release (pid
// 123)"; empty when the snapshot shows none.
std::string lockHolderIn(const Snapshot& snapshot, const ProcessKey& root);

// Puts the outcome into the status's outcome fields.
void applyOutcome(RunStatus& status, const RunOutcome& outcome);

} // namespace headroom
