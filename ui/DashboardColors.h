// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/ProcessRole.h"
#include "services/MemoryLevel.h"

#include <QColor>
#include <QPalette>

namespace headroom::ui {

// Colours that carry meaning (roles, levels, chart lines), tuned so they stay
// legible on both light and dark palettes. Everything else comes from the
// palette itself.
bool isDarkPalette(const QPalette& palette);
QColor roleColor(ProcessRole role, const QPalette& palette);
QColor levelColor(services::MemoryLevel level, const QPalette& palette);
// Line colours of the memory chart.
QColor usedColor(const QPalette& palette);
QColor availableColor(const QPalette& palette);
QColor swapColor(const QPalette& palette);
// A stable colour for the n-th series of a chart with many lines.
QColor seriesColor(int index, const QPalette& palette);
// A light tint of `color` over the palette's base, for row backgrounds.
QColor tint(const QColor& color, const QPalette& palette, double strength = 0.18);

} // namespace headroom::ui
