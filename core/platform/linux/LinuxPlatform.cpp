// SPDX-License-Identifier: GPL-3.0-or-later
// Linux side of the platform contract: identify processes from /proc and
// signal them through pidfds, so a pid reused after the check is never hit.
#include "PosixSignal.h"
#include "ProcFiles.h"
#include "ProcParsers.h"
#include "headroom/Platform.h"

#include <cstring>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

namespace headroom::platform {

namespace {

constexpr const char* kProc = "/proc";

std::optional<ProcessIdentity> identifyAt(int procFd, const char* pidName)
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
    return id;
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

} // namespace

std::optional<ProcessIdentity> identify(Pid pid)
{
    if (pid <= 0)
        return std::nullopt;
    procfs::Fd proc(::open(kProc, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc.valid())
        return std::nullopt;
    return identifyAt(proc.get(), std::to_string(pid).c_str());
}

std::vector<ProcessIdentity> listIdentities()
{
    std::vector<ProcessIdentity> out;
    DIR* dir = ::opendir(kProc);
    if (!dir)
        return out;
    const int procFd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        if (auto id = identifyAt(procFd, entry->d_name))
            out.push_back(std::move(*id));
    }
    ::closedir(dir);
    return out;
}

bool isAlive(const ProcessKey& key)
{
    return matches(identify(key.pid), key);
}

SignalResult sendSignal(const ProcessKey& key, ProcessAction action)
{
    const int sig = posix::signalFor(action);
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
    // Open a handle on whatever process holds the pid now, THEN check that it
    // is the one we mean: the handle cannot move to another process later.
    procfs::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(key.pid), 0)));
    if (pidfd.valid()) {
        if (!matches(identify(key.pid), key))
            return {ActionOutcome::AlreadyGone, {}};
        if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) == 0)
            return {ActionOutcome::Done, {}};
        return fromErrno(errno);
    }
    if (errno == ESRCH)
        return {ActionOutcome::AlreadyGone, {}};
        // ENOSYS: a kernel before 5.3; fall back to check-then-kill below.
#endif
    if (!matches(identify(key.pid), key))
        return {ActionOutcome::AlreadyGone, {}};
    if (::kill(static_cast<pid_t>(key.pid), sig) == 0)
        return {ActionOutcome::Done, {}};
    return fromErrno(errno);
}

} // namespace headroom::platform
