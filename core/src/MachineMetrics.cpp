// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MachineMetrics.h"

#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string_view>

namespace headroom {

namespace {

namespace name {
constexpr const char* kPsiSome = "headroom_memory_pressure_some_avg10_percent";
constexpr const char* kPsiFull = "headroom_memory_pressure_full_avg10_percent";
constexpr const char* kBudgetInfo = "headroom_budget_info";
constexpr const char* kExhaustion = "headroom_exhaustion_seconds";
constexpr const char* kRoleProcesses = "headroom_role_processes";
constexpr const char* kBuilds = "headroom_builds";
constexpr const char* kBuildProcesses = "headroom_build_processes";
constexpr const char* kBuildElapsed = "headroom_build_elapsed_seconds";
constexpr const char* kPoolGranted = "headroom_pool_granted_tokens";
constexpr const char* kPoolInUse = "headroom_pool_in_use_tokens";
constexpr const char* kPoolCapacity = "headroom_pool_capacity_tokens";
constexpr const char* kPoolBuilds = "headroom_pool_builds";
constexpr const char* kPoolJobs = "headroom_pool_jobs";
constexpr const char* kPoolHeldBack = "headroom_pool_held_back_builds";
constexpr const char* kPoolBudget = "headroom_pool_budget_bytes";
constexpr const char* kPoolReserve = "headroom_pool_reserve_bytes";
constexpr const char* kOutcomes = "headroom_build_outcomes_total";
constexpr const char* kCratePeak = "headroom_crate_peak_bytes";
constexpr const char* kTimestamp = "headroom_sample_timestamp_seconds";
constexpr const char* kInfo = "headroom_info";
} // namespace name

constexpr std::array<PressureLevel, 3> kLevels = {PressureLevel::Normal, PressureLevel::Warning,
                                                  PressureLevel::Critical};
constexpr std::array<BudgetSource, 4> kSources = {BudgetSource::System, BudgetSource::CgroupV1,
                                                  BudgetSource::CgroupV2Max, BudgetSource::CgroupV2High};

std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes)
{
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001B3ull;
    }
    return hash;
}

constexpr std::uint64_t kFnvBasis = 0xCBF29CE484222325ull;

// A build's name in the series: stable while the build runs, the same on
// every scrape, and no pid (a pid names nothing on the reader's machine).
std::string buildId(const ProcessKey& root)
{
    std::uint64_t h = fnv1a(kFnvBasis, std::to_string(root.pid));
    h = fnv1a(h, "/");
    h = fnv1a(h, std::to_string(root.startTime));
    char text[16];
    std::snprintf(text, sizeof text, "%08x", unsigned((h >> 32) ^ (h & 0xFFFFFFFFu)));
    return text;
}

// The exporter's build id, where a read-back build keeps it (command lines
// are not exported).
constexpr std::string_view kBuildCommandPrefix = "build ";

std::string_view boolText(bool value)
{
    return value ? "true" : "false";
}

double toDouble(std::uint64_t value)
{
    return static_cast<double>(value);
}

// Bytes, counts: a sample's value as a whole number, hostile values (NaN,
// negative, past 2^64) as 0.
std::uint64_t toCount(double value)
{
    if (!std::isfinite(value) || value <= 0.0)
        return 0;
    if (value >= 18446744073709551615.0)
        return std::numeric_limits<std::uint64_t>::max();
    return static_cast<std::uint64_t>(std::round(value));
}

// A wall clock from the samples in nanoseconds, for steadyNs: times past
// the year 2262 (a hostile server's) are held there rather than overflowing.
constexpr double kMaxSeconds = 9.0e9;
std::int64_t nanosecondsOf(std::int64_t ms)
{
    constexpr std::int64_t kLimit = std::int64_t(kMaxSeconds) * 1000;
    return std::clamp(ms, -kLimit, kLimit) * 1000000;
}

unsigned toUnsigned(double value)
{
    return static_cast<unsigned>(
        std::min<std::uint64_t>(toCount(value), std::numeric_limits<unsigned>::max()));
}

// The job pool's families, written and read back from this one list.
struct PoolField {
    const char* name;
    const char* help;
    unsigned PoolSummary::*count = nullptr;      // a count, or
    std::uint64_t PoolSummary::*bytes = nullptr; // bytes
};
constexpr PoolField kPoolFields[] = {
    {name::kPoolGranted, "Job pool: tokens given to the builds' lanes.", &PoolSummary::granted},
    {name::kPoolInUse, "Job pool: of those, tokens held by running jobs.", &PoolSummary::inUse},
    {name::kPoolCapacity, "Job pool: tokens at most (CPUs - 1).", &PoolSummary::capacity},
    {name::kPoolBuilds, "Job pool: builds drawing from it.", &PoolSummary::builds},
    {name::kPoolJobs, "Job pool: jobs running in its builds.", &PoolSummary::jobs},
    {name::kPoolHeldBack, "Job pool: builds given no more tokens for now.", &PoolSummary::heldBack},
    {name::kPoolBudget, "Job pool: what may still be used before the limit, as the pool reads the budget.",
     nullptr, &PoolSummary::budgetBytes},
    {name::kPoolReserve, "Job pool: what it keeps free of that budget.", nullptr, &PoolSummary::reserveBytes},
};

} // namespace

std::string renderMachineMetrics(const MachineMetricsInputs& in)
{
    MetricsWriter w;
    if (!in.snapshot)
        return w.text();
    const Snapshot& s = *in.snapshot;
    const MemoryStatus& m = s.memory;

    w.family(metric::kMemoryTotal, MetricType::Gauge, "Physical memory (RAM) of the machine.");
    w.sample({}, toDouble(m.total));
    w.family(metric::kMemoryAvailable, MetricType::Gauge,
             "Memory available for new work without swapping (MemAvailable).");
    w.sample({}, toDouble(m.available));
    w.family(metric::kMemoryUsed, MetricType::Gauge,
             "Memory in use: total less available, as free(1) counts it.");
    w.sample({}, toDouble(m.used));
    w.family(metric::kSwapTotal, MetricType::Gauge, "Swap space of the machine.");
    w.sample({}, toDouble(m.swapTotal));
    w.family(metric::kSwapUsed, MetricType::Gauge, "Swap space in use.");
    w.sample({}, toDouble(m.swapUsed));
    if (m.pressure.available) {
        w.family(name::kPsiSome, MetricType::Gauge,
                 "Share of the last 10 s some tasks stalled on memory (PSI some avg10), percent.");
        w.sample({}, m.pressure.some.avg10);
        w.family(name::kPsiFull, MetricType::Gauge,
                 "Share of the last 10 s all tasks stalled on memory (PSI full avg10), percent.");
        w.sample({}, m.pressure.full.avg10);
    }

    w.family(metric::kBudgetAvailable, MetricType::Gauge,
             "What may still be used before the tightest limit (the machine's or the memory cgroup's).");
    w.sample({}, toDouble(s.budget.availableBytes));
    w.family(metric::kBudgetLimit, MetricType::Gauge, "The size of that tightest limit.");
    w.sample({}, toDouble(s.budget.limitBytes));
    w.family(name::kBudgetInfo, MetricType::Gauge, "Which limit the budget is, always 1.");
    w.sample({{"source", std::string(budgetSourceId(s.budget.source))},
              {"container", std::string(boolText(s.budget.container))},
              {"limit", s.budget.describe()},
              {"swap_counted", std::string(boolText(s.budget.swapCounted))}},
             1.0);

    w.family(metric::kLevel, MetricType::Gauge,
             "Memory pressure level: 1 for the current level, 0 for the others.");
    for (PressureLevel level : kLevels)
        w.sample({{"level", std::string(levelId(level))}}, level == in.level.level ? 1.0 : 0.0);
    if (in.secondsLeft) {
        w.family(name::kExhaustion, MetricType::Gauge,
                 "Seconds until memory and swap run out at the present rate of decline.");
        w.sample({}, *in.secondsLeft);
    }

    w.family(metric::kRoleResident, MetricType::Gauge, "Resident memory of the processes of each role.");
    for (ProcessRole role : kAllRoles)
        w.sample({{"role", std::string(roleId(role))}}, toDouble(s.total(role).residentBytes));
    w.family(name::kRoleProcesses, MetricType::Gauge, "Processes of each role.");
    for (ProcessRole role : kAllRoles)
        w.sample({{"role", std::string(roleId(role))}}, s.total(role).count);

    w.family(name::kBuilds, MetricType::Gauge, "Builds running (every one, also those not exported).");
    w.sample({}, toDouble(s.builds.size()));
    const std::size_t shown = std::min(s.builds.size(), kMaxExportedBuilds);
    std::vector<std::size_t> order(s.builds.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&s](std::size_t a, std::size_t b) {
        return s.builds[a].residentBytes > s.builds[b].residentBytes;
    });
    order.resize(shown);
    std::vector<std::string> ids;
    for (std::size_t i : order) {
        std::string id = buildId(s.builds[i].root);
        // Two builds whose ids collide would be one series twice, which
        // Prometheus refuses: the later one gets a suffix.
        for (int n = 2; std::find(ids.begin(), ids.end(), id) != ids.end(); ++n)
            id = buildId(s.builds[i].root) + "-" + std::to_string(n);
        ids.push_back(std::move(id));
    }
    w.family(metric::kBuildResident, MetricType::Gauge,
             "Resident memory of a build's whole process tree (the heaviest builds only).");
    for (std::size_t k = 0; k < order.size(); ++k) {
        const BuildTree& b = s.builds[order[k]];
        w.sample({{"build", ids[k]},
                  {"tool", b.tool},
                  {"subcommand", b.subcommand},
                  {"profile", b.profile},
                  {"workspace", b.workspace},
                  {"duplicate", std::string(boolText(!b.duplicates.empty()))}},
                 toDouble(b.residentBytes));
    }
    w.family(name::kBuildProcesses, MetricType::Gauge, "Processes of a build's tree, by role.");
    for (std::size_t k = 0; k < order.size(); ++k) {
        const BuildTree& b = s.builds[order[k]];
        for (ProcessRole role : kAllRoles)
            if (b.count(role) > 0)
                w.sample({{"build", ids[k]}, {"role", std::string(roleId(role))}}, b.count(role));
    }
    w.family(name::kBuildElapsed, MetricType::Gauge, "Seconds since a build's first process started.");
    for (std::size_t k = 0; k < order.size(); ++k)
        w.sample({{"build", ids[k]}}, s.builds[order[k]].elapsedSeconds);

    if (in.pool) {
        const PoolState& p = *in.pool;
        unsigned inUse = 0, jobs = 0, heldBack = 0;
        for (const PoolMember& member : p.members) {
            inUse += member.inUse;
            jobs += member.jobs;
            heldBack += member.heldBack.empty() ? 0 : 1;
        }
        PoolSummary summary;
        summary.granted = p.granted();
        summary.inUse = inUse;
        summary.capacity = p.cpus > 1 ? p.cpus - 1 : 0;
        summary.builds = static_cast<unsigned>(p.members.size());
        summary.jobs = jobs;
        summary.heldBack = heldBack;
        summary.budgetBytes = s.budget.availableBytes;
        summary.reserveBytes = poolReserve(s.budget);
        for (const PoolField& field : kPoolFields) {
            w.family(field.name, MetricType::Gauge, field.help);
            w.sample({}, field.count ? static_cast<double>(summary.*field.count)
                                     : toDouble(summary.*field.bytes));
        }
    }

    w.family(name::kOutcomes, MetricType::Counter,
             "Finished supervised builds by preset and verdict, since the exporter started.");
    for (const BuildOutcomeCount& o : in.outcomes)
        w.sample({{"preset", o.preset}, {"verdict", o.verdict}}, toDouble(o.count));

    std::vector<const CratePeak*> peaks;
    for (const CratePeak& p : in.peaks)
        peaks.push_back(&p);
    const std::size_t keptPeaks = std::min(peaks.size(), kMaxExportedPeaks);
    std::partial_sort(peaks.begin(), peaks.begin() + std::ptrdiff_t(keptPeaks), peaks.end(),
                      [](const CratePeak* a, const CratePeak* b) { return a->bytes > b->bytes; });
    w.family(name::kCratePeak, MetricType::Gauge,
             "The last learned peak of a crate's build (the heaviest crates only).");
    for (std::size_t i = 0; i < keptPeaks; ++i)
        w.sample({{"project", peaks[i]->project},
                  {"crate", peaks[i]->crate},
                  {"oom_killed", std::string(boolText(peaks[i]->oomKilled))}},
                 toDouble(peaks[i]->bytes));

    w.family(name::kTimestamp, MetricType::Gauge, "Wall clock of the sample, seconds since the epoch.");
    w.sample({}, double(s.wallMs) / 1000.0);
    w.family(name::kInfo, MetricType::Gauge, "The machine's name and Headroom's version, always 1.");
    w.sample({{"hostname", in.hostname}, {"version", in.version}}, 1.0);
    return w.text();
}

std::vector<BuildOutcomeCount> countOutcomes(const std::vector<RunStatus>& finished)
{
    std::map<std::pair<std::string, std::string>, std::uint64_t> counts;
    for (const RunStatus& status : finished) {
        std::string verdict;
        if (status.state == RunState::Finished)
            verdict = status.diagnosis ? std::string(verdictId(status.diagnosis->verdict)) : "unknown";
        else if (status.state == RunState::SupervisorLost)
            verdict = std::string(runStateId(status.state));
        else
            continue; // still running: no outcome yet
        ++counts[{std::string(presetId(status.spec.preset)), verdict}];
    }
    std::vector<BuildOutcomeCount> out;
    for (const auto& [key, count] : counts)
        out.push_back({key.first, key.second, count});
    return out;
}

ProcessKey remoteBuildKey(const BuildTree& build)
{
    std::uint64_t h = kFnvBasis;
    for (std::string_view part :
         {std::string_view(build.tool), std::string_view(build.subcommand), std::string_view(build.profile),
          std::string_view(build.workspace), std::string_view(build.command)}) {
        h = fnv1a(h, part);
        h = fnv1a(h, std::string_view("\0", 1));
    }
    return {0, h == 0 ? 1 : h};
}

namespace {

struct BuildReading {
    std::string id;
    BuildTree tree;
    bool duplicate = false;
    std::size_t seen = 0; // order of appearance, for ties
};

void setBuildLabels(BuildTree& b, const MetricLabels& labels, std::string_view id)
{
    const auto get = [&labels](std::string_view key) {
        for (const auto& [k, v] : labels)
            if (k == key)
                return v;
        return std::string();
    };
    b.tool = get("tool");
    b.subcommand = get("subcommand");
    b.profile = get("profile");
    b.workspace = get("workspace");
    b.command = std::string(kBuildCommandPrefix) + std::string(id);
}

// Indices of the other builds of the same workspace that say they are
// duplicates (a duplicate whose partner is not among the exported builds
// points at itself, so the flag survives).
void linkDuplicates(std::vector<BuildTree>& builds, const std::vector<bool>& duplicate)
{
    for (std::size_t i = 0; i < builds.size(); ++i) {
        if (!duplicate[i])
            continue;
        for (std::size_t j = 0; j < builds.size(); ++j)
            if (j != i && duplicate[j] && builds[j].workspace == builds[i].workspace)
                builds[i].duplicates.push_back(j);
        if (builds[i].duplicates.empty())
            builds[i].duplicates.push_back(i);
    }
}

void initRoles(Snapshot& s)
{
    for (ProcessRole role : kAllRoles)
        s.roleTotals[roleIndex(role)].role = role;
}

std::optional<ProcessRole> roleOf(const MetricLabels& labels)
{
    for (const auto& [k, v] : labels)
        if (k == "role")
            return roleFromId(v);
    return std::nullopt;
}

} // namespace

Result<MachineView> machineViewFromSamples(const std::vector<MetricSample>& samples)
{
    MachineView v;
    Snapshot& s = v.snapshot;
    initRoles(s);
    bool any = false;
    bool levelSeen = false;
    std::map<std::string, BuildReading> builds;
    PoolSummary pool;
    bool poolSeen = false;
    std::map<std::pair<std::string, std::string>, std::uint64_t> outcomes;

    const auto build = [&builds](const MetricSample& sample) -> BuildReading* {
        const std::string_view id = sample.label("build");
        if (id.empty())
            return nullptr;
        auto [it, added] = builds.try_emplace(std::string(id));
        if (added) {
            it->second.id = std::string(id);
            it->second.seen = builds.size();
        }
        return &it->second;
    };

    for (const MetricSample& sample : samples) {
        const std::string& n = sample.name;
        if (!n.starts_with("headroom_"))
            continue;
        any = true;
        const double x = sample.value;
        if (n == metric::kMemoryTotal)
            s.memory.total = toCount(x);
        else if (n == metric::kMemoryAvailable)
            s.memory.available = toCount(x);
        else if (n == metric::kMemoryUsed)
            s.memory.used = toCount(x);
        else if (n == metric::kSwapTotal)
            s.memory.swapTotal = toCount(x);
        else if (n == metric::kSwapUsed)
            s.memory.swapUsed = toCount(x);
        else if (n == name::kPsiSome) {
            s.memory.pressure.available = true;
            s.memory.pressure.some.avg10 = std::isfinite(x) ? x : 0.0;
        } else if (n == name::kPsiFull) {
            s.memory.pressure.available = true;
            s.memory.pressure.full.avg10 = std::isfinite(x) ? x : 0.0;
        } else if (n == metric::kBudgetAvailable)
            s.budget.availableBytes = toCount(x);
        else if (n == metric::kBudgetLimit)
            s.budget.limitBytes = toCount(x);
        else if (n == name::kBudgetInfo) {
            for (BudgetSource source : kSources)
                if (sample.label("source") == budgetSourceId(source))
                    s.budget.source = source;
            s.budget.container = sample.label("container") == "true";
            s.budget.swapCounted = sample.label("swap_counted") == "true";
        } else if (n == metric::kLevel) {
            if (x == 1.0) {
                for (PressureLevel level : kLevels)
                    if (sample.label("level") == levelId(level) && (!levelSeen || level > v.level.level)) {
                        v.level.level = level;
                        levelSeen = true;
                    }
            }
        } else if (n == name::kExhaustion) {
            if (std::isfinite(x) && x >= 0.0)
                v.secondsLeft = x;
        } else if (n == metric::kRoleResident) {
            if (const auto role = roleOf(sample.labels))
                s.roleTotals[roleIndex(*role)].residentBytes = toCount(x);
        } else if (n == name::kRoleProcesses) {
            if (const auto role = roleOf(sample.labels))
                s.roleTotals[roleIndex(*role)].count = toUnsigned(x);
        } else if (n == metric::kBuildResident) {
            if (BuildReading* b = build(sample)) {
                setBuildLabels(b->tree, sample.labels, sample.label("build"));
                b->tree.residentBytes = toCount(x);
                b->duplicate = sample.label("duplicate") == "true";
            }
        } else if (n == name::kBuildProcesses) {
            if (BuildReading* b = build(sample))
                if (const auto role = roleOf(sample.labels))
                    b->tree.countByRole[roleIndex(*role)] = toUnsigned(x);
        } else if (n == name::kBuildElapsed) {
            if (BuildReading* b = build(sample))
                b->tree.elapsedSeconds = std::isfinite(x) && x > 0.0 ? x : 0.0;
        } else if (n.starts_with("headroom_pool_")) {
            poolSeen = true;
            for (const PoolField& field : kPoolFields) {
                if (n != field.name)
                    continue;
                if (field.count)
                    pool.*field.count = toUnsigned(x);
                else
                    pool.*field.bytes = toCount(x);
            }
        } else if (n == name::kOutcomes) {
            outcomes[{std::string(sample.label("preset")), std::string(sample.label("verdict"))}] +=
                toCount(x);
        } else if (n == name::kCratePeak) {
            v.peaks.push_back({std::string(sample.label("project")), std::string(sample.label("crate")),
                               toCount(x), sample.label("oom_killed") == "true"});
        } else if (n == name::kTimestamp) {
            if (std::isfinite(x) && x > 0.0 && x < kMaxSeconds)
                s.wallMs = static_cast<std::int64_t>(std::llround(x * 1000.0));
        } else if (n == name::kInfo) {
            v.hostname = std::string(sample.label("hostname"));
            v.version = std::string(sample.label("version"));
        }
    }
    if (!any)
        return Result<MachineView>::failure("no headroom_ series: is this a Headroom exporter?");

    MemoryStatus& m = s.memory;
    m.swapFree = m.swapTotal > m.swapUsed ? m.swapTotal - m.swapUsed : 0;
    s.budget.usedBytes =
        s.budget.limitBytes > s.budget.availableBytes ? s.budget.limitBytes - s.budget.availableBytes : 0;
    s.budget.systemAvailableBytes = m.available + (s.budget.swapCounted ? m.swapFree : 0);
    s.budget.systemLimitBytes = m.total + (s.budget.swapCounted ? m.swapTotal : 0);
    s.steadyNs = nanosecondsOf(s.wallMs);
    if (v.level.level != PressureLevel::Normal) {
        // The exporter sends the level, not its reason: the figures say it again.
        LevelReading again = PressureLevelMachine::assess(m, s.budget, PressureThresholds{}, 0.0);
        if (again.level == v.level.level)
            v.level.reason = again.reason;
    }

    std::vector<BuildReading*> readings;
    for (auto& [id, reading] : builds)
        readings.push_back(&reading);
    std::stable_sort(readings.begin(), readings.end(), [](const BuildReading* a, const BuildReading* b) {
        if (a->tree.residentBytes != b->tree.residentBytes)
            return a->tree.residentBytes > b->tree.residentBytes;
        return a->seen < b->seen;
    });
    // A hostile or broken exporter may send any number: the view keeps what
    // Headroom's own exporter would send at most.
    if (readings.size() > kMaxExportedBuilds)
        readings.resize(kMaxExportedBuilds);
    std::vector<bool> duplicate;
    for (BuildReading* r : readings) {
        BuildTree& b = r->tree;
        if (b.command.empty()) // seen only in other families: its id is all there is
            b.command = std::string(kBuildCommandPrefix) + r->id;
        b.root = remoteBuildKey(b);
        duplicate.push_back(r->duplicate);
        s.builds.push_back(std::move(b));
    }
    linkDuplicates(s.builds, duplicate);

    if (poolSeen)
        v.pool = pool;
    for (const auto& [key, count] : outcomes)
        v.outcomes.push_back({key.first, key.second, count});
    std::stable_sort(v.peaks.begin(), v.peaks.end(),
                     [](const CratePeak& a, const CratePeak& b) { return a.bytes > b.bytes; });
    if (v.peaks.size() > kMaxExportedPeaks)
        v.peaks.resize(kMaxExportedPeaks);
    return Result<MachineView>::success(std::move(v));
}

std::vector<Snapshot> machineHistoryFromSeries(const std::vector<MetricSeries>& series)
{
    std::map<std::int64_t, Snapshot> byTime;
    const auto at = [&byTime](std::int64_t ms) -> Snapshot& {
        auto [it, added] = byTime.try_emplace(ms);
        if (added) {
            it->second.wallMs = ms;
            it->second.steadyNs = nanosecondsOf(ms);
            initRoles(it->second);
        }
        return it->second;
    };
    const auto labelOf = [](const MetricLabels& labels, std::string_view key) {
        for (const auto& [k, v] : labels)
            if (k == key)
                return std::string_view(v);
        return std::string_view();
    };
    for (const MetricSeries& one : series) {
        const std::string& n = one.name;
        std::uint64_t MemoryStatus::*memoryField = nullptr;
        if (n == metric::kMemoryTotal)
            memoryField = &MemoryStatus::total;
        else if (n == metric::kMemoryAvailable)
            memoryField = &MemoryStatus::available;
        else if (n == metric::kMemoryUsed)
            memoryField = &MemoryStatus::used;
        else if (n == metric::kSwapTotal)
            memoryField = &MemoryStatus::swapTotal;
        else if (n == metric::kSwapUsed)
            memoryField = &MemoryStatus::swapUsed;
        if (memoryField) {
            for (const auto& [ms, value] : one.points)
                at(ms).memory.*memoryField = toCount(value);
            continue;
        }
        if (n == metric::kBudgetAvailable || n == metric::kBudgetLimit) {
            const bool available = n == metric::kBudgetAvailable;
            for (const auto& [ms, value] : one.points)
                (available ? at(ms).budget.availableBytes : at(ms).budget.limitBytes) = toCount(value);
            continue;
        }
        if (n == metric::kRoleResident) {
            const auto role = roleOf(one.labels);
            if (!role)
                continue;
            for (const auto& [ms, value] : one.points)
                at(ms).roleTotals[roleIndex(*role)].residentBytes = toCount(value);
            continue;
        }
        if (n == metric::kBuildResident) {
            const std::string_view id = labelOf(one.labels, "build");
            if (id.empty())
                continue;
            BuildTree b;
            setBuildLabels(b, one.labels, id);
            b.root = remoteBuildKey(b);
            for (const auto& [ms, value] : one.points) {
                Snapshot& s = at(ms);
                BuildTree copy = b;
                copy.residentBytes = toCount(value);
                s.builds.push_back(std::move(copy));
            }
        }
    }
    std::vector<Snapshot> out;
    out.reserve(byTime.size());
    for (auto& [ms, s] : byTime) {
        MemoryStatus& m = s.memory;
        m.swapFree = m.swapTotal > m.swapUsed ? m.swapTotal - m.swapUsed : 0;
        s.budget.usedBytes =
            s.budget.limitBytes > s.budget.availableBytes ? s.budget.limitBytes - s.budget.availableBytes : 0;
        std::stable_sort(s.builds.begin(), s.builds.end(), [](const BuildTree& a, const BuildTree& b) {
            return a.residentBytes > b.residentBytes;
        });
        if (s.builds.size() > kMaxExportedBuilds)
            s.builds.resize(kMaxExportedBuilds);
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace headroom
