// SPDX-License-Identifier: GPL-3.0-or-later
// How long a full snapshot takes as the process table grows, next to the bare
// minimum any /proc reader pays (open+read stat and statm of every pid) and to
// `ps -eo pid,ppid,rss,stat,etimes,comm,args` run as a whole process.
//
//   snapshot-bench [--counts 200,1000,3000] [--runs 15]
#include "headroom/SystemSampler.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0.0 : values[values.size() / 2];
}

// The least any /proc-based tool does per process.
std::size_t minimalScan()
{
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc");
    char path[300];
    char buffer[1024];
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        for (const char* file : {"stat", "statm"}) {
            std::snprintf(path, sizeof path, "/proc/%s/%s", e->d_name, file);
            const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            if (::read(fd, buffer, sizeof buffer) > 0 && file[4] == '\0')
                ++count;
            ::close(fd);
        }
    }
    ::closedir(dir);
    return count;
}

double runPs()
{
    const auto start = Clock::now();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const char* argv[] = {"ps", "-eo", "pid,ppid,rss,stat,etimes,comm,args", nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "ps", &actions, nullptr, const_cast<char**>(argv), environ) != 0)
        return -1.0;
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return msSince(start);
}

std::vector<pid_t> spawnSleepers(std::size_t n)
{
    std::vector<pid_t> pids;
    for (std::size_t i = 0; i < n; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                ::pause();
        }
        if (pid < 0) {
            std::fprintf(stderr, "fork failed after %zu processes: %s\n", i, std::strerror(errno));
            break;
        }
        pids.push_back(pid);
    }
    return pids;
}

void reap(const std::vector<pid_t>& pids)
{
    for (pid_t p : pids)
        ::kill(p, SIGKILL);
    for (pid_t p : pids)
        ::waitpid(p, nullptr, 0);
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::size_t> counts = {200, 1000, 3000};
    int runs = 15;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--counts") {
            counts.clear();
            std::string list = argv[i + 1];
            for (std::size_t pos = 0; pos <= list.size();) {
                const auto comma = list.find(',', pos);
                counts.push_back(std::stoul(list.substr(pos, comma - pos)));
                if (comma == std::string::npos)
                    break;
                pos = comma + 1;
            }
        } else if (arg == "--runs") {
            runs = std::max(3, std::atoi(argv[i + 1]));
        }
    }

    std::printf(
        "Snapshot cost, median of %d runs (wall time, ms). \"minimum\" = open+read stat and statm of every "
        "pid;\n\"warm\" = a full Headroom snapshot with a sampler that has seen the table before; \"cold\" = "
        "a new sampler;\n\"ps\" = ps -eo pid,ppid,rss,stat,etimes,comm,args as a whole process.\n\n",
        runs);
    std::printf("%8s %10s %10s %10s %10s %10s %12s %12s\n", "extra", "processes", "minimum", "warm",
                "warm/min", "cold", "ps", "warm us/proc");
    for (std::size_t n : counts) {
        const auto pids = spawnSleepers(n);
        std::vector<double> minimum, warm, cold, ps;
        std::size_t processes = 0;
        auto sampler = headroom::SystemSampler::create();
        (void)sampler->sample();
        for (int r = 0; r < runs; ++r) {
            auto t = Clock::now();
            processes = minimalScan();
            minimum.push_back(msSince(t));

            t = Clock::now();
            auto snapshot = sampler->sample();
            warm.push_back(msSince(t));
            if (!snapshot) {
                std::fprintf(stderr, "%s\n", snapshot.error().c_str());
                return 1;
            }

            auto fresh = headroom::SystemSampler::create();
            t = Clock::now();
            (void)fresh->sample();
            cold.push_back(msSince(t));

            ps.push_back(runPs());
        }
        const double warmMs = median(warm);
        const double minMs = median(minimum);
        std::printf("%8zu %10zu %10.2f %10.2f %9.2fx %10.2f %10.2f %12.2f\n", pids.size(), processes, minMs,
                    warmMs, warmMs / minMs, median(cold), median(ps), warmMs * 1000.0 / double(processes));
        std::fflush(stdout);
        reap(pids);
    }
    return 0;
}
