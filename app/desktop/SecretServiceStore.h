// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/remote/CredentialStore.h"

#include <memory>

class QString;

namespace headroom::app {

// Passwords in the desktop's keyring through the freedesktop Secret Service
// API on the session bus (org.freedesktop.secrets: GNOME Keyring, KWallet,
// KeePassXC). nullptr, and *whyNot said, when no Secret Service answers:
// the caller falls back to services::makeFileCredentialStore.
std::unique_ptr<services::CredentialStore> makeSecretServiceStore(QString* whyNot = nullptr);

} // namespace headroom::app
