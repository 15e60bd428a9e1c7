#pragma once

// The contract each operating system backend fulfils (core/platform/<os>/).
// Everything above this line of the core is portable logic.

#include "headroom/Process.h"
#include "headroom/ProcessControl.h"

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
};

// The live process with this pid, or nullopt when there is none.
std::optional<ProcessIdentity> identify(Pid pid);
// Every live process, cheaply (no command lines, no memory).
std::vector<ProcessIdentity> listIdentities();

Pid currentPid();
std::uint32_t currentUid();

struct SignalResult {
    ActionOutcome outcome = ActionOutcome::Failed;
    std::string reason; // the system's words when outcome is Failed/NotPermitted
};

// Sends the signal for `action` (Terminate sends only the polite request) to
// exactly the process `key` names; AlreadyGone when that process no longer
// exists, even if its pid now belongs to another.
SignalResult sendSignal(const ProcessKey& key, ProcessAction action);

// True while the process `key` names exists and is not a zombie.
bool isAlive(const ProcessKey& key);

} // namespace headroom::platform
