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
    return "system memory " + formatBytes(limitBytes);
}

MemoryBudget memoryBudget(const MemoryStatus& system, const std::optional<CgroupMemoryState>&,
                          BudgetOptions options)
{
    MemoryBudget b;
    b.systemAvailableBytes = system.available + (options.countSwap ? system.swapFree : 0);
    b.availableBytes = b.systemAvailableBytes;
    b.limitBytes = system.total + (options.countSwap ? system.swapTotal : 0);
    b.usedBytes = b.limitBytes > b.availableBytes ? b.limitBytes - b.availableBytes : 0;
    return b;
}

std::uint64_t memoryReserve(std::uint64_t limitBytes, double fraction, std::uint64_t floorBytes)
{
    const auto share = std::uint64_t(double(limitBytes) * std::clamp(fraction, 0.0, 0.5));
    return std::min(std::max(share, floorBytes), limitBytes / 2);
}

} // namespace headroom
