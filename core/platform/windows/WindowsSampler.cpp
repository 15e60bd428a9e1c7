// SPDX-License-Identifier: GPL-3.0-or-later
// The Windows backend: system memory from GlobalMemoryStatusEx and
// GetPerformanceInfo, the process table from one Toolhelp snapshot, and per
// process what a limited-rights handle may read. Processes we may not open
// (other users', protected ones) are still listed with Toolhelp's pid, parent,
// name and thread count.
#include "WinApi.h"
#include "headroom/SystemSampler.h"

#include <algorithm>
#include <chrono>
#include <psapi.h>
#include <unordered_map>

namespace headroom {

namespace {

using win::Handle;

constexpr ULONG kSystemPageFileInformation = 18;

// SYSTEM_PAGEFILE_INFORMATION: one entry per page file, sizes in pages.
struct PageFileEntry {
    ULONG nextEntryOffset;
    ULONG totalSize;
    ULONG totalInUse;
    ULONG peakUsage;
    USHORT nameLength;
    USHORT nameMaximumLength;
    PWSTR name;
};

struct PageFiles {
    std::uint64_t totalPages = 0;
    std::uint64_t usedPages = 0;
};

// The page files as the kernel accounts them (what Windows' own "Paging File"
// counters show); nullopt when the query is not available.
std::optional<PageFiles> queryPageFiles()
{
    const auto query = win::NtApi::get().querySystemInformation;
    if (!query)
        return std::nullopt;
    std::vector<std::uint8_t> buffer(4096);
    for (int attempt = 0; attempt < 3; ++attempt) {
        ULONG returned = 0;
        const LONG status =
            query(kSystemPageFileInformation, buffer.data(), static_cast<ULONG>(buffer.size()), &returned);
        if (status == static_cast<LONG>(0xC0000004L)) { // STATUS_INFO_LENGTH_MISMATCH
            buffer.resize(std::max<std::size_t>(returned, buffer.size() * 2));
            continue;
        }
        if (status < 0)
            return std::nullopt;
        PageFiles files;
        std::size_t offset = 0;
        while (returned >= sizeof(PageFileEntry) && offset + sizeof(PageFileEntry) <= returned) {
            const auto* entry = reinterpret_cast<const PageFileEntry*>(buffer.data() + offset);
            files.totalPages += entry->totalSize;
            files.usedPages += entry->totalInUse;
            if (entry->nextEntryOffset == 0)
                break;
            offset += entry->nextEntryOffset;
        }
        return files;
    }
    return std::nullopt;
}

// What does not change while a process lives: read once per (pid, creation).
struct StaticInfo {
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    std::uint32_t uid = win::kUnknownUid;
    std::string user;
};

class WindowsSampler final : public SystemSampler {
  public:
    explicit WindowsSampler(SamplerOptions options) : SystemSampler(std::move(options)) {}

  protected:
    Result<Snapshot> collect() override;
    MachineFacts readMachineFacts() override;

  private:
    std::optional<std::string> readMemory(MemoryStatus& memory);
    // False when the process vanished between the snapshot and the query.
    bool readProcess(const win::ToolhelpEntry& row, ProcessSample& out, bool& opened);
    const std::string& userName(const std::string& sid);

    StaticCache<StaticInfo> statics_;
    std::unordered_map<std::string, std::string> users_;
};

MachineFacts WindowsSampler::readMachineFacts()
{
    MachineFacts facts;
    SYSTEM_INFO system{};
    ::GetSystemInfo(&system);
    if (system.dwPageSize > 0)
        facts.pageSize = system.dwPageSize;
    return facts;
}

// How Windows' figures map onto Headroom's (the words are Task Manager's):
//  - total / available: physical memory and "Available" (free + zeroed +
//    standby pages, i.e. what can be handed out without paging); used =
//    total - available is Task Manager's "In use".
//  - cache: the system cache (standby and modified file pages); free is the
//    part of "Available" that is not cache.
//  - committed / commit limit: "Committed 12.3/24.0 GB", the commit charge and
//    its limit (RAM + page files). When the charge reaches the limit,
//    allocations fail: on Windows this, not the OOM killer, ends a build.
//  - swap: the page files. Their size and use come from the kernel's page
//    file list; where that is not offered, the page file's share of the commit
//    limit (limit - RAM) stands in for its size and the commit charge beyond
//    RAM for its use, and a note says the figures are estimates.
std::optional<std::string> WindowsSampler::readMemory(MemoryStatus& memory)
{
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    if (!::GlobalMemoryStatusEx(&status))
        return "GlobalMemoryStatusEx failed: " + win::errorText(::GetLastError()) + ".";
    memory.total = status.ullTotalPhys;
    memory.available = std::min<std::uint64_t>(status.ullAvailPhys, memory.total);
    memory.used = memory.total - memory.available;

    PERFORMANCE_INFORMATION perf{};
    perf.cb = sizeof perf;
    std::optional<std::string> note;
    if (::GetPerformanceInfo(&perf, sizeof perf)) {
        const std::uint64_t page = perf.PageSize ? perf.PageSize : machine().pageSize;
        memory.cache = std::min<std::uint64_t>(std::uint64_t(perf.SystemCache) * page, memory.total);
        memory.free = memory.available > memory.cache ? memory.available - memory.cache : 0;
        memory.committed = std::uint64_t(perf.CommitTotal) * page;
        memory.commitLimit = std::uint64_t(perf.CommitLimit) * page;
        if (auto files = queryPageFiles()) {
            memory.swapTotal = files->totalPages * page;
            memory.swapUsed = std::min(files->usedPages * page, memory.swapTotal);
        } else {
            const std::uint64_t physical = std::uint64_t(perf.PhysicalTotal) * page;
            memory.swapTotal = memory.commitLimit > physical ? memory.commitLimit - physical : 0;
            // The kernel keeps a few pages of the limit for itself: under a
            // mebibyte this is no page file.
            if (memory.swapTotal < (1u << 20))
                memory.swapTotal = 0;
            memory.swapUsed =
                std::min(memory.committed > physical ? memory.committed - physical : 0, memory.swapTotal);
            note = "The page file list is not available here: swap size and use are estimated from the "
                   "commit limit and the commit charge.";
        }
    } else {
        // Without GetPerformanceInfo the page file is what the commit limit
        // (ullTotalPageFile) holds beyond RAM.
        memory.free = memory.available;
        memory.commitLimit = status.ullTotalPageFile;
        memory.committed = status.ullTotalPageFile - status.ullAvailPageFile;
        memory.swapTotal =
            status.ullTotalPageFile > status.ullTotalPhys ? status.ullTotalPageFile - status.ullTotalPhys : 0;
        memory.swapUsed =
            std::min(memory.committed > status.ullTotalPhys ? memory.committed - status.ullTotalPhys : 0,
                     memory.swapTotal);
        note = "GetPerformanceInfo failed (" + win::errorText(::GetLastError()) +
               "): the cache is unknown and swap is estimated from the commit limit.";
    }
    memory.swapFree = memory.swapTotal - memory.swapUsed;
    return note;
}

Result<Snapshot> WindowsSampler::collect()
{
    Snapshot snapshot;
    snapshot.uptimeSeconds = static_cast<double>(::GetTickCount64()) / 1000.0;

    MEMORYSTATUSEX probe{};
    probe.dwLength = sizeof probe;
    if (!::GlobalMemoryStatusEx(&probe)) {
        return Result<Snapshot>::failure("Cannot read the system memory status (GlobalMemoryStatusEx: " +
                                         win::errorText(::GetLastError()) + ").");
    }
    if (auto note = readMemory(snapshot.memory))
        snapshot.notes.push_back(*note);
    snapshot.notes.push_back(
        "Windows reports no memory pressure figure: levels rely on available memory, the "
        "commit charge and the page file.");

    const auto rows = win::toolhelpProcesses();
    if (rows.empty()) {
        snapshot.notes.push_back("The process list could not be read (CreateToolhelp32Snapshot: " +
                                 win::errorText(::GetLastError()) + ").");
    }
    std::size_t closed = 0;
    snapshot.processes.reserve(rows.size());
    for (const auto& row : rows) {
        ProcessSample sample;
        bool opened = false;
        if (!readProcess(row, sample, opened))
            continue;
        if (!opened && !sample.kernelThread)
            ++closed;
        snapshot.processes.push_back(std::move(sample));
    }
    statics_.sweep();

    // Parents that were born after their children hold a reused pid.
    std::unordered_map<Pid, std::uint64_t> creation;
    creation.reserve(snapshot.processes.size());
    for (const auto& p : snapshot.processes)
        creation[p.key.pid] = p.key.startTime;
    for (auto& p : snapshot.processes) {
        auto parent = creation.find(p.parentPid);
        p.parentPid =
            win::checkedParent(p.parentPid, p.key.startTime, parent == creation.end() ? 0 : parent->second);
    }

    if (closed > 0) {
        snapshot.notes.push_back(std::to_string(closed) +
                                 " processes belong to other users or are protected: they are listed with "
                                 "their name and parent only. Run Headroom as administrator to see their "
                                 "memory.");
    }
    return Result<Snapshot>::success(std::move(snapshot));
}

bool WindowsSampler::readProcess(const win::ToolhelpEntry& row, ProcessSample& out, bool& opened)
{
    out.key = ProcessKey{row.pid, 0};
    out.parentPid = row.parentPid;
    out.name = row.name;
    out.threads = row.threads;
    out.uid = win::kUnknownUid;
    out.user = "unknown";
    out.kernelThread = win::isKernelPid(row.pid);
    if (out.kernelThread) {
        out.uid = 18; // the System account (S-1-5-18)
        out.user = "SYSTEM";
        return true;
    }

    Handle h = win::openProcess(row.pid);
    if (!h.valid()) {
        // The process exited after the snapshot: drop it. Anything else
        // (access denied) keeps the Toolhelp row.
        return ::GetLastError() != ERROR_INVALID_PARAMETER;
    }
    win::ProcessTimes times;
    if (!win::queryTimes(h.get(), times))
        return true;
    opened = true;
    if (win::hasExited(h.get()))
        return false; // gone, only held open by someone's handle
    out.key.startTime = times.creation;
    out.cpuTimeNs = times.cpuNs;
    out.startedAtMs = win::fileTimeToUnixMs(times.creation);

    PROCESS_MEMORY_COUNTERS_EX counters{};
    counters.cb = sizeof counters;
    if (::GetProcessMemoryInfo(h.get(), reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&counters),
                               sizeof counters)) {
        out.residentBytes = counters.WorkingSetSize;
        // PagefileUsage is the same commit charge under its older name; some
        // implementations (Wine) fill only that one.
        const std::uint64_t privateBytes =
            std::max<std::uint64_t>(counters.PrivateUsage, counters.PagefileUsage);
        if (privateBytes > 0)
            out.privateBytes = privateBytes;
    }

    bool fresh = false;
    StaticInfo& info = statics_.findOrAdd(out.key, fresh);
    if (fresh) {
        info.exe = win::imagePath(h.get());
        info.argv = win::commandLine(h.get());
        win::ProcessParameters parameters;
        if (win::readProcessParameters(row.pid, parameters)) {
            if (info.argv.empty())
                info.argv = win::splitCommandLine(parameters.commandLine);
            info.cwd = win::toUtf8(parameters.currentDirectory);
            // A trailing separator goes (C:\build\ reads C:\build), except a drive's root.
            if (info.cwd.size() > 3 && (info.cwd.back() == '\\' || info.cwd.back() == '/'))
                info.cwd.pop_back();
        }
        win::Owner owner;
        if (win::queryOwner(h.get(), owner)) {
            info.uid = owner.rid;
            info.user = userName(owner.sid);
        }
    }
    out.exe = info.exe;
    out.argv = info.argv;
    out.cwd = info.cwd;
    if (!info.user.empty()) {
        out.uid = info.uid;
        out.user = info.user;
    }
    return true;
}

const std::string& WindowsSampler::userName(const std::string& sid)
{
    auto it = users_.find(sid);
    if (it != users_.end())
        return it->second;
    return users_.emplace(sid, win::accountName(sid)).first->second;
}

} // namespace

std::unique_ptr<SystemSampler> SystemSampler::create(SamplerOptions options)
{
    return std::make_unique<WindowsSampler>(std::move(options));
}

} // namespace headroom
