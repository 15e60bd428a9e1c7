// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/PoolWatcher.h"
#include "services/SnapshotPtr.h"

#include <QAbstractTableModel>

#include <memory>
#include <vector>

namespace headroom::ui {

// The build trees of the latest snapshot, one row each, heaviest first as the
// core orders them; a build that draws from the job pool says its tokens.
class BuildsModel : public QAbstractTableModel {
    Q_OBJECT
  public:
    enum Column { Build, Workspace, Rustc, Linkers, Tests, Memory, Elapsed, Count };
    enum DataRole {
        RootKeyRole = Qt::UserRole + 1,
        HasDuplicatesRole,
        ResidentBytesRole,
        PoolMemberRole, // bool: the build draws from the job pool
        PoolTokensRole, // unsigned: the tokens its lane holds (0 when not a member)
    };

    explicit BuildsModel(QObject* parent = nullptr);

    void setSnapshot(services::SnapshotPtr snapshot);
    // The job pool as last read: which builds are members, and their tokens.
    void setPool(std::shared_ptr<const services::PoolView> pool);
    const BuildTree* build(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  private:
    services::SnapshotPtr snapshot_;
    std::vector<ProcessKey> roots_;
    std::shared_ptr<const services::PoolView> pool_;
};

} // namespace headroom::ui
