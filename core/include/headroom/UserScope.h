// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Linux: a build in a transient systemd user scope (`systemd-run --user
// --scope`), its own cgroup v2 with optional MemoryHigh (the kernel throttles
// the build above it instead of killing) and MemoryMax (the scope's own OOM
// kill, counted in its memory.events). Where there is no systemd user manager
// with cgroup v2 delegation (cgroup v1, no systemd, macOS, Windows) probe()
// says so in words and the build runs without a scope.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

struct ScopeOptions {
    std::string unitName; // "headroom-<run id>-<step>.scope"
    std::optional<std::uint64_t> memoryHigh;
    std::optional<std::uint64_t> memoryMax;
};

struct ScopeProbe {
    bool available = false;
    std::string reason; // why not, in words: what to install or enable
};

// Whether `systemd-run --user --scope` works here (tried once per call with
// a no-op command; the result is not cached).
ScopeProbe probeUserScope();

// argv prefixed so that the build runs in the scope: systemd-run execs the
// command itself, so the pid the caller starts is the build's.
std::vector<std::string> scopedCommand(const ScopeOptions& scope, const std::vector<std::string>& argv);

} // namespace headroom
