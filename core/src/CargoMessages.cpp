// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/CargoMessages.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace headroom {

namespace {

using nlohmann::json;

// Field access that never throws: a missing field or one of another type
// reads as empty.
std::string stringAt(const json& object, const char* key)
{
    if (!object.is_object())
        return {};
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* objectAt(const json& object, const char* key)
{
    if (!object.is_object())
        return nullptr;
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? &*it : nullptr;
}

unsigned unsignedAt(const json& object, const char* key)
{
    if (!object.is_object())
        return 0;
    const auto it = object.find(key);
    return it != object.end() && it->is_number_unsigned()
               ? unsigned(std::min<std::uint64_t>(it->get<std::uint64_t>(), 0xffffffffu))
               : 0u;
}

bool boolAt(const json& object, const char* key)
{
    if (!object.is_object())
        return false;
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::vector<std::string> stringsAt(const json& object, const char* key)
{
    std::vector<std::string> out;
    if (!object.is_object())
        return out;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array())
        return out;
    for (const auto& item : *it) {
        if (item.is_string())
            out.push_back(item.get<std::string>());
    }
    return out;
}

CargoTarget targetOf(const json& message)
{
    CargoTarget t;
    if (const json* target = objectAt(message, "target")) {
        t.name = stringAt(*target, "name");
        t.kinds = stringsAt(*target, "kind");
    }
    return t;
}

// Deeper nesting than cargo ever writes is refused before parsing, so a line
// of ten thousand '[' costs one pass and no parse.
bool shallowEnough(std::string_view text, int maxDepth)
{
    int depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > maxDepth)
                return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

bool looksLikeMessage(std::string_view line)
{
    return !line.empty() && line.front() == '{';
}

std::string mebibytes(std::size_t bytes)
{
    return std::to_string(bytes >> 20) + " MiB";
}

} // namespace

bool CargoTarget::is(std::string_view kind) const
{
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool CargoDiagnostic::isError() const
{
    return level == "error" || level.starts_with("error:");
}

std::string CargoDiagnostic::headline() const
{
    std::string line = level;
    if (!code.empty() && isError())
        line += "[" + code + "]";
    return line + ": " + message;
}

std::string packageNameOf(std::string_view id)
{
    const auto hash = id.rfind('#');
    if (hash != std::string_view::npos) {
        std::string_view rest = id.substr(hash + 1);
        const auto at = rest.find('@');
        if (at != std::string_view::npos)
            return std::string(rest.substr(0, at));
        // "path+file:///tmp/demo#0.1.0": the name is the folder's.
        std::string_view path = id.substr(0, hash);
        const auto slash = path.rfind('/');
        return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    return std::string(id.substr(0, id.find(' ')));
}

const CargoDiagnostic* CargoMessageParser::firstError() const
{
    return firstError_ ? &diagnostics_[*firstError_] : nullptr;
}

const CargoArtifact* CargoMessageParser::artifactOf(std::string_view kind, std::string_view name) const
{
    for (auto it = artifacts_.rbegin(); it != artifacts_.rend(); ++it) {
        if (it->target.name == name && it->target.is(kind))
            return &*it;
    }
    return nullptr;
}

std::string CargoMessageParser::ignoredNote() const
{
    const std::size_t n = ignoredLines();
    if (n == 0)
        return {};
    std::string note = std::to_string(n) +
                       (n == 1 ? " line that looked like a cargo message was"
                               : " lines that looked like cargo messages were") +
                       " not read as messages:";
    if (malformed_)
        note += " " + std::to_string(malformed_) + " not a valid message";
    if (malformed_ && tooLong_)
        note += ",";
    if (tooLong_)
        note += " " + std::to_string(tooLong_) + " longer than " + mebibytes(kMaxMessageLine);
    return note + ".";
}

CargoMessageParser::Text CargoMessageParser::feed(std::string_view chunk)
{
    Text out;
    while (!chunk.empty()) {
        const auto end = chunk.find('\n');
        const std::string_view piece = chunk.substr(0, end);
        if (!overflow_ && partial_.size() + piece.size() >= kMaxMessageLine) {
            const bool message = !continued_ && looksLikeMessage(partial_.empty() ? piece : partial_);
            if (message) {
                overflow_ = true; // dropped up to its end, never held
                partial_.clear();
            } else {
                // Program output without an end: shown in pieces, never held without bound.
                partial_.append(piece);
                std::string_view held = partial_;
                while (held.size() >= kMaxMessageLine) {
                    const std::string_view slice = held.substr(0, kMaxMessageLine);
                    out.log.append(slice).push_back('\n');
                    out.other.append(slice).push_back('\n');
                    held.remove_prefix(slice.size());
                }
                partial_ = std::string(held);
                continued_ = true;
            }
        } else if (!overflow_) {
            partial_.append(piece);
        }
        if (end == std::string_view::npos)
            break;
        if (overflow_) {
            ++tooLong_;
            out.log +=
                "[a line of cargo output longer than " + mebibytes(kMaxMessageLine) + " was left out]\n";
        } else if (continued_) {
            if (!partial_.empty()) {
                out.log.append(partial_).push_back('\n');
                out.other.append(partial_).push_back('\n');
            }
        } else {
            line(partial_, out);
        }
        overflow_ = continued_ = false;
        partial_.clear();
        chunk.remove_prefix(end + 1);
    }
    return out;
}

CargoMessageParser::Text CargoMessageParser::finish()
{
    if (partial_.empty() && !overflow_)
        return {};
    return feed("\n");
}

void CargoMessageParser::line(std::string_view text, Text& out)
{
    std::string_view body = text;
    if (!body.empty() && body.back() == '\r')
        body.remove_suffix(1);
    if (looksLikeMessage(body) && message(body, out))
        return;
    out.log.append(text);
    out.log += '\n';
    out.other.append(text);
    out.other += '\n';
}

bool CargoMessageParser::message(std::string_view text, Text& out)
{
    if (!shallowEnough(text, kMaxDepth)) {
        ++malformed_;
        return false;
    }
    // No exceptions: invalid JSON, invalid UTF-8 in a string, or trailing
    // bytes give a discarded value.
    const json m = json::parse(text.begin(), text.end(), nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
        ++malformed_;
        return false;
    }
    const std::string reason = stringAt(m, "reason");
    if (reason.empty()) {
        // JSON, but not cargo's: a test harness's or the program's own.
        return false;
    }
    ++messages_;
    if (reason == "compiler-message") {
        CargoDiagnostic d;
        d.packageId = stringAt(m, "package_id");
        d.target = targetOf(m);
        if (const json* msg = objectAt(m, "message")) {
            d.level = stringAt(*msg, "level");
            d.message = stringAt(*msg, "message");
            d.rendered = stringAt(*msg, "rendered");
            if (const json* code = objectAt(*msg, "code"))
                d.code = stringAt(*code, "code");
            const auto spans = msg->find("spans");
            if (spans != msg->end() && spans->is_array()) {
                for (const auto& span : *spans) {
                    if (!span.is_object() || !boolAt(span, "is_primary"))
                        continue;
                    const std::string file = stringAt(span, "file_name");
                    if (!file.empty())
                        d.location = file + ":" + std::to_string(unsignedAt(span, "line_start")) + ":" +
                                     std::to_string(unsignedAt(span, "column_start"));
                    break;
                }
            }
        }
        if (d.isError())
            ++errors_;
        else if (d.level == "warning")
            ++warnings_;
        // What a terminal shows: the rendered text (it ends in a line break).
        const std::string& shown = d.rendered.empty() ? d.headline() + "\n" : d.rendered;
        out.log += shown;
        if (!out.log.ends_with('\n'))
            out.log += '\n';
        // A linker killed by signal 9 is told in a diagnostic's note.
        const std::string plain = stripAnsi(shown);
        std::string_view rest = plain;
        while (!rest.empty() && killed_.size() < kMaxKept) {
            const auto end = rest.find('\n');
            if (auto k = killedProcessIn(rest.substr(0, end))) {
                killed_.push_back(std::move(*k));
                break;
            }
            if (end == std::string_view::npos)
                break;
            rest.remove_prefix(end + 1);
        }
        if (diagnostics_.size() < kMaxKept) {
            if (!firstError_ && d.isError())
                firstError_ = diagnostics_.size();
            diagnostics_.push_back(std::move(d));
        }
    } else if (reason == "compiler-artifact") {
        if (artifacts_.size() < kMaxKept) {
            CargoArtifact a;
            a.packageId = stringAt(m, "package_id");
            a.target = targetOf(m);
            a.filenames = stringsAt(m, "filenames");
            a.executable = stringAt(m, "executable");
            a.fresh = boolAt(m, "fresh");
            artifacts_.push_back(std::move(a));
        }
    } else if (reason == "build-script-executed") {
        if (buildScripts_.size() < kMaxKept)
            buildScripts_.push_back({stringAt(m, "package_id"), stringAt(m, "out_dir")});
    } else if (reason == "build-finished") {
        const auto it = m.find("success");
        if (it != m.end() && it->is_boolean())
            buildFinished_ = it->get<bool>();
    }
    return true;
}

} // namespace headroom
