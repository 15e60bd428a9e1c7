// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MemoryBudget.h"

#include "headroom/Units.h"

#include <algorithm>

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
    if (cgroup && cgroup->usageBytes) {
        const std::uint64_t inactive = cgroup->inactiveFileBytes.value_or(0);
        const std::uint64_t charged = *cgroup->usageBytes > inactive ? *cgroup->usageBytes - inactive : 0;
        const auto consider = [&](std::optional<std::uint64_t> limit, BudgetSource source, const std::string& dir) {
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
            consider(high, BudgetSource::CgroupV2High, cgroup->effectiveHighBytes ? cgroup->highDir : cgroup->dir);
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

} // namespace headroom
