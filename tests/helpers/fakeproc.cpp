// SPDX-License-Identifier: GPL-3.0-or-later
// A stand-in program for tests: installed under any name (cargo, rustc,
// "my (odd) proc"), it holds some memory, starts the children it is told to,
// says when it is ready, and sleeps.
//
//   fakeproc [--mem MiB] [--sleep SECONDS] [--ignore-term] [{ CHILD ARGS... }]...
//
// Other arguments are ignored so command lines can look real. A child name
// without a slash is looked up next to this executable.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
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

} // namespace

int main(int argc, char** argv)
{
    long memMiB = 4;
    long sleepSeconds = 120;
    bool ignoreTerm = false;
    std::vector<std::vector<std::string>> children;

    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mem" && i + 1 < argc) {
            memMiB = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--sleep" && i + 1 < argc) {
            sleepSeconds = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--ignore-term") {
            ignoreTerm = true;
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
    while (std::time(nullptr) < end)
        ::sleep(1);
    std::free(memory);
    return 0;
}
