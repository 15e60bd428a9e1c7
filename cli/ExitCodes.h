// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The exit codes every command of headroom-cli shares; a command's own
// codes (3 and up) are named where they are used.

namespace headroom::cli {

inline constexpr int kExitFailed = 1; // the command could not do what was asked
inline constexpr int kExitUsage = 2;  // the command line is wrong: the message says how

// Whether standard input is a terminal a person can answer at.
bool stdinIsTerminal();

} // namespace headroom::cli
