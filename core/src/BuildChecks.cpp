// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildChecks.h"

#include "headroom/Units.h"

#include <algorithm>
#include <cstdio>

namespace headroom {

std::vector<BuildCheck> runBuildChecks(const Snapshot& s, const BuildCheckOptions& o)
{
    std::vector<BuildCheck> checks;
    const auto& m = s.memory;

    // Inside a container or a CI job the cgroup's limit is the one that kills
    // (MemAvailable there is the host's): both memory checks speak of it.
    const MemoryBudget& budget = s.budget;
    const bool cgroup = budget.isCgroup();
    const std::string words = cgroup ? budget.describe() : std::string();

    BuildCheck used{BuildCheckId::MemoryUsed, true, {}, {}};
    const double usedFraction = cgroup ? 1.0 - budget.availableFraction() : m.usedFraction();
    used.passed = usedFraction <= o.maxUsedFraction;
    used.verdict = "Used memory " + formatBytes(cgroup ? budget.usedBytes : m.used) + " of " +
                   (cgroup ? "the " + words : formatBytes(m.total)) + " (" + formatPercent(usedFraction) +
                   ") is " + (used.passed ? "under" : "above") + " the " + formatPercent(o.maxUsedFraction) +
                   " limit" +
                   (used.passed ? "."
                    : cgroup    ? ": a heavy build now is likely to be OOM-killed at that limit."
                             : ": a heavy build now is likely to push the system into swap or an OOM kill.");
    checks.push_back(std::move(used));

    BuildCheck room{BuildCheckId::Headroom, true, {}, {}};
    if (cgroup) {
        room.passed = budget.availableBytes >= o.requiredHeadroom;
        room.verdict = formatBytes(budget.availableBytes) + " left of the " + words +
                       (room.passed ? ", " + formatBytes(o.requiredHeadroom) + " needed."
                                    : "; the build needs about " + formatBytes(o.requiredHeadroom) + ".");
    } else {
        room.passed = m.headroom() >= o.requiredHeadroom;
        room.verdict = "RAM + free swap: " + formatBytes(m.headroom()) + " available, " +
                       formatBytes(o.requiredHeadroom) + " needed" +
                       (room.passed ? "." : ": not enough for this build's expected peak.");
    }
    checks.push_back(std::move(room));

    BuildCheck competing{BuildCheckId::CompetingBuild, true, {}, {}};
    for (const auto& b : s.builds) {
        const bool sameWorkspace = !o.workspace.empty() && b.workspace == o.workspace;
        const bool sameTarget = !o.targetDir.empty() && b.targetDir == o.targetDir;
        if (!sameWorkspace && !sameTarget)
            continue;
        competing.passed = false;
        competing.offenders.push_back(b.root);
        if (competing.verdict.empty())
            competing.verdict =
                "Another build is running on this " +
                std::string(sameWorkspace ? "workspace" : "target folder") + ": " + b.command + " (pid " +
                std::to_string(b.root.pid) + ", " + formatBytes(b.residentBytes) +
                "). Two builds on one target folder wait on each other's lock and add up their memory.";
    }
    if (competing.passed)
        competing.verdict = "No other build is running on this workspace or target folder.";
    checks.push_back(std::move(competing));

    BuildCheck tests{BuildCheckId::HeavyTests, true, {}, {}};
    const RoleTotal& total = s.total(ProcessRole::Test);
    if (total.residentBytes >= o.heavyTestBytes) {
        tests.passed = false;
        for (const auto& p : s.processes) {
            if (p.role == ProcessRole::Test && !p.kernelThread)
                tests.offenders.push_back(p.key);
        }
        tests.verdict = std::to_string(total.count) +
                        (total.count == 1 ? " test process uses " : " test processes use ") +
                        formatBytes(total.residentBytes) + "; pausing them frees that memory for the build.";
    } else {
        tests.verdict = total.count == 0 ? "No test processes are running."
                                         : "Test processes use " + formatBytes(total.residentBytes) +
                                               ", not enough to matter.";
    }
    checks.push_back(std::move(tests));
    return checks;
}

bool allPassed(const std::vector<BuildCheck>& checks)
{
    return std::all_of(checks.begin(), checks.end(), [](const BuildCheck& c) { return c.passed; });
}

} // namespace headroom
