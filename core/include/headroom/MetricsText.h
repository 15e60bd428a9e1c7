// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The Prometheus text exposition format, version 0.0.4: written by the
// exporter, read back by the window from a Headroom exporter's /metrics.
// https://prometheus.io/docs/instrumenting/exposition_formats/

#include "headroom/Result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace headroom {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// One line of a scrape: a series' name, its labels (in the order written) and
// its value. Values may be NaN or ±Inf, as the format allows.
struct MetricSample {
    std::string name;
    MetricLabels labels;
    double value = 0.0;
    std::optional<std::int64_t> timestampMs;

    // The value of label `key`, or empty.
    std::string_view label(std::string_view key) const;
};

// One series over time, as a Prometheus range query returns it.
struct MetricSeries {
    std::string name;
    MetricLabels labels;                                 // without __name__
    std::vector<std::pair<std::int64_t, double>> points; // (wall clock ms, value), oldest first
};

enum class MetricType { Gauge, Counter, Untyped };

// Builds one exposition. Families are written in the order they are begun;
// HELP and TYPE appear once per family, whatever the calls do; a family
// with no samples is left out entirely. Label values are made fit to read
// (safeText: valid UTF-8, controls such as a newline or ESC replaced with
// '?') and escaped (\\, \", \n); names that are not valid metric or label names
// are a programming error and are dropped (never written). The text always
// ends with a newline.
class MetricsWriter {
  public:
    void family(std::string_view name, MetricType type, std::string_view help);
    // A sample of the family begun last (or of `name` when it is that
    // family's _total/_bucket etc.). Label values longer than
    // kMaxLabelValueBytes are cut at a UTF-8 boundary and end with "…".
    void sample(const MetricLabels& labels, double value);
    void sample(std::string_view name, const MetricLabels& labels, double value);
    std::string text() const;

    static constexpr std::size_t kMaxLabelValueBytes = 256;

  private:
    struct Family {
        std::string name;
        MetricType type = MetricType::Untyped;
        std::string help;
        std::string lines;
    };
    std::vector<Family> families_;
    std::size_t current_ = 0; // the family begun last
};

// "text/plain; version=0.0.4; charset=utf-8"
std::string_view metricsContentType();

struct MetricsParseLimits {
    std::size_t maxBytes = 8u << 20; // a larger text is refused, not read
    std::size_t maxSamples = 20000;
    std::size_t maxLabelsPerSample = 32;
};

// A sample's value as the format writes it: a number, NaN, +Inf or -Inf
// (any case), nothing else and nothing after it. Prometheus's HTTP API sends
// values in the same form, as strings.
std::optional<double> parseMetricValue(std::string_view text);

// Reads an exposition (comments and TYPE/HELP skipped). A malformed line, a
// text over the limits, or something that is plainly not metrics (HTML) is a
// failure that says what was wrong and on which line.
Result<std::vector<MetricSample>> parseMetricsText(std::string_view text, MetricsParseLimits limits = {});

} // namespace headroom
