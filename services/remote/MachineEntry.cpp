// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/MachineEntry.h"

#include <QUrl>

namespace headroom::services {
namespace {

constexpr int kMaxIdLength = 40;
constexpr int kMaxNameLength = 100;

bool isIdCharacter(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
           c == QLatin1Char('-');
}

} // namespace

bool isValidMachineId(const QString& id)
{
    if (id.isEmpty() || id.size() > kMaxIdLength)
        return false;
    for (const QChar c : id)
        if (!isIdCharacter(c))
            return false;
    return true;
}

QString machineEntryProblem(const MachineEntry& entry)
{
    if (!isValidMachineId(entry.id))
        return QStringLiteral("its id must be 1 to %1 of a-z, 0-9 and -").arg(kMaxIdLength);
    if (entry.name.trimmed().isEmpty())
        return QStringLiteral("it needs a name");
    if (entry.name.size() > kMaxNameLength)
        return QStringLiteral("its name is longer than %1 characters").arg(kMaxNameLength);
    const QUrl url(entry.url.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return QStringLiteral("the URL must start with http:// or https://");
    if (url.host().isEmpty())
        return QStringLiteral("the URL has no host");
    if (!url.userInfo().isEmpty())
        return QStringLiteral("the URL must not hold a user or password (use the user name field)");
    if (entry.kind == MachineEntry::Kind::Prometheus && entry.instance.trimmed().isEmpty())
        return QStringLiteral("a Prometheus machine needs the instance label to show (\"buildbox:9464\")");
    if (entry.username.contains(QLatin1Char(':')))
        return QStringLiteral("the user name cannot contain ':'");
    return {};
}

QString machineIdFromName(const QString& name, const QStringList& taken)
{
    QString base;
    for (const QChar c : name.normalized(QString::NormalizationForm_KD).toLower()) {
        if (isIdCharacter(c) && c != QLatin1Char('-'))
            base += c;
        else if (c.isSpace() || c.isPunct() || c.isSymbol() || c == QLatin1Char('-'))
            if (!base.isEmpty() && !base.endsWith(QLatin1Char('-')))
                base += QLatin1Char('-');
    }
    while (base.endsWith(QLatin1Char('-')))
        base.chop(1);
    base = base.left(kMaxIdLength - 4);
    while (base.endsWith(QLatin1Char('-')))
        base.chop(1);
    if (base.isEmpty())
        base = QStringLiteral("machine");
    QString id = base;
    for (int n = 2; taken.contains(id); ++n)
        id = base + QLatin1Char('-') + QString::number(n);
    return id;
}

} // namespace headroom::services
