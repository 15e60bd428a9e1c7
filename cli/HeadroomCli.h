#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace headroom::cli {

// Runs one command line of the Qt-free interface (`sample`, `top`, `stop`).
// `args` excludes the program name. Returns the process exit code; writes
// results to `out` and problems to `err`. Shared by `headroom-cli` and the
// dashboard's `headroom sample|top|stop`, so both behave the same.
int run(const std::string& programName, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err);

// True when `firstArg` names one of the CLI's subcommands.
bool isCliCommand(const std::string& firstArg);

} // namespace headroom::cli
