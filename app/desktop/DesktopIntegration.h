// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Everything Headroom asks of the desktop it runs on: a tray icon with a menu,
// and notifications. The rest of the app talks to this interface only, so it
// does not care which desktop (or none) is there, and tests substitute it.

#include "headroom/PressureLevel.h"
#include "services/TrayStatus.h"

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

namespace headroom::app {

// What the user can ask for from the tray menu or a notification's buttons.
enum class DesktopCommand {
    ShowDashboard,
    StartLastBuild,
    StopRunawayBuilds,
    PauseBuilds,
    ResumeBuilds,
    PauseTests,
    SetGuard, // checked: on
    SetQuiet, // checked: on
    Quit,
};

QString commandLabel(DesktopCommand command); // "Show dashboard", "Stop builds"...

// What the tray shows; services::TrayPresenter makes it.
using services::TrayStatus;

struct DesktopNotification {
    // Each kind replaces its own previous notification on screen instead of piling up.
    enum class Kind { Pressure, Guard, Info, Machine }; // Machine: a followed remote machine's level
    Kind kind = Kind::Info;
    PressureLevel urgency = PressureLevel::Normal;
    QString title;
    QString body;
    QList<DesktopCommand> actions; // offered as buttons where the server supports them
};

// A notification fit to show: titles and bodies quote process names, which may
// hold terminal escapes, bidi overrides or invalid UTF-8. Every sender passes
// what it shows through this.
DesktopNotification safeNotification(DesktopNotification n);

class DesktopIntegration : public QObject {
    Q_OBJECT
  public:
    using QObject::QObject;
    ~DesktopIntegration() override = default;

    // A tray (status area) exists and shows Headroom's icon.
    virtual bool isTrayAvailable() const = 0;
    virtual void setTrayStatus(const TrayStatus& status) = 0;
    // Never blocks: delivery happens in the background, with a fallback.
    virtual void notify(const DesktopNotification& notification) = 0;

  signals:
    void commandRequested(headroom::app::DesktopCommand command, bool checked);
    // The tray appeared (a panel started after Headroom) or went away.
    void trayAvailabilityChanged(bool available);
};

} // namespace headroom::app

Q_DECLARE_METATYPE(headroom::app::DesktopCommand)
