// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/remote/CredentialStore.h"

#include <QStandardPaths>

namespace headroom::services {

std::unique_ptr<CredentialStore> makeFileCredentialStore(const QString&) { return nullptr; }
QString defaultCredentialFilePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/headroom/credentials.json");
}

} // namespace headroom::services
