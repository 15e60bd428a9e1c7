// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProcParsers.h"

#include <charconv>
#include <cstdlib>

namespace headroom::procfs {

namespace {

// Splits on runs of spaces; returns false when fewer fields than wanted.
template <std::size_t N> std::size_t splitFields(std::string_view text, std::array<std::string_view, N>& out)
{
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < text.size() && count < N) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\n'))
            ++i;
        if (i >= text.size())
            break;
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\n')
            ++i;
        out[count++] = text.substr(start, i - start);
    }
    return count;
}

template <typename T> bool toNumber(std::string_view text, T& value)
{
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    return ec == std::errc() && ptr == end;
}

std::optional<double> toDouble(std::string_view text)
{
    // from_chars for double is missing from some standard libraries we target.
    std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end == copy.c_str())
        return std::nullopt;
    return value;
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

template <typename Fn> void forEachLine(std::string_view content, Fn&& fn)
{
    while (!content.empty()) {
        const auto nl = content.find('\n');
        fn(content.substr(0, nl));
        if (nl == std::string_view::npos)
            break;
        content.remove_prefix(nl + 1);
    }
}

} // namespace

std::optional<StatFields> parseStat(std::string_view content)
{
    const auto open = content.find('(');
    const auto close = content.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return std::nullopt;

    StatFields stat;
    if (!toNumber(trim(content.substr(0, open)), stat.pid))
        return std::nullopt;
    stat.comm.assign(content.substr(open + 1, close - open - 1));

    // Fields after the name, numbered as in proc(5): 3 state, 4 ppid, 9 flags,
    // 14 utime, 15 stime, 20 num_threads, 22 starttime, 24 rss.
    std::array<std::string_view, 22> f{};
    const std::size_t count = splitFields(content.substr(close + 1), f);
    if (count < 22 || f[0].size() != 1)
        return std::nullopt;
    const auto field = [&](int number) { return f[static_cast<std::size_t>(number - 3)]; };
    stat.state = field(3)[0];
    long long rss = 0;
    long long ppid = 0;
    if (!toNumber(field(4), ppid) || !toNumber(field(9), stat.flags) ||
        !toNumber(field(14), stat.utimeTicks) || !toNumber(field(15), stat.stimeTicks) ||
        !toNumber(field(20), stat.threads) || !toNumber(field(22), stat.startTimeTicks) ||
        !toNumber(field(24), rss))
        return std::nullopt;
    stat.parentPid = ppid;
    stat.rssPages = rss > 0 ? static_cast<std::uint64_t>(rss) : 0;
    return stat;
}

ProcessState stateFromLetter(char letter)
{
    switch (letter) {
    case 'R':
        return ProcessState::Running;
    case 'S':
        return ProcessState::Sleeping;
    case 'D':
        return ProcessState::DiskSleep;
    case 'T':
    case 't':
        return ProcessState::Stopped;
    case 'Z':
    case 'X':
    case 'x':
        return ProcessState::Zombie;
    case 'I':
        return ProcessState::Idle;
    default:
        return ProcessState::Unknown;
    }
}

bool parseMeminfo(std::string_view content, MemoryStatus& m)
{
    std::optional<std::uint64_t> total, available, free, buffers, cached, reclaimable, shmem, committed,
        limit, swapTotal, swapFree, zswap, zswapped;
    forEachLine(content, [&](std::string_view line) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return;
        const std::string_view key = line.substr(0, colon);
        std::string_view rest = trim(line.substr(colon + 1));
        const auto space = rest.find(' ');
        std::uint64_t value = 0;
        if (!toNumber(rest.substr(0, space), value))
            return;
        if (space != std::string_view::npos && trim(rest.substr(space)) == "kB")
            value *= 1024;
        if (key == "MemTotal")
            total = value;
        else if (key == "MemAvailable")
            available = value;
        else if (key == "MemFree")
            free = value;
        else if (key == "Buffers")
            buffers = value;
        else if (key == "Cached")
            cached = value;
        else if (key == "SReclaimable")
            reclaimable = value;
        else if (key == "Shmem")
            shmem = value;
        else if (key == "Committed_AS")
            committed = value;
        else if (key == "CommitLimit")
            limit = value;
        else if (key == "SwapTotal")
            swapTotal = value;
        else if (key == "SwapFree")
            swapFree = value;
        else if (key == "Zswap")
            zswap = value;
        else if (key == "Zswapped")
            zswapped = value;
    });
    if (!total)
        return false;
    m.total = *total;
    m.free = free.value_or(0);
    m.buffers = buffers.value_or(0);
    m.cache = cached.value_or(0) + reclaimable.value_or(0);
    m.shared = shmem.value_or(0);
    // Kernels before 3.14 have no MemAvailable; procps estimates it as free + cache.
    m.available = available.value_or(m.free + m.buffers + m.cache);
    if (m.available > m.total)
        m.available = m.total;
    m.used = m.total - m.available;
    m.committed = committed.value_or(0);
    m.commitLimit = limit.value_or(0);
    m.swapTotal = swapTotal.value_or(0);
    m.swapFree = swapFree.value_or(0);
    if (m.swapFree > m.swapTotal)
        m.swapFree = m.swapTotal;
    m.swapUsed = m.swapTotal - m.swapFree;
    m.compressedStored = zswap;
    m.compressedOriginal = zswapped;
    return true;
}

std::optional<MemoryPressure> parsePressure(std::string_view content)
{
    MemoryPressure pressure;
    bool sawSome = false;
    forEachLine(content, [&](std::string_view line) {
        PressureStall* stall = nullptr;
        if (line.starts_with("some "))
            stall = &pressure.some;
        else if (line.starts_with("full "))
            stall = &pressure.full;
        if (!stall)
            return;
        std::array<std::string_view, 5> f{};
        const std::size_t count = splitFields(line, f);
        for (std::size_t i = 1; i < count; ++i) {
            const auto eq = f[i].find('=');
            if (eq == std::string_view::npos)
                continue;
            const auto key = f[i].substr(0, eq);
            const auto value = f[i].substr(eq + 1);
            if (key == "total") {
                toNumber(value, stall->totalMicroseconds);
                continue;
            }
            const auto number = toDouble(value);
            if (!number)
                continue;
            if (key == "avg10")
                stall->avg10 = *number;
            else if (key == "avg60")
                stall->avg60 = *number;
            else if (key == "avg300")
                stall->avg300 = *number;
        }
        if (stall == &pressure.some)
            sawSome = true;
    });
    if (!sawSome)
        return std::nullopt;
    pressure.available = true;
    return pressure;
}

std::optional<std::uint64_t> parseOomKillCount(std::string_view content)
{
    std::optional<std::uint64_t> count;
    forEachLine(content, [&](std::string_view line) {
        if (!line.starts_with("oom_kill "))
            return;
        std::uint64_t value = 0;
        if (toNumber(trim(line.substr(9)), value))
            count = value;
    });
    return count;
}

std::optional<std::int64_t> parseBootTime(std::string_view content)
{
    std::optional<std::int64_t> boot;
    forEachLine(content, [&](std::string_view line) {
        if (!line.starts_with("btime "))
            return;
        std::int64_t value = 0;
        if (toNumber(trim(line.substr(6)), value))
            boot = value;
    });
    return boot;
}

std::optional<double> parseUptime(std::string_view content)
{
    const auto space = content.find(' ');
    return toDouble(content.substr(0, space));
}

std::vector<std::string> parseCmdline(std::string_view content)
{
    std::vector<std::string> args;
    while (!content.empty() && content.back() == '\0')
        content.remove_suffix(1);
    if (content.empty())
        return args;
    std::size_t start = 0;
    for (;;) {
        const auto nul = content.find('\0', start);
        args.emplace_back(
            content.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
        if (nul == std::string_view::npos)
            break;
        start = nul + 1;
    }
    return args;
}

std::optional<std::string> findEnvironmentValue(std::string_view environ, std::string_view name)
{
    std::size_t start = 0;
    while (start < environ.size()) {
        auto nul = environ.find('\0', start);
        if (nul == std::string_view::npos)
            nul = environ.size();
        const std::string_view entry = environ.substr(start, nul - start);
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
            entry[name.size()] == '=')
            return std::string(entry.substr(name.size() + 1));
        start = nul + 1;
    }
    return std::nullopt;
}

} // namespace headroom::procfs
