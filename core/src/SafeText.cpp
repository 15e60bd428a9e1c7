// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/SafeText.h"

#include <cstdint>

namespace headroom {

namespace {

// One decoded step: the code point and its length in bytes, or length 0 for a
// byte that starts no valid sequence.
struct Step {
    char32_t codePoint = 0;
    std::size_t length = 0;
};

Step decode(std::string_view text, std::size_t i)
{
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80)
        return {lead, 1};
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t minimum = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
        minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
        minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
        minimum = 0x10000;
    } else {
        return {};
    }
    if (i + length > text.size())
        return {};
    for (std::size_t k = 1; k < length; ++k) {
        const auto c = static_cast<unsigned char>(text[i + k]);
        if ((c & 0xC0) != 0x80)
            return {};
        cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past Unicode's end are not
    // characters: a terminal may still act on them.
    if (cp < minimum || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return {};
    return {cp, length};
}

bool steersDisplay(char32_t cp)
{
    return cp < 0x20 || cp == 0x7F           // C0 controls and DEL
           || (cp >= 0x80 && cp <= 0x9F)     // C1 controls (8-bit CSI, OSC...)
           || cp == 0x061C                   // Arabic letter mark
           || cp == 0x200E || cp == 0x200F   // left-to-right / right-to-left marks
           || (cp >= 0x202A && cp <= 0x202E) // embeddings and overrides
           || (cp >= 0x2066 && cp <= 0x2069) // isolates
           || cp == 0x2028 || cp == 0x2029   // line and paragraph separators
           || cp == 0xFEFF;                  // byte order mark / zero-width no-break
}

constexpr std::string_view kEllipsis = "\xE2\x80\xA6"; // …

} // namespace

std::string safeText(std::string_view text, std::size_t maxBytes)
{
    std::string out;
    out.reserve(std::min(text.size(), maxBytes) + kEllipsis.size());
    for (std::size_t i = 0; i < text.size();) {
        const Step step = decode(text, i);
        const std::size_t advance = step.length == 0 ? 1 : step.length;
        const bool replace = step.length == 0 || steersDisplay(step.codePoint);
        const std::size_t added = replace ? 1 : step.length;
        if (out.size() + added > maxBytes) {
            out += kEllipsis;
            return out;
        }
        if (replace)
            out += '?';
        else
            out.append(text.substr(i, step.length));
        i += advance;
    }
    return out;
}

bool isSafeText(std::string_view text, std::size_t maxBytes)
{
    if (text.size() > maxBytes)
        return false;
    for (std::size_t i = 0; i < text.size();) {
        const Step step = decode(text, i);
        if (step.length == 0 || steersDisplay(step.codePoint))
            return false;
        i += step.length;
    }
    return true;
}

} // namespace headroom

namespace headroom {

namespace {

constexpr std::size_t kMaxSgrBytes = 64;      // "ESC[38;2;255;255;255;48;2;0;0;0;1;4m" fits many times
constexpr std::size_t kMaxStringBytes = 4096; // an OSC hyperlink with a long URL fits

std::size_t utf8Length(unsigned char lead)
{
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 0;
}

} // namespace

void TerminalTextFilter::take(unsigned char byte, std::string& out)
{
    for (;;) {
        switch (mode_) {
        case Mode::Text:
            if (byte == 0x1B) {
                mode_ = Mode::Escape;
            } else if (byte == '\n' || byte == '\r' || byte == '\t') {
                out += char(byte);
            } else if (byte < 0x20 || byte == 0x7F) {
                out += '?';
            } else if (byte < 0x80) {
                out += char(byte);
            } else if (const std::size_t length = utf8Length(byte); length == 0) {
                out += '?';
            } else {
                held_.assign(1, char(byte));
                need_ = length;
                mode_ = Mode::Utf8;
            }
            return;
        case Mode::Utf8:
            if ((byte & 0xC0) != 0x80) {
                // A character cut short: each of its bytes is one '?', as in safeText().
                out.append(held_.size(), '?');
                held_.clear();
                mode_ = Mode::Text;
                continue;
            }
            held_ += char(byte);
            if (held_.size() == need_) {
                const Step step = decode(held_, 0);
                if (step.length == 0)
                    out.append(held_.size(), '?');
                else if (steersDisplay(step.codePoint))
                    out += '?';
                else
                    out += held_;
                held_.clear();
                mode_ = Mode::Text;
            }
            return;
        case Mode::Escape:
            if (byte == '[') {
                held_ = "\x1b[";
                oversized_ = false;
                mode_ = Mode::Csi;
            } else if (byte == ']' || byte == 'P' || byte == 'X' || byte == '^' || byte == '_') {
                stringBytes_ = 0;
                mode_ = Mode::String;
            } else if (byte >= 0x20 && byte <= 0x2F) {
                mode_ = Mode::Intermediate;
            } else if (byte >= 0x30 && byte <= 0x7E) {
                mode_ = Mode::Text; // a two-byte sequence (ESC c resets the terminal): dropped
            } else if (byte != 0x1B) {
                mode_ = Mode::Text; // not a sequence: the ESC goes, the byte is read as text
                continue;
            }
            return;
        case Mode::Intermediate:
            if (byte >= 0x20 && byte <= 0x2F)
                return;
            mode_ = Mode::Text;
            if (byte >= 0x30 && byte <= 0x7E)
                return; // the sequence's final byte (ESC ( B, ESC # 8): dropped with it
            continue;
        case Mode::Csi:
            if (byte >= 0x40 && byte <= 0x7E) {
                const bool colour = byte == 'm' && !oversized_ &&
                                    held_.find_first_not_of("0123456789;:", 2) == std::string::npos;
                if (colour)
                    out += held_ + 'm';
                held_.clear();
                mode_ = Mode::Text;
                return;
            }
            if (byte >= 0x20 && byte <= 0x3F) {
                if (held_.size() >= kMaxSgrBytes)
                    oversized_ = true;
                else
                    held_ += char(byte);
                return;
            }
            // A control or a high byte inside: the sequence is broken; drop it
            // and read the byte as text (a line break stays a line break).
            held_.clear();
            mode_ = Mode::Text;
            continue;
        case Mode::String:
            if (byte == 0x07) {
                mode_ = Mode::Text; // BEL ends an OSC as xterm reads it
            } else if (byte == 0x1B) {
                mode_ = Mode::StringEscape;
            } else if (byte == '\n' || ++stringBytes_ > kMaxStringBytes) {
                mode_ = Mode::Text;
                if (byte == '\n')
                    continue;
            }
            return;
        case Mode::StringEscape:
            if (byte == '\\') {
                mode_ = Mode::Text; // ESC \ is the string terminator
                return;
            }
            mode_ = Mode::Escape; // another sequence starts: the string ended with its ESC
            continue;
        }
        return;
    }
}

std::string TerminalTextFilter::feed(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() + held_.size());
    for (const char c : bytes)
        take(static_cast<unsigned char>(c), out);
    return out;
}

std::string TerminalTextFilter::finish()
{
    std::string out;
    if (mode_ == Mode::Utf8)
        out.append(held_.size(), '?');
    held_.clear();
    mode_ = Mode::Text;
    return out;
}

std::string terminalSafeText(std::string_view text)
{
    TerminalTextFilter filter;
    std::string out = filter.feed(text);
    out += filter.finish();
    return out;
}

} // namespace headroom
