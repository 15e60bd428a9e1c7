// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/DashboardColors.h"

#include <array>

namespace headroom::ui {
namespace {

QColor forPalette(QColor color, const QPalette& palette)
{
    // Saturated mid-tones read well on white; on a dark base they need more light.
    return isDarkPalette(palette) ? color.lighter(135) : color;
}

} // namespace

bool isDarkPalette(const QPalette& palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor roleColor(ProcessRole role, const QPalette& palette)
{
    static const std::array<QColor, kRoleCount> colors = {
        QColor(0xb0, 0x70, 0x1c), // cargo: amber
        QColor(0xd9, 0x48, 0x2b), // rustc: rust
        QColor(0xc9, 0xa2, 0x27), // build scripts: gold
        QColor(0x7b, 0x5c, 0xd6), // linker: violet
        QColor(0x2e, 0x7d, 0xd1), // compiler: blue
        QColor(0x13, 0x9c, 0x7f), // tests: teal
        QColor(0x8d, 0x6e, 0x63), // make/ninja: brown
        QColor(0x8a, 0x96, 0xa3), // other: grey
    };
    return forPalette(colors[roleIndex(role)], palette);
}

QColor levelColor(services::MemoryLevel level, const QPalette& palette)
{
    switch (level) {
    case services::MemoryLevel::Normal:
        return forPalette(QColor(0x2e, 0x9e, 0x5b), palette);
    case services::MemoryLevel::Warning:
        return forPalette(QColor(0xd9, 0x8e, 0x04), palette);
    case services::MemoryLevel::Critical:
        return forPalette(QColor(0xd6, 0x3a, 0x3a), palette);
    }
    return palette.color(QPalette::Text);
}

QColor usedColor(const QPalette& palette)
{
    return forPalette(QColor(0xd9, 0x48, 0x2b), palette);
}

QColor availableColor(const QPalette& palette)
{
    return forPalette(QColor(0x2e, 0x9e, 0x5b), palette);
}

QColor swapColor(const QPalette& palette)
{
    return forPalette(QColor(0x7b, 0x5c, 0xd6), palette);
}

QColor seriesColor(int index, const QPalette& palette)
{
    static const std::array<QColor, 8> colors = {
        QColor(0x2e, 0x7d, 0xd1), QColor(0xd9, 0x48, 0x2b), QColor(0x13, 0x9c, 0x7f),
        QColor(0x7b, 0x5c, 0xd6), QColor(0xc9, 0xa2, 0x27), QColor(0xc2, 0x3b, 0x80),
        QColor(0x5d, 0x8a, 0x2f), QColor(0x8d, 0x6e, 0x63),
    };
    return forPalette(colors[static_cast<std::size_t>(index) % colors.size()], palette);
}

QColor tint(const QColor& color, const QPalette& palette, double strength)
{
    const QColor base = palette.color(QPalette::Base);
    auto mix = [strength](int a, int b) {
        return static_cast<int>(a * (1.0 - strength) + b * strength + 0.5);
    };
    return QColor(mix(base.red(), color.red()), mix(base.green(), color.green()),
                  mix(base.blue(), color.blue()));
}

} // namespace headroom::ui
