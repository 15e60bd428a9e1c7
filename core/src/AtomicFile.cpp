// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/AtomicFile.h"

#include "headroom/Platform.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace headroom {

namespace fs = std::filesystem;

Result<bool> writeFileAtomically(const fs::path& path, const std::string& text, unsigned mode)
{
    std::error_code made;
    fs::create_directories(path.parent_path(), made);
    static std::atomic<unsigned> serial{0};
    fs::path temp = path;
    temp += ".tmp-" + std::to_string(platform::currentPid()) + "-" + std::to_string(serial++);
    std::FILE* file = nullptr;
#ifdef _WIN32
    (void)mode; // Windows files have no POSIX mode: the folder's permissions apply
    file = _wfopen(temp.c_str(), L"wb");
#else
    // 0600 by default whatever the umask lets through: the folder is the
    // user's alone anyway. Another mode is set exactly: the umask may have cut it.
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0 && mode != 0600 && ::fchmod(fd, static_cast<mode_t>(mode & 07777)) != 0) {
        const int why = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return Result<bool>::failure("cannot write " + temp.string() + ": " + std::strerror(why));
    }
    if (fd >= 0)
        file = ::fdopen(fd, "wb");
#endif
    if (!file)
        return Result<bool>::failure("cannot write " + temp.string() + ": " + std::strerror(errno));
    int error = 0;
    const auto check = [&error](bool ok) {
        if (!ok && error == 0)
            error = errno ? errno : EIO;
        return ok;
    };
    errno = 0;
    bool ok = check(std::fwrite(text.data(), 1, text.size(), file) == text.size());
    ok = check(std::fflush(file) == 0) && ok;
#ifdef _WIN32
    ok = check(_commit(_fileno(file)) == 0) && ok;
#else
    ok = check(::fsync(fileno(file)) == 0) && ok;
#endif
    ok = check(std::fclose(file) == 0) && ok;
    std::error_code ec;
    if (!ok) {
        fs::remove(temp, ec);
        return Result<bool>::failure("cannot write " + path.string() + ": " + std::strerror(error) +
                                     " (is the disk full?)");
    }
#ifdef _WIN32
    // A reader that has the file open without FILE_SHARE_DELETE (the C
    // runtime's fopen) makes the replacement fail for a moment: try again.
    bool renamed = false;
    for (int attempt = 0; attempt < 100 && !renamed; ++attempt) {
        renamed = ::MoveFileExW(temp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING) != 0;
        if (!renamed)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
#else
    const bool renamed = std::rename(temp.c_str(), path.c_str()) == 0;
#endif
    if (!renamed) {
        const int why = errno;
        fs::remove(temp, ec);
        return Result<bool>::failure("cannot replace " + path.string() + ": " + std::strerror(why));
    }
    return Result<bool>::success(true);
}

} // namespace headroom
