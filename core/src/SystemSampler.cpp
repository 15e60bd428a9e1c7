// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/SystemSampler.h"

#include "headroom/BuildTrees.h"
#include "headroom/CgroupMemory.h"

#include <algorithm>
#include <chrono>

namespace headroom {

SystemSampler::SystemSampler(SamplerOptions options)
    : options_(std::move(options)), classifier_(options_.classifier)
{
}

SystemSampler::~SystemSampler() = default;

void SystemSampler::setClassifierOptions(ClassifierOptions options)
{
    options_.classifier = options;
    classifier_ = RoleClassifier(std::move(options));
    roles_.clear(); // the lists changed, so may every role
}

Result<Snapshot> SystemSampler::sample()
{
    const bool firstRead = !machine_;
    if (firstRead)
        machine_ = readMachineFacts();
    const auto steady = std::chrono::steady_clock::now();
    const auto wall = std::chrono::system_clock::now();
    Result<Snapshot> collected = collect();
    if (!collected) {
        if (firstRead)
            machine_.reset(); // read while the system could not be: again next time
        return collected;
    }
    Snapshot& snapshot = collected.value();
    // Sorted here, once for every backend: readers look processes up by pid.
    const auto byPid = [](const ProcessSample& a, const ProcessSample& b) { return a.key.pid < b.key.pid; };
    if (!std::is_sorted(snapshot.processes.begin(), snapshot.processes.end(), byPid))
        std::sort(snapshot.processes.begin(), snapshot.processes.end(), byPid);
    // Stamped here, once for every backend: series use the steady clock, people the wall clock.
    snapshot.steadyNs =
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady.time_since_epoch()).count();
    snapshot.wallMs = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
    // Once for every backend: only Linux has a cgroup to read, elsewhere the
    // budget is the machine's. A few small files; the limit can change at any time.
    snapshot.budget =
        memoryBudget(snapshot.memory, readOwnCgroupMemory(options_.cgroupRoot.string(), options_.procRoot.string()));
    computeCpu(snapshot);
    std::unordered_map<ProcessKey, RoleMark, ProcessKeyHash> roles;
    roles.reserve(snapshot.processes.size());
    classifier_.classify(snapshot.processes, [&](const ProcessSample& p) {
        auto known = roles_.find(p.key);
        const ProcessRole role = known != roles_.end() && known->second.name == p.name
                                     ? known->second.role
                                     : classifier_.intrinsicRole(p);
        roles.emplace(p.key, RoleMark{p.name, role});
        return role;
    });
    roles_ = std::move(roles);
    assembleBuilds(snapshot, options_.fsRoot);
    return collected;
}

void SystemSampler::computeCpu(Snapshot& snapshot)
{
    const std::int64_t elapsedNs = previousSteadyNs_ ? snapshot.steadyNs - previousSteadyNs_ : 0;
    std::unordered_map<ProcessKey, CpuMark, ProcessKeyHash> current;
    current.reserve(snapshot.processes.size());
    for (auto& p : snapshot.processes) {
        current.emplace(p.key, CpuMark{p.cpuTimeNs});
        if (elapsedNs <= 0)
            continue;
        auto before = previousCpu_.find(p.key);
        if (before == previousCpu_.end() || before->second.cpuTimeNs > p.cpuTimeNs)
            continue;
        p.cpuPercent = 100.0 * double(p.cpuTimeNs - before->second.cpuTimeNs) / double(elapsedNs);
    }
    previousCpu_ = std::move(current);
    previousSteadyNs_ = snapshot.steadyNs;
}

} // namespace headroom
