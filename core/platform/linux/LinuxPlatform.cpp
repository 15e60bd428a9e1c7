// SPDX-License-Identifier: GPL-3.0-or-later
// Linux side of the platform contract: identify processes from procfs and
// signal them through pidfds, so a pid reused after the check is never hit.
// Every reader takes the proc root it reads (tests pass recorded trees);
// signals and waits go to live processes, through the system's own /proc.
#include "PosixSignal.h"
#include "ProcFiles.h"
#include "ProcParsers.h"
#include "headroom/Platform.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace headroom::platform {

namespace {

enum Detail : unsigned { kStatOnly = 0, kThreadGroup = 1, kExe = 2, kFull = 3 };

// kThreadGroup: for a thread id, the process it belongs to; kExe: the
// executable. A few more reads each, so only for one process at a time.
std::optional<ProcessIdentity> identifyAt(int procFd, const char* pidName, unsigned detail)
{
    procfs::Fd dir(::openat(procFd, pidName, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid())
        return std::nullopt;
    char buffer[1024];
    const ssize_t n = procfs::readSmallFileAt(dir.get(), "stat", buffer, sizeof buffer);
    if (n <= 0)
        return std::nullopt;
    auto stat = procfs::parseStat(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (!stat)
        return std::nullopt;
    ProcessIdentity id;
    id.key = ProcessKey{stat->pid, stat->startTimeTicks};
    id.parentPid = stat->parentPid;
    id.name = stat->comm;
    id.state = procfs::stateFromLetter(stat->state);
    id.kernelThread = stat->kernelThread();
    struct stat info {};
    if (::fstat(dir.get(), &info) == 0)
        id.uid = info.st_uid;
    if (detail & kThreadGroup) {
        // readdir() on /proc lists processes only, but /proc/<tid> opens for
        // any thread id too, and its stat then describes the thread.
        std::string status;
        if (procfs::readFileAt(dir.get(), "status", status, 1u << 16) == 0) {
            const auto at = status.find("\nTgid:");
            if (at != std::string::npos) {
                const Pid group = std::strtoll(status.c_str() + at + 6, nullptr, 10);
                if (group > 0 && group != id.key.pid)
                    id.threadOf = group;
            }
        }
    }
    if ((detail & kExe) && !id.kernelThread)
        procfs::readLinkAt(dir.get(), "exe", id.exe);
    return id;
}

std::optional<ProcessIdentity> identifyPid(const std::filesystem::path& procRoot, Pid pid, unsigned detail)
{
    if (pid <= 0)
        return std::nullopt;
    procfs::Fd proc(::open(procRoot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc.valid())
        return std::nullopt;
    return identifyAt(proc.get(), std::to_string(pid).c_str(), detail);
}

SignalResult fromErrno(int error)
{
    if (error == ESRCH)
        return {ActionOutcome::AlreadyGone, {}};
    if (error == EPERM || error == EACCES)
        return {ActionOutcome::NotPermitted, std::strerror(error)};
    return {ActionOutcome::Failed, std::strerror(error)};
}

// Still the process `key` names, and not yet exited?
bool matches(const std::optional<ProcessIdentity>& live, const ProcessKey& key)
{
    return live && live->key.startTime == key.startTime && live->state != ProcessState::Zombie;
}

// The kernel marks the executable of a running program that was replaced on
// disk (cargo install, a package upgrade): still the same program.
std::string_view withoutDeleted(std::string_view exe)
{
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.ends_with(kDeleted))
        exe.remove_suffix(kDeleted.size());
    return exe;
}

SignalResult threadRefusal(Pid tid, Pid process)
{
    return {ActionOutcome::Refused, "pid " + std::to_string(tid) + " is a thread of process " +
                                        std::to_string(process) + "; stop the process instead"};
}

// Why the live process is not the one the caller means, or nullopt.
std::optional<SignalResult> mismatch(const std::optional<ProcessIdentity>& live, const ProcessKey& key,
                                     const SignalExpectation& expected)
{
    if (!matches(live, key))
        return SignalResult{ActionOutcome::AlreadyGone, {}};
    if (live->threadOf != 0)
        return threadRefusal(key.pid, live->threadOf);
    if (!expected.exe.empty() && !live->exe.empty() &&
        withoutDeleted(expected.exe) != withoutDeleted(live->exe)) {
        return SignalResult{ActionOutcome::Refused, "pid " + std::to_string(key.pid) +
                                                        " is another process now: it runs " + live->exe +
                                                        ", not " + expected.exe};
    }
    if (!expected.name.empty() && expected.name != live->name) {
        return SignalResult{ActionOutcome::Refused, "pid " + std::to_string(key.pid) +
                                                        " is another process now: it is called " +
                                                        live->name + ", not " + expected.name};
    }
    return std::nullopt;
}

#if defined(SYS_pidfd_open)
int openPidfd(Pid pid)
{
    return static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
}
#endif

} // namespace

std::optional<ProcessIdentity> identify(Pid pid, const std::filesystem::path& procRoot)
{
    return identifyPid(procRoot, pid, kFull);
}

std::vector<ProcessIdentity> listIdentities(const std::filesystem::path& procRoot)
{
    std::vector<ProcessIdentity> out;
    DIR* dir = ::opendir(procRoot.c_str());
    if (!dir)
        return out;
    const int procFd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        if (auto id = identifyAt(procFd, entry->d_name, kStatOnly))
            out.push_back(std::move(*id));
    }
    ::closedir(dir);
    return out;
}

bool isAlive(const ProcessKey& key, const std::filesystem::path& procRoot)
{
    return matches(identifyPid(procRoot, key.pid, kStatOnly), key);
}

SignalResult sendSignal(const ProcessKey& key, ProcessAction action, const SignalExpectation& expected)
{
    const int sig = posix::signalFor(action);
    if (key.pid <= 0)
        return {ActionOutcome::Refused, "pid " + std::to_string(key.pid) + " does not name a single process"};
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
    // Open a handle on whatever process holds the pid now, THEN check that it
    // is the one we mean: the handle cannot move to another process later.
    procfs::Fd pidfd(openPidfd(key.pid));
    if (pidfd.valid()) {
        // pidfd_open() takes process ids only, so this is no thread.
        if (auto wrong =
                mismatch(identifyPid(kSystemProcRoot, key.pid, expected.exe.empty() ? kStatOnly : kExe), key,
                         expected))
            return *wrong;
        if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) == 0)
            return {ActionOutcome::Done, {}};
        return fromErrno(errno);
    }
    const int error = errno;
    if (error == ESRCH)
        return {ActionOutcome::AlreadyGone, {}};
    if (error != ENOSYS) {
        // pidfd_open() takes process ids only (EINVAL, or ENOENT on newer
        // kernels, for a thread id); kill() on a thread id would signal the
        // whole process behind it, past every check made here.
        auto live = identify(key.pid, kSystemProcRoot);
        if (live && live->threadOf != 0)
            return threadRefusal(key.pid, live->threadOf);
        if (error == ENOENT)
            return {ActionOutcome::AlreadyGone, {}};
    }
    if (error != ENOSYS)
        return fromErrno(error);
        // ENOSYS: a kernel before 5.3; only then check-then-kill below.
#endif
    if (auto wrong = mismatch(identify(key.pid, kSystemProcRoot), key, expected))
        return *wrong;
    if (::kill(static_cast<pid_t>(key.pid), sig) == 0)
        return {ActionOutcome::Done, {}};
    return fromErrno(errno);
}

std::vector<ProcessKey> waitForExit(const std::vector<ProcessKey>& keys, std::chrono::milliseconds timeout)
{
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    const auto remainingMs = [&] {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        return left.count() > 0 ? static_cast<int>(std::min<long long>(left.count(), 1000)) : 0;
    };
    std::vector<ProcessKey> unwatched; // no pidfd for them: looked at in turn
    // A pidfd becomes readable when its process exits. They are watched in
    // batches so a tree of thousands stays well inside the descriptor limit;
    // every process was signalled already, so waiting batch after batch costs
    // no more than waiting for all at once.
    constexpr std::size_t kBatch = 256;
    for (std::size_t from = 0; from < keys.size(); from += kBatch) {
        std::vector<procfs::Fd> fds;
        std::vector<pollfd> polls;
        std::vector<ProcessKey> watched; // parallel to fds
        const std::size_t to = std::min(keys.size(), from + kBatch);
        for (std::size_t i = from; i < to; ++i) {
#if defined(SYS_pidfd_open)
            procfs::Fd fd(openPidfd(keys[i].pid));
            if (!fd.valid()) {
                if (errno != ESRCH)
                    unwatched.push_back(keys[i]);
                continue;
            }
            // Opened on the pid: only good if it is still the process meant.
            if (!isAlive(keys[i], kSystemProcRoot))
                continue;
            polls.push_back(pollfd{fd.get(), POLLIN, 0});
            fds.push_back(std::move(fd));
            watched.push_back(keys[i]);
#else
            unwatched.push_back(keys[i]);
#endif
        }
        while (!polls.empty()) {
            const int ready = ::poll(polls.data(), polls.size(), remainingMs());
            if (ready < 0 && errno != EINTR)
                break;
            std::erase_if(polls,
                          [](const pollfd& p) { return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0; });
            if (ready == 0 && remainingMs() == 0)
                break;
        }
        for (const auto& p : polls) {
            for (std::size_t k = 0; k < fds.size(); ++k) {
                if (fds[k].get() == p.fd)
                    unwatched.push_back(watched[k]);
            }
        }
    }
    std::vector<ProcessKey> alive;
    for (;;) {
        alive.clear();
        for (const auto& key : unwatched) {
            if (isAlive(key, kSystemProcRoot))
                alive.push_back(key);
        }
        if (alive.empty() || remainingMs() == 0)
            return alive;
        unwatched = alive;
        ::usleep(10'000);
    }
}

} // namespace headroom::platform
