// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PoolPolicy.h"

#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace headroom {

namespace {

constexpr std::uint64_t kMaxBytes = std::numeric_limits<std::uint64_t>::max();
// A job's name in the words: a crate or a program's name, which the build controls.
constexpr std::size_t kNameBytes = 80;

std::uint64_t addSaturating(std::uint64_t a, std::uint64_t b)
{
    return a > kMaxBytes - b ? kMaxBytes : a + b;
}

// What an unlearned job is taken to peak at: the cautious default, unless
// the caller gave a figure (the project's highest learned peak, say).
std::uint64_t predictedPeak(std::uint64_t given, bool learned, const PoolSettings& s)
{
    return given || learned ? given : s.defaultPeakBytes;
}

std::uint64_t growthOf(const PoolJob& job, const PoolSettings& s)
{
    const std::uint64_t peak = predictedPeak(job.predictedPeakBytes, job.learned, s);
    return peak > job.residentBytes ? peak - job.residentBytes : 0;
}

// How far the pool must be overcommitted before a waiting token is taken
// back, and how much room a paused job needs beyond its growth before it is
// resumed: 5 % of the limit, at least 128 MiB, at most an eighth of the limit
// (a small container) and 1 GiB (a large machine). Without it the lane would
// give and take back a token on every sample's noise.
std::uint64_t slackOf(std::uint64_t limitBytes)
{
    std::uint64_t slack = std::max<std::uint64_t>(limitBytes / 20, 128 * MiB);
    slack = std::min<std::uint64_t>(slack, limitBytes / 8);
    return std::min<std::uint64_t>(slack, GiB);
}

std::string percentText(double value)
{
    char buffer[32];
    if (std::fabs(value - std::round(value)) < 0.05)
        std::snprintf(buffer, sizeof buffer, "%.0f%%", value);
    else
        std::snprintf(buffer, sizeof buffer, "%.1f%%", value);
    return buffer;
}

std::string jobWords(const PoolJob& job)
{
    std::string words = job.name.empty() ? std::string("a job") : safeText(job.name, kNameBytes);
    return words + " (pid " + std::to_string(job.key.pid) + ")";
}

// "all 3 tokens are held: 1 by this build, 2 by other builds"
std::string capWords(unsigned poolMax, unsigned granted, unsigned othersGranted)
{
    if (poolMax == 0)
        return "this machine has 1 CPU: each build runs one job at a time";
    const std::string words = poolMax == 1 ? std::string("the pool's only token is held")
                                           : "all " + std::to_string(poolMax) + " tokens are held";
    if (othersGranted == 0)
        return words + " by this build";
    if (granted == 0)
        return words + (othersGranted == 1 ? " by another build" : " by other builds");
    return words + ": " + std::to_string(granted) + " by this build, " + std::to_string(othersGranted) +
           " by other builds";
}

} // namespace

unsigned maxPoolTokens(unsigned cpus)
{
    return cpus > 1 ? cpus - 1 : 0;
}

PoolDecision decidePool(const PoolInputs& in, const PoolSettings& s)
{
    PoolDecision d;
    const MemoryBudget& budget = in.budget;
    const std::string limitWords = budget.describe();

    // What this lane's jobs may still grow by: the running ones and, apart,
    // the paused ones (they grow again once resumed).
    std::uint64_t runningGrowth = 0;
    std::uint64_t pausedGrowth = 0;
    bool allLearned = true;
    const PoolJob* youngestRunning = nullptr;
    const PoolJob* oldestPaused = nullptr;
    unsigned running = 0;
    for (const PoolJob& job : in.jobs) {
        const std::uint64_t growth = growthOf(job, s);
        d.predictedBytes =
            addSaturating(d.predictedBytes,
                          std::max(predictedPeak(job.predictedPeakBytes, job.learned, s), job.residentBytes));
        allLearned = allLearned && job.learned;
        if (job.paused) {
            pausedGrowth = addSaturating(pausedGrowth, growth);
            if (!oldestPaused || job.startedMs < oldestPaused->startedMs)
                oldestPaused = &job;
        } else {
            runningGrowth = addSaturating(runningGrowth, growth);
            ++running;
            if (!youngestRunning || job.startedMs >= youngestRunning->startedMs)
                youngestRunning = &job;
        }
    }
    d.growthBytes = addSaturating(runningGrowth, pausedGrowth);

    const std::uint64_t reserve = poolReserve(budget, s.reserveFraction, s.reserveFloor);
    const std::uint64_t usable = budget.afterReserve(reserve); // what new memory may take
    const std::uint64_t slack = slackOf(budget.limitBytes);
    // room - deficit is the signed figure "avail" (never computed as such: it overflows).
    const auto roomAfter = [&](std::uint64_t growth, std::uint64_t& deficit) {
        const std::uint64_t need = addSaturating(in.othersGrowthBytes, growth);
        deficit = need > usable ? need - usable : 0;
        return usable > need ? usable - need : 0;
    };
    std::uint64_t deficit = 0;
    const std::uint64_t room = roomAfter(d.growthBytes, deficit);
    std::uint64_t runningDeficit = 0;
    const std::uint64_t runningRoom = roomAfter(runningGrowth, runningDeficit);

    const unsigned poolMax = maxPoolTokens(in.cpus);
    const unsigned cap = poolMax > in.othersGranted ? poolMax - in.othersGranted : 0;
    const bool belowReserve = budget.limitBytes > 0 && budget.availableBytes < reserve;
    const bool othersRun = in.othersYoungestJobMs != 0;

    // Tokens in use stay in use (a job gives its own back when it ends); the
    // waiting ones the lane can take back at once.
    const auto keepAtMost = [&](unsigned n) { return std::max(std::min(in.granted, n), in.inUse); };
    d.target = keepAtMost(cap);

    // Pausing and resuming, apart from the tokens. Never is everything in
    // the pool paused: nothing would end and give memory back.
    if (belowReserve && youngestRunning && (running >= 2 || othersRun) &&
        (!othersRun || youngestRunning->startedMs >= in.othersYoungestJobMs)) {
        d.pause = youngestRunning->key;
    } else if (oldestPaused && running == 0 && !othersRun) {
        d.resume = oldestPaused->key;
    } else if (oldestPaused && !belowReserve && runningDeficit == 0 &&
               runningRoom >= addSaturating(growthOf(*oldestPaused, s), slack)) {
        d.resume = oldestPaused->key;
    }

    if (in.exclusive) {
        d.target = keepAtMost(0);
        d.heldBack = safeText(*in.exclusive, kNameBytes) +
                     " runs alone: it was killed for lack of memory when it ran beside other jobs";
        return d;
    }
    if (budget.limitBytes == 0) {
        d.target = keepAtMost(0);
        d.heldBack = "the memory figures are not known yet";
        return d;
    }
    if (belowReserve) {
        d.target = keepAtMost(0);
        d.heldBack = "memory is below the reserve of " + formatBytes(reserve) + " (" +
                     formatBytes(budget.availableBytes) + " left of the " + limitWords + ")";
        if (d.pause)
            d.heldBack += ": paused " + jobWords(*youngestRunning);
        return d;
    }

    // Overcommitted: what runs may grow by more than is left. One waiting
    // token back per step, and only once it is clearly so.
    if (deficit > slack) {
        if (in.granted > in.inUse)
            d.target = std::min(d.target, in.granted - 1);
        d.heldBack = "the running jobs may still grow by " +
                     formatBytes(addSaturating(in.othersGrowthBytes, d.growthBytes)) + ", more than the " +
                     formatBytes(usable) + " left of the " + limitWords + " above the reserve";
        return d;
    }

    const std::uint64_t nextPeak = predictedPeak(in.nextJobPeakBytes, in.nextJobLearned, s);
    const std::string nextName =
        in.nextJobName.empty() ? std::string() : safeText(in.nextJobName, kNameBytes);
    const auto doesNotFit = [&] {
        return "the next job (" + (nextName.empty() ? std::string() : nextName + ", ") +
               formatBytes(nextPeak) + (in.nextJobLearned ? " learned" : ", nothing learned") +
               ") does not fit in the " + formatBytes(room) + " left of the " + limitWords;
    };
    // A waiting token is one a job may take at any moment: no second one
    // until it is taken, or two jobs could start on one fit. It goes back
    // once the next job clearly no longer fits (by more than the slack, so
    // that a token is not given and taken on every sample).
    if (in.granted > in.inUse && addSaturating(deficit, nextPeak) > addSaturating(room, slack)) {
        d.target = std::min(d.target, in.granted - 1);
        d.heldBack = doesNotFit();
        return d;
    }
    if (in.granted >= cap) {
        d.heldBack = capWords(poolMax, in.granted, in.othersGranted);
        return d;
    }
    if (in.granted > in.inUse)
        return d;
    if (oldestPaused) {
        d.heldBack = jobWords(*oldestPaused) + " is paused and goes first";
        return d;
    }
    // With no job running (the build's start, or between two jobs), cargo
    // fills its implicit slot at any moment: a new token is a second job
    // beside that one, so the room must hold the next job's peak twice.
    const unsigned idleSlots = in.jobs.empty() ? 1 : 0;
    const std::uint64_t need =
        nextPeak > kMaxBytes / (idleSlots + 1) ? kMaxBytes : nextPeak * (idleSlots + 1);
    if (deficit > 0 || need > room) {
        d.heldBack = doesNotFit();
        if (idleSlots > 0 && nextPeak <= room)
            d.heldBack += " beside the job about to start";
        return d;
    }
    // cargo keeps a token while it has work queued, so each slot (the
    // implicit one and every token) may in turn run any unit still to come:
    // with one token more, every slot at once may run the heaviest of them.
    if (in.heaviestToComeBytes > 0) {
        const std::uint64_t slotsAfter = std::uint64_t(in.granted) + 2;
        const std::uint64_t whole = usable > in.othersGrowthBytes ? usable - in.othersGrowthBytes : 0;
        const std::uint64_t worst =
            in.heaviestToComeBytes > kMaxBytes / slotsAfter ? kMaxBytes : in.heaviestToComeBytes * slotsAfter;
        if (worst > whole) {
            const std::string heaviest = in.heaviestToComeName.empty()
                                             ? std::string("the heaviest unit still to come")
                                             : safeText(in.heaviestToComeName, kNameBytes);
            d.heldBack = std::to_string(slotsAfter) + " jobs of " + heaviest + " (" +
                         formatBytes(in.heaviestToComeBytes) +
                         " learned, still to come) would not fit in the " + formatBytes(whole) + " of the " +
                         limitWords + " above the reserve";
            return d;
        }
    }
    // A figure that is not one (NaN, infinite, negative) is ignored rather
    // than blocking forever: the memory figures above still hold the pool.
    if (in.psiSomeAvg10 && std::isfinite(*in.psiSomeAvg10) && *in.psiSomeAvg10 >= 0.0 &&
        *in.psiSomeAvg10 >= s.psiSomeThreshold) {
        d.heldBack = "memory pressure " + percentText(*in.psiSomeAvg10) + " (PSI) is above " +
                     percentText(s.psiSomeThreshold);
        return d;
    }
    // Slow start: the last job gets settleMs to show its memory, unless what
    // comes next is known. A clock set back counts as settled.
    if (!in.nextJobLearned && in.lastGrantMs > 0 && in.nowMs >= in.lastGrantMs &&
        in.nowMs - in.lastGrantMs < s.settleMs) {
        const std::int64_t waitMs = s.settleMs - (in.nowMs - in.lastGrantMs);
        d.heldBack = "waiting " + std::to_string(waitMs / 1000 + (waitMs % 1000 != 0)) +
                     " s for the last job's memory to show (nothing learned" +
                     (nextName.empty() ? std::string() : " of " + nextName) + " yet)";
        return d;
    }

    unsigned add = 1;
    if (allLearned && in.nextJobLearned && in.startTokens > in.granted + 1) {
        // Everything known: straight to where Auto would start, as far as the
        // next job's peak fits that many times.
        std::uint64_t fits = nextPeak ? room / nextPeak : kMaxBytes;
        fits = fits > idleSlots ? fits - idleSlots : 0;
        const std::uint64_t want = std::min<std::uint64_t>(in.startTokens, cap) - in.granted;
        add = unsigned(std::max<std::uint64_t>(1, std::min(want, fits)));
    }
    d.target = std::min(in.granted + add, cap);
    return d;
}

} // namespace headroom
