// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Memory.h"
#include "headroom/MemoryBudget.h"
#include "services/DashboardSettings.h"
#include "services/MemoryLevel.h"

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

    // The machine's figures, and the budget the sampler read: where a cgroup
    // limit applies (a container, a CI job) the "Available" tile shows what is
    // left of that limit and names it; otherwise the machine's available memory.
    void showMemory(const MemoryStatus& memory, const MemoryBudget& budget = {});
    // The level as the app's level machine decided it, with the time left.
    void showPressure(const services::PressureState& state);
    // No figures (yet): every tile shows "—", the level tile says why.
    void clear(const QString& why);

    services::MemoryLevel level() const { return pressure_.level; }
    QString levelReason() const { return pressure_.reason; }
    QString levelDetail() const;

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
    void updateLevelTile();

    Tile ram_;
    Tile available_;
    Tile swap_;
    Tile pressureTile_;
    Tile level_;
    QProgressBar* ramBar_ = nullptr;
    services::PressureState pressure_;
    bool hasLevel_ = false;
    MemoryStatus last_;
    MemoryBudget budget_;
    bool hasData_ = false;
};

} // namespace headroom::ui
