// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// User names on POSIX systems (Linux, macOS), for the samplers of both.

#include <cstdint>
#include <string>
#include <unordered_map>

namespace headroom::posix {

// The name of each user id, looked up once (getpwuid_r) and kept: a process
// table holds a handful of owners, looked up on every sample. A uid without
// a passwd entry is named by its number. Not thread-safe, like the sampler
// that holds it.
class UserNames {
  public:
    const std::string& userName(std::uint32_t uid);

  private:
    std::unordered_map<std::uint32_t, std::string> names_;
};

} // namespace headroom::posix
