// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The memory cgroup a process runs in, and its own OOM-kill count: evidence
// that the kernel killed something of *this* cgroup, which the machine-wide
// counter is not. Linux only (v2 memory.events, v1 memory.oom_control).

#include "headroom/Process.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace headroom {

struct CgroupMemoryState {
    std::string dir; // the cgroup's folder
    bool v2 = false;
    std::optional<std::uint64_t> oomKills;   // v2 memory.events, v1 memory.oom_control (kernel >= 4.13)
    std::optional<std::uint64_t> peakBytes;  // v2 memory.peak, v1 memory.max_usage_in_bytes
    std::optional<std::uint64_t> limitBytes; // v2 memory.max, v1 memory.limit_in_bytes; none when unlimited
    // v2 only: memory.high (the throttle line; none when "max") and the
    // counters of memory.events: how often usage went over memory.high
    // (throttled), hit memory.max (reclaim forced), and how often the OOM
    // killer was invoked for the cgroup.
    std::optional<std::uint64_t> highBytes;
    std::optional<std::uint64_t> highEvents;
    std::optional<std::uint64_t> maxEvents;
    std::optional<std::uint64_t> oomEvents;
    // What the budget needs (MemoryBudget): usage now (v2 memory.current, v1
    // memory.usage_in_bytes) and the inactive file pages the kernel reclaims
    // first (v2 memory.stat inactive_file, v1 total_inactive_file).
    std::optional<std::uint64_t> usageBytes;
    std::optional<std::uint64_t> inactiveFileBytes;
    // The tightest limit along the path to the root: a container's limit is
    // often set on a parent (v2: the smallest memory.max / memory.high of
    // this cgroup and its ancestors; v1: memory.stat hierarchical_memory_limit).
    std::optional<std::uint64_t> effectiveLimitBytes;
    std::optional<std::uint64_t> effectiveHighBytes; // v2 only
    std::string limitDir;                            // the cgroup that sets the effective limit
    std::string highDir;                             // v2: the cgroup that sets the effective high
    // The cgroup is a container's: its path names a container runtime
    // (docker, containerd, kubepods, lxc, libpod, a CI job's actions_job), or
    // the reader found /.dockerenv or /run/.containerenv (readOwnCgroupMemory).
    bool container = false;

    // The peak came within 10% of the limit.
    bool nearLimit() const { return peakBytes && limitBytes && *peakBytes * 10 >= *limitBytes * 9; }
    // A transient scope Headroom made for one build step ("headroom-<run>-<step>.scope"):
    // everything it counted, it counted of that build.
    bool isBuildScope() const
    {
        const std::string_view prefix = "headroom-", suffix = ".scope";
        const auto slash = dir.find_last_of('/');
        const std::string_view name =
            std::string_view(dir).substr(slash == std::string::npos ? 0 : slash + 1);
        return v2 && name.size() > prefix.size() + suffix.size() && name.substr(0, prefix.size()) == prefix &&
               name.substr(name.size() - suffix.size()) == suffix;
    }
};

// A cgroup path that names a container runtime ("/kubepods/...", "/docker/<id>").
bool isContainerCgroupPath(std::string_view path);

// Linux reads them; elsewhere there are none (nullopt). Every figure is read
// from a bounded, non-blocking read of a regular file; a file that is
// missing or not a plain number leaves its field empty.
// The memory cgroup of `pid` (from <procRoot>/<pid>/cgroup), read under
// `root`. Nullopt where there is none to read (not Linux, no memory controller).
std::optional<CgroupMemoryState> readProcessCgroupMemory(Pid pid, const std::string& root = "/sys/fs/cgroup",
                                                         const std::string& procRoot = "/proc");
// The same cgroup read again, by its folder (the process may be gone). A
// transient scope's folder is removed as soon as its last process ends: read
// it while the build runs (it is two or four small files) and keep the last
// reading that worked as the state at the end.
std::optional<CgroupMemoryState> readCgroupMemory(const std::string& dir, bool v2);
// The memory cgroup of the calling process ("self"), for the budget of
// everything it starts. Nullopt where there is none. When `root` ends in
// "/sys/fs/cgroup", what precedes it is the file system root where
// /.dockerenv and /run/.containerenv are looked for.
std::optional<CgroupMemoryState> readOwnCgroupMemory(const std::string& root = "/sys/fs/cgroup",
                                                     const std::string& procRoot = "/proc");

} // namespace headroom
