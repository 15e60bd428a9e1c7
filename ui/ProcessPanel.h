// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/SnapshotPtr.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QLineEdit;
class QMenu;
class QTreeView;
class QLabel;

namespace headroom::ui {

class ProcessFilterProxy;
class ProcessTableModel;
class ProcessTreeModel;

// The process table: filter box, "build processes only", flat or tree mode,
// sorted by memory. The selection is kept as (pid, start time) keys, so it
// follows the process through every refresh and re-sort.
class ProcessPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ProcessPanel(QWidget* parent = nullptr);

    void setSnapshot(const services::SnapshotPtr& snapshot);
    void setContextMenu(QMenu* menu) { contextMenu_ = menu; }

    void setTreeMode(bool tree);
    bool treeMode() const { return treeMode_; }
    void setFilterText(const QString& text);
    void setBuildProcessesOnly(bool only);

    // The processes selected, in view order.
    std::vector<ProcessKey> selectedKeys() const;
    // Selects exactly these processes (those that are in the table).
    void selectKeys(const std::vector<ProcessKey>& keys);
    // The selected processes' samples from the latest snapshot.
    std::vector<const ProcessSample*> selectedProcesses() const;

    QTreeView* view() const { return view_; }
    ProcessFilterProxy* proxy() const { return proxy_; }
    ProcessTableModel* tableModel() const { return tableModel_; }
    ProcessTreeModel* treeModel() const { return treeModel_; }
    QLineEdit* filterEdit() const { return filter_; }

  signals:
    void selectionChanged();
    void activated(const headroom::ProcessKey& key);

  private:
    void attachModel();
    void expandSubtree(const QModelIndex& index);
    void updateCount();

    services::SnapshotPtr snapshot_;
    QLineEdit* filter_ = nullptr;
    QCheckBox* buildOnly_ = nullptr;
    QCheckBox* tree_ = nullptr;
    QLabel* count_ = nullptr;
    QTreeView* view_ = nullptr;
    ProcessTableModel* tableModel_ = nullptr;
    ProcessTreeModel* treeModel_ = nullptr;
    ProcessFilterProxy* proxy_ = nullptr;
    QMenu* contextMenu_ = nullptr;
    bool treeMode_ = false;
};

} // namespace headroom::ui
