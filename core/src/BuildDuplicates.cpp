// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildDuplicates.h"

#include "headroom/RoleClassifier.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>
#include <unordered_set>

namespace headroom {

namespace {

bool isWorking(const BuildTree& build)
{
    return build.count(ProcessRole::Rustc) + build.count(ProcessRole::BuildScript) +
               build.count(ProcessRole::Linker) + build.count(ProcessRole::Compiler) >
           0;
}

template <typename Number> bool parseNumber(std::string_view text, Number& value, int base = 10)
{
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> words(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size() && out.size() < 16) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::string cpuSeconds(std::uint64_t ns)
{
    return formatDuration(double(ns) / 1e9);
}

} // namespace

std::vector<FileLockEntry> parseProcLocks(std::string_view text)
{
    // "2: FLOCK  ADVISORY  WRITE 13292 fe:00:10953362 0 EOF"
    // "2: -> FLOCK  ADVISORY  WRITE 13340 fe:00:10953362 0 EOF"
    std::vector<FileLockEntry> entries;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        const auto w = words(text.substr(pos, end - pos));
        pos = end + 1;
        std::size_t i = 1;
        if (w.size() < 6 || !w[0].ends_with(':'))
            continue;
        FileLockEntry entry;
        if (w[i] == "->") {
            entry.waiting = true;
            ++i;
        }
        if (w.size() < i + 5)
            continue;
        entry.kind = std::string(w[i]);
        entry.write = w[i + 2] == "WRITE";
        if (!parseNumber(w[i + 3], entry.pid))
            continue;
        // major:minor:inode, the device numbers in hex.
        const std::string_view id = w[i + 4];
        const std::size_t c1 = id.find(':');
        const std::size_t c2 = c1 == std::string_view::npos ? c1 : id.find(':', c1 + 1);
        if (c2 == std::string_view::npos || !parseNumber(id.substr(0, c1), entry.devMajor, 16) ||
            !parseNumber(id.substr(c1 + 1, c2 - c1 - 1), entry.devMinor, 16) ||
            !parseNumber(id.substr(c2 + 1), entry.inode))
            continue;
        entries.push_back(std::move(entry));
    }
    return entries;
}

std::string_view lockStateText(BuildLockState state)
{
    switch (state) {
    case BuildLockState::Holds:
        return "holds the lock";
    case BuildLockState::Waiting:
        return "waiting for the lock";
    case BuildLockState::Unknown:
    case BuildLockState::None:
        break;
    }
    return {};
}

void assignLockStates(Snapshot& snapshot, const std::vector<FileLockEntry>& locks,
                      const std::vector<std::vector<LockFileId>>& lockFiles)
{
    auto& builds = snapshot.builds;
    std::map<Pid, std::size_t> buildOfPid;
    for (std::size_t b = 0; b < builds.size(); ++b) {
        for (const ProcessKey& key : builds[b].members)
            buildOfPid.emplace(key.pid, b);
    }
    // The inode alone names the file: btrfs and overlay report another device
    // in stat() than the lock table does, and the pid must be in the build too.
    auto ownsFile = [&](std::size_t b, std::uint64_t inode) {
        if (b >= lockFiles.size())
            return false;
        return std::any_of(lockFiles[b].begin(), lockFiles[b].end(),
                           [&](const LockFileId& f) { return f.inode == inode; });
    };
    std::map<std::uint64_t, std::size_t> heldBy; // inode -> build holding it
    for (const FileLockEntry& lock : locks) {
        if (lock.waiting)
            continue;
        if (auto it = buildOfPid.find(lock.pid); it != buildOfPid.end())
            heldBy.emplace(lock.inode, it->second);
    }
    for (std::size_t b = 0; b < builds.size(); ++b) {
        if (builds[b].duplicates.empty())
            continue;
        bool holds = false;
        bool waits = false;
        for (const FileLockEntry& lock : locks) {
            auto it = buildOfPid.find(lock.pid);
            if (it == buildOfPid.end() || it->second != b)
                continue;
            if (!lock.waiting && ownsFile(b, lock.inode))
                holds = true;
            if (lock.waiting) {
                auto holder = heldBy.find(lock.inode);
                if (ownsFile(b, lock.inode) || (holder != heldBy.end() && holder->second != b))
                    waits = true;
            }
        }
        builds[b].lock = holds   ? BuildLockState::Holds
                         : waits ? BuildLockState::Waiting
                                 : BuildLockState::None;
    }
}

void markBuildLocks(Snapshot& snapshot, const std::filesystem::path& fsRoot)
{
    const bool anyDuplicate = std::any_of(snapshot.builds.begin(), snapshot.builds.end(),
                                          [](const BuildTree& b) { return !b.duplicates.empty(); });
    if (!anyDuplicate)
        return;
    auto locks = platform::readFileLocks(fsRoot);
    if (!locks)
        return;
    std::map<std::string, std::vector<LockFileId>> byTarget;
    std::vector<std::vector<LockFileId>> lockFiles(snapshot.builds.size());
    for (std::size_t b = 0; b < snapshot.builds.size(); ++b) {
        const BuildTree& build = snapshot.builds[b];
        if (build.duplicates.empty() || build.targetDir.empty())
            continue;
        auto it = byTarget.find(build.targetDir);
        if (it == byTarget.end())
            it = byTarget.emplace(build.targetDir, platform::findCargoLockFiles(build.targetDir, fsRoot))
                     .first;
        lockFiles[b] = it->second;
    }
    assignLockStates(snapshot, *locks, lockFiles);
}

std::vector<DuplicateGroup> duplicateGroups(const Snapshot& snapshot)
{
    const auto& builds = snapshot.builds;
    const std::size_t count = builds.size();
    std::vector<std::size_t> parent(count);
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](std::size_t i) {
        while (parent[i] != i)
            i = parent[i] = parent[parent[i]];
        return i;
    };
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t other : builds[i].duplicates) {
            if (other < count)
                parent[find(i)] = find(other);
        }
    }
    std::map<std::size_t, std::vector<std::size_t>> clusters;
    for (std::size_t i = 0; i < count; ++i) {
        if (!builds[i].duplicates.empty())
            clusters[find(i)].push_back(i);
    }

    std::vector<DuplicateGroup> groups;
    for (auto& [root, members] : clusters) {
        if (members.size() < 2)
            continue;
        DuplicateGroup group;
        std::vector<std::size_t> candidates;
        for (std::size_t i : members) {
            if (builds[i].lock == BuildLockState::Holds)
                candidates.push_back(i);
        }
        if (candidates.size() == 1) {
            group.kept = candidates.front();
            group.reason = DuplicateGroup::Reason::HoldsLock;
        } else {
            if (candidates.empty()) {
                for (std::size_t i : members) {
                    if (builds[i].lock != BuildLockState::Waiting)
                        candidates.push_back(i);
                }
            }
            if (candidates.empty())
                candidates = members; // all wait: the holder is none of them
            std::vector<std::size_t> working;
            std::copy_if(candidates.begin(), candidates.end(), std::back_inserter(working),
                         [&](std::size_t i) { return isWorking(builds[i]); });
            bool decided = false;
            if (!working.empty() && working.size() < candidates.size()) {
                candidates = working;
                if (candidates.size() == 1) {
                    group.kept = candidates.front();
                    group.reason = DuplicateGroup::Reason::Working;
                    decided = true;
                }
            }
            if (!decided) {
                // More work only counts when it is clearly more: a second of
                // CPU and a tenth more, else noise picks the build.
                auto clearlyMore = [&](std::size_t a, std::size_t b) {
                    const std::uint64_t ca = builds[a].cpuTimeNs, cb = builds[b].cpuTimeNs;
                    return ca > cb + std::max<std::uint64_t>(1'000'000'000ull, cb / 10);
                };
                std::size_t busiest = candidates.front();
                for (std::size_t i : candidates) {
                    if (builds[i].cpuTimeNs > builds[busiest].cpuTimeNs)
                        busiest = i;
                }
                const bool clear = std::all_of(candidates.begin(), candidates.end(), [&](std::size_t i) {
                    return i == busiest || clearlyMore(busiest, i);
                });
                if (clear && candidates.size() > 1) {
                    group.kept = busiest;
                    group.reason = DuplicateGroup::Reason::MostProgress;
                } else {
                    std::vector<std::size_t> close;
                    for (std::size_t i : candidates) {
                        if (!clearlyMore(busiest, i))
                            close.push_back(i);
                    }
                    group.kept =
                        *std::max_element(close.begin(), close.end(), [&](std::size_t a, std::size_t b) {
                            return builds[a].elapsedSeconds < builds[b].elapsedSeconds;
                        });
                    group.reason = DuplicateGroup::Reason::StartedFirst;
                }
            }
        }
        group.builds.push_back(group.kept);
        for (std::size_t i : members) {
            if (i != group.kept)
                group.builds.push_back(i);
        }
        groups.push_back(std::move(group));
    }
    return groups;
}

std::vector<ProcessKey> extraDuplicateBuilds(const Snapshot& snapshot)
{
    std::vector<ProcessKey> extra;
    for (const DuplicateGroup& group : duplicateGroups(snapshot)) {
        for (std::size_t i : group.extra())
            extra.push_back(snapshot.builds[i].root);
    }
    return extra;
}

std::string duplicateVerdict(const Snapshot& snapshot, const DuplicateGroup& group, std::size_t index)
{
    using Reason = DuplicateGroup::Reason;
    const BuildTree& build = snapshot.builds[index];
    if (index == group.kept) {
        switch (group.reason) {
        case Reason::HoldsLock:
            return "holds the lock";
        case Reason::Working:
            return "compilers running";
        case Reason::MostProgress:
            return "most work done (" + cpuSeconds(build.cpuTimeNs) + " CPU)";
        case Reason::StartedFirst:
            return "started first";
        }
    }
    if (build.lock == BuildLockState::Waiting)
        return "waiting for the lock";
    switch (group.reason) {
    case Reason::HoldsLock:
        return "does not hold the lock";
    case Reason::Working:
        return "no compiler running";
    case Reason::MostProgress:
        return "less work done (" + cpuSeconds(build.cpuTimeNs) + " CPU)";
    case Reason::StartedFirst:
        break;
    }
    return "started later";
}

std::string buildName(const Snapshot& snapshot, const BuildTree& build)
{
    std::string name = build.tool;
    if (!build.subcommand.empty())
        name += " " + build.subcommand;
    const ProcessSample* root = snapshot.find(build.root);
    if (root && build.tool == "cargo") {
        // The packages are what tells `cargo build -p a` from `cargo build -p b`.
        const auto& argv = root->argv;
        std::size_t shown = 0;
        for (std::size_t i = 1; i < argv.size() && shown < 4; ++i) {
            const std::string& arg = argv[i];
            if (arg == "--")
                break;
            std::string package;
            if ((arg == "-p" || arg == "--package") && i + 1 < argv.size())
                package = argv[++i];
            else if (arg.starts_with("--package="))
                package = arg.substr(10);
            else if (arg.starts_with("-p") && arg.size() > 2 && arg[2] != '-')
                package = arg.substr(2);
            else if (arg == "--workspace" || arg == "--all")
                name += " " + arg;
            if (!package.empty()) {
                name += " -p " + package;
                ++shown;
            }
        }
    }
    return safeText(name, 120);
}

std::string buildLabel(const Snapshot& snapshot, const BuildTree& build, bool withLock)
{
    std::string label = buildName(snapshot, build);
    if (!build.profile.empty())
        label += " · " + safeText(build.profile, 40);
    label += " · pid " + std::to_string(build.root.pid);
    if (build.elapsedSeconds > 0)
        label += " · " + formatDuration(build.elapsedSeconds);
    const std::string_view lock = lockStateText(build.lock);
    if (withLock && !lock.empty())
        label += " · " + std::string(lock);
    return label;
}

} // namespace headroom
