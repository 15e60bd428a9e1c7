// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/MemoryHistory.h"

#include <QHash>
#include <QWidget>

#include <map>

class QComboBox;
class QCPGraph;
class QToolButton;

namespace headroom::ui {

class TimeChart;

// The three live charts: system memory, memory by role (stacked), and each
// build tree's resident memory. They draw from a bounded MemoryHistory and
// append one point per snapshot; old points are trimmed as they leave the
// history span.
class ChartsPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ChartsPanel(QWidget* parent = nullptr);

    void configure(double historySeconds, double intervalSeconds);
    void append(const Snapshot& snapshot);
    // Replaces everything drawn with these snapshots (oldest first): a remote
    // machine's history as its server kept it.
    void showHistory(const std::vector<Snapshot>& snapshots);
    // Seconds of history shown; clamped to the history span.
    void setVisibleSpan(double seconds);
    double visibleSpan() const { return visibleSpan_; }
    // The shortest span the box offers that shows `seconds` of history.
    double spanCovering(double seconds) const;
    // The memory chart's y axis: 0 to all of RAM, or zoomed to the values shown.
    void setMemoryFitToData(bool fit);
    bool memoryFitToData() const { return memoryFit_; }
    QToolButton* fitToDataButton() const { return fitButton_; }

    const services::MemoryHistory& history() const { return history_; }
    TimeChart* memoryChart() const { return memoryChart_; }
    TimeChart* roleChart() const { return roleChart_; }
    TimeChart* buildsChart() const { return buildsChart_; }
    QCPGraph* usedGraph() const { return used_; }
    QCPGraph* availableGraph() const { return available_; }
    QCPGraph* swapGraph() const { return swap_; }
    // The stacked graph of role i holds the sum of roles 0..i.
    QCPGraph* roleGraph(ProcessRole role) const { return roleGraphs_[roleIndex(role)]; }
    QCPGraph* buildGraph(const ProcessKey& root) const;

    // Redraws now rather than on the next event loop turn (screenshots, tests).
    void replotNow();

  signals:
    // The user chose another span in the box.
    void visibleSpanChosen(double seconds);

  protected:
    void changeEvent(QEvent* event) override;

  private:
    void rebuild();
    void addPoint(const services::HistoryPoint& point);
    void syncBuildGraphs();
    void updateRanges();
    void styleGraphs();
    void populateSpans();
    QString memoryHover(double seconds) const;
    QString roleHover(double seconds) const;
    QString buildsHover(double seconds) const;

    services::MemoryHistory history_;
    double intervalSeconds_ = 1.0;
    double visibleSpan_ = 5 * 60.0;
    bool memoryFit_ = false;
    QComboBox* spanBox_ = nullptr;
    QToolButton* fitButton_ = nullptr;
    TimeChart* memoryChart_ = nullptr;
    TimeChart* roleChart_ = nullptr;
    TimeChart* buildsChart_ = nullptr;
    QCPGraph* used_ = nullptr;
    QCPGraph* available_ = nullptr;
    QCPGraph* swap_ = nullptr;
    std::array<QCPGraph*, kRoleCount> roleGraphs_{};
    std::map<ProcessKey, QCPGraph*> buildGraphs_;
};

} // namespace headroom::ui
