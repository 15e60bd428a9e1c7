// SPDX-License-Identifier: GPL-3.0-or-later
#include "MemoryLevel.h"

#include <QStringList>

namespace headroom::ui {

LevelAssessment assessMemory(const MemoryStatus& memory, const LevelThresholds& thresholds)
{
    LevelAssessment result;
    QStringList critical;
    QStringList warning;

    if (memory.total > 0) {
        const double availablePercent = memory.availableFraction() * 100.0;
        const QString text = QStringLiteral("only %1 % of RAM available").arg(availablePercent, 0, 'f', 1);
        if (availablePercent < thresholds.criticalAvailablePercent)
            critical << text;
        else if (availablePercent < thresholds.warningAvailablePercent)
            warning << text;
    }
    if (memory.swapTotal > 0) {
        const double swapPercent = memory.swapUsedFraction() * 100.0;
        const QString text = QStringLiteral("%1 % of swap used").arg(swapPercent, 0, 'f', 0);
        if (swapPercent > thresholds.criticalSwapPercent)
            critical << text;
        else if (swapPercent > thresholds.warningSwapPercent)
            warning << text;
    }
    if (memory.pressure.available) {
        if (memory.pressure.full.avg10 > thresholds.criticalPressureFull)
            critical << QStringLiteral("all tasks stalled on memory %1 % of the time")
                            .arg(memory.pressure.full.avg10, 0, 'f', 1);
        if (memory.pressure.some.avg10 > thresholds.warningPressureSome)
            warning << QStringLiteral("tasks stalled on memory %1 % of the time")
                           .arg(memory.pressure.some.avg10, 0, 'f', 1);
    }
    // macOS reports its own verdict; trust it as a floor.
    if (memory.pressure.kernelLevel == 4)
        critical << QStringLiteral("the kernel reports critical memory pressure");
    else if (memory.pressure.kernelLevel == 2)
        warning << QStringLiteral("the kernel reports memory pressure");

    if (!critical.isEmpty()) {
        result.level = MemoryLevel::Critical;
        result.reason = critical.join(QStringLiteral("; "));
    } else if (!warning.isEmpty()) {
        result.level = MemoryLevel::Warning;
        result.reason = warning.join(QStringLiteral("; "));
    }
    return result;
}

QString levelName(MemoryLevel level)
{
    switch (level) {
    case MemoryLevel::Normal:
        return QStringLiteral("Normal");
    case MemoryLevel::Warning:
        return QStringLiteral("Warning");
    case MemoryLevel::Critical:
        return QStringLiteral("Critical");
    }
    return {};
}

} // namespace headroom::ui
