// SPDX-License-Identifier: GPL-3.0-or-later
// Passwords in a real GNOME Keyring over the freedesktop Secret Service API,
// on a private session bus with the keyring's files in a temporary home:
// store, look up, replace, remove, a missing id, calls from other threads, a
// locked keyring, and no keyring on the bus at all.
#include "app/desktop/SecretServiceStore.h"
#include "support/PrivateSessionBus.h"

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <cstdio>
#include <thread>
#include <unistd.h>
#include <vector>

using headroom::app::makeSecretServiceStore;
using headroom::services::CredentialStore;

namespace {

const QString kService = QStringLiteral("org.freedesktop.secrets");

bool secretServiceOnTheBus()
{
    return QDBusConnection::sessionBus().interface()->isServiceRegistered(kService).value();
}

} // namespace

class TestSecretServiceStore : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase()
    {
        QVERIFY2(QDBusConnection::sessionBus().isConnected(), "no private session bus");
        QVERIFY2(!secretServiceOnTheBus(), "a Secret Service is already on this private bus");
    }

    void noKeyringOnTheBusIsSaid()
    {
        QString why;
        QElapsedTimer timer;
        timer.start();
        const auto store = makeSecretServiceStore(&why);
        QVERIFY(!store);
        QVERIFY2(why.contains(QStringLiteral("Secret Service")) &&
                     why.contains(QStringLiteral("did not answer")),
                 qPrintable(why));
        QVERIFY2(timer.elapsed() < 3000, "no activation, no waiting"); // the bus says so at once
    }

    void keyringWithoutADefaultKeyringIsSaid()
    {
        // Started without a login password, GNOME Keyring has only its
        // in-memory session collection: nowhere to keep a password for good.
        QVERIFY(startDaemon(QByteArray()));
        QString why;
        const auto store = makeSecretServiceStore(&why);
        QVERIFY(!store);
        QVERIFY2(why.contains(QStringLiteral("has no default keyring")), qPrintable(why));
        stopDaemon();
        QTRY_VERIFY_WITH_TIMEOUT(!secretServiceOnTheBus(), 5000);
    }

    void startKeyring()
    {
        // An empty login password: the login keyring is created unlocked.
        QVERIFY(startDaemon("\n"));
    }

    void storeLookupReplaceRemove()

    {
        QString why;
        store_ = makeSecretServiceStore(&why);
        QVERIFY2(store_, qPrintable(why));
        QVERIFY(why.isEmpty());
        QCOMPARE(store_->describe(), QStringLiteral("the desktop keyring (Secret Service)"));

        QString error = QStringLiteral("stale");
        QVERIFY(!store_->lookup(QStringLiteral("buildbox"), &error));
        QVERIFY2(error.isEmpty(), qPrintable(error));

        QCOMPARE(store_->store(QStringLiteral("buildbox"), QStringLiteral("s3cr\"et ü")), QString());
        QCOMPARE(store_->store(QStringLiteral("ci-1"), QStringLiteral("other")), QString());
        QCOMPARE(store_->lookup(QStringLiteral("buildbox"), &error).value_or(QString()),
                 QStringLiteral("s3cr\"et ü"));
        QVERIFY(error.isEmpty());

        // Replaced, not added beside the old one.
        QCOMPARE(store_->store(QStringLiteral("buildbox"), QStringLiteral("new one")), QString());
        QCOMPARE(store_->lookup(QStringLiteral("buildbox")).value_or(QString()), QStringLiteral("new one"));
        QCOMPARE(itemsFor(QStringLiteral("buildbox")), 1);

        // A second store (the next start of the window) sees the same keyring.
        QString again;
        const auto second = makeSecretServiceStore(&again);
        QVERIFY2(second, qPrintable(again));
        QCOMPARE(second->lookup(QStringLiteral("ci-1")).value_or(QString()), QStringLiteral("other"));

        QCOMPARE(store_->remove(QStringLiteral("buildbox")), QString());
        QVERIFY(!store_->lookup(QStringLiteral("buildbox"), &error));
        QVERIFY(error.isEmpty());
        QCOMPARE(itemsFor(QStringLiteral("buildbox")), 0);
        QCOMPARE(store_->remove(QStringLiteral("never-stored")), QString());
        QCOMPARE(store_->lookup(QStringLiteral("ci-1")).value_or(QString()), QStringLiteral("other"));
    }

    void callsFromWorkerThreads()
    {
        QVERIFY(store_);
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 5; ++i) {
                    const QString id = QStringLiteral("t%1-%2").arg(t).arg(i);
                    if (!store_->store(id, id + QStringLiteral("-pw")).isEmpty())
                        ++failures;
                    if (store_->lookup(id).value_or(QString()) != id + QStringLiteral("-pw"))
                        ++failures;
                    if (!store_->remove(id).isEmpty())
                        ++failures;
                }
            });
        }
        for (auto& thread : threads)
            thread.join();
        QCOMPARE(failures.load(), 0);
    }

    void lockedKeyringIsSaid()
    {
        QVERIFY(store_);
        QCOMPARE(store_->store(QStringLiteral("kept"), QStringLiteral("pw")), QString());
        // Lock the login keyring as the desktop does (screen lock, timeout).
        QDBusMessage alias = QDBusMessage::createMethodCall(
            kService, QStringLiteral("/org/freedesktop/secrets"),
            QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("ReadAlias"));
        alias << QStringLiteral("default");
        const QDBusMessage collection = QDBusConnection::sessionBus().call(alias);
        QCOMPARE(collection.type(), QDBusMessage::ReplyMessage);
        QDBusMessage lock = QDBusMessage::createMethodCall(
            kService, QStringLiteral("/org/freedesktop/secrets"),
            QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("Lock"));
        lock << QVariant::fromValue(
            QList<QDBusObjectPath>{collection.arguments().value(0).value<QDBusObjectPath>()});
        const QDBusMessage locked = QDBusConnection::sessionBus().call(lock);
        QVERIFY2(locked.type() == QDBusMessage::ReplyMessage, qPrintable(locked.errorMessage()));

        QString error;
        QVERIFY(!store_->lookup(QStringLiteral("kept"), &error));
        QVERIFY2(error.contains(QStringLiteral("locked: unlock it")), qPrintable(error));
        const QString stored = store_->store(QStringLiteral("other"), QStringLiteral("x"));
        QVERIFY2(stored.contains(QStringLiteral("locked: unlock it")), qPrintable(stored));
        const QString removed = store_->remove(QStringLiteral("kept"));
        QVERIFY2(removed.contains(QStringLiteral("locked: unlock it")), qPrintable(removed));
    }

    void cleanupTestCase()
    {
        store_.reset();
        stopDaemon();
    }

  private:
    // gnome-keyring-daemon on this private bus, its files in the temporary
    // home, `password` on its stdin; true once it owns the Secret Service name.
    bool startDaemon(const QByteArray& password)
    {
        [&] {
            if (QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon")).isEmpty())
                QFAIL("gnome-keyring-daemon is not installed (package gnome-keyring)");
            QVERIFY(home_.isValid());
            for (const char* sub : {"home", "data", "config", "cache", "run"})
                QVERIFY(QDir(home_.path()).mkpath(QLatin1String(sub)));
            QFile::setPermissions(home_.filePath(QStringLiteral("run")),
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("HOME"), home_.filePath(QStringLiteral("home")));
            env.insert(QStringLiteral("XDG_DATA_HOME"), home_.filePath(QStringLiteral("data")));
            env.insert(QStringLiteral("XDG_CONFIG_HOME"), home_.filePath(QStringLiteral("config")));
            env.insert(QStringLiteral("XDG_CACHE_HOME"), home_.filePath(QStringLiteral("cache")));
            env.insert(QStringLiteral("XDG_RUNTIME_DIR"), home_.filePath(QStringLiteral("run")));
            keyring_.setProcessEnvironment(env);
            keyring_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            keyring_.start(QStringLiteral("gnome-keyring-daemon"),
                           {QStringLiteral("--foreground"), QStringLiteral("--components=secrets"),
                            QStringLiteral("--unlock")});
            QVERIFY(keyring_.waitForStarted(5000));
            keyring_.write(password);
            keyring_.closeWriteChannel();
            QTRY_VERIFY_WITH_TIMEOUT(secretServiceOnTheBus(), 5000);
        }();
        return !QTest::currentTestFailed() && secretServiceOnTheBus();
    }

    void stopDaemon()
    {
        if (keyring_.state() != QProcess::NotRunning) {
            keyring_.terminate();
            if (!keyring_.waitForFinished(3000)) {
                keyring_.kill();
                keyring_.waitForFinished(3000);
            }
        }
    }

    // How many items carry this machine's attributes (locked or not).
    int itemsFor(const QString& machineId)
    {
        QDBusMessage search = QDBusMessage::createMethodCall(
            kService, QStringLiteral("/org/freedesktop/secrets"),
            QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("SearchItems"));
        search << QVariant::fromValue(
            QMap<QString, QString>{{QStringLiteral("application"), QStringLiteral("headroom")},
                                   {QStringLiteral("machine"), machineId}});
        const QDBusMessage found = QDBusConnection::sessionBus().call(search);
        if (found.type() != QDBusMessage::ReplyMessage)
            return -1;
        return int(qdbus_cast<QList<QDBusObjectPath>>(found.arguments().value(0)).size() +
                   qdbus_cast<QList<QDBusObjectPath>>(found.arguments().value(1)).size());
    }

    QTemporaryDir home_;
    QProcess keyring_;
    std::unique_ptr<CredentialStore> store_;
};

// On a private session bus of its own (support/PrivateSessionBus.h).
int main(int argc, char** argv)
{
    if (!headroom::test::onPrivateSessionBus(argc, argv, HEADROOM_PRIVATE_BUS_CONFIG))
        return 1;
    QCoreApplication app(argc, argv);
    TestSecretServiceStore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "TestSecretServiceStore.moc"
