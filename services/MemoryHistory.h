// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Snapshot.h"
#include "services/HistoryRing.h"

#include <QString>

#include <array>
#include <cstdint>
#include <vector>

namespace headroom::services {

// One poll, reduced to what the charts draw.
struct HistoryPoint {
    double seconds = 0.0; // steady clock, seconds
    std::int64_t wallMs = 0;
    std::uint64_t total = 0;
    std::uint64_t used = 0;
    std::uint64_t available = 0;
    std::uint64_t swapUsed = 0;
    std::uint64_t swapTotal = 0;
    std::array<std::uint64_t, kRoleCount> roleBytes{};
};

struct BuildPoint {
    double seconds = 0.0;
    std::uint64_t residentBytes = 0;
};

// The resident memory of one build tree over time.
struct BuildSeries {
    ProcessKey root;
    QString label; // "cargo build · ~/src/app"
    HistoryRing<BuildPoint> points;
    bool running = true;
};

// Bounded history of everything the charts show: a ring of system points and
// one ring per build tree. The capacity follows the history span and the
// sampling interval; builds that ended drop out once their last point is older
// than the span.
class MemoryHistory {
  public:
    MemoryHistory();

    void configure(double spanSeconds, double intervalSeconds);
    double spanSeconds() const { return spanSeconds_; }
    std::size_t capacity() const { return points_.capacity(); }

    void append(const Snapshot& snapshot);
    void clear();

    const HistoryRing<HistoryPoint>& points() const { return points_; }
    const std::vector<BuildSeries>& builds() const { return builds_; }
    double latestSeconds() const { return points_.empty() ? 0.0 : points_.back().seconds; }

    // The point nearest to `seconds`, or nullptr when empty.
    const HistoryPoint* nearest(double seconds) const;

    static double toSeconds(std::int64_t steadyNs) { return static_cast<double>(steadyNs) / 1e9; }
    static QString buildLabel(const Snapshot& snapshot, const BuildTree& build);

    // Never more build series than this: a machine that ran fifty builds in
    // the span still draws a readable chart.
    static constexpr std::size_t kMaxBuildSeries = 12;

  private:
    HistoryRing<HistoryPoint> points_;
    std::vector<BuildSeries> builds_;
    double spanSeconds_ = 30 * 60.0;
    double intervalSeconds_ = 1.0;
    std::size_t buildCapacity() const;
};

} // namespace headroom::services
