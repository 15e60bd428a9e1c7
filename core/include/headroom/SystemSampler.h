#pragma once

#include "headroom/Result.h"
#include "headroom/RoleClassifier.h"
#include "headroom/Snapshot.h"

#include <filesystem>
#include <memory>
#include <unordered_map>

namespace headroom {

struct SamplerOptions {
    // Linux: where procfs is. Tests point this at fixture trees.
    std::filesystem::path procRoot = "/proc";
    // Where paths seen in the table (working folders, Cargo.toml) are read.
    std::filesystem::path fsRoot = "/";
    ClassifierOptions classifier;
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
    explicit SystemSampler(SamplerOptions options);
    // Platform part: memory + raw process list (sorted by pid), no roles, no CPU %.
    virtual Result<Snapshot> collect() = 0;

    const SamplerOptions& options() const { return options_; }

  private:
    void computeCpu(Snapshot& snapshot);

    SamplerOptions options_;
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
