// SPDX-License-Identifier: GPL-3.0-or-later
// The parts of the platform contract that are the same on every POSIX system.
#include "headroom/Platform.h"

#include <unistd.h>

namespace headroom::platform {

Pid currentPid()
{
    return ::getpid();
}

std::uint32_t currentUid()
{
    return ::geteuid();
}

} // namespace headroom::platform
