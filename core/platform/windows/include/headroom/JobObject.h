// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/BuildContainment.h"
#include "headroom/Process.h"

#include <cstdint>
#include <string>
#include <vector>

namespace headroom {

// The outcome of a job operation, with a sentence a person can act on.
struct JobResult {
    bool ok = false;
    std::string message;
};

// A Windows Job Object, by default with "kill on job close": a process put
// into it brings every child it starts later. Start the build suspended
// (suspendedCreationFlag() in CreateProcess's flags), adopt() it with
// resume = true, and it cannot start a child outside the job. Windows only:
// builds use it through BuildContainment (headroom/BuildContainment.h), the
// same on every system.
class JobObject {
  public:
    JobObject();
    // OnRelease::LeaveRunning: no "kill on job close"; what is still in the
    // job when its last handle closes runs on (call terminate() to end it).
    explicit JobObject(OnRelease onRelease);
    // Closing the job ends every process still in it (unless LeaveRunning).
    ~JobObject();
    JobObject(const JobObject&) = delete;
    JobObject& operator=(const JobObject&) = delete;
    JobObject(JobObject&& other) noexcept;
    JobObject& operator=(JobObject&& other) noexcept;

    // The creation flag that starts a process suspended (CREATE_SUSPENDED).
    static std::uint32_t suspendedCreationFlag();

    // False when the job could not be created; error() says why.
    bool valid() const;
    const std::string& error() const { return error_; }

    // Puts process `pid` into the job, then resumes it when `resume` is true
    // (for a process started suspended).
    JobResult adopt(Pid pid, bool resume = false);
    // Ends every process in the job at once.
    JobResult terminate(std::uint32_t exitCode = 1);
    // The pids now in the job.
    std::vector<Pid> processes() const;

  private:
    void close();

    void* handle_ = nullptr;
    std::string error_;
};

} // namespace headroom
