// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/remote/MachineEntry.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace headroom::ui {

// Adds or edits one remote machine. OK is refused, with the reason shown,
// until services::validateMachine accepts the entry. The password is only
// handed back (for the credential store); it never becomes part of the entry.
class MachineDialog : public QDialog {
    Q_OBJECT
  public:
    // `others`: the machines besides this one (names and ids are unique).
    // `credentialPlace`: where passwords are kept, in words; empty: nowhere
    // (the password field is then disabled).
    MachineDialog(const services::MachineEntry& machine, const services::MachineList& others,
                  const QString& credentialPlace, bool hasPassword, QWidget* parent = nullptr);

    services::MachineEntry machine() const;
    // The password typed; only meaningful when passwordChanged().
    QString password() const;
    bool passwordChanged() const;
    // Why OK was refused last, empty when it was not.
    QString error() const;

    void accept() override;

  private:
    void updateKind();

    services::MachineEntry original_;
    services::MachineList others_;
    QLineEdit* name_ = nullptr;
    QComboBox* kind_ = nullptr;
    QLineEdit* url_ = nullptr;
    QLabel* instanceLabel_ = nullptr;
    QLineEdit* instance_ = nullptr;
    QLineEdit* user_ = nullptr;
    QLineEdit* password_ = nullptr;
    QCheckBox* clearPassword_ = nullptr;
    QLineEdit* caFile_ = nullptr;
    QPushButton* browseCa_ = nullptr;
    QCheckBox* follow_ = nullptr;
    QLabel* error_ = nullptr;
    bool hadPassword_ = false;
};

} // namespace headroom::ui
