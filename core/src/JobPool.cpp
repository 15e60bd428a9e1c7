// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: the ledger is not written yet.
#include "headroom/JobPool.h"

namespace headroom {

unsigned PoolState::granted() const
{
    unsigned sum = 0;
    for (const auto& m : members)
        sum += m.granted;
    return sum;
}

const PoolMember* PoolState::find(std::string_view runId) const
{
    for (const auto& m : members) {
        if (m.runId == runId)
            return &m;
    }
    return nullptr;
}

std::string toJson(const PoolState&)
{
    return "{}";
}
Result<PoolState> parsePoolState(std::string_view)
{
    return Result<PoolState>::failure("not written yet");
}
std::filesystem::path defaultPoolDir()
{
    return std::filesystem::temp_directory_path() / "headroom-pool";
}
JobPool::JobPool(std::filesystem::path dir) : dir_(std::move(dir)) {}
Result<bool> JobPool::prepare() const
{
    return Result<bool>::failure("the job pool is not written yet");
}
Result<PoolState> JobPool::update(const std::function<void(PoolState&)>&, std::chrono::milliseconds) const
{
    return Result<PoolState>::failure("the job pool is not written yet");
}
Result<PoolState> JobPool::read() const
{
    return Result<PoolState>::success(PoolState{});
}
Result<PoolState> JobPool::leave(std::string_view) const
{
    return Result<PoolState>::success(PoolState{});
}

} // namespace headroom
