// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Between the Qt-free core's strings (UTF-8 std::string) and Qt's.

#include <QString>

#include <string>

namespace headroom::services {

inline QString q(const std::string& text)
{
    return QString::fromStdString(text);
}

inline std::string s(const QString& text)
{
    return text.toStdString();
}

} // namespace headroom::services
