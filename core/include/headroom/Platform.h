#pragma once

// The contract each operating system backend fulfils (core/platform/<os>/).
// Everything above this line of the core is portable logic.

#include "headroom/Process.h"
#include "headroom/ProcessControl.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace headroom::platform {

// The few fields that identify a live process and place it in the tree.
struct ProcessIdentity {
    ProcessKey key;
    Pid parentPid = 0;
    std::uint32_t uid = 0;
    std::string name;
    ProcessState state = ProcessState::Unknown;
    bool kernelThread = false;
    // Non-zero when the pid asked for names a thread (not the main one) of
    // this process (Linux: /proc shows every thread id as if it were a pid).
    Pid threadOf = 0;
    std::string exe; // executable path where identify() can read it; listIdentities() leaves it empty
};

// Where Linux's procfs is mounted. Every reader of the process table takes
// it, so tests run them on recorded trees (tests/data); macOS and Windows ask
// the kernel and ignore it. sendSignal() and waitForExit() act on live
// processes, so they always read the system's own.
inline constexpr const char* kSystemProcRoot = "/proc";

// The live process with this pid, or nullopt when there is none.
std::optional<ProcessIdentity> identify(Pid pid, const std::filesystem::path& procRoot = kSystemProcRoot);
// Every live process, cheaply (no command lines, no memory, no threads).
std::vector<ProcessIdentity> listIdentities(const std::filesystem::path& procRoot = kSystemProcRoot);

Pid currentPid();
std::uint32_t currentUid();

struct SignalResult {
    ActionOutcome outcome = ActionOutcome::Failed;
    std::string reason; // the system's words when outcome is Failed/NotPermitted
};

// What the caller saw of the process when it chose it. The start time has a
// coarse resolution (Linux: 10 ms), so a pid reused within one tick has the
// same key; its program gives it away. Empty fields are not compared.
struct SignalExpectation {
    std::string name; // comm on Linux
    std::string exe;
};

// Sends the signal for `action` (Terminate sends only the polite request) to
// exactly the process `key` names; AlreadyGone when that process no longer
// exists, even if its pid now belongs to another; Refused when the pid names a
// thread rather than a process, or the live process is not what `expected`
// describes.
SignalResult sendSignal(const ProcessKey& key, ProcessAction action, const SignalExpectation& expected = {});

// True while the process `key` names exists and is not a zombie.
bool isAlive(const ProcessKey& key, const std::filesystem::path& procRoot = kSystemProcRoot);

// Waits until every process in `keys` has exited (a zombie counts as exited)
// or `timeout` has passed; returns the ones still alive.
std::vector<ProcessKey> waitForExit(const std::vector<ProcessKey>& keys, std::chrono::milliseconds timeout);

} // namespace headroom::platform
