// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildSession.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace headroom {

namespace {
// Zero is "nothing measured", never a figure to divide by or compare with.
std::optional<std::uint64_t> positive(std::optional<std::uint64_t> v)
{
    return v && *v > 0 ? v : std::nullopt;
}

int rank(const ProcessSample& p)
{
    return p.role == ProcessRole::Test ? 0 : p.role == ProcessRole::Rustc ? 1 : 2;
}
} // namespace

BuildSession::BuildSession(BuildRequest request, BuildPreset preset, std::shared_ptr<const Snapshot> snapshot,
                           LearnedFigures learned, BuildSessionSettings settings)
    : request_(std::move(request)), preset_(preset),
      snapshot_(std::move(snapshot)), learned_{positive(learned.peakPerJob), positive(learned.peak)},
      settings_(std::move(settings))
{
    if (!settings_.targetDir.empty())
        request_.targetDir = settings_.targetDir;
    const double f = settings_.maxUsedFraction;
    if (!std::isfinite(f) || f <= 0.0 || f > 1.0)
        settings_.maxUsedFraction = BuildSessionSettings{}.maxUsedFraction;
    if (settings_.defaultNeed == 0)
        settings_.defaultNeed = BuildSessionSettings{}.defaultNeed;
    settings_.need = positive(settings_.need);
    settings_.cpus = std::max(1u, settings_.cpus);
}

AutoJobsInput BuildSession::autoJobsInput() const
{
    AutoJobsInput in;
    // The cgroup's budget when its limit is tighter than the machine (a container, a CI job).
    if (snapshot_)
        in.availableBytes =
            snapshot_->budget.isCgroup() ? snapshot_->budget.availableBytes : snapshot_->memory.available;
    in.learnedPeakPerJob = learned_.peakPerJob;
    in.cpus = settings_.cpus;
    return in;
}

BuildPlan BuildSession::plan() const
{
    if (preset_ == BuildPreset::Custom) {
        BuildPlan none;
        none.preset = BuildPreset::Custom;
        return settings_.customPlan.value_or(none);
    }
    std::optional<JobsChoice> jobs;
    if (preset_ == BuildPreset::Auto || preset_ == BuildPreset::Adaptive) {
        jobs = chooseJobs(autoJobsInput());
        if (!snapshot_)
            jobs->explanation = "no memory reading yet: " + jobs->explanation;
    }
    return planBuild(request_, preset_, jobs);
}

BuildCheckOptions BuildSession::checkOptions() const
{
    BuildCheckOptions o;
    o.maxUsedFraction = settings_.maxUsedFraction;
    o.requiredHeadroom = settings_.need.value_or(learned_.peak.value_or(settings_.defaultNeed));
    o.workspace = settings_.workspace.empty() ? request_.projectDir : settings_.workspace;
    o.targetDir = settings_.targetDir.empty() ? request_.projectDir + "/target" : settings_.targetDir;
    return o;
}

std::vector<BuildCheck> BuildSession::checks() const
{
    if (!snapshot_)
        return {};
    return runBuildChecks(*snapshot_, checkOptions());
}

std::vector<ProcessSample> BuildSession::heavyProcesses(std::size_t limit) const
{
    std::vector<ProcessSample> rows;
    if (!snapshot_)
        return rows;
    for (const auto& p : snapshot_->processes) {
        if (!p.kernelThread && p.state != ProcessState::Zombie && p.residentBytes > 0)
            rows.push_back(p);
    }
    std::sort(rows.begin(), rows.end(), [](const ProcessSample& a, const ProcessSample& b) {
        if (rank(a) != rank(b))
            return rank(a) < rank(b);
        if (a.residentBytes != b.residentBytes)
            return a.residentBytes > b.residentBytes;
        return a.key.pid < b.key.pid;
    });
    if (rows.size() > limit)
        rows.resize(limit);
    return rows;
}

std::vector<ProcessKey> BuildSession::testsToPause() const
{
    std::vector<ProcessKey> tests;
    if (!snapshot_)
        return tests;
    for (const auto& p : snapshot_->processes) {
        if (p.role == ProcessRole::Test && !p.kernelThread && p.state != ProcessState::Zombie &&
            snapshot_->buildOf(p.key) == nullptr)
            tests.push_back(p.key);
    }
    return tests;
}

} // namespace headroom
