#pragma once

#include "headroom/Snapshot.h"

#include <cstddef>
#include <string>

namespace headroom::cli {

struct TopOptions {
    std::size_t limit = 20;  // process rows
    bool buildsOnly = false; // only build and test processes
    std::size_t width = 120; // characters per line
};

// A `free -h` style memory line, the build trees, role totals and the
// heaviest processes, like `ps aux --sort=-%mem | head` with roles.
std::string renderTop(const Snapshot& snapshot, const TopOptions& options);

// The memory summary lines alone.
std::string renderMemorySummary(const Snapshot& snapshot);

// Control characters and broken UTF-8 replaced, so a hostile process name
// cannot garble the terminal.
std::string printable(std::string_view text);

} // namespace headroom::cli
