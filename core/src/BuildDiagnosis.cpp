// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildDiagnosis.h"

#include "headroom/Units.h"

#include <cstdio>

namespace headroom {

namespace {

std::string signalName(int signal)
{
    switch (signal) {
    case 9:
        return "SIGKILL";
    case 15:
        return "SIGTERM";
    case 2:
        return "SIGINT";
    case 6:
        return "SIGABRT";
    case 11:
        return "SIGSEGV";
    case 1:
        return "SIGHUP";
    default:
        return "signal " + std::to_string(signal);
    }
}

std::string times(std::uint64_t n)
{
    return n == 1 ? "once" : n == 2 ? "twice" : std::to_string(n) + " times";
}

// "It was slowed down 12 times at MemoryHigh (3.0 GiB)."
std::string throttleLine(const BuildOutcomeFacts& f)
{
    std::string line = "It was slowed down " + times(f.cgroupHighEvents) + " at MemoryHigh";
    if (f.cgroupHighBytes)
        line += " (" + formatBytes(*f.cgroupHighBytes) + ")";
    return line + ": the kernel made it reclaim memory instead of letting it grow.";
}

void addSentence(std::string& text, const std::string& sentence)
{
    text = text.empty() ? sentence : text + " " + sentence;
}

// The fallback ladder of the report, by what failed: A -> B, B -> D (nothing
// lighter than debug is left), C -> D. Auto lowers -j first, unless a single
// unit was compiling when it died: fewer jobs would not lower that peak.
void nextRung(BuildDiagnosis& d, BuildPreset preset, bool atLink, unsigned jobs, bool singleUnit)
{
    switch (preset) {
    case BuildPreset::A:
        d.nextPreset = BuildPreset::B;
        d.nextStep =
            "Try B (debug build): it needs far less memory, but the program will run about 10x slower.";
        break;
    case BuildPreset::B:
        // Debug is already the lightest build: a staged release build (C)
        // needs more memory than it, so the only step left is freeing memory.
        d.nextPreset = BuildPreset::D;
        d.nextStep = "Even the debug build ran out of memory. Try D: pause or stop other heavy processes, "
                     "then build with one job.";
        break;
    case BuildPreset::C:
        d.nextPreset = BuildPreset::D;
        d.nextStep =
            atLink
                ? "The link step ran out of memory. Try D: pause or stop other heavy processes, then build "
                  "with one job."
                : "Try D: pause or stop other heavy processes, then build with one job.";
        break;
    case BuildPreset::Auto:
        if (jobs > 1 && singleUnit) {
            d.nextPreset = BuildPreset::B;
            d.nextStep =
                "Only one unit was compiling when it died, so fewer jobs would not help. Try B (debug "
                "build), which needs far less memory.";
        } else if (jobs > 1) {
            d.nextPreset = BuildPreset::Auto;
            d.nextJobs = jobs / 2;
            d.nextStep = "Try again with -j " + std::to_string(jobs / 2) + " (half the jobs, half the peak).";
        } else {
            d.nextPreset = BuildPreset::B;
            d.nextStep = "Already at one job. Try B (debug build), which needs far less memory.";
        }
        break;
    case BuildPreset::Adaptive:
        d.nextPreset = BuildPreset::A;
        d.nextStep = "Try A (release with one job), the lowest-memory optimised build.";
        break;
    case BuildPreset::D:
        d.nextStep =
            "Every preset has been tried. Close other programs (a browser holds gigabytes), add swap, or "
            "build on a machine with more memory.";
        break;
    case BuildPreset::Custom:
        d.nextPreset = BuildPreset::A;
        d.nextStep = "Try A (release with one job), the lowest-memory optimised build.";
        break;
    }
}

} // namespace

void addCgroupFacts(BuildOutcomeFacts& facts, const CgroupMemoryState& before, const CgroupMemoryState& after)
{
    const bool fresh = after.isBuildScope() && before.dir != after.dir;
    const auto base = [&](const std::optional<std::uint64_t>& b,
                          const std::optional<std::uint64_t>& a) -> std::optional<std::uint64_t> {
        if (fresh)
            return a ? std::optional<std::uint64_t>(0) : std::nullopt;
        return b;
    };
    const auto rise = [&](const std::optional<std::uint64_t>& b, const std::optional<std::uint64_t>& a) {
        const auto from = base(b, a);
        return from && a && *a > *from ? *a - *from : std::uint64_t(0);
    };
    facts.cgroupOomKillsBefore = base(before.oomKills, after.oomKills);
    facts.cgroupOomKillsAfter = after.oomKills;
    facts.cgroupNearLimit = after.nearLimit();
    facts.cgroupIsBuildScope = after.isBuildScope();
    facts.cgroupLimitBytes = after.limitBytes;
    facts.cgroupHighBytes = after.highBytes;
    facts.cgroupHighEvents = rise(before.highEvents, after.highEvents);
    facts.cgroupThrottled = facts.cgroupHighEvents > 0;
    facts.cgroupMaxEvents = rise(before.maxEvents, after.maxEvents);
    facts.cgroupHitMax = facts.cgroupMaxEvents > 0;
}

std::string_view verdictId(BuildVerdict verdict)
{
    switch (verdict) {
    case BuildVerdict::Succeeded:
        return "succeeded";
    case BuildVerdict::OutOfMemory:
        return "out-of-memory";
    case BuildVerdict::KilledBySignal:
        return "killed";
    case BuildVerdict::CompileError:
        return "compile-error";
    case BuildVerdict::MissingArtifact:
        return "missing-artifact";
    case BuildVerdict::Cancelled:
        return "cancelled";
    case BuildVerdict::Failed:
        break;
    }
    return "failed";
}

BuildDiagnosis diagnoseBuild(const BuildOutcomeFacts& f, const CargoOutputParser& output, BuildPreset preset,
                             const CargoMessageParser* messages)
{
    // Killed processes as the terminal text and the diagnostics tell them.
    std::vector<KilledProcessInfo> killed = output.killed();
    if (messages)
        killed.insert(killed.end(), messages->killed().begin(), messages->killed().end());

    BuildDiagnosis d;
    if (f.cancelledByUser) {
        d.verdict = BuildVerdict::Cancelled;
        d.summary = "The build was stopped from Headroom.";
        return d;
    }
    if (f.exitCode && *f.exitCode == 0) {
        if (f.artifactExpected && !f.artifactExists) {
            d.verdict = BuildVerdict::MissingArtifact;
            d.summary = f.artifactNotReported
                            ? "cargo reported success, but not the file this build should make."
                            : "cargo reported success, but the expected file is not there.";
            d.nextStep =
                "Check the target name and profile; a custom target folder (CARGO_TARGET_DIR) moves it.";
            return d;
        }
        d.verdict = BuildVerdict::Succeeded;
        d.summary = "The build succeeded.";
        if (f.cgroupThrottled)
            d.detail = throttleLine(f);
        return d;
    }

    const bool cgroupCounted =
        f.cgroupOomKillsBefore && f.cgroupOomKillsAfter && *f.cgroupOomKillsAfter > *f.cgroupOomKillsBefore;
    // In the build's own scope a counted kill was of the build, however it
    // reports the death (make's "Error 2", a test runner's own words).
    const bool scopeKill = f.cgroupIsBuildScope && cgroupCounted;
    const bool sigkill =
        (f.signal && *f.signal == 9) || (f.exitCode && *f.exitCode == 137) || !killed.empty() || scopeKill;
    if (sigkill) {
        const bool counterRose = f.oomKillsBefore && f.oomKillsAfter && *f.oomKillsAfter > *f.oomKillsBefore;
        const bool nearlyExhausted = f.lowestAvailableFraction <= 0.05 && f.lowestHeadroomFraction <= 0.10;
        std::string victim = "the build";
        bool atLink = false;
        if (!killed.empty()) {
            victim = killed.front().what;
            for (const auto& k : killed)
                atLink = atLink || k.linker;
            d.detail = killed.front().line;
        }
        // The machine-wide counter also counts kills in other cgroups: alone it
        // is no evidence, only with memory near a limit while the build ran.
        const bool nearLimit = f.lowestAvailableFraction <= 0.10 || f.cgroupNearLimit;
        // The build's own scope reached its MemoryMax and a process of it died
        // by SIGKILL: the scope's limit did it. Its folder goes with its last
        // process, so its final kill count may never be read; the machine's
        // counter rising then confirms it.
        const bool scopeAtMax =
            f.cgroupIsBuildScope && f.cgroupLimitBytes && (f.cgroupHitMax || f.cgroupNearLimit);
        if (cgroupCounted || (counterRose && nearLimit) || nearlyExhausted || scopeAtMax) {
            d.verdict = BuildVerdict::OutOfMemory;
            const bool certain = cgroupCounted || (scopeAtMax && counterRose);
            if (scopeAtMax)
                d.summary = std::string(certain ? "Out of memory" : "Probably out of memory") +
                            ": the build's scope hit its MemoryMax of " + formatBytes(*f.cgroupLimitBytes) +
                            " and the kernel killed " + victim + " (SIGKILL).";
            else
                d.summary = std::string(certain ? "Out of memory" : "Probably out of memory") +
                            ": the kernel killed " + victim + " (SIGKILL).";
            std::string evidence;
            if (cgroupCounted)
                evidence =
                    std::string(f.cgroupIsBuildScope ? "The build's scope" : "The build's memory cgroup") +
                    " counted " + std::to_string(*f.cgroupOomKillsAfter - *f.cgroupOomKillsBefore) +
                    " OOM kill(s).";
            if (f.cgroupHitMax && f.cgroupLimitBytes)
                addSentence(evidence, "Its memory reached " +
                                          std::string(f.cgroupIsBuildScope ? "MemoryMax" : "its limit") +
                                          " (" + formatBytes(*f.cgroupLimitBytes) + ") " +
                                          times(f.cgroupMaxEvents) + ".");
            if (f.cgroupThrottled)
                addSentence(evidence, throttleLine(f));
            if (counterRose)
                evidence += std::string(evidence.empty() ? "" : " ") +
                            "The kernel's OOM-kill counter rose from " + std::to_string(*f.oomKillsBefore) +
                            " to " + std::to_string(*f.oomKillsAfter) + " during the build.";
            if (f.lowestAvailableFraction <= 0.10)
                evidence += std::string(evidence.empty() ? "" : " ") + "Available memory fell to " +
                            formatPercent(f.lowestAvailableFraction) + " of RAM.";
            if (f.cgroupNearLimit)
                evidence += std::string(evidence.empty() ? "" : " ") +
                            "The build's cgroup came within 10% of its memory limit.";
            d.detail = d.detail.empty() ? evidence : evidence + "\n" + d.detail;
            const bool singleUnit = output.progress() && output.progress()->compilingNow.size() == 1;
            nextRung(d, preset, atLink, f.jobs, singleUnit);
            if (scopeAtMax)
                d.nextStep += " Or raise the preset's MemoryMax (now " + formatBytes(*f.cgroupLimitBytes) +
                              ") if the machine has the memory to spare.";
            return d;
        }
        if (counterRose) {
            const std::string note =
                "The kernel's OOM-kill counter rose from " + std::to_string(*f.oomKillsBefore) + " to " +
                std::to_string(*f.oomKillsAfter) +
                ", but memory was not low here and the build's cgroup counted no kill: that kill was "
                "probably of a process elsewhere.";
            d.detail = d.detail.empty() ? note : note + "\n" + d.detail;
        }
        d.verdict = BuildVerdict::KilledBySignal;
        d.summary = victim +
                    " was killed by signal 9 (SIGKILL), but not for lack of memory: memory never ran low and "
                    "the build's cgroup counted no OOM kill.";
        if (f.macOS)
            d.nextStep =
                "On macOS, \"Killed: 9\" with memory to spare usually means the code-signing check killed a "
                "binary that changed after signing. Rebuild it, or re-sign it (codesign -s - -f <file>), "
                "then run the same preset again.";
        else
            d.nextStep =
                "Something else sent it: a `kill -9` or `pkill`, another tool's watchdog, or Headroom's "
                "guard (see the log). Run the same preset again.";
        return d;
    }

    if (f.signal) {
        d.verdict = BuildVerdict::KilledBySignal;
        d.summary = "The build was stopped by " + signalName(*f.signal) + ".";
        d.nextStep = "Nothing points at memory. Run the same preset again.";
        return d;
    }

    if (const CargoDiagnostic* e = messages ? messages->firstError() : nullptr) {
        d.verdict = BuildVerdict::CompileError;
        const unsigned n = messages->errorCount();
        d.summary = "Compile error: " + e->headline();
        if (n > 1)
            d.summary += " (" + std::to_string(n) + " errors)";
        std::string where = e->location;
        std::string in;
        if (!e->target.name.empty()) {
            const std::string package = packageNameOf(e->packageId);
            const std::string kind =
                e->target.kinds.empty() ? std::string("target") : e->target.kinds.front();
            in = kind + " " + e->target.name;
            if (!package.empty() && package != e->target.name)
                in += " of package " + package;
        }
        d.detail = e->headline();
        if (!where.empty())
            d.detail += "\n  at " + where;
        if (!in.empty())
            d.detail += "\n  in " + in;
        d.nextStep = where.empty()
                         ? "Fix the error and build again; memory was not the problem."
                         : "Fix the error at " + where + " and build again; memory was not the problem.";
        return d;
    }

    if (output.firstError()) {
        d.verdict = BuildVerdict::CompileError;
        const auto& e = *output.firstError();
        d.summary = "Compile error: " + e.headline;
        d.detail = e.location.empty() ? e.headline : e.headline + "\n  at " + e.location;
        d.nextStep = e.location.empty()
                         ? "Fix the error and build again; memory was not the problem."
                         : "Fix the error at " + e.location + " and build again; memory was not the problem.";
        return d;
    }

    d.verdict = BuildVerdict::Failed;
    d.summary = f.exitCode ? "The build failed (exit code " + std::to_string(*f.exitCode) + ")."
                           : "The build failed.";
    d.nextStep = "See the output above for the reason.";
    return d;
}

} // namespace headroom
