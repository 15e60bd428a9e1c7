// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"
#include "headroom/PressureMessage.h"
#include "services/MemoryLevel.h"
#include "services/SnapshotPtr.h"

#include <QObject>

namespace headroom::services {

// The level of every sample (with hysteresis), the time left at the present
// trend, and when a person should be told: the core's level machine,
// estimator and notification policy, fed by the sampling thread's snapshots.
class PressureMonitor : public QObject {
    Q_OBJECT
  public:
    explicit PressureMonitor(QObject* parent = nullptr);

    void setThresholds(const PressureThresholds& thresholds);
    void setRepeatSeconds(double seconds);
    void setQuiet(bool quiet);
    bool quiet() const { return policy_.quiet(); }

    PressureLevel level() const { return machine_.level(); }
    const PressureState& state() const { return state_; }

    // A notification's body: the core's words for what holds the memory, and
    // the time left in this layer's words ("…; about 2 min left").
    static QString notificationBody(const PressureMessage& message);

  public slots:
    void observe(const headroom::services::SnapshotPtr& snapshot);

  signals:
    // Every sample: the level, why, and the time left.
    void pressureUpdated(const headroom::services::PressureState& state);
    // The rate-limited moment to tell the user, with the words to use: the
    // body names what holds the memory and, when it is near, the time left.
    void notificationDue(headroom::PressureLevel level, const QString& title, const QString& body);

  private:
    PressureLevelMachine machine_;
    ExhaustionEstimator estimator_;
    NotificationPolicy policy_;
    NotificationPolicy::Options policyOptions_;
    PressureState state_;
};

} // namespace headroom::services
