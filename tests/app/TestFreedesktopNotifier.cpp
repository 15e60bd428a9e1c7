// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/FreedesktopNotifier.h"
#include "support/PrivateSessionBus.h"

#include <QApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include <cstdio>
#include <unistd.h>
#include <vector>

using namespace headroom;
using namespace headroom::app;

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kDesktopEntry = QStringLiteral("io.github.headroom_app.Headroom");

// One Notify call as the server received it.
struct NotifyCall {
    QString appName;
    uint replacesId = 0;
    QString appIcon;
    QString summary;
    QString body;
    QStringList actions;
    QVariantMap hints;
    int expireTimeout = 0;
};

} // namespace

// A notification server on its own connection to the private bus, as dunst
// or GNOME Shell would be: it answers the four methods of the specification
// and sends the specification's signals.
class NotificationServer : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")

  public:
    NotificationServer(const QString& connectionName, QStringList capabilities)
        : bus_(QDBusConnection::connectToBus(QDBusConnection::SessionBus, connectionName)),
          name_(connectionName), capabilities_(std::move(capabilities))
    {
    }

    ~NotificationServer() override
    {
        bus_.unregisterService(kService);
        bus_.unregisterObject(kPath);
        QDBusConnection::disconnectFromBus(name_);
    }

    bool start()
    {
        return bus_.isConnected() && bus_.registerObject(kPath, this, QDBusConnection::ExportAllSlots) &&
               bus_.registerService(kService);
    }

    void emitActionInvoked(uint id, const QString& key)
    {
        QDBusMessage signal = QDBusMessage::createSignal(kPath, kService, QStringLiteral("ActionInvoked"));
        signal << id << key;
        QVERIFY(bus_.send(signal));
    }

    void emitClosed(uint id, uint reason)
    {
        QDBusMessage signal =
            QDBusMessage::createSignal(kPath, kService, QStringLiteral("NotificationClosed"));
        signal << id << reason;
        QVERIFY(bus_.send(signal));
    }

    QList<NotifyCall> calls;
    bool answerNotify = true; // false: keep every Notify call waiting forever
    QList<QDBusMessage> unanswered;

  public slots:
    QStringList GetCapabilities() { return capabilities_; }

    QString GetServerInformation(QString& vendor, QString& version, QString& specVersion)
    {
        vendor = QStringLiteral("Headroom tests");
        version = QStringLiteral("1.0");
        specVersion = QStringLiteral("1.2");
        return QStringLiteral("test-server");
    }

    uint Notify(const QString& appName, uint replacesId, const QString& appIcon, const QString& summary,
                const QString& body, const QStringList& actions, const QVariantMap& hints, int expireTimeout,
                const QDBusMessage& message)
    {
        calls << NotifyCall{appName, replacesId, appIcon, summary, body, actions, hints, expireTimeout};
        if (!answerNotify) {
            message.setDelayedReply(true);
            unanswered << message; // never answered
            return 0;
        }
        // Like real servers: a replacement keeps its id.
        return replacesId != 0 ? replacesId : nextId_++;
    }

    void CloseNotification(uint id) { emitClosed(id, 3); }

  private:
    QDBusConnection bus_;
    QString name_;
    QStringList capabilities_;
    uint nextId_ = 41;
};

// The notifier against a real server on a private session bus (the test
// starts one for itself; see main()): what Notify carries, replacement by
// kind, the buttons coming back as commands, and never blocking when no
// server answers.
class TestFreedesktopNotifier : public QObject {
    Q_OBJECT

    std::unique_ptr<NotificationServer> server_;
    int serverCount_ = 0;

    NotificationServer* startServer(const QStringList& capabilities = {QStringLiteral("actions"),
                                                                       QStringLiteral("body")})
    {
        server_ = std::make_unique<NotificationServer>(QStringLiteral("server-%1").arg(++serverCount_),
                                                       capabilities);
        if (!server_->start())
            return nullptr;
        return server_.get();
    }

    // A notifier that has heard the server's capabilities.
    static bool ready(FreedesktopNotifier& notifier)
    {
        if (!notifier.capabilities().isEmpty())
            return true;
        QSignalSpy known(&notifier, &FreedesktopNotifier::capabilitiesKnown);
        return known.wait(5000);
    }

    static DesktopNotification notification(DesktopNotification::Kind kind, const QString& title,
                                            QList<DesktopCommand> actions = {})
    {
        DesktopNotification n;
        n.kind = kind;
        n.urgency = PressureLevel::Warning;
        n.title = title;
        n.body = QStringLiteral("3 rustc · 9.8 GiB");
        n.actions = std::move(actions);
        return n;
    }

    // Sends and waits for the server's id.
    static uint deliver(FreedesktopNotifier& notifier, const DesktopNotification& n)
    {
        QSignalSpy delivered(&notifier, &FreedesktopNotifier::delivered);
        QSignalSpy failed(&notifier, &FreedesktopNotifier::failed);
        notifier.send(n);
        if (!delivered.wait(5000) || !failed.isEmpty())
            return 0;
        return delivered.first().first().toUInt();
    }

  private slots:
    void initTestCase()
    {
        qRegisterMetaType<DesktopCommand>();
        qRegisterMetaType<DesktopNotification>();
        QGuiApplication::setApplicationDisplayName(QStringLiteral("Headroom"));
        QGuiApplication::setDesktopFileName(kDesktopEntry);
        QVERIFY2(QDBusConnection::sessionBus().isConnected(),
                 qPrintable(QDBusConnection::sessionBus().lastError().message()));
    }

    void cleanup() { server_.reset(); }

    void notifyCarriesTheNotification_data()
    {
        QTest::addColumn<PressureLevel>("urgency");
        QTest::addColumn<uchar>("byte");
        QTest::newRow("normal") << PressureLevel::Normal << uchar(0);
        QTest::newRow("warning") << PressureLevel::Warning << uchar(1);
        QTest::newRow("critical") << PressureLevel::Critical << uchar(2);
    }

    void notifyCarriesTheNotification()
    {
        QFETCH(PressureLevel, urgency);
        QFETCH(uchar, byte);
        NotificationServer* server = startServer();
        QVERIFY(server);
        FreedesktopNotifier notifier;
        QVERIFY(ready(notifier));
        QVERIFY(notifier.supportsActions());
        QTRY_COMPARE_WITH_TIMEOUT(notifier.serverName(), QStringLiteral("test-server 1.0"), 5000);

        DesktopNotification n = notification(DesktopNotification::Kind::Pressure,
                                             QStringLiteral("Memory warning: only 12% of RAM is available"),
                                             {DesktopCommand::StopRunawayBuilds, DesktopCommand::PauseTests});
        n.urgency = urgency;
        const uint id = deliver(notifier, n);
        QCOMPARE(id, 41u);
        QCOMPARE(server->calls.size(), 1);
        const NotifyCall& call = server->calls.first();
        QCOMPARE(call.appName, QStringLiteral("Headroom"));
        QCOMPARE(call.replacesId, 0u);
        QCOMPARE(call.summary, n.title);
        QCOMPARE(call.body, n.body);
        QCOMPARE(call.actions, (QStringList{QStringLiteral("default"), QStringLiteral("Show dashboard"),
                                            QStringLiteral("stop-builds"), QStringLiteral("Stop builds"),
                                            QStringLiteral("pause-tests"), QStringLiteral("Pause tests")}));
        QCOMPARE(call.expireTimeout, -1);
        QVERIFY(call.hints.contains(QStringLiteral("urgency")));
        const QVariant urgencyHint = call.hints.value(QStringLiteral("urgency"));
        QCOMPARE(urgencyHint.metaType(), QMetaType::fromType<uchar>()); // a D-Bus byte
        QCOMPARE(urgencyHint.value<uchar>(), byte);
        QCOMPARE(call.hints.value(QStringLiteral("desktop-entry")).toString(), kDesktopEntry);
    }

    void withoutCommandsOnlyTheDefaultAction()
    {
        NotificationServer* server = startServer();
        QVERIFY(server);
        FreedesktopNotifier notifier;
        QVERIFY(ready(notifier));
        QVERIFY(deliver(notifier, notification(DesktopNotification::Kind::Info,
                                               QStringLiteral("Headroom is still running"))));
        QCOMPARE(server->calls.first().actions,
                 (QStringList{QStringLiteral("default"), QStringLiteral("Show dashboard")}));
    }

    void eachKindReplacesItsOwnNotification()
    {
        NotificationServer* server = startServer();
        QVERIFY(server);
        FreedesktopNotifier notifier;
        QVERIFY(ready(notifier));
        QSignalSpy commands(&notifier, &FreedesktopNotifier::commandRequested);

        const uint first =
            deliver(notifier, notification(DesktopNotification::Kind::Pressure, QStringLiteral("one")));
        QVERIFY(first);
        QCOMPARE(server->calls.last().replacesId, 0u);
        const uint second =
            deliver(notifier, notification(DesktopNotification::Kind::Pressure, QStringLiteral("two")));
        QCOMPARE(server->calls.last().replacesId, first);
        QCOMPARE(second, first);
        const uint guard =
            deliver(notifier, notification(DesktopNotification::Kind::Guard, QStringLiteral("guard")));
        QVERIFY(guard);
        QCOMPARE(server->calls.last().replacesId, 0u);
        QVERIFY(guard != first);

        // The user dismisses the pressure notification. The signals arrive in
        // order, so once the guard notification's click came through, the
        // close was seen too.
        server->emitClosed(first, 2);
        server->emitActionInvoked(guard, QStringLiteral("default"));
        QVERIFY(commands.wait(5000));
        QCOMPARE(commands.size(), 1);

        deliver(notifier, notification(DesktopNotification::Kind::Pressure, QStringLiteral("three")));
        QCOMPARE(server->calls.size(), 4);
        QCOMPARE(server->calls.last().replacesId, 0u);
        // The guard notification is still up and still replaced.
        deliver(notifier, notification(DesktopNotification::Kind::Guard, QStringLiteral("guard again")));
        QCOMPARE(server->calls.last().replacesId, guard);
    }

    void actionsComeBackAsCommands()
    {
        NotificationServer* server = startServer();
        QVERIFY(server);
        FreedesktopNotifier notifier;
        QVERIFY(ready(notifier));
        QSignalSpy commands(&notifier, &FreedesktopNotifier::commandRequested);
        const uint id =
            deliver(notifier, notification(DesktopNotification::Kind::Pressure, QStringLiteral("warn"),
                                           {DesktopCommand::StopRunawayBuilds}));
        QVERIFY(id);

        server->emitActionInvoked(id, QStringLiteral("stop-builds"));
        QVERIFY(commands.wait(5000));
        QCOMPARE(commands.size(), 1);
        QCOMPARE(commands.takeFirst().first().value<DesktopCommand>(), DesktopCommand::StopRunawayBuilds);

        server->emitActionInvoked(id, QStringLiteral("default"));
        QVERIFY(commands.wait(5000));
        QCOMPARE(commands.size(), 1);
        QCOMPARE(commands.takeFirst().first().value<DesktopCommand>(), DesktopCommand::ShowDashboard);

        // Another application's notification, and a button this one never
        // had: ignored. The signals arrive in order, so the one that does
        // count, sent last, proves the first two were seen and dropped.
        server->emitActionInvoked(id + 1000, QStringLiteral("stop-builds"));
        server->emitActionInvoked(id, QStringLiteral("quit"));
        server->emitActionInvoked(id, QStringLiteral("default"));
        QVERIFY(commands.wait(5000));
        QCOMPARE(commands.size(), 1);
        QCOMPARE(commands.takeFirst().first().value<DesktopCommand>(), DesktopCommand::ShowDashboard);

        // Closed: its buttons are gone.
        server->emitClosed(id, 2);
        server->emitActionInvoked(id, QStringLiteral("stop-builds"));
        const uint other =
            deliver(notifier, notification(DesktopNotification::Kind::Guard, QStringLiteral("guard"),
                                           {DesktopCommand::ResumeBuilds}));
        QVERIFY(other);
        server->emitActionInvoked(other, QStringLiteral("resume-builds"));
        QVERIFY(commands.wait(5000));
        QCOMPARE(commands.size(), 1);
        QCOMPARE(commands.takeFirst().first().value<DesktopCommand>(), DesktopCommand::ResumeBuilds);
    }

    void bodyIsEscapedOnlyForMarkupServers()
    {
        const QString body = QStringLiteral("cc1plus <defunct> & ld · 2.1 GiB");
        {
            NotificationServer* server = startServer();
            QVERIFY(server);
            FreedesktopNotifier notifier;
            QVERIFY(ready(notifier));
            DesktopNotification n =
                notification(DesktopNotification::Kind::Pressure, QStringLiteral("plain"));
            n.body = body;
            QVERIFY(deliver(notifier, n));
            QCOMPARE(server->calls.last().body, body);
        }
        server_.reset();
        {
            NotificationServer* server = startServer(
                {QStringLiteral("actions"), QStringLiteral("body"), QStringLiteral("body-markup")});
            QVERIFY(server);
            FreedesktopNotifier notifier;
            QVERIFY(ready(notifier));
            DesktopNotification n =
                notification(DesktopNotification::Kind::Pressure, QStringLiteral("markup"));
            n.body = body;
            QVERIFY(deliver(notifier, n));
            QCOMPARE(server->calls.last().body, QStringLiteral("cc1plus &lt;defunct&gt; &amp; ld · 2.1 GiB"));
            QCOMPARE(server->calls.last().summary, QStringLiteral("markup"));
        }
    }

    void noServerFailsAtOnce()
    {
        QVERIFY(!QDBusConnection::sessionBus().interface()->isServiceRegistered(kService).value());
        FreedesktopNotifier notifier;
        QSignalSpy failed(&notifier, &FreedesktopNotifier::failed);
        QSignalSpy delivered(&notifier, &FreedesktopNotifier::delivered);
        const DesktopNotification n = notification(DesktopNotification::Kind::Pressure,
                                                   QStringLiteral("Memory warning: nobody listens"));
        QElapsedTimer clock;
        clock.start();
        notifier.send(n);
        QVERIFY2(clock.elapsed() < 50, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(failed.size(), 0); // reported after returning
        QVERIFY(failed.wait(5000));
        // The bus answers at once that nobody owns the name.
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(failed.first().first().value<DesktopNotification>().title, n.title);
        QVERIFY(!failed.first().at(1).toString().isEmpty());
        QCOMPARE(delivered.size(), 0);
        QVERIFY(notifier.capabilities().isEmpty());
    }

    void disconnectedBusFailsWithoutBlocking()
    {
        const QDBusConnection nowhere = QDBusConnection::connectToBus(
            QStringLiteral("unix:path=/nonexistent/headroom-bus"), QStringLiteral("x"));
        QVERIFY(!nowhere.isConnected());
        {
            FreedesktopNotifier notifier(nowhere);
            QSignalSpy failed(&notifier, &FreedesktopNotifier::failed);
            QElapsedTimer clock;
            clock.start();
            notifier.send(notification(DesktopNotification::Kind::Info, QStringLiteral("hello")));
            QVERIFY2(clock.elapsed() < 50, qPrintable(QString::number(clock.elapsed())));
            QCOMPARE(failed.size(), 0);
            QVERIFY(failed.wait(1000));
            QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
            QCOMPARE(failed.first().first().value<DesktopNotification>().title, QStringLiteral("hello"));
        }
        QDBusConnection::disconnectFromBus(QStringLiteral("x"));
    }

    void silentServerTimesOut()
    {
        NotificationServer* server = startServer();
        QVERIFY(server);
        server->answerNotify = false;
        FreedesktopNotifier notifier;
        QVERIFY(ready(notifier));
        QSignalSpy failed(&notifier, &FreedesktopNotifier::failed);
        QSignalSpy delivered(&notifier, &FreedesktopNotifier::delivered);
        QElapsedTimer clock;
        clock.start();
        notifier.send(notification(DesktopNotification::Kind::Pressure, QStringLiteral("into the void")));
        QVERIFY2(clock.elapsed() < 50, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(failed.wait(FreedesktopNotifier::kCallTimeoutMs + 5000));
        const qint64 after = clock.elapsed();
        QVERIFY2(after >= FreedesktopNotifier::kCallTimeoutMs - 500, qPrintable(QString::number(after)));
        QVERIFY2(after <= FreedesktopNotifier::kCallTimeoutMs + 3000, qPrintable(QString::number(after)));
        QCOMPARE(server->calls.size(), 1);
        QCOMPARE(server->unanswered.size(), 1);
        QCOMPARE(delivered.size(), 0);
    }
};

// On a private session bus of its own (support/PrivateSessionBus.h).
int main(int argc, char** argv)
{
    if (!headroom::test::onPrivateSessionBus(argc, argv, HEADROOM_PRIVATE_BUS_CONFIG))
        return 1;
    QApplication app(argc, argv);
    TestFreedesktopNotifier test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "TestFreedesktopNotifier.moc"
