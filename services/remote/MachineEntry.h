// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>

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

// The id a new machine gets from its name: lower case, runs of anything but
// [a-z0-9] made one '-', at most 40 characters, and a "-2", "-3"... suffix
// when `taken` already has it. "Build Box (CI)" -> "build-box-ci".
QString machineIdFromName(const QString& name, const MachineList& taken = {});

// Why `machine` cannot be saved, in words a person can act on; empty when it
// can. `others` are the other machines (not this one): names and ids must be
// unique among them. The one rule for the settings dialog and the store.
QString validateMachine(const MachineEntry& machine, const MachineList& others = {});

} // namespace headroom::services
