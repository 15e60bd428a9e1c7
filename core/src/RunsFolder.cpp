// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RunsFolder.h"

#include "headroom/AtomicFile.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/SafeText.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <pwd.h>
#include <unistd.h>
#endif

namespace headroom {

namespace fs = std::filesystem;

namespace {

// A status file is small; anything much larger is not one of ours.
constexpr std::uintmax_t kMaxStatusBytes = 4u << 20;
// A front-end writes the spec, then starts the supervisor: this long for it to take it.
constexpr std::int64_t kStartingGraceMs = 30000;

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool alive(const std::optional<ProcessKey>& key)
{
    return key && platform::isAlive(*key);
}

// How long ago the file was last written, by the file system's own clock.
std::int64_t fileAgeMs(const fs::path& path)
{
    std::error_code ec;
    const auto written = fs::last_write_time(path, ec);
    if (ec)
        return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(fs::file_time_type::clock::now() - written)
        .count();
}

// Rewrites a run whose supervisor is gone, unless the supervisor finished it meanwhile.
void markLost(RunEntry& entry)
{
    RunStatus& s = *entry.status;
    const std::string who = s.supervisor ? "pid " + std::to_string(s.supervisor->pid) : "it";
    if (s.state == RunState::Starting) {
        entry.problem = std::string("Its supervisor never started") +
                        (s.supervisor ? " (" + who + ")" : std::string()) +
                        ": the run did not begin. Start it again; if this repeats, run `headroom-cli "
                        "supervise` by hand to see why.";
    } else {
        entry.problem = "Its supervisor (" + who + ") ended before the run did";
        entry.problem += entry.buildAlive
                             ? ": the build still runs, unsupervised; stop it with `headroom runs "
                               "stop " +
                                   s.spec.id + "` or let it finish."
                             : ", and the build is gone too: how it ended is not known.";
    }
    // Read again: the supervisor may have written its last status just now,
    // or (a late start) taken the run and be alive.
    if (auto again = readStatusFile(entry.statusPath);
        again && (again->state == RunState::Finished || alive(again->supervisor))) {
        entry.status = std::move(again.value());
        entry.supervisorAlive = alive(entry.status->supervisor);
        entry.buildAlive = alive(entry.status->currentRoot());
        entry.problem.clear();
        return;
    }
    s.state = RunState::SupervisorLost;
    s.problem = entry.problem;
    [[maybe_unused]] const auto written = writeStatusAtomically(entry.statusPath, s);
}

RunEntry examine(const fs::path& path)
{
    RunEntry entry;
    entry.statusPath = path;
    auto read = readStatusFile(path);
    if (!read) {
        entry.problem = read.error();
        return entry;
    }
    entry.status = std::move(read.value());
    RunStatus& s = *entry.status;
    entry.supervisorAlive = alive(s.supervisor);
    entry.buildAlive = alive(s.currentRoot());
    const bool open = s.state == RunState::Starting || s.state == RunState::Running;
    if (open && !entry.supervisorAlive) {
        // Young by its creation time or by its file's: either clock may be off.
        const auto young = [](std::int64_t age) { return age >= 0 && age < kStartingGraceMs; };
        const bool stillStarting =
            s.state == RunState::Starting && !s.supervisor &&
            ((s.spec.createdMs > 0 && young(nowMs() - s.spec.createdMs)) || young(fileAgeMs(path)));
        if (!stillStarting)
            markLost(entry);
    }
    if (s.state == RunState::SupervisorLost && entry.problem.empty())
        entry.problem = s.problem;
    return entry;
}

} // namespace

fs::path environmentPath(const char* name)
{
#ifdef _WIN32
    // The wide environment: a user name outside the ANSI code page survives.
    std::wstring wide(name, name + std::char_traits<char>::length(name));
    const wchar_t* value = _wgetenv(wide.c_str());
    return value && *value ? fs::path(value) : fs::path();
#else
    const char* value = std::getenv(name);
    return value && *value ? fs::path(value) : fs::path();
#endif
}

fs::path defaultAppDataDir()
{
#ifdef _WIN32
    fs::path base = environmentPath("APPDATA");
    if (base.empty())
        base = environmentPath("USERPROFILE") / "AppData" / "Roaming";
#elif defined(__APPLE__)
    fs::path base = environmentPath("HOME") / "Library" / "Application Support";
#else
    fs::path base = environmentPath("XDG_DATA_HOME");
    if (base.empty() || !base.is_absolute()) {
        fs::path home = environmentPath("HOME");
        if (home.empty()) {
            // A service or a cron job without HOME: the account's own folder, not the working one.
            if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
                home = pw->pw_dir;
        }
        base = home / ".local" / "share";
    }
#endif
    return base / "headroom";
}

fs::path defaultRunsDir()
{
    if (fs::path dir = environmentPath("HEADROOM_RUNS_DIR"); !dir.empty())
        return dir;
    return defaultAppDataDir() / "runs";
}

RunFiles RunFiles::of(const fs::path& runsDir, const std::string& id)
{
    return RunFiles{runsDir / (id + ".json"), runsDir / (id + ".log"), runsDir / (id + ".stdout"),
                    runsDir / (id + ".stop")};
}

Result<bool> writeStatusAtomically(const fs::path& path, const RunStatus& status)
{
    return writeFileAtomically(path, toJson(status));
}

fs::path historyInboxDir(const fs::path& historyPath)
{
    fs::path dir = historyPath;
    dir += ".inbox";
    return dir;
}

fs::path defaultHistoryPath()
{
    return defaultAppDataDir() / "history.sqlite";
}

Result<fs::path> postHistoryRecord(const fs::path& historyPath, const RunStatus& status)
{
    if (!isValidRunId(status.spec.id))
        return Result<fs::path>::failure("\"" + safeText(status.spec.id, 64) +
                                         "\" is not a run id: the history record was not written.");
    const fs::path file = historyInboxDir(historyPath.empty() ? defaultHistoryPath() : historyPath) /
                          (status.spec.id + ".json");
    auto written = writeFileAtomically(file, historyRecordJson(status));
    if (!written)
        return Result<fs::path>::failure(written.error());
    return Result<fs::path>::success(file);
}

Result<RunStatus> readStatusFile(const fs::path& path)
{
    SmallFile file = readSmallFile(path, kMaxStatusBytes);
    std::string why;
    switch (file.outcome) {
    case SmallFile::Outcome::Missing:
        return Result<RunStatus>::failure("there is no run status " + path.string());
    case SmallFile::Outcome::Unreadable:
        // Permissions, or a replacement that took too long: no reason to move it aside.
        return Result<RunStatus>::failure("The run status " + path.string() + " cannot be read now (" +
                                          file.why + "); it is left where it is.");
    case SmallFile::Outcome::TooLarge:
        why = file.why + ", too large for a status";
        break;
    case SmallFile::Outcome::Read: {
        auto status = parseRunStatus(file.text);
        if (status)
            return status;
        why = status.error();
        break;
    }
    }
    return Result<RunStatus>::failure("The run status " + path.string() + " cannot be read (" + why + "); " +
                                      moveAsideDamaged(path) + ".");
}

std::vector<RunEntry> listRuns(const fs::path& dir)
{
    std::vector<RunEntry> entries;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (p.extension() == ".json" && isValidRunId(p.stem().string()) && it->is_regular_file(ec))
            files.push_back(p);
    }
    for (const auto& p : files)
        entries.push_back(examine(p));
    const auto when = [](const RunEntry& e) {
        return e.status ? std::max(e.status->startedMs, e.status->spec.createdMs) : std::int64_t(0);
    };
    std::stable_sort(entries.begin(), entries.end(),
                     [&](const RunEntry& a, const RunEntry& b) { return when(a) > when(b); });
    return entries;
}

Result<RunEntry> findRun(const fs::path& dir, const std::string& id)
{
    if (!isValidRunId(id))
        return Result<RunEntry>::failure(
            "\"" + safeText(id, 64) +
            "\" is not a run id: ids are letters, digits, - and _ (see `headroom runs`).");
    const RunFiles files = RunFiles::of(dir, id);
    std::error_code ec;
    if (!fs::exists(files.status, ec))
        return Result<RunEntry>::failure("There is no run " + id + " in " + dir.string() +
                                         " (see `headroom runs`).");
    RunEntry entry = examine(files.status);
    if (!entry.status)
        return Result<RunEntry>::failure(entry.problem);
    return Result<RunEntry>::success(std::move(entry));
}

Result<std::string> requestStop(const fs::path& dir, const std::string& id)
{
    auto found = findRun(dir, id);
    if (!found)
        return Result<std::string>::failure(found.error());
    const RunEntry& entry = found.value();
    const RunStatus& s = *entry.status;
    if (s.state == RunState::Finished)
        return Result<std::string>::failure("Run " + id + " has finished already: there is nothing to stop.");
    if (entry.supervisorAlive || s.state == RunState::Starting) {
        const RunFiles files = RunFiles::of(dir, id);
        std::ofstream stop(files.stop);
        stop << "stop\n";
        stop.close();
        bool signalled = false;
#ifndef _WIN32
        if (entry.supervisorAlive)
            signalled =
                platform::sendSignal(*s.supervisor, ProcessAction::Terminate).outcome == ActionOutcome::Done;
#endif
        if (!stop && !signalled)
            return Result<std::string>::failure("Could not ask the supervisor of run " + id +
                                                " to stop: " + files.stop.string() + " cannot be written.");
        return Result<std::string>::success("Asked the supervisor of run " + id +
                                            " to stop its whole process tree.");
    }
    if (entry.buildAlive) {
        ActionOptions options;
        options.tree = true;
        options.grace = std::chrono::milliseconds(s.spec.graceMs);
        const ActionReport report =
            ProcessControl().apply(*s.currentRoot(), ProcessAction::Terminate, options);
        return report.allSucceeded()
                   ? Result<std::string>::success("Its supervisor was gone; stopped the build "
                                                  "tree of run " +
                                                  id + " directly: " + report.summary())
                   : Result<std::string>::failure("Could not stop run " + id + ": " + report.summary());
    }
    return Result<std::string>::failure("Run " + id + " is not running any more: " + entry.problem);
}

void pruneRuns(const fs::path& dir, std::size_t keep)
{
    std::vector<RunEntry> entries = listRuns(dir);
    std::size_t finished = 0;
    for (const RunEntry& e : entries) {
        if (!e.status ||
            (e.status->state != RunState::Finished && e.status->state != RunState::SupervisorLost))
            continue;
        if (e.status->state == RunState::SupervisorLost && e.buildAlive)
            continue;
        if (++finished <= keep)
            continue;
        // By the file's own name: that is the run these files belong to.
        const RunFiles files = RunFiles::of(dir, e.statusPath.stem().string());
        std::error_code ec;
        for (const fs::path& p : {files.log, files.stdoutMessages, files.stop, files.status})
            fs::remove(p, ec);
    }
}

} // namespace headroom
