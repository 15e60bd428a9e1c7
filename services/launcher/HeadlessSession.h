// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// `headroom build` once its options are known: what it asked for, the build
// session it prepares from them (the same one the Build page prepares), and
// the run itself.

#include "headroom/BuildSession.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/WorkspaceInfo.h"

#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace headroom::services {

struct HeadlessOptions {
    headroom::BuildRequest request;
    headroom::BuildPreset preset = headroom::BuildPreset::A;
    double maxUsedFraction = 0.80;
    std::optional<std::uint64_t> need; // --need: wins over the learned peak
    QString historyPath;               // empty: BuildHistory::defaultPath()
    bool waitForMemory = false;
    int oomScoreAdj = 500;
    // Ctrl+C while the build runs: "ask" (when stdin is a terminal; else
    // stop), "stop" the build, or "leave" it running under its supervisor.
    std::string onInterrupt = "ask";
    std::optional<std::uint64_t> memoryHigh; // the build scope's MemoryHigh, bytes
    std::optional<std::uint64_t> memoryMax;  // and its MemoryMax
};

// The session for `options` on the workspace `info`: the request completed
// (the target folder, the only binary of a default target), the learned
// figures of this workspace, the snapshot given.
headroom::BuildSession headlessSession(const HeadlessOptions& options, const WorkspaceInfo& info,
                                       const BuildHistory& history,
                                       std::shared_ptr<const headroom::Snapshot> snapshot);

// Reads the workspace, prints the plan and the checks, runs the build and
// prints its outcome. Needs a QCoreApplication; returns the exit code.
int runHeadlessSession(const HeadlessOptions& options);

} // namespace headroom::services
