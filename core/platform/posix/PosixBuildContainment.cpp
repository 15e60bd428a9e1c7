// SPDX-License-Identifier: GPL-3.0-or-later
// Build containment on POSIX systems: the build leads a process group.
#include "headroom/BuildContainment.h"
#include "headroom/Platform.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <unistd.h>

namespace headroom {

struct BuildContainment::State {
    std::optional<ProcessKey> leader; // its pid is the group's id
};

BuildContainment::BuildContainment() : state_(std::make_unique<State>()) {}
BuildContainment::~BuildContainment() = default;
BuildContainment::BuildContainment(BuildContainment&&) noexcept = default;
BuildContainment& BuildContainment::operator=(BuildContainment&&) noexcept = default;

std::uint32_t BuildContainment::creationFlags()
{
    return 0;
}

void BuildContainment::prepareChild() noexcept
{
    ::setpgid(0, 0);
}

ContainmentResult BuildContainment::attach(Pid pid)
{
    if (!state_)
        return {false, "This containment was moved away: make a new one for the build."};
    const std::string who = "process " + std::to_string(pid);
    if (pid <= 0 || pid == platform::currentPid())
        return {false, "Cannot contain " + who + ": it is not a started build."};
    // The parent's half of the usual pair: it works until the child calls
    // exec (EACCES after), and so closes the race with prepareChild().
    ::setpgid(static_cast<pid_t>(pid), static_cast<pid_t>(pid));
    const pid_t group = ::getpgid(static_cast<pid_t>(pid));
    const int error = errno;
    if (group < 0 && error == ESRCH)
        return {true, who + " has exited already: there is nothing left to contain."};
    if (group != static_cast<pid_t>(pid)) {
        return {false,
                "Cannot contain " + who + ": it is not the leader of its own process group (" +
                    (group < 0 ? std::string(std::strerror(error)) : "group " + std::to_string(group)) +
                    "). Stopping the build will stop its process tree one by one instead."};
    }
    const auto id = platform::identify(pid);
    if (!id)
        return {true, who + " has exited already: there is nothing left to contain."};
    state_->leader = id->key;
    return {true, who + " leads process group " + std::to_string(pid) + ", with every process it starts."};
}

ContainmentResult BuildContainment::terminate()
{
    if (!state_ || !state_->leader)
        return {false, "No build is contained: there is nothing to end."};
    const ProcessKey leader = *state_->leader;
    // While any member lives the group's id cannot be reused; once the group
    // is empty, a new process may get that pid and lead a group of its own.
    // A live process with the pid must be the leader we attached.
    if (const auto live = platform::identify(leader.pid); live && live->key.startTime != leader.startTime)
        return {false,
                "Process group " + std::to_string(leader.pid) + " ended; its id now names another process."};
    if (::killpg(static_cast<pid_t>(leader.pid), SIGKILL) != 0) {
        if (errno == ESRCH)
            return {true, "Every process of the build had ended already."};
        return {false, "Cannot end the build's processes: " + std::string(std::strerror(errno)) + "."};
    }
    return {true, "Every process of the build was ended."};
}

} // namespace headroom
