// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DashboardSettings.h"
#include "MemoryLevel.h"
#include "headroom/Memory.h"

#include <QFrame>

class QLabel;
class QProgressBar;

namespace headroom::ui {

// The row of large figures at the top, readable from across the desk: RAM,
// available, swap, pressure and the overall level in its colour.
class SummaryStrip : public QFrame {
    Q_OBJECT
  public:
    explicit SummaryStrip(QWidget* parent = nullptr);

    void setThresholds(const LevelThresholds& thresholds);
    void showMemory(const MemoryStatus& memory);

    MemoryLevel level() const { return assessment_.level; }
    QString levelReason() const { return assessment_.reason; }

  protected:
    void changeEvent(QEvent* event) override;

  private:
    struct Tile {
        QFrame* frame = nullptr;
        QLabel* title = nullptr;
        QLabel* value = nullptr;
        QLabel* detail = nullptr;
    };
    Tile makeTile(const QString& name, const QString& title);
    void applyLevelStyle();

    Tile ram_;
    Tile available_;
    Tile swap_;
    Tile pressure_;
    Tile level_;
    QProgressBar* ramBar_ = nullptr;
    LevelThresholds thresholds_;
    LevelAssessment assessment_;
    MemoryStatus last_;
    bool hasData_ = false;
};

} // namespace headroom::ui
