// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "app/desktop/DesktopIntegration.h"
#include "app/desktop/TrayGauge.h"

#include <QMenu>
#include <QPointer>
#include <QSystemTrayIcon>
#include <QTimer>

namespace headroom::app {

class FreedesktopNotifier;

// The real desktop: Qt's tray icon (XEmbed or StatusNotifierItem on Linux,
// the notification area on Windows, the menu bar on macOS) with a gauge icon
// and a menu, and notifications through the freedesktop service on Linux,
// falling back to the tray's balloon (the only kind on Windows and macOS).
class SystemDesktop : public DesktopIntegration {
    Q_OBJECT
  public:
    explicit SystemDesktop(QObject* parent = nullptr);
    ~SystemDesktop() override;

    bool isTrayAvailable() const override { return trayAvailable_; }
    void setTrayStatus(const TrayStatus& status) override;
    void notify(const DesktopNotification& notification) override;

    QSystemTrayIcon* trayIcon() { return &tray_; }
    QMenu* menu() { return &menu_; }

  private:
    void createMenu();
    void updateMenu();
    void checkTray();
    void showBalloon(const DesktopNotification& notification, const QString& why);

    QSystemTrayIcon tray_;
    QMenu menu_;
    QTimer trayWatch_;
    bool trayAvailable_ = false;
    TrayStatus status_;
    GaugeLook look_;
    bool iconSet_ = false;
    FreedesktopNotifier* notifier_ = nullptr;

    QAction* show_ = nullptr;
    QAction* startLast_ = nullptr;
    QAction* stopRunaway_ = nullptr;
    QAction* pauseResume_ = nullptr;
    QAction* guard_ = nullptr;
    QAction* quiet_ = nullptr;
    QAction* quit_ = nullptr;
};

} // namespace headroom::app
