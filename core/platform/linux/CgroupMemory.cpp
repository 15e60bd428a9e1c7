// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/CgroupMemory.h"

#include <cerrno>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace headroom {

namespace {

constexpr std::size_t kSmallFile = 8192;
// Enough for any real cgroup tree; a deeper one is not walked further.
constexpr int kMaxGroupDepth = 32;
// v1 says "unlimited" with a huge page-aligned figure (9223372036854771712).
constexpr std::uint64_t kUnlimitedV1 = std::numeric_limits<std::uint64_t>::max() >> 2;

// Bounded and non-blocking: cgroup files are small, and a FIFO or a huge
// file put in their place is not ours to wait on or to read whole.
std::optional<std::string> readSmall(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return std::nullopt;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return std::nullopt;
    }
    std::string text(kSmallFile, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += std::size_t(n);
    }
    ::close(fd);
    text.resize(got);
    // Cut off at the bound: a half line would read as a wrong figure.
    if (got == kSmallFile) {
        const auto lastLine = text.find_last_of('\n');
        text.resize(lastLine == std::string::npos ? 0 : lastLine + 1);
    }
    return text;
}

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A plain decimal number and nothing else ("max", "-5", "12abc" and an
// overflowing figure are none).
std::optional<std::uint64_t> number(std::string_view text)
{
    while (!text.empty() && isSpace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back()))
        text.remove_suffix(1);
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const auto digit = std::uint64_t(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

std::optional<std::uint64_t> fileNumber(const std::string& path)
{
    if (auto text = readSmall(path))
        return number(*text);
    return std::nullopt;
}

// "key value" lines (memory.stat, memory.events, memory.oom_control).
std::optional<std::uint64_t> keyed(std::string_view text, std::string_view key)
{
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        const auto space = line.find(' ');
        if (space != std::string_view::npos && line.substr(0, space) == key)
            return number(line.substr(space + 1));
    }
    return std::nullopt;
}

bool exists(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string parentOf(const std::string& dir)
{
    const auto slash = dir.find_last_of('/');
    return slash == std::string::npos || slash == 0 ? std::string() : dir.substr(0, slash);
}

// The cgroup and its ancestors up to the mount root: `root` when the caller
// knows it, else as far as the folders are cgroups (have `marker`; a cgroup
// namespace's root is the top a container sees).
template <typename Visit>
void walkUp(const std::string& dir, const std::string& root, const char* marker, Visit visit)
{
    std::string at = dir;
    for (int depth = 0; depth < kMaxGroupDepth && !at.empty(); ++depth) {
        if (depth > 0 && root.empty() && !exists(at + "/" + marker))
            return;
        visit(at);
        if (!root.empty() && at.size() <= root.size())
            return;
        at = parentOf(at);
        if (!root.empty() && at.size() < root.size())
            return;
    }
}

void readV2Limits(CgroupMemoryState& s, const std::string& root)
{
    walkUp(s.dir, root, "cgroup.controllers", [&](const std::string& at) {
        // "max" (or anything that is not a number) is no limit at this level.
        if (auto max = fileNumber(at + "/memory.max");
            max && (!s.effectiveLimitBytes || *max < *s.effectiveLimitBytes)) {
            s.effectiveLimitBytes = max;
            s.limitDir = at;
        }
        if (auto high = fileNumber(at + "/memory.high");
            high && (!s.effectiveHighBytes || *high < *s.effectiveHighBytes)) {
            s.effectiveHighBytes = high;
            s.highDir = at;
        }
    });
}

void readV1Limits(CgroupMemoryState& s, const std::optional<std::string>& stat, const std::string& root)
{
    // The kernel's own answer for the whole path; it does not say who set it.
    std::optional<std::uint64_t> hierarchical =
        stat ? keyed(*stat, "hierarchical_memory_limit") : std::nullopt;
    std::optional<std::uint64_t> smallest;
    std::string smallestDir;
    std::string matchDir;
    walkUp(s.dir, root, "memory.limit_in_bytes", [&](const std::string& at) {
        const auto limit = fileNumber(at + "/memory.limit_in_bytes");
        if (!limit || *limit >= kUnlimitedV1)
            return;
        if (!smallest || *limit < *smallest) {
            smallest = limit;
            smallestDir = at;
        }
        if (hierarchical && *limit == *hierarchical && matchDir.empty())
            matchDir = at;
    });
    if (hierarchical && *hierarchical < kUnlimitedV1) {
        s.effectiveLimitBytes = hierarchical;
        // Set above the folders we can see (a container's parent): name the nearest we can.
        s.limitDir = !matchDir.empty() ? matchDir : !smallestDir.empty() ? smallestDir : s.dir;
    } else if (!hierarchical && smallest) {
        s.effectiveLimitBytes = smallest;
        s.limitDir = smallestDir;
    }
}

std::optional<CgroupMemoryState> readState(const std::string& dir, bool v2, const std::string& root)
{
    CgroupMemoryState s;
    s.dir = dir;
    s.v2 = v2;
    if (v2) {
        const auto events = readSmall(dir + "/memory.events");
        s.usageBytes = fileNumber(dir + "/memory.current");
        if (!events && !s.usageBytes)
            return std::nullopt;
        if (events) {
            s.oomKills = keyed(*events, "oom_kill");
            s.highEvents = keyed(*events, "high");
            s.maxEvents = keyed(*events, "max");
            s.oomEvents = keyed(*events, "oom");
        }
        s.peakBytes = fileNumber(dir + "/memory.peak");
        s.limitBytes = fileNumber(dir + "/memory.max");
        s.highBytes = fileNumber(dir + "/memory.high");
        if (auto stat = readSmall(dir + "/memory.stat"))
            s.inactiveFileBytes = keyed(*stat, "inactive_file");
        readV2Limits(s, root);
        return s;
    }
    const auto control = readSmall(dir + "/memory.oom_control");
    s.usageBytes = fileNumber(dir + "/memory.usage_in_bytes");
    if (!control && !s.usageBytes)
        return std::nullopt;
    if (control)
        s.oomKills = keyed(*control, "oom_kill");
    s.peakBytes = fileNumber(dir + "/memory.max_usage_in_bytes");
    s.limitBytes = fileNumber(dir + "/memory.limit_in_bytes");
    if (s.limitBytes && *s.limitBytes >= kUnlimitedV1)
        s.limitBytes.reset();
    const auto stat = readSmall(dir + "/memory.stat");
    if (stat)
        s.inactiveFileBytes = keyed(*stat, "total_inactive_file");
    readV1Limits(s, stat, root);
    return s;
}

// Where `path` (as /proc/<pid>/cgroup names it) is under the mount `root`.
// Inside a container without its own cgroup namespace the path is the
// host's ("/docker/<id>/x") while the mount shows the container's part
// only: for the caller's own cgroup, which must be there, the longest tail
// of the path that exists is the one. Another process's path is taken as
// it is: a scope that is gone must not read as its parent.
std::string locate(const std::string& root, const std::string& path, bool ownCgroup)
{
    const std::string exact = root + (path == "/" ? "" : path);
    if (!ownCgroup || exists(exact + "/"))
        return exact;
    std::string tail = path;
    for (int depth = 0; depth <= kMaxGroupDepth && !tail.empty(); ++depth) {
        const auto next = tail.find('/', 1);
        tail = next == std::string::npos ? std::string() : tail.substr(next);
        if (exists(root + tail + "/"))
            return root + tail;
    }
    return exact;
}

std::optional<CgroupMemoryState> readFromCgroupFile(const std::string& cgroupFile, const std::string& root,
                                                    bool ownCgroup)
{
    const auto text = readSmall(cgroupFile);
    if (!text)
        return std::nullopt;
    std::string_view rest = *text;
    std::optional<std::string> unified;
    while (!rest.empty()) {
        const auto end = rest.find('\n');
        const std::string line(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        const auto a = line.find(':');
        const auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos)
            continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        const std::string path = line.substr(b + 1);
        if (path.empty() || path.front() != '/' || path.find("..") != std::string::npos)
            continue;
        std::string_view list = controllers;
        while (!list.empty()) {
            const auto comma = list.find(',');
            if (list.substr(0, comma) == "memory") {
                const std::string v1Root = root + "/memory";
                auto s = readState(locate(v1Root, path, ownCgroup), false, v1Root);
                if (s)
                    s->container = isContainerCgroupPath(path);
                return s;
            }
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        if (line.rfind("0::", 0) == 0)
            unified = path;
    }
    if (!unified)
        return std::nullopt;
    auto s = readState(locate(root, *unified, ownCgroup), true, root);
    if (s)
        s->container = isContainerCgroupPath(*unified);
    return s;
}

} // namespace

std::optional<CgroupMemoryState> readCgroupMemory(const std::string& dir, bool v2)
{
    return readState(dir, v2, std::string());
}

std::optional<CgroupMemoryState> readProcessCgroupMemory(Pid pid, const std::string& root,
                                                         const std::string& procRoot)
{
    return readFromCgroupFile(procRoot + "/" + std::to_string(pid) + "/cgroup", root, false);
}

std::optional<CgroupMemoryState> readOwnCgroupMemory(const std::string& root, const std::string& procRoot)
{
    auto s = readFromCgroupFile(procRoot + "/self/cgroup", root, true);
    if (!s || s->container)
        return s;
    // A container with its own cgroup namespace sees "0::/": its runtime leaves a mark.
    constexpr std::string_view kMount = "/sys/fs/cgroup";
    if (root.size() >= kMount.size() &&
        root.compare(root.size() - kMount.size(), kMount.size(), kMount) == 0) {
        const std::string fsRoot = root.substr(0, root.size() - kMount.size());
        s->container = exists(fsRoot + "/.dockerenv") || exists(fsRoot + "/run/.containerenv");
    }
    return s;
}

} // namespace headroom
