// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"

#include <QMetaType>
#include <QString>

#include <optional>

namespace headroom::services {

// The dashboard shows the core's level; the machine with its hysteresis
// runs in the app and hands the window its verdict with every snapshot.
using MemoryLevel = PressureLevel;

struct PressureState {
    PressureLevel level = PressureLevel::Normal;
    QString reason;                    // the figure that decided it; empty when normal
    std::optional<double> secondsLeft; // until RAM + swap run out at the present trend
};

QString levelName(MemoryLevel level);

// The words for the core's time-left estimate, written once for every view
// (summary strip, tray, notifications), translatable. Both are empty when the
// estimate is not worth showing (none, or beyond 5 min).
// "about 2 min", "under a minute":
QString formatTimeLeft(std::optional<double> secondsLeft);
// "about 2 min left", "under a minute left":
QString describeTimeLeft(std::optional<double> secondsLeft);

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::PressureState)
