// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/remote/CredentialStore.h"
#include "services/remote/MachineEntry.h"

#include <QHash>
#include <QSet>
#include <QWidget>

#include <memory>

class QLabel;
class QListWidget;
class QPushButton;

namespace headroom::ui {

class MachineDialog;

// The settings dialog's "Machines" page: the remote machines the window can
// show, with Add / Edit / Remove. Passwords typed here wait until the whole
// dialog is accepted, then go to the credential store (never the settings).
class MachinesPage : public QWidget {
    Q_OBJECT
  public:
    explicit MachinesPage(QWidget* parent = nullptr);

    void setCredentialStore(std::shared_ptr<services::CredentialStore> store);
    void setMachines(const services::MachineList& machines);
    const services::MachineList& machines() const { return machines_; }

    // Non-modal to callers: the list changes when the dialog is accepted.
    MachineDialog* addMachine();
    MachineDialog* editMachine(int row);
    void removeMachine(int row);

    // Writes the passwords typed and forgets those of removed machines.
    // Empty when all went well, else what failed, one line each.
    QStringList commitSecrets();
    bool hasPendingSecrets() const { return !secrets_.isEmpty() || !forget_.isEmpty(); }

    QListWidget* list() const { return list_; }
    void showProblem(const QString& text);

  private:
    MachineDialog* openDialog(int row);
    void refresh();
    services::MachineList othersThan(int row) const;
    bool hasPassword(const services::MachineEntry& machine) const;

    std::shared_ptr<services::CredentialStore> store_;
    QString credentialPlace_;
    services::MachineList machines_;
    QHash<QString, QString> secrets_; // machine id -> password to store ("" to forget)
    QSet<QString> forget_;            // ids of removed machines
    QListWidget* list_ = nullptr;
    QPushButton* add_ = nullptr;
    QPushButton* edit_ = nullptr;
    QPushButton* remove_ = nullptr;
    QLabel* place_ = nullptr;
    QLabel* problem_ = nullptr;
};

} // namespace headroom::ui
