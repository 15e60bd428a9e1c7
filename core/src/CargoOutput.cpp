// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/CargoOutput.h"

#include <charconv>

namespace headroom {

namespace {

std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool parseUnsigned(std::string_view text, unsigned& value)
{
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && ptr == text.data() + text.size();
}

// The value after "--crate-name " in a command line.
std::string crateName(std::string_view command)
{
    const auto at = command.find("--crate-name ");
    if (at == std::string_view::npos)
        return {};
    std::string_view rest = command.substr(at + 13);
    return std::string(rest.substr(0, rest.find_first_of(" `")));
}

bool killedBySigkill(std::string_view line)
{
    return line.find("signal: 9") != std::string_view::npos ||
           line.find("SIGKILL") != std::string_view::npos ||
           line.find("terminated with signal 9") != std::string_view::npos;
}

} // namespace

std::string stripAnsi(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\x1b') {
            out += c;
            continue;
        }
        if (i + 1 >= text.size())
            break;
        const char kind = text[i + 1];
        if (kind == '[') { // CSI: parameters, then one final byte 0x40-0x7E
            std::size_t j = i + 2;
            while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7E))
                ++j;
            i = j;
        } else if (kind == ']') { // OSC: until BEL or ESC backslash
            std::size_t j = i + 2;
            while (j < text.size() && text[j] != '\x07' &&
                   !(text[j] == '\x1b' && j + 1 < text.size() && text[j + 1] == '\\'))
                ++j;
            i = (j < text.size() && text[j] == '\x1b') ? j + 1 : j;
        } else {
            i += 1; // a two-byte escape
        }
    }
    return out;
}

std::optional<CargoProgress> parseProgressLine(std::string_view line)
{
    line = trimmed(line);
    if (!line.starts_with("Building"))
        return std::nullopt;
    const auto close = line.find(']');
    if (line.find('[') == std::string_view::npos || close == std::string_view::npos)
        return std::nullopt;
    std::string_view rest = trimmed(line.substr(close + 1));
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    const auto colon = rest.find(':', slash);
    CargoProgress progress;
    if (!parseUnsigned(rest.substr(0, slash), progress.done))
        return std::nullopt;
    const std::string_view total =
        rest.substr(slash + 1, colon == std::string_view::npos ? std::string_view::npos : colon - slash - 1);
    if (!parseUnsigned(trimmed(total), progress.total))
        return std::nullopt;
    if (colon != std::string_view::npos) {
        std::string_view names = rest.substr(colon + 1);
        while (!names.empty()) {
            const auto comma = names.find(',');
            std::string_view name = trimmed(names.substr(0, comma));
            if (name.ends_with("..."))
                name.remove_suffix(3); // cut by the progress width
            if (!name.empty())
                progress.compilingNow.emplace_back(name);
            if (comma == std::string_view::npos)
                break;
            names.remove_prefix(comma + 1);
        }
    }
    return progress;
}

std::optional<KilledProcessInfo> killedProcessIn(std::string_view raw)
{
    const std::string_view text = trimmed(raw);
    if (!killedBySigkill(text))
        return std::nullopt;
    KilledProcessInfo info;
    info.line = std::string(text);
    const auto tick = text.find('`');
    const auto endTick = tick == std::string_view::npos ? tick : text.find('`', tick + 1);
    std::string_view command = tick != std::string_view::npos && endTick != std::string_view::npos
                                   ? text.substr(tick + 1, endTick - tick - 1)
                                   : std::string_view{};
    info.crate = crateName(command);
    const bool linkerLine = text.find("terminated with signal") != std::string_view::npos ||
                            text.find("linking with") != std::string_view::npos ||
                            text.find("collect2") != std::string_view::npos;
    info.linker = linkerLine;
    if (linkerLine)
        info.what = "the linker";
    else if (!info.crate.empty())
        info.what = "rustc (crate " + info.crate + ")";
    else if (command.find("build-script") != std::string_view::npos)
        info.what = "a build script";
    else if (!command.empty())
        info.what = std::string(command.substr(0, command.find(' ')));
    else
        info.what = "a build process";
    return info;
}

void CargoOutputParser::feedLines(std::string_view lines)
{
    while (!lines.empty()) {
        const auto end = lines.find('\n');
        const std::string_view one = lines.substr(0, end);
        if (!one.empty())
            line(one);
        if (end == std::string_view::npos)
            break;
        lines.remove_prefix(end + 1);
    }
}

void CargoOutputParser::feed(std::string_view chunk)
{
    for (char c : chunk) {
        if (c == '\n' || c == '\r') {
            if (!partial_.empty())
                line(partial_);
            partial_.clear();
        } else {
            partial_ += c;
        }
    }
}

void CargoOutputParser::finish()
{
    if (!partial_.empty())
        line(partial_);
    partial_.clear();
}

void CargoOutputParser::line(std::string_view raw)
{
    const std::string clean = stripAnsi(raw);
    const std::string_view text = trimmed(clean);
    if (text.empty())
        return;
    if (auto progress = parseProgressLine(text)) {
        progress_ = std::move(progress);
        return;
    }
    const std::size_t number = lineCount_++;

    if (text.starts_with("Blocking waiting for file lock")) {
        waitingForLock_ = true;
        return;
    }
    if (text.starts_with("Compiling ") || text.starts_with("Checking ")) {
        waitingForLock_ = false;
        ++compiled_;
        return;
    }
    if (text.starts_with("Finished ")) {
        waitingForLock_ = false;
        finished_ = true;
        return;
    }

    if (auto killed = killedProcessIn(text)) {
        killed_.push_back(std::move(*killed));
        return;
    }

    if (awaitingLocation_) {
        if (text.starts_with("--> ")) {
            firstError_->location = std::string(trimmed(text.substr(4)));
            awaitingLocation_ = false;
            return;
        }
        if (!text.starts_with("|"))
            awaitingLocation_ = false;
    }
    if (!firstError_ && (text.starts_with("error[") || text.starts_with("error:"))) {
        // cargo's closing "could not compile" summarises; the real error came before it,
        // or there was none (a killed compiler).
        if (text.starts_with("error: could not compile"))
            return;
        firstError_ = CompileErrorInfo{std::string(text), {}};
        firstErrorLine_ = number;
        awaitingLocation_ = true;
    }
}

} // namespace headroom
