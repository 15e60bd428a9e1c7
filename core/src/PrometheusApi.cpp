// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/PrometheusApi.h"

#include "JsonFields.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace headroom {
namespace {

using json_fields::BadField;
using nlohmann::json;

constexpr char kHex[] = "0123456789ABCDEF";

// A PromQL double-quoted string (Go's escapes): what is not printable ASCII
// travels as \xNN, which PromQL turns back into the same byte.
std::string promqlString(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

// nlohmann's parser keeps a node per bracket: a body of nothing but "[[[[" would
// cost hundreds of MiB. A Prometheus answer is about six levels deep.
constexpr int kMaxJsonDepth = 32;

bool nestedTooDeeply(std::string_view text)
{
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

std::string mib(std::size_t bytes)
{
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

// The answer's "data" object, checked for status and result type, or why not.
Result<json> resultOf(std::string_view text, const char* wantedType, const MetricsParseLimits& limits)
{
    if (text.size() > limits.maxBytes)
        return Result<json>::failure("answered with more than " + mib(limits.maxBytes) +
                                     ", more than a Headroom query returns");
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos)
        return Result<json>::failure(
            "answered with an empty body, not Prometheus's JSON API: is the URL right?");
    if (text[start] == '<')
        return Result<json>::failure("answered with HTML, not Prometheus: is the URL right?");
    if (nestedTooDeeply(text))
        return Result<json>::failure("answered with JSON nested too deeply to be Prometheus's");
    json answer = json::parse(text.begin(), text.end(), nullptr, false);
    if (answer.is_discarded() || !answer.is_object())
        return Result<json>::failure(
            "answered with something that is not JSON, not Prometheus: is the URL right?");

    const auto status = answer.find("status");
    if (status == answer.end() || !status->is_string())
        return Result<json>::failure("answered with JSON that is not Prometheus's API (no \"status\")");
    if (*status != "success") {
        std::string what = "answered with an error";
        if (const auto type = answer.find("errorType"); type != answer.end() && type->is_string())
            what += " (" + type->get<std::string>() + ")";
        if (const auto error = answer.find("error"); error != answer.end() && error->is_string())
            what += ": " + error->get<std::string>();
        return Result<json>::failure(what);
    }
    auto data = answer.find("data");
    if (data == answer.end() || !data->is_object())
        return Result<json>::failure("answered without \"data\"");
    const auto type = data->find("resultType");
    if (type == data->end() || !type->is_string())
        return Result<json>::failure("answered without a \"resultType\"");
    if (*type != wantedType)
        return Result<json>::failure("answered with a " + type->get<std::string>() + " where a " +
                                     wantedType + " was asked for");
    auto result = data->find("result");
    if (result == data->end() || !result->is_array())
        return Result<json>::failure("answered without a \"result\" list");
    return Result<json>::success(std::move(*result));
}

// Prometheus sends values as strings, "NaN", "+Inf" and "-Inf" included.
double sampleValue(const json& v)
{
    if (!v.is_string())
        throw BadField{"value"};
    const auto value = parseMetricValue(v.get_ref<const std::string&>());
    if (!value)
        throw BadField{"value"};
    return *value;
}

// Seconds since the epoch with a fraction, to milliseconds.
std::int64_t timestampMs(const json& v)
{
    const double seconds = json_fields::number(v, "timestamp");
    if (std::fabs(seconds) > 1e11)
        throw BadField{"timestamp"};
    return std::llround(seconds * 1000.0);
}

// [<seconds>, "<value>"]
std::pair<std::int64_t, double> point(const json& v)
{
    if (!v.is_array() || v.size() != 2)
        throw BadField{"value"};
    return {timestampMs(v[0]), sampleValue(v[1])};
}

// The "metric" object: the name and the other labels.
void readMetric(const json& entry, std::string& name, MetricLabels& labels, const MetricsParseLimits& limits)
{
    const auto metric = entry.find("metric");
    if (metric == entry.end() || !metric->is_object())
        throw BadField{"metric"};
    for (const auto& [key, value] : metric->items()) {
        if (!value.is_string())
            throw BadField{"metric"};
        if (key == "__name__") {
            name = value.get<std::string>();
            continue;
        }
        if (labels.size() >= limits.maxLabelsPerSample)
            throw BadField{"metric (more than " + std::to_string(limits.maxLabelsPerSample) + " labels)"};
        labels.emplace_back(key, value.get<std::string>());
    }
}

std::string tooMany(const MetricsParseLimits& limits)
{
    return "answered with more than " + std::to_string(limits.maxSamples) +
           " samples, more than a Headroom query returns";
}

} // namespace

std::string headroomInstantQuery(std::string_view instance)
{
    return "{__name__=~\"headroom_.+\",instance=" + promqlString(instance) + "}";
}

std::string familyQuery(std::string_view family, std::string_view instance)
{
    return std::string(family) + "{instance=" + promqlString(instance) + "}";
}

std::string urlEncode(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    return out;
}

Result<std::vector<MetricSample>> parsePrometheusVector(std::string_view text, MetricsParseLimits limits)
{
    using R = Result<std::vector<MetricSample>>;
    auto result = resultOf(text, "vector", limits);
    if (!result)
        return R::failure(result.error());
    if (result->size() > limits.maxSamples)
        return R::failure(tooMany(limits));
    std::vector<MetricSample> samples;
    samples.reserve(result->size());
    std::size_t index = 0;
    try {
        for (const json& entry : result.value()) {
            if (!entry.is_object())
                throw BadField{"result"};
            MetricSample sample;
            readMetric(entry, sample.name, sample.labels, limits);
            const auto value = entry.find("value");
            if (value == entry.end())
                throw BadField{"value"};
            const auto [ms, number] = point(*value);
            sample.timestampMs = ms;
            sample.value = number;
            samples.push_back(std::move(sample));
            ++index;
        }
    } catch (const BadField& bad) {
        return R::failure("answered with a malformed " + bad.what + " in result " +
                          std::to_string(index + 1));
    }
    return R::success(std::move(samples));
}

Result<std::vector<MetricSeries>> parsePrometheusMatrix(std::string_view text, MetricsParseLimits limits)
{
    using R = Result<std::vector<MetricSeries>>;
    auto result = resultOf(text, "matrix", limits);
    if (!result)
        return R::failure(result.error());
    std::vector<MetricSeries> series;
    std::size_t index = 0;
    std::size_t points = 0; // every point counts as a sample against the limit
    try {
        for (const json& entry : result.value()) {
            if (!entry.is_object())
                throw BadField{"result"};
            MetricSeries one;
            readMetric(entry, one.name, one.labels, limits);
            const auto values = entry.find("values");
            if (values == entry.end() || !values->is_array())
                throw BadField{"values"};
            points += values->size();
            if (points > limits.maxSamples)
                return R::failure(tooMany(limits));
            one.points.reserve(values->size());
            for (const json& v : *values)
                one.points.push_back(point(v));
            series.push_back(std::move(one));
            ++index;
        }
    } catch (const BadField& bad) {
        return R::failure("answered with a malformed " + bad.what + " in result " +
                          std::to_string(index + 1));
    }
    return R::success(std::move(series));
}

} // namespace headroom
