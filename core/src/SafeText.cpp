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
