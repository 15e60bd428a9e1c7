// SPDX-License-Identifier: GPL-3.0-or-later
// The plain words of the run commands' options: Ctrl+C's choice and sizes.
#include "cli/RunCommands.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace headroom::cli {

std::optional<OnInterrupt> onInterruptFromId(const std::string& id)
{
    if (id == "ask")
        return OnInterrupt::Ask;
    if (id == "stop")
        return OnInterrupt::Stop;
    if (id == "leave")
        return OnInterrupt::Leave;
    return std::nullopt;
}

std::optional<std::uint64_t> parseByteSize(const std::string& text)
{
    // Digits with at most one point, then an optional unit: K, M, G, T
    // (optionally followed by "iB" or "B"), case-insensitive; nothing else.
    std::size_t i = 0;
    bool point = false;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !point))) {
        point = point || text[i] == '.';
        ++i;
    }
    const std::string number = text.substr(0, i);
    if (number.empty() || number == "." || number.size() > 24)
        return std::nullopt;
    std::string unit = text.substr(i);
    for (char& c : unit)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    double scale = 1.0;
    if (!unit.empty()) {
        const std::string rest = unit.substr(1);
        if (rest != "" && rest != "B" && rest != "IB")
            return std::nullopt;
        switch (unit[0]) {
        case 'K':
            scale = 1024.0;
            break;
        case 'M':
            scale = 1024.0 * 1024.0;
            break;
        case 'G':
            scale = 1024.0 * 1024.0 * 1024.0;
            break;
        case 'T':
            scale = 1024.0 * 1024.0 * 1024.0 * 1024.0;
            break;
        case 'B':
            if (!rest.empty())
                return std::nullopt;
            break;
        default:
            return std::nullopt;
        }
    }
    char* stop = nullptr;
    const double value = std::strtod(number.c_str(), &stop) * scale;
    if (stop != number.c_str() + number.size() || !std::isfinite(value) || value < 1.0 ||
        value > std::ldexp(1.0, 60))
        return std::nullopt;
    return static_cast<std::uint64_t>(value);
}

} // namespace headroom::cli
