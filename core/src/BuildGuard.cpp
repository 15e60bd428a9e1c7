// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildGuard.h"

#include "headroom/Units.h"

#include <algorithm>

namespace headroom {

bool BuildGuard::mayTouch(const ProcessSample& p, const Snapshot& s, const TouchPolicy& policy) const
{
    if (!policy.check(p).allowed())
        return false;
    if (options_.guardExternalBuilds)
        return true;
    const BuildTree* tree = s.buildOf(p.key);
    return tree && std::find(options_.launchedRoots.begin(), options_.launchedRoots.end(), tree->root) !=
                       options_.launchedRoots.end();
}

bool BuildGuard::rested(const ProcessKey& key, double now) const
{
    auto it = lastActed_.find(key);
    return it == lastActed_.end() || now - it->second >= options_.graceSeconds;
}

std::vector<ProcessKey> BuildGuard::paused() const
{
    std::vector<ProcessKey> keys;
    for (const auto& [key, started] : paused_)
        keys.push_back(key);
    return keys;
}

void BuildGuard::release(const std::vector<ProcessKey>& keys, double now)
{
    for (const ProcessKey& key : keys) {
        paused_.erase(key);
        lastActed_[key] = now;
    }
}

std::vector<GuardAction> BuildGuard::decide(const Snapshot& s, PressureLevel level, double now)
{
    std::vector<GuardAction> actions;
    // Forget what has exited.
    std::erase_if(paused_, [&](const auto& item) { return s.find(item.first) == nullptr; });
    std::erase_if(lastActed_, [&](const auto& item) { return s.find(item.first) == nullptr; });

    if (level == PressureLevel::Normal) {
        std::vector<std::pair<std::int64_t, ProcessKey>> order;
        for (const auto& [key, started] : paused_)
            order.emplace_back(started, key);
        std::sort(order.begin(), order.end()); // oldest first: the longest-running work goes on first
        for (const auto& [started, key] : order) {
            if (!rested(key, now))
                continue;
            const ProcessSample* p = s.find(key);
            actions.push_back({GuardActionKind::Resume, key, p ? p->displayName() : std::string(),
                               p ? p->residentBytes : 0, "memory is back to normal"});
            lastActed_[key] = now;
            paused_.erase(key);
        }
        return actions;
    }
    if (level != PressureLevel::Critical)
        return actions; // warning: hold what is paused, pause nothing new

    const TouchPolicy policy = TouchPolicy::of(s, options_.uid, options_.selfPid, {true, true});
    // Inside a cgroup with a limit, the share of that limit left is the one that counts.
    const bool cgroup = s.budget.isCgroup();
    const double availablePct =
        (cgroup ? s.budget.availableFraction() : s.memory.availableFraction()) * 100.0;
    if (!paused_.empty() && availablePct <= options_.emergencyAvailablePercent) {
        // Paused builds did not free enough: give up the largest build tree
        // before the kernel picks a victim, perhaps the user's editor.
        const BuildTree* largest = nullptr;
        // Pausing and then stopping a build is one escalation, not flapping: a
        // root the guard just paused may be terminated. But after stopping a
        // build, wait a grace period to see the memory come back before
        // stopping another one.
        const bool settling = lastTerminatedAt_ && now - *lastTerminatedAt_ < options_.graceSeconds;
        for (const auto& b : s.builds) {
            if (settling || !policy.check(s, b).allowed())
                continue;
            const bool guarded = options_.guardExternalBuilds ||
                                 std::find(options_.launchedRoots.begin(), options_.launchedRoots.end(),
                                           b.root) != options_.launchedRoots.end();
            if (guarded && (!largest || b.residentBytes > largest->residentBytes))
                largest = &b;
        }
        if (largest) {
            actions.push_back({GuardActionKind::TerminateTree, largest->root, largest->tool,
                               largest->residentBytes,
                               (cgroup ? "memory left fell to " + formatPercent(availablePct / 100.0) +
                                             " of the " + s.budget.describe()
                                       : "available memory fell to " + formatPercent(availablePct / 100.0)) +
                                   " with builds paused"});
            lastActed_[largest->root] = now;
            lastTerminatedAt_ = now;
            for (const auto& member : largest->members)
                paused_.erase(member);
            return actions;
        }
    }

    // Pause one more process per sample: the youngest, then the largest.
    const ProcessSample* next = nullptr;
    for (const auto& p : s.processes) {
        if (paused_.count(p.key) || p.state == ProcessState::Stopped || !mayTouch(p, s, policy) ||
            !rested(p.key, now))
            continue;
        if (!next || p.startedAtMs > next->startedAtMs ||
            (p.startedAtMs == next->startedAtMs && p.residentBytes > next->residentBytes))
            next = &p;
    }
    if (next) {
        actions.push_back({GuardActionKind::Pause, next->key, next->displayName(), next->residentBytes,
                           "memory is critical"});
        lastActed_[next->key] = now;
        paused_[next->key] = next->startedAtMs;
    }
    return actions;
}

} // namespace headroom
