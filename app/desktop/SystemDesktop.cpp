// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/SystemDesktop.h"

#if HEADROOM_FREEDESKTOP_NOTIFICATIONS
#include "app/desktop/FreedesktopNotifier.h"
#endif

#include "services/SafeDisplayText.h"

#include <spdlog/spdlog.h>

namespace headroom::app {

SystemDesktop::SystemDesktop(QObject* parent) : DesktopIntegration(parent)
{
    qRegisterMetaType<DesktopCommand>();
    createMenu();
    tray_.setContextMenu(&menu_);
    tray_.setIcon(trayGaugeIcon(GaugeLook{PressureLevel::Normal, 0.0, false}));
    tray_.setToolTip(tr("Headroom: waiting for the first sample"));
    connect(&tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
            emit commandRequested(DesktopCommand::ShowDashboard, true);
    });
    connect(&tray_, &QSystemTrayIcon::messageClicked, this,
            [this] { emit commandRequested(DesktopCommand::ShowDashboard, true); });

#if HEADROOM_FREEDESKTOP_NOTIFICATIONS
    notifier_ = new FreedesktopNotifier(QDBusConnection::sessionBus(), this);
    connect(notifier_, &FreedesktopNotifier::commandRequested, this,
            [this](DesktopCommand command) { emit commandRequested(command, true); });
    connect(notifier_, &FreedesktopNotifier::failed, this,
            [this](const DesktopNotification& n, const QString& why) { showBalloon(n, why); });
    connect(notifier_, &FreedesktopNotifier::delivered, this, [](uint id, const DesktopNotification& n) {
        spdlog::debug("notification {} shown: {}", id, n.title.toStdString());
    });
#endif

    // Qt embeds the icon once a tray appears (it follows the X11 tray
    // selection); this only keeps our idea of "is there a tray" current, so
    // closing the window hides it only when it can be found again.
    trayAvailable_ = QSystemTrayIcon::isSystemTrayAvailable();
    tray_.show();
    trayWatch_.setInterval(2000);
    connect(&trayWatch_, &QTimer::timeout, this, &SystemDesktop::checkTray);
    trayWatch_.start();
    spdlog::info(trayAvailable_ ? "system tray found: Headroom's icon is in it"
                                : "no system tray yet: closing the window quits; watching for one");
}

SystemDesktop::~SystemDesktop()
{
    tray_.hide();
}

void SystemDesktop::checkTray()
{
    const bool available = QSystemTrayIcon::isSystemTrayAvailable();
    if (available == trayAvailable_)
        return;
    trayAvailable_ = available;
    spdlog::info(available ? "a system tray appeared: Headroom's icon is in it"
                           : "the system tray went away");
    if (available) {
        // Re-show so the icon is (re)embedded in the new tray.
        tray_.hide();
        tray_.show();
    }
    emit trayAvailabilityChanged(available);
}

void SystemDesktop::createMenu()
{
    auto command = [this](QAction* action, DesktopCommand c) {
        connect(action, &QAction::triggered, this,
                [this, c](bool checked) { emit commandRequested(c, checked); });
    };
    show_ = menu_.addAction(commandLabel(DesktopCommand::ShowDashboard));
    command(show_, DesktopCommand::ShowDashboard);
    menu_.setDefaultAction(show_);
    menu_.addSeparator();
    startLast_ = menu_.addAction(commandLabel(DesktopCommand::StartLastBuild));
    command(startLast_, DesktopCommand::StartLastBuild);
    stopRunaway_ = menu_.addAction(tr("Stop runaway builds…"));
    command(stopRunaway_, DesktopCommand::StopRunawayBuilds);
    pauseResume_ = menu_.addAction(commandLabel(DesktopCommand::PauseBuilds));
    connect(pauseResume_, &QAction::triggered, this, [this] {
        emit commandRequested(status_.heldPaused ? DesktopCommand::ResumeBuilds : DesktopCommand::PauseBuilds,
                              true);
    });
    menu_.addSeparator();
    guard_ = menu_.addAction(tr("Build guard: pause builds on critical memory"));
    guard_->setCheckable(true);
    command(guard_, DesktopCommand::SetGuard);
    quiet_ = menu_.addAction(commandLabel(DesktopCommand::SetQuiet));
    quiet_->setCheckable(true);
    command(quiet_, DesktopCommand::SetQuiet);
    menu_.addSeparator();
    quit_ = menu_.addAction(tr("Quit Headroom"));
    command(quit_, DesktopCommand::Quit);
    updateMenu();
}

void SystemDesktop::updateMenu()
{
    startLast_->setText(
        status_.lastBuild.isEmpty()
            ? commandLabel(DesktopCommand::StartLastBuild)
            : tr("Start last build (%1)").arg(services::safeDisplayText(status_.lastBuild, 200)));
    startLast_->setEnabled(status_.canStartBuild);
    stopRunaway_->setEnabled(status_.haveRunaway);
    pauseResume_->setText(
        commandLabel(status_.heldPaused ? DesktopCommand::ResumeBuilds : DesktopCommand::PauseBuilds));
    pauseResume_->setEnabled(status_.heldPaused || status_.canPause);
    guard_->setChecked(status_.guardOn);
    quiet_->setChecked(status_.quiet);
}

void SystemDesktop::setTrayStatus(const TrayStatus& status)
{
    const GaugeLook look{status.level, status.usedFraction, status.hasData};
    if (!iconSet_ || !(look == look_)) {
        tray_.setIcon(trayGaugeIcon(look));
        look_ = look;
        iconSet_ = true;
    }
    if (status.tooltip != status_.tooltip)
        tray_.setToolTip(services::safeDisplayLines(status.tooltip));
    status_ = status;
    updateMenu();
}

void SystemDesktop::notify(const DesktopNotification& raw)
{
    const DesktopNotification n = safeNotification(raw);
    spdlog::info("notification: {} | {}", n.title.toStdString(), n.body.toStdString());
    if (notifier_) {
#if HEADROOM_FREEDESKTOP_NOTIFICATIONS
        notifier_->send(n);
#endif
        return;
    }
    showBalloon(n, {});
}

void SystemDesktop::showBalloon(const DesktopNotification& n, const QString& why)
{
    if (!why.isEmpty())
        spdlog::info("notification service unavailable ({}); using the tray balloon", why.toStdString());
    if (!trayAvailable_ || !QSystemTrayIcon::supportsMessages()) {
        spdlog::info("no tray to show the notification in; it is in the activity log");
        return;
    }
    const QSystemTrayIcon::MessageIcon icon = n.urgency == PressureLevel::Critical ? QSystemTrayIcon::Critical
                                              : n.urgency == PressureLevel::Warning
                                                  ? QSystemTrayIcon::Warning
                                                  : QSystemTrayIcon::Information;
    tray_.showMessage(n.title, n.body, icon, 10000);
}

} // namespace headroom::app
