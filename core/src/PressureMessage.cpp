// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PressureMessage.h"

#include "headroom/BuildTrees.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace headroom {

namespace {
// Names, subcommands and folders here are a process's own text, and these
// messages go to notifications, the tray and the log.
constexpr std::size_t kNameMax = 128;

std::string safeName(std::string_view text)
{
    return safeText(text, kNameMax);
}
} // namespace

std::optional<double> timeLeftWorthShowing(std::optional<double> secondsLeft)
{
    if (!secondsLeft || !std::isfinite(*secondsLeft) || *secondsLeft >= kShowTimeLeftBelowSeconds ||
        *secondsLeft < 0.0)
        return std::nullopt;
    return secondsLeft;
}

std::string describeConsumers(const Snapshot& s, std::size_t maxItems)
{
    std::string text = describeRoleTotals(s, ", ", " · ", maxItems);
    if (!text.empty())
        return text;
    // No build running: the largest processes.
    std::vector<const ProcessSample*> top;
    for (const auto& p : s.processes) {
        if (!p.kernelThread && p.residentBytes > 0)
            top.push_back(&p);
    }
    const std::size_t keep = std::min(maxItems, top.size());
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                      [](const ProcessSample* a, const ProcessSample* b) { return a->residentBytes > b->residentBytes; });
    for (std::size_t i = 0; i < keep; ++i) {
        if (!text.empty())
            text += ", ";
        text += safeName(top[i]->displayName()) + " · " + formatBytes(top[i]->residentBytes);
    }
    return text;
}

std::string describeTopConsumer(const Snapshot& s)
{
    const ProcessSample* top = nullptr;
    for (const auto& p : s.processes) {
        if (!p.kernelThread && (!top || p.residentBytes > top->residentBytes))
            top = &p;
    }
    const BuildTree* build = s.builds.empty() ? nullptr : &s.builds.front(); // heaviest first
    if (build && (!top || build->residentBytes > top->residentBytes)) {
        std::string name = safeName(build->tool);
        if (!build->subcommand.empty())
            name += ' ' + safeName(build->subcommand);
        if (!build->workspace.empty()) {
            const auto slash = build->workspace.find_last_of("/\\");
            name += " in " + safeName(slash == std::string::npos ? build->workspace
                                                                 : build->workspace.substr(slash + 1));
        }
        return name + " · " + formatBytes(build->residentBytes);
    }
    if (top)
        return safeName(top->displayName()) + " · " + formatBytes(top->residentBytes);
    return {};
}

PressureMessage pressureMessage(const Snapshot& s, const LevelReading& reading, std::optional<double> secondsLeft)
{
    PressureMessage message;
    switch (reading.level) {
    case PressureLevel::Normal:
        message.title = "Memory is back to normal";
        break;
    case PressureLevel::Warning:
        message.title = "Memory warning";
        break;
    case PressureLevel::Critical:
        message.title = "Memory critical";
        break;
    }
    if (!reading.reason.empty())
        message.title += ": " + reading.reason;
    message.body = describeConsumers(s);
    message.secondsLeft = timeLeftWorthShowing(secondsLeft);
    return message;
}

} // namespace headroom
