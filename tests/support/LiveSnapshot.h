// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A real snapshot of this machine narrowed to the processes a test started.
// The tests run beside other work of the same user (compilers, other test
// runs); the window must only be shown the test's own processes, or "tick
// every box" would reach beyond them.

#include "headroom/SystemSampler.h"
#include "services/SnapshotPtr.h"

#include <QString>

#include <memory>
#include <unordered_set>

namespace live {

inline headroom::services::SnapshotPtr sampleOnly(headroom::SystemSampler& sampler, const QString& binDir)
{
    using namespace headroom;
    Result<Snapshot> result = sampler.sample();
    if (!result.ok())
        return nullptr;
    auto snapshot = std::make_shared<Snapshot>(std::move(result).value());
    const std::string prefix = binDir.toStdString() + "/";
    std::erase_if(snapshot->processes, [&](const ProcessSample& p) { return p.exe.rfind(prefix, 0) != 0; });
    std::unordered_set<ProcessKey, ProcessKeyHash> kept;
    for (const ProcessSample& p : snapshot->processes)
        kept.insert(p.key);
    std::vector<BuildTree> builds;
    for (BuildTree& build : snapshot->builds) {
        if (kept.contains(build.root))
            builds.push_back(std::move(build));
    }
    // Duplicate links point at indices of the full list; the narrowed list
    // holds one workspace per test, so they are dropped.
    for (BuildTree& build : builds)
        build.duplicates.clear();
    snapshot->builds = std::move(builds);
    return snapshot;
}

} // namespace live
