// SPDX-License-Identifier: GPL-3.0-or-later
// macOS side of the platform contract, from libproc. A process is named by its
// pid and its start time (microseconds since the epoch, from PROC_PIDTBSDINFO).
// macOS has no pidfd: the start time is re-checked immediately before kill(),
// which leaves only the instant between the two calls for a pid to be reused.
#include "MacProc.h"
#include "PosixSignal.h"
#include "headroom/Platform.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace headroom::platform {

namespace {

ProcessIdentity identityOf(Pid pid, const proc_bsdinfo& info)
{
    ProcessIdentity id;
    id.key = ProcessKey{pid, mac::startTimeOf(info)};
    id.parentPid = info.pbi_ppid;
    id.uid = info.pbi_uid;
    id.name = mac::nameOf(info);
    id.state = mac::stateOf(info);
    id.kernelThread = pid == 0; // kernel_task
    return id;
}

} // namespace

std::optional<ProcessIdentity> identify(Pid pid, const std::filesystem::path& /* procRoot: Linux only */)
{
    proc_bsdinfo info{};
    if (pid < 0 || !mac::bsdInfo(pid, info))
        return std::nullopt;
    return identityOf(pid, info);
}

std::vector<ProcessIdentity> listIdentities(const std::filesystem::path& /* procRoot: Linux only */)
{
    std::vector<ProcessIdentity> out;
    for (pid_t pid : mac::allPids()) {
        proc_bsdinfo info{};
        if (mac::bsdInfo(pid, info))
            out.push_back(identityOf(pid, info));
    }
    return out;
}

bool isAlive(const ProcessKey& key, const std::filesystem::path& /* procRoot: Linux only */)
{
    auto live = identify(key.pid);
    return live && live->key.startTime == key.startTime && live->state != ProcessState::Zombie;
}

SignalResult sendSignal(const ProcessKey& key, ProcessAction action, const SignalExpectation& expected)
{
    auto live = identify(key.pid);
    if (!live || live->key.startTime != key.startTime || live->state == ProcessState::Zombie)
        return {ActionOutcome::AlreadyGone, {}};
    if (!expected.exe.empty()) {
        char path[PROC_PIDPATHINFO_MAXSIZE];
        if (proc_pidpath(static_cast<pid_t>(key.pid), path, sizeof path) > 0 && expected.exe != path)
            return {ActionOutcome::Refused, "pid " + std::to_string(key.pid) +
                                                " is another process now: it runs " + path + ", not " +
                                                expected.exe};
    }
    if (!expected.name.empty() && expected.name != live->name)
        return {ActionOutcome::Refused, "pid " + std::to_string(key.pid) +
                                            " is another process now: it is called " + live->name +
                                            ", not " + expected.name};
    if (::kill(static_cast<pid_t>(key.pid), posix::signalFor(action)) == 0)
        return {ActionOutcome::Done, {}};
    const int error = errno;
    if (error == ESRCH)
        return {ActionOutcome::AlreadyGone, {}};
    if (error == EPERM)
        return {ActionOutcome::NotPermitted, std::strerror(error)};
    return {ActionOutcome::Failed, std::strerror(error)};
}

std::vector<ProcessKey> waitForExit(const std::vector<ProcessKey>& keys, std::chrono::milliseconds timeout)
{
    // No pidfd here: look at each in turn until all are gone or the time is up.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<ProcessKey> alive = keys;
    for (;;) {
        std::erase_if(alive, [](const ProcessKey& key) { return !isAlive(key); });
        if (alive.empty() || std::chrono::steady_clock::now() >= deadline)
            return alive;
        ::usleep(10'000);
    }
}

} // namespace headroom::platform
