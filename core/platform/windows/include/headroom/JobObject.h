// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Process.h"

#include <cstdint>
#include <string>
#include <vector>

namespace headroom {

// The outcome of a job operation, with a sentence a person can act on.
struct JobResult {
    bool ok = false;
    // True on systems where builds need no job: the call did nothing, on
    // purpose (ok is true as well).
    bool notNeeded = false;
    std::string message;
};

// Keeps a build and every process it starts together, so that stopping the
// build stops its whole tree and closing Headroom never leaves orphans.
//
// Windows: a Job Object created with "kill on job close"; a process put into it
// brings every child it starts later. Start the build suspended
// (suspendedCreationFlag() in CreateProcess's flags, e.g. through
// QProcess::setCreateProcessArgumentsModifier), adopt() it with resume = true,
// and it cannot start a child outside the job.
// Elsewhere: not needed (Headroom walks the process tree and builds run in
// their own process group); every call returns ok with notNeeded set.
class JobObject {
  public:
    JobObject();
    // Windows: closing the job ends every process still in it.
    ~JobObject();
    JobObject(const JobObject&) = delete;
    JobObject& operator=(const JobObject&) = delete;
    JobObject(JobObject&& other) noexcept;
    JobObject& operator=(JobObject&& other) noexcept;

    // True where builds need a job object to stop as a whole (Windows).
    static bool needed();
    // The creation flag that starts a process suspended (CREATE_SUSPENDED on
    // Windows, 0 elsewhere).
    static std::uint32_t suspendedCreationFlag();

    // False when the job could not be created; error() says why.
    bool valid() const;
    const std::string& error() const { return error_; }

    // Puts process `pid` into the job, then resumes it when `resume` is true
    // (for a process started suspended).
    JobResult adopt(Pid pid, bool resume = false);
    // Ends every process in the job at once.
    JobResult terminate(std::uint32_t exitCode = 1);
    // The pids now in the job (empty where not needed).
    std::vector<Pid> processes() const;

  private:
    void close();

    void* handle_ = nullptr;
    std::string error_;
};

} // namespace headroom
