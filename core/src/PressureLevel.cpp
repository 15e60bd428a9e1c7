// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PressureLevel.h"

#include "headroom/Units.h"

#include <cstdio>

namespace headroom {

namespace {
std::string figure(const char* format, double value)
{
    char buffer[128];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}
} // namespace

std::string_view levelId(PressureLevel level)
{
    switch (level) {
    case PressureLevel::Normal:
        return "normal";
    case PressureLevel::Warning:
        return "warning";
    case PressureLevel::Critical:
        return "critical";
    }
    return "normal";
}

LevelReading PressureLevelMachine::assess(const MemoryStatus& m, const PressureThresholds& t, double slack)
{
    return assess(m, MemoryBudget{}, t, slack);
}

LevelReading PressureLevelMachine::assess(const MemoryStatus& m, const MemoryBudget& budget,
                                          const PressureThresholds& t, double slack)
{
    // A cgroup's limit is the one that kills inside it: the share of it left
    // decides, and the words say which limit.
    const bool cgroup = budget.isCgroup();
    const double availablePct = (cgroup ? budget.availableFraction() : m.availableFraction()) * 100.0;
    const auto availableReason = [&] {
        return cgroup ? figure("only %.0f%% of the ", availablePct) + budget.describe() + " is left"
                      : figure("only %.0f%% of RAM is available", availablePct);
    };
    const double swapPct = m.swapUsedFraction() * 100.0;
    const bool psi = m.pressure.available;

    // macOS says it directly; trust the kernel there.
    if (m.pressure.kernelLevel == 4)
        return {PressureLevel::Critical, "the kernel reports critical memory pressure"};
    if (availablePct <= t.criticalAvailablePercent + slack)
        return {PressureLevel::Critical, availableReason()};
    if (psi && m.pressure.full.avg10 >= t.criticalPsiFull - slack)
        return {PressureLevel::Critical,
                figure("all tasks stalled on memory %.0f%% of the time (PSI full)", m.pressure.full.avg10)};
    if (m.pressure.kernelLevel == 2)
        return {PressureLevel::Warning, "the kernel reports memory pressure"};
    if (availablePct <= t.warningAvailablePercent + slack)
        return {PressureLevel::Warning, availableReason()};
    if (m.swapTotal > 0 && swapPct >= t.warningSwapUsedPercent - slack)
        return {PressureLevel::Warning, figure("%.0f%% of swap is in use", swapPct)};
    if (psi && m.pressure.some.avg10 >= t.warningPsiSome - slack)
        return {PressureLevel::Warning,
                figure("tasks stalled on memory %.0f%% of the time (PSI some)", m.pressure.some.avg10)};
    return {};
}

LevelReading PressureLevelMachine::update(const MemoryStatus& memory)
{
    return update(memory, MemoryBudget{});
}

LevelReading PressureLevelMachine::update(const MemoryStatus& memory, const MemoryBudget& budget)
{
    // Entering a level needs the threshold itself; staying in it only needs
    // to be within the margin of it.
    const LevelReading strict = assess(memory, budget, thresholds_, 0.0);
    const LevelReading lenient = assess(memory, budget, thresholds_, thresholds_.marginPoints);
    LevelReading reading = strict;
    if (lenient.level >= level_ && strict.level < level_)
        reading = LevelReading{level_, lenient.level == level_ ? lenient.reason : strict.reason};
    else if (lenient.level < level_ && strict.level < lenient.level)
        reading = lenient; // falling two steps: stop at the one still within the margin
    level_ = reading.level;
    return reading;
}

void ExhaustionEstimator::add(double t, std::uint64_t headroomBytes)
{
    samples_.emplace_back(t, double(headroomBytes));
    while (!samples_.empty() && samples_.front().first < t - window_)
        samples_.pop_front();
}

std::optional<double> ExhaustionEstimator::secondsLeft() const
{
    if (samples_.size() < 3 || samples_.back().first - samples_.front().first < 5.0)
        return std::nullopt;
    // Least-squares slope of headroom over time.
    double sumT = 0, sumY = 0;
    for (const auto& [t, y] : samples_) {
        sumT += t;
        sumY += y;
    }
    const double n = double(samples_.size());
    const double meanT = sumT / n, meanY = sumY / n;
    double num = 0, den = 0;
    for (const auto& [t, y] : samples_) {
        num += (t - meanT) * (y - meanY);
        den += (t - meanT) * (t - meanT);
    }
    if (den <= 0)
        return std::nullopt;
    const double slope = num / den; // bytes per second
    if (slope >= -1.0)
        return std::nullopt;
    const double now = samples_.back().second;
    return now <= 0 ? 0.0 : now / -slope;
}

bool NotificationPolicy::shouldNotify(double t, PressureLevel level)
{
    if (level == candidate_) {
        ++held_;
    } else {
        candidate_ = level;
        held_ = 1;
    }
    if (held_ < options_.confirmSamples)
        return false;
    const bool changed = candidate_ != confirmed_;
    confirmed_ = candidate_;
    if (confirmed_ == PressureLevel::Normal || quiet_) {
        if (confirmed_ == PressureLevel::Normal)
            lastNotified_.reset();
        return false;
    }
    if (changed || !lastNotified_ || *lastNotified_ != confirmed_) {
        lastNotified_ = confirmed_;
        lastNotifiedAt_ = t;
        return true;
    }
    if (t - lastNotifiedAt_ >= options_.repeatSeconds) {
        lastNotifiedAt_ = t;
        return true;
    }
    return false;
}

} // namespace headroom
