// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/TouchPolicy.h"

#include "headroom/Platform.h"
#include "headroom/Snapshot.h"

namespace headroom {
namespace {

constexpr int kMaxTreeDepth = 128;

std::string label(const std::string& name, Pid pid)
{
    return (name.empty() ? std::string("process") : name) + " (pid " + std::to_string(pid) + ")";
}

TouchVerdict refuse(TouchRule rule, std::string reason)
{
    return {rule, std::move(reason)};
}

} // namespace

std::string_view touchRuleId(TouchRule rule)
{
    switch (rule) {
    case TouchRule::Allowed:
        return "allowed";
    case TouchRule::NotOneProcess:
        return "not-one-process";
    case TouchRule::Init:
        return "init";
    case TouchRule::KernelThread:
        return "kernel-thread";
    case TouchRule::Self:
        return "self";
    case TouchRule::Ancestor:
        return "ancestor";
    case TouchRule::RunsHeadroom:
        return "runs-headroom";
    case TouchRule::Thread:
        return "thread";
    case TouchRule::Exited:
        return "exited";
    case TouchRule::OtherUser:
        return "other-user";
    case TouchRule::NotBuild:
        return "not-build";
    }
    return "unknown";
}

TouchPolicy TouchPolicy::live(TouchScope scope)
{
    TouchPolicy policy;
    policy.scope_ = scope;
    policy.uid_ = platform::currentUid();
    policy.self_ = platform::currentPid();
    Pid at = policy.self_;
    for (int depth = 0; depth < kMaxTreeDepth; ++depth) {
        const auto me = platform::identify(at);
        if (!me || me->parentPid <= 0 || me->parentPid == at)
            break;
        const auto parent = platform::identify(me->parentPid);
        policy.ancestors_.emplace(me->parentPid, parent ? parent->name : std::string());
        at = me->parentPid;
    }
    return policy;
}

TouchPolicy TouchPolicy::of(const Snapshot& snapshot, std::uint32_t uid, Pid self, TouchScope scope)
{
    TouchPolicy policy;
    policy.scope_ = scope;
    policy.uid_ = uid;
    policy.self_ = self;
    if (self > 0) {
        const ProcessTree tree(snapshot.processes);
        for (std::size_t index : tree.ancestors(self)) {
            const ProcessSample& p = snapshot.processes[index];
            policy.ancestors_.emplace(p.key.pid, p.name);
        }
    }
    return policy;
}

bool TouchPolicy::covers(Pid pid) const
{
    return pid <= 1 || (self_ > 0 && pid == self_) || ancestors_.contains(pid);
}

TouchVerdict TouchPolicy::byPid(Pid pid) const
{
    if (pid <= 0)
        return refuse(TouchRule::NotOneProcess,
                      "pid " + std::to_string(pid) + " does not name a single process.");
    if (pid == 1)
        return refuse(TouchRule::Init,
                      "pid 1 is the init process; stopping it would bring the whole system down.");
    if (self_ > 0 && pid == self_)
        return refuse(TouchRule::Self, "pid " + std::to_string(pid) + " is Headroom itself.");
    if (auto it = ancestors_.find(pid); it != ancestors_.end())
        return refuse(TouchRule::Ancestor,
                      label(it->second, pid) +
                          " started Headroom; stopping it would stop Headroom and the session it runs in.");
    return {};
}

TouchVerdict TouchPolicy::common(Pid pid, const std::string& name, std::uint32_t uid, bool kernelThread,
                                 ProcessState state, bool checkUser) const
{
    if (auto verdict = byPid(pid); !verdict.allowed())
        return verdict;
    if (kernelThread)
        return refuse(TouchRule::KernelThread, label(name, pid) + " is a kernel thread.");
    if (state == ProcessState::Zombie)
        return refuse(TouchRule::Exited,
                      label(name, pid) + " had already exited; its parent has not collected it yet.");
    if (checkUser && uid != uid_)
        return refuse(TouchRule::OtherUser, label(name, pid) + " belongs to another user (uid " +
                                                std::to_string(uid) +
                                                "); Headroom only touches your own processes here.");
    return {};
}

TouchVerdict TouchPolicy::check(const ProcessSample& p, TouchScope scope) const
{
    if (auto verdict = common(p.key.pid, p.name, p.uid, p.kernelThread, p.state, scope.currentUserOnly);
        !verdict.allowed())
        return verdict;
    if (scope.buildRolesOnly && !isBuildRole(p.role))
        return refuse(TouchRule::NotBuild, label(p.name, p.key.pid) +
                                               " is not a build or test process; Headroom only touches "
                                               "builds here.");
    return {};
}

TouchVerdict TouchPolicy::check(const platform::ProcessIdentity& live) const
{
    if (auto verdict = byPid(live.key.pid); !verdict.allowed())
        return verdict;
    // A thread id stands for its whole process wherever a signal is concerned:
    // refused, so that nobody stops a process by naming one of its threads.
    if (live.threadOf != 0 && live.threadOf != live.key.pid) {
        const std::string head = "pid " + std::to_string(live.key.pid) + " is a thread of process " +
                                 std::to_string(live.threadOf);
        if (auto owner = protection(live.threadOf); !owner.allowed())
            return refuse(TouchRule::Thread, head + ": " + owner.reason);
        return refuse(TouchRule::Thread, head + "; stop the process instead.");
    }
    return common(live.key.pid, live.name, live.uid, live.kernelThread, live.state, scope_.currentUserOnly);
}

TouchVerdict TouchPolicy::check(const Snapshot& snapshot, const BuildTree& build) const
{
    const ProcessSample* root = snapshot.find(build.root);
    if (!root)
        return refuse(TouchRule::Exited,
                      "the build of pid " + std::to_string(build.root.pid) + " has exited.");
    TouchScope scope = scope_;
    scope.buildRolesOnly = false; // a build tree is a build, whatever its root is called
    if (auto verdict = check(*root, scope); !verdict.allowed())
        return verdict;
    if (scope.currentUserOnly && build.uid != uid_)
        return refuse(TouchRule::OtherUser, label(root->name, root->key.pid) +
                                                " belongs to another user (uid " + std::to_string(build.uid) +
                                                "); Headroom only touches your own processes here.");
    for (const ProcessKey& member : build.members) {
        if (!covers(member.pid))
            continue;
        const auto inside = byPid(member.pid);
        return refuse(TouchRule::RunsHeadroom, "the build of " + label(root->name, root->key.pid) +
                                                   " holds Headroom: " + inside.reason);
    }
    return {};
}

TouchVerdict TouchPolicy::protection(Pid pid) const
{
    if (auto verdict = byPid(pid); !verdict.allowed())
        return verdict;
    const auto live = platform::identify(pid);
    if (!live)
        return {};
    if (live->threadOf != 0 && live->threadOf != pid) {
        if (auto owner = protection(live->threadOf); !owner.allowed())
            return refuse(TouchRule::Thread, "pid " + std::to_string(pid) + " is a thread of process " +
                                                 std::to_string(live->threadOf) + ": " + owner.reason);
        return {};
    }
    if (live->kernelThread)
        return refuse(TouchRule::KernelThread, label(live->name, pid) + " is a kernel thread.");
    return {};
}

} // namespace headroom
