// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MemoryBudget.h"

#include "headroom/Units.h"

#include <algorithm>
#include <array>

namespace headroom {

std::string_view budgetSourceId(BudgetSource source)
{
    switch (source) {
    case BudgetSource::System:
        return "system";
    case BudgetSource::CgroupV1:
        return "cgroup-v1";
    case BudgetSource::CgroupV2Max:
        return "cgroup-v2-max";
    case BudgetSource::CgroupV2High:
        return "cgroup-v2-high";
    }
    return "system";
}

bool isContainerCgroupPath(std::string_view path)
{
    static constexpr std::array<std::string_view, 6> kRuntimes = {"docker", "containerd", "kubepods",
                                                                  "lxc",    "libpod",     "actions_job"};
    for (std::string_view runtime : kRuntimes) {
        if (path.find(runtime) != std::string_view::npos)
            return true;
    }
    return false;
}

std::string MemoryBudget::describe() const
{
    switch (source) {
    case BudgetSource::System:
        return (swapCounted ? "memory and swap " : "system memory ") + formatBytes(limitBytes);
    case BudgetSource::CgroupV1:
    case BudgetSource::CgroupV2Max:
        return (container ? "container limit " : "cgroup limit ") + formatBytes(limitBytes);
    case BudgetSource::CgroupV2High:
        return "memory.high " + formatBytes(limitBytes);
    }
    return formatBytes(limitBytes);
}

MemoryBudget memoryBudget(const MemoryStatus& system, const std::optional<CgroupMemoryState>& cgroup,
                          BudgetOptions options)
{
    MemoryBudget b;
    b.swapCounted = options.countSwap;
    b.systemAvailableBytes = system.available + (options.countSwap ? system.swapFree : 0);
    b.availableBytes = b.systemAvailableBytes;
    b.limitBytes = system.total + (options.countSwap ? system.swapTotal : 0);
    b.systemLimitBytes = b.limitBytes;
    if (cgroup && cgroup->usageBytes) {
        const std::uint64_t inactive = cgroup->inactiveFileBytes.value_or(0);
        const std::uint64_t charged = *cgroup->usageBytes > inactive ? *cgroup->usageBytes - inactive : 0;
        const auto consider = [&](std::optional<std::uint64_t> limit, BudgetSource source,
                                  const std::string& dir) {
            if (!limit)
                return;
            const std::uint64_t left = *limit > charged ? *limit - charged : 0;
            if (left >= b.availableBytes)
                return;
            b.source = source;
            b.availableBytes = left;
            b.limitBytes = *limit;
            b.cgroupDir = dir.empty() ? cgroup->dir : dir;
        };
        const auto limit = cgroup->effectiveLimitBytes ? cgroup->effectiveLimitBytes : cgroup->limitBytes;
        const std::string& limitDir = cgroup->effectiveLimitBytes ? cgroup->limitDir : cgroup->dir;
        consider(limit, cgroup->v2 ? BudgetSource::CgroupV2Max : BudgetSource::CgroupV1, limitDir);
        if (cgroup->v2) {
            const auto high = cgroup->effectiveHighBytes ? cgroup->effectiveHighBytes : cgroup->highBytes;
            consider(high, BudgetSource::CgroupV2High,
                     cgroup->effectiveHighBytes ? cgroup->highDir : cgroup->dir);
        }
        if (b.isCgroup())
            b.swapCounted = false;
    }
    b.container = cgroup && cgroup->container;
    b.usedBytes = b.limitBytes > b.availableBytes ? b.limitBytes - b.availableBytes : 0;
    return b;
}

std::uint64_t memoryReserve(std::uint64_t limitBytes, double fraction, std::uint64_t floorBytes)
{
    const auto share = std::uint64_t(double(limitBytes) * std::clamp(fraction, 0.0, 0.5));
    return std::min(std::max(share, floorBytes), limitBytes / 2);
}

std::uint64_t poolReserve(const MemoryBudget& budget, double fraction, std::uint64_t floorBytes)
{
    if (!budget.isCgroup())
        return memoryReserve(budget.limitBytes, fraction, floorBytes);
    constexpr std::uint64_t kMinMargin = 32ull << 20;
    const std::uint64_t margin = std::min(
        std::max(std::uint64_t(double(budget.limitBytes) * 0.03), kMinMargin), budget.limitBytes / 8);
    const std::uint64_t cgroupRoom = budget.availableBytes > margin ? budget.availableBytes - margin : 0;
    const std::uint64_t machineLimit = budget.systemLimitBytes ? budget.systemLimitBytes : budget.limitBytes;
    const std::uint64_t machineReserve = memoryReserve(machineLimit, fraction, floorBytes);
    const std::uint64_t machineRoom =
        budget.systemAvailableBytes > machineReserve ? budget.systemAvailableBytes - machineReserve : 0;
    const std::uint64_t room = budget.systemLimitBytes ? std::min(cgroupRoom, machineRoom) : cgroupRoom;
    return budget.availableBytes > room ? budget.availableBytes - room : budget.availableBytes;
}

} // namespace headroom
