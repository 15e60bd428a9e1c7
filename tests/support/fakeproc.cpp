// SPDX-License-Identifier: GPL-3.0-or-later
// A stand-in program for tests: installed under any name (cargo, rustc,
// "my (odd) proc"), it holds some memory, starts the children it is told to,
// says when it is ready, and sleeps.
//
//   fakeproc [--mem MiB] [--sleep SECONDS] [--ignore-term] [{ CHILD ARGS... }]...
//            [--forker FILE] [--threads N FILE] [--chain N] [--reexec-on-usr1]
//
// --forker FILE: trap SIGTERM and fork a child every few milliseconds (at most
//   300); each child ignores SIGTERM and starts one grandchild that does too.
//   Every pid made is appended to FILE, by the parent and by the child itself.
// --threads N FILE: start N more threads and write their thread ids to FILE.
// --chain N: a chain of N processes, each the parent of the next; only the
//   last one says it is ready.
// --reexec-on-usr1: on SIGUSR1, exec this same program again with the same
//   arguments plus "--generation-two" (the name and executable stay the same).
//
// Other arguments are ignored so command lines can look real. A child name
// without a slash is looked up next to this executable.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::string selfDir()
{
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return ".";
    path[n] = '\0';
    std::string text(path);
    return text.substr(0, text.rfind('/'));
}

void markReady()
{
    const char* dir = std::getenv("HEADROOM_FAKEPROC_READY_DIR");
    if (!dir)
        return;
    const std::string file = std::string(dir) + "/" + std::to_string(::getpid());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        ::close(fd);
}

void appendPid(const std::string& file, long pid)
{
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    const std::string line = std::to_string(pid) + "\n";
    if (::write(fd, line.data(), line.size()) < 0) {
    }
    ::close(fd);
}

volatile std::sig_atomic_t reexecRequested = 0;

void onTerm(int) {}
void onUsr1(int)
{
    reexecRequested = 1;
}

[[noreturn]] void sleepForever()
{
    for (;;)
        ::pause();
}

// Keeps forking until it is frozen or killed; SIGTERM does not stop it.
[[noreturn]] void runForker(const std::string& file)
{
    struct sigaction action {};
    action.sa_handler = onTerm;
    ::sigaction(SIGTERM, &action, nullptr);
    markReady();
    for (int made = 0; made < 300; ++made) {
        const pid_t child = ::fork();
        if (child == 0) {
            std::signal(SIGTERM, SIG_IGN);
            appendPid(file, ::getpid());
            const pid_t grandchild = ::fork();
            if (grandchild == 0) {
                appendPid(file, ::getpid());
                sleepForever();
            }
            if (grandchild > 0)
                appendPid(file, grandchild);
            sleepForever();
        }
        if (child > 0)
            appendPid(file, child);
        ::usleep(5000);
    }
    sleepForever();
}

} // namespace

int main(int argc, char** argv)
{
    long memMiB = 4;
    long sleepSeconds = 120;
    bool ignoreTerm = false;
    std::string forkerFile;
    long threadCount = 0;
    std::string threadFile;
    long chain = 0;
    bool reexec = false;
    std::vector<std::vector<std::string>> children;

    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mem" && i + 1 < argc) {
            memMiB = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--sleep" && i + 1 < argc) {
            sleepSeconds = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--ignore-term") {
            ignoreTerm = true;
        } else if (arg == "--forker" && i + 1 < argc) {
            forkerFile = argv[++i];
        } else if (arg == "--threads" && i + 2 < argc) {
            threadCount = std::strtol(argv[++i], nullptr, 10);
            threadFile = argv[++i];
        } else if (arg == "--chain" && i + 1 < argc) {
            chain = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--reexec-on-usr1") {
            reexec = true;
        } else if (arg == "{") {
            std::vector<std::string> child;
            int depth = 1;
            for (++i; i < argc; ++i) {
                const std::string word = argv[i];
                if (word == "{")
                    ++depth;
                if (word == "}" && --depth == 0)
                    break;
                child.push_back(word);
            }
            if (!child.empty())
                children.push_back(child);
        }
    }

    if (ignoreTerm)
        std::signal(SIGTERM, SIG_IGN);
    // Let finished children vanish instead of lingering as zombies.
    std::signal(SIGCHLD, SIG_IGN);

    if (!forkerFile.empty())
        runForker(forkerFile);
    if (chain > 1) {
        // Each link forks the next and waits; no exec, so a long chain starts
        // fast. Each link must run once to fork the next: on a machine busy
        // with builds that waits for the scheduler every time, unless the
        // links go first (allowed for root only; otherwise it just waits).
        if (::setpriority(PRIO_PROCESS, 0, -10) != 0) {
        }
        for (long link = 1; link < chain; ++link) {
            const pid_t next = ::fork();
            if (next != 0)
                sleepForever();
        }
        markReady();
        sleepForever();
    }
    if (reexec) {
        struct sigaction action {};
        action.sa_handler = onUsr1;
        ::sigaction(SIGUSR1, &action, nullptr);
    }
    if (threadCount > 0) {
        std::string tids;
        for (long k = 0; k < threadCount; ++k)
            std::thread(sleepForever).detach();
        // The ids of the threads this process has besides the main one.
        const std::string taskDir = "/proc/self/task";
        if (auto* d = ::opendir(taskDir.c_str())) {
            while (auto* e = ::readdir(d)) {
                const long tid = std::strtol(e->d_name, nullptr, 10);
                if (tid > 0 && tid != ::getpid())
                    tids += std::to_string(tid) + "\n";
            }
            ::closedir(d);
        }
        const std::string partial = threadFile + ".part";
        const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (::write(fd, tids.data(), tids.size()) < 0) {
            }
            ::close(fd);
            ::rename(partial.c_str(), threadFile.c_str());
        }
    }

    const std::size_t bytes = static_cast<std::size_t>(memMiB > 0 ? memMiB : 0) * 1024 * 1024;
    char* memory = bytes ? static_cast<char*>(std::malloc(bytes)) : nullptr;
    if (memory)
        std::memset(memory, 0x5A, bytes);

    const std::string dir = selfDir();
    for (const auto& child : children) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            std::signal(SIGCHLD, SIG_DFL);
            std::signal(SIGTERM, SIG_DFL);
            std::string program = child.front();
            if (program.find('/') == std::string::npos)
                program = dir + "/" + program;
            std::vector<char*> args;
            args.push_back(const_cast<char*>(program.c_str()));
            for (std::size_t k = 1; k < child.size(); ++k)
                args.push_back(const_cast<char*>(child[k].c_str()));
            args.push_back(nullptr);
            ::execv(program.c_str(), args.data());
            std::perror(program.c_str());
            ::_exit(127);
        }
    }

    markReady();
    const std::time_t end = std::time(nullptr) + sleepSeconds;
    while (std::time(nullptr) < end) {
        ::sleep(1);
        if (reexecRequested) {
            std::vector<char*> again(argv, argv + argc);
            char marker[] = "--generation-two";
            again.push_back(marker);
            again.push_back(nullptr);
            // By the same path, so the kernel keeps the same name (comm).
            char self[4096];
            const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
            if (n > 0) {
                self[n] = '\0';
                ::execv(self, again.data());
            }
        }
    }
    std::free(memory);
    return 0;
}
