// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/TimeChart.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace headroom::ui {
namespace {

// Ticks on round durations before the newest point, labelled relative to it.
class RelativeTimeTicker : public QCPAxisTicker {
  public:
    double latest = 0.0;

  protected:
    double getTickStep(const QCPRange& range) override
    {
        static const double steps[] = {5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600};
        const double wanted = range.size() / std::max(tickCount(), 1);
        for (double step : steps) {
            if (step >= wanted)
                return step;
        }
        return 43200;
    }
    QVector<double> createTickVector(double tickStep, const QCPRange& range) override
    {
        // Anchor the ticks on the newest point so "now" is always a tick.
        QVector<double> ticks;
        for (double tick = latest; tick >= range.lower - 1e-9; tick -= tickStep) {
            if (tick <= range.upper + 1e-9)
                ticks.prepend(tick);
        }
        return ticks;
    }
    QString getTickLabel(double tick, const QLocale&, QChar, int) override
    {
        const double ago = std::round(latest - tick);
        if (ago < 0.5)
            return QStringLiteral("now");
        if (ago < 60)
            return QStringLiteral("-%1 s").arg(ago);
        if (ago < 3600)
            return QStringLiteral("-%1 min").arg(ago / 60.0, 0, 'g', 3);
        return QStringLiteral("-%1 h").arg(ago / 3600.0, 0, 'g', 3);
    }
};

// Values are GiB; labels and round steps are in MiB while the axis is small.
class ByteTicker : public QCPAxisTicker {
  public:
    double factor = 1.0; // 1 for GiB, 1024 for MiB

  protected:
    double getTickStep(const QCPRange& range) override
    {
        return QCPAxisTicker::getTickStep(QCPRange(range.lower * factor, range.upper * factor)) / factor;
    }
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override
    {
        return QCPAxisTicker::getTickLabel(tick * factor, locale, formatChar, precision);
    }
};

// The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value`.
double roundStep(double value)
{
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double step : {1.0, 2.0, 2.5, 5.0}) {
        if (step * magnitude >= value - 1e-12)
            return step * magnitude;
    }
    return 10.0 * magnitude;
}

} // namespace

TimeChart::TimeChart(const QString& title, QWidget* parent) : QCustomPlot(parent)
{
    setNotAntialiasedElements(QCP::aeAll);
    setNoAntialiasingOnDrag(true);
    setPlottingHint(QCP::phCacheLabels, true);
    setInteractions({});
    setMinimumSize(220, 150);
    setFocusPolicy(Qt::NoFocus);

    plotLayout()->insertRow(0);
    title_ = new QCPTextElement(this, title);
    QFont titleFont = font();
    titleFont.setBold(true);
    title_->setFont(titleFont);
    plotLayout()->addElement(0, 0, title_);
    plotLayout()->setRowSpacing(0);

    timeTicker_ = QSharedPointer<RelativeTimeTicker>::create();
    timeTicker_->setTickCount(5);
    xAxis->setTicker(timeTicker_);
    byteTicker_ = QSharedPointer<ByteTicker>::create();
    yAxis->setTicker(byteTicker_);
    yAxis->setLabel(QStringLiteral("GiB"));
    yAxis->setRange(0, 1);
    yAxis->ticker()->setTickCount(4);
    xAxis->setRange(-300, 0);
    axisRect()->setAutoMargins(QCP::msLeft | QCP::msBottom | QCP::msTop);
    axisRect()->setMargins({0, 0, 6, 0});

    legend->setVisible(true);
    QFont legendFont = font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    legend->setFont(legendFont);
    legend->setIconSize(10, 8);
    legend->setRowSpacing(-2);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);

    // The graphs get a paint buffer of their own so a new sample redraws
    // only them; the hover cursor sits on the overlay layer for the same reason.
    layer(QStringLiteral("main"))->setMode(QCPLayer::lmBuffered);
    cursor_ = new QCPItemStraightLine(this);
    cursor_->setLayer(QStringLiteral("overlay"));
    cursor_->setVisible(false);
    cursor_->setSelectable(false);

    setMouseTracking(true);
    applyPalette(palette());
}

void TimeChart::showWindow(double latestSeconds, double spanSeconds)
{
    static_cast<RelativeTimeTicker*>(timeTicker_.data())->latest = latestSeconds;
    xAxis->setRange(latestSeconds - spanSeconds, latestSeconds);
}

void TimeChart::setTopGiB(double maxGiB)
{
    // A little room above the highest value, rounded up to a round figure so
    // the axis (and its labels) only change when the data crosses one.
    const double wanted = std::max(maxGiB * 1.08, 0.25);
    const double magnitude = std::pow(10.0, std::floor(std::log10(wanted)));
    double top = 10.0 * magnitude;
    for (double step : {1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0}) {
        if (step * magnitude >= wanted - 1e-12) {
            top = step * magnitude;
            break;
        }
    }
    setYRange(0, top);
}

void TimeChart::setRangeGiB(double lowGiB, double highGiB)
{
    if (highGiB < lowGiB)
        std::swap(lowGiB, highGiB);
    // At least 64 MiB tall, so a flat line sits in the middle instead of filling it.
    const double span = std::max(highGiB - lowGiB, 1.0 / 16.0);
    const double step = roundStep(span / 4.0);
    const double low = std::max(0.0, std::floor((lowGiB - span * 0.08) / step) * step);
    const double high = std::ceil((highGiB + span * 0.08) / step) * step;
    setYRange(low, std::max(high, low + step));
}

void TimeChart::setYRange(double low, double high)
{
    const bool mib = high < 1.0 - 1e-9;
    static_cast<ByteTicker*>(byteTicker_.data())->factor = mib ? 1024.0 : 1.0;
    yAxis->setLabel(mib ? QStringLiteral("MiB") : QStringLiteral("GiB"));
    yAxis->setRange(low, high);
}

QString TimeChart::yUnit() const
{
    return yAxis->label();
}

void TimeChart::refresh(bool everything)
{
    everythingPending_ = everythingPending_ || everything;
    if (refreshScheduled_)
        return;
    refreshScheduled_ = true;
    QMetaObject::invokeMethod(this, &TimeChart::flush, Qt::QueuedConnection);
}

void TimeChart::refreshNow()
{
    everythingPending_ = true;
    flush();
}

void TimeChart::flush()
{
    refreshScheduled_ = false;
    const bool axesMoved = yAxis->range() != drawnY_ || std::abs(xAxis->range().size() - drawnSpan_) > 1e-9;
    if (everythingPending_ || axesMoved || graphCount() != drawnGraphs_ || hasInvalidatedPaintBuffers()) {
        everythingPending_ = false;
        drawnY_ = yAxis->range();
        drawnSpan_ = xAxis->range().size();
        drawnGraphs_ = graphCount();
        ++fullRedraws_;
        replot(rpRefreshHint);
        return;
    }
    ++dataRedraws_;
    layer(QStringLiteral("main"))->replot();
}

void TimeChart::applyPalette(const QPalette& palette)
{
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(40);
    QColor axisLine = text;
    axisLine.setAlpha(110);

    setBackground(base);
    axisRect()->setBackground(base);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setBasePen(QPen(axisLine));
        axis->setTickPen(QPen(axisLine));
        axis->setSubTickPen(Qt::NoPen);
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(grid, 0, Qt::SolidLine));
        axis->grid()->setSubGridVisible(false);
    }
    QColor legendBackground = base;
    legendBackground.setAlpha(200);
    legend->setBrush(legendBackground);
    legend->setBorderPen(Qt::NoPen);
    legend->setTextColor(text);
    title_->setTextColor(text);
    QPen cursorPen(text, 0, Qt::DashLine);
    cursor_->setPen(cursorPen);
}

void TimeChart::mouseMoveEvent(QMouseEvent* event)
{
    QCustomPlot::mouseMoveEvent(event);
    const double x = xAxis->pixelToCoord(event->position().x());
    if (!axisRect()->rect().contains(event->position().toPoint()) || !hoverText_) {
        cursor_->setVisible(false);
        QToolTip::hideText();
        layer(QStringLiteral("overlay"))->replot();
        return;
    }
    cursor_->point1->setCoords(x, 0);
    cursor_->point2->setCoords(x, 1);
    cursor_->setVisible(true);
    const QString text = hoverText_(x);
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint() + QPoint(14, 8), text, this);
    layer(QStringLiteral("overlay"))->replot();
}

void TimeChart::leaveEvent(QEvent* event)
{
    QCustomPlot::leaveEvent(event);
    cursor_->setVisible(false);
    QToolTip::hideText();
    layer(QStringLiteral("overlay"))->replot();
}

} // namespace headroom::ui
