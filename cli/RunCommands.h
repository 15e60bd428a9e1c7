// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The supervised runs: `run -- COMMAND...` (any build command under a
// supervisor, followed in this terminal), `runs` (list them, `runs stop ID`)
// and the supervisor itself (`supervise STATUS-FILE`, started detached by a
// front-end, not by people). Qt-free: they work over SSH and on Windows.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace headroom::cli {

// What Ctrl+C in a following terminal does: ask, stop the run, or leave it
// running (the terminal stops following; the run goes on).
enum class OnInterrupt { Ask, Stop, Leave };
std::optional<OnInterrupt> onInterruptFromId(const std::string& id); // "ask", "stop", "leave"

struct RunOptions {
    std::vector<std::string> command; // argv; command[0] is looked up in PATH
    OnInterrupt onInterrupt = OnInterrupt::Ask;
    bool detach = false;                     // start it, print its id and log, return at once
    bool noPool = false;                     // keep the command's own -j: it does not draw from the job pool
    std::optional<std::uint64_t> memoryHigh; // the scope's MemoryHigh, bytes
    std::optional<std::uint64_t> memoryMax;  // the scope's MemoryMax, bytes
    std::vector<std::string> thenRun;        // after a success (--then-run, split)
    std::string runsDir;                     // empty: defaultRunsDir()
    std::string historyPath;                 // empty: the app-data folder's history.sqlite
    int oomScoreAdj = 500;
};

struct RunsOptions {
    std::string stopId; // `runs stop ID`; empty lists
    bool json = false;
    std::string runsDir;
};

struct SuperviseOptions {
    std::string statusPath; // the run's status file, written by the front-end in state "starting"
};

int runRun(const RunOptions& options, const std::string& programName, std::ostream& out, std::ostream& err);
int runRuns(const RunsOptions& options, const std::string& programName, std::ostream& out, std::ostream& err);
// The supervisor: runs the spec in the status file to its end and exits.
int runSupervise(const SuperviseOptions& options, const std::string& programName, std::ostream& out,
                 std::ostream& err);

// "512M", "4G", "1.5GiB", "2000000000": bytes (K, M, G, T are powers of 1024,
// as systemd reads them). Nullopt for anything else (negative, NaN, junk,
// above 2^60).
std::optional<std::uint64_t> parseByteSize(const std::string& text);

} // namespace headroom::cli
