#pragma once

#include "headroom/ProcessRole.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

using Pid = std::int64_t;

// A process is identified by its pid AND its start time, never by pid alone: a
// pid is reused after its process exits, a (pid, start time) pair is not.
// `startTime` is an opaque per-platform token (Linux: clock ticks after boot,
// field 22 of /proc/<pid>/stat; Windows: creation FILETIME; macOS: start
// microseconds since the epoch). Compare it, print it, pass it back; do not
// interpret it.
struct ProcessKey {
    Pid pid = 0;
    std::uint64_t startTime = 0;

    friend bool operator==(const ProcessKey&, const ProcessKey&) = default;
    friend auto operator<=>(const ProcessKey&, const ProcessKey&) = default;
};

struct ProcessKeyHash {
    std::size_t operator()(const ProcessKey& k) const noexcept
    {
        return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(k.pid) * 0x9E3779B97F4A7C15ull ^
                                          k.startTime);
    }
};

enum class ProcessState {
    Running,
    Sleeping,
    DiskSleep, // uninterruptible, often waiting on swap or I/O
    Stopped,   // paused by SIGSTOP (or a debugger)
    Zombie,    // exited, waiting for its parent to reap it
    Idle,
    Unknown,
};

char stateLetter(ProcessState state);
std::string_view stateName(ProcessState state);

struct ProcessSample {
    ProcessKey key;
    Pid parentPid = 0;
    std::uint32_t uid = 0;
    std::string user; // the uid as a number when it has no name
    ProcessState state = ProcessState::Unknown;
    std::string name;              // the kernel's short name (comm); raw bytes, maybe not UTF-8
    std::string exe;               // executable path; empty when unreadable or a kernel thread
    std::vector<std::string> argv; // empty when unreadable, a zombie or a kernel thread
    std::string cwd;               // working directory; empty when unreadable
    std::uint64_t residentBytes = 0;
    // Windows: private bytes, the process's share of the commit charge
    // (what Task Manager calls "Commit size"). Unset on other systems.
    std::optional<std::uint64_t> privateBytes;
    std::uint64_t cpuTimeNs = 0;      // user + system since start
    std::optional<double> cpuPercent; // of one core, between this and the previous snapshot
    std::uint32_t threads = 0;
    std::int64_t startedAtMs = 0; // wall clock, milliseconds since the epoch
    bool kernelThread = false;
    // CARGO_TARGET_DIR of a cargo process when its environment is readable.
    std::optional<std::string> cargoTargetDir;

    ProcessRole role = ProcessRole::Other;

    // The program's name as a person would say it: the executable's base name
    // when known (comm is cut to 15 bytes on Linux), else comm.
    std::string displayName() const;
    // argv joined with spaces (arguments holding spaces are quoted); the name
    // in brackets when argv is empty, like ps does for kernel threads.
    std::string commandLine() const;
    // commandLine with the program's name instead of its path, so a long
    // toolchain path (~/.rustup/toolchains/.../bin/cargo) does not push the
    // arguments out of sight. The full line stays in commandLine().
    std::string displayCommand() const;
};

} // namespace headroom
