// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/BuildGuard.h"
#include "headroom/TouchPolicy.h"
#include "services/ActionRequest.h"
#include "services/SnapshotPtr.h"

#include <QObject>

#include <functional>
#include <vector>

namespace headroom::services {

class ProcessActions;

// Carries out the build guard's decisions and the tray's "Pause builds",
// "Resume builds" and "Pause tests", through the same safe path as the
// window's actions (pid + start time, the user's own processes only, off the
// GUI thread). It remembers what Headroom paused so it can resume exactly
// that, oldest first.
class GuardService : public QObject {
    Q_OBJECT
  public:
    explicit GuardService(ProcessActions* actions, std::uint32_t uid, QObject* parent = nullptr);

    struct Settings {
        bool enabled = false;
        bool guardExternalBuilds = false;
        double emergencyAvailablePercent = 5.0;
        double restSeconds = 30.0;
    };
    void setSettings(const Settings& settings);
    const Settings& settings() const { return settings_; }
    bool enabled() const { return settings_.enabled; }
    // The builds Headroom started, asked for at every sample.
    void setLaunchedRoots(std::function<std::vector<ProcessKey>()> roots)
    {
        launchedRoots_ = std::move(roots);
    }

    // The user's build and test processes that "Pause builds" would pause.
    bool canPause() const { return presence_.runnable; }
    // Any build or test process of the user, running or paused: something
    // "Stop runaway builds" can offer.
    bool hasBuildProcesses() const { return presence_.build; }
    bool canPauseTests() const { return presence_.tests; }
    // Headroom holds paused processes (the guard's or the user's pause).
    bool holdsPaused() const { return !held_.empty() || !guard_.paused().empty(); }

  public slots:
    // Feeds one sample and its level; the guard acts when it is on.
    void observe(const headroom::services::SnapshotPtr& snapshot, headroom::PressureLevel level);
    // The same in two steps: take the sample (what the menu can offer is
    // known from then on), then act on its level once that is known.
    void take(const headroom::services::SnapshotPtr& snapshot);
    void act(headroom::PressureLevel level);
    void pauseBuilds();
    void pauseTests();
    void resumeAll();

  signals:
    // Something was done or tried: for the notification and the activity log.
    void acted(const QString& title, const QString& body, headroom::PressureLevel urgency);
    void heldChanged(bool holdsPaused);

  private:
    struct Held {
        ProcessKey key;
        bool tree = false;
        std::int64_t startedAtMs = 0;
        std::string name;
    };
    void request(std::vector<ProcessKey> targets, ProcessAction action, bool tree,
                 const QString& description);
    void hold(const ProcessSample& p, bool tree);
    // The user's own processes, never Headroom or what started it; with
    // buildRolesOnly, build and test processes only.
    TouchPolicy policy(bool buildRolesOnly) const;
    double now() const;

    ProcessActions* actions_;
    std::uint32_t uid_;
    Settings settings_;
    BuildGuard guard_;
    std::function<std::vector<ProcessKey>()> launchedRoots_;
    SnapshotPtr snapshot_;
    std::vector<Held> held_;
    struct Presence {
        bool build = false;    // any build or test process of the user
        bool runnable = false; // ... that is not paused
        bool tests = false;    // ... a test process that is not paused
    } presence_;
    bool lastHeld_ = false;
};

} // namespace headroom::services
