// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/SnapshotPtr.h"
#include "ui/ProcessColumns.h"

#include <QAbstractItemModel>

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace headroom::ui {

// The processes of the latest snapshot as a parent/child tree. Like the flat
// model, nodes are stable across refreshes (keyed by pid + start time) so
// expansion and selection survive. A collapsed node shows the memory and CPU
// of its whole subtree; the view reports expansion with setExpanded().
class ProcessTreeModel : public QAbstractItemModel {
    Q_OBJECT
  public:
    explicit ProcessTreeModel(QObject* parent = nullptr);
    ~ProcessTreeModel() override;

    void setSnapshot(services::SnapshotPtr snapshot);
    const services::SnapshotPtr& snapshot() const { return snapshot_; }

    void setExpanded(const QModelIndex& index, bool expanded);
    bool isExpanded(const ProcessKey& key) const { return expanded_.contains(key); }

    QModelIndex indexOf(const ProcessKey& key, int column = 0) const;
    ProcessColumns::SubtreeSum subtreeSum(const ProcessKey& key) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  private:
    struct Node {
        ProcessKey key;
        std::size_t sampleIndex = 0;
        Node* parent = nullptr;
        std::vector<Node*> children;
        int row = 0;
        ProcessColumns::SubtreeSum sum;
    };

    Node* nodeOf(const QModelIndex& index) const;
    QModelIndex indexOfNode(const Node* node, int column = 0) const;
    void removeSubtree(Node* node);
    void forgetSubtree(Node* node);
    static void renumber(Node* parent);
    void computeSums(Node* node);
    void emitChanged(Node* parent, const std::unordered_set<const Node*>& changed);

    services::SnapshotPtr snapshot_;
    Node root_;
    std::unordered_map<ProcessKey, std::unique_ptr<Node>, ProcessKeyHash> nodes_;
    std::unordered_set<ProcessKey, ProcessKeyHash> expanded_;
};

} // namespace headroom::ui
