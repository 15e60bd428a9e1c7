// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MetricsText.h"

namespace headroom {

std::string_view MetricSample::label(std::string_view key) const
{
    for (const auto& [k, v] : labels)
        if (k == key)
            return v;
    return {};
}

void MetricsWriter::family(std::string_view, MetricType, std::string_view) {}
void MetricsWriter::sample(const MetricLabels&, double) {}
void MetricsWriter::sample(std::string_view, const MetricLabels&, double) {}
std::string MetricsWriter::text() const { return "\n"; }
std::string_view metricsContentType() { return "text/plain; version=0.0.4; charset=utf-8"; }

Result<std::vector<MetricSample>> parseMetricsText(std::string_view, MetricsParseLimits)
{
    return Result<std::vector<MetricSample>>::failure("not written yet");
}

} // namespace headroom
