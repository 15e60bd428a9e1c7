// SPDX-License-Identifier: GPL-3.0-or-later
// A build's jobserver on POSIX systems (Linux, macOS): a named pipe holding
// one byte per token, which clients open by path ("fifo:PATH", GNU make >=
// 4.4, ninja >= 1.13, the jobserver crate of cargo and rustc). The lane keeps
// it open read-write and non-blocking for its whole life: tokens written into
// a fifo that nobody has open would be lost, and the lane itself never blocks
// on what a client does with the pipe.
//
// Taking a token back needs a reader that waits: a client that wants one
// more (rustc's codegen threads, make, cargo's token thread) already waits
// for the pipe and reads a token written back at once, so a look now and
// then (FIONREAD, a read that does not block) rarely finds it. While the
// lane owes the pool tokens, a thread of its own waits in a blocking read()
// on a second descriptor of the fifo and takes returned tokens as they come;
// which waiter the kernel wakes first is not promised, so a token may take
// a few returns to come back. (cargo itself writes a token back only when
// it has no queued job to give it to: JobLane.cpp.)
//
// GNU make 4.3 cannot open a fifo by its path; it reads the older form, two
// descriptors it inherits ("--jobserver-fds=R,W"). So the lane also holds a
// read and a write descriptor on its fifo that are not close-on-exec, which
// every process started while the lane lives inherits at the same numbers
// (ChildProcess closes no stray descriptors), and makeflags() names them
// after the fifo. They are blocking, as make 4.3 expects of a jobserver
// pipe, and go with the lane. A process that holds a lane starts only its
// build's steps, so nothing else keeps them.
#include "headroom/JobLane.h"
#include "headroom/RunRecord.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <thread>
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

// A descriptor of the fifo for the build to inherit: blocking, not
// close-on-exec, numbered 3 or above (a child's 0, 1 and 2 are replaced by
// its standard streams), and the same fifo as `opened`. -1 on failure, errno
// set.
int clientDescriptor(const std::filesystem::path& path, int mode, const struct stat& opened)
{
    int fd = -1;
    do { // O_NONBLOCK only for the open: the lane's own descriptor is there, so it does not wait
        fd = ::open(path.c_str(), mode | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_dev != opened.st_dev || st.st_ino != opened.st_ino) {
        ::close(fd);
        errno = EEXIST;
        return -1;
    }
    if (fd < 3) {
        const int moved = ::fcntl(fd, F_DUPFD, 3); // F_DUPFD: not close-on-exec
        const int error = errno;
        ::close(fd);
        errno = error;
        fd = moved;
        if (fd < 0)
            return -1;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, 0) != 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

} // namespace

struct JobLane::State {
    std::filesystem::path path;
    int fd = -1;                           // non-blocking: the lane's own reads and writes
    int waitingFd = -1;                    // blocking: the reclaiming thread's read
    int clientRead = -1, clientWrite = -1; // inherited by the build: --jobserver-fds=R,W
    dev_t device = 0;
    ino_t inode = 0;
    unsigned maxTokens = 0;

    mutable std::mutex mutex; // guards what follows
    unsigned granted = 0;
    unsigned owed = 0; // tokens to take back as soon as a job returns one
    bool reclaiming = false;
    bool stopping = false;
    std::thread reclaimer;

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

    // Called with the mutex held, when tokens are owed.
    void startReclaiming()
    {
        if (reclaiming || waitingFd < 0)
            return;
        if (reclaimer.joinable())
            reclaimer.join(); // the last one has left its loop, so this is quick
        reclaiming = true;
        reclaimer = std::thread([this] { reclaim(); });
    }

    void reclaim()
    {
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (stopping || owed == 0) {
                    reclaiming = false;
                    return;
                }
            }
            char token = 0;
            const ssize_t n = ::read(waitingFd, &token, 1);
            if (n < 0 && errno == EINTR)
                continue;
            std::lock_guard<std::mutex> lock(mutex);
            if (n <= 0 || stopping) {
                // On stopping, the byte read is the one written to wake this
                // thread, or a returned token that leaves that one in its place.
                reclaiming = false;
                return;
            }
            if (owed > 0) {
                --owed;
                --granted;
            } else {
                give(1); // no longer owed: steer() gave more meanwhile
            }
        }
    }
};

JobLane::JobLane() : state_(std::make_unique<State>()) {}

JobLane::~JobLane()
{
    State& s = *state_;
    if (s.fd < 0)
        return;
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.stopping = true;
        wake = s.reclaiming;
    }
    if (wake)
        s.give(1);
    if (s.reclaimer.joinable())
        s.reclaimer.join();
    // Nobody can take more: what waits goes; jobs keep what they hold.
    s.take(s.available());
    ::close(s.clientWrite);
    ::close(s.clientRead);
    ::close(s.waitingFd);
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
    // The descriptor the reclaiming thread blocks on: the same fifo (its
    // device and inode checked), its own open file description.
    int waitingFd = -1;
    do {
        waitingFd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    } while (waitingFd < 0 && errno == EINTR);
    struct stat second {};
    if (waitingFd < 0 || ::fstat(waitingFd, &second) != 0 || second.st_dev != opened.st_dev ||
        second.st_ino != opened.st_ino) {
        const int error = waitingFd < 0 ? errno : EEXIST;
        if (waitingFd >= 0)
            ::close(waitingFd);
        ::close(fd);
        return R::failure("cannot open the job lane " + path.string() + ": " + systemError(error));
    }

    const int clientRead = clientDescriptor(path, O_RDONLY, opened);
    const int clientWrite = clientRead < 0 ? -1 : clientDescriptor(path, O_WRONLY, opened);
    if (clientWrite < 0) {
        const int error = errno;
        if (clientRead >= 0)
            ::close(clientRead);
        ::close(waitingFd);
        ::close(fd);
        ::unlink(path.c_str());
        return R::failure("cannot open the job lane " + path.string() +
                          " for the build: " + systemError(error));
    }

    std::unique_ptr<JobLane> lane(new JobLane());
    State& s = *lane->state_;
    s.path = path;
    s.fd = fd;
    s.waitingFd = waitingFd;
    s.clientRead = clientRead;
    s.clientWrite = clientWrite;
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
    return " -j --jobserver-auth=" + auth() + " --jobserver-fds=" + std::to_string(state_->clientRead) + "," +
           std::to_string(state_->clientWrite);
}

std::string JobLane::cargoMakeflags() const
{
    return " -j --jobserver-auth=" + std::to_string(state_->clientRead) + "," +
           std::to_string(state_->clientWrite);
}

unsigned JobLane::maxTokens() const
{
    return state_->maxTokens;
}

unsigned JobLane::granted() const
{
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->granted;
}

unsigned JobLane::waiting()
{
    std::lock_guard<std::mutex> lock(state_->mutex);
    return std::min(state_->available(), state_->granted);
}

unsigned JobLane::steer(unsigned target)
{
    State& s = *state_;
    if (s.fd < 0)
        return 0;
    std::lock_guard<std::mutex> lock(s.mutex);
    target = std::min(target, s.maxTokens);
    // A client that wrote back more than it read (or anyone else with
    // access) must not raise the build's parallelism: the extra goes.
    const unsigned inPipe = s.available();
    if (inPipe > s.granted)
        s.take(inPipe - s.granted);
    s.owed = 0;
    if (target > s.granted) {
        s.granted += s.give(target - s.granted);
    } else if (target < s.granted) {
        const unsigned waitingNow = std::min(s.available(), s.granted);
        s.granted -= s.take(std::min(s.granted - target, waitingNow));
        // What jobs hold now comes back when they return it.
        s.owed = s.granted - target;
        if (s.owed > 0)
            s.startReclaiming();
    }
    return s.granted;
}

} // namespace headroom
