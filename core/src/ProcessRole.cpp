// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/ProcessRole.h"

namespace headroom {

namespace {
struct RoleWords {
    std::string_view id;
    std::string_view singular;
    std::string_view plural;
};

constexpr std::array<RoleWords, kRoleCount> kWords = {{
    {"cargo", "cargo", "cargo"},
    {"rustc", "rustc", "rustc"},
    {"build-script", "build script", "build scripts"},
    {"linker", "linker", "linkers"},
    {"compiler", "C/C++ compiler", "C/C++ compilers"},
    {"test", "test process", "test processes"},
    {"build-tool", "build tool", "build tools"},
    {"other", "other process", "other processes"},
}};
} // namespace

std::string_view roleId(ProcessRole role)
{
    return kWords[roleIndex(role)].id;
}

std::optional<ProcessRole> roleFromId(std::string_view id)
{
    for (ProcessRole role : kAllRoles) {
        if (kWords[roleIndex(role)].id == id)
            return role;
    }
    return std::nullopt;
}

std::string_view roleNoun(ProcessRole role, bool plural)
{
    const auto& words = kWords[roleIndex(role)];
    return plural ? words.plural : words.singular;
}

} // namespace headroom
