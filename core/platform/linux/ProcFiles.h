#pragma once

// Small wrappers over open/read/readlink relative to a directory descriptor,
// reporting errno instead of throwing: a process may vanish between any two
// calls, and that is an expected outcome, not an error.

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace headroom::procfs {

// An owned file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept
    {
        if (this != &other) {
            reset();
            fd_ = other.release();
        }
        return *this;
    }
    ~Fd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release()
    {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

// Reads the whole file `name` under `dirFd` into `out` (at most `limit`
// bytes). Returns 0 or the errno that stopped it.
inline int readFileAt(int dirFd, const char* name, std::string& out, std::size_t limit = 1u << 20)
{
    out.clear();
    Fd fd(::openat(dirFd, name, O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return errno;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return 0;
        out.append(buffer, static_cast<std::size_t>(n));
        if (out.size() >= limit)
            return 0;
    }
}

// Reads a small file (stat, statm) with one read into a caller's buffer;
// returns the byte count or -errno.
inline ssize_t readSmallFileAt(int dirFd, const char* name, char* buffer, std::size_t size)
{
    Fd fd(::openat(dirFd, name, O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return -errno;
    ssize_t n;
    do {
        n = ::read(fd.get(), buffer, size);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

inline int readLinkAt(int dirFd, const char* name, std::string& out)
{
    out.clear();
    char buffer[4096];
    const ssize_t n = ::readlinkat(dirFd, name, buffer, sizeof buffer);
    if (n < 0)
        return errno;
    out.assign(buffer, static_cast<std::size_t>(n));
    return 0;
}

// The process left between two reads.
inline bool vanished(int error)
{
    return error == ENOENT || error == ESRCH;
}

} // namespace headroom::procfs
