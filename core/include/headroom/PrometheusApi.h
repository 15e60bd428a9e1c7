// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The parts of Prometheus's HTTP API (/api/v1/query, /api/v1/query_range)
// the window uses to show a remote machine, Qt-free so that they are tested
// on their own: building the queries and reading the answers, bounded.

#include "headroom/MetricsText.h"
#include "headroom/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// PromQL selecting every Headroom series of one instance:
//   {__name__=~"headroom_.+",instance="buildbox:9464"}
// The instance is escaped as a PromQL string.
std::string headroomInstantQuery(std::string_view instance);
// One family of one instance: headroom_memory_used_bytes{instance="..."}
std::string familyQuery(std::string_view family, std::string_view instance);
// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string urlEncode(std::string_view value);

// {"status":"success","data":{"resultType":"vector","result":[...]}} into
// samples (name from __name__, the other labels kept, `instance` and `job`
// included). An error status, a non-JSON body (an HTML login page), a wrong
// result type or a body over limits.maxBytes is a failure in words, with the
// server's own error text when it gave one.
Result<std::vector<MetricSample>> parsePrometheusVector(std::string_view json,
                                                        MetricsParseLimits limits = {});
// The same for "matrix" (query_range) answers.
Result<std::vector<MetricSeries>> parsePrometheusMatrix(std::string_view json,
                                                        MetricsParseLimits limits = {});

} // namespace headroom
