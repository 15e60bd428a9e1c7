// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Units.h"

#include <cmath>
#include <cstdio>

namespace headroom {

std::string formatBytes(std::uint64_t bytes)
{
    char buffer[32];
    if (bytes < KiB) {
        std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
    } else if (bytes < MiB) {
        std::snprintf(buffer, sizeof buffer, "%.1f KiB", double(bytes) / double(KiB));
    } else if (bytes < GiB) {
        std::snprintf(buffer, sizeof buffer, "%.0f MiB", double(bytes) / double(MiB));
    } else {
        std::snprintf(buffer, sizeof buffer, "%.1f GiB", double(bytes) / double(GiB));
    }
    return buffer;
}

std::string formatPercent(double fraction)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f%%", fraction * 100.0);
    return buffer;
}

std::string formatDuration(double seconds)
{
    char buffer[48];
    if (!(seconds >= 0.0))
        seconds = 0.0;
    if (seconds < 60.0) {
        std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
    } else if (seconds < 3600.0) {
        const auto total = static_cast<long long>(std::llround(seconds));
        std::snprintf(buffer, sizeof buffer, "%lld min %02lld s", total / 60, total % 60);
    } else {
        const auto minutes = static_cast<long long>(std::llround(seconds / 60.0));
        std::snprintf(buffer, sizeof buffer, "%lld h %02lld min", minutes / 60, minutes % 60);
    }
    return buffer;
}

} // namespace headroom
