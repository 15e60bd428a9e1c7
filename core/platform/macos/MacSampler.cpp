// SPDX-License-Identifier: GPL-3.0-or-later
// The macOS backend. Memory the way Activity Monitor shows it, from
// host_statistics64(HOST_VM_INFO64) and sysctl; processes from libproc.
// PROC_PIDTBSDINFO is readable for every process; task info (memory, CPU),
// the argument vector and the working folder only for our own processes
// unless Headroom runs as root, so other users' processes are listed with
// their BSD facts alone.
#include "MacProc.h"
#include "PosixUsers.h"
#include "headroom/SystemSampler.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mach/mach.h>
#include <mach/mach_error.h>
#include <mach/mach_time.h>
#include <sys/sysctl.h>

namespace headroom {

namespace {

template <typename T> bool sysctlValue(const char* name, T& out)
{
    std::size_t size = sizeof out;
    return ::sysctlbyname(name, &out, &size, nullptr, 0) == 0 && size == sizeof out;
}

// What KERN_PROCARGS2 holds: argc, the executable path, argv, then the
// environment, all NUL-terminated strings.
struct ProcArgs {
    std::vector<std::string> argv;
    std::optional<std::string> cargoTargetDir;
};

std::optional<ProcArgs> readProcArgs(Pid pid, std::vector<char>& buffer)
{
    int mib[3] = {CTL_KERN, KERN_PROCARGS2, static_cast<int>(pid)};
    std::size_t size = buffer.size();
    if (::sysctl(mib, 3, buffer.data(), &size, nullptr, 0) != 0 || size < sizeof(int))
        return std::nullopt;
    int argc = 0;
    std::memcpy(&argc, buffer.data(), sizeof argc);
    const char* at = buffer.data() + sizeof argc;
    const char* end = buffer.data() + size;
    const auto next = [&]() -> std::optional<std::string> {
        const char* stop =
            static_cast<const char*>(std::memchr(at, '\0', static_cast<std::size_t>(end - at)));
        if (!stop)
            return std::nullopt;
        std::string value(at, stop);
        at = stop + 1;
        return value;
    };
    if (!next()) // the executable path, read from proc_pidpath instead
        return std::nullopt;
    while (at < end && *at == '\0') // padding before argv[0]
        ++at;
    ProcArgs args;
    for (int i = 0; i < argc && at < end; ++i) {
        auto arg = next();
        if (!arg)
            break;
        args.argv.push_back(std::move(*arg));
    }
    const bool cargo = !args.argv.empty() && programBaseName(args.argv.front()) == "cargo";
    while (cargo && at < end && *at != '\0') {
        auto entry = next();
        if (!entry)
            break;
        constexpr std::string_view kKey = "CARGO_TARGET_DIR=";
        if (entry->starts_with(kKey))
            args.cargoTargetDir = entry->substr(kKey.size());
    }
    return args;
}

struct StaticInfo {
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    std::optional<std::string> cargoTargetDir;
};

class MacSampler final : public SystemSampler {
  public:
    explicit MacSampler(SamplerOptions options) : SystemSampler(std::move(options))
    {
        int argmax = 0;
        int mib[2] = {CTL_KERN, KERN_ARGMAX};
        std::size_t size = sizeof argmax;
        if (::sysctl(mib, 2, &argmax, &size, nullptr, 0) != 0 || argmax <= 0)
            argmax = 1 << 20;
        argsBuffer_.resize(static_cast<std::size_t>(argmax));
    }

  protected:
    Result<Snapshot> collect() override;
    MachineFacts readMachineFacts() override;

  private:
    std::optional<std::string> readMemory(MemoryStatus& memory);
    // False when the process exited meanwhile; `readable` tells whether its
    // task (memory, CPU) could be read.
    bool readProcess(pid_t pid, ProcessSample& out, bool& readable);

    std::vector<char> argsBuffer_;
    StaticCache<StaticInfo> statics_;
    posix::UserNames users_;
};

MachineFacts MacSampler::readMachineFacts()
{
    MachineFacts facts;
    sysctlValue("hw.memsize", facts.totalMemory); // 0 if unreadable: collect() says so
    vm_size_t pageSize = 0;
    mach_port_t host = ::mach_host_self();
    if (::host_page_size(host, &pageSize) != KERN_SUCCESS || pageSize == 0)
        pageSize = vm_kernel_page_size;
    ::mach_port_deallocate(mach_task_self(), host);
    facts.pageSize = pageSize;
    mach_timebase_info_data_t timebase{};
    if (::mach_timebase_info(&timebase) == KERN_SUCCESS && timebase.numer != 0 && timebase.denom != 0) {
        facts.cpuTimeNumer = timebase.numer;
        facts.cpuTimeDenom = timebase.denom;
    }
    timeval boot{};
    if (sysctlValue("kern.boottime", boot) && boot.tv_sec > 0)
        facts.bootTimeMs = std::int64_t(boot.tv_sec) * 1000 + std::int64_t(boot.tv_usec) / 1000;
    return facts;
}

// Activity Monitor's figures (Memory tab):
//   App Memory   = internal (anonymous) pages - purgeable pages
//   Wired Memory = wired pages
//   Compressed   = pages the compressor occupies
//   Memory Used  = App Memory + Wired + Compressed
//   Cached Files = external (file-backed) pages + purgeable pages
// Headroom's available is what Memory Used leaves of physical memory: cached
// files and free pages, which the kernel hands out without swapping.
std::optional<std::string> MacSampler::readMemory(MemoryStatus& memory)
{
    const std::uint64_t physical = machine().totalMemory;
    vm_statistics64_data_t vm{};
    mach_port_t host = ::mach_host_self();
    mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
    const kern_return_t status =
        ::host_statistics64(host, HOST_VM_INFO64, reinterpret_cast<host_info64_t>(&vm), &count);
    ::mach_port_deallocate(mach_task_self(), host);
    if (status != KERN_SUCCESS)
        return "host_statistics64(HOST_VM_INFO64) failed: " + std::string(::mach_error_string(status)) + ".";

    const std::uint64_t page = machine().pageSize;
    const std::uint64_t internal = std::uint64_t(vm.internal_page_count) * page;
    const std::uint64_t purgeable = std::uint64_t(vm.purgeable_count) * page;
    const std::uint64_t app = internal > purgeable ? internal - purgeable : 0;
    const std::uint64_t wired = std::uint64_t(vm.wire_count) * page;
    const std::uint64_t compressed = std::uint64_t(vm.compressor_page_count) * page;

    memory.total = physical;
    memory.used = std::min(app + wired + compressed, physical);
    memory.available = physical - memory.used;
    // free_count includes the speculative pages (read ahead, not yet used);
    // vm_stat lists them apart, and so does Headroom: they are cache.
    const std::uint64_t speculative = std::uint64_t(vm.speculative_count) * page;
    const std::uint64_t freePages = std::uint64_t(vm.free_count) * page;
    memory.free = freePages > speculative ? freePages - speculative : 0;
    memory.cache = std::uint64_t(vm.external_page_count) * page + purgeable;
    memory.compressedStored = compressed;
    memory.compressedOriginal = std::uint64_t(vm.total_uncompressed_pages_in_compressor) * page;

    // Swap files grow on demand; vm.swapusage reports their current size.
    xsw_usage swap{};
    if (sysctlValue("vm.swapusage", swap)) {
        memory.swapTotal = swap.xsu_total;
        memory.swapUsed = std::min<std::uint64_t>(swap.xsu_used, swap.xsu_total);
        memory.swapFree = memory.swapTotal - memory.swapUsed;
    }

    // 1 normal, 2 warning, 4 critical: the level that makes Activity
    // Monitor's pressure graph green, yellow or red.
    int level = 0;
    if (sysctlValue("kern.memorystatus_vm_pressure_level", level))
        memory.pressure.kernelLevel = level;
    else
        return "kern.memorystatus_vm_pressure_level is unreadable: levels rely on available memory and swap.";
    return std::nullopt;
}

Result<Snapshot> MacSampler::collect()
{
    Snapshot snapshot;
    // snapshot.wallMs is stamped by SystemSampler::sample() after collect()
    // returns, so it is still 0 here: read the clock itself.
    if (const auto boot = machine().bootTimeMs) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
        snapshot.uptimeSeconds = std::max(0.0, double(now.count() - *boot) / 1000.0);
    }

    if (machine().totalMemory == 0)
        return Result<Snapshot>::failure("Cannot read the amount of memory (sysctl hw.memsize failed).");
    if (auto note = readMemory(snapshot.memory))
        snapshot.notes.push_back(*note);

    const auto pids = mac::allPids();
    if (pids.empty())
        snapshot.notes.push_back("proc_listallpids failed: the process list is empty.");
    snapshot.processes.reserve(pids.size());
    std::size_t unreadable = 0;
    for (pid_t pid : pids) {
        ProcessSample sample;
        bool readable = false;
        if (!readProcess(pid, sample, readable))
            continue; // exited meanwhile
        if (!readable && !sample.kernelThread && sample.state != ProcessState::Zombie)
            ++unreadable;
        snapshot.processes.push_back(std::move(sample));
    }
    statics_.sweep();
    if (unreadable > 0) {
        snapshot.notes.push_back(std::to_string(unreadable) +
                                 " processes belong to other users: they are listed without memory, CPU and "
                                 "arguments, which macOS shows only to their owner and root.");
    }
    return Result<Snapshot>::success(std::move(snapshot));
}

bool MacSampler::readProcess(pid_t pid, ProcessSample& out, bool& readable)
{
    proc_bsdinfo bsd{};
    if (!mac::bsdInfo(pid, bsd))
        return false;
    out.key = ProcessKey{pid, mac::startTimeOf(bsd)};
    out.parentPid = bsd.pbi_ppid;
    out.uid = bsd.pbi_uid;
    out.user = users_.userName(bsd.pbi_uid);
    out.name = mac::nameOf(bsd);
    out.state = mac::stateOf(bsd);
    out.kernelThread = pid == 0;
    out.startedAtMs = static_cast<std::int64_t>(bsd.pbi_start_tvsec) * 1000 +
                      static_cast<std::int64_t>(bsd.pbi_start_tvusec) / 1000;

    proc_taskinfo task{};
    if (proc_pidinfo(pid, PROC_PIDTASKINFO, 0, &task, PROC_PIDTASKINFO_SIZE) == PROC_PIDTASKINFO_SIZE) {
        readable = true;
        out.residentBytes = task.pti_resident_size;
        // Mach absolute time units: nanoseconds on Intel, 125/3 ns on Apple silicon.
        out.cpuTimeNs = machine().cpuTimeNs(task.pti_total_user + task.pti_total_system);
        out.threads = static_cast<std::uint32_t>(std::max(task.pti_threadnum, 0));
        if (out.state == ProcessState::Running && task.pti_numrunning == 0)
            out.state = ProcessState::Sleeping;
    }

    bool fresh = false;
    StaticInfo& info = statics_.findOrAdd(out.key, fresh);
    if (fresh) {
        if (out.state != ProcessState::Zombie && !out.kernelThread) {
            char path[PROC_PIDPATHINFO_MAXSIZE];
            const int length = proc_pidpath(pid, path, sizeof path);
            if (length > 0)
                info.exe.assign(path, ::strnlen(path, std::min(sizeof path, std::size_t(length))));
            if (auto args = readProcArgs(pid, argsBuffer_)) {
                info.argv = std::move(args->argv);
                info.cargoTargetDir = std::move(args->cargoTargetDir);
            }
            proc_vnodepathinfo vnodes{};
            if (proc_pidinfo(pid, PROC_PIDVNODEPATHINFO, 0, &vnodes, sizeof vnodes) == sizeof vnodes)
                info.cwd = mac::boundedString(vnodes.pvi_cdir.vip_path);
        }
    }
    out.exe = info.exe;
    out.argv = info.argv;
    out.cwd = info.cwd;
    out.cargoTargetDir = info.cargoTargetDir;
    return true;
}

} // namespace

std::unique_ptr<SystemSampler> SystemSampler::create(SamplerOptions options)
{
    return std::make_unique<MacSampler>(std::move(options));
}

} // namespace headroom
