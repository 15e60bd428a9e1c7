// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// When the pool gives a build one more token: only when the next job fits.
// Pure logic, the same for every system: the supervisor fills the inputs
// from a snapshot, the ledger and the learned peaks, and applies the answer.
//
// - Tokens are never more than CPUs - 1 over the whole pool (each build
//   also has its implicit one).
// - The budget (MemoryBudget: the tightest of the machine and the cgroup)
//   less the reserve, less what every running job may still grow by (its
//   predicted peak minus what it holds now), must hold the next job's
//   predicted peak.
// - With nothing learned, a cautious default peak and slow start: one more
//   token only once the last one's job had `settleMs` to show its memory.
// - PSI "some" above its threshold blocks new tokens.
// - Memory below the reserve anyway: pause the pool's youngest job; resume
//   the oldest paused one once its predicted growth fits again.

#include "headroom/MemoryBudget.h"
#include "headroom/Process.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace headroom {

struct PoolSettings {
    double reserveFraction = 0.10;               // of the limit, kept free
    std::uint64_t reserveFloor = 1ull << 30;     // at least this
    double psiSomeThreshold = 10.0;              // % of time (avg10) above which no token is given
    std::uint64_t defaultPeakBytes = 1ull << 30; // a job nothing was learned of
    std::int64_t settleMs = 3000;                // slow start: time a new job gets to show its memory
    bool countSwap = false;                      // free swap is budget (the user allows swapping)
};

struct PoolJob {
    ProcessKey key;
    std::string name;                     // crate name, "build script of foo", or the program's name
    std::uint64_t residentBytes = 0;      // now (the job's process tree)
    std::uint64_t predictedPeakBytes = 0; // learned, else the default
    bool learned = false;
    std::int64_t startedMs = 0; // wall clock
    bool paused = false;        // stopped by the pool (SIGSTOP)
};

struct PoolInputs {
    MemoryBudget budget;
    std::optional<double> psiSomeAvg10; // none: no PSI here
    unsigned cpus = 1;
    // This build's lane.
    unsigned granted = 0;
    unsigned inUse = 0;
    std::vector<PoolJob> jobs;          // its running jobs
    std::uint64_t nextJobPeakBytes = 0; // the predicted peak of the next job it may start
    std::string nextJobName;            // for the words; empty: unknown
    bool nextJobLearned = false;
    // The heaviest learned unit still to come (0: unknown). cargo keeps a
    // token while it has work queued and starts its next job on it at once,
    // so every slot (the implicit one and each token) may in turn run it:
    // a token more is given only when one more slot of it fits.
    std::uint64_t heaviestToComeBytes = 0;
    std::string heaviestToComeName;
    unsigned startTokens = 0; // Auto's -j - 1: where a lane may start when peaks are learned
    // An OOM retry: this crate runs alone (no tokens while it runs).
    std::optional<std::string> exclusive;
    std::int64_t nowMs = 0;
    std::int64_t lastGrantMs = 0; // this lane's last new token
    // The other builds in the pool.
    unsigned othersGranted = 0;
    std::uint64_t othersGrowthBytes = 0;
    std::int64_t othersYoungestJobMs = 0; // 0: none runs
};

struct PoolDecision {
    unsigned target = 0; // tokens this lane should hold
    // Why it holds no more, in words a person reads in the window and the
    // terminal: "the next job (serde_derive, 1.2 GiB learned) does not fit in
    // the 0.8 GiB left of the container limit 8.0 GiB". Empty: nothing held back.
    std::string heldBack;
    std::uint64_t growthBytes = 0;    // what this lane's jobs may still grow by (for the ledger)
    std::uint64_t predictedBytes = 0; // the predicted peak of what runs
    std::optional<ProcessKey> pause;  // below the reserve: pause this job (the pool's youngest is ours)
    std::optional<ProcessKey> resume; // room again: resume this one (the oldest paused)
};

// CPUs - 1 (the implicit token is each build's own), at least 0.
unsigned maxPoolTokens(unsigned cpus);

PoolDecision decidePool(const PoolInputs& inputs, const PoolSettings& settings = {});

} // namespace headroom
