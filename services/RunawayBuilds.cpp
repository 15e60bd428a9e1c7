// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/RunawayBuilds.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/SafeText.h"
#include "headroom/TouchPolicy.h"

#include <QDir>

#include <algorithm>
#include <unordered_set>

namespace headroom::services {
namespace {

QString shortPath(const std::string& path)
{
    QString text = QString::fromStdString(path);
    const QString home = QDir::homePath();
    if (home.size() > 1 && (text == home || text.startsWith(home + QLatin1Char('/'))))
        text = QLatin1Char('~') + text.mid(home.size());
    return text;
}

RunawayGroup::Member memberOf(const ProcessSample& process)
{
    return {process.key, QString::fromStdString(process.displayName()), process.role, process.residentBytes,
            QString::fromStdString(process.commandLine())};
}

} // namespace

std::vector<RunawayGroup> collectRunawayBuilds(const Snapshot& snapshot, std::uint32_t uid, Pid selfPid)
{
    const ProcessTree tree(snapshot.processes);
    // The user's own processes, never Headroom or what started it; loose
    // processes must be build or test processes themselves.
    const TouchPolicy policy = TouchPolicy::of(snapshot, uid, selfPid, {true, false});
    auto eligible = [&](const ProcessSample& process) { return policy.check(process).allowed(); };

    std::vector<RunawayGroup> groups;
    std::unordered_set<ProcessKey, ProcessKeyHash> covered;

    for (const BuildTree& build : snapshot.builds) {
        // A build that holds the dashboard (`cargo run` of it) is left alone.
        if (!policy.check(snapshot, build).allowed())
            continue;
        RunawayGroup group;
        group.root = build.root;
        group.isBuildTree = true;
        group.title = QString::fromStdString(buildName(snapshot, build));
        if (!build.profile.empty() && build.profile != "dev")
            group.title += QStringLiteral(" · ") + QString::fromStdString(safeText(build.profile, 40));
        group.where = shortPath(build.workspace);
        group.elapsedSeconds = build.elapsedSeconds;
        for (const ProcessKey& key : build.members) {
            if (const ProcessSample* member = snapshot.find(key)) {
                group.members.push_back(memberOf(*member));
                group.residentBytes += member->residentBytes;
            }
            covered.insert(key);
        }
        groups.push_back(std::move(group));
    }

    // Build processes outside any build tree: group each under its topmost
    // ancestor that is itself such a process (a test runner and its tests).
    auto isLoose = [&](const ProcessSample& process) {
        return policy.check(process, {true, true}).allowed() && !covered.contains(process.key);
    };
    std::vector<std::size_t> looseRoots;
    for (std::size_t i = 0; i < snapshot.processes.size(); ++i) {
        const ProcessSample& process = snapshot.processes[i];
        if (!isLoose(process))
            continue;
        bool underLoose = false;
        for (std::size_t ancestor : tree.ancestors(process.key.pid)) {
            if (isLoose(snapshot.processes[ancestor])) {
                underLoose = true;
                break;
            }
        }
        if (!underLoose)
            looseRoots.push_back(i);
    }
    for (std::size_t rootIndex : looseRoots) {
        const ProcessSample& root = snapshot.processes[rootIndex];
        RunawayGroup group;
        group.root = root.key;
        group.title = QString::fromStdString(root.displayName());
        group.where = shortPath(root.cwd);
        group.members.push_back(memberOf(root));
        group.residentBytes = root.residentBytes;
        for (std::size_t index : tree.descendants(root.key.pid)) {
            const ProcessSample& member = snapshot.processes[index];
            if (!eligible(member))
                continue;
            group.members.push_back(memberOf(member));
            group.residentBytes += member.residentBytes;
        }
        groups.push_back(std::move(group));
    }

    std::stable_sort(groups.begin(), groups.end(), [](const RunawayGroup& a, const RunawayGroup& b) {
        return a.residentBytes > b.residentBytes;
    });
    for (const DuplicateGroup& duplicates : duplicateGroups(snapshot)) {
        for (std::size_t index : duplicates.builds) {
            const ProcessKey root = snapshot.builds[index].root;
            for (RunawayGroup& group : groups) {
                if (group.root != root)
                    continue;
                const QString verdict = QString::fromStdString(duplicateVerdict(snapshot, duplicates, index));
                group.note = index == duplicates.kept
                                 ? QObject::tr("duplicate, the one to keep: %1").arg(verdict)
                                 : QObject::tr("extra duplicate: %1").arg(verdict);
            }
        }
    }
    return groups;
}

std::vector<RunawayGroup> collectExtraBuilds(const Snapshot& snapshot, std::uint32_t uid, Pid selfPid)
{
    std::vector<RunawayGroup> all = collectRunawayBuilds(snapshot, uid, selfPid);
    std::vector<RunawayGroup> chosen;
    for (const DuplicateGroup& duplicates : duplicateGroups(snapshot)) {
        std::vector<RunawayGroup> part;
        for (std::size_t index : duplicates.builds) {
            const ProcessKey root = snapshot.builds[index].root;
            auto it =
                std::find_if(all.begin(), all.end(), [&](const RunawayGroup& g) { return g.root == root; });
            if (it == all.end())
                continue; // another user's, or the one that runs this window
            part.push_back(*it);
            part.back().kept = index == duplicates.kept;
        }
        // Nothing of the user's to stop in this group: leave it out.
        if (std::any_of(part.begin(), part.end(), [](const RunawayGroup& g) { return !g.kept; }))
            chosen.insert(chosen.end(), part.begin(), part.end());
    }
    return chosen;
}

} // namespace headroom::services
