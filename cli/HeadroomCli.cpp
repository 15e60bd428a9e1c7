// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/HeadroomCli.h"

#include "cli/SnapshotJson.h"
#include "cli/TopTable.h"
#include "headroom/BuildDuplicates.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/SafeText.h"
#include "headroom/SystemSampler.h"
#include "headroom/TouchPolicy.h"
#include "headroom/Units.h"
#include "headroom/Version.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
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

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitAlreadyGone = 3;
constexpr int kExitNotPermitted = 4;
constexpr int kExitRefused = 5;

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

// CLI11's own conversions let hostile numbers through: Range passes NaN (it
// compares false), an empty --start-time reads as 0, "-1" and 2^64 wrap to
// UINT64_MAX and a pid of 1e20 saturates. Every number is checked as text
// first, strictly, so only a value in range reaches the typed variable.
CLI::Validator wholeNumberIn(std::uint64_t lowest, std::uint64_t highest)
{
    const std::string range = std::to_string(lowest) + " to " + std::to_string(highest);
    return CLI::Validator(
        [lowest, highest, range](std::string& text) -> std::string {
            std::uint64_t value = 0;
            const char* end = text.data() + text.size();
            const auto [stop, error] = std::from_chars(text.data(), end, value);
            if (text.empty() || error != std::errc() || stop != end || value < lowest || value > highest)
                return "wants a whole number from " + range + ", not \"" + safeText(text, 64) + "\"";
            return {};
        },
        "INT in " + range);
}

CLI::Validator secondsIn(double lowest, double highest)
{
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", lowest, highest);
    return CLI::Validator(
        [lowest, highest, text = std::string(range)](std::string& input) -> std::string {
            // strtod, not from_chars: macOS's libc++ has no floating-point
            // from_chars. The CLI never sets a locale, so "." is the point.
            const bool plain = !input.empty() && input.find_first_not_of("0123456789.") == std::string::npos;
            char* stop = nullptr;
            const double value = plain ? std::strtod(input.c_str(), &stop) : 0.0;
            if (!plain || stop != input.c_str() + input.size() || !std::isfinite(value) ||
                !(value >= lowest && value <= highest))
                return "wants seconds from " + text + ", not \"" + safeText(input, 64) + "\"";
            return {};
        },
        std::string("SECONDS in ") + range);
}

// Process ids are positive and fit a pid_t (and a Windows DWORD in practice).
constexpr std::uint64_t kMaxPid = 2147483647;

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

bool stdinIsTerminal()
{
#if defined(__unix__) || defined(__APPLE__)
    return ::isatty(STDIN_FILENO) != 0;
#elif defined(_WIN32)
    return _isatty(_fileno(stdin)) != 0;
#else
    return false;
#endif
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

bool isCliCommand(const std::string& firstArg)
{
    return firstArg == "sample" || firstArg == "top" || firstArg == "stop";
}

int run(const std::string& programName, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err)
{
    CLI::App app{
        "Headroom: memory, swap, pressure and build processes at a glance, and a safe way to stop them.",
        programName};
    app.set_version_flag("--version", std::string(programName) + " " + HEADROOM_VERSION);
    app.require_subcommand(1);
    app.footer(
        "Exit codes of stop: 0 done, 1 failed, 2 bad arguments, 3 already gone, 4 not permitted, 5 refused.");

    auto* sample =
        app.add_subcommand("sample", "Print one snapshot: memory, swap, pressure, processes, builds.");
    bool json = false;
    bool pretty = false;
    double interval = 0.5;
    sample->add_flag("--json", json, "JSON with a versioned schema (headroom.snapshot, version 1)");
    sample->add_flag("--pretty", pretty, "Indent the JSON");
    sample
        ->add_option("--interval", interval,
                     "Seconds between the two polls used for CPU % (0: one poll, no CPU %)")
        ->check(secondsIn(0.0, 60.0));

    auto* top = app.add_subcommand("top", "The heaviest processes with their roles, and the running builds.");
    TopOptions topOptions;
    topOptions.width = terminalWidth();
    top->add_option("-n,--lines", topOptions.limit, "How many processes to list")
        ->check(wholeNumberIn(1, 100000));
    top->add_flag("--builds", topOptions.buildsOnly, "Only build and test processes");
    top->add_option("--width", topOptions.width, "Line width (default: the terminal's)")
        ->check(wholeNumberIn(40, 1000));
    top->add_option("--interval", interval, "Seconds between the two polls used for CPU %")
        ->check(secondsIn(0.0, 60.0));

    auto* stop =
        app.add_subcommand("stop", "Pause, resume, terminate or kill a process (or its whole tree), safely.");
    Pid pid = 0;
    std::uint64_t startTime = 0;
    bool tree = false;
    std::string signal = "term";
    double grace = 3.0;
    bool stopJson = false;
    auto* pidOption = stop->add_option("pid", pid, "Process id")->check(wholeNumberIn(1, kMaxPid));
    bool extraBuilds = false;
    bool yes = false;
    stop->add_flag("--extra-builds", extraBuilds,
                   "Stop every duplicate build but the one doing the work (it holds cargo's lock, or has "
                   "compilers running, or has done the most); lists them and asks first");
    stop->add_flag("-y,--yes", yes, "With --extra-builds: do not ask (scripts, SSH)");
    std::string within;
    stop->add_option("--in", within, "With --extra-builds: only builds of workspaces in this folder");
    auto* startOption =
        stop->add_option("--start-time", startTime,
                         "The process's start time, as `top` (START) or `sample --json` (start_time) show it")
            ->check(wholeNumberIn(0, std::numeric_limits<std::uint64_t>::max()));
    stop->add_flag("--tree", tree, "Also every descendant (cargo and all its rustc)");
    stop->add_option("--signal", signal, "pause, resume, term (SIGTERM, then SIGKILL after --grace) or kill")
        ->check(CLI::IsMember({"pause", "resume", "term", "kill"}));
    stop->add_option("--grace", grace, "Seconds term waits before SIGKILL")->check(secondsIn(0.0, 600.0));
    stop->add_flag("--json", stopJson, "Print the outcome as JSON");

    if (!args.empty() && !args.front().empty() && args.front().front() != '-' &&
        !isCliCommand(args.front())) {
        err << programName << ": unknown command '" << args.front()
            << "'. Commands: sample, top, stop. Run with --help for details.\n";
        return kExitUsage;
    }

    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e, out, err);
        return code == 0 ? 0 : kExitUsage;
    }

    if (sample->parsed() || top->parsed()) {
        auto snapshot = takeSnapshot(interval);
        if (!snapshot) {
            err << programName << ": " << snapshot.error() << "\n";
            return kExitFailed;
        }
        if (sample->parsed() && json)
            out << snapshotToJson(snapshot.value(), pretty) << "\n";
        else if (sample->parsed())
            out << renderMemorySummary(snapshot.value());
        else
            out << renderTop(snapshot.value(), topOptions);
        return 0;
    }

    if (stop->parsed()) {
        if (extraBuilds) {
            if (pidOption->count() > 0 || startOption->count() > 0) {
                err << programName << " stop: --extra-builds chooses the builds itself; give no pid.\n";
                return kExitUsage;
            }
            std::error_code ec;
            std::string folder =
                within.empty() ? within
                               : std::filesystem::absolute(within, ec).lexically_normal().generic_string();
            while (folder.size() > 1 && folder.back() == '/')
                folder.pop_back();
            return stopExtraBuilds(programName, folder, yes, stopJson,
                                   std::chrono::milliseconds(static_cast<long long>(grace * 1000.0)), out,
                                   err);
        }
        if (pidOption->count() == 0) {
            err << programName << " stop: a pid is required (or --extra-builds).\n";
            return kExitUsage;
        }
        if (startOption->count() == 0) {
            err << programName << " stop: --start-time is required. It makes sure pid " << pid
                << " is still the process you mean and not a new one that reused its number. Find it in the "
                   "START "
                   "column of `"
                << programName << " top`.\n";
            return kExitUsage;
        }
        ActionOptions options;
        options.tree = tree;
        options.grace = std::chrono::milliseconds(static_cast<long long>(grace * 1000.0));
        const ProcessAction action = *actionFromId(signal);
        return printReport(ProcessControl().apply(ProcessKey{pid, startTime}, action, options), stopJson, out,
                           err);
    }
    return kExitUsage;
}

} // namespace headroom::cli
