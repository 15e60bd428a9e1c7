// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/MemoryHistory.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/SafeText.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace headroom::services {

MemoryHistory::MemoryHistory()
{
    configure(spanSeconds_, intervalSeconds_);
}

std::size_t MemoryHistory::buildCapacity() const
{
    // One slot per poll of the span, and a little slack for polls that come
    // early; a timer never fires much faster than asked.
    return static_cast<std::size_t>(std::ceil(spanSeconds_ / intervalSeconds_ * 1.1)) + 2;
}

void MemoryHistory::configure(double spanSeconds, double intervalSeconds)
{
    spanSeconds_ = std::max(spanSeconds, 1.0);
    intervalSeconds_ = std::max(intervalSeconds, 0.05);
    points_.setCapacity(buildCapacity());
    for (auto& series : builds_)
        series.points.setCapacity(buildCapacity());
}

void MemoryHistory::clear()
{
    points_.clear();
    builds_.clear();
}

QString MemoryHistory::buildLabel(const Snapshot& snapshot, const BuildTree& build)
{
    QString label = QString::fromStdString(headroom::buildName(snapshot, build));
    if (!build.duplicates.empty()) {
        // Builds of one workspace differ by pid, profile and lock, not by folder.
        if (!build.profile.empty())
            label += QStringLiteral(" · ") + QString::fromStdString(safeText(build.profile, 40));
        label += QStringLiteral(" · pid %1").arg(build.root.pid);
        const std::string_view lock = lockStateText(build.lock);
        if (!lock.empty())
            label += QStringLiteral(" · ") + QString::fromUtf8(lock.data(), static_cast<int>(lock.size()));
        return label;
    }
    if (!build.workspace.empty()) {
        QString where = QString::fromStdString(build.workspace);
        const QString home = QDir::homePath();
        if (home.size() > 1 && where.startsWith(home + QLatin1Char('/')))
            where = QLatin1Char('~') + where.mid(home.size());
        label += QStringLiteral(" · ") + where;
    }
    return label;
}

void MemoryHistory::append(const Snapshot& snapshot)
{
    HistoryPoint point;
    point.seconds = toSeconds(snapshot.steadyNs);
    point.wallMs = snapshot.wallMs;
    point.total = snapshot.memory.total;
    point.used = snapshot.memory.used;
    point.available = snapshot.memory.available;
    point.swapUsed = snapshot.memory.swapUsed;
    point.swapTotal = snapshot.memory.swapTotal;
    for (std::size_t i = 0; i < kRoleCount; ++i)
        point.roleBytes[i] = snapshot.roleTotals[i].residentBytes;
    // A clock that goes backwards (replayed series restarting) starts over
    // rather than drawing lines back in time.
    if (!points_.empty() && point.seconds < points_.back().seconds)
        clear();
    points_.push(point);

    for (auto& series : builds_)
        series.running = false;
    for (const BuildTree& build : snapshot.builds) {
        auto it = std::find_if(builds_.begin(), builds_.end(),
                               [&](const BuildSeries& s) { return s.root == build.root; });
        if (it == builds_.end()) {
            BuildSeries series;
            series.root = build.root;
            series.points.setCapacity(buildCapacity());
            builds_.push_back(std::move(series));
            it = builds_.end() - 1;
        }
        it->running = true;
        // Named again each sample: the lock holder changes as builds finish.
        it->label = buildLabel(snapshot, build);
        it->points.push({point.seconds, build.residentBytes});
    }

    const double oldest = point.seconds - spanSeconds_;
    std::erase_if(builds_, [&](const BuildSeries& s) {
        return !s.running && (s.points.empty() || s.points.back().seconds < oldest);
    });
    // Too many: drop the ended builds first, oldest first.
    while (builds_.size() > kMaxBuildSeries) {
        auto victim =
            std::find_if(builds_.begin(), builds_.end(), [](const BuildSeries& s) { return !s.running; });
        if (victim == builds_.end())
            victim = builds_.begin();
        builds_.erase(victim);
    }
}

const HistoryPoint* MemoryHistory::nearest(double seconds) const
{
    if (points_.empty())
        return nullptr;
    std::size_t index = points_.lowerBound([](const HistoryPoint& p) { return p.seconds; }, seconds);
    if (index >= points_.size())
        return &points_.back();
    if (index > 0 && seconds - points_[index - 1].seconds < points_[index].seconds - seconds)
        --index;
    return &points_[index];
}

} // namespace headroom::services
