#pragma once

#include "headroom/Process.h"
#include "headroom/ProcessRole.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace headroom {

// Whether a build holds the lock cargo takes on its target folder, waits for
// it (blocked behind another build), or neither. Unknown where the system
// does not say (no /proc/locks) or when no duplicate made it worth asking.
enum class BuildLockState { Unknown, Holds, Waiting, None };

// A build tool process (cargo, make, ninja, cmake --build) that no other build
// tool started, with all of its descendants.
struct BuildTree {
    ProcessKey root;
    std::string tool;       // "cargo", "make", "ninja", "cmake"
    std::string subcommand; // cargo's subcommand ("build", "test", "nextest"...), else empty
    std::string profile;    // cargo: "release", "dev" or the --profile name; else empty
    std::string command;    // the root's command line
    std::string workspace;  // folder the build works on (workspace root for cargo)
    std::string targetDir;  // where it writes (cargo: --target-dir, CARGO_TARGET_DIR, <workspace>/target)
    std::uint32_t uid = 0;
    std::vector<ProcessKey> members; // root first, then descendants in pid order
    std::uint64_t residentBytes = 0; // summed over members
    std::array<std::uint32_t, kRoleCount> countByRole{};
    std::array<std::uint64_t, kRoleCount> bytesByRole{};
    double elapsedSeconds = 0.0; // since the root started
    std::uint64_t cpuTimeNs = 0; // summed over members: how much work it has done
    BuildLockState lock = BuildLockState::Unknown;
    // Other live builds on the same workspace or target folder (indices into
    // Snapshot::builds). Non-empty means this build competes with another.
    std::vector<std::size_t> duplicates;

    std::uint32_t count(ProcessRole role) const { return countByRole[roleIndex(role)]; }
};

// Processes of one role across the whole table.
struct RoleTotal {
    ProcessRole role = ProcessRole::Other;
    std::uint32_t count = 0;
    std::uint64_t residentBytes = 0;
};

} // namespace headroom
