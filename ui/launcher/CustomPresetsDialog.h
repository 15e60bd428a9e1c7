#pragma once

// Edits the user's own presets: name, program, arguments, environment and
// working folder, for builds that are not plain cargo builds.

#include "services/launcher/CustomPresets.h"

#include <QDialog>

class QLabel;
class QTableWidget;

namespace headroom::ui {

class CustomPresetsDialog : public QDialog {
    Q_OBJECT

  public:
    explicit CustomPresetsDialog(const std::vector<services::CustomPreset>& presets,
                                 QWidget* parent = nullptr);

    std::vector<services::CustomPreset> presets() const;
    QTableWidget* table() const { return table_; }

  public slots:
    void accept() override;

  private:
    void addRow(const services::CustomPreset& preset);

    QTableWidget* table_ = nullptr;
    QLabel* problems_ = nullptr;
};

} // namespace headroom::ui
