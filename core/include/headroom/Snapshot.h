#pragma once

#include "headroom/BuildTree.h"
#include "headroom/Memory.h"
#include "headroom/MemoryBudget.h"
#include "headroom/Process.h"

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace headroom {

// Everything one poll of the system saw. Plain data: copy it, hand it across
// threads, keep it in history.
struct Snapshot {
    std::int64_t steadyNs = 0; // steady clock, for series and rates
    std::int64_t wallMs = 0;   // wall clock, for display
    double uptimeSeconds = 0.0;

    MemoryStatus memory;
    // What may still be used before the tightest limit: the machine's, or
    // the memory cgroup Headroom runs in (a container's). Samplers fill it;
    // the summary, the checks, the level and the guard read it.
    MemoryBudget budget;
    std::vector<ProcessSample> processes; // sorted by pid
    std::vector<BuildTree> builds;        // heaviest first
    std::array<RoleTotal, kRoleCount> roleTotals{};

    // Things that could not be read, in words ("/proc/pressure/memory is
    // missing: this kernel has no PSI"). Informational, never fatal.
    std::vector<std::string> notes;

    const ProcessSample* find(Pid pid) const;
    const ProcessSample* find(const ProcessKey& key) const;
    const RoleTotal& total(ProcessRole role) const { return roleTotals[roleIndex(role)]; }
    // The build that holds this process, or nullptr.
    const BuildTree* buildOf(const ProcessKey& key) const;
};

// Parent -> children index over a process list.
class ProcessTree {
  public:
    explicit ProcessTree(const std::vector<ProcessSample>& processes);

    const std::vector<std::size_t>& children(Pid pid) const; // indices into the list
    // Every descendant of pid (not pid itself), parents before children.
    std::vector<std::size_t> descendants(Pid pid) const;
    // Ancestors of pid, nearest first (indices).
    std::vector<std::size_t> ancestors(Pid pid) const;
    std::size_t indexOf(Pid pid) const; // npos when absent

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  private:
    const std::vector<ProcessSample>& processes_;
    std::unordered_map<Pid, std::size_t> index_;
    std::unordered_map<Pid, std::vector<std::size_t>> children_;
};

} // namespace headroom
