// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Each unit's peak memory as past builds saw it, per project: what the pool
// predicts a job from. A unit is a crate (rustc's --crate-name) or a build
// script ("build-script:<package>"). Kept in one JSON file, shared by every
// supervisor (merged under a lock when saved): the supervisor has no SQLite.
// Bounded: at most 200 projects (least recently used dropped) and 2000 units
// each.

#include "headroom/Result.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

struct LearnedPeak {
    std::uint64_t bytes = 0;
    std::int64_t seenMs = 0; // wall clock of the last build that ran it
    bool oomKilled = false;  // it was killed for memory at that size: the real peak is higher
    // Its place in the order the project's last build started its units
    // (cargo's queue is the same for the same graph and fresh units); -1:
    // no order known (nothing recorded it, or a file of an older Headroom).
    int order = -1;
};

class LearnedPeaks {
  public:
    // $HEADROOM_PEAKS_FILE; else <data folder>/headroom/peaks.json, next to
    // the history.
    static std::filesystem::path defaultPath();
    // A missing file is nothing learned; a corrupt one is moved aside
    // (".corrupt") and said in `note()`, and nothing is learned.
    static LearnedPeaks load(const std::filesystem::path& path);

    std::optional<LearnedPeak> peak(std::string_view project, std::string_view unit) const;
    const std::map<std::string, LearnedPeak>* units(std::string_view project) const;
    // Every project something was learned of, in name order.
    std::vector<std::string> projects() const;
    // The highest learned peak of the project: what an unknown job of it is
    // predicted to take, when something was learned.
    std::optional<std::uint64_t> highest(std::string_view project) const;
    // A build saw this peak: the new figure replaces the old one, except that
    // a peak of an OOM-killed job is only raised (it was cut short).
    void record(std::string_view project, std::string_view unit, std::uint64_t bytes, std::int64_t nowMs,
                bool oomKilled = false);
    // A build started these units in this order (first seen first): it
    // replaces the order known of the project. Units with no learned peak
    // keep no place; at most 2000 are kept, like the units.
    void recordOrder(std::string_view project, const std::vector<std::string>& units);
    // The project's units in the order its last build started them; empty
    // when no order is known.
    std::vector<std::string> order(std::string_view project) const;
    // Merges what this object recorded into the file (another supervisor may
    // have saved meanwhile) under its lock, and writes it atomically.
    Result<bool> save(const std::filesystem::path& path) const;

    const std::string& note() const { return note_; }

  private:
    std::map<std::string, std::map<std::string, LearnedPeak>> projects_;
    std::map<std::string, std::map<std::string, LearnedPeak>> recorded_;
    std::map<std::string, std::int64_t> projectSeen_;
    std::map<std::string, std::vector<std::string>> recordedOrder_;
    std::string note_;
};

} // namespace headroom
