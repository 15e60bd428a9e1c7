// SPDX-License-Identifier: GPL-3.0-or-later
// A supervised run's part in the job pool: its lane, its ledger entry, the
// learned peaks and the policy, steered once per memory sample.
#include "headroom/AdaptivePool.h"

#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"
#include "headroom/RunObserver.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace headroom {

namespace {

constexpr std::string_view kBuildScriptUnit = "build-script:";
constexpr std::string_view kBuildScriptProgram = "build-script-build";
constexpr std::int64_t kReasonLogPeriodMs = 1000;
constexpr std::size_t kNameBytes = 120;  // a job's name in the status and the log
constexpr std::size_t kPausedShown = 16; // paused jobs named in the status

std::int64_t wallNowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

unsigned cpuCount()
{
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? n : 1;
}

std::string_view baseName(std::string_view path)
{
    const auto slash = path.find_last_of("/\\");
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// A peak that was cut short by an OOM kill: the real one is higher.
std::uint64_t predictedFrom(const LearnedPeak& peak)
{
    return peak.oomKilled ? peak.bytes + peak.bytes / 4 : peak.bytes;
}

// The job's name as the policy's words use it.
std::string jobName(std::string_view unit)
{
    if (unit.starts_with(kBuildScriptUnit))
        return "build script of " + std::string(unit.substr(kBuildScriptUnit.size()));
    return std::string(unit);
}

// A unit as cargo's progress bar names what it builds: "serde", "ring(build)"
// (its build script runs), "ring(build.rs)" (its build script compiles).
std::string unitOfProgressName(std::string_view name)
{
    std::string out;
    if (name.ends_with("(build)")) {
        out = std::string(kBuildScriptUnit) + std::string(name.substr(0, name.size() - 7));
        return out;
    }
    if (name.ends_with("(build.rs)"))
        return "build_script_build";
    if (const auto paren = name.find('('); paren != std::string_view::npos)
        name = name.substr(0, paren);
    out = std::string(name);
    std::replace(out.begin(), out.end(), '-', '_'); // the crate name of a package
    return out;
}

// Digits taken out: "0.8 GiB left" and "0.7 GiB left" are the same reason.
std::string reasonShape(const std::string& reason)
{
    std::string out;
    for (char c : reason) {
        if ((c >= '0' && c <= '9') || c == '.')
            continue;
        out += c;
    }
    return out;
}

struct FoundJob {
    PoolJob job;
    std::string unit; // empty for a linker on its own
    const ProcessSample* sample = nullptr;
};

} // namespace

std::string buildScriptPackageOf(std::string_view path)
{
    if (baseName(path) != kBuildScriptProgram)
        return {};
    std::string_view dir = path.substr(0, path.size() - kBuildScriptProgram.size());
    while (!dir.empty() && (dir.back() == '/' || dir.back() == '\\'))
        dir.remove_suffix(1);
    const std::string_view folder = baseName(dir);
    // <pkg>-<hash>: the hash is cargo's metadata, hex digits after the last '-'.
    const auto dash = folder.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == folder.size())
        return {};
    for (char c : folder.substr(dash + 1)) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (!hex)
            return {};
    }
    return std::string(folder.substr(0, dash));
}

std::string poolUnitOf(const ProcessSample& p)
{
    if (p.role == ProcessRole::Rustc)
        return crateNameOf(p);
    for (const std::string* path : {&p.exe, p.argv.empty() ? nullptr : &p.argv.front()}) {
        if (!path || path->empty())
            continue;
        const std::string package = buildScriptPackageOf(*path);
        if (!package.empty())
            return std::string(kBuildScriptUnit) + package;
    }
    return {};
}

std::string poolUnitWords(std::string_view unit)
{
    if (unit.starts_with(kBuildScriptUnit))
        return "the build script of " + std::string(unit.substr(kBuildScriptUnit.size()));
    return std::string(unit);
}

struct AdaptivePool::State {
    std::string runId;
    std::string title;
    std::string project;
    unsigned startTokens = 0;
    AdaptiveOptions options;
    JobPool pool;
    std::unique_ptr<JobLane> lane;
    LearnedPeaks peaks;
    ProcessKey self;
    unsigned cpus = 1;

    std::optional<std::string> exclusive; // a unit, built alone after its OOM kill
    bool exclusiveSeen = false;

    std::int64_t lastGrantMs = 0;
    std::map<ProcessKey, std::string> paused; // our jobs the pool paused, with their names
    std::map<std::string, std::uint64_t> peaksSeen;
    std::set<std::string> seenUnits;     // units that ran (or run) in this run
    std::vector<std::string> startOrder; // the same, in the order they were first seen
    // The order the project's last build started its units in, and the
    // place in it of the latest unit of it seen in this run (-1: none yet).
    std::vector<std::string> learnedOrder;
    std::map<std::string, int> learnedPlace;
    int orderCursor = -1;
    std::set<ProcessKey> jobsSeen; // the jobs of the last sample
    std::optional<std::string> largest;

    // What the others held at the last ledger update (used when it cannot be read).
    unsigned othersGranted = 0;
    std::uint64_t othersGrowth = 0;
    std::int64_t othersYoungest = 0;
    unsigned poolBuilds = 1;
    bool ledgerProblemSaid = false;

    // The log's memory.
    bool sawJobs = false;
    std::optional<unsigned> loggedTokens;
    std::string loggedReasonShape;
    std::int64_t loggedReasonMs = 0;

    explicit State(AdaptiveOptions o) : options(std::move(o)), pool(options.poolDir) {}
};

AdaptivePool::AdaptivePool() = default;

AdaptivePool::~AdaptivePool()
{
    if (!state_)
        return;
    for (const auto& [key, name] : state_->paused) {
        ActionOptions options;
        options.tree = true;
        options.onlyCurrentUser = true;
        ProcessControl().apply(key, ProcessAction::Resume, options);
    }
    state_->paused.clear();
    if (state_->lane) [[maybe_unused]]
        const auto left = state_->pool.leave(state_->runId);
    state_->lane.reset();
}

Result<std::unique_ptr<AdaptivePool>> AdaptivePool::join(const RunSpec& spec, AdaptiveOptions options)
{
    using R = Result<std::unique_ptr<AdaptivePool>>;
    std::unique_ptr<AdaptivePool> pool(new AdaptivePool());
    pool->state_ = std::make_unique<State>(std::move(options));
    State& s = *pool->state_;
    s.runId = spec.id;
    s.title = spec.title;
    s.project = spec.project;
    s.startTokens = spec.poolStartTokens;
    s.cpus = cpuCount();
    if (!isValidRunId(s.runId))
        return R::failure("the run's id \"" + safeText(s.runId, 64) + "\" cannot name a job lane");
    if (auto ready = s.pool.prepare(); !ready)
        return R::failure(ready.error());
    auto lane = JobLane::create(s.pool.dir(), s.runId, maxPoolTokens(s.cpus));
    if (!lane)
        return R::failure(lane.error());
    s.lane = std::move(lane.value());
    const auto me = platform::identify(platform::currentPid());
    s.self = me ? me->key : ProcessKey{platform::currentPid(), 0};
    s.peaks = LearnedPeaks::load(s.options.peaksPath);
    s.learnedOrder = s.peaks.order(s.project);
    for (std::size_t i = 0; i < s.learnedOrder.size(); ++i)
        s.learnedPlace.emplace(s.learnedOrder[i], int(i));
    const std::int64_t now = wallNowMs();
    auto joined = s.pool.update([&](PoolState& state) {
        state.cpus = s.cpus;
        state.members.erase(std::remove_if(state.members.begin(), state.members.end(),
                                           [&](const PoolMember& m) { return m.runId == s.runId; }),
                            state.members.end());
        PoolMember m;
        m.runId = s.runId;
        m.supervisor = s.self;
        m.title = s.title;
        m.updatedMs = now;
        state.members.push_back(std::move(m));
        state.updatedMs = now;
    });
    if (!joined) {
        s.lane.reset(); // nothing to leave: the ledger never had us
        return R::failure(joined.error());
    }
    s.poolBuilds = unsigned(joined->members.size());
    return R::success(std::move(pool));
}

std::string AdaptivePool::prepare(ChildSpec& child) const
{
    const JobserverEnvironment env = jobserverEnvironment(state_->lane->makeflags());
    std::vector<std::string> dropped;
    for (const auto& name : env.unset) {
        // The step's own setting of it would win over the removal.
        if (child.environment.erase(name) > 0)
            dropped.push_back(name);
        if (std::find(child.unsetEnvironment.begin(), child.unsetEnvironment.end(), name) ==
            child.unsetEnvironment.end())
            child.unsetEnvironment.push_back(name);
    }
    for (const auto& [name, value] : env.set)
        child.environment[name] = value;
    std::vector<std::string> removed;
    if (!child.argv.empty()) {
        const std::vector<std::string> args(child.argv.begin() + 1, child.argv.end());
        std::vector<std::string> kept = withoutJobsArguments(child.argv.front(), args, &removed);
        kept.insert(kept.begin(), child.argv.front());
        child.argv = std::move(kept);
    }
    std::string words;
    for (const auto& r : removed)
        words += (words.empty() ? "" : " ") + r;
    for (const auto& d : dropped)
        words += (words.empty() ? "" : ", ") + d;
    if (words.empty())
        return {};
    return "Headroom: " + safeText(words, 200) + " " + (removed.size() + dropped.size() > 1 ? "are" : "is") +
           " left out: the job pool decides the parallelism";
}

AdaptivePool::Tick AdaptivePool::tick(const Snapshot& snapshot, const std::optional<ProcessKey>& root,
                                      const std::vector<std::string>& compilingNow, std::int64_t nowMs)
{
    State& s = *state_;
    const PoolSettings& settings = s.options.settings;

    // The run's jobs: each rustc, build script and linker below the root that
    // is not itself inside another job, with its whole subtree's memory.
    std::vector<FoundJob> jobs;
    if (root && snapshot.find(*root)) {
        const ProcessTree tree(snapshot.processes);
        std::unordered_map<Pid, std::size_t> owner; // pid -> index into jobs
        for (std::size_t i : tree.descendants(root->pid)) {
            const ProcessSample& p = snapshot.processes[i];
            if (const auto it = owner.find(p.parentPid); it != owner.end()) {
                jobs[it->second].job.residentBytes += p.residentBytes;
                owner.emplace(p.key.pid, it->second);
                continue;
            }
            std::string unit = poolUnitOf(p);
            if (unit.empty() && p.role != ProcessRole::Linker)
                continue;
            FoundJob f;
            f.unit = unit;
            f.sample = &p;
            f.job.key = p.key;
            f.job.name = safeText(unit.empty() ? p.displayName() : jobName(unit), kNameBytes);
            f.job.residentBytes = p.residentBytes;
            f.job.startedMs = p.startedAtMs;
            f.job.paused = s.paused.count(p.key) > 0;
            owner.emplace(p.key.pid, jobs.size());
            jobs.push_back(std::move(f));
        }
    }
    // Paused jobs that are gone need no resuming.
    for (auto it = s.paused.begin(); it != s.paused.end();) {
        const bool alive =
            std::any_of(jobs.begin(), jobs.end(), [&](const FoundJob& f) { return f.job.key == it->first; });
        it = alive ? std::next(it) : s.paused.erase(it);
    }

    std::set<std::string> running;
    std::uint64_t largestBytes = 0;
    for (FoundJob& f : jobs) {
        if (f.unit.empty())
            continue;
        running.insert(f.unit);
        auto& peak = s.peaksSeen[f.unit];
        peak = std::max(peak, f.job.residentBytes);
        if (const auto learned = s.peaks.peak(s.project, f.unit)) {
            f.job.learned = true;
            f.job.predictedPeakBytes = std::max(predictedFrom(*learned), f.job.residentBytes);
        } else {
            f.job.predictedPeakBytes = std::max(settings.defaultPeakBytes, f.job.residentBytes);
        }
        if (f.job.residentBytes >= largestBytes) {
            largestBytes = f.job.residentBytes;
            s.largest = f.unit;
        }
    }
    for (FoundJob& f : jobs) {
        if (f.unit.empty()) // a linker of its own: nothing learned of it
            f.job.predictedPeakBytes = std::max(settings.defaultPeakBytes, f.job.residentBytes);
    }
    // Jobs that started since the last sample, the youngest learned one of them apart.
    std::set<ProcessKey> jobKeys;
    const FoundJob* newLearned = nullptr;
    bool newJob = false;
    for (const FoundJob& f : jobs) {
        jobKeys.insert(f.job.key);
        if (s.jobsSeen.count(f.job.key))
            continue;
        newJob = true;
        if (f.job.learned && !f.job.paused && (!newLearned || f.job.startedMs >= newLearned->job.startedMs))
            newLearned = &f;
    }
    s.jobsSeen = std::move(jobKeys);
    unsigned runningJobs = 0;
    for (const FoundJob& f : jobs)
        runningJobs += f.job.paused ? 0 : 1;

    // Units seen for the first time, oldest job first: the order cargo started them in.
    std::vector<std::pair<std::int64_t, std::string>> firstSeen;
    for (const FoundJob& f : jobs) {
        if (!f.unit.empty() && !s.seenUnits.count(f.unit))
            firstSeen.emplace_back(f.job.startedMs, f.unit);
    }
    std::stable_sort(firstSeen.begin(), firstSeen.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& name : compilingNow) {
        std::string unit = unitOfProgressName(name);
        running.insert(unit);
        if (!s.seenUnits.count(unit))
            firstSeen.emplace_back(0, std::move(unit));
    }
    for (const auto& [started, unit] : firstSeen) {
        if (!s.seenUnits.insert(unit).second)
            continue;
        s.startOrder.push_back(unit);
        if (const auto place = s.learnedPlace.find(unit); place != s.learnedPlace.end())
            s.orderCursor = std::max(s.orderCursor, place->second);
    }

    // An OOM retry's unit runs alone until it has been built.
    std::string alone;
    if (s.exclusive) {
        if (running.count(*s.exclusive))
            s.exclusiveSeen = true;
        else if (s.exclusiveSeen)
            s.exclusive.reset();
        if (s.exclusive)
            alone = jobName(*s.exclusive);
    }

    // The next job: cargo's queue starts the same units in the same order
    // for the same graph, so the first unit of the last build's order after
    // the latest one seen that has not started yet. Without an order (a
    // first build) or past its end: the heaviest learned unit of this
    // project that has not run yet in this run; else nothing is known of it.
    PoolInputs in;
    in.nextJobPeakBytes = settings.defaultPeakBytes;
    for (std::size_t i = std::size_t(s.orderCursor + 1); i < s.learnedOrder.size(); ++i) {
        const std::string& unit = s.learnedOrder[i];
        if (s.seenUnits.count(unit))
            continue;
        if (const auto peak = s.peaks.peak(s.project, unit)) {
            in.nextJobLearned = true;
            in.nextJobPeakBytes = predictedFrom(*peak);
            in.nextJobName = safeText(jobName(unit), kNameBytes);
            break;
        }
    }
    if (in.nextJobLearned) {
        // A token given now is kept by cargo while it has work queued and
        // runs one job after another (it cannot be taken back while in use):
        // beside the next job it may run the heaviest unit still to come.
        // The learned order is not enough for that: cargo's order changes
        // with the parallelism it gets (build scripts that take 300 MiB at
        // once were OOM-killed two at a time on a kept token).
        in.heaviestToComeBytes = 0;
        in.heaviestToComeName.clear();
        if (const auto* units = s.peaks.units(s.project)) {
            for (const auto& [unit, peak] : *units) {
                if (unit.empty() || s.seenUnits.count(unit) ||
                    safeText(jobName(unit), kNameBytes) == in.nextJobName)
                    continue;
                const std::uint64_t predicted = predictedFrom(peak);
                if (predicted > in.heaviestToComeBytes) {
                    in.heaviestToComeBytes = predicted;
                    in.heaviestToComeName = safeText(jobName(unit), kNameBytes);
                }
            }
        }
    }
    if (const auto* units = in.nextJobLearned ? nullptr : s.peaks.units(s.project)) {
        std::uint64_t best = 0;
        for (const auto& [unit, peak] : *units) {
            if (unit.empty() || s.seenUnits.count(unit))
                continue;
            const std::uint64_t predicted = predictedFrom(peak);
            if (!in.nextJobLearned || predicted > best) {
                best = predicted;
                in.nextJobLearned = true;
                in.nextJobName = safeText(jobName(unit), kNameBytes);
            }
        }
        if (in.nextJobLearned)
            in.nextJobPeakBytes = best;
    }

    in.budget = snapshot.budget;
    if (in.budget.limitBytes == 0) // a sampler that leaves it out: the machine's figures
        in.budget = memoryBudget(snapshot.memory, std::nullopt, BudgetOptions{settings.countSwap});
    if (snapshot.memory.pressure.available)
        in.psiSomeAvg10 = snapshot.memory.pressure.some.avg10;
    in.cpus = s.cpus;
    in.granted = s.lane->granted();
    in.inUse = s.lane->inUse();
    for (const FoundJob& f : jobs)
        in.jobs.push_back(f.job);
    in.startTokens = s.startTokens;
    if (!alone.empty())
        in.exclusive = alone;
    in.nowMs = nowMs;
    in.lastGrantMs = s.lastGrantMs;

    std::int64_t youngest = 0;
    for (const FoundJob& f : jobs) {
        if (!f.job.paused)
            youngest = std::max(youngest, f.job.startedMs);
    }

    // Decided and applied under the ledger's lock: two supervisors never both
    // take the last token.
    PoolDecision decision;
    unsigned granted = in.granted;
    bool decided = false;
    const auto decide = [&](unsigned othersGranted, std::uint64_t othersGrowth, std::int64_t othersYoungest) {
        in.othersGranted = othersGranted;
        in.othersGrowthBytes = othersGrowth;
        in.othersYoungestJobMs = othersYoungest;
        decision = decidePool(in, settings);
        unsigned target = decision.target;
        // A job just started that may grow past what is left (cargo started
        // a heavier unit than predicted): every waiting token back at once,
        // not one per sample once it is clearly so. Tokens in use stay.
        // If that job is learned and runs beside others, it is paused before
        // it grows: cargo reuses a token a job gave back for the next job
        // without returning it to the lane, so a wrong prediction cannot be
        // taken back as a token. The policy resumes it once it fits.
        const std::uint64_t reserve = poolReserve(in.budget, settings.reserveFraction, settings.reserveFloor);
        const std::uint64_t growth = othersGrowth > ~std::uint64_t(0) - decision.growthBytes
                                         ? ~std::uint64_t(0)
                                         : othersGrowth + decision.growthBytes;
        const std::uint64_t usable = in.budget.afterReserve(reserve);
        if (newJob && in.budget.limitBytes > 0 && growth > usable) {
            if (target > in.inUse)
                target = in.inUse;
            if (newLearned && !decision.pause && (runningJobs >= 2 || othersYoungest != 0) &&
                (othersYoungest == 0 || newLearned->job.startedMs >= othersYoungest)) {
                decision.pause = newLearned->job.key;
                if (decision.resume == decision.pause)
                    decision.resume.reset();
                const std::uint64_t own =
                    newLearned->job.predictedPeakBytes > newLearned->job.residentBytes
                        ? newLearned->job.predictedPeakBytes - newLearned->job.residentBytes
                        : 0;
                decision.heldBack = newLearned->job.name + " just started and may grow by " +
                                    formatBytes(own) + "; what runs may grow by " + formatBytes(growth) +
                                    ", more than the " + formatBytes(usable) + " left of the " +
                                    in.budget.describe() + " above the reserve: paused until it fits";
            } else if (decision.heldBack.empty()) {
                decision.heldBack = "a job just started that may grow by more than the " +
                                    formatBytes(usable) + " left of the " + in.budget.describe() +
                                    " above the reserve";
            }
        }
        const unsigned cap =
            maxPoolTokens(s.cpus) > othersGranted ? maxPoolTokens(s.cpus) - othersGranted : 0;
        target = std::min(target, cap);
        if (!alone.empty()) {
            target = 0;
            if (decision.heldBack.empty())
                decision.heldBack =
                    safeText(poolUnitWords(*s.exclusive), kNameBytes) + " is built alone after its OOM kill";
        }
        granted = s.lane->steer(target);
        if (granted > in.granted)
            s.lastGrantMs = nowMs;
        decided = true;
    };
    const unsigned inUse = in.inUse;
    auto ledger = s.pool.update([&](PoolState& state) {
        state.cpus = s.cpus;
        unsigned og = 0;
        std::uint64_t ogrowth = 0;
        std::int64_t oyoungest = 0;
        PoolMember* own = nullptr;
        for (PoolMember& m : state.members) {
            if (m.runId == s.runId) {
                own = &m;
                continue;
            }
            og += m.granted;
            ogrowth += m.growthBytes;
            oyoungest = std::max(oyoungest, m.youngestJobMs);
        }
        s.othersGranted = og;
        s.othersGrowth = ogrowth;
        s.othersYoungest = oyoungest;
        decide(og, ogrowth, oyoungest);
        if (!own) { // dropped meanwhile (a ledger moved aside): back in
            state.members.push_back(PoolMember{});
            own = &state.members.back();
            own->runId = s.runId;
        }
        own->supervisor = s.self;
        own->title = s.title;
        own->granted = granted;
        own->inUse = std::min(inUse, granted);
        own->jobs = unsigned(jobs.size());
        own->growthBytes = decision.growthBytes;
        own->predictedBytes = decision.predictedBytes;
        own->lastGrantMs = s.lastGrantMs;
        own->youngestJobMs = youngest;
        own->heldBack = decision.heldBack;
        own->updatedMs = nowMs;
        state.updatedMs = nowMs;
    });
    std::string ledgerProblem;
    if (ledger) {
        s.poolBuilds = unsigned(ledger->members.size());
        s.ledgerProblemSaid = false;
    } else {
        if (!decided) {
            // Without the ledger nobody knows what the others hold: no new
            // tokens, as what was known of them last.
            decide(std::max(s.othersGranted, maxPoolTokens(s.cpus)), s.othersGrowth, s.othersYoungest);
        }
        if (!s.ledgerProblemSaid)
            ledgerProblem = "Headroom: pool: the ledger cannot be updated (" + safeText(ledger.error(), 300) +
                            "); no new tokens until it can";
        s.ledgerProblemSaid = true;
    }

    // Pause and resume our own jobs only, by (pid, start time) and name.
    for (const FoundJob& f : jobs) {
        if (decision.pause && f.job.key == *decision.pause && !s.paused.count(f.job.key)) {
            ActionOptions options;
            options.tree = true;
            options.onlyCurrentUser = true;
            const auto report = ProcessControl().apply(
                std::vector<ProcessTarget>{ProcessTarget::of(*f.sample)}, ProcessAction::Pause, options);
            if (report.allSucceeded())
                s.paused[f.job.key] = f.job.name;
        }
        if (decision.resume && f.job.key == *decision.resume && s.paused.count(f.job.key)) {
            ActionOptions options;
            options.tree = true;
            options.onlyCurrentUser = true;
            ProcessControl().apply(f.job.key, ProcessAction::Resume, options);
            s.paused.erase(f.job.key);
        }
    }

    Tick tick;
    PoolStatus& st = tick.status;
    st.active = true;
    st.granted = granted;
    st.inUse = std::min(s.lane->inUse(), granted);
    st.poolGranted = ledger ? ledger->granted() : granted + s.othersGranted;
    st.poolBuilds = s.poolBuilds;
    st.cpus = s.cpus;
    st.budgetBytes = in.budget.availableBytes;
    st.limitBytes = in.budget.limitBytes;
    st.limit = in.budget.describe();
    st.reserveBytes = poolReserve(in.budget, settings.reserveFraction, settings.reserveFloor);
    st.predictedBytes = decision.predictedBytes;
    st.heldBack = decision.heldBack;
    for (const auto& [key, name] : s.paused) {
        if (st.paused.size() >= kPausedShown)
            break;
        st.paused.push_back(name + " (pid " + std::to_string(key.pid) + ")");
    }

    // The log: when the tokens change, and when the reason does (at most
    // once a second; figures that move do not make a new reason).
    // A command that starts no job (a script, a test binary) gets no lines
    // about a pool it does not use.
    s.sawJobs = s.sawJobs || !jobs.empty();
    std::vector<std::string> lines;
    if (!ledgerProblem.empty())
        lines.push_back(ledgerProblem);
    if (!s.sawJobs) {
        tick.logLine = ledgerProblem;
        return tick;
    }
    if (!s.loggedTokens || *s.loggedTokens != granted) {
        s.loggedTokens = granted;
        lines.push_back("Headroom: pool: " + std::to_string(granted + 1) +
                        (granted == 0 ? " job (" : " jobs (") + std::to_string(granted) + " of " +
                        std::to_string(s.lane->maxTokens()) + " tokens), " + formatBytes(st.budgetBytes) +
                        " left of the " + st.limit);
    }
    const std::string shape = reasonShape(st.heldBack);
    if (shape != s.loggedReasonShape && nowMs - s.loggedReasonMs >= kReasonLogPeriodMs) {
        s.loggedReasonShape = shape;
        s.loggedReasonMs = nowMs;
        if (!st.heldBack.empty())
            lines.push_back("Headroom: pool: holding back: " + safeText(st.heldBack, 400));
    }
    for (const auto& line : lines)
        tick.logLine += (tick.logLine.empty() ? "" : "\n") + line;
    return tick;
}

void AdaptivePool::setExclusive(std::optional<std::string> crate)
{
    state_->exclusive = std::move(crate);
    state_->exclusiveSeen = false;
}

Result<bool> AdaptivePool::learn(const std::map<std::string, std::uint64_t>& peakByUnit,
                                 const std::vector<std::string>& killed)
{
    State& s = *state_;
    std::map<std::string, std::uint64_t> all = s.peaksSeen;
    for (const auto& [unit, bytes] : peakByUnit)
        all[unit] = std::max(all[unit], bytes);
    const std::int64_t now = wallNowMs();
    for (const auto& [unit, bytes] : all) {
        if (unit.empty() || bytes == 0)
            continue;
        const bool oom = std::find(killed.begin(), killed.end(), unit) != killed.end();
        s.peaks.record(s.project, unit, bytes, now, oom);
    }
    // The order this run started its units in: the next build's prediction.
    // A run that started nothing (all fresh) leaves the known order alone.
    if (!s.startOrder.empty())
        s.peaks.recordOrder(s.project, s.startOrder);
    return s.peaks.save(s.options.peaksPath);
}

const JobLane& AdaptivePool::lane() const
{
    return *state_->lane;
}

const std::map<std::string, std::uint64_t>& AdaptivePool::peaksSeen() const
{
    return state_->peaksSeen;
}

std::optional<std::string> AdaptivePool::largestJob() const
{
    return state_->largest;
}

} // namespace headroom
