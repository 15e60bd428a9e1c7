// SPDX-License-Identifier: GPL-3.0-or-later
// The build supervisor: `headroom-cli supervise STATUS-FILE`. Started
// detached by a front-end, it runs the spec's steps with their output going
// straight to the run's files, watches them (progress, the lock, memory),
// acts on a stop request, concludes, records the run for history and exits.
// Whoever follows the run reads the status file it rewrites; nobody needs
// to keep it company.
#include "cli/RunCommands.h"
#include "headroom/AdaptivePool.h"
#include "headroom/ChildProcess.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/RunObserver.h"
#include "headroom/RunsFolder.h"
#include "headroom/SafeText.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "headroom/UserScope.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <thread>
#include <utility>

#ifdef _WIN32
#include <io.h>
#else
#include <sys/file.h>
#include <unistd.h>
#endif

namespace headroom::cli {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How often the loop looks at the files and the child, how often it samples
// memory, and how often at most it rewrites the status.
constexpr auto kLoopPeriod = 150ms;
constexpr auto kSamplePeriod = 1000ms;
// A pooled build is steered at every sample: a job's memory grows fast.
constexpr auto kPooledSamplePeriod = 250ms;
// The parallelism series for the chart, and the OOM retries of a pooled build.
constexpr std::size_t kParallelismPoints = 600;
constexpr unsigned kMaxOomRetries = 2;
constexpr auto kStatusPeriod = 250ms;
// A kernel OOM kill may be the very last thing that happened: one more
// snapshot this long after the end reads the counter that says so.
constexpr auto kFinalSnapshotWait = 1500ms;
constexpr std::size_t kReadChunk = 1u << 20;
constexpr std::size_t kKeptRuns = 50;
constexpr int kChunksPerPump = 8;
constexpr int kChunksToDrain = 256;
// The text reader looks at the start of a line only ("error: could not
// compile", "Building [", a killed process): what a line holds beyond this
// is not read, so a build writing without line breaks cannot fill memory.
// The log keeps every byte.
constexpr std::size_t kReadLineLength = 64u << 10;

// `text` with every line cut to kReadLineLength; `length` carries the
// length of the unfinished last line to the next call.
std::string cutLongLines(std::string_view text, std::size_t& length)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            out += c;
            length = 0;
        } else if (length++ < kReadLineLength) {
            out += c;
        }
    }
    return out;
}

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

#ifndef _WIN32
volatile std::sig_atomic_t g_stopSignal = 0;

extern "C" void onStopSignal(int)
{
    g_stopSignal = 1;
}

// Its own session (no terminal's hang-up reaches it); SIGTERM and SIGINT
// become a stop request the loop acts on.
void prepareSignals()
{
    if (::getsid(0) != ::getpid())
        ::setsid(); // fails for a group leader: then it stays where it is
    std::signal(SIGHUP, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);
    // Inherited as ignored, SIGCHLD would reap the steps before it could
    // read how they ended.
    std::signal(SIGCHLD, SIG_DFL);
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
}

bool stopSignalled()
{
    return g_stopSignal != 0;
}
#else
void prepareSignals() {}
bool stopSignalled()
{
    return false;
}
#endif

int openFile(const fs::path& path, int flags)
{
#ifdef _WIN32
    return ::_wopen(path.c_str(), flags | _O_BINARY | _O_NOINHERIT, 0644);
#else
    return ::open(path.c_str(), flags | O_CLOEXEC, 0644);
#endif
}

std::int64_t seekTo(int fd, std::int64_t offset, int whence)
{
#ifdef _WIN32
    return ::_lseeki64(fd, offset, whence);
#else
    return ::lseek(fd, off_t(offset), whence);
#endif
}

// The run's log, as the supervisor appends its own lines to it: the build
// writes to the same file directly, so the supervisor remembers where its
// own bytes landed and its reader skips them.
class LogFile {
  public:
    explicit LogFile(fs::path path) : path_(std::move(path)) {}
    ~LogFile()
    {
        if (writeFd_ >= 0)
            ::close(writeFd_);
        if (readFd_ >= 0)
            ::close(readFd_);
    }
    LogFile(const LogFile&) = delete;
    LogFile& operator=(const LogFile&) = delete;

    void append(std::string_view text)
    {
        if (text.empty())
            return;
        if (writeFd_ < 0)
            writeFd_ = openFile(path_, O_WRONLY | O_APPEND | O_CREAT);
        if (writeFd_ < 0)
            return;
        while (!text.empty()) {
            const auto n = ::write(writeFd_, text.data(), static_cast<unsigned>(text.size()));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            // O_APPEND: the offset is now the end of what was just written.
            const std::int64_t end = seekTo(writeFd_, 0, SEEK_CUR);
            if (end >= 0)
                own_.push_back({std::uint64_t(end) - std::uint64_t(n), std::uint64_t(end)});
            text.remove_prefix(std::size_t(n));
        }
    }

    // The bytes the build wrote since the last call (at most kReadChunk,
    // the supervisor's own lines left out).
    std::string readBuildBytes()
    {
        if (readFd_ < 0)
            readFd_ = openFile(path_, O_RDONLY);
        if (readFd_ < 0)
            return {};
        std::string chunk(kReadChunk, '\0');
        if (seekTo(readFd_, std::int64_t(offset_), SEEK_SET) < 0)
            return {};
        const auto n = ::read(readFd_, chunk.data(), static_cast<unsigned>(chunk.size()));
        if (n <= 0)
            return {};
        chunk.resize(std::size_t(n));
        const std::uint64_t begin = offset_;
        offset_ += std::uint64_t(n);
        std::string out;
        std::uint64_t at = begin;
        for (const auto& [from, to] : own_) {
            if (to <= at || from >= offset_)
                continue;
            if (from > at)
                out.append(chunk, std::size_t(at - begin), std::size_t(from - at));
            at = std::max(at, std::min(to, offset_));
        }
        if (at < offset_)
            out.append(chunk, std::size_t(at - begin), std::size_t(offset_ - at));
        while (!own_.empty() && own_.front().second <= offset_)
            own_.pop_front();
        return out;
    }

  private:
    fs::path path_;
    int writeFd_ = -1;
    int readFd_ = -1;
    std::uint64_t offset_ = 0;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> own_; // [from, to) of the supervisor's lines
};

// New bytes of a file another process appends to.
class FileTail {
  public:
    explicit FileTail(fs::path path) : path_(std::move(path)) {}
    ~FileTail()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    FileTail(const FileTail&) = delete;
    FileTail& operator=(const FileTail&) = delete;

    std::string read()
    {
        if (fd_ < 0)
            fd_ = openFile(path_, O_RDONLY);
        if (fd_ < 0)
            return {};
        std::string chunk(kReadChunk, '\0');
        const auto n = ::read(fd_, chunk.data(), static_cast<unsigned>(chunk.size()));
        if (n <= 0)
            return {};
        chunk.resize(std::size_t(n));
        return chunk;
    }

  private:
    fs::path path_;
    int fd_ = -1;
};

// Stopping blocks for the grace period: off the loop, which keeps reading.
class Stopper {
  public:
    ~Stopper() { join(); }
    void stop(const ProcessKey& root, std::chrono::milliseconds grace)
    {
        join();
        thread_ = std::thread([this, root, grace] {
            ActionOptions options;
            options.tree = true;
            options.grace = grace;
            summary_ = ProcessControl().apply(root, ProcessAction::Terminate, options).summary();
        });
    }
    // Waits for it; what was done, once.
    std::string join()
    {
        if (thread_.joinable())
            thread_.join();
        return std::exchange(summary_, std::string());
    }

  private:
    std::thread thread_;
    std::string summary_;
};

// An exclusive lock on a run's file, held while this object lives.
class RunLock {
  public:
    explicit RunLock(const fs::path& path)
    {
#ifndef _WIN32
        fd_ = openFile(path, O_WRONLY | O_APPEND | O_CREAT);
        if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0)
            held_ = true;
#else
        (void)path;
        held_ = true;
#endif
    }
    ~RunLock()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;
    bool held() const
    {
        return held_;
    }

  private:
    int fd_ = -1;
    bool held_ = false;
};

class Supervisor {
  public:
    Supervisor(RunStatus status, fs::path statusPath, std::ostream& err)
        : status_(std::move(status)), statusPath_(std::move(statusPath)), runsDir_(statusPath_.parent_path()),
          files_(RunFiles::of(runsDir_, status_.spec.id)), log_(files_.log),
          messagesTail_(files_.stdoutMessages), err_(err), sampler_(SystemSampler::create())
    {
    }

    int run()
    {
        const RunSpec& spec = status_.spec;
        status_.state = RunState::Running;
        status_.startedMs = nowMs();
        writeStatus(true);
        chooseContainment();
        joinPool();
        runStart_ = Clock::now();

        RunEndFacts end;
        for (std::size_t i = 0; i < spec.steps.size(); ++i) {
            checkStop();
            if (status_.stopRequested)
                break;
            status_.step = int(i);
            ++status_.stepsRun;
            const BuildStep& step = spec.steps[i];
            const bool cargoMessages = !step.messageFormat.empty();
            ChildExit exit;
            for (;;) {
                exit = runChild(stepChild(i), cargoMessages);
                if (!retryAfterOomKill(step, exit))
                    break;
            }
            end.exitCode = exit.exitCode;
            end.signal = exit.signal;
            if (!exit.exitCode || *exit.exitCode != 0 || status_.stopRequested)
                break;
        }
        leavePool();
        conclude(end);
        return 0;
    }

  private:
    // The step's process: its command, in the user scope when there is one,
    // drawing from the pool's lane when the run is pooled.
    ChildSpec stepChild(std::size_t i)
    {
        const RunSpec& spec = status_.spec;
        const BuildStep& step = spec.steps[i];
        ChildSpec child;
        child.argv = {step.program};
        const auto args = step.commandArgs();
        child.argv.insert(child.argv.end(), args.begin(), args.end());
        child.environment = step.environment;
        if (pool_) {
            const std::string line = pool_->prepare(child);
            if (!line.empty())
                log_.append(line + ".\n");
        }
        if (scoped_) {
            // A retry gets a scope of its own: the killed one may still be going away.
            const std::string retry =
                status_.pool.oomRetries > 0 ? "-r" + std::to_string(status_.pool.oomRetries) : std::string();
            const std::string unit = "headroom-" + spec.id + "-" + std::to_string(i) + retry + ".scope";
            child.argv = scopedCommand({unit, spec.memoryHigh, spec.memoryMax}, child.argv);
            status_.containment = "systemd user scope " + unit;
        }
        child.workingDir = step.workingDir;
        const bool cargoMessages = !step.messageFormat.empty();
        child.stdoutFile = cargoMessages ? files_.stdoutMessages : files_.log;
        child.stderrFile = files_.log;
        child.oomScoreAdj = spec.oomScoreAdj;
        return child;
    }

    void joinPool()
    {
        if (!status_.spec.pool)
            return;
        auto joined = AdaptivePool::join(status_.spec);
        if (!joined) {
            status_.pool.active = false;
            status_.pool.problem = "The job pool could not be joined: " + joined.error();
            log_.append("Headroom: the job pool could not be joined (" + safeText(joined.error()) +
                        "); the build runs with its own parallelism.\n");
            writeStatus(true);
            return;
        }
        pool_ = std::move(joined.value());
        status_.pool.active = true;
        status_.pool.cpus = std::max(1u, std::thread::hardware_concurrency());
        log_.append("Headroom: the build draws from the job pool (" + safeText(pool_->lane().auth()) +
                    ").\n");
        writeStatus(true);
    }

    // At the build's end: what it learned goes to the learned peaks, and
    // its lane and ledger entry go.
    void leavePool()
    {
        if (!pool_)
            return;
        auto learned = pool_->learn(observer_.peakByCrate(), killedUnits_);
        if (!learned)
            log_.append(
                "Headroom: the peaks this build saw could not be saved: " + safeText(learned.error()) + "\n");
        pool_.reset();
        status_.pool.granted = 0;
        status_.pool.inUse = 0;
        status_.pool.paused.clear();
        writeStatus(true);
    }

    // The unit cargo's output says was killed: rustc's crate, a build script's package.
    std::string killedUnit() const
    {
        std::vector<KilledProcessInfo> killed = output_.killed();
        killed.insert(killed.end(), messages_.killed().begin(), messages_.killed().end());
        for (const auto& k : killed) {
            if (!k.crate.empty() && k.crate != "build_script_build")
                return k.crate;
            const auto tick = k.line.find('`');
            if (tick == std::string::npos)
                continue;
            const auto endTick = k.line.find('`', tick + 1);
            std::string command = k.line.substr(tick + 1, endTick == std::string::npos ? std::string::npos
                                                                                       : endTick - tick - 1);
            command = command.substr(0, command.find(' '));
            if (const std::string package = buildScriptPackageOf(command); !package.empty())
                return "build-script:" + package;
        }
        return {};
    }

    // A pooled cargo step that the kernel killed for memory: the unit that
    // died is learned as killed at what it reached, and the step runs again
    // (cargo rebuilds only what is left) with that unit alone. At most twice.
    bool retryAfterOomKill(const BuildStep& step, const ChildExit& exit)
    {
        if (!pool_ || status_.stopRequested || (exit.exitCode && *exit.exitCode == 0))
            return false;
        if (status_.pool.oomRetries >= kMaxOomRetries ||
            fs::path(step.program).stem().string().rfind("cargo", 0) != 0)
            return false;
        // The kernel counts the kill before cargo ends; one fresh look at the counter.
        // The cgroup's counters as the step left them, as at the build's end.
        observer_.buildEnded();
        if (auto snapshot = sampler_->sample())
            observer_.observeAfterEnd(snapshot.value());
        RunEndFacts facts;
        facts.exitCode = exit.exitCode;
        facts.signal = exit.signal;
        const RunOutcome outcome =
            observer_.conclude(facts, RunPlanFacts::of(status_.spec), output_, messages_);
        if (outcome.diagnosis.verdict != BuildVerdict::OutOfMemory)
            return false;
        std::string unit = killedUnit();
        if (unit.empty())
            unit = pool_->largestJob().value_or(std::string());
        if (unit.empty()) {
            log_.append("Headroom: the build was killed for memory, but not which job: it is not built "
                        "again.\n");
            return false;
        }
        const auto seen = pool_->peaksSeen().find(unit);
        const std::uint64_t peak = seen != pool_->peaksSeen().end() ? seen->second : 0;
        if (peak > 0) {
            if (auto learned = pool_->learn({{unit, peak}}, {unit}); !learned)
                log_.append("Headroom: the killed job's peak could not be saved: " +
                            safeText(learned.error()) + "\n");
        }
        killedUnits_.push_back(unit);
        pool_->setExclusive(unit);
        ++status_.pool.oomRetries;
        status_.pool.retryCrate = unit;
        const std::string words = safeText(poolUnitWords(unit), 200);
        const bool script = unit.rfind("build-script:", 0) == 0;
        log_.append("Headroom: " + (script ? words : "rustc of " + words) + " was killed for memory" +
                    (peak > 0 ? " at " + formatBytes(peak) : std::string()) + "; building again with " +
                    (script ? std::string("it") : words) + " alone (retry " +
                    std::to_string(status_.pool.oomRetries) + " of " + std::to_string(kMaxOomRetries) +
                    ").\n");
        // What cargo says from here on is the new attempt's.
        output_ = CargoOutputParser();
        messages_ = CargoMessageParser();
        textLineLength_ = 0;
        writeStatus(true);
        return true;
    }
    void chooseContainment()
    {
        const RunSpec& spec = status_.spec;
        const ScopeProbe probe = probeUserScope();
        scoped_ = probe.available;
        const fs::path marker = runsDir_ / ".no-user-scope";
        std::error_code ec;
        if (scoped_) {
            fs::remove(marker, ec); // should it go away again, that is news again
            return;
        }
#ifdef _WIN32
        const std::string own = "a job object of its own"; // ChildProcess on Windows
#else
        const std::string own = "its own process group";
#endif
        status_.containment = own;
        // Said once per machine, not in every log.
        if (!fs::exists(marker, ec)) {
            log_.append("Headroom: builds run without a systemd user scope here (" + safeText(probe.reason) +
                        "); each build runs in " + own + " instead.\n");
            std::ofstream(marker) << safeText(probe.reason) << '\n';
        }
        if (spec.memoryHigh || spec.memoryMax)
            log_.append("Headroom: the memory limits asked for (MemoryHigh, MemoryMax) are not applied: "
                        "they need a systemd user scope.\n");
    }

    // Runs one process to its end, following its output and memory.
    ChildExit runChild(const ChildSpec& spec, bool cargoMessages)
    {
        RunStepStatus step;
        step.startedMs = nowMs();
        auto started = ChildProcess::start(spec);
        if (!started) {
            log_.append("Headroom: " + safeText(started.error()) + "\n");
            step.exitCode = 127;
            step.endedMs = nowMs();
            status_.steps.push_back(step);
            writeStatus(true);
            return ChildExit{127, std::nullopt};
        }
        std::unique_ptr<ChildProcess> child = std::move(started.value());
        const ProcessKey root = child->key();
        step.root = root;
        status_.steps.push_back(step);
        root_ = root;
        observer_.stepStarted(root);
        writeStatus(true);

        auto nextSample = Clock::now();
        std::optional<ChildExit> exit;
        for (;;) {
            checkStop();
            exit = child->wait();
            if (!exit)
                observer_.followCgroup(root);
            pump(cargoMessages);
            if (Clock::now() >= nextSample) {
                sample();
                nextSample = Clock::now() + (pool_ ? kPooledSamplePeriod : kSamplePeriod);
            }
            writeStatus(false);
            if (exit)
                break;
            child->wait(kLoopPeriod);
        }
        pump(cargoMessages, kChunksToDrain);
        if (cargoMessages)
            takeMessages(messages_.finish());
#ifdef _WIN32
        // Closing the job ends whatever the step left running.
        child->containment().terminate();
#endif
        if (stopping_) {
            const std::string summary = stopper_.join();
            if (!summary.empty())
                log_.append("Headroom: stopped by the user: " + summary + ".\n");
            stopping_ = false;
        }
        root_.reset();
        RunStepStatus& done = status_.steps.back();
        done.exitCode = exit->exitCode;
        done.signal = exit->signal;
        done.endedMs = nowMs();
        writeStatus(true);
        return *exit;
    }

    void checkStop()
    {
        if (status_.stopRequested)
            return;
        std::error_code ec;
        if (!stopSignalled() && !fs::exists(files_.stop, ec))
            return;
        status_.stopRequested = true;
        if (root_) {
            stopper_.stop(*root_, std::chrono::milliseconds(std::max<std::int64_t>(0, status_.spec.graceMs)));
            stopping_ = true;
        }
        writeStatus(true);
    }

    // New output: the terminal text (read back from the log, which the build
    // writes itself) and cargo's JSON messages (rendered into the log).
    void pump(bool cargoMessages, int maxChunks = kChunksPerPump)
    {
        // At most maxChunks reads of each file: a build that writes faster
        // than it is read must not keep the loop from its other duties.
        if (cargoMessages) {
            std::string bytes;
            for (int i = 0; i < maxChunks && !(bytes = messagesTail_.read()).empty(); ++i)
                takeMessages(messages_.feed(bytes));
        }
        std::string bytes;
        for (int i = 0; i < maxChunks && !(bytes = log_.readBuildBytes()).empty(); ++i)
            output_.feed(cutLongLines(bytes, textLineLength_));
        if (const auto& p = output_.progress()) {
            status_.done = p->done;
            status_.total = p->total;
            status_.compilingNow = p->compilingNow;
        }
        status_.waitingForLock = output_.waitingForLock();
        if (!status_.waitingForLock)
            status_.lockHolder.clear();
    }

    void takeMessages(const CargoMessageParser::Text& text)
    {
        // What is not a cargo message (a program's own output under cargo
        // run) is read like the terminal text.
        std::size_t length = 0; // whole lines only: each starts afresh
        output_.feedLines(cutLongLines(text.other, length));
        log_.append(text.log);
    }

    void sample()
    {
        auto snapshot = sampler_->sample();
        if (!snapshot)
            return;
        observer_.observe(snapshot.value(), root_);
        if (root_ && output_.waitingForLock())
            status_.lockHolder = safeText(lockHolderIn(snapshot.value(), *root_));
        if (pool_)
            steerPool(snapshot.value());
    }

    void steerPool(const Snapshot& snapshot)
    {
        AdaptivePool::Tick tick = pool_->tick(snapshot, root_, status_.compilingNow, nowMs());
        PoolStatus& p = status_.pool;
        tick.status.problem = p.problem;
        tick.status.oomRetries = p.oomRetries;
        tick.status.retryCrate = p.retryCrate;
        tick.status.parallelism = std::move(p.parallelism);
        p = std::move(tick.status);
        // One point per sample until the series is full; then every other
        // one is dropped and points come half as often.
        if (samplesSincePoint_++ % pointEvery_ == 0) {
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - runStart_).count();
            p.parallelism.emplace_back(std::int64_t(ms), p.inUse + 1);
            if (p.parallelism.size() >= kParallelismPoints) {
                std::vector<std::pair<std::int64_t, unsigned>> kept;
                for (std::size_t i = 0; i < p.parallelism.size(); i += 2)
                    kept.push_back(p.parallelism[i]);
                p.parallelism = std::move(kept);
                pointEvery_ *= 2;
                samplesSincePoint_ = 1;
            }
        }
        if (!tick.logLine.empty())
            log_.append(tick.logLine + ".\n");
    }

    void conclude(const RunEndFacts& last)
    {
        RunSpec& spec = status_.spec;
        output_.finish();
        status_.seconds = std::chrono::duration<double>(Clock::now() - runStart_).count();
        observer_.buildEnded();
        std::this_thread::sleep_for(kFinalSnapshotWait);
        if (auto snapshot = sampler_->sample())
            observer_.observeAfterEnd(snapshot.value());

        RunEndFacts end = last;
        end.cancelledByUser = status_.stopRequested;
#ifdef __APPLE__
        end.macOS = true;
#endif
        RunOutcome outcome = observer_.conclude(end, RunPlanFacts::of(spec), output_, messages_);
        if (status_.pool.oomRetries > 0) {
            const std::string words = safeText(poolUnitWords(status_.pool.retryCrate), 200);
            const std::string times = status_.pool.oomRetries == 1 ? "once" : "twice";
            BuildDiagnosis& d = outcome.diagnosis;
            if (d.verdict == BuildVerdict::Succeeded)
                d.summary = "The build succeeded after an OOM kill: Headroom built it again " + times +
                            ", with " + words + " alone.";
            else
                d.detail = (d.detail.empty() ? "" : d.detail + "\n") + "Headroom built it again " + times +
                           " after an OOM kill, with " + words + " alone.";
        }
        applyOutcome(status_, outcome);
        status_.exitCode = end.exitCode;
        status_.signal = end.signal;
        if (!outcome.ignoredNote.empty())
            log_.append(outcome.ignoredNote + "\n");

        if (outcome.diagnosis.verdict == BuildVerdict::Succeeded && !spec.request.thenRun.empty() &&
            !status_.stopRequested) {
            status_.step = int(spec.steps.size());
            ChildSpec then;
            then.argv = spec.request.thenRun;
            then.workingDir = spec.request.projectDir;
            then.stdoutFile = files_.log;
            then.stderrFile = files_.log;
            const ChildExit exit = runChild(then, false);
            status_.thenRunExitCode = exit.exitCode ? *exit.exitCode : 128 + exit.signal.value_or(0);
        }

        status_.state = RunState::Finished;
        status_.endedMs = nowMs();
        writeStatus(true);
        if (!spec.targetKind.empty()) {
            auto posted = postHistoryRecord(spec.historyPath, status_);
            if (!posted) {
                status_.problem = "The run could not be recorded in history: " + posted.error();
                writeStatus(true);
            }
        }
        std::error_code ec;
        fs::remove(files_.stdoutMessages, ec);
        fs::remove(files_.stop, ec);
        pruneRuns(runsDir_, kKeptRuns);
    }

    // Rewrites the status: always when forced, else when something changed
    // and not more often than kStatusPeriod.
    void writeStatus(bool force)
    {
        observer_.fillMemory(status_);
        const auto now = Clock::now();
        if (!force && now - lastWrite_ < kStatusPeriod)
            return;
        status_.updatedMs = 0;
        std::string shape = toJson(status_);
        if (!force && shape == lastShape_)
            return;
        lastShape_ = std::move(shape);
        lastWrite_ = now;
        status_.updatedMs = nowMs();
        auto written = writeStatusAtomically(statusPath_, status_);
        if (!written && !writeFailed_) {
            err_ << "headroom-cli supervise: " << written.error() << '\n';
            writeFailed_ = true;
        }
    }

    RunStatus status_;
    fs::path statusPath_;
    fs::path runsDir_;
    RunFiles files_;
    LogFile log_;
    FileTail messagesTail_;
    std::ostream& err_;
    std::unique_ptr<SystemSampler> sampler_;
    RunObserver observer_;
    CargoOutputParser output_;
    CargoMessageParser messages_;
    Stopper stopper_;
    bool stopping_ = false;
    bool scoped_ = false;
    std::size_t textLineLength_ = 0;
    std::optional<ProcessKey> root_;
    std::unique_ptr<AdaptivePool> pool_;
    std::vector<std::string> killedUnits_;
    std::size_t samplesSincePoint_ = 0;
    std::size_t pointEvery_ = 1;
    Clock::time_point runStart_ = Clock::now();
    Clock::time_point lastWrite_{};
    std::string lastShape_;
    bool writeFailed_ = false;
};

} // namespace

int runSupervise(const SuperviseOptions& options, const std::string& programName, std::ostream&,
                 std::ostream& err)
{
    const fs::path statusPath = fs::absolute(fs::path(options.statusPath));
    auto read = readStatusFile(statusPath);
    if (!read) {
        err << programName << " supervise: " << read.error() << '\n';
        return 2;
    }
    RunStatus status = std::move(read.value());
    const std::string id = status.spec.id;
    if (!isValidRunId(id) || statusPath.filename() != fs::path(id + ".json")) {
        err << programName << " supervise: " << statusPath.string() << " is not the status of run \""
            << safeText(id.substr(0, 64)) << "\": a run's status is <id>.json in the runs folder.\n";
        return 2;
    }
    const auto notWaiting = [&](const RunStatus& st) {
        err << programName << " supervise: run " << id << " is " << runStateId(st.state)
            << (st.supervisor ? ", supervised by pid " + std::to_string(st.supervisor->pid) : "")
            << ": it is not waiting for a supervisor, so it is left alone.\n";
        return 2;
    };
    if (status.state != RunState::Starting || status.supervisor)
        return notWaiting(status);
    // One supervisor per run, even when two are started at once: the first
    // holds a lock on the run's log for as long as it lives (the lock goes
    // with it, however it ends), and reads the status again once it has it.
    const RunLock lock(RunFiles::of(statusPath.parent_path(), id).log);
    if (!lock.held()) {
        err << programName << " supervise: run " << id << " has a supervisor already: it is left alone.\n";
        return 2;
    }
    auto again = readStatusFile(statusPath);
    if (!again) {
        err << programName << " supervise: " << again.error() << '\n';
        return 2;
    }
    if (again->state != RunState::Starting || again->supervisor)
        return notWaiting(again.value());
    status = std::move(again.value());
    prepareSignals();
    const auto self = platform::identify(platform::currentPid());
    status.supervisor = self ? self->key : ProcessKey{platform::currentPid(), 0};
    if (status.spec.steps.empty()) {
        status.state = RunState::Finished;
        status.startedMs = status.endedMs = status.updatedMs =
            std::int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
        BuildDiagnosis nothing;
        nothing.verdict = BuildVerdict::Failed;
        nothing.summary = "The run has no command to run.";
        status.diagnosis = nothing;
        status.problem = nothing.summary;
        [[maybe_unused]] const auto written = writeStatusAtomically(statusPath, status);
        err << programName << " supervise: run " << id << " has no command to run.\n";
        return 2;
    }
    return Supervisor(std::move(status), statusPath, err).run();
}

} // namespace headroom::cli
