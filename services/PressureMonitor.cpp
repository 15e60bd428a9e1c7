// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/PressureMonitor.h"

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
    const LevelReading reading = machine_.update(snapshot->memory, snapshot->budget);
    // What runs out first: a cgroup's limit when one applies, else RAM and swap.
    estimator_.add(t, snapshot->budget.isCgroup() ? snapshot->budget.availableBytes
                                                  : snapshot->memory.headroom());

    state_.level = reading.level;
    state_.reason = QString::fromStdString(reading.reason);
    state_.secondsLeft = timeLeftWorthShowing(estimator_.secondsLeft());
    emit pressureUpdated(state_);

    if (reading.level != before) {
        spdlog::info("memory level {} -> {}{}{}", levelId(before), levelId(reading.level),
                     reading.reason.empty() ? "" : ": ", reading.reason);
    }
    if (policy_.shouldNotify(t, reading.level)) {
        const PressureMessage message = pressureMessage(*snapshot, reading, state_.secondsLeft);
        emit notificationDue(reading.level, QString::fromStdString(message.title), notificationBody(message));
    }
}

QString PressureMonitor::notificationBody(const PressureMessage& message)
{
    QString body = QString::fromStdString(message.body);
    const QString left = describeTimeLeft(message.secondsLeft);
    if (!left.isEmpty())
        body += body.isEmpty() ? left : QStringLiteral("; ") + left;
    return body;
}

} // namespace headroom::services
