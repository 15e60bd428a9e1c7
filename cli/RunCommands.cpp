// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/RunCommands.h"

#include <ostream>

namespace headroom::cli {

int runRun(const RunOptions&, const std::string& programName, std::ostream&, std::ostream& err)
{
    err << programName << ": run is not available yet.\n";
    return 1;
}

int runRuns(const RunsOptions&, const std::string& programName, std::ostream&, std::ostream& err)
{
    err << programName << ": runs is not available yet.\n";
    return 1;
}

} // namespace headroom::cli
