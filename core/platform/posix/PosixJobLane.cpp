// SPDX-License-Identifier: GPL-3.0-or-later
// A build's jobserver on POSIX systems (Linux, macOS): a named pipe holding
// one byte per token, which clients open by path ("fifo:PATH", GNU make >=
// 4.4, ninja >= 1.13, the jobserver crate of cargo and rustc). The lane keeps
// it open read-write and non-blocking for its whole life: tokens written into
// a fifo that nobody has open would be lost, and the lane itself never blocks
// on what a client does with the pipe.
#include "headroom/JobLane.h"
#include "headroom/RunRecord.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __APPLE__
#include <sys/filio.h>
#endif

namespace headroom {

namespace {

constexpr char kToken = '+';

std::string systemError(int error)
{
    return std::strerror(error);
}

bool hasWhitespace(const std::string& text)
{
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

} // namespace

struct JobLane::State {
    std::filesystem::path path;
    int fd = -1;
    dev_t device = 0;
    ino_t inode = 0;
    unsigned maxTokens = 0;
    unsigned granted = 0;

    // Bytes in the pipe now; 0 when the kernel cannot say.
    unsigned available() const
    {
        int n = 0;
        if (::ioctl(fd, FIONREAD, &n) != 0 || n < 0)
            return 0;
        return unsigned(n);
    }

    // Reads up to `count` tokens without blocking; returns how many it got.
    unsigned take(unsigned count) const
    {
        unsigned got = 0;
        char buffer[64];
        while (got < count) {
            const std::size_t want = std::min<std::size_t>(sizeof buffer, count - got);
            const ssize_t n = ::read(fd, buffer, want);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) // EAGAIN: a client took them first
                break;
            got += unsigned(n);
        }
        return got;
    }

    // Writes `count` tokens; returns how many went in.
    unsigned give(unsigned count) const
    {
        unsigned put = 0;
        char buffer[64];
        std::memset(buffer, kToken, sizeof buffer);
        while (put < count) {
            const std::size_t want = std::min<std::size_t>(sizeof buffer, count - put);
            const ssize_t n = ::write(fd, buffer, want);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) // EAGAIN: the pipe is full, which a few tokens never make it
                break;
            put += unsigned(n);
        }
        return put;
    }
};

JobLane::JobLane() : state_(std::make_unique<State>()) {}

JobLane::~JobLane()
{
    State& s = *state_;
    if (s.fd < 0)
        return;
    ::close(s.fd);
    // Only the fifo this lane made: someone may have replaced the name.
    struct stat st {};
    if (::lstat(s.path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode) && st.st_dev == s.device &&
        st.st_ino == s.inode)
        ::unlink(s.path.c_str());
}

Result<std::unique_ptr<JobLane>> JobLane::create(const std::filesystem::path& dir, const std::string& runId,
                                                 unsigned maxTokens)
{
    using R = Result<std::unique_ptr<JobLane>>;
    if (!isValidRunId(runId))
        return R::failure("cannot make a job lane for run \"" + runId +
                          "\": a run id is 1 to 64 letters, digits, '-' or '_'");
    const std::filesystem::path path = dir / (runId + ".fifo");
    // MAKEFLAGS is split at whitespace, so no client could find such a path.
    if (hasWhitespace(path.string()))
        return R::failure("cannot make a job lane in " + dir.string() +
                          ": jobserver clients cannot read a path with spaces; set HEADROOM_POOL_DIR to a "
                          "folder without spaces");

    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISFIFO(st.st_mode) || st.st_uid != ::geteuid())
            return R::failure("cannot make the job lane " + path.string() +
                              ": something that is not a job lane of yours is there; remove it");
        // A lane left by a supervisor that died: nobody can be using it.
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return R::failure("cannot remove the old job lane " + path.string() + ": " + systemError(errno));
    }
    if (::mkfifo(path.c_str(), 0600) != 0)
        return R::failure("cannot make the job lane " + path.string() + ": " + systemError(errno));

    // O_NOFOLLOW and the checks on the open descriptor: whatever is opened
    // must be the fifo just made, not something swapped in meanwhile.
    int fd = -1;
    do {
        fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        const int error = errno;
        ::unlink(path.c_str());
        return R::failure("cannot open the job lane " + path.string() + ": " + systemError(error));
    }
    struct stat opened {};
    if (::fstat(fd, &opened) != 0 || !S_ISFIFO(opened.st_mode) || opened.st_uid != ::geteuid()) {
        ::close(fd);
        return R::failure("cannot open the job lane " + path.string() +
                          ": it was replaced by something else while it was made; check who writes to " +
                          dir.string());
    }
    ::fchmod(fd, 0600);

    std::unique_ptr<JobLane> lane(new JobLane());
    State& s = *lane->state_;
    s.path = path;
    s.fd = fd;
    s.device = opened.st_dev;
    s.inode = opened.st_ino;
    s.maxTokens = maxTokens;
    return R::success(std::move(lane));
}

std::string JobLane::auth() const
{
    return "fifo:" + state_->path.string();
}

std::string JobLane::makeflags() const
{
    return " -j --jobserver-auth=" + auth();
}

unsigned JobLane::maxTokens() const
{
    return state_->maxTokens;
}

unsigned JobLane::granted() const
{
    return state_->granted;
}

unsigned JobLane::waiting()
{
    return std::min(state_->available(), state_->granted);
}

unsigned JobLane::steer(unsigned target)
{
    State& s = *state_;
    if (s.fd < 0)
        return 0;
    target = std::min(target, s.maxTokens);
    // A client that wrote back more than it read (or anyone else with
    // access) must not raise the build's parallelism: the extra goes.
    const unsigned inPipe = s.available();
    if (inPipe > s.granted)
        s.take(inPipe - s.granted);
    if (target > s.granted) {
        s.granted += s.give(target - s.granted);
    } else if (target < s.granted) {
        const unsigned waitingNow = std::min(s.available(), s.granted);
        s.granted -= s.take(std::min(s.granted - target, waitingNow));
    }
    return s.granted;
}

} // namespace headroom
