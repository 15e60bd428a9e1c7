// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/MemoryLevel.h"

#include "headroom/PressureMessage.h"

#include <QCoreApplication>

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

QString describeTimeLeft(std::optional<double> secondsLeft)
{
    return QString::fromStdString(headroom::describeTimeLeft(secondsLeft));
}

} // namespace headroom::services
