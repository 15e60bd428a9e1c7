// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/ProcessRole.h"

#include "headroom/Words.h"

namespace headroom {

std::string_view roleId(ProcessRole role)
{
    return roleWords(role).id;
}

std::optional<ProcessRole> roleFromId(std::string_view id)
{
    for (ProcessRole role : kAllRoles) {
        if (roleWords(role).id == id)
            return role;
    }
    return std::nullopt;
}

std::string_view roleNoun(ProcessRole role, bool plural)
{
    const RoleWords& words = roleWords(role);
    return plural ? words.plural : words.singular;
}

} // namespace headroom
