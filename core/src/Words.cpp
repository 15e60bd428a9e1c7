// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Words.h"

namespace headroom {
namespace {

// In the order of ProcessRole.
constexpr std::array<RoleWords, kRoleCount> kRoleWords = {{
    {"cargo", "cargo", "cargo", "cargo"},
    {"rustc", "rustc", "rustc", "rustc"},
    {"build-script", "build script", "build scripts", "build script"},
    {"linker", "linker", "linkers", "linker"},
    {"compiler", "C/C++ compiler", "C/C++ compilers", "compiler"},
    {"test", "test process", "test processes", "test"},
    {"build-tool", "build tool", "build tools", "build tool"},
    {"other", "other process", "other processes", "other"},
}};

// In the order of ProcessState.
constexpr std::array<StateWords, kStateCount> kStateWords = {{
    {'R', "running"},
    {'S', "sleeping"},
    {'D', "waiting (D)"},
    {'T', "paused"},
    {'Z', "zombie"},
    {'I', "idle"},
    {'?', "?"},
}};

static_assert(static_cast<std::size_t>(ProcessState::Unknown) + 1 == kStateCount);
static_assert(static_cast<std::size_t>(ProcessRole::Other) + 1 == kRoleCount);

} // namespace

const RoleWords& roleWords(ProcessRole role)
{
    const std::size_t index = roleIndex(role);
    return kRoleWords[index < kRoleCount ? index : roleIndex(ProcessRole::Other)];
}

const StateWords& stateWords(ProcessState state)
{
    const auto index = static_cast<std::size_t>(state);
    return kStateWords[index < kStateCount ? index : static_cast<std::size_t>(ProcessState::Unknown)];
}

} // namespace headroom
