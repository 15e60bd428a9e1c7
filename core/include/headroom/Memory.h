#pragma once

#include <cstdint>
#include <optional>

namespace headroom {

// One line of a PSI file: the share of time (percent) some/all tasks stalled.
struct PressureStall {
    double avg10 = 0.0;
    double avg60 = 0.0;
    double avg300 = 0.0;
    std::uint64_t totalMicroseconds = 0;
};

// Kernel-reported memory pressure. On Linux this is PSI (/proc/pressure/memory);
// a kernel without PSI leaves `available` false, which is not an error.
struct MemoryPressure {
    bool available = false;
    PressureStall some;
    PressureStall full;
    // macOS reports a level directly (kern.memorystatus_vm_pressure_level):
    // 0 unknown, 1 normal, 2 warning, 4 critical. Unused on Linux.
    int kernelLevel = 0;
};

// System memory, all figures in bytes. `used` is total - available, the same
// figure procps-ng 4 `free` prints.
struct MemoryStatus {
    std::uint64_t total = 0;
    std::uint64_t available = 0;
    std::uint64_t used = 0;
    std::uint64_t free = 0;
    std::uint64_t buffers = 0;
    std::uint64_t cache = 0; // page cache + reclaimable slab, as `free` counts it
    std::uint64_t shared = 0;
    std::uint64_t committed = 0;
    std::uint64_t commitLimit = 0;

    std::uint64_t swapTotal = 0;
    std::uint64_t swapUsed = 0;
    std::uint64_t swapFree = 0;

    // zswap (Linux) or the compressor (macOS), when the kernel reports it.
    std::optional<std::uint64_t> compressedStored;   // memory the compressed pages take
    std::optional<std::uint64_t> compressedOriginal; // what they would take uncompressed

    MemoryPressure pressure;

    // System-wide count of OOM kills since boot (Linux /proc/vmstat oom_kill).
    // A rise during a build means the kernel killed something for memory.
    std::optional<std::uint64_t> oomKillCount;

    // Available RAM plus free swap: what a new build can still use before the
    // kernel has to kill something.
    std::uint64_t headroom() const { return available + swapFree; }
    double usedFraction() const { return total ? double(used) / double(total) : 0.0; }
    double availableFraction() const { return total ? double(available) / double(total) : 0.0; }
    double swapUsedFraction() const { return swapTotal ? double(swapUsed) / double(swapTotal) : 0.0; }
};

} // namespace headroom
