// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ProcessColumns.h"

#include "headroom/Units.h"
#include "services/SnapshotPtr.h"
#include "services/WordsText.h"
#include "ui/DashboardColors.h"

#include <QApplication>
#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QPalette>

#include <cmath>

namespace headroom::ui::ProcessColumns {
namespace {

QString startedText(std::int64_t wallMs)
{
    if (wallMs <= 0)
        return {};
    const QDateTime started = QDateTime::fromMSecsSinceEpoch(wallMs);
    if (started.date() == QDate::currentDate())
        return started.toString(QStringLiteral("HH:mm:ss"));
    return started.toString(QStringLiteral("MMM d HH:mm"));
}

QString cpuText(double percent)
{
    return QString::number(percent, 'f', percent < 10.0 ? 1 : 0);
}

} // namespace

QString header(int column)
{
    switch (column) {
    case Pid:
        return QStringLiteral("PID");
    case Name:
        return QStringLiteral("Name");
    case Role:
        return QStringLiteral("Role");
    case User:
        return QStringLiteral("User");
    case Memory:
        return QStringLiteral("Memory");
    case Cpu:
        return QStringLiteral("CPU %");
    case State:
        return QStringLiteral("State");
    case Started:
        return QStringLiteral("Started");
    case Command:
        return QStringLiteral("Command line");
    default:
        return {};
    }
}

QString roleText(ProcessRole role)
{
    // Left blank for the processes that are no part of a build, so the builds stand out.
    return role == ProcessRole::Other ? QString() : services::roleLabelText(role);
}

QString stateText(ProcessState state)
{
    return services::stateText(state);
}

bool sameCells(const ProcessSample& before, const ProcessSample& after)
{
    // CPU % as shown: one decimal.
    auto shownCpu = [](const std::optional<double>& cpu) { return cpu ? std::llround(*cpu * 10.0) : -1; };
    return before.residentBytes == after.residentBytes &&
           shownCpu(before.cpuPercent) == shownCpu(after.cpuPercent) && before.state == after.state &&
           before.role == after.role && before.uid == after.uid && before.name == after.name &&
           before.exe == after.exe && before.argv == after.argv && before.user == after.user;
}

QVariant data(const ProcessSample& process, int column, int role, const SubtreeSum* sum)
{
    const std::uint64_t bytes = sum ? sum->residentBytes : process.residentBytes;
    const std::optional<double> cpu = sum ? std::optional<double>(sum->cpuPercent) : process.cpuPercent;

    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Pid:
            return QString::number(process.key.pid);
        case Name:
            return QString::fromStdString(process.displayName());
        case Role:
            return roleText(process.role);
        case User:
            return process.user.empty() ? QString::number(process.uid) : QString::fromStdString(process.user);
        case Memory:
            if (sum)
                return QStringLiteral("Σ %1").arg(QString::fromStdString(formatBytes(bytes)));
            return QString::fromStdString(formatBytes(bytes));
        case Cpu:
            return cpu ? cpuText(*cpu) : QString();
        case State:
            return stateText(process.state);
        case Started:
            return startedText(process.startedAtMs);
        case Command:
            // The program's name, not its path, so the arguments stay in sight;
            // the full line is in the tooltip.
            return QString::fromStdString(process.displayCommand());
        }
        return {};
    case SortRole:
        switch (column) {
        case Pid:
            return QVariant::fromValue<qlonglong>(process.key.pid);
        case Memory:
            return QVariant::fromValue<qulonglong>(bytes);
        case Cpu:
            return cpu ? *cpu : -1.0;
        case Started:
            return QVariant::fromValue<qlonglong>(process.startedAtMs);
        case Role:
            // Build roles first in role order, "other" last.
            return static_cast<int>(roleIndex(process.role));
        default:
            return data(process, column, Qt::DisplayRole, sum).toString().toLower();
        }
    case Qt::TextAlignmentRole:
        if (column == Pid || column == Memory || column == Cpu)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (column == Role && isBuildRole(process.role))
            return QBrush(roleColor(process.role, QApplication::palette()));
        if (column == State && process.state == ProcessState::Stopped)
            return QBrush(levelColor(services::MemoryLevel::Warning, QApplication::palette()));
        return {};
    case Qt::FontRole:
        if (column == Role && isBuildRole(process.role)) {
            QFont font = QApplication::font();
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::ToolTipRole:
        if (column == Command || column == Name)
            return QString::fromStdString(process.commandLine()).toHtmlEscaped();
        if (column == Memory && sum)
            return QStringLiteral("%1 in %2 processes (this one: %3)")
                .arg(QString::fromStdString(formatBytes(sum->residentBytes)))
                .arg(sum->processes)
                .arg(QString::fromStdString(formatBytes(process.residentBytes)));
        return {};
    case KeyRole:
        return QVariant::fromValue(process.key);
    case ProcessRoleRole:
        return static_cast<int>(process.role);
    case ResidentBytesRole:
        return QVariant::fromValue<qulonglong>(process.residentBytes);
    case SearchTextRole:
        return QString::number(process.key.pid) + QLatin1Char(' ') +
               QString::fromStdString(process.displayName()) + QLatin1Char(' ') +
               QString::fromStdString(process.user) + QLatin1Char(' ') + roleText(process.role) +
               QLatin1Char(' ') + QString::fromStdString(process.commandLine());
    default:
        return {};
    }
}

} // namespace headroom::ui::ProcessColumns
