// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Which processes Headroom may pause, stop or resume, written once. Every
// path that signals a process asks it: ProcessControl (the window, the tray,
// the CLI's stop), the build guard, "Stop runaway builds" and "Pause builds".
//
// Always protected: pid 0 and below (not one process), pid 1, kernel
// threads, Headroom itself, the processes that started it (the terminal, the
// session, the desktop), a build tree that holds any of those (`cargo run` of
// Headroom), and a thread id standing for its process. With a scope, also:
// other users' processes, and processes that are not part of a build.

#include "headroom/Process.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace headroom {

struct Snapshot;
struct BuildTree;
namespace platform {
struct ProcessIdentity;
}

enum class TouchRule {
    Allowed,
    NotOneProcess, // pid 0 or below: a process group, or every process
    Init,          // pid 1
    KernelThread,
    Self,         // Headroom itself
    Ancestor,     // started Headroom
    RunsHeadroom, // a build tree with Headroom or one of its ancestors inside
    Thread,       // a thread id, not a process
    Exited,       // a zombie: nothing left to pause or stop
    OtherUser,    // scope.currentUserOnly
    NotBuild,     // scope.buildRolesOnly
};

std::string_view touchRuleId(TouchRule rule); // "allowed", "init", "kernel-thread", ...

struct TouchVerdict {
    TouchRule rule = TouchRule::Allowed;
    std::string reason; // a sentence a person understands; empty when allowed

    bool allowed() const { return rule == TouchRule::Allowed; }
};

struct TouchScope {
    bool currentUserOnly = false; // refuse other users' processes, even as root
    bool buildRolesOnly = false;  // refuse processes whose role is Other (needs a sample)
};

class TouchPolicy {
  public:
    // Headroom as it runs: this process, its ancestors read from the live
    // system, the current user.
    static TouchPolicy live(TouchScope scope = {});
    // Headroom as a snapshot shows it: `self` (0: none) and its ancestors in
    // the snapshot; `uid` is the user whose processes may be touched.
    static TouchPolicy of(const Snapshot& snapshot, std::uint32_t uid, Pid self, TouchScope scope = {});

    const TouchScope& scope() const { return scope_; }
    std::uint32_t uid() const { return uid_; }
    Pid self() const { return self_; }

    // Protected by the pid alone (0 and below, 1, Headroom, an ancestor).
    bool covers(Pid pid) const;
    TouchVerdict byPid(Pid pid) const;

    // A process as a sample shows it, under this policy's scope or another.
    TouchVerdict check(const ProcessSample& process) const { return check(process, scope_); }
    TouchVerdict check(const ProcessSample& process, TouchScope scope) const;
    // A process as the live system shows it; its role is not known, so
    // buildRolesOnly does not apply.
    TouchVerdict check(const platform::ProcessIdentity& live) const;
    // A build tree as a whole: its root (a build, whatever the root's role)
    // and none of its members protected.
    TouchVerdict check(const Snapshot& snapshot, const BuildTree& build) const;

    // Why this pid is protected whoever asks: byPid, a thread of a protected
    // process, a kernel thread (looked up live). Allowed when it is not.
    TouchVerdict protection(Pid pid) const;

  private:
    TouchVerdict common(Pid pid, const std::string& name, std::uint32_t uid, bool kernelThread,
                        ProcessState state, bool checkUser) const;

    TouchScope scope_;
    std::uint32_t uid_ = 0;
    Pid self_ = 0;
    std::unordered_map<Pid, std::string> ancestors_; // pid -> name
};

} // namespace headroom
