// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The words for process roles and states, written once: the CLI prints them,
// the window shows them (translated at its edge, with these as the source
// text), the core's own sentences use them.

#include "headroom/Process.h"
#include "headroom/ProcessRole.h"

#include <array>
#include <string_view>

namespace headroom {

struct RoleWords {
    std::string_view id;       // stable, for JSON and settings: "build-script"
    std::string_view singular; // in a sentence: "1 build script"
    std::string_view plural;   // in a sentence: "3 build scripts"
    std::string_view label;    // a table cell or a chart legend: "build script"
};

struct StateWords {
    char letter;           // as ps shows it: 'R', 'S', 'D', 'T', 'Z', 'I', '?'
    std::string_view word; // "running", "sleeping", "waiting (D)", "paused", ...
};

const RoleWords& roleWords(ProcessRole role);
const StateWords& stateWords(ProcessState state);

inline std::string_view roleLabel(ProcessRole role)
{
    return roleWords(role).label;
}
inline std::string_view stateWord(ProcessState state)
{
    return stateWords(state).word;
}

inline constexpr std::size_t kStateCount = 7;
inline constexpr std::array<ProcessState, kStateCount> kAllStates = {
    ProcessState::Running, ProcessState::Sleeping, ProcessState::DiskSleep, ProcessState::Stopped,
    ProcessState::Zombie,  ProcessState::Idle,     ProcessState::Unknown,
};

} // namespace headroom
