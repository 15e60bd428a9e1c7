// SPDX-License-Identifier: GPL-3.0-or-later
// The Linux backend: one pass over procfs per snapshot. Each /proc/<pid>
// directory is opened once and read relative to its descriptor, so all the
// files read belong to the same process even if its pid is reused meanwhile.
#include "PosixUsers.h"
#include "ProcFiles.h"
#include "ProcParsers.h"
#include "headroom/SystemSampler.h"

#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>

namespace headroom {

namespace {

using procfs::Fd;

// What does not change while a process runs the same program: read once.
struct StaticInfo {
    std::string comm; // changes on exec, which also changes everything below
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    std::optional<std::string> cargoTargetDir;
    std::uint32_t uid = 0;
    std::uint64_t image = 0; // execImage() when it was read
    bool complete = false;   // false: read again next time
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
    explicit LinuxSampler(SamplerOptions options) : SystemSampler(std::move(options)) {}

  protected:
    Result<Snapshot> collect() override;
    MachineFacts readMachineFacts() override;

  private:
    bool scanProcess(int procFd, const char* pidName, ProcessSample& out);
    bool readStatics(int procFd, const char* pidName, const procfs::StatFields& stat, StaticInfo& info);
    std::string rootPath(const char* relative) const { return (options().procRoot / relative).string(); }

    StaticCache<StaticInfo> statics_;
    posix::UserNames users_;
    std::string scratch_;
};

MachineFacts LinuxSampler::readMachineFacts()
{
    MachineFacts facts;
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0)
        facts.pageSize = static_cast<std::uint64_t>(page);
    // /proc counts CPU and start times in clock ticks (USER_HZ, 100 almost
    // everywhere, which divides a second's nanoseconds exactly).
    const long ticks = ::sysconf(_SC_CLK_TCK);
    facts.cpuTimeNumer = 1'000'000'000ull / (ticks > 0 ? static_cast<std::uint64_t>(ticks) : 100);
    // The boot time of the tree sampled, which a fixture records too.
    if (procfs::readFileAt(AT_FDCWD, rootPath("stat").c_str(), scratch_) == 0) {
        if (auto boot = procfs::parseBootTime(scratch_))
            facts.bootTimeMs = *boot * 1000;
    }
    return facts;
}

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

    snapshot.processes.reserve(statics_.size() + 64);
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        ProcessSample sample;
        if (scanProcess(procFd, entry->d_name, sample))
            snapshot.processes.push_back(std::move(sample));
    }
    ::closedir(dir);
    statics_.sweep(); // the cache follows the live table
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
    const ProcessKey key{stat->pid, stat->startTimeTicks};
    StaticInfo* found = statics_.find(key);
    bool known = found && found->complete && found->comm == stat->comm && found->image == image;
    if (known && image == 0 && !stat->kernelThread()) {
        // No image to compare: the executable at least changes with most exec()s.
        std::string exe;
        char link[64];
        std::snprintf(link, sizeof link, "%s/exe", pidName);
        if (procfs::readLinkAt(procFd, link, exe) == 0 && exe != found->exe)
            known = false;
    }
    if (!known) {
        StaticInfo fresh;
        if (found)
            fresh.attempts = found->attempts;
        if (!readStatics(procFd, pidName, *stat, fresh)) {
            statics_.forget(stat->pid);
            return false;
        }
        found = &statics_.store(key, std::move(fresh));
    }
    const StaticInfo& info = *found;
    const MachineFacts& facts = machine();

    out.key = key;
    out.parentPid = stat->parentPid;
    out.uid = info.uid;
    out.user = users_.userName(info.uid);
    out.state = procfs::stateFromLetter(stat->state);
    out.kernelThread = stat->kernelThread();
    out.residentBytes = stat->rssPages * facts.pageSize;
    out.cpuTimeNs = facts.cpuTimeNs(stat->utimeTicks + stat->stimeTicks);
    out.threads = stat->threads;
    if (facts.bootTimeMs)
        out.startedAtMs =
            *facts.bootTimeMs + static_cast<std::int64_t>(facts.cpuTimeNs(stat->startTimeTicks) / 1'000'000);
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

} // namespace

std::unique_ptr<SystemSampler> SystemSampler::create(SamplerOptions options)
{
    return std::make_unique<LinuxSampler>(std::move(options));
}

} // namespace headroom
