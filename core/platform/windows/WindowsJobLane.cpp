// SPDX-License-Identifier: GPL-3.0-or-later
// A build's jobserver on Windows: a named semaphore "headroom-<run id>", the
// form GNU make's "Windows Jobserver" and the jobserver crate use (clients
// call OpenSemaphoreA with the name from --jobserver-auth=NAME as given).
// Its count is the tokens waiting; it is made with none, and a maximum of
// maxTokens, so the lane holds what it withholds: giving is
// ReleaseSemaphore, taking back is a wait that does not block.
#include "headroom/JobLane.h"
#include "headroom/RunRecord.h"
#include "WinApi.h"

#include <algorithm>

namespace headroom {

struct JobLane::State {
    win::Handle semaphore;
    std::string name;
    unsigned maxTokens = 0;
    unsigned granted = 0;

    // Takes every waiting token (none of them blocks); returns how many.
    unsigned takeAll() const
    {
        unsigned got = 0;
        // Bounded: the count never exceeds the semaphore's maximum.
        while (got <= maxTokens && ::WaitForSingleObject(semaphore.get(), 0) == WAIT_OBJECT_0)
            ++got;
        return got;
    }

    void release(unsigned count) const
    {
        if (count > 0)
            ::ReleaseSemaphore(semaphore.get(), LONG(count), nullptr);
    }
};

JobLane::JobLane() : state_(std::make_unique<State>()) {}
JobLane::~JobLane() = default; // the semaphore goes with the last handle; jobs keep theirs

Result<std::unique_ptr<JobLane>> JobLane::create(const std::filesystem::path&, const std::string& runId,
                                                 unsigned maxTokens)
{
    using R = Result<std::unique_ptr<JobLane>>;
    if (!isValidRunId(runId))
        return R::failure("cannot make a job lane for run \"" + runId +
                          "\": a run id is 1 to 64 letters, digits, '-' or '_'");
    const std::string name = "headroom-" + runId;
    // A semaphore's maximum is at least one; with maxTokens 0 none is ever given.
    const LONG maximum = LONG(std::clamp<unsigned>(maxTokens, 1, 1u << 20));
    ::SetLastError(ERROR_SUCCESS);
    win::Handle semaphore(::CreateSemaphoreW(nullptr, 0, maximum, win::toWide(name).c_str()));
    const DWORD error = ::GetLastError();
    if (!semaphore.valid())
        return R::failure("cannot make the job lane " + name + ": " + win::errorText(error));
    if (error == ERROR_ALREADY_EXISTS)
        return R::failure("cannot make the job lane " + name +
                          ": another program already has a semaphore of that name; start the run again");

    std::unique_ptr<JobLane> lane(new JobLane());
    State& s = *lane->state_;
    s.semaphore = std::move(semaphore);
    s.name = name;
    s.maxTokens = maxTokens;
    return R::success(std::move(lane));
}

std::string JobLane::auth() const
{
    return state_->name;
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
    return state_->granted;
}

unsigned JobLane::waiting()
{
    State& s = *state_;
    if (!s.semaphore.valid())
        return 0;
    const unsigned count = s.takeAll();
    s.release(count);
    return std::min(count, s.granted);
}

unsigned JobLane::steer(unsigned target)
{
    State& s = *state_;
    if (!s.semaphore.valid())
        return 0;
    target = std::min(target, s.maxTokens);
    // Everything waiting comes here first; what a client gave back beyond
    // what it took does not count and is not given out again.
    const unsigned waitingNow = std::min(s.takeAll(), s.granted);
    unsigned back = waitingNow;
    if (target > s.granted) {
        back += target - s.granted;
        s.granted = target;
    } else if (target < s.granted) {
        const unsigned taken = std::min(s.granted - target, waitingNow);
        back -= taken;
        s.granted -= taken;
    }
    s.release(back);
    return s.granted;
}

} // namespace headroom
