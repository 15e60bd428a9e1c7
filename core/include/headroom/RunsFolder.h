// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The runs folder in the app-data directory: per run, <id>.json (the status,
// replaced atomically: temp file + rename), <id>.log (the combined output,
// byte for byte), <id>.stdout (a cargo step's JSON messages, while it runs)
// and <id>.stop (a stop request, for a supervisor to act on). A corrupt
// status is moved aside to <id>.json.corrupt and reported, never read as a
// run, never deleted.

#include "headroom/Result.h"
#include "headroom/RunRecord.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

// <app data>/headroom/runs: $XDG_DATA_HOME or ~/.local/share on Linux,
// ~/Library/Application Support on macOS, %APPDATA% on Windows (where Qt's
// AppDataLocation puts the history database too). $HEADROOM_RUNS_DIR wins.
std::filesystem::path defaultRunsDir();
// The folder of the default history database (history.sqlite): the runs
// folder's parent.
std::filesystem::path defaultAppDataDir();
// An environment variable as a path (Windows: the wide environment, so a
// user name outside the ANSI code page survives); empty when unset or empty.
std::filesystem::path environmentPath(const char* name);

struct RunFiles {
    std::filesystem::path status, log, stdoutMessages, stop;
    static RunFiles of(const std::filesystem::path& runsDir, const std::string& id);
};

// Writes `status` to `path` through a temporary file in the same folder,
// flushed, then renamed over it: a reader sees the old status or the new,
// never half of one. Failure says why (disk full, read-only folder).
Result<bool> writeStatusAtomically(const std::filesystem::path& path, const RunStatus& status);
// Reads one status file. A file that does not parse is moved aside (to
// <name>.corrupt) and the failure says so and where it went.
Result<RunStatus> readStatusFile(const std::filesystem::path& path);

// What a reader makes of a status file against the live process table.
struct RunEntry {
    std::filesystem::path statusPath;
    std::optional<RunStatus> status; // none: the file was corrupt (see problem)
    bool supervisorAlive = false;    // its (pid, start time) still names the supervisor
    bool buildAlive = false;         // the current step's root still runs
    std::string problem;             // corrupt file, supervisor gone: in words
};

// Every run in `dir`, newest first. A run whose status says Starting or
// Running but whose supervisor is gone is reported as SupervisorLost (and
// its status file rewritten so, with the reason); a corrupt file is moved
// aside and listed with its problem. A missing folder is no runs.
std::vector<RunEntry> listRuns(const std::filesystem::path& dir);
// The same for one run; failure when there is no such run.
Result<RunEntry> findRun(const std::filesystem::path& dir, const std::string& id);

// Asks the supervisor of a running run to stop it (the <id>.stop file, and
// on POSIX SIGTERM to the supervisor, by its (pid, start time)). When the
// supervisor is gone, stops the build tree itself by its root's (pid, start
// time). The message says what was done.
Result<std::string> requestStop(const std::filesystem::path& dir, const std::string& id);

// The history database's inbox: <history>.inbox/, one <run id>.json per
// finished run (historyRecordJson), written atomically by the supervisor,
// which has no database of its own to write; whoever opens the database next
// records them (once: by run id) and removes them.
std::filesystem::path historyInboxDir(const std::filesystem::path& historyPath);
// <app data>/headroom/history.sqlite, the window's default.
std::filesystem::path defaultHistoryPath();
// Puts the finished run into the inbox; failure says why (disk full...).
Result<std::filesystem::path> postHistoryRecord(const std::filesystem::path& historyPath,
                                                const RunStatus& status);

// Removes the files of finished runs beyond the newest `keep` (never a
// running one, never a .corrupt file).
void pruneRuns(const std::filesystem::path& dir, std::size_t keep = 50);

} // namespace headroom
