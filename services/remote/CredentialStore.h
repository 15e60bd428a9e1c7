// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

#include <memory>
#include <optional>

namespace headroom::services {

// Where remote machines' passwords live, never in the INI file: the desktop's
// Secret Service (GNOME Keyring, KWallet, KeePassXC) when one answers on the
// session bus (app/desktop/SecretServiceStore), else a file of its own,
// readable by the user only. Calls are thread-safe and may block for a few
// seconds (a keyring over D-Bus): the network worker calls lookup().
class CredentialStore {
  public:
    virtual ~CredentialStore() = default;
    // For the settings dialog and the log: "the desktop keyring (Secret
    // Service)" or "~/.config/headroom/credentials (readable by you only)".
    virtual QString describe() const = 0;
    // Empty on success, else why it failed, in words.
    virtual QString store(const QString& machineId, const QString& secret) = 0;
    // nullopt and *error empty: nothing stored; nullopt and *error set: it
    // could not be read.
    virtual std::optional<QString> lookup(const QString& machineId, QString* error = nullptr) = 0;
    virtual QString remove(const QString& machineId) = 0;
};

// The fallback: one JSON file, created 0600 (on Windows, in the user's own
// profile folder), written atomically; a corrupt file is moved aside.
std::unique_ptr<CredentialStore> makeFileCredentialStore(const QString& filePath);
// <config folder>/headroom/credentials.json
QString defaultCredentialFilePath();

} // namespace headroom::services
