// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/CommandLine.h"

#include "cli/ExitCodes.h"
#include "cli/MetricsExport.h"
#include "cli/MetricsServer.h"
#include "cli/RunCommands.h"
#include "headroom/BuildPlan.h"
#include "headroom/SafeText.h"
#include "headroom/Version.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ostream>

namespace headroom::cli {

namespace {

constexpr const char* kBuildCommand = "build";

// Process ids are positive and fit a pid_t (and a Windows DWORD in practice).
constexpr std::uint64_t kMaxPid = 2147483647;

// CLI11's own conversions let hostile numbers through: Range passes NaN (it
// compares false), an empty --start-time reads as 0, "-1" and 2^64 wrap to
// UINT64_MAX and a pid of 1e20 saturates. Every number is checked as text
// first, strictly, so only a value in range reaches the typed variable.
bool readWholeNumber(const std::string& text, std::uint64_t& value)
{
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    return !text.empty() && error == std::errc() && stop == end;
}

CLI::Validator wholeNumberIn(std::uint64_t lowest, std::uint64_t highest)
{
    const std::string range = std::to_string(lowest) + " to " + std::to_string(highest);
    return CLI::Validator(
        [lowest, highest, range](std::string& text) -> std::string {
            std::uint64_t value = 0;
            if (!readWholeNumber(text, value) || value < lowest || value > highest)
                return "wants a whole number from " + range + ", not \"" + safeText(text, 64) + "\"";
            return {};
        },
        "from " + range);
}

// A decimal number: digits and one point, nothing else (no sign, exponent,
// "nan", "inf" or hex). `what` names the unit in the message.
CLI::Validator decimalIn(double lowest, double highest, const std::string& what, bool lowestAllowed = true)
{
    char range[80];
    std::snprintf(range, sizeof range, lowestAllowed ? "from %g to %g" : "above %g, up to %g", lowest,
                  highest);
    const std::string wants = what + " " + range;
    return CLI::Validator(
        [lowest, highest, lowestAllowed, wants](std::string& input) -> std::string {
            // strtod, not from_chars: macOS's libc++ has no floating-point
            // from_chars. The CLI never sets a locale, so "." is the point.
            const bool plain = !input.empty() && input.find_first_not_of("0123456789.") == std::string::npos;
            char* stop = nullptr;
            const double value = plain ? std::strtod(input.c_str(), &stop) : 0.0;
            const bool above = lowestAllowed ? value >= lowest : value > lowest;
            if (!plain || stop != input.c_str() + input.size() || !std::isfinite(value) ||
                !(above && value <= highest))
                return "wants " + wants + ", not \"" + safeText(input, 64) + "\"";
            return {};
        },
        std::string(range));
}

CLI::Validator nonEmpty(const std::string& what)
{
    return CLI::Validator(
        [what](std::string& input) -> std::string {
            if (input.empty())
                return "wants " + what + ", not an empty string";
            return {};
        },
        "");
}

// "1366x768": each side 3 to 5 digits, then within the bounds.
CLI::Validator windowSize()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            const auto x = input.find('x');
            std::uint64_t width = 0;
            std::uint64_t height = 0;
            const auto side = [](const std::string& digits, std::uint64_t& value) {
                return digits.size() >= 3 && digits.size() <= 5 &&
                       digits.find_first_not_of("0123456789") == std::string::npos &&
                       readWholeNumber(digits, value);
            };
            if (x == std::string::npos || !side(input.substr(0, x), width) ||
                !side(input.substr(x + 1), height))
                return "wants WIDTHxHEIGHT such as 1366x768, not \"" + safeText(input, 64) + "\"";
            // The window's backing store grows with the area: 99999x99999 is tens of GB.
            if (width < kMinWindowSide || height < kMinWindowSide || width > kMaxWindowSide ||
                height > kMaxWindowSide)
                return "wants each side from " + std::to_string(kMinWindowSide) + " to " +
                       std::to_string(kMaxWindowSide) + " pixels, not \"" + safeText(input, 64) + "\"";
            return {};
        },
        "");
}

CLI::Validator colorScheme()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            std::string lower = input;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (lower != "system" && lower != "light" && lower != "dark")
                return "wants system, light or dark, not \"" + safeText(input, 64) + "\"";
            input = lower;
            return {};
        },
        "");
}

CLI::Validator presetName()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            const auto preset = presetFromId(input);
            if (!preset || *preset == BuildPreset::Custom)
                return "unknown preset \"" + safeText(input, 64) + "\": use A, B, C, D, auto or adaptive";
            return {};
        },
        "");
}

// A command line given as one string (--args, --then-run): quotes must match.
CLI::Validator argumentString(bool needsOne)
{
    return CLI::Validator(
        [needsOne](std::string& input) -> std::string {
            const auto split = splitArguments(input);
            if (!split)
                return "has an unmatched quote";
            if (needsOne && split->empty())
                return "needs a command";
            return {};
        },
        "");
}

// A size in bytes: "512M", "4G", "1.5GiB" (see parseByteSize).
CLI::Validator byteSize()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            if (!parseByteSize(input))
                return "wants a size such as 512M, 4G or 1.5GiB, not \"" + safeText(input, 64) + "\"";
            return {};
        },
        "");
}

CLI::Validator interruptChoice()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            if (!onInterruptFromId(input))
                return "wants ask, stop or leave, not \"" + safeText(input, 64) + "\"";
            return {};
        },
        "");
}

CLI::Validator listenAddress()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            const auto address = parseListenAddress(input);
            return address ? std::string() : address.error();
        },
        "");
}

} // namespace

struct CommandLine::State {
    Program program;
    std::string name;
    CLI::App app;

    SampleOptions sample;
    TopCommandOptions top;
    StopOptions stop;
    Pid pid = 0;
    std::uint64_t startTime = 0;
    HeadlessBuildOptions build;
    unsigned jobs = 0;
    double need = 0.0;
    std::string extraArgs;
    std::string thenRun;
    RunOptions runOptions;
    RunsOptions runs;
    SuperviseOptions supervise;
    ExportOptions exportOptions;
    double exportEvery = 0.0;
    std::string runInterrupt = "ask";
    std::string runMemoryHigh, runMemoryMax, runThenRun;
    std::string buildMemoryHigh, buildMemoryMax;
    DashboardFlags dashboard;
    double interval = 0.0;
    std::string size;

    CLI::App* sampleCommand = nullptr;
    CLI::App* topCommand = nullptr;
    CLI::App* stopCommand = nullptr;
    CLI::App* buildCommand = nullptr;
    CLI::App* runCommand_ = nullptr;
    CLI::App* runsCommand = nullptr;
    CLI::App* runsStopCommand = nullptr;
    CLI::App* superviseCommand = nullptr;
    CLI::App* exportCommand = nullptr;
    CLI::Option* pidOption = nullptr;
    CLI::Option* startOption = nullptr;
    std::vector<CLI::Option*> dashboardOptions;
    Choice choice = Choice::Exit;
    int exitCode = kExitUsage;

    explicit State(Program p)
        : program(p), name(p == Program::Cli ? "headroom-cli" : "headroom"),
          app(p == Program::Cli ? "Headroom: memory, swap, pressure and build processes at a glance, and a "
                                  "safe way to stop "
                                  "them."
                                : "Headroom: watch memory, see which build eats it, stop the right thing.\n"
                                  "Without a command it opens the dashboard; the commands need no display.",
              name)
    {
        app.set_version_flag("--version", name + " " + HEADROOM_VERSION);
        if (program == Program::Cli)
            app.require_subcommand(1);
        else
            app.require_subcommand(0, 1);
        app.footer("Run `" + name +
                   " COMMAND --help` for a command's options. Exit codes of stop: 0 done, "
                   "1 failed, 2 bad arguments, 3 already gone, 4 not permitted, 5 refused.");
        defineSample();
        defineTop();
        defineStop();
        defineRun();
        defineRuns();
        defineSupervise();
        defineExport();
        if (program == Program::Dashboard) {
            defineBuild();
            defineDashboard();
        }
    }

    void defineSample()
    {
        sampleCommand =
            app.add_subcommand("sample", "Print one snapshot: memory, swap, pressure, processes, builds.");
        sampleCommand->add_flag("--json", sample.json,
                                "JSON with a versioned schema (headroom.snapshot, version 1)");
        sampleCommand->add_flag("--pretty", sample.pretty, "Indent the JSON");
        sampleCommand
            ->add_option("--interval", sample.intervalSeconds,
                         "Seconds between the two polls used for CPU % (0: one poll, no CPU %)")
            ->check(decimalIn(0.0, 60.0, "seconds"));
    }

    void defineTop()
    {
        topCommand =
            app.add_subcommand("top", "The heaviest processes with their roles, and the running builds.");
        top.table.width = terminalWidth();
        topCommand->add_option("-n,--lines", top.table.limit, "How many processes to list")
            ->check(wholeNumberIn(1, 100000));
        topCommand->add_flag("--builds", top.table.buildsOnly, "Only build and test processes");
        topCommand->add_option("--width", top.table.width, "Line width (default: the terminal's)")
            ->check(wholeNumberIn(40, 1000));
        topCommand
            ->add_option("--interval", top.intervalSeconds, "Seconds between the two polls used for CPU %")
            ->check(decimalIn(0.0, 60.0, "seconds"));
    }

    void defineStop()
    {
        stopCommand = app.add_subcommand(
            "stop", "Pause, resume, terminate or kill a process (or its whole tree), safely.");
        stopCommand->footer(
            "Exit codes: 0 done, 1 failed, 2 bad arguments, 3 already gone, 4 not permitted, 5 refused.");
        pidOption = stopCommand->add_option("pid", pid, "Process id")->check(wholeNumberIn(1, kMaxPid));
        stopCommand->add_flag("--extra-builds", stop.extraBuilds,
                              "Stop every duplicate build but the one doing the work (it holds cargo's lock, "
                              "or has compilers running, or has done the most); lists them and asks first");
        stopCommand->add_flag("-y,--yes", stop.yes, "With --extra-builds: do not ask (scripts, SSH)");
        stopCommand->add_option("--in", stop.within,
                                "With --extra-builds: only builds of workspaces in this folder");
        startOption =
            stopCommand
                ->add_option(
                    "--start-time", startTime,
                    "The process's start time, as `top` (START) or `sample --json` (start_time) show it")
                ->check(wholeNumberIn(0, std::numeric_limits<std::uint64_t>::max()));
        stopCommand->add_flag("--tree", stop.tree, "Also every descendant (cargo and all its rustc)");
        stopCommand
            ->add_option("--signal", stop.signal,
                         "pause, resume, term (SIGTERM, then SIGKILL after --grace) or kill")
            ->check(CLI::IsMember({"pause", "resume", "term", "kill"}));
        stopCommand->add_option("--grace", stop.graceSeconds, "Seconds term waits before SIGKILL")
            ->check(decimalIn(0.0, 600.0, "seconds"));
        stopCommand->add_flag("--json", stop.json, "Print the outcome as JSON");
    }

    void defineRun()
    {
        runCommand_ = app.add_subcommand(
            "run", "Run any build command under Headroom's supervisor: its output is logged, its memory "
                   "followed, its end diagnosed and recorded, and closing this terminal does not stop it.");
        runCommand_->footer("Give the command after its options, or after `--`: headroom run -- cargo build "
                            "--release. The exit code is the command's (128 + the signal that killed it).");
        auto* r = runCommand_;
        r->add_option("--on-interrupt", runInterrupt,
                      "What Ctrl+C does: ask (default), stop the run, or leave it running")
            ->type_name("WHAT")
            ->check(interruptChoice());
        r->add_flag("--detach", runOptions.detach, "Start it, print its id and log, and return at once");
        r->add_flag("--no-pool", runOptions.noPool,
                    "Do not draw from the job pool: the command keeps its own -j and jobserver");
        r->add_option("--memory-high", runMemoryHigh,
                      "Linux with a systemd user manager: throttle the build above SIZE (MemoryHigh)")
            ->type_name("SIZE")
            ->check(byteSize());
        r->add_option("--memory-max", runMemoryMax,
                      "Linux with a systemd user manager: the build's own memory limit (MemoryMax)")
            ->type_name("SIZE")
            ->check(byteSize());
        r->add_option("--then-run", runThenRun, "A command to run after a successful run")
            ->type_name("COMMAND")
            ->check(argumentString(true));
        r->add_option("--oom-score-adj", runOptions.oomScoreAdj,
                      "oom_score_adj of the command's processes (default 500): the kernel kills it first")
            ->type_name("N")
            ->check(wholeNumberIn(0, 1000));
        r->add_option("--runs-dir", runOptions.runsDir,
                      "Keep the run's files here (default: the app-data "
                      "folder's runs)")
            ->type_name("DIR")
            ->check(nonEmpty("a folder"));
        r->add_option("--history", runOptions.historyPath,
                      "Build history database (default: in the app-data folder)")
            ->type_name("FILE")
            ->check(nonEmpty("a file"));
    }

    void defineRuns()
    {
        runsCommand = app.add_subcommand(
            "runs", "The supervised runs, running and recent, with their state and log files.");
        runsCommand->add_flag("--json", runs.json, "Print them as JSON");
        runsCommand
            ->add_option("--runs-dir", runs.runsDir, "The runs folder (default: the app-data folder's)")
            ->type_name("DIR")
            ->check(nonEmpty("a folder"));
        runsStopCommand = runsCommand->add_subcommand(
            "stop", "Stop a run's whole process tree (SIGTERM, then SIGKILL after its grace period).");
        runsStopCommand->add_option("id", runs.stopId, "The run's id, as `runs` lists it")
            ->required()
            ->check(nonEmpty("a run id"));
        // `runs stop ID --runs-dir D`: the folder option is read after the id too.
        runsStopCommand->fallthrough();
    }

    void defineSupervise()
    {
        // Started detached by a front-end; hidden from the help (an empty group).
        superviseCommand = app.add_subcommand("supervise", "Supervise one run (started by Headroom)");
        superviseCommand->group("");
        superviseCommand->add_option("status", supervise.statusPath, "The run's status file")
            ->required()
            ->check(nonEmpty("a file"));
    }

    void defineBuild()
    {
        buildCommand = app.add_subcommand(
            kBuildCommand,
            "Build a cargo project with a memory-safe preset, without a window: A release "
            "with one job, B debug, C library then target, D pause heavy test processes then "
            "A, auto (jobs from free memory), adaptive (jobs from the job pool as memory allows).");
        buildCommand->footer("The exit code is the build's (128 + the signal when it was killed); 2 for bad "
                             "arguments or a request the project cannot satisfy.");
        auto* b = buildCommand;
        b->add_option("--project", build.project, "The folder that holds Cargo.toml (required)")
            ->type_name("DIR")
            ->check(nonEmpty("a folder"));
        b->add_option("--preset", build.preset, "A, B, C, D, auto or adaptive (default A)")
            ->type_name("PRESET")
            ->check(presetName());
        b->add_option("-p,--package", build.package, "Package to build")
            ->type_name("NAME")
            ->check(nonEmpty("a package name"));
        b->add_option("--example", build.example, "Example to build")
            ->type_name("NAME")
            ->check(nonEmpty("an example name"));
        b->add_option("--bin", build.bin, "Binary to build")
            ->type_name("NAME")
            ->check(nonEmpty("a binary name"));
        b->add_flag("--lib", build.lib, "Build only the library");
        b->add_option("--features", build.features, "Features, comma-separated")->type_name("LIST");
        b->add_option("--profile", build.profile, "release, dev or a custom profile (default release)")
            ->type_name("NAME")
            ->check(nonEmpty("a profile name"));
        b->add_option("--args", extraArgs, "Extra arguments for cargo, as one string")
            ->type_name("ARGS")
            ->check(argumentString(false));
        b->add_option("--then-run", thenRun, "A command to run after a successful build")
            ->type_name("COMMAND")
            ->check(argumentString(true));
        b->add_flag("--wait-for-memory", build.waitForMemory,
                    "Wait until the memory checks pass, then start");
        b->add_option("--max-used", build.maxUsedPercent,
                      "Highest share of RAM in use to start at, percent (default 80)")
            ->type_name("PCT")
            ->check(decimalIn(1.0, 100.0, "a percentage"));
        // 64 TiB is beyond any machine; larger figures are typing mistakes.
        b->add_option("--need", need, "RAM + free swap the build needs, GiB (default: learned peak, else 8)")
            ->type_name("GIB")
            ->check(decimalIn(0.0, 65536.0, "a number of GiB", false));
        b->add_option("--history", build.historyPath,
                      "Build history database (default: in the app-data folder)")
            ->type_name("FILE")
            ->check(nonEmpty("a file"));
        b->add_option("--cargo", build.cargoProgram, "The cargo program (default: cargo on PATH)")
            ->type_name("PROGRAM")
            ->check(nonEmpty("a program"));
        b->add_option("--jobs", jobs, "Parallel jobs, instead of the preset's choice")
            ->type_name("N")
            ->check(wholeNumberIn(1, 1024));
        b->add_option(
             "--oom-score-adj", build.oomScoreAdj,
             "oom_score_adj of the build's processes (default 500): the kernel kills the build first")
            ->type_name("N")
            ->check(wholeNumberIn(0, 1000));
        b->add_option("--on-interrupt", build.onInterrupt,
                      "What Ctrl+C does: ask (default), stop the build, or leave it running")
            ->type_name("WHAT")
            ->check(interruptChoice());
        b->add_option("--memory-high", buildMemoryHigh,
                      "Linux with a systemd user manager: throttle the build above SIZE (MemoryHigh)")
            ->type_name("SIZE")
            ->check(byteSize());
        b->add_option("--memory-max", buildMemoryMax,
                      "Linux with a systemd user manager: the build's own memory limit (MemoryMax)")
            ->type_name("SIZE")
            ->check(byteSize());
    }

    void defineExport()
    {
        exportCommand = app.add_subcommand(
            "export", "This machine's memory budget, pressure level, builds, job pool, build outcomes and "
                      "learned peaks for Prometheus: served on /metrics, or written for node_exporter.");
        exportCommand->footer("Without an option it serves http://" + std::string(kDefaultListen) +
                              "/metrics. Each scrape samples afresh. SIGTERM or Ctrl+C stops it (exit 0).");
        auto* e = exportCommand;
        auto* listen =
            e->add_option("--listen", exportOptions.listen,
                          "Serve /metrics on ADDRESS:PORT (default " + std::string(kDefaultListen) +
                              "; a port alone is loopback; IPv6 as [::1]:9464)")
                ->type_name("ADDRESS:PORT")
                ->check(listenAddress());
        auto* textfile = e->add_option("--textfile", exportOptions.textfileDir,
                                       "Write DIR/" + std::string(kTextfileName) +
                                           " (atomically, readable by all) for node_exporter's textfile "
                                           "collector: once, or --every")
                             ->type_name("DIR")
                             ->check(nonEmpty("a folder"));
        e->add_option("--every", exportEvery, "With --textfile: rewrite the file every SECONDS until stopped")
            ->type_name("SECONDS")
            ->check(decimalIn(1.0, 86400.0, "seconds"))
            ->needs(textfile);
        e->add_flag("--once", exportOptions.once, "Print the metrics once to stdout and exit")
            ->excludes(listen)
            ->excludes(textfile);
        listen->excludes(textfile);
    }

    void defineDashboard()
    {
        const std::string group = "Dashboard (no command)";
        DashboardFlags& f = dashboard;
        auto add = [&](CLI::Option* option) {
            option->group(group);
            dashboardOptions.push_back(option);
            return option;
        };
        add(app.add_option("--interval", interval, "Refresh every SECONDS for this run"))
            ->type_name("SECONDS")
            ->check(decimalIn(kDashboardMinIntervalSeconds, kDashboardMaxIntervalSeconds, "seconds"));
        add(app.add_option("--screenshot", f.screenshotPath, "Render the window to the PNG FILE and exit"))
            ->type_name("FILE")
            ->check(nonEmpty("a file"));
        add(app.add_option("--after", f.screenshotAfter,
                           "With --screenshot: wait for N samples first (default 3)"))
            ->type_name("N")
            ->check(wholeNumberIn(1, kMaxScreenshotAfter));
        add(app.add_option("--size", size, "Window size WIDTHxHEIGHT (--screenshot defaults to 1366x768)"))
            ->type_name("WxH")
            ->check(windowSize());
        add(app.add_option("--settings", f.settingsPath,
                           "Read and write settings in FILE instead of the default"))
            ->type_name("FILE")
            ->check(nonEmpty("a file"));
        add(app.add_option("--history", f.historyPath,
                           "Keep the build history in FILE instead of the app-data folder"))
            ->type_name("FILE")
            ->check(nonEmpty("a file"));
        add(app.add_option("--color-scheme", f.colorScheme, "Palette: system (default), light or dark"))
            ->type_name("SCHEME")
            ->transform(colorScheme());
        add(app.add_flag(
            "--hidden", f.startHidden,
            "Start in the system tray without opening the window (it opens when there is no tray)"));
        add(app.add_flag("--verbose", f.verbose, "Log debug messages to stderr too"));
    }

    CLI::Option* dashboardOption(const std::string& longName) const
    {
        for (CLI::Option* option : dashboardOptions) {
            if (option->check_lname(longName))
                return option;
        }
        return nullptr;
    }

    Choice usage(std::ostream& err, const std::string& what)
    {
        err << name << ": " << what << "\nRun `" << name << " --help` (or `" << name
            << " COMMAND --help`) for the options.\n";
        exitCode = kExitUsage;
        return Choice::Exit;
    }

    std::vector<std::string> commandNames() const
    {
        std::vector<std::string> names;
        for (const CLI::App* command : app.get_subcommands({}))
            names.push_back(command->get_name());
        return names;
    }

    Choice parse(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
    {
        const std::vector<std::string> names = commandNames();
        if (!args.empty() && !args.front().empty() && args.front().front() != '-' &&
            std::find(names.begin(), names.end(), args.front()) == names.end()) {
            if (program == Program::Cli && args.front() == kBuildCommand)
                return usage(err, "build needs the headroom program (the dashboard's, with Qt): run "
                                  "`headroom build --help`.");
            std::string list;
            for (const auto& command : names)
                list += (list.empty() ? "" : ", ") + command;
            return usage(err,
                         "unknown command '" + safeText(args.front(), 64) + "'. Commands: " + list + ".");
        }
        // `run [OPTIONS] -- COMMAND...`: what follows the "--" is the command,
        // whatever it looks like; CLI11 sees only what comes before.
        std::vector<std::string> parsed = args;
        std::optional<std::vector<std::string>> afterDashes;
        if (!parsed.empty() && parsed.front() == "run") {
            // The command starts at the first word that is not one of run's
            // options (or after a "--" among them): from there on everything
            // is the command's, "--" and options included (cargo test -- -q).
            for (std::size_t i = 1; i < parsed.size(); ++i) {
                const std::string& a = parsed[i];
                const bool dashes = a == "--";
                if (dashes || a.empty() || a.front() != '-') {
                    afterDashes = std::vector<std::string>(
                        parsed.begin() + std::ptrdiff_t(i) + (dashes ? 1 : 0), parsed.end());
                    parsed.resize(i);
                    break;
                }
                const CLI::Option* option = runCommand_->get_option_no_throw(a.substr(0, a.find('=')));
                if (option && option->get_expected_min() > 0 && a.find('=') == std::string::npos)
                    ++i; // its value
            }
        }
        std::vector<std::string> reversed(parsed.rbegin(), parsed.rend());
        try {
            app.parse(reversed);
        } catch (const CLI::ParseError& e) {
            if (e.get_exit_code() == 0) {
                app.exit(e, out, err);
                exitCode = 0;
                return Choice::Exit;
            }
            return usage(err, e.what());
        }

        CLI::App* command = nullptr;
        for (CLI::App* candidate : app.get_subcommands())
            command = candidate;
        if (command) {
            for (const CLI::Option* option : dashboardOptions) {
                if (option->count() > 0)
                    return usage(err, option->get_name() + " is an option of the dashboard, not of `" +
                                          command->get_name() +
                                          "`; give a command's options after its name.");
            }
        }
        if (command == sampleCommand || command == topCommand || command == stopCommand) {
            if (command == stopCommand) {
                stop.pid = pidOption->count() > 0 ? std::optional<Pid>(pid) : std::nullopt;
                stop.startTime =
                    startOption->count() > 0 ? std::optional<std::uint64_t>(startTime) : std::nullopt;
            }
            return Choice::Command;
        }
        if (command == runCommand_) {
            runOptions.command = afterDashes.value_or(std::vector<std::string>());
            if (runOptions.command.empty())
                return usage(err, "run: give the command to run, e.g. `" + name +
                                      " run -- cargo build --release`.");
            runOptions.onInterrupt = *onInterruptFromId(runInterrupt);
            if (!runMemoryHigh.empty())
                runOptions.memoryHigh = parseByteSize(runMemoryHigh);
            if (!runMemoryMax.empty())
                runOptions.memoryMax = parseByteSize(runMemoryMax);
            if (!runThenRun.empty())
                runOptions.thenRun = *splitArguments(runThenRun);
            return Choice::Command;
        }
        if (command == runsCommand || command == superviseCommand)
            return Choice::Command;
        if (command == exportCommand) {
            exportOptions.everySeconds = exportEvery;
            return Choice::Command;
        }
        if (command && command == buildCommand) {
            if (!buildMemoryHigh.empty())
                build.memoryHigh = parseByteSize(buildMemoryHigh);
            if (!buildMemoryMax.empty())
                build.memoryMax = parseByteSize(buildMemoryMax);
            if (build.project.empty())
                return usage(err, "build: --project DIR is required: the folder that holds Cargo.toml.");
            if (buildCommand->get_option("--jobs")->count() > 0)
                build.jobs = jobs;
            if (buildCommand->get_option("--need")->count() > 0)
                build.needGiB = need;
            if (buildCommand->get_option("--args")->count() > 0)
                build.extraArgs = extraArgs;
            if (buildCommand->get_option("--then-run")->count() > 0)
                build.thenRun = thenRun;
            return Choice::Build;
        }
        if (command || program != Program::Dashboard)
            return usage(err, "a command is required.");

        DashboardFlags& f = dashboard;
        if (dashboardOption("interval")->count() > 0)
            f.intervalSeconds = interval;
        if (dashboardOption("after")->count() > 0 && f.screenshotPath.empty())
            return usage(err, "--after only makes sense with --screenshot FILE");
        if (f.startHidden && !f.screenshotPath.empty())
            return usage(err, "--hidden and --screenshot cannot go together: a screenshot needs the window");
        if (!size.empty()) {
            const auto x = size.find('x');
            f.windowWidth = std::atoi(size.substr(0, x).c_str());
            f.windowHeight = std::atoi(size.substr(x + 1).c_str());
        } else if (!f.screenshotPath.empty()) {
            f.windowWidth = 1366;
            f.windowHeight = 768;
        }
        return Choice::Dashboard;
    }

    int runCommand(std::ostream& out, std::ostream& err) const
    {
        if (sampleCommand->parsed())
            return runSample(sample, name, out, err);
        if (topCommand->parsed())
            return runTop(top, name, out, err);
        if (stopCommand->parsed())
            return runStop(stop, name, out, err);
        if (runCommand_->parsed())
            return runRun(runOptions, name, out, err);
        if (runsCommand->parsed())
            return runRuns(runs, name, out, err);
        if (superviseCommand->parsed())
            return runSupervise(supervise, name, out, err);
        if (exportCommand->parsed())
            return runExport(exportOptions, name, out, err);
        err << name << ": no command to run.\n";
        return kExitUsage;
    }
};

CommandLine::CommandLine(Program program) : d(std::make_unique<State>(program)) {}

CommandLine::~CommandLine() = default;

CommandLine::Choice CommandLine::parse(const std::vector<std::string>& args, std::ostream& out,
                                       std::ostream& err)
{
    d->choice = d->parse(args, out, err);
    if (d->choice != Choice::Exit)
        d->exitCode = 0;
    return d->choice;
}

int CommandLine::exitCode() const
{
    return d->exitCode;
}

int CommandLine::runCommand(std::ostream& out, std::ostream& err) const
{
    return d->runCommand(out, err);
}

const HeadlessBuildOptions& CommandLine::buildOptions() const
{
    return d->build;
}

const DashboardFlags& CommandLine::dashboardFlags() const
{
    return d->dashboard;
}

std::vector<std::string> CommandLine::commandNames() const
{
    return d->commandNames();
}

const std::string& CommandLine::programName() const
{
    return d->name;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    CommandLine commandLine(CommandLine::Program::Cli);
    if (commandLine.parse(args, out, err) != CommandLine::Choice::Command)
        return commandLine.exitCode();
    return commandLine.runCommand(out, err);
}

} // namespace headroom::cli
