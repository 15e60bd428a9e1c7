// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/TopTable.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/BuildTrees.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace headroom::cli {

namespace {

std::string fit(std::string text, std::size_t width)
{
    if (text.size() <= width)
        return text;
    if (width <= 1)
        return text.substr(0, width);
    // Cut on a UTF-8 boundary.
    std::size_t cut = width - 1;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return text.substr(0, cut) + "~";
}

std::string roleCounts(const BuildTree& b)
{
    std::string text;
    for (ProcessRole role : kAllRoles) {
        const auto n = b.count(role);
        if (n == 0 || role == ProcessRole::Other || role == ProcessRole::Cargo ||
            role == ProcessRole::BuildTool)
            continue;
        if (!text.empty())
            text += " · ";
        text += std::to_string(n) + " " + std::string(roleNoun(role, n != 1));
    }
    return text.empty() ? "starting" : text;
}

std::string clockTime(std::int64_t wallMs)
{
    if (wallMs <= 0)
        return "-";
    const std::time_t t = static_cast<std::time_t>(wallMs / 1000);
    std::tm local{};
#ifdef _WIN32
    localtime_s(&local, &t);
#else
    localtime_r(&t, &local);
#endif
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
    return buffer;
}

} // namespace

std::string printable(std::string_view text)
{
    return safeText(text);
}

std::string renderMemorySummary(const Snapshot& s)
{
    const auto& m = s.memory;
    std::string text = "Memory  used " + formatBytes(m.used) + " of " + formatBytes(m.total) + " (" +
                       formatPercent(m.usedFraction()) + ") · available " + formatBytes(m.available);
    if (m.swapTotal > 0)
        text += " · swap " + formatBytes(m.swapUsed) + " of " + formatBytes(m.swapTotal);
    else
        text += " · no swap";
    text += "\n";
    // Inside a container the figures above are the host's: the limit that applies, in one line.
    if (const MemoryBudget& b = s.budget; b.isCgroup()) {
        text += "Budget  " + formatBytes(b.availableBytes) + " left of the " + b.describe() + " (" +
                formatPercent(b.availableFraction()) + ")";
        if (!b.cgroupDir.empty())
            text += " · " + printable(b.cgroupDir);
        text += "\n";
    }
    if (m.pressure.available) {
        char buffer[96];
        std::snprintf(buffer, sizeof buffer, "Pressure  some %.2f%%  full %.2f%% (avg10)",
                      m.pressure.some.avg10, m.pressure.full.avg10);
        text += buffer;
    } else {
        text += "Pressure  not reported by this kernel";
    }
    if (m.oomKillCount)
        text += " · OOM kills since boot: " + std::to_string(*m.oomKillCount);
    text += "\n";
    return text;
}

std::string renderTop(const Snapshot& s, const TopOptions& options)
{
    std::string out = renderMemorySummary(s);
    const std::size_t width = std::max<std::size_t>(options.width, 60);

    if (!s.builds.empty()) {
        out += "\nBuilds (" + std::to_string(s.builds.size()) + ")\n";
        for (std::size_t i = 0; i < s.builds.size(); ++i) {
            const auto& b = s.builds[i];
            const ProcessSample* root = s.find(b.root);
            std::string line = "  " + formatBytes(b.residentBytes) + "  " + formatDuration(b.elapsedSeconds) +
                               "  " + roleCounts(b) + "  pid " + std::to_string(b.root.pid) + " start " +
                               std::to_string(b.root.startTime) + "  " +
                               printable(root ? root->displayCommand() : b.command);
            const std::string_view lock = lockStateText(b.lock);
            if (!lock.empty())
                line += "  (" + std::string(lock) + ")";
            out += fit(line, width) + "\n";
            if (!b.workspace.empty())
                out += fit("      in " + printable(b.workspace), width) + "\n";
        }
        // One warning per group of builds that share a workspace, with the
        // build the duplicate rule keeps and why.
        for (const DuplicateGroup& group : duplicateGroups(s)) {
            const BuildTree& kept = s.builds[group.kept];
            out += "\nWARNING: " + std::to_string(group.builds.size()) +
                   " builds share this workspace or target folder" +
                   (kept.workspace.empty() ? std::string() : " (" + printable(kept.workspace) + ")") +
                   "; they compete for memory and for cargo's lock.\n";
            for (std::size_t index : group.builds) {
                const std::string verdict = (index == group.kept ? "  keep  " : "  stop  ");
                out += fit(verdict + buildLabel(s, s.builds[index], false) + " — " +
                               duplicateVerdict(s, group, index),
                           width) +
                       "\n";
            }
            out += "  `headroom stop --extra-builds` stops the extra ones.\n";
        }
    }
    const std::string totals = describeRoleTotals(s);
    if (!totals.empty())
        out += "\nBuild processes: " + totals + "\n";

    std::vector<const ProcessSample*> rows;
    rows.reserve(s.processes.size());
    for (const auto& p : s.processes) {
        if (p.kernelThread)
            continue;
        if (options.buildsOnly && !isBuildRole(p.role))
            continue;
        rows.push_back(&p);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ProcessSample* a, const ProcessSample* b) {
        return a->residentBytes > b->residentBytes;
    });
    if (rows.size() > options.limit)
        rows.resize(options.limit);

    char header[160];
    std::snprintf(header, sizeof header, "\n%8s %-12s %-10s %-12s %9s %6s %1s %-8s %s\n", "PID", "START",
                  "USER", "ROLE", "RSS", "CPU%", "S", "STARTED", "COMMAND");
    out += header;
    for (const auto* p : rows) {
        char cpu[16];
        if (p->cpuPercent)
            std::snprintf(cpu, sizeof cpu, "%.1f", *p->cpuPercent);
        else
            std::snprintf(cpu, sizeof cpu, "-");
        char prefix[160];
        std::snprintf(prefix, sizeof prefix, "%8lld %-12llu %-10s %-12s %9s %6s %c %-8s ",
                      static_cast<long long>(p->key.pid), static_cast<unsigned long long>(p->key.startTime),
                      fit(printable(p->user), 10).c_str(), std::string(roleId(p->role)).c_str(),
                      formatBytes(p->residentBytes).c_str(), cpu, stateLetter(p->state),
                      clockTime(p->startedAtMs).c_str());
        std::string line = prefix;
        line += printable(p->displayCommand());
        out += fit(line, width) + "\n";
    }
    if (rows.empty())
        out += options.buildsOnly ? "  (no build or test process is running)\n" : "  (no processes)\n";
    return out;
}

} // namespace headroom::cli
