// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/MemoryLevel.h"

#include "headroom/PressureMessage.h"

#include <QCoreApplication>

#include <cmath>

namespace headroom::services {

QString levelName(MemoryLevel level)
{
    switch (level) {
    case MemoryLevel::Normal:
        return QCoreApplication::translate("MemoryLevel", "Normal");
    case MemoryLevel::Warning:
        return QCoreApplication::translate("MemoryLevel", "Warning");
    case MemoryLevel::Critical:
        return QCoreApplication::translate("MemoryLevel", "Critical");
    }
    return {};
}

QString formatTimeLeft(std::optional<double> secondsLeft)
{
    const std::optional<double> shown = timeLeftWorthShowing(secondsLeft);
    if (!shown)
        return {};
    if (*shown < 60.0)
        return QCoreApplication::translate("MemoryLevel", "under a minute");
    const auto minutes = static_cast<int>(std::lround(*shown / 60.0));
    return QCoreApplication::translate("MemoryLevel", "about %n min", nullptr, minutes);
}

QString describeTimeLeft(std::optional<double> secondsLeft)
{
    const QString duration = formatTimeLeft(secondsLeft);
    return duration.isEmpty() ? QString()
                              : QCoreApplication::translate("MemoryLevel", "%1 left").arg(duration);
}

} // namespace headroom::services
