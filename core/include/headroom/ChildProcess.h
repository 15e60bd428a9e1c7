// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Starting a build's step from an argument list (never a shell) with its
// standard output and error going straight to files, not pipes: a supervisor
// that dies then cannot take the build with it (no SIGPIPE, no full pipe).
// One declaration, one implementation per system family (posix, windows).
//
// POSIX: fork + exec (execvp: the program is looked up in PATH), the child
// leads a new process group and gets `oomScoreAdj` (Linux) before exec.
// Windows: CreateProcessW with the files as inheritable handles, started
// suspended, put into a job object (BuildContainment) and resumed.

#include "headroom/BuildContainment.h"
#include "headroom/Process.h"
#include "headroom/Result.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

struct ChildSpec {
    std::vector<std::string> argv; // argv[0] is the program
    std::filesystem::path workingDir;
    std::map<std::string, std::string> environment; // set on top of the inherited one
    std::vector<std::string> unsetEnvironment;      // removed from the inherited one (before `environment`)
    std::filesystem::path stdoutFile;               // opened for append, created if missing
    std::filesystem::path stderrFile;               // the same path as stdoutFile: one file, one handle
    int oomScoreAdj = -1;                           // Linux only; negative: inherited
    bool newProcessGroup = true;                    // POSIX; Windows always uses a job object
};

struct ChildExit {
    std::optional<int> exitCode; // normal exit
    std::optional<int> signal;   // POSIX: the signal that ended it
};

class ChildProcess {
  public:
    // Starts it. Failure says why in words ("cannot run cargo: No such file
    // or directory").
    static Result<std::unique_ptr<ChildProcess>> start(const ChildSpec& spec);
    ~ChildProcess(); // never kills the child: it may outlive whoever started it
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // The started process, with its start time (its identity for stopping).
    ProcessKey key() const;
    // How it ended, once it has (waits at most `timeout`; zero: just looks).
    std::optional<ChildExit> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
    // What keeps its tree together (the process group, the job object).
    BuildContainment& containment();

  private:
    ChildProcess();
    struct State;
    std::unique_ptr<State> state_;
};

// Starts `argv` detached from the caller: its own session (POSIX: fork,
// setsid, fork again, so it is no child of the caller's and no terminal
// reaches it; Windows: DETACHED_PROCESS, a new process group, out of any
// job). Its standard streams go to the null device, or to `logFile` when
// one is given. Returns the detached process's pid.
Result<Pid> startDetached(const std::vector<std::string>& argv, const std::filesystem::path& workingDir = {},
                          const std::filesystem::path& logFile = {});

// The path of the running program (/proc/self/exe, _NSGetExecutablePath,
// GetModuleFileNameW).
std::filesystem::path currentExecutable();

} // namespace headroom
