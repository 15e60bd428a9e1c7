// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <qcustomplot.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace headroom::ui {

// A build's parallelism over time, from its status (PoolStatus::parallelism):
// jobs running against seconds since the run started, as a step line, with
// the CPUs as the ceiling the pool never goes over.
class PoolChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit PoolChart(QWidget* parent = nullptr);

    // The whole series as the status has it now (at most 600 points, thinned
    // when full): new points are appended, a thinned series replaces the old.
    void showParallelism(const std::vector<std::pair<std::int64_t, unsigned>>& points, unsigned cpus);
    void clearSeries();
    int pointCount() const;
    double highestJobs() const { return highest_; }

  private:
    QCPGraph* jobs_ = nullptr;
    std::vector<std::pair<std::int64_t, unsigned>> shown_;
    double highest_ = 0.0;
};

} // namespace headroom::ui
