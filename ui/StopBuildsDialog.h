// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/RunawayBuilds.h"

#include <QDialog>

#include <vector>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace headroom::ui {

// Confirmation for "Stop runaway builds": each build tree (or lone build
// process) with a checkbox, its members and their memory, and the total that
// stopping the ticked ones frees. Only what is listed here can be stopped.
class StopBuildsDialog : public QDialog {
    Q_OBJECT
  public:
    StopBuildsDialog(std::vector<services::RunawayGroup> groups, double graceSeconds,
                     QWidget* parent = nullptr);

    const std::vector<services::RunawayGroup>& groups() const { return groups_; }
    std::vector<ProcessKey> chosenRoots() const;
    std::uint64_t chosenBytes() const;
    void setAllChecked(bool checked);
    void setChecked(std::size_t group, bool checked);

    // Replaces the explanation above the list (the duplicate builds' confirmation says why these).
    void setIntro(const QString& text);

    QTreeWidget* list() const { return list_; }
    QPushButton* stopButton() const { return stop_; }

  private:
    void updateTotal();

    std::vector<services::RunawayGroup> groups_;
    QTreeWidget* list_ = nullptr;
    QLabel* intro_ = nullptr;
    QLabel* total_ = nullptr;
    QPushButton* stop_ = nullptr;
};

} // namespace headroom::ui
