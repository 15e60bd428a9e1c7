// SPDX-License-Identifier: GPL-3.0-or-later
// What every system's lane shares: the environment and the arguments that
// make a step draw from it. Placeholder.
#include "headroom/JobLane.h"

namespace headroom {

JobserverEnvironment jobserverEnvironment(const std::string& makeflags)
{
    JobserverEnvironment env;
    env.set["MAKEFLAGS"] = makeflags;
    env.set["CARGO_MAKEFLAGS"] = makeflags;
    env.unset = {"MFLAGS", "CARGO_BUILD_JOBS"};
    return env;
}

std::vector<std::string> withoutJobsArguments(const std::string&, const std::vector<std::string>& args,
                                              std::vector<std::string>*)
{
    return args;
}

} // namespace headroom
