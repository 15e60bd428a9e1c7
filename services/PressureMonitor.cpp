// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/PressureMonitor.h"

#include "headroom/PressureMessage.h"

#include <spdlog/spdlog.h>

namespace headroom::services {

PressureMonitor::PressureMonitor(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<PressureState>();
    qRegisterMetaType<PressureLevel>();
}

void PressureMonitor::setThresholds(const PressureThresholds& thresholds)
{
    machine_.setThresholds(thresholds);
}

void PressureMonitor::setRepeatSeconds(double seconds)
{
    if (seconds == policyOptions_.repeatSeconds)
        return;
    const bool quiet = policy_.quiet();
    policyOptions_.repeatSeconds = seconds;
    policy_ = NotificationPolicy(policyOptions_);
    policy_.setQuiet(quiet);
}

void PressureMonitor::setQuiet(bool quiet)
{
    policy_.setQuiet(quiet);
}

void PressureMonitor::observe(const SnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    const double t = static_cast<double>(snapshot->steadyNs) / 1e9;
    const PressureLevel before = machine_.level();
    const LevelReading reading = machine_.update(snapshot->memory);
    estimator_.add(t, snapshot->memory.headroom());

    state_.level = reading.level;
    state_.reason = QString::fromStdString(reading.reason);
    state_.secondsLeft = estimator_.secondsLeft();
    if (state_.secondsLeft && *state_.secondsLeft >= kShowTimeLeftBelowSeconds)
        state_.secondsLeft.reset();
    emit pressureUpdated(state_);

    if (reading.level != before) {
        spdlog::info("memory level {} -> {}{}{}", levelId(before), levelId(reading.level),
                     reading.reason.empty() ? "" : ": ", reading.reason);
        emit levelChanged(reading.level, before);
    }
    if (policy_.shouldNotify(t, reading.level)) {
        const PressureMessage message = pressureMessage(*snapshot, reading, state_.secondsLeft);
        emit notificationDue(reading.level, QString::fromStdString(message.title),
                             QString::fromStdString(message.body));
    }
}

} // namespace headroom::services
