// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/ProcLocks.h"
#include "headroom/Snapshot.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// Builds of one workspace or target folder that run at once, and which one of
// them to keep: the one doing the work. One rule for the window's button, the
// Stop runaway builds dialog and `headroom stop --extra-builds`:
//   1. the build that holds cargo's lock (the others are blocked on it);
//   2. else one whose tree has compilers, build scripts or linkers running;
//   3. then the one with the most CPU time (the most work done);
//   4. then the one that started first.
// A build that only waits for the lock is never kept while another is not waiting.
struct DuplicateGroup {
    enum class Reason { HoldsLock, Working, MostProgress, StartedFirst };

    std::vector<std::size_t> builds; // indices into Snapshot::builds, the kept one first
    std::size_t kept = 0;            // index into Snapshot::builds
    Reason reason = Reason::StartedFirst;

    std::vector<std::size_t> extra() const { return {builds.begin() + 1, builds.end()}; }
};

std::vector<DuplicateGroup> duplicateGroups(const Snapshot& snapshot);

// Root keys of every build the rule would stop, over all groups.
std::vector<ProcessKey> extraDuplicateBuilds(const Snapshot& snapshot);

// Why the rule keeps or stops build `index` of the group, in a few words:
// "holds the lock", "compilers running", "waiting for the lock", "started later".
std::string duplicateVerdict(const Snapshot& snapshot, const DuplicateGroup& group, std::size_t index);

// "holds the lock", "waiting for the lock"; empty for Unknown and None.
std::string_view lockStateText(BuildLockState state);

// Fills BuildTree::lock for every build that has duplicates from the
// platform's lock table; does nothing (no read) when no build has duplicates.
void markBuildLocks(Snapshot& snapshot, const std::filesystem::path& fsRoot = "/");

// The pure part of markBuildLocks: `lockFiles[i]` are build i's lock files.
void assignLockStates(Snapshot& snapshot, const std::vector<FileLockEntry>& locks,
                      const std::vector<std::vector<LockFileId>>& lockFiles);

// "cargo build -p tsz-cli" — tool, subcommand and packages; the program's
// name rather than its path. Sanitised and bounded.
std::string buildName(const Snapshot& snapshot, const BuildTree& build);

// buildName with what tells equal builds apart:
// "cargo build -p tsz-cli · release · pid 63146 · 43 s · holds the lock".
// Without the lock state where a verdict follows that says it anyway.
std::string buildLabel(const Snapshot& snapshot, const BuildTree& build, bool withLock = true);

} // namespace headroom
