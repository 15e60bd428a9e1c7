// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/TrayPresenter.h"

#include "headroom/PressureMessage.h"
#include "headroom/Units.h"

#include <QCoreApplication>
#include <QStringList>

namespace headroom::services {

namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("TrayPresenter", text);
}

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}
} // namespace

TrayStatus TrayPresenter::present(const SnapshotPtr& snapshot, const PressureState& pressure,
                                  const TrayGuardState& guard, const TrayLastBuild& lastBuild)
{
    TrayStatus t;
    t.guardOn = guard.guardOn;
    t.quiet = guard.quiet;
    t.heldPaused = guard.heldPaused;
    t.canPause = guard.canPause;
    t.lastBuild = lastBuild.title;
    t.canStartBuild = !lastBuild.title.isEmpty() && lastBuild.launcherIdle;
    if (!snapshot) {
        t.tooltip = tr("Headroom: waiting for the first sample");
        return t;
    }
    const MemoryStatus& m = snapshot->memory;
    t.hasData = true;
    t.level = pressure.level;
    // The icon fills towards the limit that kills: a cgroup's when one applies.
    t.usedFraction =
        snapshot->budget.isCgroup() ? 1.0 - snapshot->budget.availableFraction() : m.usedFraction();
    t.haveRunaway = guard.haveRunaway;
    QStringList lines;
    lines << (pressure.reason.isEmpty()
                  ? tr("Headroom: memory normal")
                  : tr("Headroom: %1, %2").arg(levelName(pressure.level).toLower(), pressure.reason));
    QString ram = tr("RAM %1 of %2 used (%3 %)")
                      .arg(bytes(m.used), bytes(m.total))
                      .arg(m.usedFraction() * 100.0, 0, 'f', 0);
    if (m.swapTotal > 0)
        ram += tr(" · swap %1 of %2").arg(bytes(m.swapUsed), bytes(m.swapTotal));
    lines << ram;
    // Inside a container the machine's figures are the host's: say which limit applies.
    if (const MemoryBudget& b = snapshot->budget; b.isCgroup())
        lines << tr("%1 left of the %2").arg(bytes(b.availableBytes), QString::fromStdString(b.describe()));
    if (const std::string top = describeTopConsumer(*snapshot); !top.empty())
        lines << tr("Top: %1").arg(QString::fromStdString(top));
    if (const QString left = formatTimeLeft(pressure.secondsLeft); !left.isEmpty())
        lines << tr("Memory runs out in %1").arg(left);
    if (t.guardOn)
        lines << tr("Build guard on");
    if (t.heldPaused)
        lines << tr("Builds paused by Headroom");
    t.tooltip = lines.join(QLatin1Char('\n'));
    return t;
}

bool TrayPresenter::update(const SnapshotPtr& snapshot, const PressureState& pressure,
                           const TrayGuardState& guard, const TrayLastBuild& lastBuild)
{
    TrayStatus next = present(snapshot, pressure, guard, lastBuild);
    if (presented_ && next == status_)
        return false;
    presented_ = true;
    status_ = std::move(next);
    return true;
}

} // namespace headroom::services
