// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/PressureMonitor.h"

#include "headroom/MachineMetrics.h"
#include "headroom/Units.h"
#include "services/SafeDisplayText.h"

#include <QCoreApplication>

#include <spdlog/spdlog.h>

namespace headroom::services {

PressureMonitor::PressureMonitor(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<PressureState>();
    qRegisterMetaType<PressureLevel>();
    clock_.start();
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
    for (MachinePolicy& machine : machines_) {
        machine.policy = NotificationPolicy(policyOptions_);
        machine.policy.setQuiet(quiet);
    }
}

void PressureMonitor::setQuiet(bool quiet)
{
    policy_.setQuiet(quiet);
    for (MachinePolicy& machine : machines_)
        machine.policy.setQuiet(quiet);
}

void PressureMonitor::observeMachine(const QString& id, const QString& name, const MachineView& view)
{
    auto it = machines_.find(id);
    if (it == machines_.end()) {
        MachinePolicy fresh{NotificationPolicy(policyOptions_), 0};
        fresh.policy.setQuiet(policy_.quiet());
        it = machines_.insert(id, fresh);
    }
    // A server answers with its last scrape until the next one: the same
    // reading twice is one sample, not a confirmation.
    if (view.snapshot.wallMs != 0 && view.snapshot.wallMs == it->lastWallMs)
        return;
    it->lastWallMs = view.snapshot.wallMs;
    const double t = static_cast<double>(clock_.elapsed()) / 1000.0;
    if (it->policy.shouldNotify(t, view.level.level))
        emit machineNotificationDue(id, view.level.level, machineNotificationTitle(name, view),
                                    machineNotificationBody(view));
}

void PressureMonitor::forgetMachinesExcept(const QStringList& ids)
{
    for (auto it = machines_.begin(); it != machines_.end();) {
        if (ids.contains(it.key()))
            ++it;
        else
            it = machines_.erase(it);
    }
}

QString PressureMonitor::machineNotificationTitle(const QString& name, const MachineView& view)
{
    const Snapshot& s = view.snapshot;
    const QString available = QString::fromStdString(
        formatBytes(s.budget.isCgroup() ? s.budget.availableBytes : s.memory.available));
    const QString who = safeDisplayText(name, 80);
    switch (view.level.level) {
    case PressureLevel::Critical:
        return QCoreApplication::translate("PressureMonitor", "%1: memory is critical, %2 available")
            .arg(who, available);
    case PressureLevel::Warning:
        return QCoreApplication::translate("PressureMonitor", "%1: memory is low, %2 available")
            .arg(who, available);
    case PressureLevel::Normal:
        break;
    }
    return QCoreApplication::translate("PressureMonitor", "%1: memory is back to normal").arg(who);
}

QString PressureMonitor::machineNotificationBody(const MachineView& view)
{
    const PressureMessage message =
        pressureMessage(view.snapshot, view.level, timeLeftWorthShowing(view.secondsLeft));
    QString body = notificationBody(message);
    if (!view.level.reason.empty()) {
        const QString reason = QString::fromStdString(view.level.reason);
        body = body.isEmpty() ? reason : reason + QLatin1Char('\n') + body;
    }
    return safeDisplayLines(body, 300);
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
