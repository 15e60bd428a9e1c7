// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/UserScope.h"

#include "headroom/SafeText.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace headroom {

namespace {

bool exists(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string findOnPath(const std::string& program, const std::string& searchPath)
{
    std::size_t from = 0;
    while (from <= searchPath.size()) {
        std::size_t to = searchPath.find(':', from);
        if (to == std::string::npos)
            to = searchPath.size();
        std::string dir = searchPath.substr(from, to - from);
        if (dir.empty())
            dir = ".";
        const std::string candidate = dir + "/" + program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        from = to + 1;
    }
    return {};
}

// Bounded and without blocking: a FIFO put where a cgroup file should be is not waited on.
std::optional<std::string> readSmall(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string text(4096, '\0');
    const ssize_t n = ::read(fd, text.data(), text.size());
    ::close(fd);
    if (n < 0)
        return std::nullopt;
    text.resize(std::size_t(n));
    return text;
}

bool hasWord(const std::string& text, const std::string& word)
{
    std::size_t from = 0;
    while ((from = text.find(word, from)) != std::string::npos) {
        const bool startOk = from == 0 || text[from - 1] == ' ' || text[from - 1] == '\n';
        const std::size_t end = from + word.size();
        const bool endOk = end == text.size() || text[end] == ' ' || text[end] == '\n';
        if (startOk && endOk)
            return true;
        from = end;
    }
    return false;
}

// What systemd-run said, fit for one line of a log.
std::string oneLine(std::string text)
{
    for (char& c : text) {
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    }
    const auto first = text.find_first_not_of(' ');
    const auto last = text.find_last_not_of(' ');
    text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
    return safeText(text, 300);
}

// Runs `systemd-run --user --scope --quiet --collect -- true`: forked and
// exec'd (no shell), stdin/stdout on /dev/null, stderr kept for the reason,
// killed when it does not answer in time. Empty when it worked.
std::string tryScope(const std::string& systemdRun, std::chrono::milliseconds timeout)
{
    const std::vector<std::string> args = {systemdRun,  "--user", "--scope", "--quiet",
                                           "--collect", "--",     "true"};
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0)
        return std::string("cannot make a pipe: ") + std::strerror(errno);
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(err[0]);
        ::close(err[1]);
        return std::string("cannot start systemd-run: ") + std::strerror(e);
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        ::setpgid(0, 0);
        const int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
        }
        ::dup2(err[1], 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(err[1]);
    ::fcntl(err[0], F_SETFL, ::fcntl(err[0], F_GETFL) | O_NONBLOCK);

    std::string said;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    bool ended = false;
    bool open = true;
    while (!ended) {
        if (open) {
            pollfd p{err[0], POLLIN, 0};
            ::poll(&p, 1, 25);
            char buffer[512];
            ssize_t n = 0;
            while ((n = ::read(err[0], buffer, sizeof buffer)) > 0) {
                if (said.size() < 2048)
                    said.append(buffer, std::size_t(n));
            }
            open = n != 0; // EOF: nothing more to read
        } else {
            ::usleep(25000);
        }
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        ended = r == pid || (r < 0 && errno != EINTR);
        if (!ended && std::chrono::steady_clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            ::close(err[0]);
            const auto seconds =
                std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count() / 1000.0;
            char figure[32];
            std::snprintf(figure, sizeof figure, "%.1f", seconds);
            return std::string("`systemd-run --user --scope` did not answer within ") + figure +
                   " s (is the user manager stuck? `systemctl --user status` tells)";
        }
    }
    // What it wrote just before it ended.
    char buffer[512];
    for (ssize_t n = 0; said.size() < 2048 && (n = ::read(err[0], buffer, sizeof buffer)) > 0;)
        said.append(buffer, std::size_t(n));
    ::close(err[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    std::string why;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && said.empty())
        why = "systemd-run could not be run";
    else if (WIFEXITED(status))
        why = "systemd-run exited with code " + std::to_string(WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        why = "systemd-run was killed by signal " + std::to_string(WTERMSIG(status));
    const std::string text = oneLine(said);
    return "`systemd-run --user --scope` does not work here (" + why + (text.empty() ? "" : ": " + text) +
           ")";
}

void add(std::string& reasons, const std::string& reason)
{
    reasons += (reasons.empty() ? "" : "; ") + reason;
}

} // namespace

ScopeProbeEnvironment ScopeProbeEnvironment::current()
{
    ScopeProbeEnvironment e;
    const auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return v ? std::string(v) : std::string();
    };
    e.runtimeDir = env("XDG_RUNTIME_DIR");
    e.busAddress = env("DBUS_SESSION_BUS_ADDRESS");
    e.searchPath = env("PATH");
    if (e.searchPath.empty())
        e.searchPath = "/usr/local/bin:/usr/bin:/bin";
    e.uid = ::getuid();
    return e;
}

ScopeProbe probeUserScope()
{
    return probeUserScope(ScopeProbeEnvironment::current());
}

ScopeProbe probeUserScope(const ScopeProbeEnvironment& e)
{
    std::string reasons;
    const std::string uid = std::to_string(e.uid);

    const std::string systemdRun = findOnPath("systemd-run", e.searchPath);
    if (systemdRun.empty())
        add(reasons, "systemd-run is not installed (it comes with systemd; on a systemd desktop install the "
                     "package that has it)");

    if (!exists(e.systemdDir)) {
        add(reasons, "no systemd user manager runs for this user: systemd is not the init system here (no " +
                         e.systemdDir + "), so nothing starts one");
    } else if (e.runtimeDir.empty()) {
        const std::string expected = e.runtimeBase + "/" + uid;
        if (exists(expected + "/systemd/private"))
            add(reasons, "XDG_RUNTIME_DIR is not set, so systemd-run cannot find the user manager: export "
                         "XDG_RUNTIME_DIR=" +
                             expected + " (a login through systemd-logind sets it)");
        else
            add(reasons, "no systemd user manager runs for this user (XDG_RUNTIME_DIR is not set and " +
                             expected +
                             "/systemd/private does not exist): log in through a systemd-logind session, or "
                             "run `loginctl enable-linger` once to keep one running");
    } else if (!exists(e.runtimeDir + "/systemd/private") && e.busAddress.empty() &&
               !exists(e.runtimeDir + "/bus")) {
        add(reasons, "no systemd user manager runs for this user (" + e.runtimeDir +
                         "/systemd/private does not exist): `systemctl --user status` tells why; `loginctl "
                         "enable-linger` keeps one running");
    }

    if (const auto controllers = readSmall(e.cgroupRoot + "/cgroup.controllers"); !controllers) {
        if (exists(e.cgroupRoot + "/memory"))
            add(reasons,
                "memory is on cgroup v1 here (" + e.cgroupRoot +
                    "/memory): MemoryHigh and MemoryMax need the unified hierarchy (cgroup v2); boot "
                    "with systemd.unified_cgroup_hierarchy=1 to get it");
        else
            add(reasons, "there is no cgroup v2 hierarchy at " + e.cgroupRoot +
                             " (no cgroup.controllers): a scope needs the unified hierarchy with the memory "
                             "controller");
    } else if (!hasWord(*controllers, "memory")) {
        add(reasons, "the memory controller is not enabled on cgroup v2 here (" + e.cgroupRoot +
                         "/cgroup.controllers has no \"memory\")");
    } else if (const auto delegated = readSmall(e.cgroupRoot + "/user.slice/user-" + uid + ".slice/user@" +
                                                uid + ".service/cgroup.controllers");
               delegated && !hasWord(*delegated, "memory")) {
        add(reasons, "memory is not delegated to the user manager (user@" + uid +
                         ".service has no memory controller): add Delegate=cpu memory pids in a drop-in "
                         "(`systemctl edit user@.service`) and log in again");
    }

    if (!reasons.empty())
        return {false, reasons};
    if (std::string failed = tryScope(systemdRun, e.timeout); !failed.empty())
        return {false, failed};
    return {true, {}};
}

std::vector<std::string> scopedCommand(const ScopeOptions& scope, const std::vector<std::string>& argv)
{
    if (argv.empty())
        return argv;
    std::vector<std::string> out = {"systemd-run", "--user", "--scope", "--quiet", "--collect"};
    if (std::string unit = sanitizeUnitName(scope.unitName); !unit.empty()) {
        // systemd-run refuses a scope named like another kind of unit.
        const std::string suffix = ".scope";
        if (unit.size() < suffix.size() ||
            unit.compare(unit.size() - suffix.size(), suffix.size(), suffix) != 0)
            unit = unit.substr(0, 255 - suffix.size()) + suffix;
        out.push_back("--unit=" + unit);
    }
    if (scope.memoryHigh) {
        out.push_back("-p");
        out.push_back("MemoryHigh=" + std::to_string(*scope.memoryHigh));
    }
    if (scope.memoryMax) {
        out.push_back("-p");
        out.push_back("MemoryMax=" + std::to_string(*scope.memoryMax));
    }
    out.push_back("--");
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

} // namespace headroom
