// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/MemoryLevel.h"
#include "services/SnapshotPtr.h"
#include "services/TrayStatus.h"

#include <QString>

#include <vector>

namespace headroom::services {

// What the guard and the settings say for the tray menu.
struct TrayGuardState {
    bool guardOn = false;     // the build guard is enabled
    bool quiet = false;       // don't disturb
    bool heldPaused = false;  // Headroom holds paused processes
    bool canPause = false;    // build or test processes of the user are running
    bool haveRunaway = false; // build processes of the user that could be stopped
};

// The build the tray menu offers to start again.
struct TrayLastBuild {
    QString title;             // "Preset A · tsz"; empty: none started from Headroom yet
    bool launcherIdle = false; // no build of the launcher is running now
};

// A remote machine the tray follows (its followInTray is set): its level as
// its own Headroom decided it.
struct TrayMachineLevel {
    QString name; // "buildbox"
    bool reachable = false;
    bool hasReading = false;
    PressureLevel level = PressureLevel::Normal;
    QString reason; // the figure that decided it; empty when normal
};

// Turns the latest sample, its pressure verdict, the guard's state and the
// last build into what the tray shows. No tray needed: the result is a value
// the desktop integration shows as it is.
class TrayPresenter {
  public:
    // The status for these inputs; `snapshot` null: waiting for the first sample.
    // The level is the worst of this machine's and every followed machine's;
    // the tooltip names the machine that made it amber or red.
    static TrayStatus present(const SnapshotPtr& snapshot, const PressureState& pressure,
                              const TrayGuardState& guard, const TrayLastBuild& lastBuild,
                              const std::vector<TrayMachineLevel>& followed = {});

    // Presents and keeps the result; true when it differs from the one kept.
    bool update(const SnapshotPtr& snapshot, const PressureState& pressure, const TrayGuardState& guard,
                const TrayLastBuild& lastBuild, const std::vector<TrayMachineLevel>& followed = {});
    const TrayStatus& status() const { return status_; }

  private:
    TrayStatus status_;
    bool presented_ = false;
};

} // namespace headroom::services
