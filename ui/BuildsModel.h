// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/SnapshotPtr.h"

#include <QAbstractTableModel>

#include <vector>

namespace headroom::ui {

// The build trees of the latest snapshot, one row each, heaviest first as the
// core orders them.
class BuildsModel : public QAbstractTableModel {
    Q_OBJECT
  public:
    enum Column { Build, Workspace, Rustc, Linkers, Tests, Memory, Elapsed, Count };
    enum DataRole { RootKeyRole = Qt::UserRole + 1, HasDuplicatesRole, ResidentBytesRole };

    explicit BuildsModel(QObject* parent = nullptr);

    void setSnapshot(services::SnapshotPtr snapshot);
    const BuildTree* build(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  private:
    services::SnapshotPtr snapshot_;
    std::vector<ProcessKey> roots_;
};

} // namespace headroom::ui
