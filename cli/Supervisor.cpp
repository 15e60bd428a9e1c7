// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/RunCommands.h"

#include <ostream>

namespace headroom::cli {

int runSupervise(const SuperviseOptions&, const std::string& programName, std::ostream&, std::ostream& err)
{
    err << programName << ": supervise is not available yet.\n";
    return 1;
}

} // namespace headroom::cli
