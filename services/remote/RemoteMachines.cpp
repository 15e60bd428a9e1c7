// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/RemoteMachines.h"

namespace headroom::services {

struct RemoteMachines::Private {
    std::shared_ptr<CredentialStore> credentials;
};

RemoteMachines::RemoteMachines(std::shared_ptr<CredentialStore> credentials, QObject* parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->credentials = std::move(credentials);
}
RemoteMachines::~RemoteMachines() = default;
void RemoteMachines::setMachines(const MachineList&) {}
void RemoteMachines::setShown(const QString&) {}
void RemoteMachines::setHistorySpan(double) {}
void RemoteMachines::setInterval(double) {}
void RemoteMachines::setTimeout(double) {}
MachineState RemoteMachines::state(const QString& id) const
{
    MachineState s;
    s.id = id;
    return s;
}

} // namespace headroom::services
