// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PrometheusApi.h"

namespace headroom {

std::string headroomInstantQuery(std::string_view) { return {}; }
std::string familyQuery(std::string_view, std::string_view) { return {}; }
std::string urlEncode(std::string_view value) { return std::string(value); }
Result<std::vector<MetricSample>> parsePrometheusVector(std::string_view, MetricsParseLimits)
{
    return Result<std::vector<MetricSample>>::failure("not written yet");
}
Result<std::vector<MetricSeries>> parsePrometheusMatrix(std::string_view, MetricsParseLimits)
{
    return Result<std::vector<MetricSeries>>::failure("not written yet");
}

} // namespace headroom
