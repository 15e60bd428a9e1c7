// SPDX-License-Identifier: GPL-3.0-or-later
// Systems without a readable lock table: the lock state of a build stays
// unknown and the duplicate rule decides on the work it sees.
#include "headroom/ProcLocks.h"

namespace headroom::platform {

std::optional<std::vector<FileLockEntry>> readFileLocks(const std::filesystem::path&)
{
    return std::nullopt;
}

std::vector<LockFileId> findCargoLockFiles(const std::string&, const std::filesystem::path&)
{
    return {};
}

} // namespace headroom::platform
