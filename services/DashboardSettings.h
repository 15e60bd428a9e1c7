// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"
#include "services/remote/MachineEntry.h"

#include <QString>
#include <QStringList>

#include <chrono>

namespace headroom::services {

// When the level turns amber or red: the core's thresholds, with hysteresis.
using LevelThresholds = PressureThresholds;

// Everything the user can change in the settings dialog. Plain data with the
// defaults and the allowed ranges next to each field, so the dialog, the store
// and the tests agree on them.
struct DashboardSettings {
    static constexpr double kMinIntervalSeconds = 0.5;
    static constexpr double kMaxIntervalSeconds = 10.0;
    static constexpr int kMinHistoryMinutes = 5;
    static constexpr int kMaxHistoryMinutes = 24 * 60;
    static constexpr double kMinGraceSeconds = 0.0;
    static constexpr double kMaxGraceSeconds = 60.0;

    double intervalSeconds = 1.0;
    int historyMinutes = 30;
    double graceSeconds = 3.0;

    // Builds started from Headroom get this oom_score_adj (inherited by all
    // they start), so when the kernel must kill, it kills the build, which
    // can be restarted, and not the window or the user's editor.
    static constexpr int kMinBuildOomScoreAdj = 0;
    static constexpr int kMaxBuildOomScoreAdj = 1000;
    int buildOomScoreAdj = 500;

    // Extra program names per role, on top of the ones the core knows.
    QStringList testRunners;
    QStringList extraLinkers;
    QStringList extraCompilers;

    LevelThresholds thresholds;

    // Desktop notifications: a level that persists is repeated no more often
    // than this; quiet mode ("don't disturb") sends none.
    static constexpr double kMinRepeatMinutes = 1.0;
    static constexpr double kMaxRepeatMinutes = 240.0;
    double notifyRepeatMinutes = 5.0;
    bool quiet = false;

    // The build guard: off until the user turns it on. Builds started from
    // Headroom are guarded; other builds of the user only when asked.
    bool guardEnabled = false;
    bool guardExternalBuilds = false;
    double guardEmergencyPercent = 5.0; // terminate the largest build below this much available RAM
    static constexpr double kMinGuardRestSeconds = 5.0;
    static constexpr double kMaxGuardRestSeconds = 600.0;
    double guardRestSeconds = 30.0; // never act on one process twice within this

    // Remote machines (Prometheus instances or Headroom exporters) the window
    // can show read-only, and the one it shows; empty: this machine.
    MachineList machines;
    QString shownMachine;

    // Closing the window hides it to the tray; said once.
    bool trayHintShown = false;

    std::chrono::milliseconds interval() const
    {
        return std::chrono::milliseconds(static_cast<long long>(intervalSeconds * 1000.0 + 0.5));
    }
    std::chrono::milliseconds grace() const
    {
        return std::chrono::milliseconds(static_cast<long long>(graceSeconds * 1000.0 + 0.5));
    }

    friend bool operator==(const DashboardSettings&, const DashboardSettings&) = default;
};

} // namespace headroom::services
