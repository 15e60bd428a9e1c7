// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// How much memory a new job may still use before something is killed: the
// tightest of the machine's available memory (less a reserve kept for the
// desktop and the editor) and the memory cgroup the build runs in. Inside a
// container or a CI runner the cgroup's limit is the only figure that tells
// the truth: MemAvailable there is the host's. Every figure that speaks of
// "free memory" (the summary strip, the pre-build checks, the level machine,
// the guard, the job pool) asks this one function.

#include "headroom/CgroupMemory.h"
#include "headroom/Memory.h"

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

enum class BudgetSource {
    System,       // the machine's available memory (+ free swap when allowed)
    CgroupV1,     // a v1 memory cgroup's memory.limit_in_bytes (hierarchical)
    CgroupV2Max,  // a v2 cgroup's memory.max (the tightest along the path)
    CgroupV2High, // a v2 cgroup's memory.high: above it the kernel throttles
};
std::string_view
budgetSourceId(BudgetSource source); // "system", "cgroup-v1", "cgroup-v2-max", "cgroup-v2-high"

struct MemoryBudget {
    BudgetSource source = BudgetSource::System;
    // What can still be used before the tightest limit, reserve NOT taken
    // off: system available (+ free swap if allowed), or the cgroup's limit
    // minus its usage (less inactive file pages, which the kernel reclaims first).
    std::uint64_t availableBytes = 0;
    std::uint64_t limitBytes = 0; // the size of that limit: RAM total (+ swap), or the cgroup's limit
    std::uint64_t usedBytes = 0;  // limitBytes - availableBytes
    std::string cgroupDir;        // the cgroup whose limit applies; empty for System
    // The same for the machine alone, for people who want both figures.
    std::uint64_t systemAvailableBytes = 0;
    std::uint64_t systemLimitBytes = 0; // RAM total (+ swap when counted)
    bool container = false;             // the cgroup is a container's (CgroupMemoryState::container)
    bool swapCounted = false;           // System: free swap counts (BudgetOptions::countSwap)

    bool isCgroup() const { return source != BudgetSource::System; }
    double availableFraction() const
    {
        return limitBytes ? double(availableBytes) / double(limitBytes) : 0.0;
    }
    // What a new job may take once the reserve is kept: never negative.
    std::uint64_t afterReserve(std::uint64_t reserveBytes) const
    {
        return availableBytes > reserveBytes ? availableBytes - reserveBytes : 0;
    }
    // The limit in words, for people, short enough for a tile or a log line:
    //   "container limit 8.0 GiB"  a v1 limit or v2 memory.max of a container's cgroup
    //   "cgroup limit 8.0 GiB"     the same of any other cgroup
    //   "memory.high 6.0 GiB"      a v2 memory.high, the tighter line (throttling, then OOM)
    //   "system memory 23.4 GiB"   the machine: RAM total
    //   "memory and swap 31.4 GiB" the machine with free swap counted
    std::string describe() const;
};

struct BudgetOptions {
    bool countSwap = false; // free swap counts as available (the user allows swapping)
};

// The budget from the machine's figures and the cgroup the build (or
// Headroom itself) runs in; nullopt cgroup: the machine alone. A cgroup's
// available memory is its limit less its charge (usage less inactive file
// pages, clamped at zero); its limit is the effective one along the path
// (effectiveLimitBytes, else limitBytes) and, on v2, memory.high counts as a
// limit too. The tightest of the machine and each cgroup limit wins (ties go
// to the machine). A cgroup whose usage could not be read says nothing: the
// machine's figure stands. Free swap (countSwap) adds to the machine only:
// a cgroup's limit is on memory, not swap.
MemoryBudget memoryBudget(const MemoryStatus& system, const std::optional<CgroupMemoryState>& cgroup,
                          BudgetOptions options = {});

// The reserve the pool keeps free: `fraction` of RAM, at least `floorBytes`
// (defaults: 10 %, 1 GiB), never more than half the limit.
std::uint64_t memoryReserve(std::uint64_t limitBytes, double fraction = 0.10,
                            std::uint64_t floorBytes = 1ull << 30);

// What the job pool keeps free of `budget.availableBytes`. The reserve above
// is for the desktop and the editor, which live outside a build's cgroup: it
// is taken off the machine's figure only. A cgroup's own room keeps a small
// margin (3 % of its limit, at least 32 MiB, at most an eighth of it). The
// tighter of the two rooms wins, so budget.afterReserve(poolReserve(...)) is
// min(machine available - reserve, cgroup available - margin).
std::uint64_t poolReserve(const MemoryBudget& budget, double fraction = 0.10,
                          std::uint64_t floorBytes = 1ull << 30);

} // namespace headroom
