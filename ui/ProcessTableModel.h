// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/SnapshotPtr.h"

#include <QAbstractTableModel>

#include <vector>

namespace headroom::ui {

// Every process of the latest snapshot, one row each. Rows are stable: a
// process keeps its row across refreshes (only its cells change), processes
// that ended are removed and new ones appended, so views, sort proxies and
// selections keep pointing at the same process, identified by (pid, start
// time). Kernel threads are left out.
class ProcessTableModel : public QAbstractTableModel {
    Q_OBJECT
  public:
    explicit ProcessTableModel(QObject* parent = nullptr);

    void setSnapshot(services::SnapshotPtr snapshot);
    const services::SnapshotPtr& snapshot() const { return snapshot_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    const ProcessSample* process(int row) const;
    int rowOf(const ProcessKey& key) const; // -1 when absent

  private:
    struct Row {
        ProcessKey key;
        std::size_t sampleIndex = 0;
    };
    services::SnapshotPtr snapshot_;
    std::vector<Row> rows_;
};

} // namespace headroom::ui
