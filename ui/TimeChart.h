// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <qcustomplot.h>

#include <functional>

namespace headroom::ui {

// A live chart of byte values over the steady clock: x in seconds, y in GiB
// (labelled in MiB while the axis tops out under 1 GiB, so a small build reads
// "300", not "0.3").
// The x axis reads as time before now ("-5 min", "now"), hovering shows the
// values at that instant, and nothing is antialiased so an hour of points stays
// cheap to draw.
class TimeChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit TimeChart(const QString& title, QWidget* parent = nullptr);

    // Text shown when hovering at x = seconds; empty hides the tooltip.
    void setHoverText(std::function<QString(double seconds)> provider) { hoverText_ = std::move(provider); }
    QString hoverTextAt(double seconds) const { return hoverText_ ? hoverText_(seconds) : QString(); }

    // Shows [latest - span, latest].
    void showWindow(double latestSeconds, double spanSeconds);
    // Sets the y range to [0, max] with a little room above, in GiB.
    void setTopGiB(double maxGiB);
    // Sets the y range around [low, high] (GiB) with a little room on both
    // sides, on round figures: the zoom to the data.
    void setRangeGiB(double lowGiB, double highGiB);
    // "GiB" or "MiB": the unit the y labels are in now.
    QString yUnit() const;

    void applyPalette(const QPalette& palette);

    // Redraws on the next event loop turn. When only the data moved (same
    // axes, same legend) just the graph layer is redrawn: axes, grid, legend
    // and title keep their pixels, which spares shaping their text again.
    void refresh(bool everything = false);
    // Redraws everything now (screenshots, tests).
    void refreshNow();
    int fullRedraws() const { return fullRedraws_; }
    int dataRedraws() const { return dataRedraws_; }
    QCPTextElement* titleElement() const { return title_; }

    static double toGiB(std::uint64_t bytes)
    {
        return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
    }

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

  private:
    void flush();
    void setYRange(double low, double high);

    QCPTextElement* title_ = nullptr;
    bool refreshScheduled_ = false;
    bool everythingPending_ = true;
    QCPRange drawnY_;
    double drawnSpan_ = 0.0;
    int drawnGraphs_ = -1;
    int fullRedraws_ = 0;
    int dataRedraws_ = 0;
    QCPItemStraightLine* cursor_ = nullptr;
    QSharedPointer<QCPAxisTicker> timeTicker_;
    QSharedPointer<QCPAxisTicker> byteTicker_;
    std::function<QString(double)> hoverText_;
};

} // namespace headroom::ui
