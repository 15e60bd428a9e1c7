#pragma once

#include "headroom/Result.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Snapshot.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>

namespace headroom {

struct SamplerOptions {
    // Linux: where procfs is. Tests point this at fixture trees.
    std::filesystem::path procRoot = "/proc";
    // Where paths seen in the table (working folders, Cargo.toml) are read.
    std::filesystem::path fsRoot = "/";
    // Linux: where the cgroup file systems are mounted, for the memory budget
    // of the cgroup Headroom runs in (procRoot/self/cgroup names it).
    std::filesystem::path cgroupRoot = "/sys/fs/cgroup";
    ClassifierOptions classifier;
};

// What does not change about the machine while Headroom runs. Each backend
// reads it once (SystemSampler::readMachineFacts), on the first sample that
// succeeds.
struct MachineFacts {
    std::uint64_t pageSize = 4096; // bytes in a memory page
    // Physical memory in bytes, where it is read apart from the memory
    // figures (macOS); 0 where every sample reads it with them.
    std::uint64_t totalMemory = 0;
    // Wall clock at boot, milliseconds since the epoch; nullopt when unknown.
    std::optional<std::int64_t> bootTimeMs;
    // The unit the kernel counts CPU time in: cpuTimeNumer / cpuTimeDenom
    // nanoseconds (Linux: one clock tick, 10 ms = 10'000'000 / 1; macOS on
    // Apple silicon: one Mach time unit, 125 / 3 ns).
    std::uint64_t cpuTimeNumer = 1;
    std::uint64_t cpuTimeDenom = 1;

    // `units` of CPU time in nanoseconds, without overflowing on the way.
    std::uint64_t cpuTimeNs(std::uint64_t units) const
    {
        return units / cpuTimeDenom * cpuTimeNumer + units % cpuTimeDenom * cpuTimeNumer / cpuTimeDenom;
    }
};

// Polls memory, swap, pressure and the process table. One instance keeps what
// never changes about a process (argv, exe, start time) between polls and
// remembers CPU times for CPU %, so keep it alive and call sample() repeatedly.
// Not thread-safe: use one instance from one thread.
class SystemSampler {
  public:
    virtual ~SystemSampler();

    // A full snapshot: memory, processes with roles and CPU %, build trees,
    // role totals. Fails only when the memory figures cannot be read at all.
    Result<Snapshot> sample();

    void setClassifierOptions(ClassifierOptions options);

    // The backend for this operating system.
    static std::unique_ptr<SystemSampler> create(SamplerOptions options = {});

  protected:
    // What a backend reads once about each process: `Info` holds what does
    // not change while the process runs one program (its argv, executable,
    // working folder...). An entry belongs to one (pid, start time), so a
    // reused pid never inherits its predecessor's; sweep() forgets the
    // processes a sample did not see.
    template <typename Info> class StaticCache {
      public:
        // The entry of the process `key` names, marked as seen, or nullptr
        // when there is none (a new process, or the pid was reused).
        Info* find(const ProcessKey& key)
        {
            auto it = entries_.find(key.pid);
            if (it == entries_.end() || it->second.startTime != key.startTime)
                return nullptr;
            it->second.seen = sweeps_;
            return &it->second.info;
        }
        // Keeps what was read about `key`, replacing any entry of its pid.
        Info& store(const ProcessKey& key, Info info)
        {
            Entry& entry = entries_.insert_or_assign(key.pid, Entry{key.startTime, sweeps_, std::move(info)})
                               .first->second;
            return entry.info;
        }
        // find(), or else a new empty entry, `fresh` telling which: fill a
        // fresh one.
        Info& findOrAdd(const ProcessKey& key, bool& fresh)
        {
            Info* known = find(key);
            fresh = known == nullptr;
            return known ? *known : store(key, Info{});
        }
        void forget(Pid pid) { entries_.erase(pid); }
        // Ends a sample: forgets every process it did not see.
        void sweep()
        {
            std::erase_if(entries_, [&](const auto& item) { return item.second.seen != sweeps_; });
            ++sweeps_;
        }
        std::size_t size() const { return entries_.size(); }

      private:
        struct Entry {
            std::uint64_t startTime = 0;
            std::uint64_t seen = 0;
            Info info;
        };
        std::unordered_map<Pid, Entry> entries_;
        std::uint64_t sweeps_ = 0;
    };

    explicit SystemSampler(SamplerOptions options);
    // Platform part: memory + raw process list in any order, no roles, no
    // CPU %. Called by sample(), after readMachineFacts() has been.
    virtual Result<Snapshot> collect() = 0;
    // The machine's fixed facts; sample() calls it before the first
    // collect() that succeeds and keeps the answer in machine(). The
    // defaults by default.
    virtual MachineFacts readMachineFacts() { return {}; }

    const SamplerOptions& options() const { return options_; }
    const MachineFacts& machine() const { return *machine_; }

  private:
    void computeCpu(Snapshot& snapshot);

    SamplerOptions options_;
    std::optional<MachineFacts> machine_;
    RoleClassifier classifier_;
    struct CpuMark {
        std::uint64_t cpuTimeNs = 0;
    };
    std::unordered_map<ProcessKey, CpuMark, ProcessKeyHash> previousCpu_;
    struct RoleMark {
        std::string name; // exec changes it, and with it the role
        ProcessRole role = ProcessRole::Other;
    };
    std::unordered_map<ProcessKey, RoleMark, ProcessKeyHash> roles_;
    std::int64_t previousSteadyNs_ = 0;
};

} // namespace headroom
