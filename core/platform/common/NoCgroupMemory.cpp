// SPDX-License-Identifier: GPL-3.0-or-later
// Systems without cgroups: a build has no memory cgroup to read.
#include "headroom/CgroupMemory.h"

namespace headroom {

std::optional<CgroupMemoryState> readProcessCgroupMemory(Pid, const std::string&, const std::string&)
{
    return std::nullopt;
}

std::optional<CgroupMemoryState> readCgroupMemory(const std::string&, bool)
{
    return std::nullopt;
}

} // namespace headroom

namespace headroom {

std::optional<CgroupMemoryState> readOwnCgroupMemory(const std::string&, const std::string&)
{
    return std::nullopt;
}

} // namespace headroom
