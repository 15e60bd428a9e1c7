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

// Build output on its way to a terminal: what the build may show but not do.
// Keeps valid UTF-8, \n \r \t and SGR colour sequences (ESC [ digits, ';' or
// ':' m — how compilers colour their messages); drops every other escape
// sequence whole (OSC title sets and hyperlinks, cursor moves, screen clears,
// DCS/APC strings, charset switches) and replaces every other control
// character, the display-steering characters safeText() replaces and every
// malformed byte with '?'. An unterminated string sequence ends at a line
// break or after 4096 bytes, so a stray ESC ] cannot swallow the output.
std::string terminalSafeText(std::string_view text);

// The same over a stream that arrives in pieces (a log read in chunks): a
// sequence or a character split between two pieces is kept whole.
class TerminalTextFilter {
  public:
    // The safe text of `bytes`; whatever may continue in the next piece is held back.
    std::string feed(std::string_view bytes);
    // The end of the stream: what is held back (an unfinished character becomes '?').
    std::string finish();

  private:
    enum class Mode { Text, Utf8, Escape, Intermediate, Csi, String, StringEscape };
    void take(unsigned char byte, std::string& out);
    Mode mode_ = Mode::Text;
    std::string held_;            // an unfinished character or SGR sequence
    std::size_t need_ = 0;        // Utf8: the character's length
    std::size_t stringBytes_ = 0; // String: how much of it was dropped so far
    bool oversized_ = false;      // Csi: too long to be kept
};

} // namespace headroom
