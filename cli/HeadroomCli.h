// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "cli/TopTable.h"
#include "headroom/Process.h"

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace headroom::cli {

// The CLI's commands, shared by `headroom-cli` and `headroom`. Their options
// are parsed and checked by cli/CommandLine; these run them and return the
// exit code, writing results to `out` and problems to `err`.

struct SampleOptions {
    bool json = false;
    bool pretty = false;
    double intervalSeconds = 0.5;
};

struct TopCommandOptions {
    TopOptions table;
    double intervalSeconds = 0.5;
};

struct StopOptions {
    std::optional<Pid> pid;
    std::optional<std::uint64_t> startTime;
    bool tree = false;
    std::string signal = "term"; // pause, resume, term or kill
    double graceSeconds = 3.0;
    bool json = false;
    bool extraBuilds = false;
    bool yes = false;
    std::string within; // --in
};

int runSample(const SampleOptions& options, const std::string& programName, std::ostream& out,
              std::ostream& err);
int runTop(const TopCommandOptions& options, const std::string& programName, std::ostream& out,
           std::ostream& err);
int runStop(const StopOptions& options, const std::string& programName, std::ostream& out, std::ostream& err);

// The terminal's width for `top` (COLUMNS, else 120 when not a terminal).
std::size_t terminalWidth();

} // namespace headroom::cli
