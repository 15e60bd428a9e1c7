// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ProcessTableModel.h"

#include "ui/ProcessColumns.h"

#include <unordered_map>

namespace headroom::ui {

ProcessTableModel::ProcessTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ProcessTableModel::setSnapshot(services::SnapshotPtr snapshot)
{
    if (!snapshot)
        return;
    std::unordered_map<ProcessKey, std::size_t, ProcessKeyHash> incoming;
    incoming.reserve(snapshot->processes.size());
    for (std::size_t i = 0; i < snapshot->processes.size(); ++i) {
        if (!snapshot->processes[i].kernelThread)
            incoming.emplace(snapshot->processes[i].key, i);
    }

    if (rows_.empty()) {
        beginResetModel();
        snapshot_ = std::move(snapshot);
        for (std::size_t i = 0; i < snapshot_->processes.size(); ++i) {
            if (!snapshot_->processes[i].kernelThread)
                rows_.push_back({snapshot_->processes[i].key, i});
        }
        endResetModel();
        return;
    }

    // 1. Processes that ended leave, in contiguous runs from the bottom so the
    //    remaining row numbers stay valid while we go.
    int row = static_cast<int>(rows_.size()) - 1;
    while (row >= 0) {
        if (incoming.contains(rows_[static_cast<std::size_t>(row)].key)) {
            --row;
            continue;
        }
        const int last = row;
        while (row > 0 && !incoming.contains(rows_[static_cast<std::size_t>(row - 1)].key))
            --row;
        beginRemoveRows({}, row, last);
        rows_.erase(rows_.begin() + row, rows_.begin() + last + 1);
        endRemoveRows();
        --row;
    }

    // 2. The survivors point into the new snapshot. Only rows whose cells
    //    changed are announced, in contiguous runs: with a thousand sleeping
    //    processes most rows stay as they were, and the sort proxy and the
    //    view then only touch the few that moved.
    std::vector<char> changed(rows_.size(), 0);
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        Row& kept = rows_[i];
        const auto it = incoming.find(kept.key);
        const ProcessSample& before = snapshot_->processes[kept.sampleIndex];
        const ProcessSample& after = snapshot->processes[it->second];
        changed[i] = !ProcessColumns::sameCells(before, after);
        kept.sampleIndex = it->second;
        incoming.erase(it);
    }
    snapshot_ = std::move(snapshot);
    for (std::size_t i = 0; i < changed.size();) {
        if (!changed[i]) {
            ++i;
            continue;
        }
        std::size_t last = i;
        while (last + 1 < changed.size() && changed[last + 1])
            ++last;
        emit dataChanged(index(static_cast<int>(i), 0),
                         index(static_cast<int>(last), ProcessColumns::Count - 1));
        i = last + 1;
    }

    // 3. New processes are appended, in pid order.
    if (!incoming.empty()) {
        std::vector<std::size_t> added;
        added.reserve(incoming.size());
        for (const auto& [key, sampleIndex] : incoming)
            added.push_back(sampleIndex);
        std::sort(added.begin(), added.end());
        const int first = static_cast<int>(rows_.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (std::size_t sampleIndex : added)
            rows_.push_back({snapshot_->processes[sampleIndex].key, sampleIndex});
        endInsertRows();
    }
}

int ProcessTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ProcessTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ProcessColumns::Count;
}

const ProcessSample* ProcessTableModel::process(int row) const
{
    if (row < 0 || row >= static_cast<int>(rows_.size()) || !snapshot_)
        return nullptr;
    return &snapshot_->processes[rows_[static_cast<std::size_t>(row)].sampleIndex];
}

int ProcessTableModel::rowOf(const ProcessKey& key) const
{
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        if (rows_[i].key == key)
            return static_cast<int>(i);
    }
    return -1;
}

QVariant ProcessTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ProcessSample* sample = process(index.row());
    return sample ? ProcessColumns::data(*sample, index.column(), role) : QVariant();
}

QVariant ProcessTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole)
        return ProcessColumns::header(section);
    if (orientation == Qt::Horizontal && role == Qt::TextAlignmentRole)
        return ProcessColumns::data(ProcessSample{}, section, Qt::TextAlignmentRole);
    return QAbstractTableModel::headerData(section, orientation, role);
}

} // namespace headroom::ui
