// SPDX-License-Identifier: GPL-3.0-or-later
#include "PosixUsers.h"

#include <cerrno>
#include <pwd.h>
#include <vector>

namespace headroom::posix {

const std::string& UserNames::userName(std::uint32_t uid)
{
    auto it = names_.find(uid);
    if (it != names_.end())
        return it->second;
    std::string name = std::to_string(uid);
    passwd entry{};
    passwd* result = nullptr;
    // An entry that does not fit (ERANGE) gets a bigger buffer, up to 1 MiB.
    std::vector<char> buffer(4096);
    for (;;) {
        const int error =
            ::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &result);
        if (error == 0 && result && result->pw_name)
            name = result->pw_name;
        if (error != ERANGE || buffer.size() >= (1u << 20))
            break;
        buffer.resize(buffer.size() * 4);
    }
    return names_.emplace(uid, std::move(name)).first->second;
}

} // namespace headroom::posix
