#pragma once

#include "headroom/Process.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

enum class ProcessAction {
    Pause,     // SIGSTOP
    Resume,    // SIGCONT
    Terminate, // SIGTERM, then SIGKILL once the grace period is over
    Kill,      // SIGKILL
};

std::string_view actionId(ProcessAction action); // "pause", "resume", "term", "kill"
std::optional<ProcessAction> actionFromId(std::string_view id);
std::string_view actionVerbPast(ProcessAction action); // "paused", "resumed", "terminated", "killed"

enum class ActionOutcome {
    Done,         // the signal was delivered (and for Terminate/Kill: the process is gone)
    AlreadyGone,  // no process with that pid and start time exists any more
    NotPermitted, // the OS refused (another user's process, a protected one)
    Refused,      // Headroom refused: pid 0/1, itself, its ancestors, a kernel thread, another user's
    Failed,       // anything else, with the system's reason
};

std::string_view outcomeId(ActionOutcome outcome); // "done", "already-gone", ...

struct ActionResult {
    ProcessKey key;
    std::string name;
    ActionOutcome outcome = ActionOutcome::Failed;
    std::string message; // a sentence a person understands
    // Terminate/Kill: the process outlived the whole procedure (outcome Failed).
    bool stillAlive = false;
};

struct ActionReport {
    ProcessAction action = ProcessAction::Terminate;
    std::vector<ActionResult> results;

    bool allSucceeded() const; // every result Done or AlreadyGone
    std::size_t count(ActionOutcome outcome) const;
    std::size_t survivors() const; // results with stillAlive
    // "3 processes terminated, 1 already gone, 1 not permitted, 2 still alive"
    std::string summary() const;
};

struct ActionOptions {
    bool tree = false;                     // the process and all its descendants
    std::chrono::milliseconds grace{3000}; // Terminate: time before SIGKILL
    bool onlyCurrentUser = false;          // refuse other users' processes even as root
};

// A process as a sample showed it. Besides (pid, start time) its name and
// executable are compared right before the first signal: the start time counts
// clock ticks (10 ms on Linux), so a pid reused within one tick has the same key.
struct ProcessTarget {
    ProcessKey key;
    std::string name; // ProcessSample::name; empty: not compared
    std::string exe;  // ProcessSample::exe; empty: not compared

    static ProcessTarget of(const ProcessSample& sample) { return {sample.key, sample.name, sample.exe}; }
};

// Stops, pauses and resumes processes safely. Every target is a (pid, start
// time) pair and is re-verified right before the signal; on Linux the signal
// goes through a pidfd so a reused pid can never be hit, and a thread id is
// refused rather than taken for its process.
//
// With options.tree, Terminate and Kill keep the tree frozen while they work:
// every member is stopped and the tree swept until no new member appears; a
// member that forks during the grace period has its new child frozen and
// terminated too, and before SIGKILL the tree is frozen and swept again.
// Members are remembered by (pid, start time) as they are found, so one that
// is re-parented after its parent died is still killed. Whatever is alive at
// the end is reported (stillAlive, outcome Failed), never counted as stopped.
class ProcessControl {
  public:
    ActionReport apply(const ProcessKey& target, ProcessAction action,
                       const ActionOptions& options = {}) const;
    // Several targets (for example all runaway builds) in one go. With
    // options.tree each target brings its descendants.
    ActionReport apply(const std::vector<ProcessKey>& targets, ProcessAction action,
                       const ActionOptions& options = {}) const;
    // Targets taken from a sample: refused when the pid now runs another program.
    ActionReport apply(const std::vector<ProcessTarget>& targets, ProcessAction action,
                       const ActionOptions& options = {}) const;

    // Why Headroom will not touch this pid (pid 0/1, itself, an ancestor, a
    // thread of one of those, a kernel thread), or nullopt when it may: the
    // protection part of TouchPolicy, which every action goes through.
    static std::optional<std::string> protectedReason(Pid pid);
};

} // namespace headroom
