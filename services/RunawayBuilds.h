// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Snapshot.h"

#include <QString>

#include <vector>

namespace headroom::services {

// One thing "Stop runaway builds" offers to stop: a build tree, or a build
// process of the user that no build tree holds (a test binary started by hand,
// a lone rustc). Stopping it means stopping its root with its whole tree.
struct RunawayGroup {
    struct Member {
        ProcessKey key;
        QString name;
        ProcessRole role = ProcessRole::Other;
        std::uint64_t residentBytes = 0;
        QString commandLine;
    };

    ProcessKey root;
    QString title; // "cargo build --release" or the lone process's name
    QString where; // workspace, or working folder
    bool isBuildTree = false;
    double elapsedSeconds = 0.0;
    std::vector<Member> members; // root first
    std::uint64_t residentBytes = 0;
    // For duplicate builds: what the duplicate rule says of it ("keep: holds
    // the lock", "extra: waiting for the lock"); empty otherwise.
    QString note;
    // The build the duplicate rule keeps, shown for context only: never ticked.
    bool kept = false;
};

// Every build process of user `uid` in the snapshot, grouped by build tree.
// What it leaves out is TouchPolicy's to say: `selfPid` and its ancestors
// (stopping those would stop the dashboard), pids 0 and 1, kernel threads,
// exited processes, other users'. Heaviest group first.
std::vector<RunawayGroup> collectRunawayBuilds(const Snapshot& snapshot, std::uint32_t uid, Pid selfPid);

// The duplicate builds the core's rule would stop, as groups for the
// confirmation, each with its verdict; the build each duplicate group keeps
// comes first in its group, marked `kept`. Same filters as collectRunawayBuilds.
std::vector<RunawayGroup> collectExtraBuilds(const Snapshot& snapshot, std::uint32_t uid, Pid selfPid);

} // namespace headroom::services
