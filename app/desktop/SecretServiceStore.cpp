// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/SecretServiceStore.h"

#include "services/SafeDisplayText.h"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QMap>
#include <QString>

#include <mutex>

// The Secret Service's secret: (session, parameters, value, content type).
struct SecretServiceSecret {
    QDBusObjectPath session;
    QByteArray parameters;
    QByteArray value;
    QString contentType;
};
Q_DECLARE_METATYPE(SecretServiceSecret)

QDBusArgument& operator<<(QDBusArgument& argument, const SecretServiceSecret& secret)
{
    argument.beginStructure();
    argument << secret.session << secret.parameters << secret.value << secret.contentType;
    argument.endStructure();
    return argument;
}

const QDBusArgument& operator>>(const QDBusArgument& argument, SecretServiceSecret& secret)
{
    argument.beginStructure();
    argument >> secret.session >> secret.parameters >> secret.value >> secret.contentType;
    argument.endStructure();
    return argument;
}

namespace headroom::app {
namespace {

using Attributes = QMap<QString, QString>;

const QString kSecretsService = QStringLiteral("org.freedesktop.secrets");
const QString kServicePath = QStringLiteral("/org/freedesktop/secrets");
const QString kServiceInterface = QStringLiteral("org.freedesktop.Secret.Service");
const QString kCollectionInterface = QStringLiteral("org.freedesktop.Secret.Collection");
const QString kItemInterface = QStringLiteral("org.freedesktop.Secret.Item");
const QString kProperties = QStringLiteral("org.freedesktop.DBus.Properties");
const QString kNoPrompt = QStringLiteral("/");
// A keyring answers in milliseconds; one that hangs must not hold the network
// worker (or the settings dialog) for the D-Bus default of 25 s.
constexpr int kCallTimeoutMs = 5000;

const QString kLocked =
    QStringLiteral("the desktop keyring is locked: unlock it (for example in \"Passwords and "
                   "Keys\", or by logging in again) and try again");

void registerTypes()
{
    static std::once_flag once;
    std::call_once(once, [] {
        qDBusRegisterMetaType<SecretServiceSecret>();
        qDBusRegisterMetaType<Attributes>();
        qDBusRegisterMetaType<QList<QDBusObjectPath>>();
        qDBusRegisterMetaType<QMap<QDBusObjectPath, SecretServiceSecret>>();
    });
}

Attributes attributesOf(const QString& machineId)
{
    return {{QStringLiteral("application"), QStringLiteral("headroom")},
            {QStringLiteral("machine"), machineId}};
}

// One method call's reply, or why there is none.
struct Reply {
    QList<QVariant> arguments;
    QString error;
    QString errorName;
};

class SecretServiceStore final : public services::CredentialStore {
  public:
    SecretServiceStore() : bus_(QDBusConnection::sessionBus()) {}

    // Empty, or why this keyring cannot be used at all.
    QString probe()
    {
        std::lock_guard lock(mutex_);
        if (!bus_.isConnected())
            return QStringLiteral("there is no session bus (%1)").arg(bus_.lastError().message());
        if (const QString problem = openSession(); !problem.isEmpty())
            return problem;
        QString collection;
        return defaultCollection(collection);
    }

    QString describe() const override { return QStringLiteral("the desktop keyring (Secret Service)"); }

    QString store(const QString& machineId, const QString& secret) override
    {
        std::lock_guard lock(mutex_);
        if (const QString problem = openSession(); !problem.isEmpty())
            return problem;
        QString collection;
        if (const QString problem = defaultCollection(collection); !problem.isEmpty())
            return problem;
        const Reply locked = call(collection, kProperties, QStringLiteral("Get"),
                                  {kCollectionInterface, QStringLiteral("Locked")});
        if (!locked.error.isEmpty())
            return locked.error;
        if (locked.arguments.value(0).value<QDBusVariant>().variant().toBool())
            return kLocked;

        QVariantMap properties;
        properties.insert(QStringLiteral("org.freedesktop.Secret.Item.Label"),
                          QStringLiteral("Headroom: password for %1").arg(machineId));
        properties.insert(QStringLiteral("org.freedesktop.Secret.Item.Attributes"),
                          QVariant::fromValue(attributesOf(machineId)));
        const SecretServiceSecret value{
            QDBusObjectPath(session_), {}, secret.toUtf8(), QStringLiteral("text/plain; charset=utf8")};
        const Reply created = call(collection, kCollectionInterface, QStringLiteral("CreateItem"),
                                   {properties, QVariant::fromValue(value), true});
        if (!created.error.isEmpty())
            return created.error;
        if (created.arguments.value(1).value<QDBusObjectPath>().path() != kNoPrompt)
            return kLocked;
        return {};
    }

    std::optional<QString> lookup(const QString& machineId, QString* error) override
    {
        std::lock_guard lock(mutex_);
        QString ignored;
        QString& why = error ? *error : ignored;
        why.clear();
        if (QString problem = openSession(); !problem.isEmpty()) {
            why = problem;
            return std::nullopt;
        }
        QList<QDBusObjectPath> unlocked;
        QList<QDBusObjectPath> locked;
        if (QString problem = search(machineId, unlocked, locked); !problem.isEmpty()) {
            why = problem;
            return std::nullopt;
        }
        if (unlocked.isEmpty()) {
            if (!locked.isEmpty())
                why = kLocked;
            return std::nullopt;
        }
        const Reply secret = call(unlocked.first().path(), kItemInterface, QStringLiteral("GetSecret"),
                                  {QVariant::fromValue(QDBusObjectPath(session_))});
        if (!secret.error.isEmpty()) {
            why = secret.error;
            return std::nullopt;
        }
        const auto value = qdbus_cast<SecretServiceSecret>(secret.arguments.value(0));
        return QString::fromUtf8(value.value);
    }

    QString remove(const QString& machineId) override
    {
        std::lock_guard lock(mutex_);
        if (const QString problem = openSession(); !problem.isEmpty())
            return problem;
        QList<QDBusObjectPath> unlocked;
        QList<QDBusObjectPath> locked;
        if (const QString problem = search(machineId, unlocked, locked); !problem.isEmpty())
            return problem;
        if (!locked.isEmpty())
            return kLocked;
        for (const QDBusObjectPath& item : unlocked) {
            const Reply deleted = call(item.path(), kItemInterface, QStringLiteral("Delete"), {});
            if (!deleted.error.isEmpty())
                return deleted.error;
            if (deleted.arguments.value(0).value<QDBusObjectPath>().path() != kNoPrompt)
                return kLocked;
        }
        return {};
    }

  private:
    Reply call(const QString& path, const QString& interface, const QString& method,
               const QList<QVariant>& args)
    {
        QDBusMessage message = QDBusMessage::createMethodCall(kSecretsService, path, interface, method);
        message.setArguments(args);
        const QDBusMessage answer = bus_.call(message, QDBus::Block, kCallTimeoutMs);
        Reply reply;
        if (answer.type() == QDBusMessage::ReplyMessage) {
            reply.arguments = answer.arguments();
        } else {
            reply.errorName = answer.errorName();
            // The keyring restarted, or our session ended: open a new one next time.
            if (reply.errorName == QLatin1String("org.freedesktop.Secret.Error.NoSession") ||
                reply.errorName == QLatin1String("org.freedesktop.DBus.Error.ServiceUnknown") ||
                reply.errorName == QLatin1String("org.freedesktop.DBus.Error.UnknownObject"))
                session_.clear();
            reply.error = QStringLiteral("the desktop keyring (Secret Service) did not answer %1: %2")
                              .arg(method, services::safeDisplayText(answer.errorMessage(), 300));
        }
        return reply;
    }

    // A "plain" session: the secret travels unencrypted, but only over the
    // user's own session bus, as every Secret Service client's does by default.
    QString openSession()
    {
        if (!session_.isEmpty())
            return {};
        const Reply opened = call(kServicePath, kServiceInterface, QStringLiteral("OpenSession"),
                                  {QStringLiteral("plain"), QVariant::fromValue(QDBusVariant(QString()))});
        if (!opened.error.isEmpty())
            return opened.error;
        session_ = opened.arguments.value(1).value<QDBusObjectPath>().path();
        if (session_.isEmpty() || session_ == kNoPrompt) {
            session_.clear();
            return QStringLiteral("the desktop keyring (Secret Service) opened no session");
        }
        return {};
    }

    QString defaultCollection(QString& collection)
    {
        const Reply alias =
            call(kServicePath, kServiceInterface, QStringLiteral("ReadAlias"), {QStringLiteral("default")});
        if (!alias.error.isEmpty())
            return alias.error;
        collection = alias.arguments.value(0).value<QDBusObjectPath>().path();
        if (collection.isEmpty() || collection == kNoPrompt)
            return QStringLiteral(
                "the desktop keyring (Secret Service) has no default keyring to keep passwords in");
        return {};
    }

    QString search(const QString& machineId, QList<QDBusObjectPath>& unlocked, QList<QDBusObjectPath>& locked)
    {
        const Reply found = call(kServicePath, kServiceInterface, QStringLiteral("SearchItems"),
                                 {QVariant::fromValue(attributesOf(machineId))});
        if (!found.error.isEmpty())
            return found.error;
        unlocked = qdbus_cast<QList<QDBusObjectPath>>(found.arguments.value(0));
        locked = qdbus_cast<QList<QDBusObjectPath>>(found.arguments.value(1));
        return {};
    }

    // Calls may come from the network worker and the settings dialog at once.
    std::mutex mutex_;
    QDBusConnection bus_;
    QString session_;
};

} // namespace

std::unique_ptr<services::CredentialStore> makeSecretServiceStore(QString* whyNot)
{
    registerTypes();
    auto store = std::make_unique<SecretServiceStore>();
    if (const QString problem = store->probe(); !problem.isEmpty()) {
        if (whyNot)
            *whyNot = problem;
        return nullptr;
    }
    if (whyNot)
        whyNot->clear();
    return store;
}

} // namespace headroom::app
