// SPDX-License-Identifier: GPL-3.0-or-later
// libproc calls shared by the macOS backend (MacPlatform.cpp, MacSampler.cpp).
#pragma once

#include "headroom/Process.h"

#include <libproc.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <string.h>
#include <vector>

namespace headroom::mac {

// BSD facts of a process: parent, owner, name, state, start time. Readable for
// every process, also other users'. False when the pid does not exist.
inline bool bsdInfo(Pid pid, proc_bsdinfo& out)
{
    return proc_pidinfo(static_cast<int>(pid), PROC_PIDTBSDINFO, 0, &out, PROC_PIDTBSDINFO_SIZE) ==
           PROC_PIDTBSDINFO_SIZE;
}

// ProcessKey::startTime on macOS: microseconds since the epoch.
inline std::uint64_t startTimeOf(const proc_bsdinfo& info)
{
    return info.pbi_start_tvsec * 1'000'000ull + info.pbi_start_tvusec;
}

inline ProcessState stateOf(const proc_bsdinfo& info)
{
    switch (info.pbi_status) {
    case SSTOP:
        return ProcessState::Stopped;
    case SZOMB:
        return ProcessState::Zombie;
    case SRUN:
        return ProcessState::Running;
    case SSLEEP:
        return ProcessState::Sleeping;
    default:
        return ProcessState::Unknown;
    }
}

// A fixed char array from the kernel, read only up to its end even when the
// name fills it without a terminating NUL.
template <std::size_t N> std::string boundedString(const char (&text)[N])
{
    return std::string(text, ::strnlen(text, N));
}

// pbi_name holds up to 32 bytes; pbi_comm only 16.
inline std::string nameOf(const proc_bsdinfo& info)
{
    return info.pbi_name[0] ? boundedString(info.pbi_name) : boundedString(info.pbi_comm);
}

// Every pid on the system; the list may grow between the two calls, so ask
// for room to spare.
inline std::vector<pid_t> allPids()
{
    const int count = proc_listallpids(nullptr, 0);
    if (count <= 0)
        return {};
    std::vector<pid_t> pids(static_cast<std::size_t>(count) + 64);
    const int n = proc_listallpids(pids.data(), static_cast<int>(pids.size() * sizeof(pid_t)));
    pids.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return pids;
}

} // namespace headroom::mac
