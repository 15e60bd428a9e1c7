// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"
#include "headroom/PressureMessage.h"
#include "services/MemoryLevel.h"
#include "services/SnapshotPtr.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>

namespace headroom {
struct MachineView;
}

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

    // The words of a remote machine's notification: "buildbox: memory is
    // critical, 1.2 GiB available", and what holds its memory.
    static QString machineNotificationTitle(const QString& name, const headroom::MachineView& view);
    static QString machineNotificationBody(const headroom::MachineView& view);

  public slots:
    void observe(const headroom::services::SnapshotPtr& snapshot);
    // A reading of a remote machine the tray follows. Its level was decided
    // on that machine; when to tell is decided here, by the same policy
    // (one per machine, with this monitor's repeat and quiet settings).
    void observeMachine(const QString& id, const QString& name, const headroom::MachineView& view);
    // Machines no longer followed: their policies are dropped.
    void forgetMachinesExcept(const QStringList& ids);

  signals:
    // Every sample: the level, why, and the time left.
    void pressureUpdated(const headroom::services::PressureState& state);
    // The rate-limited moment to tell the user, with the words to use: the
    // body names what holds the memory and, when it is near, the time left.
    void notificationDue(headroom::PressureLevel level, const QString& title, const QString& body);
    // The same moment for a followed remote machine; the title names it.
    void machineNotificationDue(const QString& id, headroom::PressureLevel level, const QString& title,
                                const QString& body);

  private:
    PressureLevelMachine machine_;
    ExhaustionEstimator estimator_;
    NotificationPolicy policy_;
    NotificationPolicy::Options policyOptions_;
    PressureState state_;
    struct MachinePolicy {
        NotificationPolicy policy;
        std::int64_t lastWallMs = 0;
    };
    QHash<QString, MachinePolicy> machines_;
    QElapsedTimer clock_;
};

} // namespace headroom::services
