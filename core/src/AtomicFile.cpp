// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/AtomicFile.h"

#include "headroom/Platform.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
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

#ifdef _WIN32
namespace {

// Windows refuses to open or replace a file while another handle's sharing
// mode forbids it; the writers and readers here hold theirs for a moment
// only. Calls `attempt` until it returns true, for half a second at most.
template <typename Attempt> bool retryBriefly(Attempt attempt)
{
    for (int n = 0; n < 100; ++n) {
        if (attempt())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

} // namespace
#endif

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
    const bool renamed = retryBriefly(
        [&] { return ::MoveFileExW(temp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING) != 0; });
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

std::string moveAsideDamaged(const fs::path& path)
{
    const auto with = [&path](const std::string& suffix) {
        fs::path p = path;
        p += suffix;
        return p;
    };
    fs::path aside = with(".corrupt");
    std::error_code ec;
    for (int n = 1; fs::exists(aside, ec) && n < 1000; ++n)
        aside = with(".corrupt-" + std::to_string(n));
    fs::rename(path, aside, ec);
    return ec ? "it could not be moved aside either (" + ec.message() + ")"
              : "it was moved aside to " + aside.string();
}

SmallFile readSmallFile(const fs::path& path, std::uintmax_t maxBytes)
{
    SmallFile file;
    // One more byte than allowed tells a file at the limit from a larger one;
    // the size comes from what was read, not from a look at the name before.
    const std::size_t want = std::size_t(std::min<std::uintmax_t>(maxBytes, SIZE_MAX - 1)) + 1;
    char buffer[16384];
#ifdef _WIN32
    HANDLE handle = INVALID_HANDLE_VALUE;
    DWORD error = 0;
    // Only a replacement under way is waited out: it is over in a moment.
    retryBriefly([&] {
        handle =
            ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                          nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (handle != INVALID_HANDLE_VALUE)
            return true;
        error = ::GetLastError();
        return error != ERROR_SHARING_VIOLATION && error != ERROR_ACCESS_DENIED &&
               error != ERROR_LOCK_VIOLATION;
    });
    if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND)
        return file;
    if (handle == INVALID_HANDLE_VALUE) {
        file.outcome = SmallFile::Outcome::Unreadable;
        file.why = error == ERROR_SHARING_VIOLATION || error == ERROR_LOCK_VIOLATION
                       ? "another program holds it open"
                   : error == ERROR_ACCESS_DENIED ? "access is denied"
                                                  : "Windows error " + std::to_string(error);
        return file;
    }
    bool ok = true;
    while (file.text.size() < want) {
        DWORD got = 0;
        const DWORD ask = DWORD(std::min<std::size_t>(sizeof buffer, want - file.text.size()));
        if (!::ReadFile(handle, buffer, ask, &got, nullptr)) {
            ok = false;
            break;
        }
        if (got == 0)
            break;
        file.text.append(buffer, got);
    }
    ::CloseHandle(handle);
#else
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return file;
        file.outcome = SmallFile::Outcome::Unreadable;
        file.why = std::strerror(errno);
        return file;
    }
    bool ok = true;
    while (file.text.size() < want) {
        const ssize_t got = ::read(fd, buffer, std::min<std::size_t>(sizeof buffer, want - file.text.size()));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            ok = false;
            file.why = std::strerror(errno);
            break;
        }
        if (got == 0)
            break;
        file.text.append(buffer, std::size_t(got));
    }
    ::close(fd);
#endif
    if (!ok) {
        file.outcome = SmallFile::Outcome::Unreadable;
        if (file.why.empty())
            file.why = "it cannot be read";
        file.text.clear();
    } else if (file.text.size() > maxBytes) {
        file.outcome = SmallFile::Outcome::TooLarge;
        file.why = "it is more than " + std::to_string(maxBytes) + " bytes";
        file.text.clear();
    } else {
        file.outcome = SmallFile::Outcome::Read;
    }
    return file;
}

} // namespace headroom
