// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace headroom::services {

// A remote machine the window can show, read-only: either one instance in a
// Prometheus server, or a Headroom exporter's /metrics read directly.
struct MachineEntry {
    enum class Kind { Prometheus, Exporter };

    QString id;   // stable key in the settings and the credential store: [a-z0-9-], at most 40
    QString name; // what the switcher shows: "buildbox"
    Kind kind = Kind::Prometheus;
    QString url;      // "https://prom.example:9090" (Prometheus) or "http://buildbox:9464/metrics"
    QString instance; // Prometheus only: the instance label, "buildbox:9464"
    QString username; // basic auth; empty: none. The password is in the CredentialStore under `id`.
    QString caFile;   // an extra CA certificate (PEM) to trust for this machine's TLS; empty: the system's
    bool followInTray = false; // the tray and notifications follow this machine's level too

    friend bool operator==(const MachineEntry&, const MachineEntry&) = default;
};

using MachineList = QList<MachineEntry>;

// [a-z0-9-], 1 to 40 characters: safe as a settings group, a keyring
// attribute and a file name.
bool isValidMachineId(const QString& id);
// Empty when the entry can be used, else what is wrong with it, in words
// ("the URL must start with http:// or https://"); the settings store skips
// such an entry and the settings dialog refuses it.
QString machineEntryProblem(const MachineEntry& entry);
// An unused valid id made from a name: "Build box #2" -> "build-box-2",
// with "-2", "-3", ... added when `taken` holds it already.
QString machineIdFromName(const QString& name, const QStringList& taken);

} // namespace headroom::services
