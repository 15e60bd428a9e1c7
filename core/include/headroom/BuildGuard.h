#pragma once

// The build guard's decisions: under critical pressure, pause build and test
// processes (youngest and largest first) until the level falls back; resume
// them all, oldest first, once it is normal; below the emergency line with
// builds already paused, terminate the largest build tree before the kernel
// picks a victim. Only ever the current user's build and test processes
// (TouchPolicy with both scopes), and
// never twice on one process within the grace period. Pure logic: the app
// carries the actions out through ProcessControl.

#include "headroom/PressureLevel.h"
#include "headroom/Snapshot.h"
#include "headroom/TouchPolicy.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

struct GuardOptions {
    std::uint32_t uid = 0; // whose processes may be touched
    double emergencyAvailablePercent =
        5.0;                    // terminate below this (of RAM, or of a cgroup limit), with builds paused
    double graceSeconds = 30.0; // never act on one process twice within this
    bool guardExternalBuilds = false;      // also builds Headroom did not start
    std::vector<ProcessKey> launchedRoots; // builds Headroom started: always guarded
    Pid selfPid = 0;                       // Headroom: it and its ancestors are never touched (0: none)
};

enum class GuardActionKind { Pause, Resume, TerminateTree };

struct GuardAction {
    GuardActionKind kind = GuardActionKind::Pause;
    ProcessKey target;
    std::string name;
    std::uint64_t residentBytes = 0;
    std::string reason; // for the notification and the log
};

class BuildGuard {
  public:
    explicit BuildGuard(GuardOptions options = {}) : options_(std::move(options)) {}
    void setOptions(GuardOptions options) { options_ = std::move(options); }

    // What to do now, given the latest snapshot and level; `now` in seconds on
    // a steady clock. The guard assumes the actions it returns are carried out.
    std::vector<GuardAction> decide(const Snapshot& snapshot, PressureLevel level, double now);

    // Processes the guard paused and has not resumed yet.
    std::vector<ProcessKey> paused() const;

    // The user resumed (or stopped) these by hand: the guard no longer holds
    // them, and leaves them alone for the grace period.
    void release(const std::vector<ProcessKey>& keys, double now);

  private:
    bool mayTouch(const ProcessSample& p, const Snapshot& s, const TouchPolicy& policy) const;
    bool rested(const ProcessKey& key, double now) const;

    GuardOptions options_;
    std::map<ProcessKey, double> lastActed_;
    std::map<ProcessKey, std::int64_t> paused_; // -> start time, to resume oldest first
    std::optional<double> lastTerminatedAt_;
};

} // namespace headroom
