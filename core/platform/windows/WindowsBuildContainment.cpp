// SPDX-License-Identifier: GPL-3.0-or-later
// Build containment on Windows: the build runs in a job object.
#include "headroom/BuildContainment.h"
#include "headroom/JobObject.h"

#include <optional>

namespace headroom {

struct BuildContainment::State {
    // Made at the first attach(), once onRelease_ is known (the constructor
    // taking it sets it after the default one has run).
    std::optional<JobObject> job;
    bool attached = false;
};

BuildContainment::BuildContainment() : state_(std::make_unique<State>()) {}
BuildContainment::~BuildContainment() = default;
BuildContainment::BuildContainment(BuildContainment&&) noexcept = default;
BuildContainment& BuildContainment::operator=(BuildContainment&&) noexcept = default;

std::uint32_t BuildContainment::creationFlags()
{
    return JobObject::suspendedCreationFlag();
}

void BuildContainment::prepareChild() noexcept {}

ContainmentResult BuildContainment::attach(Pid pid)
{
    if (!state_)
        return {false, "This containment was moved away: make a new one for the build."};
    if (!state_->job)
        state_->job.emplace(onRelease_);
    const JobResult adopted = state_->job->adopt(pid, true);
    state_->attached = state_->attached || adopted.ok;
    return {adopted.ok, adopted.message};
}

ContainmentResult BuildContainment::terminate()
{
    if (!state_ || !state_->attached)
        return {false, "No build is contained: there is nothing to end."};
    const JobResult ended = state_->job->terminate(1);
    return {ended.ok, ended.message};
}

} // namespace headroom
