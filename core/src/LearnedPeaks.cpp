// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/LearnedPeaks.h"

#include "headroom/AtomicFile.h"
#include "headroom/Platform.h"
#include "headroom/RunsFolder.h"
#include "headroom/SafeText.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace headroom {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kVersion = 1;
constexpr std::size_t kMaxProjects = 200;
constexpr std::size_t kMaxUnits = 2000;
constexpr std::size_t kMaxNameBytes = 256;
// 200 projects of 2000 units with the longest names: about 150 MiB. A file
// larger than that is not one of ours.
constexpr std::uintmax_t kMaxFileBytes = 160ull << 20;
// Another supervisor holds the lock while it reads, merges and writes: a
// moment. Past this the figures are not saved rather than the build waiting.
constexpr auto kLockTimeout = std::chrono::seconds(5);

using Units = std::map<std::string, LearnedPeak>;
using Projects = std::map<std::string, Units>;

bool validName(std::string_view name)
{
    return !name.empty() && name.size() <= kMaxNameBytes;
}

fs::path withSuffix(const fs::path& path, const char* suffix)
{
    fs::path p = path;
    p += suffix;
    return p;
}

// What a build saw joins what was known. A newer figure replaces the old
// one, except that the peak of an OOM-killed job only raises it: the job was
// cut short, its real peak is higher still.
void mergePeakFigures(LearnedPeak& known, const LearnedPeak& seen, bool seenIsNewer)
{
    if (seen.oomKilled) {
        if (!seenIsNewer && !known.oomKilled && known.seenMs > seen.seenMs)
            return; // a later build ran it to the end: that figure is the truth
        known.bytes = std::max(known.bytes, seen.bytes);
        known.oomKilled = true;
        known.seenMs = std::max(known.seenMs, seen.seenMs);
        return;
    }
    if (!seenIsNewer && seen.seenMs < known.seenMs)
        return;
    known = seen;
}

void mergePeak(LearnedPeak& known, const LearnedPeak& seen, bool seenIsNewer)
{
    // The order is the project's, set apart (recordOrder): a peak does not move it.
    const int order = known.order;
    mergePeakFigures(known, seen, seenIsNewer);
    known.order = order;
}

// Every unit of `units` takes its place in `order`; the others have none.
void applyOrder(Units& units, const std::vector<std::string>& order)
{
    for (auto& [name, peak] : units)
        peak.order = -1;
    int place = 0;
    for (const std::string& name : order) {
        if (place >= int(kMaxUnits))
            break;
        if (auto it = units.find(name); it != units.end() && it->second.order < 0)
            it->second.order = place++;
    }
}

std::int64_t projectSeen(const Units& units)
{
    std::int64_t seen = 0;
    for (const auto& [name, peak] : units)
        seen = std::max(seen, peak.seenMs);
    return seen;
}

// The bounds: the least recently seen units of a project, then the least
// recently used projects, go first. `keep` is never dropped (it was just used).
void enforceBounds(Projects& projects, std::map<std::string, std::int64_t>& seen, std::string_view keep = {})
{
    for (auto& [name, units] : projects) {
        if (units.size() <= kMaxUnits)
            continue;
        std::vector<std::pair<std::int64_t, std::string>> order;
        order.reserve(units.size());
        for (const auto& [unit, peak] : units)
            order.emplace_back(peak.seenMs, unit);
        std::sort(order.begin(), order.end());
        for (std::size_t i = 0; i < order.size() - kMaxUnits; ++i)
            units.erase(order[i].second);
    }
    while (projects.size() > kMaxProjects) {
        auto victim = projects.end();
        std::int64_t oldest = 0;
        for (auto it = projects.begin(); it != projects.end(); ++it) {
            if (it->first == keep)
                continue;
            const std::int64_t when = seen.count(it->first) ? seen[it->first] : projectSeen(it->second);
            if (victim == projects.end() || when < oldest) {
                victim = it;
                oldest = when;
            }
        }
        if (victim == projects.end())
            break;
        seen.erase(victim->first);
        projects.erase(victim);
    }
}

struct Parsed {
    Projects projects;
    std::map<std::string, std::int64_t> seen;
};

// Only what has the expected shape is taken; an entry of the wrong shape is
// skipped, a file of the wrong shape is not ours.
Result<Parsed> parsePeaks(const std::string& text, bool& newer)
{
    newer = false;
    const json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded())
        return Result<Parsed>::failure("it is not JSON");
    if (!doc.is_object() || !doc.contains("projects") || !doc["projects"].is_object())
        return Result<Parsed>::failure("it has no \"projects\"");
    if (auto v = doc.find("version"); v == doc.end() || !v->is_number_integer())
        return Result<Parsed>::failure("it has no version");
    else if (v->get<std::int64_t>() > kVersion) {
        newer = true;
        return Result<Parsed>::failure("it is of a newer version (" + std::to_string(v->get<std::int64_t>()) +
                                       ")");
    }
    Parsed out;
    for (const auto& [project, entry] : doc["projects"].items()) {
        if (!validName(project) || !entry.is_object())
            continue;
        const auto units = entry.find("units");
        if (units == entry.end() || !units->is_object())
            continue;
        Units& into = out.projects[project];
        for (const auto& [unit, value] : units->items()) {
            if (!validName(unit) || !value.is_object())
                continue;
            const auto bytes = value.find("bytes");
            if (bytes == value.end() || !bytes->is_number_unsigned())
                continue;
            LearnedPeak peak;
            peak.bytes = bytes->get<std::uint64_t>();
            if (auto s = value.find("seenMs"); s != value.end() && s->is_number_integer())
                peak.seenMs = s->get<std::int64_t>();
            if (auto o = value.find("oomKilled"); o != value.end() && o->is_boolean())
                peak.oomKilled = o->get<bool>();
            if (auto o = value.find("order"); o != value.end() && o->is_number_integer()) {
                const std::int64_t place = o->get<std::int64_t>();
                if (place >= 0 && place < std::int64_t(kMaxUnits))
                    peak.order = int(place);
            }
            into[unit] = peak;
        }
        if (auto s = entry.find("seenMs"); s != entry.end() && s->is_number_integer())
            out.seen[project] = s->get<std::int64_t>();
        else
            out.seen[project] = projectSeen(into);
    }
    enforceBounds(out.projects, out.seen);
    return Result<Parsed>::success(std::move(out));
}

std::string toJson(const Projects& projects, const std::map<std::string, std::int64_t>& seen)
{
    json doc;
    doc["version"] = kVersion;
    json& all = doc["projects"] = json::object();
    for (const auto& [project, units] : projects) {
        json entry;
        const auto s = seen.find(project);
        entry["seenMs"] = s != seen.end() ? s->second : projectSeen(units);
        json& u = entry["units"] = json::object();
        for (const auto& [unit, peak] : units) {
            json p;
            p["bytes"] = peak.bytes;
            p["seenMs"] = peak.seenMs;
            if (peak.oomKilled)
                p["oomKilled"] = true;
            if (peak.order >= 0)
                p["order"] = peak.order;
            u[unit] = std::move(p);
        }
        all[project] = std::move(entry);
    }
    // Names come from the build (crate names): never let a stray byte make the file unreadable.
    return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Reads what is in the file now, moving a damaged one aside. `note` says
// what happened to a file that could not be used; `keep`: it is there and
// must not be replaced (unreadable now, or a newer Headroom's).
Parsed readPeaksFile(const fs::path& path, std::string& note, bool& keep)
{
    keep = false;
    SmallFile file = readSmallFile(path, kMaxFileBytes);
    std::string why = file.why;
    switch (file.outcome) {
    case SmallFile::Outcome::Missing:
        return {};
    case SmallFile::Outcome::Unreadable:
        keep = true;
        note = "The learned peaks " + path.string() + " cannot be read now (" + why +
               "); nothing learned is used this time.";
        return {};
    case SmallFile::Outcome::TooLarge:
        why += ", too large for learned peaks";
        break;
    case SmallFile::Outcome::Read: {
        bool newer = false;
        auto parsed = parsePeaks(file.text, newer);
        if (parsed)
            return std::move(parsed.value());
        if (newer) {
            keep = true;
            note = "The learned peaks " + path.string() + " were written by a newer Headroom (" +
                   parsed.error() + "); they are left as they are and not used.";
            return {};
        }
        why = parsed.error();
        break;
    }
    }
    note = "The learned peaks " + path.string() + " could not be read (" + safeText(why, 200) + "); " +
           moveAsideDamaged(path) + ". Builds learn their memory again from now on.";
    return {};
}

// <path>.lock, held while a supervisor reads, merges and writes the file.
class FileLock {
  public:
    explicit FileLock(const fs::path& path) : path_(path) {}
    ~FileLock()
    {
#ifdef _WIN32
        if (handle_ != INVALID_HANDLE_VALUE) {
            OVERLAPPED overlapped{};
            UnlockFileEx(handle_, 0, 1, 0, &overlapped);
            CloseHandle(handle_);
        }
#else
        if (fd_ >= 0) {
            ::flock(fd_, LOCK_UN);
            ::close(fd_);
        }
#endif
    }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    Result<bool> take(std::chrono::milliseconds timeout)
    {
        const auto until = std::chrono::steady_clock::now() + timeout;
#ifdef _WIN32
        handle_ = CreateFileW(path_.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                              nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (handle_ == INVALID_HANDLE_VALUE)
            return Result<bool>::failure("cannot open " + path_.string() + " (error " +
                                         std::to_string(GetLastError()) + ")");
        for (;;) {
            OVERLAPPED overlapped{};
            if (LockFileEx(handle_, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0,
                           &overlapped))
                return Result<bool>::success(true);
            if (std::chrono::steady_clock::now() >= until)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
#else
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ < 0)
            return Result<bool>::failure("cannot open " + path_.string() + ": " +
                                         std::generic_category().message(errno));
        for (;;) {
            if (::flock(fd_, LOCK_EX | LOCK_NB) == 0)
                return Result<bool>::success(true);
            if (errno != EWOULDBLOCK && errno != EINTR)
                return Result<bool>::failure("cannot lock " + path_.string() + ": " +
                                             std::generic_category().message(errno));
            if (std::chrono::steady_clock::now() >= until)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
#endif
        return Result<bool>::failure("another program holds " + path_.string() + " for longer than " +
                                     std::to_string(timeout.count() / 1000) + " s");
    }

  private:
    fs::path path_;
#ifdef _WIN32
    HANDLE handle_ = INVALID_HANDLE_VALUE;
#else
    int fd_ = -1;
#endif
};

} // namespace

fs::path LearnedPeaks::defaultPath()
{
    if (fs::path file = environmentPath("HEADROOM_PEAKS_FILE"); !file.empty())
        return file;
    return defaultAppDataDir() / "peaks.json"; // next to the history
}

LearnedPeaks LearnedPeaks::load(const fs::path& path)
{
    LearnedPeaks peaks;
    bool keep = false;
    Parsed parsed = readPeaksFile(path, peaks.note_, keep);
    peaks.projects_ = std::move(parsed.projects);
    peaks.projectSeen_ = std::move(parsed.seen);
    return peaks;
}

std::optional<LearnedPeak> LearnedPeaks::peak(std::string_view project, std::string_view unit) const
{
    const Units* all = units(project);
    if (!all)
        return std::nullopt;
    const auto it = all->find(std::string(unit));
    if (it == all->end())
        return std::nullopt;
    return it->second;
}

const std::map<std::string, LearnedPeak>* LearnedPeaks::units(std::string_view project) const
{
    const auto it = projects_.find(std::string(project));
    return it == projects_.end() || it->second.empty() ? nullptr : &it->second;
}

std::vector<std::string> LearnedPeaks::projects() const
{
    std::vector<std::string> names;
    for (const auto& [project, units] : projects_)
        if (!units.empty())
            names.push_back(project);
    return names;
}

std::optional<std::uint64_t> LearnedPeaks::highest(std::string_view project) const
{
    const Units* all = units(project);
    if (!all)
        return std::nullopt;
    std::uint64_t top = 0;
    for (const auto& [name, peak] : *all)
        top = std::max(top, peak.bytes);
    return top;
}

void LearnedPeaks::record(std::string_view project, std::string_view unit, std::uint64_t bytes,
                          std::int64_t nowMs, bool oomKilled)
{
    if (!validName(project) || !validName(unit))
        return;
    const LearnedPeak seen{bytes, nowMs, oomKilled};
    const std::string p(project), u(unit);
    // What this build saw is the newest figure, whatever the clock says.
    mergePeak(projects_[p][u], seen, true);
    mergePeak(recorded_[p][u], seen, true);
    projectSeen_[p] = std::max(projectSeen_[p], nowMs);
    enforceBounds(projects_, projectSeen_, project);
    std::map<std::string, std::int64_t> recordedSeen;
    for (const auto& [name, units] : recorded_)
        recordedSeen[name] = projectSeen_.count(name) ? projectSeen_[name] : projectSeen(units);
    enforceBounds(recorded_, recordedSeen, project);
}

void LearnedPeaks::recordOrder(std::string_view project, const std::vector<std::string>& units)
{
    if (!validName(project))
        return;
    std::vector<std::string> order;
    std::set<std::string_view> placed;
    for (const std::string& unit : units) {
        if (order.size() >= kMaxUnits)
            break;
        if (validName(unit) && placed.insert(unit).second)
            order.push_back(unit);
    }
    const std::string p(project);
    if (auto it = projects_.find(p); it != projects_.end())
        applyOrder(it->second, order);
    recordedOrder_[p] = std::move(order);
}

std::vector<std::string> LearnedPeaks::order(std::string_view project) const
{
    std::vector<std::pair<int, std::string>> placed;
    if (const Units* all = units(project)) {
        for (const auto& [name, peak] : *all) {
            if (peak.order >= 0)
                placed.emplace_back(peak.order, name);
        }
    }
    std::sort(placed.begin(), placed.end());
    std::vector<std::string> out;
    out.reserve(placed.size());
    for (auto& [place, name] : placed)
        out.push_back(std::move(name));
    return out;
}

Result<bool> LearnedPeaks::save(const fs::path& path) const
{
    if (recorded_.empty())
        return Result<bool>::success(false);
    std::error_code ec;
    if (!path.parent_path().empty())
        fs::create_directories(path.parent_path(), ec);
    FileLock lock(withSuffix(path, ".lock"));
    if (auto taken = lock.take(kLockTimeout); !taken)
        return Result<bool>::failure("The learned peaks were not saved: " + taken.error() + ".");
    // What other supervisors saved meanwhile, then what this one saw.
    std::string note;
    bool keep = false;
    Parsed current = readPeaksFile(path, note, keep);
    if (keep)
        return Result<bool>::failure("The learned peaks were not saved: " + note);
    for (const auto& [project, units] : recorded_) {
        Units& into = current.projects[project];
        for (const auto& [unit, seen] : units) {
            auto it = into.find(unit);
            if (it == into.end())
                into.emplace(unit, seen);
            else
                mergePeak(it->second, seen, false);
        }
        if (const auto order = recordedOrder_.find(project); order != recordedOrder_.end())
            applyOrder(into, order->second); // the newer run's order wins
        const auto mine = projectSeen_.find(project);
        std::int64_t& when = current.seen[project];
        when = std::max(when, mine != projectSeen_.end() ? mine->second : projectSeen(units));
    }
    std::string newest;
    std::int64_t newestMs = 0;
    for (const auto& [project, when] : current.seen)
        if (recorded_.count(project) && (newest.empty() || when >= newestMs)) {
            newest = project;
            newestMs = when;
        }
    enforceBounds(current.projects, current.seen, newest);
    auto written = writeFileAtomically(path, toJson(current.projects, current.seen));
    if (!written)
        return Result<bool>::failure("The learned peaks were not saved: " + written.error() + ".");
    return Result<bool>::success(true);
}

} // namespace headroom
