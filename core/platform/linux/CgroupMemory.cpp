// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/CgroupMemory.h"

#include <fstream>
#include <limits>
#include <sstream>

namespace headroom {

namespace {

// Bounded: cgroup files are small, a FIFO or a huge file put there is not ours to read.
std::optional<std::string> readSmall(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::string text(8192, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(std::size_t(in.gcount()));
    return text;
}

std::optional<std::uint64_t> number(const std::string& text)
{
    std::uint64_t v = 0;
    std::istringstream in(text);
    if (!(in >> v))
        return std::nullopt;
    return v;
}

std::optional<std::uint64_t> keyed(const std::string& text, const std::string& key)
{
    std::istringstream in(text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v) {
        if (k == key)
            return v;
    }
    return std::nullopt;
}

} // namespace

std::optional<CgroupMemoryState> readCgroupMemory(const std::string& dir, bool v2)
{
    CgroupMemoryState s;
    s.dir = dir;
    s.v2 = v2;
    if (v2) {
        const auto events = readSmall(dir + "/memory.events");
        if (!events)
            return std::nullopt;
        s.oomKills = keyed(*events, "oom_kill");
        s.highEvents = keyed(*events, "high");
        s.maxEvents = keyed(*events, "max");
        s.oomEvents = keyed(*events, "oom");
        if (auto peak = readSmall(dir + "/memory.peak"))
            s.peakBytes = number(*peak);
        // "max" reads as none: no number there.
        if (auto max = readSmall(dir + "/memory.max"))
            s.limitBytes = number(*max);
        if (auto high = readSmall(dir + "/memory.high"))
            s.highBytes = number(*high);
        return s;
    }
    const auto control = readSmall(dir + "/memory.oom_control");
    if (!control)
        return std::nullopt;
    s.oomKills = keyed(*control, "oom_kill");
    if (auto peak = readSmall(dir + "/memory.max_usage_in_bytes"))
        s.peakBytes = number(*peak);
    if (auto limit = readSmall(dir + "/memory.limit_in_bytes")) {
        s.limitBytes = number(*limit);
        // v1 says "unlimited" with a huge page-aligned figure.
        if (s.limitBytes && *s.limitBytes >= (std::numeric_limits<std::uint64_t>::max() >> 2))
            s.limitBytes.reset();
    }
    return s;
}

std::optional<CgroupMemoryState> readProcessCgroupMemory(Pid pid, const std::string& root,
                                                         const std::string& procRoot)
{
    const auto text = readSmall(procRoot + "/" + std::to_string(pid) + "/cgroup");
    if (!text)
        return std::nullopt;
    std::istringstream in(*text);
    std::string line;
    std::optional<std::string> unified;
    while (std::getline(in, line)) {
        const auto a = line.find(':');
        const auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos)
            continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        const std::string path = line.substr(b + 1);
        if (path.find("..") != std::string::npos)
            continue;
        std::istringstream list(controllers);
        std::string c;
        while (std::getline(list, c, ',')) {
            if (c == "memory")
                return readCgroupMemory(root + "/memory" + (path == "/" ? "" : path), false);
        }
        if (line.rfind("0::", 0) == 0)
            unified = path;
    }
    if (unified)
        return readCgroupMemory(root + (*unified == "/" ? "" : *unified), true);
    return std::nullopt;
}

} // namespace headroom

namespace headroom {

std::optional<CgroupMemoryState> readOwnCgroupMemory(const std::string& root, const std::string& procRoot)
{
    // Placeholder: the budget's reader comes with the cgroup-aware budget.
    (void)root;
    (void)procRoot;
    return std::nullopt;
}

} // namespace headroom
