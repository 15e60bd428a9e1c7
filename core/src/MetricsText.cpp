// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MetricsText.h"

#include "headroom/SafeText.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <locale>
#include <sstream>

namespace headroom {

std::optional<double> parseMetricValue(std::string_view t)
{
    if (t.empty())
        return std::nullopt;
    const auto same = [t](std::string_view word) {
        if (t.size() != word.size())
            return false;
        for (std::size_t k = 0; k < t.size(); ++k)
            if ((t[k] | 0x20) != (word[k] | 0x20))
                return false;
        return true;
    };
    if (same("nan"))
        return std::numeric_limits<double>::quiet_NaN();
    if (same("+inf") || same("inf") || same("+infinity") || same("infinity"))
        return std::numeric_limits<double>::infinity();
    if (same("-inf") || same("-infinity"))
        return -std::numeric_limits<double>::infinity();
    std::string_view digits = t;
    if (digits.front() == '+')
        digits.remove_prefix(1);
    if (digits.empty())
        return std::nullopt;
    // Whole numbers, the common case, without any locale or allocation.
    std::int64_t whole = 0;
    {
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), whole);
        if (ec == std::errc() && end == digits.data() + digits.size())
            return static_cast<double>(whole);
    }
    for (char c : digits)
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
            return std::nullopt;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    double value = 0.0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    // Out of range (1e400) is refused, as Prometheus refuses it.
    if (ec != std::errc() || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
#else
    std::istringstream stream{std::string(digits)};
    stream.imbue(std::locale::classic());
    double value = 0.0;
    stream >> value;
    if (stream.fail() || stream.peek() != std::char_traits<char>::eof())
        return std::nullopt;
    return value;
#endif
}

namespace {

bool isNameStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isNameChar(char c)
{
    return isNameStart(c) || (c >= '0' && c <= '9');
}

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool validMetricName(std::string_view name)
{
    if (name.empty() || !(isNameStart(name[0]) || name[0] == ':'))
        return false;
    for (char c : name)
        if (!isNameChar(c) && c != ':')
            return false;
    return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*, and not one of the reserved "__" names.
bool validLabelName(std::string_view name)
{
    if (name.empty() || !isNameStart(name[0]) || name.starts_with("__"))
        return false;
    for (char c : name)
        if (!isNameChar(c))
            return false;
    return true;
}

// The suffixes a family's samples may carry (counters, histograms, summaries).
bool belongsTo(std::string_view sampleName, std::string_view family)
{
    if (sampleName == family)
        return true;
    if (!sampleName.starts_with(family))
        return false;
    const std::string_view suffix = sampleName.substr(family.size());
    for (std::string_view s : {"_total", "_bucket", "_count", "_sum", "_created", "_info"})
        if (suffix == s)
            return true;
    return false;
}

void appendDouble(std::string& out, double value)
{
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[64];
    // Whole numbers (byte counts, counts) exactly, as integers.
    if (value == std::floor(value) && std::fabs(value) < 9.0e18) {
        const auto [end, ec] =
            std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
        out.append(buffer, end);
        return;
    }
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    // The shortest text that reads back as the same double, whatever the locale.
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
#else
    std::ostringstream stream;
    stream.imbue(std::locale::classic());
    stream.precision(17);
    stream << value;
    out += stream.str();
#endif
}

// HELP text: \\ and \n escaped.
void appendHelp(std::string& out, std::string_view help)
{
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

// A label value: made fit to read (valid UTF-8, nothing that steers a
// terminal someone curls /metrics into, at most kMaxLabelValueBytes), then
// escaped as the format wants.
void appendLabelValue(std::string& out, std::string_view value)
{
    const bool fits = isSafeText(value, MetricsWriter::kMaxLabelValueBytes);
    const std::string safe = fits ? std::string() : safeText(value, MetricsWriter::kMaxLabelValueBytes);
    for (char c : fits ? value : std::string_view(safe)) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

std::string_view typeName(MetricType type)
{
    switch (type) {
    case MetricType::Gauge:
        return "gauge";
    case MetricType::Counter:
        return "counter";
    case MetricType::Untyped:
        break;
    }
    return "untyped";
}

} // namespace

std::string_view MetricSample::label(std::string_view key) const
{
    for (const auto& [k, v] : labels)
        if (k == key)
            return v;
    return {};
}

void MetricsWriter::family(std::string_view name, MetricType type, std::string_view help)
{
    if (!validMetricName(name))
        return;
    for (std::size_t i = 0; i < families_.size(); ++i) {
        if (families_[i].name == name) {
            // Begun again: it keeps its place, and its first HELP and TYPE.
            current_ = i;
            return;
        }
    }
    families_.push_back({std::string(name), type, std::string(help), {}});
    current_ = families_.size() - 1;
}

void MetricsWriter::sample(const MetricLabels& labels, double value)
{
    if (current_ < families_.size())
        sample(families_[current_].name, labels, value);
}

void MetricsWriter::sample(std::string_view name, const MetricLabels& labels, double value)
{
    if (!validMetricName(name))
        return;
    Family* target = nullptr;
    if (current_ < families_.size() && belongsTo(name, families_[current_].name))
        target = &families_[current_];
    for (auto it = families_.rbegin(); !target && it != families_.rend(); ++it)
        if (belongsTo(name, it->name))
            target = &*it;
    if (!target)
        return;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (!validLabelName(labels[i].first))
            return;
        for (std::size_t j = 0; j < i; ++j)
            if (labels[j].first == labels[i].first)
                return;
    }
    std::string& out = target->lines;
    out += name;
    if (!labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i > 0)
                out += ',';
            out += labels[i].first;
            out += "=\"";
            appendLabelValue(out, labels[i].second);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    appendDouble(out, value);
    out += '\n';
}

std::string MetricsWriter::text() const
{
    std::string out;
    std::size_t size = 0;
    for (const Family& f : families_)
        size += f.lines.size() + f.help.size() + 2 * f.name.size() + 32;
    out.reserve(size + 1);
    for (const Family& f : families_) {
        if (f.lines.empty())
            continue;
        out += "# HELP ";
        out += f.name;
        out += ' ';
        appendHelp(out, f.help);
        out += "\n# TYPE ";
        out += f.name;
        out += ' ';
        out += typeName(f.type);
        out += '\n';
        out += f.lines;
    }
    if (out.empty() || out.back() != '\n')
        out += '\n';
    return out;
}

std::string_view metricsContentType()
{
    return "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

class LineParser {
  public:
    LineParser(std::string_view line, std::size_t maxLabels) : s_(line), maxLabels_(maxLabels) {}

    // Empty on success, else what is wrong.
    std::string parse(MetricSample& out)
    {
        const std::string_view name = takeName(true);
        if (name.empty())
            return "expected a metric name, found \"" + excerpt() + "\"";
        out.name = std::string(name);
        bool spaced = skipBlanks();
        if (peek() == '{') {
            ++i_;
            if (std::string problem = labels(out.labels); !problem.empty())
                return problem;
            spaced = skipBlanks();
        }
        if (!spaced || i_ >= s_.size())
            return "expected a space and a value after " + safeText(out.name, 64);
        const std::string_view valueText = takeToken();
        const auto value = parseMetricValue(valueText);
        if (!value)
            return "\"" + safeText(valueText, 40) + "\" is not a number";
        out.value = *value;
        skipBlanks();
        if (i_ < s_.size()) {
            const std::string_view stamp = takeToken();
            std::int64_t ms = 0;
            const auto [end, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), ms);
            if (ec != std::errc() || end != stamp.data() + stamp.size())
                return "\"" + safeText(stamp, 40) + "\" is not a timestamp (milliseconds)";
            out.timestampMs = ms;
            skipBlanks();
            if (i_ < s_.size())
                return "unexpected \"" + excerpt() + "\" after the timestamp";
        }
        return {};
    }

  private:
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

    bool skipBlanks()
    {
        const std::size_t start = i_;
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t'))
            ++i_;
        return i_ > start;
    }

    std::string_view takeName(bool metric)
    {
        const std::size_t start = i_;
        if (i_ < s_.size() && (isNameStart(s_[i_]) || (metric && s_[i_] == ':')))
            ++i_;
        else
            return {};
        while (i_ < s_.size() && (isNameChar(s_[i_]) || (metric && s_[i_] == ':')))
            ++i_;
        return s_.substr(start, i_ - start);
    }

    std::string_view takeToken()
    {
        const std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t')
            ++i_;
        return s_.substr(start, i_ - start);
    }

    std::string excerpt() const { return safeText(s_.substr(i_, 40), 40); }

    std::string labels(MetricLabels& out)
    {
        for (;;) {
            skipBlanks();
            if (peek() == '}') {
                ++i_;
                return {};
            }
            const std::string_view key = takeName(false);
            if (key.empty())
                return "expected a label name, found \"" + excerpt() + "\"";
            skipBlanks();
            if (peek() != '=')
                return "expected = after the label " + std::string(key);
            ++i_;
            skipBlanks();
            if (peek() != '"')
                return "the value of label " + std::string(key) + " is not quoted";
            ++i_;
            std::string value;
            bool closed = false;
            while (i_ < s_.size()) {
                const char c = s_[i_++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c != '\\') {
                    value += c;
                    continue;
                }
                const char e = peek();
                ++i_;
                if (e == '\\')
                    value += '\\';
                else if (e == '"')
                    value += '"';
                else if (e == 'n')
                    value += '\n';
                else
                    return "the value of label " + std::string(key) + " has an unknown escape";
            }
            if (!closed)
                return "the value of label " + std::string(key) + " has no closing quote";
            for (const auto& [k, v] : out)
                if (k == key)
                    return "label " + std::string(key) + " is given twice";
            if (out.size() >= maxLabels_)
                return "more than " + std::to_string(maxLabels_) + " labels";
            out.emplace_back(std::string(key), std::move(value));
            skipBlanks();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == '}') {
                ++i_;
                return {};
            }
            return "expected , or } after the label " + std::string(key);
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::size_t maxLabels_;
};

bool looksLikeHtml(std::string_view text)
{
    std::size_t i = 0;
    // A byte order mark, then blanks, then '<': no metrics line starts so.
    if (text.starts_with("\xEF\xBB\xBF"))
        i = 3;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        ++i;
    return i < text.size() && text[i] == '<';
}

std::size_t lineOf(std::string_view text, std::size_t offset)
{
    std::size_t line = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i)
        line += text[i] == '\n';
    return line;
}

} // namespace

Result<std::vector<MetricSample>> parseMetricsText(std::string_view text, MetricsParseLimits limits)
{
    using R = Result<std::vector<MetricSample>>;
    if (text.size() > limits.maxBytes)
        return R::failure("the metrics are " + std::to_string(text.size()) + " bytes, more than the " +
                          std::to_string(limits.maxBytes) + " read");
    if (looksLikeHtml(text)) {
        const std::size_t at = text.find('<');
        return R::failure(
            "line " + std::to_string(lineOf(text, at)) +
            ": this is an HTML page, not Prometheus metrics (a login page or a proxy's error?)");
    }
    std::vector<MetricSample> samples;
    std::size_t lineNumber = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        std::size_t first = 0;
        while (first < line.size() && (line[first] == ' ' || line[first] == '\t'))
            ++first;
        line.remove_prefix(first);
        if (line.empty() || line.front() == '#')
            continue;
        if (samples.size() >= limits.maxSamples)
            return R::failure("line " + std::to_string(lineNumber) + ": more than " +
                              std::to_string(limits.maxSamples) + " samples");
        MetricSample sample;
        LineParser parser(line, limits.maxLabelsPerSample);
        if (std::string problem = parser.parse(sample); !problem.empty()) {
            const bool first = samples.empty();
            return R::failure("line " + std::to_string(lineNumber) + ": " + problem +
                              (first ? " (is this Prometheus metrics text?)" : ""));
        }
        samples.push_back(std::move(sample));
    }
    return R::success(std::move(samples));
}

} // namespace headroom
