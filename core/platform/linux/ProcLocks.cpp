// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/ProcLocks.h"
#include "headroom/FsRoot.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace headroom::platform {

namespace fs = std::filesystem;

namespace {

void addLockFile(const fs::path& dir, std::vector<LockFileId>& out)
{
    struct stat st {};
    // lstat: a lock file that is a symlink is not cargo's; nothing is opened.
    if (::lstat((dir / ".cargo-lock").c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return;
    out.push_back({static_cast<std::uint32_t>(major(st.st_dev)), static_cast<std::uint32_t>(minor(st.st_dev)),
                   static_cast<std::uint64_t>(st.st_ino)});
}

// Sub-folders of `dir`, no symlinks, at most `limit`.
std::vector<fs::path> subfolders(const fs::path& dir, std::size_t limit)
{
    std::vector<fs::path> out;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (std::size_t seen = 0; !ec && it != fs::directory_iterator() && seen < 4 * limit;
         it.increment(ec), ++seen) {
        std::error_code sec;
        if (it->symlink_status(sec).type() == fs::file_type::directory)
            out.push_back(it->path());
        if (out.size() >= limit)
            break;
    }
    return out;
}

} // namespace

std::optional<std::vector<FileLockEntry>> readFileLocks(const fs::path& fsRoot)
{
    const fs::path path = underRoot(fsRoot, "/proc/locks");
    // Non-blocking so a fixture that is a FIFO cannot hang the sampler.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    constexpr std::size_t kMaxBytes = 4u << 20;
    std::string text;
    char buffer[16384];
    while (text.size() < kMaxBytes) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return parseProcLocks(text);
}

std::vector<LockFileId> findCargoLockFiles(const std::string& targetDir, const fs::path& fsRoot)
{
    std::vector<LockFileId> out;
    if (targetDir.empty())
        return out;
    // <target>/<profile>/.cargo-lock, and <target>/<triple>/<profile>/.cargo-lock with --target.
    for (const fs::path& level1 : subfolders(underRoot(fsRoot, targetDir), 32)) {
        addLockFile(level1, out);
        if (out.size() >= 64)
            break;
        const std::string name = level1.filename().string();
        if (name.find('-') == std::string::npos)
            continue; // a profile folder, not a target triple
        for (const fs::path& level2 : subfolders(level1, 16))
            addLockFile(level2, out);
    }
    return out;
}

} // namespace headroom::platform
