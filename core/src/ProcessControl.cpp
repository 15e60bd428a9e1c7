// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/ProcessControl.h"

#include "headroom/Platform.h"
#include "headroom/TouchPolicy.h"

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
    platform::SignalExpectation expect; // compared on the first signal only
    bool walk = false;                  // its children belong to the tree
    bool touched = false;               // a signal reached it
    bool terminated = false;            // it was sent SIGTERM
    bool forced = false;                // it was sent SIGKILL
    bool settled = false;               // a result is already recorded
    ActionResult result;
};

void settle(Target& t, ActionOutcome outcome, std::string message)
{
    t.settled = true;
    t.result = ActionResult{t.key, t.name, outcome, std::move(message)};
}

// Checks the target against the live system and the touch policy; settles
// it when it must not or cannot be signalled.
void vet(Target& t, const std::optional<platform::ProcessIdentity>& live, const TouchPolicy& policy)
{
    // Protected by its pid alone (pid 0 or 1, Headroom, what started it):
    // refused even when the pid is gone or names something else now.
    if (auto verdict = policy.byPid(t.key.pid); !verdict.allowed()) {
        settle(t, ActionOutcome::Refused, "Refused: " + verdict.reason);
        return;
    }
    if (!live) {
        settle(t, ActionOutcome::AlreadyGone, label(t.name, t.key.pid) + " had already exited.");
        return;
    }
    if (live->threadOf != 0) {
        settle(t, ActionOutcome::Refused, "Refused: " + policy.check(*live).reason);
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
    platform::ProcessIdentity named = *live;
    named.name = t.name;
    const TouchVerdict verdict = policy.check(named);
    if (verdict.rule == TouchRule::Exited)
        settle(t, ActionOutcome::AlreadyGone, verdict.reason);
    else if (!verdict.allowed())
        settle(t, ActionOutcome::Refused, "Refused: " + verdict.reason);
}

// Sends one signal and records what went wrong. True when it was delivered.
bool signal(Target& t, ProcessAction action)
{
    const auto sent = platform::sendSignal(t.key, action, t.expect);
    switch (sent.outcome) {
    case ActionOutcome::Done:
        // Checked once: a process that exec()s while it handles our SIGTERM
        // is still the one we mean, and its (pid, start time) still names it.
        t.expect = {};
        t.touched = true;
        return true;
    case ActionOutcome::AlreadyGone:
        // Gone after an earlier signal of ours: the outcome is decided at the end.
        if (!t.touched)
            settle(t, ActionOutcome::AlreadyGone, label(t.name, t.key.pid) + " had already exited.");
        return false;
    case ActionOutcome::NotPermitted:
        settle(t, ActionOutcome::NotPermitted,
               "Not permitted to " +
                   std::string(actionId(action) == "term" ? "terminate" : actionId(action)) + " " +
                   label(t.name, t.key.pid) + ": it belongs to uid " + std::to_string(t.uid) +
                   " or is protected by the system. Run Headroom as that user to stop it.");
        return false;
    case ActionOutcome::Refused:
        settle(t, ActionOutcome::Refused, "Refused: " + sent.reason + ".");
        return false;
    default:
        settle(t, sent.outcome, "Could not signal " + label(t.name, t.key.pid) + ": " + sent.reason + ".");
        return false;
    }
}

bool frozenOrGone(const platform::ProcessIdentity* live)
{
    // Unknown: the system does not say (Windows); the suspension is trusted.
    return !live || live->state == ProcessState::Stopped || live->state == ProcessState::Zombie ||
           live->state == ProcessState::Unknown;
}

// The processes one action works on: the targets asked for and, with a
// tree, every descendant found so far, each remembered by (pid, start time)
// from the moment it is seen.
class Run {
  public:
    Run(ProcessAction action, const ActionOptions& options)
        : action_(action), options_(options), policy_(TouchPolicy::live({options.onlyCurrentUser, false}))
    {
    }

    std::vector<Target> targets;

    void addRequested(const ProcessTarget& requested)
    {
        if (!known_.insert(requested.key).second)
            return;
        Target t;
        t.key = requested.key;
        t.expect = {requested.name, requested.exe};
        vet(t, platform::identify(t.key.pid), policy_);
        t.walk = !t.settled;
        targets.push_back(std::move(t));
    }

    // Adds the members' children not seen before (and theirs), vetted, in
    // the order parents before children; returns their indices.
    std::vector<std::size_t> discover(const std::vector<platform::ProcessIdentity>& all)
    {
        std::unordered_map<Pid, std::vector<const platform::ProcessIdentity*>> children;
        for (const auto& p : all)
            children[p.parentPid].push_back(&p);
        std::vector<std::size_t> added;
        std::vector<std::size_t> frontier;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            if (targets[i].walk)
                frontier.push_back(i);
        }
        for (std::size_t head = 0; head < frontier.size(); ++head) {
            const ProcessKey parent = targets[frontier[head]].key;
            // Its pid may belong to another process by now: only a parent that
            // is still that member brings children.
            const auto* live = find(all, parent.pid);
            if (!live || live->key != parent)
                continue;
            auto it = children.find(parent.pid);
            if (it == children.end())
                continue;
            for (const auto* child : it->second) {
                if (child->key.startTime < parent.startTime || !known_.insert(child->key).second)
                    continue;
                Target t;
                t.key = child->key;
                t.name = child->name;
                vet(t, *child, policy_);
                t.walk =
                    !(t.settled && t.result.outcome == ActionOutcome::Refused && policy_.covers(t.key.pid));
                targets.push_back(std::move(t));
                added.push_back(targets.size() - 1);
                if (targets.back().walk)
                    frontier.push_back(targets.size() - 1);
            }
        }
        return added;
    }

    // Stops every new member as it is found, until a sweep finds none and
    // every member is seen stopped: from then on none of them can fork.
    void freezeTree()
    {
        auto lastChange = Clock::now();
        bool settledOnce = false;
        for (;;) {
            const auto all = listed();
            const auto added = discover(all);
            for (std::size_t i : added) {
                if (!targets[i].settled)
                    signal(targets[i], ProcessAction::Pause);
            }
            if (!added.empty()) {
                lastChange = Clock::now();
                settledOnce = false;
                continue;
            }
            // A signal is acted on when the process next leaves the kernel;
            // until it is seen stopped it may still be in fork().
            bool running = false;
            bool onlyInKernel = true;
            std::vector<Target*> resume;
            for (auto& t : targets) {
                if (t.settled || !t.touched)
                    continue;
                const auto* live = find(all, t.key);
                if (frozenOrGone(live))
                    continue;
                running = true;
                if (live->state != ProcessState::DiskSleep)
                    onlyInKernel = false;
                resume.push_back(&t);
            }
            // Seen running although stopped: the kernel continues a process
            // group left orphaned by an exit (and others may send SIGCONT).
            if (Clock::now() - lastChange >= std::chrono::milliseconds(20)) {
                for (Target* t : resume)
                    platform::sendSignal(t->key, ProcessAction::Pause);
            }
            // The listing reads /proc in chunks: a child forked just before its
            // parent stopped can be missing from the very listing that shows
            // the parent stopped. Only a listing begun after that is proof.
            if (!running && settledOnce)
                return;
            settledOnce = !running;
            if (!running)
                continue;
            // One stuck in the kernel (state D, or a vfork() parent) may not
            // stop for a long time and cannot fork meanwhile; any other stops
            // as soon as the scheduler lets it run, however busy the machine.
            const auto patience =
                onlyInKernel ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
            if (Clock::now() - lastChange >= patience)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    // Members that may still be alive (not settled, not seen gone).
    std::vector<std::size_t> open() const
    {
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            if (!targets[i].settled)
                out.push_back(i);
        }
        return out;
    }

    std::vector<platform::ProcessIdentity> listed()
    {
        auto all = platform::listIdentities();
        byPid_.clear();
        for (std::size_t i = 0; i < all.size(); ++i)
            byPid_[all[i].key.pid] = i;
        return all;
    }

    const platform::ProcessIdentity* find(const std::vector<platform::ProcessIdentity>& all, Pid pid) const
    {
        auto it = byPid_.find(pid);
        return it == byPid_.end() || it->second >= all.size() ? nullptr : &all[it->second];
    }
    // The live process only if it is still this key, and not a zombie.
    const platform::ProcessIdentity* find(const std::vector<platform::ProcessIdentity>& all,
                                          const ProcessKey& key) const
    {
        const auto* live = find(all, key.pid);
        return live && live->key == key && live->state != ProcessState::Zombie ? live : nullptr;
    }

    const ActionOptions& options() const { return options_; }
    ProcessAction action() const { return action_; }

  private:
    ProcessAction action_;
    const ActionOptions& options_;
    TouchPolicy policy_; // Headroom and its ancestors, found once per action
    std::unordered_set<ProcessKey, ProcessKeyHash> known_;
    std::unordered_map<Pid, std::size_t> byPid_;
};

// Time to wait for killed processes to go: an exiting process frees its
// memory first, and thousands exiting at once take a while.
std::chrono::milliseconds killWait(std::size_t count)
{
    const auto wait = std::chrono::milliseconds(2000) + std::chrono::milliseconds(5) * count;
    return std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(60));
}

// Killed processes can take seconds to go when thousands exit together:
// wait as long as they keep going, give up on those that make no progress.
std::vector<ProcessKey> awaitKilled(const std::vector<ProcessKey>& keys)
{
    const auto cap = Clock::now() + std::chrono::seconds(120);
    auto left = platform::waitForExit(keys, killWait(keys.size()));
    while (!left.empty() && Clock::now() < cap) {
        const std::size_t before = left.size();
        left = platform::waitForExit(left, std::chrono::seconds(3));
        if (left.size() == before)
            break; // none went for 3 s: these are stuck
    }
    return left;
}

std::string survivorWords(const Target& t)
{
    const auto live = platform::identify(t.key.pid);
    const auto state = live && live->key == t.key ? live->state : ProcessState::Unknown;
    std::string text = label(t.name, t.key.pid) + " is still alive after SIGKILL";
    if (state == ProcessState::DiskSleep)
        return text + "; it is stuck in the kernel (state D) and will go when its I/O completes.";
    if (state == ProcessState::Unknown)
        return text + ".";
    return text + " (state " + std::string(1, stateLetter(state)) + ").";
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

std::size_t ActionReport::survivors() const
{
    return static_cast<std::size_t>(
        std::count_if(results.begin(), results.end(), [](const ActionResult& r) { return r.stillAlive; }));
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
    add(count(ActionOutcome::Failed) - survivors(), "failed");
    add(survivors(), "still alive");
    return text;
}

std::optional<std::string> ProcessControl::protectedReason(Pid pid)
{
    auto verdict = TouchPolicy::live().protection(pid);
    if (verdict.allowed())
        return std::nullopt;
    return std::move(verdict.reason);
}

ActionReport ProcessControl::apply(const ProcessKey& target, ProcessAction action,
                                   const ActionOptions& options) const
{
    return apply(std::vector<ProcessTarget>{ProcessTarget{target, {}, {}}}, action, options);
}

ActionReport ProcessControl::apply(const std::vector<ProcessKey>& requested, ProcessAction action,
                                   const ActionOptions& options) const
{
    std::vector<ProcessTarget> targets;
    targets.reserve(requested.size());
    for (const auto& key : requested)
        targets.push_back(ProcessTarget{key, {}, {}});
    return apply(targets, action, options);
}

ActionReport ProcessControl::apply(const std::vector<ProcessTarget>& requested, ProcessAction action,
                                   const ActionOptions& options) const
{
    Run run(action, options);
    for (const auto& r : requested)
        run.addRequested(r);
    auto& targets = run.targets;
    const bool tree = options.tree;
    const bool stopping = action == ProcessAction::Terminate || action == ProcessAction::Kill;

    const auto signalAll = [&](ProcessAction a, bool leavesFirst = false) {
        auto members = run.open();
        if (leavesFirst)
            std::reverse(members.begin(), members.end());
        for (std::size_t i : members)
            signal(targets[i], a);
    };
    const auto finishPlain = [&]() {
        for (std::size_t i : run.open()) {
            if (targets[i].touched)
                settle(targets[i], ActionOutcome::Done,
                       label(targets[i].name, targets[i].key.pid) + " " +
                           std::string(actionVerbPast(action)) + ".");
        }
    };

    if (!stopping) {
        if (tree && action == ProcessAction::Pause) {
            signalAll(ProcessAction::Pause);
            run.freezeTree();
        } else if (tree) {
            run.discover(run.listed());
            // Resume children before parents, so no parent wakes to find a child still frozen.
            signalAll(action, true);
        } else {
            signalAll(action);
        }
        finishPlain();
        ActionReport report;
        report.action = action;
        for (auto& t : targets)
            report.results.push_back(std::move(t.result));
        return report;
    }

    if (tree) {
        // Freeze first, so that cargo cannot start a new rustc while its
        // children are being stopped.
        signalAll(ProcessAction::Pause);
        run.freezeTree();
    }

    if (action == ProcessAction::Terminate) {
        auto members = run.open();
        std::reverse(members.begin(), members.end()); // children first, as for SIGKILL below
        for (std::size_t i : members)
            targets[i].terminated = signal(targets[i], ProcessAction::Terminate);
        if (tree) {
            // A stopped process acts on a SIGTERM it handles only once it runs again.
            signalAll(ProcessAction::Resume, true);
        }
        const auto deadline = Clock::now() + options.grace;
        auto step = std::chrono::milliseconds(5);
        for (;;) {
            std::vector<ProcessKey> alive;
            if (tree) {
                // The tree runs again: whatever it starts now is frozen and
                // asked to stop at once.
                const auto all = run.listed();
                for (std::size_t i : run.discover(all)) {
                    if (!targets[i].settled && signal(targets[i], ProcessAction::Pause))
                        targets[i].terminated = signal(targets[i], ProcessAction::Terminate);
                }
                for (std::size_t i : run.open()) {
                    if (run.find(all, targets[i].key))
                        alive.push_back(targets[i].key);
                }
            } else {
                for (std::size_t i : run.open()) {
                    if (platform::isAlive(targets[i].key))
                        alive.push_back(targets[i].key);
                }
            }
            const auto now = Clock::now();
            if (alive.empty() || now >= deadline)
                break;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                              std::chrono::milliseconds(1);
            if (!tree) {
                // Nothing can join a single process: just wait for it.
                platform::waitForExit(alive, left);
                continue;
            }
            // Often at first, where well-behaved processes exit, then every 50 ms.
            std::this_thread::sleep_for(std::min(step, left));
            step = std::min(step * 2, std::chrono::milliseconds(50));
        }
    }

    // The end: freeze whatever is left and sweep once more, so nothing can fork
    // between the last look and SIGKILL; then kill it all.
    const auto killRemaining = [&]() {
        std::vector<ProcessKey> killed;
        // Children before parents: a parent's death can orphan its process
        // group, and the kernel then sends SIGCONT to every stopped member;
        // by then they must have their SIGKILL already.
        auto members = run.open();
        std::reverse(members.begin(), members.end());
        for (std::size_t i : members) {
            if (!platform::isAlive(targets[i].key))
                continue;
            if (signal(targets[i], ProcessAction::Kill)) {
                targets[i].forced = true;
                killed.push_back(targets[i].key);
            }
        }
        return killed;
    };
    if (tree) {
        std::vector<std::size_t> alive;
        for (std::size_t i : run.open()) {
            if (platform::isAlive(targets[i].key))
                alive.push_back(i);
        }
        if (!alive.empty()) {
            // Already stopped once; a second request only matters for those
            // woken since, so its outcome is not the action's.
            for (std::size_t i : alive)
                platform::sendSignal(targets[i].key, ProcessAction::Pause);
            run.freezeTree();
        }
    }
    std::vector<ProcessKey> killed = killRemaining();
    std::vector<ProcessKey> survivors = awaitKilled(killed);
    if (tree) {
        // Killed members' children (if any appeared after all) are killed too.
        for (int round = 0; round < 4; ++round) {
            const auto added = run.discover(run.listed());
            if (added.empty())
                break;
            std::vector<ProcessKey> more;
            for (std::size_t i : added) {
                if (!targets[i].settled && signal(targets[i], ProcessAction::Kill)) {
                    targets[i].forced = true;
                    more.push_back(targets[i].key);
                }
            }
            more.insert(more.end(), survivors.begin(), survivors.end());
            survivors = awaitKilled(more);
        }
    }

    const std::unordered_set<ProcessKey, ProcessKeyHash> left(survivors.begin(), survivors.end());
    for (std::size_t i : run.open()) {
        Target& t = targets[i];
        if (!t.touched) {
            settle(t, ActionOutcome::AlreadyGone, label(t.name, t.key.pid) + " had already exited.");
            continue;
        }
        if (left.count(t.key) || (!t.forced && platform::isAlive(t.key))) {
            settle(t, ActionOutcome::Failed, survivorWords(t));
            t.result.stillAlive = true;
        } else if (action == ProcessAction::Kill) {
            settle(t, ActionOutcome::Done, label(t.name, t.key.pid) + " killed.");
        } else if (t.forced && t.terminated) {
            const auto seconds = std::chrono::duration<double>(options.grace).count();
            char grace[32];
            std::snprintf(grace, sizeof grace, "%g", seconds);
            settle(t, ActionOutcome::Done,
                   label(t.name, t.key.pid) + " ignored SIGTERM for " + grace + " s and was killed.");
        } else if (t.forced) {
            settle(t, ActionOutcome::Done,
                   label(t.name, t.key.pid) + " started while its tree was being stopped and was killed.");
        } else {
            settle(t, ActionOutcome::Done, label(t.name, t.key.pid) + " terminated.");
        }
    }

    ActionReport report;
    report.action = action;
    for (auto& t : targets)
        report.results.push_back(std::move(t.result));
    return report;
}

} // namespace headroom
