// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Builds snapshot series for the offscreen UI tests: a desk machine with a
// shell, an editor and a cargo build whose rustc and linker grow, replayed
// one poll at a time. Processes get their roles and build trees from the
// core's own classifier and build grouping, as live snapshots do.

#include "headroom/BuildTrees.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"
#include "services/SnapshotPtr.h"

#include <memory>
#include <string>
#include <vector>

namespace replay {

using namespace headroom;

inline ProcessSample process(Pid pid, Pid parent, const std::string& name, std::vector<std::string> argv,
                             std::uint64_t residentMiB, const std::string& cwd = "/home/dev/app")
{
    ProcessSample p;
    p.key = {pid, static_cast<std::uint64_t>(pid) * 100};
    p.parentPid = parent;
    p.uid = 1000;
    p.user = "dev";
    p.state = ProcessState::Sleeping;
    p.name = name;
    p.exe = "/usr/bin/" + name;
    p.argv = std::move(argv);
    p.cwd = cwd;
    p.residentBytes = residentMiB * MiB;
    p.cpuPercent = 0.0;
    p.threads = 1;
    p.startedAtMs = 1'700'000'000'000 + pid;
    return p;
}

inline MemoryStatus memory(std::uint64_t totalGiB, std::uint64_t usedMiB, std::uint64_t swapTotalGiB = 2,
                           std::uint64_t swapUsedMiB = 0)
{
    MemoryStatus m;
    m.total = totalGiB * GiB;
    m.used = usedMiB * MiB;
    m.available = m.total - m.used;
    m.free = m.available / 2;
    m.cache = m.available / 2;
    m.swapTotal = swapTotalGiB * GiB;
    m.swapUsed = swapUsedMiB * MiB;
    m.swapFree = m.swapTotal - m.swapUsed;
    m.pressure.available = true;
    return m;
}

// A snapshot of these processes at poll `index` (one poll per second).
inline std::shared_ptr<Snapshot> snapshot(std::int64_t index, MemoryStatus mem,
                                          std::vector<ProcessSample> processes)
{
    auto s = std::make_shared<Snapshot>();
    s->steadyNs = 1'000'000'000'000 + index * 1'000'000'000;
    s->wallMs = 1'700'000'100'000 + index * 1000;
    s->uptimeSeconds = 1000.0 + static_cast<double>(index);
    s->memory = mem;
    std::sort(processes.begin(), processes.end(),
              [](const ProcessSample& a, const ProcessSample& b) { return a.key.pid < b.key.pid; });
    s->processes = std::move(processes);
    RoleClassifier().classify(s->processes);
    assembleBuilds(*s, "/nonexistent-fs-root");
    return s;
}

// The desk: init, a shell, an editor, and a cargo build that runs one rustc
// growing by 40 MiB a poll and, later, a linker.
inline std::shared_ptr<Snapshot> buildAt(std::int64_t index)
{
    std::vector<ProcessSample> p = {
        process(1, 0, "systemd", {"/sbin/init"}, 12, "/"),
        process(300, 1, "bash", {"bash"}, 5),
        process(400, 1, "code", {"code", "."}, 900),
        process(500, 300, "cargo", {"cargo", "build", "--release"}, 60),
        process(501, 500, "rustc", {"rustc", "--crate-name", "app"},
                200 + 40 * static_cast<std::uint64_t>(index)),
    };
    if (index >= 5)
        p.push_back(process(502, 501, "cc", {"cc", "-o", "target/release/app"}, 150));
    const std::uint64_t used = 4000 + 40 * static_cast<std::uint64_t>(index);
    return snapshot(index, memory(16, used), std::move(p));
}

} // namespace replay
