// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: no run joins the pool yet.
#include "headroom/AdaptivePool.h"

namespace headroom {

struct AdaptivePool::State {
    std::unique_ptr<JobLane> lane;
};

AdaptivePool::AdaptivePool() : state_(std::make_unique<State>()) {}
AdaptivePool::~AdaptivePool() = default;

Result<std::unique_ptr<AdaptivePool>> AdaptivePool::join(const RunSpec&, AdaptiveOptions)
{
    return Result<std::unique_ptr<AdaptivePool>>::failure("the job pool is not written yet");
}
std::string AdaptivePool::prepare(ChildSpec&) const
{
    return {};
}
AdaptivePool::Tick AdaptivePool::tick(const Snapshot&, const std::optional<ProcessKey>&,
                                      const std::vector<std::string>&, std::int64_t)
{
    return {};
}
void AdaptivePool::setExclusive(std::optional<std::string>) {}
Result<bool> AdaptivePool::learn(const std::map<std::string, std::uint64_t>&, const std::vector<std::string>&)
{
    return Result<bool>::success(true);
}
const JobLane& AdaptivePool::lane() const
{
    return *state_->lane;
}

} // namespace headroom
