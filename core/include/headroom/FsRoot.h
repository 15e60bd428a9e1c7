// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>

namespace headroom {

// An absolute path as seen under another root: "/" (or empty) is the real
// file system; a fixture folder makes the same readers run on recorded trees.
inline std::filesystem::path underRoot(const std::filesystem::path& fsRoot, const std::filesystem::path& path)
{
    if (fsRoot.empty() || fsRoot == "/")
        return path;
    return fsRoot / path.relative_path();
}

} // namespace headroom
