// SPDX-License-Identifier: GPL-3.0-or-later
// Starting a build's step on POSIX systems: fork + execvp with the standard
// streams on files, the child leading its own process group.
#include "headroom/ChildProcess.h"
#include "headroom/Platform.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

extern char** environ;

namespace headroom {

namespace {

// What the child tells the parent through the close-on-exec pipe: nothing
// when exec worked (the pipe just closes), else where it failed and errno.
enum class Stage : std::int32_t { Exec = 1, Chdir = 2, Streams = 3 };

struct Report {
    std::int32_t tag = 0;   // a Stage, or 'P' for the detached process's pid
    std::int64_t value = 0; // errno, or the pid
};

int openForAppend(const std::filesystem::path& path)
{
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

bool closeOnExecPipe(int fds[2])
{
    if (::pipe(fds) != 0)
        return false;
    for (int i = 0; i < 2; ++i)
        ::fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    return true;
}

// Async-signal-safe only: this runs between fork and exec.
void report(int fd, Stage stage, int error) noexcept
{
    Report r;
    r.tag = static_cast<std::int32_t>(stage);
    r.value = error;
    [[maybe_unused]] const auto written = ::write(fd, &r, sizeof r);
}

// Reads one report; false at the end of the stream (every writer gone).
bool readReport(int fd, Report& r)
{
    std::size_t got = 0;
    auto* bytes = reinterpret_cast<char*>(&r);
    while (got < sizeof r) {
        const ssize_t n = ::read(fd, bytes + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += std::size_t(n);
    }
    return true;
}

// The supervisor ignores SIGHUP and SIGPIPE and catches SIGTERM/SIGINT; an
// ignored signal stays ignored across exec, so the build gets the defaults
// back (a build that cannot die of SIGPIPE behaves differently).
void restoreSignals() noexcept
{
    struct sigaction byDefault {};
    byDefault.sa_handler = SIG_DFL;
    sigemptyset(&byDefault.sa_mask);
    for (int sig : {SIGHUP, SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGCHLD})
        ::sigaction(sig, &byDefault, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void closeIfOpen(int& fd)
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

struct PreparedCommand {
    std::vector<std::string> storage;
    std::vector<char*> argv;
    std::vector<std::string> envStorage;
    std::vector<char*> env; // empty: the inherited environment
};

// Filled in place: the pointers point into the strings it keeps.
void prepare(PreparedCommand& c, const std::vector<std::string>& argv,
             const std::map<std::string, std::string>& overrides, const std::vector<std::string>& unset = {})
{
    c.storage = argv;
    for (auto& s : c.storage)
        c.argv.push_back(s.data());
    c.argv.push_back(nullptr);
    if (!overrides.empty() || !unset.empty()) {
        for (char** e = environ; e && *e; ++e) {
            const std::string entry(*e);
            const auto eq = entry.find('=');
            // An entry without '=' has the whole entry as its name.
            const std::string name = eq == std::string::npos ? entry : entry.substr(0, eq);
            if (overrides.count(name) || std::find(unset.begin(), unset.end(), name) != unset.end())
                continue;
            c.envStorage.push_back(entry);
        }
        for (const auto& [name, value] : overrides)
            c.envStorage.push_back(name + "=" + value);
        for (auto& s : c.envStorage)
            c.env.push_back(s.data());
        c.env.push_back(nullptr);
    }
}

std::string failureText(const std::string& program, const std::filesystem::path& workingDir, const Report& r)
{
    const std::string why = std::strerror(int(r.value));
    switch (static_cast<Stage>(r.tag)) {
    case Stage::Chdir:
        return "cannot run " + program + " in " + workingDir.string() + ": " + why;
    case Stage::Streams:
        return "cannot run " + program + ": its output cannot be redirected: " + why;
    case Stage::Exec:
        break;
    }
    return "cannot run " + program + ": " + why;
}

} // namespace

struct ChildProcess::State {
    pid_t pid = -1;
    ProcessKey key;
    std::optional<ChildExit> exit;
    BuildContainment containment;
};

ChildProcess::ChildProcess() : state_(std::make_unique<State>()) {}
ChildProcess::~ChildProcess() = default;

ProcessKey ChildProcess::key() const
{
    return state_->key;
}

BuildContainment& ChildProcess::containment()
{
    return state_->containment;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::start(const ChildSpec& spec)
{
    using R = Result<std::unique_ptr<ChildProcess>>;
    if (spec.argv.empty() || spec.argv.front().empty())
        return R::failure("cannot run an empty command");
    const std::string& program = spec.argv.front();

    // Everything the child needs is made here: after fork only
    // async-signal-safe calls.
    PreparedCommand command;
    prepare(command, spec.argv, spec.environment, spec.unsetEnvironment);
    const std::string workingDir = spec.workingDir.string();
    char oomText[16] = {};
    int oomLength = 0;
#ifdef __linux__
    if (spec.oomScoreAdj >= 0)
        oomLength = std::snprintf(oomText, sizeof oomText, "%d", std::min(spec.oomScoreAdj, 1000));
#endif

    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out =
        spec.stdoutFile.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : openForAppend(spec.stdoutFile);
    if (out < 0) {
        const int error = errno;
        closeIfOpen(in);
        return R::failure("cannot run " + program + ": cannot open " + spec.stdoutFile.string() + ": " +
                          std::strerror(error));
    }
    int err = -1;
    if (spec.stderrFile.empty())
        err = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    else if (spec.stderrFile == spec.stdoutFile)
        err = ::fcntl(out, F_DUPFD_CLOEXEC, 3); // one file, one open file description
    else
        err = openForAppend(spec.stderrFile);
    if (err < 0 || in < 0) {
        const int error = errno;
        closeIfOpen(in);
        closeIfOpen(out);
        closeIfOpen(err);
        return R::failure("cannot run " + program + ": cannot open " + spec.stderrFile.string() + ": " +
                          std::strerror(error));
    }
    int pipeFds[2];
    if (!closeOnExecPipe(pipeFds)) {
        const int error = errno;
        closeIfOpen(in);
        closeIfOpen(out);
        closeIfOpen(err);
        return R::failure("cannot run " + program + ": " + std::strerror(error));
    }

    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipeFds[0]);
        if (spec.newProcessGroup)
            BuildContainment::prepareChild();
        restoreSignals();
        if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
            ::dup2(err, STDERR_FILENO) < 0) {
            report(pipeFds[1], Stage::Streams, errno);
            ::_exit(127);
        }
        if (oomLength > 0) {
            const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                [[maybe_unused]] const auto written = ::write(fd, oomText, std::size_t(oomLength));
                ::close(fd);
            }
        }
        if (!workingDir.empty() && ::chdir(workingDir.c_str()) != 0) {
            report(pipeFds[1], Stage::Chdir, errno);
            ::_exit(127);
        }
        if (!command.env.empty())
            environ = command.env.data();
        ::execvp(command.argv[0], command.argv.data());
        report(pipeFds[1], Stage::Exec, errno);
        ::_exit(127);
    }
    const int forkError = errno;
    ::close(pipeFds[1]);
    closeIfOpen(in);
    closeIfOpen(out);
    closeIfOpen(err);
    if (pid < 0) {
        ::close(pipeFds[0]);
        return R::failure("cannot run " + program + ": " + std::strerror(forkError));
    }
    Report r;
    const bool failed = readReport(pipeFds[0], r);
    ::close(pipeFds[0]);
    if (failed) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return R::failure(failureText(program, spec.workingDir, r));
    }

    std::unique_ptr<ChildProcess> child(new ChildProcess());
    child->state_->pid = pid;
    child->state_->key = ProcessKey{pid, 0};
    // Not reaped yet, so the pid still names this child (a zombie at worst).
    if (const auto id = platform::identify(pid))
        child->state_->key = id->key;
    if (spec.newProcessGroup)
        child->state_->containment.attach(pid);
    return R::success(std::move(child));
}

std::optional<ChildExit> ChildProcess::wait(std::chrono::milliseconds timeout)
{
    State& s = *state_;
    if (s.exit || s.pid <= 0)
        return s.exit;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(s.pid, &status, WNOHANG);
        if (done == s.pid) {
            ChildExit exit;
            if (WIFEXITED(status))
                exit.exitCode = WEXITSTATUS(status);
            else if (WIFSIGNALED(status))
                exit.signal = WTERMSIG(status);
            s.exit = exit;
            return s.exit;
        }
        if (done < 0 && errno != EINTR) {
            // Reaped elsewhere or not ours: how it ended is not known.
            s.exit = ChildExit{};
            return s.exit;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Result<Pid> startDetached(const std::vector<std::string>& argv, const std::filesystem::path& workingDir,
                          const std::filesystem::path& logFile)
{
    using R = Result<Pid>;
    if (argv.empty() || argv.front().empty())
        return R::failure("cannot run an empty command");
    const std::string& program = argv.front();
    PreparedCommand command;
    prepare(command, argv, {});
    const std::string dir = workingDir.string();
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = logFile.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : openForAppend(logFile);
    if (in < 0 || out < 0) {
        const int error = errno;
        closeIfOpen(in);
        closeIfOpen(out);
        return R::failure("cannot run " + program + ": cannot open " +
                          (logFile.empty() ? std::string("/dev/null") : logFile.string()) + ": " +
                          std::strerror(error));
    }
    int pipeFds[2];
    if (!closeOnExecPipe(pipeFds)) {
        const int error = errno;
        closeIfOpen(in);
        closeIfOpen(out);
        return R::failure("cannot run " + program + ": " + std::strerror(error));
    }
    const pid_t middle = ::fork();
    if (middle == 0) {
        ::close(pipeFds[0]);
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild != 0) {
            // The intermediate child: tell the caller the pid, then leave, so
            // the detached process is re-parented and nobody's child.
            Report r;
            r.tag = 'P';
            r.value = grandchild;
            if (grandchild < 0) {
                r.tag = static_cast<std::int32_t>(Stage::Exec);
                r.value = errno;
            }
            [[maybe_unused]] const auto written = ::write(pipeFds[1], &r, sizeof r);
            ::_exit(0);
        }
        restoreSignals();
        if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
            ::dup2(out, STDERR_FILENO) < 0) {
            report(pipeFds[1], Stage::Streams, errno);
            ::_exit(127);
        }
        if (!dir.empty() && ::chdir(dir.c_str()) != 0) {
            report(pipeFds[1], Stage::Chdir, errno);
            ::_exit(127);
        }
        ::execvp(command.argv[0], command.argv.data());
        report(pipeFds[1], Stage::Exec, errno);
        ::_exit(127);
    }
    const int forkError = errno;
    ::close(pipeFds[1]);
    closeIfOpen(in);
    closeIfOpen(out);
    if (middle < 0) {
        ::close(pipeFds[0]);
        return R::failure("cannot run " + program + ": " + std::strerror(forkError));
    }
    int status = 0;
    while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    Pid pid = -1;
    std::optional<Report> failure;
    Report r;
    while (readReport(pipeFds[0], r)) {
        if (r.tag == 'P')
            pid = Pid(r.value);
        else
            failure = r;
    }
    ::close(pipeFds[0]);
    if (failure)
        return R::failure(failureText(program, workingDir, *failure));
    if (pid <= 0)
        return R::failure("cannot run " + program + ": the detached process was not started");
    return R::success(pid);
}

std::filesystem::path currentExecutable()
{
#ifdef __APPLE__
    std::uint32_t size = 0;
    _NSGetExecutablePath(nullptr, &size);
    std::string buffer(size, '\0');
    if (_NSGetExecutablePath(buffer.data(), &size) != 0)
        return {};
    buffer.resize(std::strlen(buffer.c_str()));
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(buffer, ec);
    return ec ? std::filesystem::path(buffer) : canonical;
#else
    std::error_code ec;
    const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : path;
#endif
}

} // namespace headroom
