#pragma once

// Preset D's first step: the heaviest processes (tests and rustc first) with
// a box each; the user ticks which to pause or stop before preset A runs.

#include "headroom/ProcessControl.h"
#include "headroom/Snapshot.h"

#include <QDialog>

class QLabel;
class QRadioButton;
class QTableWidget;

namespace headroom::ui {

class FreeMemoryDialog : public QDialog {
    Q_OBJECT

  public:
    FreeMemoryDialog(std::vector<ProcessSample> candidates, QWidget* parent = nullptr);

    std::vector<ProcessKey> chosen() const;
    ProcessAction action() const;
    // Ticks the rows whose pid is given (for tests and keyboard users).
    void setChecked(Pid pid, bool checked);

  private:
    void updateTotal();

    std::vector<ProcessSample> candidates_;
    QTableWidget* table_ = nullptr;
    QRadioButton* pause_ = nullptr;
    QRadioButton* stop_ = nullptr;
    QLabel* total_ = nullptr;
};

} // namespace headroom::ui
