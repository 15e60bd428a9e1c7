// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The pool every build Headroom starts draws from: one per user, in the
// runtime folder, held by the builds' supervisors (not by the window). It is
// a ledger, pool.json, that each supervisor rewrites under pool.lock: what
// its lane (JobLane) holds and what its running jobs may still grow by. A
// supervisor decides its own lane's tokens from the machine's budget less
// what the others hold and may grow by, so the sum over every build stays
// within the CPUs and the memory. A supervisor that dies is dropped by the
// next one that takes the lock (its pid and start time no longer match).

#include "headroom/Process.h"
#include "headroom/Result.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

struct PoolMember {
    std::string runId;
    ProcessKey supervisor;
    std::string title;                // the run's title, for the window and `headroom runs`
    unsigned granted = 0;             // tokens given to its lane
    unsigned inUse = 0;               // of those, held by its jobs now
    unsigned jobs = 0;                // its running jobs (rustc, build scripts, linkers) as last seen
    std::uint64_t growthBytes = 0;    // what its running jobs are predicted to grow by still
    std::uint64_t predictedBytes = 0; // the predicted peak of what it runs now
    std::int64_t lastGrantMs = 0;     // wall clock of its last new token
    std::int64_t youngestJobMs = 0;   // when its youngest running job started; 0: none runs
    std::string heldBack;             // why it holds no more tokens, in words; empty: none held back
    std::int64_t updatedMs = 0;
};

struct PoolState {
    static constexpr int kVersion = 1;
    unsigned cpus = 1;
    std::vector<PoolMember> members;
    std::int64_t updatedMs = 0;

    unsigned granted() const; // over every member
    const PoolMember* find(std::string_view runId) const;
};

std::string toJson(const PoolState& state);
Result<PoolState> parsePoolState(std::string_view json);

// $HEADROOM_POOL_DIR; else $XDG_RUNTIME_DIR/headroom/pool; else
// <temp>/headroom-<uid>/pool (Windows: %LOCALAPPDATA%\Headroom\pool).
std::filesystem::path defaultPoolDir();

class JobPool {
  public:
    explicit JobPool(std::filesystem::path dir = defaultPoolDir());
    const std::filesystem::path& dir() const { return dir_; }

    // Creates the folder (0700) if missing, and checks it is a folder of
    // this user's, not a link someone else put there.
    Result<bool> prepare() const;
    // Takes the ledger's lock (waits at most `timeout`), reads the ledger,
    // drops members whose supervisor is gone, lets `change` edit it, writes
    // it back atomically and lets go. A corrupt ledger is moved aside
    // (pool.json.corrupt) and started afresh. Returns the state written.
    Result<PoolState> update(const std::function<void(PoolState&)>& change,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) const;
    // Reads it without the lock (writes are atomic): for front-ends. A
    // missing ledger is an empty pool.
    Result<PoolState> read() const;
    // Removes `runId`'s member (at its supervisor's end).
    Result<PoolState> leave(std::string_view runId) const;

  private:
    std::filesystem::path dir_;
};

} // namespace headroom
