// SPDX-License-Identifier: GPL-3.0-or-later
// Systems without systemd: no transient scope; the build runs as it is.
#include "headroom/UserScope.h"

namespace headroom {

ScopeProbeEnvironment ScopeProbeEnvironment::current()
{
    return {};
}

ScopeProbe probeUserScope(const ScopeProbeEnvironment&)
{
    return {false, "transient memory scopes need Linux with a systemd user manager"};
}

ScopeProbe probeUserScope()
{
    return probeUserScope(ScopeProbeEnvironment::current());
}

std::vector<std::string> scopedCommand(const ScopeOptions&, const std::vector<std::string>& argv)
{
    return argv;
}

} // namespace headroom
