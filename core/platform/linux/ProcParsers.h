#pragma once

// Parsers for the text files of Linux procfs. Pure functions over the bytes
// read, so the edge cases (names with ")" or newlines, missing fields) are
// tested on strings and fixture trees.

#include "headroom/Memory.h"
#include "headroom/Process.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom::procfs {

struct StatFields {
    Pid pid = 0;
    std::string comm; // raw bytes between the first "(" and the last ")"
    char state = '?';
    Pid parentPid = 0;
    std::uint64_t flags = 0;
    std::uint64_t utimeTicks = 0;
    std::uint64_t stimeTicks = 0;
    std::uint32_t threads = 0;
    std::uint64_t startTimeTicks = 0; // after boot
    std::uint64_t rssPages = 0;

    bool kernelThread() const { return (flags & 0x00200000u) != 0; } // PF_KTHREAD
};

// /proc/<pid>/stat. The name may hold spaces, "(", ")" and newlines, so it is
// whatever lies between the first "(" and the LAST ")".
std::optional<StatFields> parseStat(std::string_view content);

ProcessState stateFromLetter(char letter);

// /proc/meminfo into `memory` (figures in bytes). False when MemTotal is missing.
bool parseMeminfo(std::string_view content, MemoryStatus& memory);

// /proc/pressure/memory.
std::optional<MemoryPressure> parsePressure(std::string_view content);

// The oom_kill counter of /proc/vmstat (absent before Linux 4.13).
std::optional<std::uint64_t> parseOomKillCount(std::string_view content);

// btime of /proc/stat: boot time in seconds since the epoch.
std::optional<std::int64_t> parseBootTime(std::string_view content);

// First field of /proc/uptime.
std::optional<double> parseUptime(std::string_view content);

// /proc/<pid>/cmdline: NUL-separated arguments. A process that rewrote its
// argv into one space-separated string comes back as a single argument.
std::vector<std::string> parseCmdline(std::string_view content);

// One variable of /proc/<pid>/environ (NUL-separated NAME=value).
std::optional<std::string> findEnvironmentValue(std::string_view environ, std::string_view name);

} // namespace headroom::procfs
