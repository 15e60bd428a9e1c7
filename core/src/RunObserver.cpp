// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RunObserver.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace headroom {

std::string crateNameOf(const ProcessSample& p)
{
    for (std::size_t i = 0; i + 1 < p.argv.size(); ++i) {
        if (p.argv[i] == "--crate-name")
            return p.argv[i + 1];
    }
    return {};
}

std::string lockHolderIn(const Snapshot& snapshot, const ProcessKey& root)
{
    // Who holds the lock: another build on our workspace or target folder.
    const BuildTree* ours = snapshot.buildOf(root);
    if (!ours)
        return {};
    for (const auto& b : snapshot.builds) {
        if (&b == ours)
            continue;
        if ((!ours->workspace.empty() && b.workspace == ours->workspace) ||
            (!ours->targetDir.empty() && b.targetDir == ours->targetDir))
            return b.command + " (pid " + std::to_string(b.root.pid) + ")";
    }
    return {};
}

RunPlanFacts RunPlanFacts::of(const RunSpec& spec)
{
    RunPlanFacts plan;
    plan.request = spec.request;
    plan.preset = spec.preset;
    plan.jobs = spec.jobs;
    plan.plannedArtifact = spec.artifactPath;
    return plan;
}

void RunObserver::stepStarted(const ProcessKey& root)
{
    followCgroup(root);
}

void RunObserver::followCgroup([[maybe_unused]] const ProcessKey& root)
{
#ifdef __linux__
    auto cg = readProcessCgroupMemory(root.pid);
    if (!cg)
        return;
    // A process on its way out is shown in the hierarchy's root cgroup
    // (the kernel moves exiting tasks there): not a move of the build.
    if (cgroupLatest_ && cg->dir != cgroupLatest_->dir && cgroupLatest_->dir.rfind(cg->dir + "/", 0) == 0)
        return;
    if (!cgroupBefore_ || cgroupBefore_->dir != cg->dir)
        cgroupBefore_ = cg;
    cgroupLatest_ = std::move(cg);
#endif
}

void RunObserver::observe(const Snapshot& snapshot, const std::optional<ProcessKey>& root)
{
    const auto& m = snapshot.memory;
    if (!oomBefore_)
        oomBefore_ = m.oomKillCount;
    oomAfter_ = m.oomKillCount;
    peakSystemUsed_ = std::max(peakSystemUsed_, m.used);
    lowestAvailable_ = std::min(lowestAvailable_, m.availableFraction());
    const double all = double(m.total + m.swapTotal);
    if (all > 0)
        lowestHeadroom_ = std::min(lowestHeadroom_, double(m.headroom()) / all);

    if (!root)
        return;
    const ProcessSample* top = snapshot.find(*root);
    if (!top)
        return;
    followCgroup(*root);
    const ProcessTree tree(snapshot.processes);
    std::uint64_t total = top->residentBytes;
    for (std::size_t i : tree.descendants(root->pid)) {
        const ProcessSample& p = snapshot.processes[i];
        total += p.residentBytes;
        if (p.role == ProcessRole::Rustc) {
            const std::string crate = crateNameOf(p);
            if (!crate.empty())
                peakByCrate_[crate] = std::max(peakByCrate_[crate], p.residentBytes);
        }
    }
    treeBytes_ = total;
    peakTreeBytes_ = std::max(peakTreeBytes_, total);
}

void RunObserver::buildEnded()
{
    treeBytes_ = 0;
#ifdef __linux__
    if (cgroupBefore_)
        cgroupAfter_ = readCgroupMemory(cgroupBefore_->dir, cgroupBefore_->v2);
#endif
    if (!cgroupAfter_ && cgroupLatest_ && cgroupBefore_ && cgroupLatest_->dir == cgroupBefore_->dir)
        cgroupAfter_ = cgroupLatest_;
}

void RunObserver::observeAfterEnd(const Snapshot& snapshot)
{
    if (!oomBefore_)
        oomBefore_ = snapshot.memory.oomKillCount;
    oomAfter_ = snapshot.memory.oomKillCount;
}

BuildOutcomeFacts RunObserver::outcomeFacts(const RunEndFacts& end, const RunPlanFacts& plan) const
{
    BuildOutcomeFacts facts;
    facts.exitCode = end.exitCode;
    facts.signal = end.signal;
    facts.cancelledByUser = end.cancelledByUser;
    facts.oomKillsBefore = oomBefore_;
    facts.oomKillsAfter = oomAfter_;
    facts.lowestAvailableFraction = lowestAvailable_;
    facts.lowestHeadroomFraction = lowestHeadroom_;
    facts.macOS = end.macOS;
    facts.jobs = plan.jobs.value_or(0);
    if (cgroupBefore_ && cgroupAfter_)
        addCgroupFacts(facts, *cgroupBefore_, *cgroupAfter_);
    return facts;
}

RunOutcome RunObserver::conclude(const RunEndFacts& end, const RunPlanFacts& plan,
                                 const CargoOutputParser& output, const CargoMessageParser& messages) const
{
    RunOutcome outcome;
    outcome.artifactPath = plan.plannedArtifact;
    // The file the build made is the one cargo reported, not a guess from the
    // profile and target folders; the planned path only when cargo's messages
    // were not read (a custom command, a --message-format of the user's).
    bool notReported = false;
    for (const auto& a : messages.artifacts()) {
        if (!a.executable.empty() && std::find(outcome.executables.begin(), outcome.executables.end(),
                                               a.executable) == outcome.executables.end())
            outcome.executables.push_back(a.executable);
    }
    const TargetKind kind = plan.request.targetKind;
    const bool namedTarget =
        (kind == TargetKind::Example || kind == TargetKind::Bin || kind == TargetKind::Default) &&
        !plan.request.targetName.empty() && plan.preset != BuildPreset::Custom;
    if (namedTarget && messages.sawMessages()) {
        const CargoArtifact* reported =
            messages.artifactOf(kind == TargetKind::Example ? "example" : "bin", plan.request.targetName);
        if (reported && !reported->executable.empty())
            outcome.artifactPath = reported->executable;
        else
            notReported = true;
    }
    if (!notReported && !outcome.artifactPath.empty()) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(outcome.artifactPath, ec);
        if (!ec && std::filesystem::is_regular_file(outcome.artifactPath, ec))
            outcome.artifactSize = std::int64_t(size);
    }
    outcome.errorCount = messages.errorCount();
    outcome.warningCount = messages.warningCount();
    outcome.ignoredNote = messages.ignoredNote();

    BuildOutcomeFacts facts = outcomeFacts(end, plan);
    facts.artifactExpected = !outcome.artifactPath.empty();
    facts.artifactExists = outcome.artifactSize >= 0;
    facts.artifactNotReported = notReported;
    outcome.diagnosis = diagnoseBuild(facts, output, plan.preset, &messages);
    return outcome;
}

void RunObserver::fillMemory(RunStatus& status) const
{
    status.treeBytes = treeBytes_;
    status.peakTreeBytes = peakTreeBytes_;
    status.peakSystemUsed = peakSystemUsed_;
    status.peakByCrate = peakByCrate_;
    if (cgroupBefore_)
        status.cgroupDir = cgroupBefore_->dir;
}

void applyOutcome(RunStatus& status, const RunOutcome& outcome)
{
    status.diagnosis = outcome.diagnosis;
    status.artifactPath = outcome.artifactPath;
    status.artifactSize = outcome.artifactSize;
    status.executables = outcome.executables;
    status.errorCount = outcome.errorCount;
    status.warningCount = outcome.warningCount;
}

} // namespace headroom
