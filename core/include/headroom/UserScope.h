// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Linux: a build in a transient systemd user scope (`systemd-run --user
// --scope`), its own cgroup v2 with optional MemoryHigh (the kernel throttles
// the build above it instead of killing) and MemoryMax (the scope's own OOM
// kill, counted in its memory.events). Where there is no systemd user manager
// with cgroup v2 delegation (cgroup v1, no systemd, macOS, Windows) probe()
// says so in words and the build runs without a scope.

#include <chrono>
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

// What the probe looks at; current() is this machine and this process's
// environment, tests point it at recorded trees and a fake systemd-run.
struct ScopeProbeEnvironment {
    std::string cgroupRoot = "/sys/fs/cgroup";
    std::string systemdDir = "/run/systemd/system"; // exists when systemd is the init system
    std::string runtimeBase = "/run/user";          // where logind makes XDG_RUNTIME_DIR
    std::string runtimeDir;                         // $XDG_RUNTIME_DIR
    std::string busAddress;                         // $DBUS_SESSION_BUS_ADDRESS
    std::string searchPath;                         // $PATH
    std::uint32_t uid = 0;
    std::chrono::milliseconds timeout{5000}; // for the real try
    static ScopeProbeEnvironment current();
};

// Whether `systemd-run --user --scope` works here: systemd-run on PATH, a
// user manager to ask, memory on the unified cgroup hierarchy and delegated
// to the user, then a real try with a no-op command (`true`, at most
// `timeout`). The checks that fail are all named in `reason`, each with what
// to do; the try runs only when they pass. The result is not cached.
ScopeProbe probeUserScope();
ScopeProbe probeUserScope(const ScopeProbeEnvironment& environment);

// A unit name systemd takes: characters outside [A-Za-z0-9:_.-] become '_',
// at most 255 bytes (systemd's limit).
inline std::string sanitizeUnitName(const std::string& name)
{
    std::string out = name.substr(0, 255);
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == ':' || c == '_' || c == '.' || c == '-';
        if (!ok)
            c = '_';
    }
    return out;
}

// argv prefixed so that the build runs in the scope: systemd-run execs the
// command itself, so the pid the caller starts is the build's:
// {"systemd-run", "--user", "--scope", "--quiet", "--collect", "--unit=<unit>",
//  ["-p", "MemoryHigh=<bytes>"], ["-p", "MemoryMax=<bytes>"], "--", argv...}.
// The unit name is sanitised and ends in ".scope". Without an argv, or on
// systems without systemd, argv as it is.
std::vector<std::string> scopedCommand(const ScopeOptions& scope, const std::vector<std::string>& argv);

} // namespace headroom
