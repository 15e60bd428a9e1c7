// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/SnapshotJson.h"

#include "headroom/BuildTrees.h"
#include "headroom/Version.h"

#include <nlohmann/json.hpp>

namespace headroom::cli {

namespace {

using nlohmann::json;

json stallJson(const PressureStall& s)
{
    return {{"avg10", s.avg10}, {"avg60", s.avg60}, {"avg300", s.avg300}, {"total_us", s.totalMicroseconds}};
}

json keyJson(const ProcessKey& k)
{
    return {{"pid", k.pid}, {"start_time", k.startTime}};
}

json optionalNumber(const std::optional<std::uint64_t>& value)
{
    return value ? json(*value) : json(nullptr);
}

json memoryJson(const MemoryStatus& m)
{
    json memory = {
        {"total", m.total},
        {"available", m.available},
        {"used", m.used},
        {"free", m.free},
        {"buffers", m.buffers},
        {"cache", m.cache},
        {"shared", m.shared},
        {"committed", m.committed},
        {"commit_limit", m.commitLimit},
        {"swap", {{"total", m.swapTotal}, {"used", m.swapUsed}, {"free", m.swapFree}}},
        {"oom_kill_count", optionalNumber(m.oomKillCount)},
    };
    if (m.compressedStored || m.compressedOriginal)
        memory["compressed"] = {{"stored", optionalNumber(m.compressedStored)},
                                {"original", optionalNumber(m.compressedOriginal)}};
    else
        memory["compressed"] = nullptr;
    if (m.pressure.available)
        memory["pressure"] = {{"some", stallJson(m.pressure.some)}, {"full", stallJson(m.pressure.full)}};
    else
        memory["pressure"] = nullptr;
    return memory;
}

// What may still be used before the tightest limit (MemoryBudget): the
// machine's, or the cgroup's Headroom runs in.
json budgetJson(const MemoryBudget& b)
{
    return {
        {"source", std::string(budgetSourceId(b.source))},
        {"available", b.availableBytes},
        {"limit", b.limitBytes},
        {"used", b.usedBytes},
        {"cgroup", b.cgroupDir.empty() ? json(nullptr) : json(b.cgroupDir)},
        {"container", b.container},
        {"system_available", b.systemAvailableBytes},
        {"words", b.describe()},
    };
}

json processJson(const ProcessSample& p)
{
    return {
        {"pid", p.key.pid},
        {"start_time", p.key.startTime},
        {"ppid", p.parentPid},
        {"uid", p.uid},
        {"user", p.user},
        {"state", std::string(1, stateLetter(p.state))},
        {"name", p.name},
        {"exe", p.exe},
        {"argv", p.argv},
        {"cwd", p.cwd},
        {"rss", p.residentBytes},
        {"private_bytes", optionalNumber(p.privateBytes)},
        {"cpu_percent", p.cpuPercent ? json(*p.cpuPercent) : json(nullptr)},
        {"cpu_time_ns", p.cpuTimeNs},
        {"threads", p.threads},
        {"started_at_ms", p.startedAtMs},
        {"kernel_thread", p.kernelThread},
        {"role", std::string(roleId(p.role))},
    };
}

json buildJson(const BuildTree& b)
{
    json members = json::array();
    for (const auto& k : b.members)
        members.push_back(keyJson(k));
    json counts = json::object();
    json bytes = json::object();
    for (ProcessRole role : kAllRoles) {
        if (b.countByRole[roleIndex(role)] == 0)
            continue;
        counts[std::string(roleId(role))] = b.countByRole[roleIndex(role)];
        bytes[std::string(roleId(role))] = b.bytesByRole[roleIndex(role)];
    }
    return {
        {"root", keyJson(b.root)},
        {"tool", b.tool},
        {"subcommand", b.subcommand},
        {"profile", b.profile},
        {"command", b.command},
        {"workspace", b.workspace},
        {"target_dir", b.targetDir},
        {"uid", b.uid},
        {"members", members},
        {"rss", b.residentBytes},
        {"counts", counts},
        {"bytes_by_role", bytes},
        {"elapsed_s", b.elapsedSeconds},
        {"duplicates", b.duplicates},
    };
}

std::string dump(const json& j, bool pretty)
{
    // Names and arguments are a process's own bytes. Escaping every non-ASCII
    // character keeps C1 controls (8-bit CSI) and bidi overrides from reaching
    // a terminal raw, while a JSON reader still gets the exact text back;
    // bytes that are not UTF-8 become U+FFFD instead of an exception.
    return j.dump(pretty ? 2 : -1, ' ', true, json::error_handler_t::replace);
}

} // namespace

std::string snapshotToJson(const Snapshot& s, bool pretty)
{
    json processes = json::array();
    for (const auto& p : s.processes)
        processes.push_back(processJson(p));
    json builds = json::array();
    for (const auto& b : s.builds)
        builds.push_back(buildJson(b));
    json totals = json::array();
    for (const auto& t : s.roleTotals)
        totals.push_back(
            {{"role", std::string(roleId(t.role))}, {"count", t.count}, {"rss", t.residentBytes}});

    const json root = {
        {"schema", "headroom.snapshot"},
        {"version", kSnapshotSchemaVersion},
        {"headroom_version", HEADROOM_VERSION},
        {"wall_ms", s.wallMs},
        {"uptime_s", s.uptimeSeconds},
        {"memory", memoryJson(s.memory)},
        {"budget", budgetJson(s.budget)},
        {"processes", processes},
        {"builds", builds},
        {"role_totals", totals},
        {"summary", describeRoleTotals(s)},
        {"notes", s.notes},
    };
    return dump(root, pretty);
}

std::string reportToJson(const ActionReport& report, bool pretty)
{
    json results = json::array();
    for (const auto& r : report.results) {
        results.push_back({{"pid", r.key.pid},
                           {"start_time", r.key.startTime},
                           {"name", r.name},
                           {"outcome", std::string(outcomeId(r.outcome))},
                           {"message", r.message}});
    }
    const json root = {{"schema", "headroom.action"},
                       {"version", kSnapshotSchemaVersion},
                       {"action", std::string(actionId(report.action))},
                       {"summary", report.summary()},
                       {"results", results}};
    return dump(root, pretty);
}

} // namespace headroom::cli
