// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Process.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// One line of the kernel's table of file locks (Linux: /proc/locks): a lock
// held, or a request blocked behind one (the lines marked "->").
struct FileLockEntry {
    std::string kind; // "FLOCK", "POSIX", "OFDLCK", "LEASE", ...
    bool write = false;
    bool waiting = false; // blocked, waiting for the lock above it
    Pid pid = 0;          // the holder or waiter; -1 or 0 when not visible from here
    std::uint32_t devMajor = 0;
    std::uint32_t devMinor = 0;
    std::uint64_t inode = 0;
};

// Parses /proc/locks text; lines that do not parse are skipped.
std::vector<FileLockEntry> parseProcLocks(std::string_view text);

// A lock file on disk: the device and inode the lock table names it by.
struct LockFileId {
    std::uint32_t devMajor = 0;
    std::uint32_t devMinor = 0;
    std::uint64_t inode = 0;
};

namespace platform {

// The system's file locks, read under `fsRoot` (bounded). nullopt where the
// system has no such table (Windows, macOS) or it cannot be read.
std::optional<std::vector<FileLockEntry>> readFileLocks(const std::filesystem::path& fsRoot = "/");

// cargo's build-directory locks under a target folder: <target>/<profile>/.cargo-lock
// and <target>/<triple>/<profile>/.cargo-lock. Only stats (never opens) a
// bounded number of entries. Empty where locks cannot be read.
std::vector<LockFileId> findCargoLockFiles(const std::string& targetDir,
                                           const std::filesystem::path& fsRoot = "/");

} // namespace platform
} // namespace headroom
