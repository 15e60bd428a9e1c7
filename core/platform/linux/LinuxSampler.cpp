// SPDX-License-Identifier: GPL-3.0-or-later
// The Linux backend: one pass over procfs per snapshot. Each /proc/<pid>
// directory is opened once and read relative to its descriptor, so all the
// files read belong to the same process even if its pid is reused meanwhile.
#include "ProcFiles.h"
#include "ProcParsers.h"
#include "headroom/SystemSampler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unordered_map>

namespace headroom {

namespace {

using procfs::Fd;

// What does not change while a process runs the same program: read once.
struct StaticInfo {
    std::uint64_t startTimeTicks = 0;
    std::string comm; // changes on exec, which also changes everything below
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    std::optional<std::string> cargoTargetDir;
    std::uint32_t uid = 0;
    std::uint64_t image = 0; // execImage() when it was read
    std::uint64_t generation = 0;
    bool complete = false; // false: read again next time
    int attempts = 0;
};

// exec() keeps the pid, the start time and, for the same program, the name;
// it gives the process a new stack, so the stack's start and where argv lies
// (fields 28, 48 and 49 of stat) tell one image from the next. Zero when the
// kernel hides them (another user's process without ptrace access).
std::uint64_t execImage(std::string_view stat)
{
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return 0;
    std::uint64_t startStack = 0;
    std::uint64_t argStart = 0;
    std::uint64_t argEnd = 0;
    int field = 2;
    std::size_t at = close + 1;
    while (at < stat.size() && field < 49) {
        while (at < stat.size() && stat[at] == ' ')
            ++at;
        std::size_t end = at;
        while (end < stat.size() && stat[end] != ' ' && stat[end] != '\n')
            ++end;
        ++field;
        std::uint64_t value = 0;
        if (field == 28 || field == 48 || field == 49) {
            for (std::size_t k = at; k < end && stat[k] >= '0' && stat[k] <= '9'; ++k)
                value = value * 10 + static_cast<std::uint64_t>(stat[k] - '0');
        }
        if (field == 28)
            startStack = value;
        else if (field == 48)
            argStart = value;
        else if (field == 49)
            argEnd = value;
        at = end;
    }
    if (startStack == 0 && argStart == 0)
        return 0;
    return startStack ^ (argStart * 0x9E3779B97F4A7C15ull) ^ (argEnd << 1);
}

class LinuxSampler final : public SystemSampler {
  public:
    explicit LinuxSampler(SamplerOptions options) : SystemSampler(std::move(options))
    {
        const long ticks = ::sysconf(_SC_CLK_TCK);
        ticksPerSecond_ = ticks > 0 ? static_cast<std::uint64_t>(ticks) : 100;
        const long page = ::sysconf(_SC_PAGESIZE);
        pageSize_ = page > 0 ? static_cast<std::uint64_t>(page) : 4096;
    }

  protected:
    Result<Snapshot> collect() override;

  private:
    bool scanProcess(int procFd, const char* pidName, ProcessSample& out);
    bool readStatics(int procFd, const char* pidName, const procfs::StatFields& stat, StaticInfo& info);
    const std::string& userName(std::uint32_t uid);
    std::string rootPath(const char* relative) const { return (options().procRoot / relative).string(); }

    std::uint64_t ticksPerSecond_ = 100;
    std::uint64_t pageSize_ = 4096;
    std::optional<std::int64_t> bootTime_;
    std::uint64_t generation_ = 0;
    std::unordered_map<Pid, StaticInfo> statics_;
    std::unordered_map<std::uint32_t, std::string> users_;
    std::string scratch_;
};

Result<Snapshot> LinuxSampler::collect()
{
    Snapshot snapshot;

    const std::string root = options().procRoot.string();
    DIR* dir = ::opendir(root.c_str());
    if (!dir) {
        return Result<Snapshot>::failure(
            "Cannot open " + root + ": " + std::strerror(errno) +
            ". Headroom reads memory and processes from procfs; mount it at /proc.");
    }
    const int procFd = ::dirfd(dir);

    if (int error = procfs::readFileAt(procFd, "meminfo", scratch_)) {
        ::closedir(dir);
        return Result<Snapshot>::failure("Cannot read " + rootPath("meminfo") + ": " + std::strerror(error) +
                                         ".");
    }
    if (!procfs::parseMeminfo(scratch_, snapshot.memory)) {
        ::closedir(dir);
        return Result<Snapshot>::failure(rootPath("meminfo") +
                                         " has no MemTotal line; it is not a Linux meminfo file.");
    }

    if (procfs::readFileAt(procFd, "pressure/memory", scratch_) == 0) {
        if (auto pressure = procfs::parsePressure(scratch_))
            snapshot.memory.pressure = *pressure;
    }
    if (!snapshot.memory.pressure.available) {
        snapshot.notes.push_back(
            rootPath("pressure/memory") +
            " is missing or unreadable: this kernel reports no memory pressure (PSI), so "
            "levels rely on available memory and swap alone.");
    }
    if (procfs::readFileAt(procFd, "vmstat", scratch_) == 0)
        snapshot.memory.oomKillCount = procfs::parseOomKillCount(scratch_);
    if (procfs::readFileAt(procFd, "uptime", scratch_) == 0)
        snapshot.uptimeSeconds = procfs::parseUptime(scratch_).value_or(0.0);
    if (!bootTime_ && procfs::readFileAt(procFd, "stat", scratch_) == 0)
        bootTime_ = procfs::parseBootTime(scratch_);

    ++generation_;
    snapshot.processes.reserve(statics_.size() + 64);
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        ProcessSample sample;
        if (scanProcess(procFd, entry->d_name, sample))
            snapshot.processes.push_back(std::move(sample));
    }
    ::closedir(dir);

    // Forget processes that are gone, so the cache follows the live table.
    std::erase_if(statics_, [&](const auto& item) { return item.second.generation != generation_; });

    if (!std::is_sorted(
            snapshot.processes.begin(), snapshot.processes.end(),
            [](const ProcessSample& a, const ProcessSample& b) { return a.key.pid < b.key.pid; })) {
        std::sort(snapshot.processes.begin(), snapshot.processes.end(),
                  [](const ProcessSample& a, const ProcessSample& b) { return a.key.pid < b.key.pid; });
    }
    return Result<Snapshot>::success(std::move(snapshot));
}

bool LinuxSampler::scanProcess(int procFd, const char* pidName, ProcessSample& out)
{
    // A process seen before needs only its stat, read straight off /proc: one
    // open, one read, one close. Everything else about it is known already.
    char path[64];
    std::snprintf(path, sizeof path, "%s/stat", pidName);
    char buffer[1024];
    const ssize_t n = procfs::readSmallFileAt(procFd, path, buffer, sizeof buffer);
    if (n <= 0)
        return false; // gone already
    auto stat = procfs::parseStat(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (!stat)
        return false;

    const std::uint64_t image = execImage(std::string_view(buffer, static_cast<std::size_t>(n)));
    auto found = statics_.find(stat->pid);
    bool known = found != statics_.end() && found->second.complete &&
                 found->second.startTimeTicks == stat->startTimeTicks && found->second.comm == stat->comm &&
                 found->second.image == image;
    if (known && image == 0 && !stat->kernelThread()) {
        // No image to compare: the executable at least changes with most exec()s.
        std::string exe;
        char link[64];
        std::snprintf(link, sizeof link, "%s/exe", pidName);
        if (procfs::readLinkAt(procFd, link, exe) == 0 && exe != found->second.exe)
            known = false;
    }
    if (!known) {
        StaticInfo fresh;
        if (found != statics_.end() && found->second.startTimeTicks == stat->startTimeTicks)
            fresh.attempts = found->second.attempts;
        if (!readStatics(procFd, pidName, *stat, fresh)) {
            if (found != statics_.end())
                statics_.erase(found);
            return false;
        }
        found = statics_.insert_or_assign(stat->pid, std::move(fresh)).first;
    }
    StaticInfo& info = found->second;
    info.generation = generation_;

    out.key = ProcessKey{stat->pid, stat->startTimeTicks};
    out.parentPid = stat->parentPid;
    out.uid = info.uid;
    out.user = userName(info.uid);
    out.state = procfs::stateFromLetter(stat->state);
    out.kernelThread = stat->kernelThread();
    out.residentBytes = stat->rssPages * pageSize_;
    out.cpuTimeNs = (stat->utimeTicks + stat->stimeTicks) * (1'000'000'000ull / ticksPerSecond_);
    out.threads = stat->threads;
    if (bootTime_)
        out.startedAtMs =
            *bootTime_ * 1000 + static_cast<std::int64_t>(stat->startTimeTicks * 1000 / ticksPerSecond_);
    out.name = info.comm;
    out.exe = info.exe;
    out.argv = info.argv;
    out.cwd = info.cwd;
    out.cargoTargetDir = info.cargoTargetDir;
    return true;
}

bool LinuxSampler::readStatics(int procFd, const char* pidName, const procfs::StatFields& stat,
                               StaticInfo& info)
{
    // Through the process's directory, so every file read belongs to the same
    // process even if its pid is reused meanwhile.
    Fd dir(::openat(procFd, pidName, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid())
        return false;
    struct stat owner {};
    if (::fstat(dir.get(), &owner) != 0)
        return false;
    char buffer[1024];
    const ssize_t n = procfs::readSmallFileAt(dir.get(), "stat", buffer, sizeof buffer);
    const auto again = n > 0 ? procfs::parseStat(std::string_view(buffer, std::size_t(n))) : std::nullopt;
    if (!again || again->startTimeTicks != stat.startTimeTicks)
        return false; // not the process whose stat we parsed: next time

    info.startTimeTicks = stat.startTimeTicks;
    info.comm = again->comm;
    info.image = execImage(std::string_view(buffer, static_cast<std::size_t>(n)));
    info.uid = owner.st_uid;
    info.complete = true;
    const bool hasProgram =
        !stat.kernelThread() && procfs::stateFromLetter(stat.state) != ProcessState::Zombie;
    if (!hasProgram)
        return true;

    int missing = 0;
    const auto note = [&](int error) {
        if (procfs::vanished(error))
            missing = error;
    };
    note(procfs::readLinkAt(dir.get(), "exe", info.exe));
    if (int error = procfs::readFileAt(dir.get(), "cmdline", scratch_); error == 0)
        info.argv = procfs::parseCmdline(scratch_);
    else
        note(error);
    note(procfs::readLinkAt(dir.get(), "cwd", info.cwd));
    if (missing != 0) {
        // ENOENT can also mean "no such link for this process"; only a failed
        // re-read of stat proves the process is gone.
        if (procfs::readSmallFileAt(dir.get(), "stat", buffer, sizeof buffer) <= 0)
            return false;
    }
    // Caught in the middle of exec, a process has no arguments yet: look
    // again next time (a few times; some processes really do clear them).
    if (info.argv.empty() && ++info.attempts < 4)
        info.complete = false;
    if (programBaseName(info.exe) == "cargo" ||
        (!info.argv.empty() && programBaseName(info.argv.front()) == "cargo")) {
        if (procfs::readFileAt(dir.get(), "environ", scratch_) == 0)
            info.cargoTargetDir = procfs::findEnvironmentValue(scratch_, "CARGO_TARGET_DIR");
    }
    return true;
}

const std::string& LinuxSampler::userName(std::uint32_t uid)
{
    auto it = users_.find(uid);
    if (it != users_.end())
        return it->second;
    std::string name;
    passwd entry{};
    passwd* result = nullptr;
    char buffer[4096];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &result) == 0 && result)
        name = result->pw_name;
    else
        name = std::to_string(uid);
    return users_.emplace(uid, std::move(name)).first->second;
}

} // namespace

std::unique_ptr<SystemSampler> SystemSampler::create(SamplerOptions options)
{
    return std::make_unique<LinuxSampler>(std::move(options));
}

} // namespace headroom
