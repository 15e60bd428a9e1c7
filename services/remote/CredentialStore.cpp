// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/CredentialStore.h"

#include "headroom/AtomicFile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

#include <filesystem>
#include <map>
#include <mutex>

namespace headroom::services {
namespace {

// A few hundred machines' passwords fit in far less; a larger file is not ours.
constexpr qint64 kMaxFileBytes = 1 << 20;
constexpr int kVersion = 1;
constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
constexpr QFileDevice::Permissions kOthers = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                             QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                             QFileDevice::WriteOther | QFileDevice::ExeOther;

std::filesystem::path nativePath(const QString& path)
{
#ifdef _WIN32
    return std::filesystem::path(path.toStdWString());
#else
    return std::filesystem::path(QFile::encodeName(path).toStdString());
#endif
}

QString tildePath(const QString& path)
{
    const QString home = QDir::homePath();
    if (!home.isEmpty() && path.startsWith(home + QLatin1Char('/')))
        return QStringLiteral("~") + path.mid(home.size());
    return path;
}

class FileCredentialStore final : public CredentialStore {
  public:
    explicit FileCredentialStore(QString path) : path_(std::move(path)) {}

    QString describe() const override
    {
        return QStringLiteral("%1 (readable by you only)").arg(QDir::toNativeSeparators(tildePath(path_)));
    }

    QString store(const QString& machineId, const QString& secret) override
    {
        std::lock_guard lock(mutex_);
        Secrets secrets;
        if (const QString problem = read(secrets); !problem.isEmpty())
            return problem;
        secrets[machineId] = secret;
        return write(secrets);
    }

    std::optional<QString> lookup(const QString& machineId, QString* error) override
    {
        std::lock_guard lock(mutex_);
        if (error)
            error->clear();
        Secrets secrets;
        if (const QString problem = read(secrets); !problem.isEmpty()) {
            if (error)
                *error = problem;
            return std::nullopt;
        }
        if (const auto it = secrets.find(machineId); it != secrets.end())
            return it->second;
        // The passwords lost with a damaged file are reported once, to the
        // first reader that misses one.
        if (error && !setAsideNotice_.isEmpty())
            *error = std::exchange(setAsideNotice_, QString());
        return std::nullopt;
    }

    QString remove(const QString& machineId) override
    {
        std::lock_guard lock(mutex_);
        Secrets secrets;
        if (const QString problem = read(secrets); !problem.isEmpty())
            return problem;
        if (secrets.erase(machineId) == 0)
            return {};
        return write(secrets);
    }

  private:
    using Secrets = std::map<QString, QString>;

    // Empty, or why the file cannot be used. A damaged file is moved aside
    // (and said once through lookup), and reading goes on with no secrets.
    QString read(Secrets& secrets)
    {
        QFile file(path_);
        if (!file.exists())
            return {};
        // Whoever made it looser (a copy, an editor, an umask), it is the user's only again.
        if (file.permissions() & kOthers) {
            if (!file.setPermissions(kOwnerOnly))
                return QStringLiteral(
                           "%1 can be read by others and its permissions cannot be set to 0600: %2")
                    .arg(path_, file.errorString());
        }
        if (!file.open(QIODevice::ReadOnly))
            return QStringLiteral("cannot read %1: %2").arg(path_, file.errorString());
        const QByteArray content = file.read(kMaxFileBytes + 1);
        file.close();
        if (content.size() > kMaxFileBytes)
            return setAside(QStringLiteral("it is larger than 1 MiB"));

        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(content, &parseError);
        if (parseError.error != QJsonParseError::NoError || !document.isObject())
            return setAside(QStringLiteral("it is not JSON"));
        const QJsonObject root = document.object();
        if (root.value(QStringLiteral("version")).toInt(-1) != kVersion)
            return setAside(QStringLiteral("it has no version %1").arg(kVersion));
        const QJsonValue listed = root.value(QStringLiteral("secrets"));
        if (!listed.isObject())
            return setAside(QStringLiteral("it has no \"secrets\""));
        const QJsonObject object = listed.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.value().isString()) {
                secrets.clear();
                return setAside(QStringLiteral("the entry \"%1\" is not text").arg(it.key().left(40)));
            }
            secrets[it.key()] = it.value().toString();
        }
        return {};
    }

    QString setAside(const QString& why)
    {
        const QString aside = path_ + QStringLiteral(".corrupt-") +
                              QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
        if (!QFile::rename(path_, aside))
            return QStringLiteral("the credentials file %1 is damaged (%2) and cannot be moved aside")
                .arg(path_, why);
        QFile::setPermissions(aside, kOwnerOnly);
        setAsideNotice_ = QStringLiteral("the credentials file %1 was damaged (%2); it is kept as %3 and "
                                         "the passwords in it must be entered again")
                              .arg(path_, why, aside);
        return {};
    }

    QString write(const Secrets& secrets)
    {
        QJsonObject object;
        for (const auto& [id, secret] : secrets)
            object.insert(id, secret);
        QJsonObject root;
        root.insert(QStringLiteral("version"), kVersion);
        root.insert(QStringLiteral("secrets"), object);
        const QByteArray text = QJsonDocument(root).toJson(QJsonDocument::Indented);
        // The temporary file is created 0600, so the secret is never readable by others.
        const auto written = writeFileAtomically(nativePath(path_), text.toStdString());
        if (!written)
            return QString::fromStdString(written.error());
        QFile::setPermissions(path_, kOwnerOnly);
        return {};
    }

    const QString path_;
    std::mutex mutex_;
    QString setAsideNotice_;
};

} // namespace

std::unique_ptr<CredentialStore> makeFileCredentialStore(const QString& filePath)
{
    return std::make_unique<FileCredentialStore>(filePath);
}

QString defaultCredentialFilePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/headroom/credentials.json");
}

} // namespace headroom::services
