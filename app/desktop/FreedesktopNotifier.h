// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Desktop notifications through the freedesktop notification service
// (org.freedesktop.Notifications on the session bus): dunst, mako, GNOME
// Shell, Plasma and others. Every call is asynchronous with a short timeout,
// so a bus without a server never blocks the dashboard; a failed delivery is
// reported so the caller can fall back to the tray balloon.

#include "app/desktop/DesktopIntegration.h"

#include <QDBusConnection>
#include <QHash>
#include <QObject>
#include <QStringList>

namespace headroom::app {

class FreedesktopNotifier : public QObject {
    Q_OBJECT
  public:
    static constexpr int kCallTimeoutMs = 4000;

    explicit FreedesktopNotifier(const QDBusConnection& bus = QDBusConnection::sessionBus(),
                                 QObject* parent = nullptr);

    void send(const DesktopNotification& notification);

    // What the server said it can do (GetCapabilities); empty until it answered.
    const QStringList& capabilities() const { return capabilities_; }
    bool supportsActions() const { return capabilities_.contains(QStringLiteral("actions")); }
    // The server's name and version (GetServerInformation), once known: "dunst 1.9.0".
    const QString& serverName() const { return serverName_; }

    // The action key sent for a command, and back.
    static QString actionKey(DesktopCommand command);

  signals:
    void delivered(uint id, const headroom::app::DesktopNotification& notification);
    // No server answered, or it refused: show it another way.
    void failed(const headroom::app::DesktopNotification& notification, const QString& reason);
    void commandRequested(headroom::app::DesktopCommand command);
    void capabilitiesKnown(const QStringList& capabilities);

  private slots:
    void onActionInvoked(uint id, const QString& key);
    void onClosed(uint id, uint reason);

  private:
    void queryServer();

    QDBusConnection bus_;
    QStringList capabilities_;
    QString serverName_;
    QHash<int, uint> lastIdByKind_;              // replaces_id per kind of notification
    QHash<uint, QList<DesktopCommand>> offered_; // id -> the commands its buttons stand for
};

} // namespace headroom::app
