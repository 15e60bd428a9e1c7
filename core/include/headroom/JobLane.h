// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// One build's jobserver: the GNU make jobserver its processes draw tokens
// from (cargo, rustc's codegen threads, make, ninja >= 1.13). Each process
// that runs a job beyond its implicit one holds a token. The supervisor of
// the build owns the lane and steers how many tokens it holds; the pool
// (JobPool) keeps the sum over every build within the CPUs and the memory.
//
// One lane per build rather than one token pipe for all: a build that is
// killed takes its tokens with it, and with one shared pipe they would be
// lost to every build; with a lane each, the supervisor always knows how
// many tokens its build holds (given minus waiting) and the lane goes with
// the build.
//
// POSIX (Linux, macOS): a named pipe <dir>/<run id>.fifo, mode 0600, which
// clients find through "--jobserver-auth=fifo:PATH" (GNU make >= 4.4, the
// jobserver crate, cargo, rustc, ninja >= 1.13). The supervisor keeps it
// open read-write, so tokens in it survive while no client has it open.
// GNU make 4.3 (Debian 12, Ubuntu 24.04) knows only the older form, two
// inherited descriptors "--jobserver-fds=R,W", and stops on a fifo: so the
// lane also holds a read and a write descriptor on its fifo that every
// process started while it lives inherits (they are not close-on-exec),
// and names them too (makeflags(), cargoMakeflags()).
// Windows: a named semaphore "headroom-<run id>" (--jobserver-auth=NAME)
// created with a maximum of the CPU count and none available; the lane
// holds the tokens it withholds (a semaphore cannot grow past its maximum).

#include "headroom/Result.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace headroom {

class JobLane {
  public:
    // Creates the lane of run `runId` in `dir` (which must exist) with room
    // for at most `maxTokens` tokens, none given yet.
    static Result<std::unique_ptr<JobLane>> create(const std::filesystem::path& dir, const std::string& runId,
                                                   unsigned maxTokens);
    // Removes the fifo / closes the semaphore. Jobs still running keep what
    // they hold; nobody can take more.
    ~JobLane();
    JobLane(const JobLane&) = delete;
    JobLane& operator=(const JobLane&) = delete;

    // "fifo:/run/user/1000/headroom/pool/<id>.fifo" or "headroom-<id>".
    std::string auth() const;
    // What MAKEFLAGS says. POSIX: " -j --jobserver-auth=fifo:PATH
    // --jobserver-fds=R,W" (make and ninja take the last of the two, make
    // 4.3 needs the descriptors); Windows: " -j --jobserver-auth=<auth>".
    std::string makeflags() const;
    // What CARGO_MAKEFLAGS says. POSIX: " -j --jobserver-auth=R,W", so that
    // cargo hands its build scripts the descriptor form, which a make 4.3
    // they run can read (given both forms, cargo picks the fifo); Windows:
    // makeflags().
    std::string cargoMakeflags() const;
    unsigned maxTokens() const;

    // Tokens given out: waiting in the lane plus held by jobs.
    unsigned granted() const;
    // Tokens waiting in the lane now, not taken by a job (POSIX: FIONREAD;
    // Windows: taken and given straight back).
    unsigned waiting();
    unsigned inUse()
    {
        const unsigned w = waiting();
        return granted() > w ? granted() - w : 0;
    }

    // Gives tokens, or takes waiting ones back, towards `target` (at most
    // maxTokens). A token a job holds cannot be taken back: granted() stays
    // above target until the job returns it, and the next call takes it.
    // Returns granted() after.
    unsigned steer(unsigned target);

  private:
    JobLane();
    struct State;
    std::unique_ptr<State> state_;
};

// What makes a process draw from a lane, whatever it inherited: MAKEFLAGS
// and CARGO_MAKEFLAGS set to the lane's flags (an empty CARGO_MAKEFLAGS
// hides MAKEFLAGS from cargo), MFLAGS and CARGO_BUILD_JOBS removed.
struct JobserverEnvironment {
    std::map<std::string, std::string> set;
    std::vector<std::string> unset;
};
// MAKEFLAGS = lane.makeflags(), CARGO_MAKEFLAGS = lane.cargoMakeflags().
JobserverEnvironment jobserverEnvironment(const JobLane& lane);
// MAKEFLAGS = `makeflags`; CARGO_MAKEFLAGS the same, or, when it names
// descriptors with --jobserver-fds=R,W (a POSIX lane's makeflags()),
// " -j --jobserver-auth=R,W": jobserverEnvironment(lane.makeflags()) and
// jobserverEnvironment(lane) give the same.
JobserverEnvironment jobserverEnvironment(const std::string& makeflags);

// The arguments of a cargo, make or ninja command without its own job count
// (-j N, -jN, --jobs N, --jobs=N before any "--"), which would make it run
// its own jobserver beside the pool's. `removed` gets what was taken out,
// for the log. Other programs' arguments are returned unchanged.
std::vector<std::string> withoutJobsArguments(const std::string& program,
                                              const std::vector<std::string>& args,
                                              std::vector<std::string>* removed = nullptr);

} // namespace headroom
