#pragma once

#include "headroom/Snapshot.h"

#include <filesystem>
#include <string>

namespace headroom {

// Resolves a cargo workspace root: the topmost folder at or above `start` whose
// Cargo.toml declares [workspace] and includes start, else the nearest folder
// with a Cargo.toml, else `start` itself. Paths are read under `fsRoot` (a
// fixture root in tests, "/" live).
std::string findCargoWorkspace(const std::string& start, const std::filesystem::path& fsRoot = "/");

// Groups the classified processes of a snapshot into build trees, flags
// duplicate builds and fills role totals. Needs processes sorted by pid.
void assembleBuilds(Snapshot& snapshot, const std::filesystem::path& fsRoot = "/");

// "14 test processes, 17.2 GiB; 3 rustc, 3.1 GiB" — build roles only,
// heaviest first, at most `maxItems`; empty when no build process runs.
// `separator` goes between roles, `beforeBytes` between a role and its memory.
std::string describeRoleTotals(const Snapshot& snapshot, std::string_view separator = "; ",
                               std::string_view beforeBytes = ", ", std::size_t maxItems = std::size_t(-1));

} // namespace headroom
