// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Follows one supervised run from outside, as every front-end does (the
// window's runner, `headroom build`, `headroom run`): the log's new bytes
// since the last poll, and the status whenever the supervisor rewrote it.
// Never blocks, never holds a file open between polls, and notices a
// supervisor that died (the status then says SupervisorLost, with why).

#include "headroom/RunRecord.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace headroom {

class RunFollower {
  public:
    RunFollower(std::filesystem::path runsDir, std::string id);

    struct Update {
        std::string logBytes;            // raw, as the build wrote them (not decoded, not cut)
        std::optional<RunStatus> status; // set when the status changed since the last poll
        std::string problem;             // a status that could not be read (moved aside), a lost supervisor
    };
    // At most `maxBytes` of log per poll (the rest comes with the next).
    Update poll(std::size_t maxBytes = 1u << 20);

    // Start the log at its last `tailBytes`, at a line's start (a window
    // adopting a long run shows its end, not all of it). A tail that holds
    // no line break at all starts at its first byte rather than show nothing.
    void skipToTail(std::uint64_t tailBytes);

    // The latest status read, if any.
    const std::optional<RunStatus>& status() const { return status_; }
    // True once the status says Finished or SupervisorLost and the log is read to its end.
    bool done() const;
    // Why the status could not be read at the last attempt (corrupt and moved
    // aside, removed); empty while it reads. A front-end that keeps seeing
    // this has lost the run.
    const std::string& statusProblem() const { return statusProblem_; }
    const std::string& id() const { return id_; }
    const std::filesystem::path& runsDir() const { return runsDir_; }

  private:
    std::filesystem::path runsDir_;
    std::string id_;
    std::uint64_t logOffset_ = 0;
    bool logAtEnd_ = false;
    std::optional<RunStatus> status_;
    std::int64_t statusStamp_ = -1; // the status file's last write time, as last read
    std::uintmax_t statusSize_ = 0; // ... and its size
    std::int64_t lastStatusReadMs_ = 0;
    std::string statusJson_; // the status last reported, to report only changes
    std::string statusProblem_;
    std::int64_t lastLivenessCheckMs_ = 0;
};

} // namespace headroom
