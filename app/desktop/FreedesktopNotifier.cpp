// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/FreedesktopNotifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusServiceWatcher>
#include <QGuiApplication>
#include <QTimer>

#include <spdlog/spdlog.h>

namespace headroom::app {
namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kInterface = QStringLiteral("org.freedesktop.Notifications");

QDBusMessage call(const QString& method)
{
    return QDBusMessage::createMethodCall(kService, kPath, kInterface, method);
}

} // namespace

FreedesktopNotifier::FreedesktopNotifier(const QDBusConnection& bus, QObject* parent)
    : QObject(parent), bus_(bus)
{
    qRegisterMetaType<DesktopNotification>();
    if (!bus_.isConnected()) {
        spdlog::info("no D-Bus session bus ({}): notifications go to the tray balloon",
                     bus_.lastError().message().toStdString());
        return;
    }
    bus_.connect(kService, kPath, kInterface, QStringLiteral("ActionInvoked"), this,
                 SLOT(onActionInvoked(uint, QString)));
    bus_.connect(kService, kPath, kInterface, QStringLiteral("NotificationClosed"), this,
                 SLOT(onClosed(uint, uint)));
    // A server that starts (or restarts) later is asked again.
    auto* watcher = new QDBusServiceWatcher(kService, bus_, QDBusServiceWatcher::WatchForRegistration, this);
    connect(watcher, &QDBusServiceWatcher::serviceRegistered, this, [this] {
        lastIdByKind_.clear();
        queryServer();
    });
    queryServer();
}

void FreedesktopNotifier::queryServer()
{
    auto* caps = new QDBusPendingCallWatcher(
        bus_.asyncCall(call(QStringLiteral("GetCapabilities")), kCallTimeoutMs), this);
    connect(caps, &QDBusPendingCallWatcher::finished, this, [this](QDBusPendingCallWatcher* w) {
        w->deleteLater();
        const QDBusPendingReply<QStringList> reply = *w;
        if (reply.isError()) {
            spdlog::info("no notification server answers on the session bus ({})",
                         reply.error().message().toStdString());
            return;
        }
        capabilities_ = reply.value();
        emit capabilitiesKnown(capabilities_);
    });
    auto* info = new QDBusPendingCallWatcher(
        bus_.asyncCall(call(QStringLiteral("GetServerInformation")), kCallTimeoutMs), this);
    connect(info, &QDBusPendingCallWatcher::finished, this, [this](QDBusPendingCallWatcher* w) {
        w->deleteLater();
        const QDBusPendingReply<QString, QString, QString, QString> reply = *w;
        if (reply.isError())
            return;
        serverName_ = reply.argumentAt<0>() + QLatin1Char(' ') + reply.argumentAt<2>();
        spdlog::info("notification server: {} (capabilities: {})", serverName_.toStdString(),
                     capabilities_.join(QLatin1Char(' ')).toStdString());
    });
}

QString FreedesktopNotifier::actionKey(DesktopCommand command)
{
    switch (command) {
    case DesktopCommand::ShowDashboard:
        return QStringLiteral("show");
    case DesktopCommand::StartLastBuild:
        return QStringLiteral("start-last-build");
    case DesktopCommand::StopRunawayBuilds:
        return QStringLiteral("stop-builds");
    case DesktopCommand::PauseBuilds:
        return QStringLiteral("pause-builds");
    case DesktopCommand::ResumeBuilds:
        return QStringLiteral("resume-builds");
    case DesktopCommand::PauseTests:
        return QStringLiteral("pause-tests");
    case DesktopCommand::SetGuard:
        return QStringLiteral("guard");
    case DesktopCommand::SetQuiet:
        return QStringLiteral("quiet");
    case DesktopCommand::Quit:
        return QStringLiteral("quit");
    }
    return {};
}

void FreedesktopNotifier::send(const DesktopNotification& raw)
{
    const DesktopNotification n = safeNotification(raw);
    if (!bus_.isConnected()) {
        // Reported after returning, as a server's answer would be.
        QTimer::singleShot(0, this, [this, n] { emit failed(n, QStringLiteral("no D-Bus session bus")); });
        return;
    }
    // "default" is what a click on the notification itself does: open the dashboard.
    QStringList actions{QStringLiteral("default"), commandLabel(DesktopCommand::ShowDashboard)};
    for (DesktopCommand command : n.actions)
        actions << actionKey(command) << commandLabel(command);
    const bool markup = capabilities_.contains(QStringLiteral("body-markup"));
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"),
                 QVariant::fromValue<uchar>(n.urgency == PressureLevel::Critical  ? 2
                                            : n.urgency == PressureLevel::Warning ? 1
                                                                                  : 0));
    if (!QGuiApplication::desktopFileName().isEmpty())
        hints.insert(QStringLiteral("desktop-entry"), QGuiApplication::desktopFileName());

    const int kind = static_cast<int>(n.kind);
    QDBusMessage message = call(QStringLiteral("Notify"));
    message << QGuiApplication::applicationDisplayName() << lastIdByKind_.value(kind, 0u)
            << QGuiApplication::desktopFileName() << n.title << (markup ? n.body.toHtmlEscaped() : n.body)
            << actions << hints << -1;
    auto* watcher = new QDBusPendingCallWatcher(bus_.asyncCall(message, kCallTimeoutMs), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, n, kind](QDBusPendingCallWatcher* w) {
        w->deleteLater();
        const QDBusPendingReply<uint> reply = *w;
        if (reply.isError()) {
            emit failed(n, reply.error().message());
            return;
        }
        const uint id = reply.value();
        lastIdByKind_.insert(kind, id);
        offered_.insert(id, n.actions);
        emit delivered(id, n);
    });
}

void FreedesktopNotifier::onActionInvoked(uint id, const QString& key)
{
    const auto it = offered_.constFind(id);
    if (it == offered_.constEnd())
        return; // another application's notification
    if (key == QLatin1String("default")) {
        emit commandRequested(DesktopCommand::ShowDashboard);
        return;
    }
    for (DesktopCommand command : *it) {
        if (actionKey(command) == key) {
            spdlog::info("notification {}: the user chose \"{}\"", id, commandLabel(command).toStdString());
            emit commandRequested(command);
            return;
        }
    }
}

void FreedesktopNotifier::onClosed(uint id, uint)
{
    offered_.remove(id);
    for (auto it = lastIdByKind_.begin(); it != lastIdByKind_.end();) {
        if (it.value() == id)
            it = lastIdByKind_.erase(it);
        else
            ++it;
    }
}

} // namespace headroom::app
