// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/launcher/PoolChart.h"

#include <algorithm>

namespace headroom::ui {

PoolChart::PoolChart(QWidget* parent) : QCustomPlot(parent)
{
    setObjectName(QStringLiteral("poolChart"));
    setNotAntialiasedElements(QCP::aeAll);
    setNoAntialiasingOnDrag(true);
    setPlottingHint(QCP::phCacheLabels, true);
    setInteractions({});
    setFocusPolicy(Qt::NoFocus);
    setMinimumSize(240, 110);
    setToolTip(tr("Jobs running over time: the implicit one plus the tokens in use"));

    jobs_ = addGraph();
    jobs_->setName(tr("jobs running"));
    jobs_->setLineStyle(QCPGraph::lsStepLeft);
    jobs_->setPen(QPen(palette().color(QPalette::Highlight), 2));
    QColor fill = palette().color(QPalette::Highlight);
    fill.setAlpha(50);
    jobs_->setBrush(fill);

    xAxis->setLabel(tr("seconds since the start"));
    yAxis->setLabel(tr("jobs"));
    auto ticker = QSharedPointer<QCPAxisTicker>::create();
    ticker->setTickCount(3);
    yAxis->setTicker(ticker);
    yAxis->setNumberPrecision(0);
    xAxis->setRange(0, 60);
    yAxis->setRange(0, 2);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setTickLabelFont(small);
        axis->setLabelFont(small);
        axis->setBasePen(QPen(palette().color(QPalette::WindowText)));
        axis->setTickPen(QPen(palette().color(QPalette::WindowText)));
        axis->setSubTickPen(QPen(palette().color(QPalette::WindowText)));
        axis->setTickLabelColor(palette().color(QPalette::WindowText));
        axis->setLabelColor(palette().color(QPalette::WindowText));
        axis->grid()->setPen(QPen(palette().color(QPalette::Mid), 0, Qt::DotLine));
    }
    setBackground(palette().brush(QPalette::Base));
    axisRect()->setBackground(palette().brush(QPalette::Base));
}

int PoolChart::pointCount() const
{
    return jobs_->dataCount();
}

void PoolChart::clearSeries()
{
    jobs_->data()->clear();
    shown_.clear();
    highest_ = 0.0;
    xAxis->setRange(0, 60);
    yAxis->setRange(0, 2);
    replot(QCustomPlot::rpQueuedReplot);
}

void PoolChart::showParallelism(const std::vector<std::pair<std::int64_t, unsigned>>& points, unsigned cpus)
{
    const bool extends = !shown_.empty() && points.size() >= shown_.size() &&
                         std::equal(shown_.begin(), shown_.end(), points.begin());
    if (!extends) {
        // Thinned (or another run): the series is drawn again from the status.
        jobs_->data()->clear();
        shown_.clear();
        highest_ = 0.0;
    }
    for (std::size_t i = shown_.size(); i < points.size(); ++i) {
        jobs_->addData(double(points[i].first) / 1000.0, double(points[i].second));
        highest_ = std::max(highest_, double(points[i].second));
    }
    shown_ = points;
    const double last = points.empty() ? 0.0 : double(points.back().first) / 1000.0;
    xAxis->setRange(0, std::max(10.0, last * 1.05));
    // Room above the highest point, and the ceiling in view when it is near.
    const double ceiling = cpus > 0 ? double(cpus) : highest_;
    yAxis->setRange(0, std::max({2.0, highest_ + 1.0, std::min(ceiling, highest_ * 2.0)}));
    replot(QCustomPlot::rpQueuedReplot);
}

} // namespace headroom::ui
