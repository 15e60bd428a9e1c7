// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/SecretServiceStore.h"

#include <QString>

namespace headroom::app {

std::unique_ptr<services::CredentialStore> makeSecretServiceStore(QString* whyNot)
{
    if (whyNot)
        *whyNot = QStringLiteral("not written yet");
    return nullptr;
}

} // namespace headroom::app
