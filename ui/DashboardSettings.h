// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

#include <chrono>

namespace headroom::ui {

// When the summary turns amber or red. A level is reached when any one of its
// conditions holds: memory running out is what kills builds, and PSI tells
// that the kernel is already struggling before the figures look bad.
struct LevelThresholds {
    double warningAvailablePercent = 15.0; // available RAM below this share of total
    double criticalAvailablePercent = 5.0;
    double warningSwapPercent = 50.0; // swap used above this share of swap total
    double criticalSwapPercent = 85.0;
    double warningPressureSome = 10.0;  // PSI "some" avg10, percent of time stalled
    double criticalPressureFull = 10.0; // PSI "full" avg10

    friend bool operator==(const LevelThresholds&, const LevelThresholds&) = default;
};

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

    // Extra program names per role, on top of the ones the core knows.
    QStringList testRunners;
    QStringList extraLinkers;
    QStringList extraCompilers;

    LevelThresholds thresholds;

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

} // namespace headroom::ui
