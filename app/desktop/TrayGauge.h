// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"

#include <QIcon>
#include <QImage>

namespace headroom::app {

// The tray icon is a gauge: a rounded tank whose colour follows the level
// (green, amber, red) and whose fill follows the RAM in use.
struct GaugeLook {
    PressureLevel level = PressureLevel::Normal;
    double usedFraction = 0.0;
    bool hasData = true; // false: an empty grey outline until the first sample

    // The fill in steps of 1/32: an icon is only repainted when this changes.
    int fillSteps() const;
    friend bool operator==(const GaugeLook& a, const GaugeLook& b)
    {
        return a.level == b.level && a.hasData == b.hasData && a.fillSteps() == b.fillSteps();
    }
};

QImage paintTrayGauge(const GaugeLook& look, int size);
// 16 to 64 px, for every tray and panel size.
QIcon trayGaugeIcon(const GaugeLook& look);
// The colour of a level on the tray, which sits on panels of any shade.
QColor trayLevelColor(PressureLevel level);

} // namespace headroom::app
