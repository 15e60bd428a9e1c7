// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/DashboardSettings.h"
#include "services/remote/CredentialStore.h"

#include <QDialog>

#include <memory>

class QCheckBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QTabWidget;

namespace headroom::ui {

class MachinesPage;

// Edits a copy of the settings; the caller applies settings() on accept.
class SettingsDialog : public QDialog {
    Q_OBJECT
  public:
    explicit SettingsDialog(const services::DashboardSettings& settings, QWidget* parent = nullptr);

    services::DashboardSettings settings() const;
    void load(const services::DashboardSettings& settings);

    QDoubleSpinBox* intervalBox() const { return interval_; }
    QSpinBox* historyBox() const { return history_; }
    QTabWidget* tabs() const { return tabs_; }
    MachinesPage* machinesPage() const { return machines_; }

    // Where the Machines page keeps passwords; none: they cannot be kept.
    void setCredentialStore(std::shared_ptr<services::CredentialStore> store);

    // Writes the passwords typed on the Machines page first; stays open and
    // says why when the store refuses them.
    void accept() override;

  private:
    QTabWidget* tabs_ = nullptr;
    MachinesPage* machines_ = nullptr;
    QDoubleSpinBox* interval_ = nullptr;
    QSpinBox* history_ = nullptr;
    QDoubleSpinBox* grace_ = nullptr;
    QSpinBox* oomScoreAdj_ = nullptr;
    QLineEdit* testRunners_ = nullptr;
    QLineEdit* linkers_ = nullptr;
    QLineEdit* compilers_ = nullptr;
    QDoubleSpinBox* warnAvailable_ = nullptr;
    QDoubleSpinBox* critAvailable_ = nullptr;
    QDoubleSpinBox* warnSwap_ = nullptr;
    QDoubleSpinBox* warnPressure_ = nullptr;
    QDoubleSpinBox* critPressure_ = nullptr;
    QDoubleSpinBox* margin_ = nullptr;
    QDoubleSpinBox* repeat_ = nullptr;
    QCheckBox* quiet_ = nullptr;
    QCheckBox* guard_ = nullptr;
    QCheckBox* guardExternal_ = nullptr;
    QDoubleSpinBox* guardEmergency_ = nullptr;
    QDoubleSpinBox* guardRest_ = nullptr;
    services::DashboardSettings base_; // what the dialog does not edit is kept as it was
};

} // namespace headroom::ui
