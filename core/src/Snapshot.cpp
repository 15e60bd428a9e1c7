// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Snapshot.h"

#include <algorithm>

namespace headroom {

const ProcessSample* Snapshot::find(Pid pid) const
{
    auto it = std::lower_bound(processes.begin(), processes.end(), pid,
                               [](const ProcessSample& p, Pid value) { return p.key.pid < value; });
    if (it == processes.end() || it->key.pid != pid)
        return nullptr;
    return &*it;
}

const ProcessSample* Snapshot::find(const ProcessKey& key) const
{
    const ProcessSample* p = find(key.pid);
    return (p && p->key == key) ? p : nullptr;
}

const BuildTree* Snapshot::buildOf(const ProcessKey& key) const
{
    for (const auto& build : builds) {
        if (std::find(build.members.begin(), build.members.end(), key) != build.members.end())
            return &build;
    }
    return nullptr;
}

ProcessTree::ProcessTree(const std::vector<ProcessSample>& processes) : processes_(processes)
{
    index_.reserve(processes.size());
    for (std::size_t i = 0; i < processes.size(); ++i)
        index_.emplace(processes[i].key.pid, i);
    for (std::size_t i = 0; i < processes.size(); ++i) {
        const auto& p = processes[i];
        if (p.parentPid != p.key.pid)
            children_[p.parentPid].push_back(i);
    }
}

const std::vector<std::size_t>& ProcessTree::children(Pid pid) const
{
    static const std::vector<std::size_t> none;
    auto it = children_.find(pid);
    return it == children_.end() ? none : it->second;
}

std::vector<std::size_t> ProcessTree::descendants(Pid pid) const
{
    std::vector<std::size_t> out;
    std::vector<Pid> frontier{pid};
    // Breadth-first keeps parents before children; the visited guard protects
    // against a malformed table with a parent cycle.
    std::unordered_map<Pid, bool> seen{{pid, true}};
    for (std::size_t head = 0; head < frontier.size(); ++head) {
        for (std::size_t child : children(frontier[head])) {
            const Pid childPid = processes_[child].key.pid;
            if (seen.emplace(childPid, true).second) {
                out.push_back(child);
                frontier.push_back(childPid);
            }
        }
    }
    return out;
}

std::vector<std::size_t> ProcessTree::ancestors(Pid pid) const
{
    std::vector<std::size_t> out;
    std::size_t at = indexOf(pid);
    while (at != npos && out.size() < processes_.size()) {
        const Pid parent = processes_[at].parentPid;
        if (parent == processes_[at].key.pid)
            break;
        at = indexOf(parent);
        if (at != npos)
            out.push_back(at);
    }
    return out;
}

std::size_t ProcessTree::indexOf(Pid pid) const
{
    auto it = index_.find(pid);
    return it == index_.end() ? npos : it->second;
}

} // namespace headroom
