// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace headroom {

// What a process controls (its name, argv, working folder, the files it points
// at) is hostile text. safeText() makes it fit to reach a terminal, a
// notification or a log line: it decodes UTF-8 strictly and replaces with '?'
// every byte or character that could steer the reader's display instead of
// being shown — C0 and C1 controls (ESC, CSI, OSC starters), DEL, bidirectional
// overrides and isolates, line and paragraph separators, and every malformed,
// overlong or surrogate sequence. Text longer than maxBytes is cut on a
// character boundary and ends with "…".
inline constexpr std::size_t kSafeTextDefaultMax = 4096;
std::string safeText(std::string_view text, std::size_t maxBytes = kSafeTextDefaultMax);

// True when safeText() would return the text unchanged (short enough, nothing
// to replace); lets hot paths skip the copy.
bool isSafeText(std::string_view text, std::size_t maxBytes = kSafeTextDefaultMax);

} // namespace headroom
