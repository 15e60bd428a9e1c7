// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: nothing is learned yet.
#include "headroom/LearnedPeaks.h"

namespace headroom {

std::filesystem::path LearnedPeaks::defaultPath()
{
    return {};
}
LearnedPeaks LearnedPeaks::load(const std::filesystem::path&)
{
    return {};
}
std::optional<LearnedPeak> LearnedPeaks::peak(std::string_view, std::string_view) const
{
    return std::nullopt;
}
const std::map<std::string, LearnedPeak>* LearnedPeaks::units(std::string_view) const
{
    return nullptr;
}
std::optional<std::uint64_t> LearnedPeaks::highest(std::string_view) const
{
    return std::nullopt;
}
void LearnedPeaks::record(std::string_view, std::string_view, std::uint64_t, std::int64_t, bool) {}
Result<bool> LearnedPeaks::save(const std::filesystem::path&) const
{
    return Result<bool>::success(true);
}

} // namespace headroom
