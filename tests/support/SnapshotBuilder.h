// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Hand-made snapshots for tests that need exact figures: adds one process
// and counts it in its role's total, as the sampler does.

#include "headroom/Snapshot.h"

#include <cstdint>
#include <string>

namespace support {

inline void addProcess(headroom::Snapshot& s, headroom::Pid pid, std::string name, headroom::ProcessRole role,
                       std::uint64_t residentBytes)
{
    headroom::ProcessSample p;
    p.key = {pid, std::uint64_t(pid)};
    p.name = std::move(name);
    p.role = role;
    p.residentBytes = residentBytes;
    s.processes.push_back(p);
    auto& total = s.roleTotals[headroom::roleIndex(role)];
    total.role = role;
    ++total.count;
    total.residentBytes += residentBytes;
}

} // namespace support
