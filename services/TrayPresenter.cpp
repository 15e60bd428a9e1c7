// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/TrayPresenter.h"

#include "headroom/PressureMessage.h"
#include "headroom/Units.h"
#include "services/SafeDisplayText.h"

#include <QCoreApplication>
#include <QStringList>

namespace headroom::services {

namespace {
QString trayText(const char* text)
{
    return QCoreApplication::translate("TrayPresenter", text);
}

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

// "buildbox: critical, only 4% of RAM is available", "buildbox: unreachable".
QString machineLine(const TrayMachineLevel& m)
{
    const QString name = safeDisplayText(m.name, 80);
    if (!m.reachable)
        return trayText("%1: unreachable").arg(name);
    if (!m.hasReading)
        return trayText("%1: connecting").arg(name);
    if (m.reason.isEmpty())
        return trayText("%1: %2").arg(name, levelName(m.level).toLower());
    return trayText("%1: %2, %3").arg(name, levelName(m.level).toLower(), safeDisplayText(m.reason, 300));
}

// The followed machine whose level is worse than `level`, worst first; null: none.
const TrayMachineLevel* worseMachine(PressureLevel level, const std::vector<TrayMachineLevel>& followed)
{
    const TrayMachineLevel* worst = nullptr;
    for (const TrayMachineLevel& m : followed) {
        if (!m.reachable || !m.hasReading)
            continue;
        const PressureLevel against = worst ? worst->level : level;
        if (static_cast<int>(m.level) > static_cast<int>(against))
            worst = &m;
    }
    return worst;
}
} // namespace

TrayStatus TrayPresenter::present(const SnapshotPtr& snapshot, const PressureState& pressure,
                                  const TrayGuardState& guard, const TrayLastBuild& lastBuild,
                                  const std::vector<TrayMachineLevel>& followed)
{
    TrayStatus t;
    t.guardOn = guard.guardOn;
    t.quiet = guard.quiet;
    t.heldPaused = guard.heldPaused;
    t.canPause = guard.canPause;
    t.lastBuild = lastBuild.title;
    t.canStartBuild = !lastBuild.title.isEmpty() && lastBuild.launcherIdle;
    const TrayMachineLevel* culprit =
        worseMachine(snapshot ? pressure.level : PressureLevel::Normal, followed);
    QStringList machines;
    for (const TrayMachineLevel& m : followed)
        machines << machineLine(m);
    if (!snapshot) {
        t.tooltip = trayText("Headroom: waiting for the first sample");
        if (culprit) {
            t.level = culprit->level;
            t.tooltip = trayText("Headroom: %1").arg(machineLine(*culprit));
        }
        if (!machines.isEmpty())
            t.tooltip += QLatin1Char('\n') + machines.join(QLatin1Char('\n'));
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
    // A followed machine worse off than this one decides the icon, and says so first.
    if (culprit) {
        t.level = culprit->level;
        lines << trayText("Headroom: %1").arg(machineLine(*culprit));
    }
    lines << (pressure.reason.isEmpty()
                  ? trayText("%1memory normal")
                        .arg(culprit ? trayText("This computer: ") : trayText("Headroom: "))
                  : trayText("%1%2, %3")
                        .arg(culprit ? trayText("This computer: ") : trayText("Headroom: "),
                             levelName(pressure.level).toLower(), pressure.reason));
    QString ram = trayText("RAM %1 of %2 used (%3 %)")
                      .arg(bytes(m.used), bytes(m.total))
                      .arg(m.usedFraction() * 100.0, 0, 'f', 0);
    if (m.swapTotal > 0)
        ram += trayText(" · swap %1 of %2").arg(bytes(m.swapUsed), bytes(m.swapTotal));
    lines << ram;
    // Inside a container the machine's figures are the host's: say which limit applies.
    if (const MemoryBudget& b = snapshot->budget; b.isCgroup())
        lines << trayText("%1 left of the %2")
                     .arg(bytes(b.availableBytes), QString::fromStdString(b.describe()));
    if (const std::string top = describeTopConsumer(*snapshot); !top.empty())
        lines << trayText("Top: %1").arg(QString::fromStdString(top));
    if (const QString left = formatTimeLeft(pressure.secondsLeft); !left.isEmpty())
        lines << trayText("Memory runs out in %1").arg(left);
    if (t.guardOn)
        lines << trayText("Build guard on");
    if (t.heldPaused)
        lines << trayText("Builds paused by Headroom");
    for (const TrayMachineLevel& m : followed) {
        if (&m != culprit)
            lines << machineLine(m);
    }
    t.tooltip = lines.join(QLatin1Char('\n'));
    return t;
}

bool TrayPresenter::update(const SnapshotPtr& snapshot, const PressureState& pressure,
                           const TrayGuardState& guard, const TrayLastBuild& lastBuild,
                           const std::vector<TrayMachineLevel>& followed)
{
    TrayStatus next = present(snapshot, pressure, guard, lastBuild, followed);
    if (presented_ && next == status_)
        return false;
    presented_ = true;
    status_ = std::move(next);
    return true;
}

} // namespace headroom::services
