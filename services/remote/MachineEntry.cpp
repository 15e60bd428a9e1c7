// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/MachineEntry.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

namespace headroom::services {
namespace {

QString entryText(const char* text)
{
    return QCoreApplication::translate("MachineEntry", text);
}

constexpr int kMaxIdLength = 40;
constexpr int kMaxNameLength = 80;

bool idTaken(const QString& id, const MachineList& machines)
{
    for (const MachineEntry& other : machines) {
        if (other.id == id)
            return true;
    }
    return false;
}

} // namespace

QString machineIdFromName(const QString& name, const MachineList& taken)
{
    QString id;
    bool dash = false;
    for (const QChar c : name.toLower()) {
        if ((c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
            (c >= QLatin1Char('0') && c <= QLatin1Char('9'))) {
            if (dash && !id.isEmpty())
                id += QLatin1Char('-');
            dash = false;
            id += c;
        } else {
            dash = true;
        }
    }
    id.truncate(kMaxIdLength);
    while (id.endsWith(QLatin1Char('-')))
        id.chop(1);
    if (id.isEmpty())
        id = QStringLiteral("machine");
    if (!idTaken(id, taken))
        return id;
    for (int n = 2;; ++n) {
        const QString suffix = QStringLiteral("-%1").arg(n);
        QString candidate = id.left(kMaxIdLength - static_cast<int>(suffix.size()));
        while (candidate.endsWith(QLatin1Char('-')))
            candidate.chop(1);
        candidate += suffix;
        if (!idTaken(candidate, taken))
            return candidate;
    }
}

QString validateMachine(const MachineEntry& machine, const MachineList& others)
{
    const QString name = machine.name.trimmed();
    if (name.isEmpty())
        return entryText("Give the machine a name, for example “buildbox”.");
    if (name.size() > kMaxNameLength)
        return entryText("The name is too long (at most %1 characters).").arg(kMaxNameLength);
    static const QRegularExpression idPattern(QStringLiteral("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"));
    if (!idPattern.match(machine.id).hasMatch())
        return entryText("The machine's id “%1” must be 1 to 40 of a-z, 0-9 and “-”.").arg(machine.id);
    for (const MachineEntry& other : others) {
        if (other.name.trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return entryText("Another machine is already called “%1”.").arg(name);
        if (other.id == machine.id)
            return entryText("Another machine already has the id “%1”.").arg(machine.id);
    }

    const QString text = machine.url.trimmed();
    if (text.isEmpty())
        return machine.kind == MachineEntry::Kind::Prometheus
                   ? entryText(
                         "Enter the Prometheus server's URL, for example https://prometheus.example:9090.")
                   : entryText("Enter the exporter's URL, for example http://buildbox:9464/metrics.");
    const QUrl url(text, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
        return entryText("The URL must start with http:// or https:// (got “%1”).").arg(text.left(200));
    if (url.host().isEmpty())
        return entryText("The URL “%1” names no host.").arg(text.left(200));

    if (machine.kind == MachineEntry::Kind::Prometheus && machine.instance.trimmed().isEmpty())
        return entryText(
            "Enter the instance label Prometheus gives this machine, for example “buildbox:9464” "
            "(see Status → Targets in Prometheus).");
    if (!machine.caFile.isEmpty()) {
        const QFileInfo ca(machine.caFile);
        if (!ca.isFile() || !ca.isReadable())
            return entryText("The CA certificate file %1 cannot be read.").arg(machine.caFile);
    }
    if (!machine.username.isEmpty() && scheme == QLatin1String("http") &&
        url.host() != QLatin1String("localhost") && url.host() != QLatin1String("127.0.0.1") &&
        url.host() != QLatin1String("::1"))
        return entryText(
                   "A user name and password would travel unencrypted over http://; use https:// for %1.")
            .arg(url.host());
    return {};
}

} // namespace headroom::services
