// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: the lane is not written yet.
#include "headroom/JobLane.h"

namespace headroom {

struct JobLane::State {
    unsigned maxTokens = 0;
};

JobLane::JobLane() : state_(std::make_unique<State>()) {}
JobLane::~JobLane() = default;

Result<std::unique_ptr<JobLane>> JobLane::create(const std::filesystem::path&, const std::string&, unsigned)
{
    return Result<std::unique_ptr<JobLane>>::failure("job lanes are not written yet");
}
std::string JobLane::auth() const
{
    return {};
}
std::string JobLane::makeflags() const
{
    return " -j --jobserver-auth=" + auth();
}
unsigned JobLane::maxTokens() const
{
    return state_->maxTokens;
}
unsigned JobLane::granted() const
{
    return 0;
}
unsigned JobLane::waiting()
{
    return 0;
}
unsigned JobLane::steer(unsigned)
{
    return 0;
}

} // namespace headroom
