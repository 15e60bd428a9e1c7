// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Keeps a build and every process it starts together, so that the build can
// be ended as a whole and nothing it starts escapes. One class, one
// implementation per system family:
//
//  - POSIX (core/platform/posix): the build's first process leads a process
//    group of its own, made in the child before exec (prepareChild()); every
//    child it starts is in that group unless it leaves it (setsid, setpgid).
//    A Ctrl+C in Headroom's terminal does not reach the group.
//  - Windows (core/platform/windows): a Job Object with "kill on job close".
//    The first process is started suspended (creationFlags()), put into the
//    job and only then resumed (attach()), so it cannot start a child outside
//    the job; closing the job ends whatever is still in it, unless the
//    containment was made with OnRelease::LeaveRunning (a supervisor's: the
//    build must outlive a supervisor that dies, so it ends what is left
//    with terminate() itself).
//
// Use: creationFlags() in CreateProcess's flags and prepareChild() in the
// child (QProcess::setCreateProcessArgumentsModifier / setChildProcessModifier;
// the one the system lacks does nothing), then attach(pid) once started.

#include "headroom/Process.h"

#include <cstdint>
#include <memory>
#include <string>

namespace headroom {

struct ContainmentResult {
    bool ok = false;
    std::string message; // what happened, in words; the reason when !ok
};

// What releasing the containment (destroying it, or its owner dying) does to
// the processes still in it. Only Windows' job objects can end them then.
enum class OnRelease {
    EndProcesses, // Windows: the job ends them ("kill on job close")
    LeaveRunning, // they run on; whoever holds the containment calls terminate()
};

class BuildContainment {
  public:
    BuildContainment();
    explicit BuildContainment(OnRelease onRelease) : BuildContainment() { onRelease_ = onRelease; }
    // Windows: closing the job ends every process still in it (unless made
    // with OnRelease::LeaveRunning). POSIX: the group is left alone (what a
    // build leaves running, a compiler cache server for one, outlives it as
    // it would in a terminal).
    ~BuildContainment();
    BuildContainment(const BuildContainment&) = delete;
    BuildContainment& operator=(const BuildContainment&) = delete;
    BuildContainment(BuildContainment&&) noexcept;
    BuildContainment& operator=(BuildContainment&&) noexcept;

    // Flags to start the build's first process with: CREATE_SUSPENDED on
    // Windows, so it runs nothing before attach(); 0 elsewhere.
    static std::uint32_t creationFlags();
    // In the child, between fork and exec, so only async-signal-safe calls:
    // POSIX makes it the leader of a new process group. Nothing on Windows.
    static void prepareChild() noexcept;

    // Contains the just started process `pid` and everything it starts from
    // now on. POSIX: makes sure it leads its own process group (and makes it
    // so, if it has not called exec yet). Windows: puts it into the job and
    // resumes it.
    ContainmentResult attach(Pid pid);
    // Ends every contained process at once (SIGKILL to the group,
    // TerminateJobObject). Never reaches past the build: refused when nothing
    // is attached, and on POSIX when the group's id now names another
    // process.
    ContainmentResult terminate();

    OnRelease onRelease() const { return onRelease_; }

  private:
    struct State;
    std::unique_ptr<State> state_;
    OnRelease onRelease_ = OnRelease::EndProcesses;
};

} // namespace headroom
