// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/ProcessControl.h"

#include "headroom/Platform.h"

#include <algorithm>
#include <array>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace headroom {

namespace {

using Clock = std::chrono::steady_clock;

struct ActionWords {
    std::string_view id;
    std::string_view past;
};
constexpr std::array<ActionWords, 4> kActionWords = {{
    {"pause", "paused"},
    {"resume", "resumed"},
    {"term", "terminated"},
    {"kill", "killed"},
}};

std::string label(const std::string& name, Pid pid)
{
    return (name.empty() ? std::string("process") : name) + " (pid " + std::to_string(pid) + ")";
}

// One process the action will touch, with what we know of it.
struct Target {
    ProcessKey key;
    std::string name;
    std::uint32_t uid = 0;
    bool settled = false; // a result is already recorded
    ActionResult result;
};

void settle(Target& t, ActionOutcome outcome, std::string message)
{
    t.settled = true;
    t.result = ActionResult{t.key, t.name, outcome, std::move(message)};
}

// Checks the target against the live system and the safety rules; settles it
// when it must not or cannot be signalled.
void vet(Target& t, const ActionOptions& options)
{
    if (auto reason = ProcessControl::protectedReason(t.key.pid)) {
        settle(t, ActionOutcome::Refused, "Refused: " + *reason);
        return;
    }
    auto live = platform::identify(t.key.pid);
    if (!live) {
        settle(t, ActionOutcome::AlreadyGone, label(t.name, t.key.pid) + " had already exited.");
        return;
    }
    if (t.name.empty())
        t.name = live->name;
    t.uid = live->uid;
    if (live->key.startTime != t.key.startTime) {
        settle(
            t, ActionOutcome::Refused,
            "Refused: pid " + std::to_string(t.key.pid) + " now belongs to " + label(live->name, t.key.pid) +
                ", not the process that was selected (its start time differs); the process that was selected "
                "has exited and the new one was left alone.");
        return;
    }
    if (live->kernelThread) {
        settle(t, ActionOutcome::Refused, "Refused: " + label(t.name, t.key.pid) + " is a kernel thread.");
        return;
    }
    if (live->state == ProcessState::Zombie) {
        settle(t, ActionOutcome::AlreadyGone,
               label(t.name, t.key.pid) + " had already exited; its parent has not collected it yet.");
        return;
    }
    if (options.onlyCurrentUser && live->uid != platform::currentUid()) {
        settle(t, ActionOutcome::Refused,
               "Refused: " + label(t.name, t.key.pid) + " belongs to another user (uid " +
                   std::to_string(live->uid) + "); Headroom only stops your own build processes here.");
    }
}

void recordSignal(Target& t, ProcessAction action, const platform::SignalResult& sent)
{
    switch (sent.outcome) {
    case ActionOutcome::Done:
        break; // the caller decides when it is done
    case ActionOutcome::AlreadyGone:
        settle(t, ActionOutcome::AlreadyGone, label(t.name, t.key.pid) + " had already exited.");
        break;
    case ActionOutcome::NotPermitted:
        settle(t, ActionOutcome::NotPermitted,
               "Not permitted to " +
                   std::string(actionId(action) == "term" ? "terminate" : actionId(action)) + " " +
                   label(t.name, t.key.pid) + ": it belongs to uid " + std::to_string(t.uid) +
                   " or is protected by the system. Run Headroom as that user to stop it.");
        break;
    default:
        settle(t, sent.outcome, "Could not signal " + label(t.name, t.key.pid) + ": " + sent.reason + ".");
        break;
    }
}

// Descendants of the (already vetted) roots, parents before children, as
// the system shows them now.
std::vector<platform::ProcessIdentity> liveDescendants(const std::vector<ProcessKey>& roots)
{
    const auto all = platform::listIdentities();
    std::unordered_map<Pid, std::vector<const platform::ProcessIdentity*>> children;
    for (const auto& p : all)
        children[p.parentPid].push_back(&p);
    std::vector<platform::ProcessIdentity> out;
    std::unordered_set<Pid> seen;
    std::vector<Pid> frontier;
    for (const auto& r : roots) {
        seen.insert(r.pid);
        frontier.push_back(r.pid);
    }
    for (std::size_t head = 0; head < frontier.size(); ++head) {
        auto it = children.find(frontier[head]);
        if (it == children.end())
            continue;
        for (const auto* child : it->second) {
            if (seen.insert(child->key.pid).second) {
                out.push_back(*child);
                frontier.push_back(child->key.pid);
            }
        }
    }
    return out;
}

void waitUntilGone(std::vector<Target*>& pending, Clock::time_point deadline)
{
    while (!pending.empty()) {
        pending.erase(std::remove_if(pending.begin(), pending.end(),
                                     [](Target* t) { return !platform::isAlive(t->key); }),
                      pending.end());
        if (pending.empty() || Clock::now() >= deadline)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
}

} // namespace

std::string_view actionId(ProcessAction action)
{
    return kActionWords[static_cast<std::size_t>(action)].id;
}
std::string_view actionVerbPast(ProcessAction action)
{
    return kActionWords[static_cast<std::size_t>(action)].past;
}

std::optional<ProcessAction> actionFromId(std::string_view id)
{
    if (id == "terminate" || id == "stop")
        return ProcessAction::Terminate;
    if (id == "continue" || id == "cont")
        return ProcessAction::Resume;
    if (id == "stop-hard")
        return ProcessAction::Kill;
    for (std::size_t i = 0; i < kActionWords.size(); ++i) {
        if (kActionWords[i].id == id)
            return static_cast<ProcessAction>(i);
    }
    return std::nullopt;
}

std::string_view outcomeId(ActionOutcome outcome)
{
    switch (outcome) {
    case ActionOutcome::Done:
        return "done";
    case ActionOutcome::AlreadyGone:
        return "already-gone";
    case ActionOutcome::NotPermitted:
        return "not-permitted";
    case ActionOutcome::Refused:
        return "refused";
    case ActionOutcome::Failed:
        break;
    }
    return "failed";
}

bool ActionReport::allSucceeded() const
{
    return std::all_of(results.begin(), results.end(), [](const ActionResult& r) {
        return r.outcome == ActionOutcome::Done || r.outcome == ActionOutcome::AlreadyGone;
    });
}

std::size_t ActionReport::count(ActionOutcome outcome) const
{
    return static_cast<std::size_t>(std::count_if(
        results.begin(), results.end(), [&](const ActionResult& r) { return r.outcome == outcome; }));
}

std::string ActionReport::summary() const
{
    if (results.empty())
        return "Nothing to do.";
    std::string text;
    const auto add = [&](std::size_t n, std::string_view what) {
        if (n == 0)
            return;
        if (!text.empty())
            text += ", ";
        text += std::to_string(n);
        text += ' ';
        text += what;
    };
    const std::size_t done = count(ActionOutcome::Done);
    if (done > 0) {
        text = std::to_string(done) + (done == 1 ? " process " : " processes ") +
               std::string(actionVerbPast(action));
    }
    add(count(ActionOutcome::AlreadyGone), "already gone");
    add(count(ActionOutcome::NotPermitted), "not permitted");
    add(count(ActionOutcome::Refused), "refused");
    add(count(ActionOutcome::Failed), "failed");
    return text;
}

std::optional<std::string> ProcessControl::protectedReason(Pid pid)
{
    if (pid <= 0)
        return "pid " + std::to_string(pid) + " does not name a single process.";
    if (pid == 1)
        return "pid 1 is the init process; stopping it would bring the whole system down.";
    const Pid self = platform::currentPid();
    if (pid == self)
        return "pid " + std::to_string(pid) + " is Headroom itself.";
    // Ancestors: the terminal, the session, the desktop that started us.
    Pid at = self;
    for (int depth = 0; depth < 128; ++depth) {
        auto me = platform::identify(at);
        if (!me || me->parentPid <= 0 || me->parentPid == at)
            break;
        if (me->parentPid == pid) {
            auto parent = platform::identify(pid);
            return label(parent ? parent->name : std::string(), pid) +
                   " started Headroom; stopping it would stop Headroom and the session it runs in.";
        }
        at = me->parentPid;
    }
    return std::nullopt;
}

ActionReport ProcessControl::apply(const ProcessKey& target, ProcessAction action,
                                   const ActionOptions& options) const
{
    return apply(std::vector<ProcessKey>{target}, action, options);
}

ActionReport ProcessControl::apply(const std::vector<ProcessKey>& requested, ProcessAction action,
                                   const ActionOptions& options) const
{
    std::vector<Target> targets;
    std::unordered_set<Pid> listed;
    for (const auto& key : requested) {
        if (!listed.insert(key.pid).second)
            continue;
        Target t;
        t.key = key;
        vet(t, options);
        targets.push_back(std::move(t));
    }

    std::vector<ProcessKey> roots;
    for (const auto& t : targets) {
        if (!t.settled)
            roots.push_back(t.key);
    }

    const bool stopping = action == ProcessAction::Terminate || action == ProcessAction::Kill;
    const auto addDescendants = [&]() {
        std::size_t added = 0;
        for (const auto& d : liveDescendants(roots)) {
            if (!listed.insert(d.key.pid).second)
                continue;
            Target t;
            t.key = d.key;
            t.name = d.name;
            vet(t, options);
            if (!t.settled && (stopping || action == ProcessAction::Pause)) {
                // Freeze each new descendant at once so it cannot start more.
                recordSignal(t, ProcessAction::Pause, platform::sendSignal(t.key, ProcessAction::Pause));
            }
            roots.push_back(t.key);
            targets.push_back(std::move(t));
            ++added;
        }
        return added;
    };

    if (options.tree && !roots.empty()) {
        if (stopping || action == ProcessAction::Pause) {
            // Freeze the roots first so that cargo cannot start a new rustc while
            // its children are being stopped; then sweep until no new child appears.
            for (auto& t : targets) {
                if (!t.settled)
                    recordSignal(t, ProcessAction::Pause, platform::sendSignal(t.key, ProcessAction::Pause));
            }
            for (int round = 0; round < 8 && addDescendants() > 0; ++round) {
            }
        } else {
            addDescendants();
            // Resume children before parents, so no parent wakes to find a child still frozen.
            std::reverse(targets.begin(), targets.end());
        }
    }

    std::vector<Target*> pending;
    for (auto& t : targets) {
        if (t.settled)
            continue;
        recordSignal(t, action, platform::sendSignal(t.key, action));
        if (!t.settled)
            pending.push_back(&t);
    }
    if (stopping && options.tree) {
        // A stopped process only acts on SIGTERM once it runs again.
        for (Target* t : pending)
            platform::sendSignal(t->key, ProcessAction::Resume);
    }

    if (action == ProcessAction::Pause || action == ProcessAction::Resume) {
        for (Target* t : pending)
            settle(*t, ActionOutcome::Done,
                   label(t->name, t->key.pid) + " " + std::string(actionVerbPast(action)) + ".");
    } else {
        std::vector<Target*> alive = pending;
        if (action == ProcessAction::Terminate) {
            waitUntilGone(alive, Clock::now() + options.grace);
            std::unordered_set<Target*> forced(alive.begin(), alive.end());
            for (Target* t : alive)
                platform::sendSignal(t->key, ProcessAction::Kill);
            waitUntilGone(alive, Clock::now() + std::chrono::seconds(2));
            for (Target* t : pending) {
                if (std::find(alive.begin(), alive.end(), t) != alive.end())
                    continue;
                if (forced.count(t)) {
                    const auto seconds = std::chrono::duration<double>(options.grace).count();
                    char grace[32];
                    std::snprintf(grace, sizeof grace, "%g", seconds);
                    settle(*t, ActionOutcome::Done,
                           label(t->name, t->key.pid) + " ignored SIGTERM for " + grace +
                               " s and was killed.");
                } else {
                    settle(*t, ActionOutcome::Done, label(t->name, t->key.pid) + " terminated.");
                }
            }
        } else {
            waitUntilGone(alive, Clock::now() + std::chrono::seconds(2));
            for (Target* t : pending) {
                if (std::find(alive.begin(), alive.end(), t) == alive.end())
                    settle(*t, ActionOutcome::Done, label(t->name, t->key.pid) + " killed.");
            }
        }
        for (Target* t : alive) {
            settle(
                *t, ActionOutcome::Failed,
                label(t->name, t->key.pid) +
                    " is still alive after SIGKILL; it is probably stuck in the kernel (state D) and will go "
                    "when its I/O completes.");
        }
    }

    ActionReport report;
    report.action = action;
    for (auto& t : targets)
        report.results.push_back(std::move(t.result));
    return report;
}

} // namespace headroom
