// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ChartsPanel.h"

#include "headroom/Units.h"
#include "services/WordsText.h"
#include "ui/DashboardColors.h"
#include "ui/TimeChart.h"

#include <QComboBox>
#include <QDateTime>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace headroom::ui {
namespace {

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

QString wallTime(std::int64_t wallMs)
{
    return QDateTime::fromMSecsSinceEpoch(wallMs).toString(QStringLiteral("HH:mm:ss"));
}

struct SpanChoice {
    const char* label;
    double seconds;
};
constexpr SpanChoice kSpans[] = {
    {"1 min", 60},     {"5 min", 300},    {"15 min", 900},     {"30 min", 1800}, {"1 h", 3600},
    {"3 h", 3 * 3600}, {"6 h", 6 * 3600}, {"12 h", 12 * 3600}, {"24 h", 86400},
};

} // namespace

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("chartsPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);

    auto* header = new QHBoxLayout;
    header->setContentsMargins(0, 0, 0, 0);
    auto* spanLabel = new QLabel(tr("&Show the last"), this);
    spanBox_ = new QComboBox(this);
    spanBox_->setObjectName(QStringLiteral("spanBox"));
    spanBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    spanLabel->setBuddy(spanBox_);
    header->addStretch(1);
    header->addWidget(spanLabel);
    header->addWidget(spanBox_);
    // A 300 MiB change is a flat line on a 0-to-all-of-RAM scale.
    fitButton_ = new QToolButton(this);
    fitButton_->setObjectName(QStringLiteral("fitToData"));
    fitButton_->setText(tr("&Fit to data"));
    fitButton_->setCheckable(true);
    fitButton_->setToolTip(tr("Memory chart: scale to the used memory shown instead of 0 to all of RAM"));
    header->addWidget(fitButton_);
    layout->addLayout(header);

    auto* charts = new QHBoxLayout;
    charts->setSpacing(6);
    memoryChart_ = new TimeChart(tr("Memory"), this);
    memoryChart_->setObjectName(QStringLiteral("memoryChart"));
    roleChart_ = new TimeChart(tr("Memory by role"), this);
    roleChart_->setObjectName(QStringLiteral("roleChart"));
    buildsChart_ = new TimeChart(tr("Builds (resident)"), this);
    buildsChart_->setObjectName(QStringLiteral("buildsChart"));
    charts->addWidget(memoryChart_, 1);
    charts->addWidget(roleChart_, 1);
    charts->addWidget(buildsChart_, 1);
    layout->addLayout(charts, 1);

    used_ = memoryChart_->addGraph();
    used_->setName(tr("used"));
    available_ = memoryChart_->addGraph();
    available_->setName(tr("available"));
    swap_ = memoryChart_->addGraph();
    swap_->setName(tr("swap used"));
    memoryChart_->legend->setWrap(3);
    memoryChart_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);

    // Stacked areas: graph i is the running sum up to role i and fills down to
    // graph i-1, so each band is exactly that role's share.
    for (ProcessRole role : kAllRoles) {
        QCPGraph* graph = roleChart_->addGraph();
        graph->setName(services::roleLabelText(role));
        if (roleIndex(role) > 0)
            graph->setChannelFillGraph(roleGraphs_[roleIndex(role) - 1]);
        roleGraphs_[roleIndex(role)] = graph;
    }
    roleChart_->legend->setWrap(4);
    roleChart_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    buildsChart_->legend->setFillOrder(QCPLayoutGrid::foRowsFirst);

    memoryChart_->setHoverText([this](double s) { return memoryHover(s); });
    roleChart_->setHoverText([this](double s) { return roleHover(s); });
    buildsChart_->setHoverText([this](double s) { return buildsHover(s); });

    styleGraphs();
    populateSpans();
    connect(spanBox_, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index >= 0) {
            setVisibleSpan(spanBox_->itemData(index).toDouble());
            emit visibleSpanChosen(visibleSpan_);
        }
    });
    connect(fitButton_, &QToolButton::toggled, this, &ChartsPanel::setMemoryFitToData);
}

void ChartsPanel::setMemoryFitToData(bool fit)
{
    memoryFit_ = fit;
    if (fitButton_->isChecked() != fit) {
        const QSignalBlocker blocker(fitButton_);
        fitButton_->setChecked(fit);
    }
    updateRanges();
    memoryChart_->refresh(true);
}

void ChartsPanel::populateSpans()
{
    const QSignalBlocker blocker(spanBox_);
    spanBox_->clear();
    for (const SpanChoice& choice : kSpans) {
        if (choice.seconds <= history_.spanSeconds() + 1e-6)
            spanBox_->addItem(tr(choice.label), choice.seconds);
    }
    visibleSpan_ = std::min(visibleSpan_, history_.spanSeconds());
    int best = 0;
    for (int i = 0; i < spanBox_->count(); ++i) {
        if (spanBox_->itemData(i).toDouble() <= visibleSpan_ + 1e-6)
            best = i;
    }
    spanBox_->setCurrentIndex(best);
    if (spanBox_->count() > 0)
        visibleSpan_ = spanBox_->itemData(best).toDouble();
}

void ChartsPanel::configure(double historySeconds, double intervalSeconds)
{
    intervalSeconds_ = intervalSeconds;
    history_.configure(historySeconds, intervalSeconds);
    populateSpans();
    rebuild();
}

void ChartsPanel::setVisibleSpan(double seconds)
{
    visibleSpan_ = std::clamp(seconds, 10.0, history_.spanSeconds());
    for (int i = 0; i < spanBox_->count(); ++i) {
        if (std::abs(spanBox_->itemData(i).toDouble() - visibleSpan_) < 1e-6) {
            const QSignalBlocker blocker(spanBox_);
            spanBox_->setCurrentIndex(i);
        }
    }
    updateRanges();
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->refresh(true);
}

double ChartsPanel::spanCovering(double seconds) const
{
    for (int i = 0; i < spanBox_->count(); ++i) {
        const double span = spanBox_->itemData(i).toDouble();
        if (span + 1e-6 >= seconds)
            return span;
    }
    return history_.spanSeconds();
}

void ChartsPanel::styleGraphs()
{
    const QPalette pal = palette();
    auto style = [](QCPGraph* graph, const QColor& color, int alpha, Qt::PenStyle penStyle = Qt::SolidLine) {
        QPen pen(color, 1.6, penStyle);
        graph->setPen(pen);
        QColor fill = color;
        fill.setAlpha(alpha);
        graph->setBrush(alpha > 0 ? QBrush(fill) : Qt::NoBrush);
        graph->setAdaptiveSampling(true);
    };
    style(used_, usedColor(pal), 45);
    style(available_, availableColor(pal), 0);
    style(swap_, swapColor(pal), 0, Qt::DashLine);
    for (ProcessRole role : kAllRoles) {
        const QColor color = roleColor(role, pal);
        style(roleGraphs_[roleIndex(role)], color, 150);
    }
    int index = 0;
    for (auto& [key, graph] : buildGraphs_)
        style(graph, seriesColor(index++, pal), 0);
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->applyPalette(pal);
}

void ChartsPanel::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        styleGraphs();
        for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
            chart->refresh(true);
    }
}

void ChartsPanel::addPoint(const services::HistoryPoint& point)
{
    const double x = point.seconds;
    used_->addData(x, TimeChart::toGiB(point.used));
    available_->addData(x, TimeChart::toGiB(point.available));
    swap_->addData(x, TimeChart::toGiB(point.swapUsed));
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < kRoleCount; ++i) {
        running += point.roleBytes[i];
        roleGraphs_[i]->addData(x, TimeChart::toGiB(running));
    }
}

QCPGraph* ChartsPanel::buildGraph(const ProcessKey& root) const
{
    const auto it = buildGraphs_.find(root);
    return it == buildGraphs_.end() ? nullptr : it->second;
}

void ChartsPanel::syncBuildGraphs()
{
    // Graphs follow the history's build series: new builds get a graph, builds
    // that aged out of the history lose theirs.
    std::map<ProcessKey, const services::BuildSeries*> live;
    for (const services::BuildSeries& series : history_.builds())
        live.emplace(series.root, &series);
    bool changed = false;
    for (auto it = buildGraphs_.begin(); it != buildGraphs_.end();) {
        if (!live.contains(it->first)) {
            buildsChart_->removeGraph(it->second);
            it = buildGraphs_.erase(it);
            changed = true;
        } else {
            ++it;
        }
    }
    for (const auto& [key, series] : live) {
        QCPGraph*& graph = buildGraphs_[key];
        if (!graph) {
            graph = buildsChart_->addGraph();
            graph->setName(series->label);
            for (std::size_t i = 0; i < series->points.size(); ++i)
                graph->addData(series->points[i].seconds, TimeChart::toGiB(series->points[i].residentBytes));
            changed = true;
        } else if (!series->points.empty()) {
            if (graph->name() != series->label) {
                graph->setName(series->label);
                changed = true;
            }
            const services::BuildPoint& last = series->points.back();
            if (graph->data()->isEmpty() || graph->data()->constEnd()[-1].key < last.seconds)
                graph->addData(last.seconds, TimeChart::toGiB(last.residentBytes));
        }
    }
    if (changed)
        styleGraphs();
}

void ChartsPanel::append(const Snapshot& snapshot)
{
    const std::size_t before = history_.points().size();
    const double previousLatest = history_.latestSeconds();
    history_.append(snapshot);
    if (history_.points().size() <= before && history_.latestSeconds() < previousLatest) {
        rebuild(); // the history started over
        return;
    }
    addPoint(history_.points().back());
    syncBuildGraphs();

    const double oldest = history_.latestSeconds() - history_.spanSeconds();
    for (QCPGraph* graph : {used_, available_, swap_})
        graph->data()->removeBefore(oldest);
    for (QCPGraph* graph : roleGraphs_)
        graph->data()->removeBefore(oldest);
    for (auto& [key, graph] : buildGraphs_)
        graph->data()->removeBefore(oldest);
    updateRanges();
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->refresh();
}

void ChartsPanel::showHistory(const std::vector<Snapshot>& snapshots)
{
    history_.clear();
    for (const Snapshot& snapshot : snapshots)
        history_.append(snapshot);
    rebuild();
}

void ChartsPanel::rebuild()
{
    for (QCPGraph* graph : {used_, available_, swap_})
        graph->data()->clear();
    for (QCPGraph* graph : roleGraphs_)
        graph->data()->clear();
    for (auto& [key, graph] : buildGraphs_)
        buildsChart_->removeGraph(graph);
    buildGraphs_.clear();
    const auto& points = history_.points();
    for (std::size_t i = 0; i < points.size(); ++i)
        addPoint(points[i]);
    syncBuildGraphs();
    updateRanges();
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->refresh(true);
}

void ChartsPanel::updateRanges()
{
    const double latest = history_.latestSeconds();
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->showWindow(latest, visibleSpan_);
    if (history_.points().empty())
        return;

    const services::HistoryPoint& last = history_.points().back();
    const QCPRange visible(latest - visibleSpan_, latest);
    // The memory chart spans the whole of RAM (or swap when larger), so the eye
    // reads "how full" from the height alone. Zoomed, it spans the used line in
    // view: "available" mirrors it from the far end of RAM, so including it
    // would zoom out again.
    bool fitted = false;
    if (memoryFit_) {
        const QCPRange range = used_->getValueRange(fitted, QCP::sdBoth, visible);
        if (fitted)
            memoryChart_->setRangeGiB(range.lower, range.upper);
    }
    if (!fitted)
        memoryChart_->setTopGiB(TimeChart::toGiB(std::max(last.total, last.swapTotal)));

    // The other two scale to the highest value in view.
    bool found = false;
    const QCPRange stacked = roleGraphs_.back()->getValueRange(found, QCP::sdBoth, visible);
    roleChart_->setTopGiB(found ? stacked.upper : 0.0);
    double buildsTop = 0.0;
    for (auto& [key, graph] : buildGraphs_) {
        bool any = false;
        const QCPRange range = graph->getValueRange(any, QCP::sdBoth, visible);
        if (any)
            buildsTop = std::max(buildsTop, range.upper);
    }
    buildsChart_->setTopGiB(buildsTop);
}

void ChartsPanel::replotNow()
{
    for (TimeChart* chart : {memoryChart_, roleChart_, buildsChart_})
        chart->refreshNow();
}

QString ChartsPanel::memoryHover(double seconds) const
{
    const services::HistoryPoint* point = history_.nearest(seconds);
    if (!point)
        return {};
    return tr("<b>%1</b><br>used %2 of %3<br>available %4<br>swap used %5")
        .arg(wallTime(point->wallMs), bytes(point->used), bytes(point->total), bytes(point->available),
             bytes(point->swapUsed));
}

QString ChartsPanel::roleHover(double seconds) const
{
    const services::HistoryPoint* point = history_.nearest(seconds);
    if (!point)
        return {};
    QString text = QStringLiteral("<b>%1</b>").arg(wallTime(point->wallMs));
    for (int i = static_cast<int>(kRoleCount) - 1; i >= 0; --i) {
        const std::uint64_t value = point->roleBytes[static_cast<std::size_t>(i)];
        if (value == 0)
            continue;
        text += QStringLiteral("<br>%1: %2")
                    .arg(services::roleLabelText(kAllRoles[static_cast<std::size_t>(i)]), bytes(value));
    }
    return text;
}

QString ChartsPanel::buildsHover(double seconds) const
{
    const services::HistoryPoint* point = history_.nearest(seconds);
    if (!point)
        return {};
    QString text = QStringLiteral("<b>%1</b>").arg(wallTime(point->wallMs));
    int shown = 0;
    for (const services::BuildSeries& series : history_.builds()) {
        const auto& points = series.points;
        if (points.empty())
            continue;
        const std::size_t index =
            points.lowerBound([](const services::BuildPoint& p) { return p.seconds; }, point->seconds - 1e-6);
        if (index >= points.size() || std::abs(points[index].seconds - point->seconds) > 1e-6)
            continue;
        text += QStringLiteral("<br>%1: %2")
                    .arg(series.label.toHtmlEscaped(), bytes(points[index].residentBytes));
        ++shown;
    }
    if (shown == 0)
        text += tr("<br>no build running");
    return text;
}

} // namespace headroom::ui
