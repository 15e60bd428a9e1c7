// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The memory cgroup a process runs in, and its own OOM-kill count: evidence
// that the kernel killed something of *this* cgroup, which the machine-wide
// counter is not. Linux only (v2 memory.events, v1 memory.oom_control).

#include "headroom/Process.h"

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

struct CgroupMemoryState {
    std::string dir; // the cgroup's folder
    bool v2 = false;
    std::optional<std::uint64_t> oomKills;   // v2 memory.events, v1 memory.oom_control (kernel >= 4.13)
    std::optional<std::uint64_t> peakBytes;  // v2 memory.peak, v1 memory.max_usage_in_bytes
    std::optional<std::uint64_t> limitBytes; // none when unlimited

    // The peak came within 10% of the limit.
    bool nearLimit() const { return peakBytes && limitBytes && *peakBytes * 10 >= *limitBytes * 9; }
};

// The memory cgroup of `pid` (from <procRoot>/<pid>/cgroup), read under
// `root`. Nullopt where there is none to read (not Linux, no memory controller).
std::optional<CgroupMemoryState> readProcessCgroupMemory(Pid pid, const std::string& root = "/sys/fs/cgroup",
                                                         const std::string& procRoot = "/proc");
// The same cgroup read again, by its folder (the process may be gone).
std::optional<CgroupMemoryState> readCgroupMemory(const std::string& dir, bool v2);

} // namespace headroom
