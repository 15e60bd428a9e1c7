// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/SafeText.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <string_view>

namespace headroom::services {

// safeText() for Qt strings: what reaches a notification, a tooltip, the
// activity log or a log line, when it may quote a process's name or command.
inline QString safeDisplayText(const QString& text, std::size_t maxBytes = kSafeTextDefaultMax)
{
    const QByteArray utf8 = text.toUtf8();
    const std::string_view view(utf8.constData(), static_cast<std::size_t>(utf8.size()));
    if (isSafeText(view, maxBytes))
        return text;
    return QString::fromStdString(safeText(view, maxBytes));
}

// The same, line by line, for text whose own line breaks mean something (a
// notification body, a tooltip): only a break inside a quoted name is replaced.
inline QString safeDisplayLines(const QString& text, std::size_t maxBytesPerLine = kSafeTextDefaultMax)
{
    QStringList lines = text.split(QLatin1Char('\n'));
    for (QString& line : lines)
        line = safeDisplayText(line, maxBytesPerLine);
    return lines.join(QLatin1Char('\n'));
}

} // namespace headroom::services
