// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/PressureLevel.h"

#include <QString>

namespace headroom::services {

// What the tray shows: the icon's colour and fill, the tooltip, the menu's
// state. A plain value: services/TrayPresenter makes it, the desktop
// integration (app/desktop) shows it.
struct TrayStatus {
    PressureLevel level = PressureLevel::Normal;
    double usedFraction = 0.0; // RAM used, 0..1: how full the gauge is
    bool hasData = false;      // false until the first sample
    QString tooltip;
    QString lastBuild; // "Preset A · tsz" for the menu; empty: no build to repeat
    bool canStartBuild = false;
    bool haveRunaway = false; // build processes of the user that could be stopped
    bool canPause = false;    // build or test processes of the user are running
    bool heldPaused = false;  // Headroom holds paused builds: the menu offers Resume
    bool guardOn = false;
    bool quiet = false;

    friend bool operator==(const TrayStatus&, const TrayStatus&) = default;
};

} // namespace headroom::services
