// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/HeadroomCli.h"

#include "cli/ExitCodes.h"
#include "cli/SnapshotJson.h"
#include "cli/TopTable.h"
#include "headroom/BuildDuplicates.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/SafeText.h"
#include "headroom/SystemSampler.h"
#include "headroom/TouchPolicy.h"
#include "headroom/Units.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/ioctl.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <cstdio>
#include <io.h>
#endif

namespace headroom::cli {

namespace {

constexpr int kExitAlreadyGone = 3;
constexpr int kExitNotPermitted = 4;
constexpr int kExitRefused = 5;

} // namespace

std::size_t terminalWidth()
{
#if defined(__unix__) || defined(__APPLE__)
    winsize size{};
    if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
#endif
    if (const char* columns = std::getenv("COLUMNS")) {
        const long value = std::strtol(columns, nullptr, 10);
        if (value > 0)
            return static_cast<std::size_t>(value);
    }
    return 120;
}

namespace {

// Two polls `interval` apart, so CPU % means something; one when interval is 0.
Result<Snapshot> takeSnapshot(double intervalSeconds)
{
    auto sampler = SystemSampler::create();
    if (intervalSeconds > 0.0) {
        auto first = sampler->sample();
        if (!first)
            return first;
        std::this_thread::sleep_for(std::chrono::duration<double>(intervalSeconds));
    }
    return sampler->sample();
}

int exitCodeFor(const ActionReport& report)
{
    // The most serious outcome decides, so a script learns of any problem.
    const std::pair<ActionOutcome, int> order[] = {
        {ActionOutcome::Failed, kExitFailed},
        {ActionOutcome::NotPermitted, kExitNotPermitted},
        {ActionOutcome::Refused, kExitRefused},
        {ActionOutcome::AlreadyGone, kExitAlreadyGone},
    };
    for (const auto& [outcome, code] : order) {
        if (report.count(outcome) > 0)
            return code;
    }
    return 0;
}

// Each process's outcome (failures on stderr) and the summary, or the JSON;
// the exit code tells the most serious outcome.
int printReport(const ActionReport& report, bool json, std::ostream& out, std::ostream& err)
{
    if (json) {
        out << reportToJson(report, false) << "\n";
    } else {
        for (const auto& r : report.results)
            (r.outcome == ActionOutcome::Done ? out : err) << printable(r.message) << "\n";
        if (report.results.size() > 1)
            out << report.summary() << "\n";
    }
    return exitCodeFor(report);
}

// `stop --extra-builds`: the duplicate rule's choice, shown, confirmed, done
// through the same tree stop as `stop --tree` (pid + start time re-checked).
int stopExtraBuilds(const std::string& programName, const std::string& within, bool yes, bool json,
                    std::chrono::milliseconds grace, std::ostream& out, std::ostream& err)
{
    auto sampled = takeSnapshot(0.0);
    if (!sampled) {
        err << programName << ": " << sampled.error() << "\n";
        return kExitFailed;
    }
    const Snapshot& s = sampled.value();
    const TouchPolicy policy =
        TouchPolicy::of(s, platform::currentUid(), platform::currentPid(), {true, false});
    std::vector<ProcessKey> roots;
    std::uint64_t freed = 0;
    std::string plan;
    for (const DuplicateGroup& group : duplicateGroups(s)) {
        const BuildTree& kept = s.builds[group.kept];
        if (!within.empty() && kept.workspace != within && !kept.workspace.starts_with(within + "/"))
            continue;
        plan += "Builds of " + printable(kept.workspace.empty() ? kept.targetDir : kept.workspace) + ":\n";
        for (std::size_t index : group.builds) {
            const BuildTree& build = s.builds[index];
            const TouchVerdict touch = policy.check(s, build);
            const bool stopIt = index != group.kept && touch.allowed();
            std::string verdict = index == group.kept ? "  keep  " : stopIt ? "  stop  " : "  skip  ";
            plan += verdict + buildLabel(s, build, false) + " — " + duplicateVerdict(s, group, index);
            if (index != group.kept && !stopIt)
                plan += touch.rule == TouchRule::OtherUser ? std::string("; another user's")
                                                           : "; " + printable(touch.reason);
            plan += "  (" + formatBytes(build.residentBytes) + ", " + std::to_string(build.members.size()) +
                    (build.members.size() == 1 ? " process)" : " processes)") + "\n";
            if (stopIt) {
                roots.push_back(build.root);
                freed += build.residentBytes;
            }
        }
    }
    if (roots.empty()) {
        (json ? err : out) << plan << "No extra builds of yours to stop.\n";
        return 0;
    }
    (json ? err : out) << plan << "Stopping " << roots.size() << (roots.size() == 1 ? " build" : " builds")
                       << " (each with everything it started) frees about " << formatBytes(freed) << ".\n";
    if (!yes) {
        if (!stdinIsTerminal()) {
            err << programName
                << " stop --extra-builds: no terminal to ask for confirmation; nothing stopped. Add --yes to "
                   "stop them without asking.\n";
            return kExitUsage;
        }
        out << "Stop them? [y/N] " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES" && answer != "Yes") {
            out << "Nothing stopped.\n";
            return 0;
        }
    }
    ActionOptions options;
    options.tree = true;
    options.grace = grace;
    options.onlyCurrentUser = true;
    return printReport(ProcessControl().apply(roots, ProcessAction::Terminate, options), json, out, err);
}

} // namespace

int runSample(const SampleOptions& options, const std::string& programName, std::ostream& out,
              std::ostream& err)
{
    auto snapshot = takeSnapshot(options.intervalSeconds);
    if (!snapshot) {
        err << programName << ": " << snapshot.error() << "\n";
        return kExitFailed;
    }
    if (options.json)
        out << snapshotToJson(snapshot.value(), options.pretty) << "\n";
    else
        out << renderMemorySummary(snapshot.value());
    return 0;
}

int runTop(const TopCommandOptions& options, const std::string& programName, std::ostream& out,
           std::ostream& err)
{
    auto snapshot = takeSnapshot(options.intervalSeconds);
    if (!snapshot) {
        err << programName << ": " << snapshot.error() << "\n";
        return kExitFailed;
    }
    out << renderTop(snapshot.value(), options.table);
    return 0;
}

int runStop(const StopOptions& o, const std::string& programName, std::ostream& out, std::ostream& err)
{
    const auto grace = std::chrono::milliseconds(static_cast<long long>(o.graceSeconds * 1000.0));
    if (o.extraBuilds) {
        if (o.pid || o.startTime) {
            err << programName << " stop: --extra-builds chooses the builds itself; give no pid.\n";
            return kExitUsage;
        }
        std::error_code ec;
        std::string folder =
            o.within.empty() ? o.within
                             : std::filesystem::absolute(o.within, ec).lexically_normal().generic_string();
        while (folder.size() > 1 && folder.back() == '/')
            folder.pop_back();
        return stopExtraBuilds(programName, folder, o.yes, o.json, grace, out, err);
    }
    if (!o.pid) {
        err << programName << " stop: a pid is required (or --extra-builds).\n";
        return kExitUsage;
    }
    if (!o.startTime) {
        err << programName << " stop: --start-time is required. It makes sure pid " << *o.pid
            << " is still the process you mean and not a new one that reused its number. Find it in the "
               "START column of `"
            << programName << " top`.\n";
        return kExitUsage;
    }
    const auto action = actionFromId(o.signal);
    if (!action) {
        err << programName << " stop: --signal wants pause, resume, term or kill.\n";
        return kExitUsage;
    }
    ActionOptions options;
    options.tree = o.tree;
    options.grace = grace;
    return printReport(ProcessControl().apply(ProcessKey{*o.pid, *o.startTime}, *action, options), o.json,
                       out, err);
}

} // namespace headroom::cli
