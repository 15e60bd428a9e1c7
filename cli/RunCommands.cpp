// SPDX-License-Identifier: GPL-3.0-or-later
// `run` and `runs`: the terminal's front-end of supervised runs. `run` writes
// the spec, starts the supervisor detached and follows the run's files; the
// run belongs to the supervisor, so this terminal can close at any moment.
#include "cli/RunCommands.h"

#include "cli/ExitCodes.h"
#include "headroom/BuildPlan.h"
#include "headroom/ChildProcess.h"
#include "headroom/RunFollower.h"
#include "headroom/RunsFolder.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <system_error>

#ifdef _WIN32
#include <io.h>
#include <iostream>
#include <windows.h>
#else
#include <poll.h>
#include <unistd.h>
#endif

namespace headroom::cli {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json; // "schema" and "version" first, as written

constexpr int kExitFinishedAlready = 3;
constexpr int kExitInterrupted = 130; // 128 + SIGINT, as a shell reports Ctrl+C
constexpr int kRunsSchemaVersion = 1;
constexpr std::size_t kTitleBytes = 200;         // a run's title, from its command line
constexpr std::size_t kListTitleBytes = 60;      // ... as `runs` lists it
constexpr int kFollowIntervalMs = 150;           // between two polls of the run's files
constexpr std::size_t kLogChunkBytes = 1u << 20; // the most log one poll reads
constexpr std::int64_t kTakeTimeoutMs = 10000;   // for the supervisor to take the run
constexpr std::int64_t kLostStatusMs = 5000;     // a status unreadable this long: the run is lost to us
constexpr std::int64_t kStopSlackMs = 10000;     // `runs stop` waits the grace and this

// What the signal handlers saw; read by the follow loop.
std::atomic<int> gInterrupts{0};  // Ctrl+C (SIGINT), counted
std::atomic<int> gLeaveSignal{0}; // SIGTERM or SIGHUP: stop following, the run goes on
static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need a lock-free flag");

extern "C" void onInterruptSignal(int)
{
    gInterrupts.fetch_add(1);
}

extern "C" void onLeaveSignal(int signal)
{
    gLeaveSignal.store(signal);
}

// Installs the follow loop's handlers and restores the previous ones on
// return. No SA_RESTART: a read of the terminal returns at a second Ctrl+C.
class SignalGuard {
  public:
    SignalGuard()
    {
        gInterrupts.store(0);
        gLeaveSignal.store(0);
#ifdef _WIN32
        previousInt_ = std::signal(SIGINT, onInterruptSignal);
        previousTerm_ = std::signal(SIGTERM, onLeaveSignal);
#else
        struct sigaction action {};
        sigemptyset(&action.sa_mask);
        action.sa_handler = onInterruptSignal;
        ::sigaction(SIGINT, &action, &previousInt_);
        action.sa_handler = onLeaveSignal;
        ::sigaction(SIGTERM, &action, &previousTerm_);
        ::sigaction(SIGHUP, &action, &previousHup_);
        // A closed pipe (`run ... | head`) ends the following, not this process.
        action.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &action, &previousPipe_);
#endif
    }
    ~SignalGuard()
    {
#ifdef _WIN32
        std::signal(SIGINT, previousInt_);
        std::signal(SIGTERM, previousTerm_);
#else
        ::sigaction(SIGINT, &previousInt_, nullptr);
        ::sigaction(SIGTERM, &previousTerm_, nullptr);
        ::sigaction(SIGHUP, &previousHup_, nullptr);
        ::sigaction(SIGPIPE, &previousPipe_, nullptr);
#endif
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

  private:
#ifdef _WIN32
    void (*previousInt_)(int) = SIG_DFL;
    void (*previousTerm_)(int) = SIG_DFL;
#else
    struct sigaction previousInt_ {};
    struct sigaction previousTerm_ {};
    struct sigaction previousHup_ {};
    struct sigaction previousPipe_ {};
#endif
};

// Sleeps, returning early when a signal arrives.
void pauseMs(int ms)
{
#ifdef _WIN32
    ::Sleep(DWORD(ms));
#else
    ::poll(nullptr, 0, ms);
#endif
}

std::int64_t wallMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t steadyMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string localTime(std::int64_t ms)
{
    if (ms <= 0)
        return "-";
    const std::time_t seconds = std::time_t(ms / 1000);
    std::tm parts{};
#ifdef _WIN32
    localtime_s(&parts, &seconds);
#else
    localtime_r(&seconds, &parts);
#endif
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
    return text;
}

// Text from a status (a process's words, a path) on its way to the terminal,
// a line at a time.
void printLines(std::ostream& err, const std::string& indent, const std::string& text)
{
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        if (end > start)
            err << indent << safeText(std::string_view(text).substr(start, end - start)) << "\n";
        start = end + 1;
    }
}

std::string stateText(const RunStatus& s)
{
    switch (s.state) {
    case RunState::Starting:
        return "starting";
    case RunState::Running:
        return s.stopRequested ? "running (stopping)" : "running";
    case RunState::Finished:
        return "finished: " + std::string(s.diagnosis ? verdictId(s.diagnosis->verdict) : "unknown");
    case RunState::SupervisorLost:
        return "supervisor lost";
    }
    return "unknown";
}

double durationSeconds(const RunStatus& s)
{
    if (s.state == RunState::Finished && s.seconds > 0.0)
        return s.seconds;
    if (s.startedMs <= 0)
        return 0.0;
    const std::int64_t end = s.endedMs > 0                  ? s.endedMs
                             : s.state == RunState::Running ? wallMs()
                                                            : std::max(s.updatedMs, s.startedMs);
    return double(end - s.startedMs) / 1000.0;
}

fs::path runsDirOf(const std::string& option)
{
    fs::path dir = option.empty() ? defaultRunsDir() : fs::path(option);
    std::error_code ec;
    fs::path absolute = fs::absolute(dir, ec);
    return ec ? dir : absolute;
}

// How a run ended, for the terminal: the diagnosis, what to do next, the log.
void printOutcome(std::ostream& err, const std::string& prefix, const RunStatus& s, const fs::path& log)
{
    if (s.state == RunState::Finished && s.diagnosis) {
        err << prefix << safeText(s.diagnosis->summary) << "\n";
        if (s.diagnosis->verdict != BuildVerdict::Succeeded) {
            printLines(err, "  ", s.diagnosis->detail);
            if (!s.diagnosis->nextStep.empty())
                printLines(err, "  Next: ", s.diagnosis->nextStep);
        }
    } else if (s.state == RunState::Finished) {
        err << prefix << "finished"
            << (s.exitCode ? " with exit code " + std::to_string(*s.exitCode)
                : s.signal ? " by signal " + std::to_string(*s.signal)
                           : std::string())
            << ".\n";
    } else {
        err << prefix << stateText(s) << ".\n";
    }
    if (s.thenRunExitCode)
        err << "  The then-run command exited with " << *s.thenRunExitCode << ".\n";
    printLines(err, "  ", s.problem);
    err << "  Log: " << safeText(log.string()) << "\n";
}

RunSpec specFor(const RunOptions& o, const fs::path& cwd)
{
    RunSpec spec;
    spec.id = newRunId();
    spec.origin = RunOrigin::Command;
    spec.title = safeText(joinArguments(o.command), kTitleBytes);
    spec.project = cwd.string();
    spec.request.projectDir = cwd.string();
    spec.request.thenRun = o.thenRun;
    spec.preset = BuildPreset::Custom;
    BuildStep step;
    step.title = "Run";
    step.program = o.command.front();
    step.args.assign(o.command.begin() + 1, o.command.end());
    step.workingDir = cwd.string();
    spec.steps.push_back(std::move(step));
    spec.targetKind = "command";
    spec.targetName = fs::path(o.command.front()).filename().string();
    // Absolute: the supervisor runs in the runs folder, not here.
    spec.historyPath =
        o.historyPath.empty() ? defaultHistoryPath().string() : fs::absolute(o.historyPath).string();
    spec.memoryHigh = o.memoryHigh;
    spec.memoryMax = o.memoryMax;
    spec.oomScoreAdj = o.oomScoreAdj;
    spec.createdMs = wallMs();
    // Every build Headroom starts shares the one pool; the command's own -j goes.
    spec.pool = !o.noPool;
    return spec;
}

enum class Answer { Stop, Leave };

// Asks on the terminal; a second Ctrl+C while asking means stop, the end of
// input too (nobody is there to decide).
Answer ask(std::ostream& err)
{
    const int interrupts = gInterrupts.load();
    const auto prompt = [&] { err << "Stop the run (s) or leave it running (l)? [s/l] " << std::flush; };
    prompt();
#ifdef _WIN32
    std::string line;
    while (std::getline(std::cin, line)) {
        if (gInterrupts.load() != interrupts)
            return Answer::Stop;
        if (line == "s" || line == "S" || line == "stop")
            return Answer::Stop;
        if (line == "l" || line == "L" || line == "leave")
            return Answer::Leave;
        prompt();
    }
    return Answer::Stop;
#else
    std::string line;
    for (;;) {
        if (gInterrupts.load() != interrupts) {
            err << "\n";
            return Answer::Stop;
        }
        if (gLeaveSignal.load() != 0)
            return Answer::Leave;
        pollfd input{STDIN_FILENO, POLLIN, 0};
        if (::poll(&input, 1, 200) <= 0)
            continue;
        char c = 0;
        const auto n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Answer::Stop;
        if (c != '\n') {
            if (line.size() < 64)
                line += c;
            continue;
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line == "s" || line == "S" || line == "stop")
            return Answer::Stop;
        if (line == "l" || line == "L" || line == "leave")
            return Answer::Leave;
        line.clear();
        prompt();
    }
#endif
}

struct Follow {
    const RunOptions& options;
    const std::string& programName;
    std::ostream& out;
    std::ostream& err;
    fs::path runsDir;
    RunFiles files;
    std::string id;

    std::string prefix() const { return programName + " run: "; }

    int leave(int code) const
    {
        err << "The run goes on: " << id << "; follow it with `" << programName
            << " runs`, log: " << safeText(files.log.string()) << "\n";
        return code;
    }

    void stop() const
    {
        auto asked = requestStop(runsDir, id);
        err << prefix() << safeText(asked ? asked.value() : asked.error()) << "\n";
    }

    int neverTaken() const
    {
        err << prefix() << "the supervisor did not take the run within " << kTakeTimeoutMs / 1000
            << " s. Run `" << safeText(currentExecutable().string()) << " supervise "
            << safeText(files.status.string()) << "` by hand to see why.\n";
        return kExitFailed;
    }

    int run()
    {
        RunFollower follower(runsDir, id);
        TerminalTextFilter filter;
        const std::int64_t startedAt = steadyMs();
        std::int64_t problemSince = 0;
        int interruptsSeen = 0;
        bool stopAsked = false;
        char lastShown = '\n';
        for (;;) {
            auto update = follower.poll(options.detach ? 0 : kLogChunkBytes);
            if (!update.logBytes.empty()) {
                const std::string shown = filter.feed(update.logBytes);
                if (!shown.empty())
                    lastShown = shown.back();
                out << shown << std::flush;
                if (!out)
                    return leave(kExitFailed); // nobody reads (a closed pipe): the run goes on
            }
            const std::optional<RunStatus>& status = follower.status();
            const bool taken = status && status->state != RunState::Starting;

            if (options.detach && taken) {
                if (status->state == RunState::SupervisorLost) {
                    printOutcome(err, prefix(), *status, files.log);
                    return kExitFailed;
                }
                out << id << "\n" << safeText(files.log.string()) << "\n" << std::flush;
                return 0;
            }
            if (follower.done()) {
                out << filter.finish() << std::flush;
                if (lastShown != '\n')
                    err << "\n"; // the summary starts a line of its own
                printOutcome(err, prefix(), *status, files.log);
                return status->state == RunState::Finished ? status->exitCodeForShell() : kExitFailed;
            }
            if (!taken && steadyMs() - startedAt > kTakeTimeoutMs)
                return neverTaken();
            if (!follower.statusProblem().empty()) {
                if (!update.problem.empty())
                    err << "\n" << prefix() << safeText(update.problem) << "\n";
                if (problemSince == 0)
                    problemSince = steadyMs();
                else if (steadyMs() - problemSince > kLostStatusMs) {
                    err << prefix() << "the run's status cannot be read any more; its log: "
                        << safeText(files.log.string()) << "\n";
                    return kExitFailed;
                }
            } else {
                problemSince = 0;
            }

            if (const int signal = gLeaveSignal.load(); signal != 0) {
                err << "\n";
                return leave(128 + signal);
            }
            if (const int interrupts = gInterrupts.load(); interrupts != interruptsSeen) {
                interruptsSeen = interrupts;
                out << filter.finish() << std::flush;
                err << "\n"; // past the terminal's ^C
                if (stopAsked || options.detach)
                    return leave(kExitInterrupted); // a further Ctrl+C: stop following
                Answer answer = Answer::Stop;
                if (options.onInterrupt == OnInterrupt::Leave) {
                    answer = Answer::Leave;
                } else if (options.onInterrupt == OnInterrupt::Ask) {
                    if (stdinIsTerminal())
                        answer = ask(err);
                    else
                        err << prefix() << "the input is not a terminal to ask on: stopping the run.\n";
                    interruptsSeen = gInterrupts.load();
                }
                if (answer == Answer::Leave)
                    return leave(kExitInterrupted);
                stop();
                stopAsked = true;
            }
            if (update.logBytes.size() < kLogChunkBytes)
                pauseMs(kFollowIntervalMs); // else more is waiting: read on at once
        }
    }
};

ojson runJson(const RunEntry& entry, const fs::path& runsDir)
{
    if (!entry.status)
        return {{"status_file", entry.statusPath.string()}, {"state", "corrupt"}, {"problem", entry.problem}};
    const RunStatus& s = *entry.status;
    const RunFiles files = RunFiles::of(runsDir, s.spec.id);
    ojson j = {
        {"id", s.spec.id},
        {"origin", std::string(runOriginId(s.spec.origin))},
        {"state", std::string(runStateId(s.state))},
        {"title", s.spec.title},
        {"project", s.spec.project},
        {"created_ms", s.spec.createdMs},
        {"started_ms", s.startedMs},
        {"ended_ms", s.endedMs},
        {"duration_seconds", durationSeconds(s)},
        {"log", files.log.string()},
        {"status_file", entry.statusPath.string()},
        {"supervisor_alive", entry.supervisorAlive},
        {"build_alive", entry.buildAlive},
        {"stop_requested", s.stopRequested},
        {"problem", entry.problem},
    };
    j["verdict"] = s.diagnosis ? ojson(std::string(verdictId(s.diagnosis->verdict))) : ojson(nullptr);
    j["summary"] = s.diagnosis ? ojson(s.diagnosis->summary) : ojson(nullptr);
    j["exit_code"] = s.exitCode ? ojson(*s.exitCode) : ojson(nullptr);
    j["signal"] = s.signal ? ojson(*s.signal) : ojson(nullptr);
    j["supervisor_pid"] = s.supervisor ? ojson(s.supervisor->pid) : ojson(nullptr);
    const auto root = s.currentRoot();
    j["root_pid"] = root ? ojson(root->pid) : ojson(nullptr);
    j["peak_tree_bytes"] = s.peakTreeBytes;
    return j;
}

int listRunsCommand(const RunsOptions& o, const fs::path& dir, std::ostream& out)
{
    const std::vector<RunEntry> entries = listRuns(dir);
    if (o.json) {
        ojson runs = ojson::array();
        for (const RunEntry& e : entries)
            runs.push_back(runJson(e, dir));
        const ojson root = {{"schema", "headroom.runs"},
                            {"version", kRunsSchemaVersion},
                            {"runs_dir", dir.string()},
                            {"runs", runs}};
        out << root.dump(2, ' ', true, ojson::error_handler_t::replace) << "\n";
        return 0;
    }
    if (entries.empty()) {
        out << "No runs in " << safeText(dir.string()) << ".\n";
        return 0;
    }
    for (const RunEntry& e : entries) {
        if (!e.status) {
            out << safeText(e.statusPath.filename().string(), 80) << "  corrupt: " << safeText(e.problem)
                << "\n";
            continue;
        }
        const RunStatus& s = *e.status;
        const RunFiles files = RunFiles::of(dir, s.spec.id);
        const std::string state = stateText(s);
        out << s.spec.id << "  " << state << std::string(state.size() < 22 ? 22 - state.size() : 1, ' ')
            << localTime(s.startedMs > 0 ? s.startedMs : s.spec.createdMs) << "  "
            << formatDuration(durationSeconds(s)) << "  " << safeText(s.spec.title, kListTitleBytes) << "  "
            << safeText(files.log.string()) << "\n";
        if (s.state == RunState::SupervisorLost && !e.problem.empty())
            printLines(out, "    ", e.problem);
    }
    return 0;
}

int stopRunCommand(const RunsOptions& o, const fs::path& dir, const std::string& programName,
                   std::ostream& out, std::ostream& err)
{
    const std::string prefix = programName + " runs stop: ";
    auto found = findRun(dir, o.stopId);
    if (!found) {
        err << prefix << safeText(found.error()) << "\n";
        return kExitFailed;
    }
    const RunFiles files = RunFiles::of(dir, o.stopId);
    {
        const RunEntry& e = found.value();
        const bool over = e.status->state == RunState::Finished ||
                          (e.status->state == RunState::SupervisorLost && !e.buildAlive);
        if (over) {
            err << prefix << "run " << o.stopId << " has ended already.\n";
            printOutcome(err, "  ", *e.status, files.log);
            return kExitFinishedAlready;
        }
    }
    auto asked = requestStop(dir, o.stopId);
    if (!asked) {
        err << prefix << safeText(asked.error()) << "\n";
        return kExitFailed;
    }
    out << safeText(asked.value()) << "\n" << std::flush;
    const std::int64_t deadline = steadyMs() + found.value().status->spec.graceMs + kStopSlackMs;
    while (steadyMs() < deadline) {
        auto now = findRun(dir, o.stopId);
        if (!now) {
            // A status being replaced this instant (Windows) is read again;
            // one that is gone or was moved aside is not coming back.
            std::error_code gone;
            if (fs::exists(files.status, gone)) {
                pauseMs(200);
                continue;
            }
            err << prefix << safeText(now.error()) << "\n";
            return kExitFailed;
        }
        const RunStatus& s = *now.value().status;
        if (s.state == RunState::Finished ||
            (s.state == RunState::SupervisorLost && !now.value().buildAlive)) {
            printOutcome(out, "Run " + o.stopId + ": ", s, files.log);
            return 0;
        }
        pauseMs(200);
    }
    err << prefix << "run " << o.stopId << " has not ended within "
        << (found.value().status->spec.graceMs + kStopSlackMs) / 1000 << " s of the request; see `"
        << programName << " runs`.\n";
    return kExitFailed;
}

} // namespace

int runRun(const RunOptions& options, const std::string& programName, std::ostream& out, std::ostream& err)
{
    const std::string prefix = programName + " run: ";
    if (options.command.empty() || options.command.front().empty()) {
        err << prefix << "give the command to run, e.g. `" << programName << " run -- cargo build`.\n";
        return kExitUsage;
    }
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (ec) {
        err << prefix << "cannot read the current folder: " << ec.message() << "\n";
        return kExitFailed;
    }
    const fs::path runsDir = runsDirOf(options.runsDir);
    fs::create_directories(runsDir, ec);
    if (ec) {
        err << prefix << "cannot create the runs folder " << safeText(runsDir.string()) << ": "
            << ec.message() << "\n";
        return kExitFailed;
    }

    RunStatus status;
    status.spec = specFor(options, cwd);
    status.state = RunState::Starting;
    const RunFiles files = RunFiles::of(runsDir, status.spec.id);
    if (auto written = writeStatusAtomically(files.status, status); !written) {
        err << prefix << safeText(written.error()) << "\n";
        return kExitFailed;
    }

    // Before the supervisor starts: a Ctrl+C from now on is the run's.
    SignalGuard signals;
    const fs::path self = currentExecutable();
    auto started = startDetached({self.string(), "supervise", files.status.string()}, runsDir);
    if (!started) {
        err << prefix << "cannot start the supervisor (" << safeText(self.string())
            << "): " << safeText(started.error()) << "\n";
        status.state = RunState::SupervisorLost;
        status.problem = "The supervisor could not be started: " + started.error();
        [[maybe_unused]] const auto rewritten = writeStatusAtomically(files.status, status);
        return kExitFailed;
    }
    Follow follow{options, programName, out, err, runsDir, files, status.spec.id};
    return follow.run();
}

int runRuns(const RunsOptions& options, const std::string& programName, std::ostream& out, std::ostream& err)
{
    const fs::path dir = runsDirOf(options.runsDir);
    if (!options.stopId.empty())
        return stopRunCommand(options, dir, programName, out, err);
    return listRunsCommand(options, dir, out);
}

} // namespace headroom::cli
