// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/Process.h"

#include <QString>
#include <QVariant>

namespace headroom::ui {

// The columns of the process table and the tree, and what each cell shows.
// Both models share this so the flat and the tree view agree cell for cell.
namespace ProcessColumns {

enum Column { Pid, Name, Role, User, Memory, Cpu, State, Started, Command, Count };

// Item data roles beyond Qt's.
enum DataRole {
    SortRole = Qt::UserRole + 1, // a number or string that sorts the column
    KeyRole,                     // the row's ProcessKey
    ProcessRoleRole,             // the headroom::ProcessRole as int
    SearchTextRole,              // what the filter box matches against
    ResidentBytesRole,           // own resident bytes, as qulonglong
};

QString header(int column);
QString roleText(ProcessRole role);
QString stateText(ProcessState state);

// Sums a tree node shows for its subtree while collapsed.
struct SubtreeSum {
    std::uint64_t residentBytes = 0;
    double cpuPercent = 0.0;
    int processes = 0; // the node itself included

    friend bool operator==(const SubtreeSum&, const SubtreeSum&) = default;
};

// True when a refresh changes nothing a cell shows, so the row need not be
// repainted or re-sorted (most processes sleep through most polls).
bool sameCells(const ProcessSample& before, const ProcessSample& after);

// Cell data; `sum`, when given, replaces the memory and CPU figures.
QVariant data(const ProcessSample& process, int column, int role, const SubtreeSum* sum = nullptr);

} // namespace ProcessColumns
} // namespace headroom::ui
