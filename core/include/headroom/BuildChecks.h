#pragma once

// The checks to pass before a heavy build starts, each with a plain verdict.

#include "headroom/Snapshot.h"

#include <cstdint>
#include <string>
#include <vector>

namespace headroom {

struct BuildCheckOptions {
    double maxUsedFraction = 0.80; // of RAM; the report's "< 25 of 31 GB"
    std::uint64_t requiredHeadroom =
        8ull << 30; // RAM + free swap (the cgroup budget when a cgroup limit applies); or the learned peak
    std::uint64_t heavyTestBytes = 512ull << 20; // test processes above this total count as heavy
    std::string workspace;                       // the project to build
    std::string targetDir;                       // where it writes
};

enum class BuildCheckId { MemoryUsed, Headroom, CompetingBuild, HeavyTests };

struct BuildCheck {
    BuildCheckId id;
    bool passed = true;
    std::string verdict; // "Used memory 29.0 GiB of 31.0 GiB (94%) is above 80%."
    // Processes the fix would touch (the competing build's root, the heavy tests).
    std::vector<ProcessKey> offenders;
};

std::vector<BuildCheck> runBuildChecks(const Snapshot& snapshot, const BuildCheckOptions& options);
bool allPassed(const std::vector<BuildCheck>& checks);

} // namespace headroom
