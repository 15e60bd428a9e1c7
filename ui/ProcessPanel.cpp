// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ProcessPanel.h"

#include "ui/CachedTextDelegate.h"
#include "ui/ProcessColumns.h"
#include "ui/ProcessFilterProxy.h"
#include "ui/ProcessTableModel.h"
#include "ui/ProcessTreeModel.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QTreeView>
#include <QVBoxLayout>

namespace headroom::ui {

ProcessPanel::ProcessPanel(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("processPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto* bar = new QHBoxLayout;
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("processFilter"));
    filter_->setPlaceholderText(tr("Filter by name, pid, user, role or command line  (Ctrl+F)"));
    filter_->setClearButtonEnabled(true);
    buildOnly_ = new QCheckBox(tr("&Build processes only"), this);
    buildOnly_->setObjectName(QStringLiteral("buildOnly"));
    tree_ = new QCheckBox(tr("T&ree"), this);
    tree_->setObjectName(QStringLiteral("treeMode"));
    tree_->setToolTip(
        tr("Show processes under their parents; a collapsed parent shows the sum of its subtree"));
    count_ = new QLabel(this);
    count_->setObjectName(QStringLiteral("processCount"));
    count_->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(filter_, 1);
    bar->addWidget(buildOnly_);
    bar->addWidget(tree_);
    bar->addWidget(count_);
    layout->addLayout(bar);

    tableModel_ = new ProcessTableModel(this);
    treeModel_ = new ProcessTreeModel(this);
    proxy_ = new ProcessFilterProxy(this);

    view_ = new QTreeView(this);
    view_->setObjectName(QStringLiteral("processView"));
    view_->setRootIsDecorated(false);
    view_->setUniformRowHeights(true);
    view_->setItemDelegate(new CachedTextDelegate(view_));
    view_->setAlternatingRowColors(true);
    view_->setSortingEnabled(true);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view_->setContextMenuPolicy(Qt::CustomContextMenu);
    view_->setAllColumnsShowFocus(true);
    view_->header()->setStretchLastSection(true);
    view_->header()->setSectionsMovable(true);
    layout->addWidget(view_, 1);

    attachModel();
    view_->sortByColumn(ProcessColumns::Memory, Qt::DescendingOrder);
    view_->setColumnWidth(ProcessColumns::Pid, 70);
    view_->setColumnWidth(ProcessColumns::Name, 150);
    view_->setColumnWidth(ProcessColumns::Role, 90);
    view_->setColumnWidth(ProcessColumns::User, 80);
    view_->setColumnWidth(ProcessColumns::Memory, 90);
    view_->setColumnWidth(ProcessColumns::Cpu, 60);
    view_->setColumnWidth(ProcessColumns::State, 80);
    view_->setColumnWidth(ProcessColumns::Started, 75);

    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& text) {
        proxy_->setFilterText(text);
        updateCount();
    });
    connect(buildOnly_, &QCheckBox::toggled, this, [this](bool on) {
        proxy_->setBuildProcessesOnly(on);
        updateCount();
    });
    connect(tree_, &QCheckBox::toggled, this, &ProcessPanel::setTreeMode);
    connect(view_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        if (contextMenu_ && view_->indexAt(pos).isValid())
            contextMenu_->popup(view_->viewport()->mapToGlobal(pos));
    });
    connect(view_, &QTreeView::activated, this, [this](const QModelIndex& index) {
        emit activated(index.data(ProcessColumns::KeyRole).value<ProcessKey>());
    });
    // New parents open like the rest of the tree; only what the user folds
    // stays folded (and shows its subtree's sum).
    connect(proxy_, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex& parent, int first, int last) {
                if (!treeMode_)
                    return;
                for (int row = first; row <= last; ++row)
                    expandSubtree(proxy_->index(row, 0, parent));
            });
    connect(proxy_, &QAbstractItemModel::modelReset, this, [this] {
        if (treeMode_)
            expandSubtree({});
    });
    connect(view_, &QTreeView::expanded, this, [this](const QModelIndex& index) {
        if (treeMode_)
            treeModel_->setExpanded(proxy_->mapToSource(index), true);
    });
    connect(view_, &QTreeView::collapsed, this, [this](const QModelIndex& index) {
        if (treeMode_)
            treeModel_->setExpanded(proxy_->mapToSource(index), false);
    });
}

void ProcessPanel::attachModel()
{
    const std::vector<ProcessKey> selected =
        view_->selectionModel() ? selectedKeys() : std::vector<ProcessKey>{};
    QItemSelectionModel* oldSelection = view_->selectionModel();
    proxy_->setSourceModel(treeMode_ ? static_cast<QAbstractItemModel*>(treeModel_)
                                     : static_cast<QAbstractItemModel*>(tableModel_));
    if (view_->model() != proxy_)
        view_->setModel(proxy_);
    if (oldSelection && oldSelection != view_->selectionModel())
        oldSelection->deleteLater();
    connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ProcessPanel::selectionChanged, Qt::UniqueConnection);
    view_->setRootIsDecorated(treeMode_);
    if (treeMode_)
        expandSubtree({});
    selectKeys(selected);
}

void ProcessPanel::expandSubtree(const QModelIndex& index)
{
    // QTreeView::expandAll() does not report each node; expand() does, and the
    // tree model needs to know which nodes are open.
    const int rows = proxy_->rowCount(index);
    if (rows == 0)
        return;
    if (index.isValid())
        view_->expand(index);
    for (int row = 0; row < rows; ++row)
        expandSubtree(proxy_->index(row, 0, index));
}

void ProcessPanel::setSnapshot(const services::SnapshotPtr& snapshot)
{
    snapshot_ = snapshot;
    // Only the model on screen follows every refresh; the other catches up
    // when the user switches.
    if (treeMode_)
        treeModel_->setSnapshot(snapshot);
    else
        tableModel_->setSnapshot(snapshot);
    updateCount();
}

void ProcessPanel::setTreeMode(bool tree)
{
    if (tree == treeMode_)
        return;
    const std::vector<ProcessKey> selected = selectedKeys();
    treeMode_ = tree;
    {
        const QSignalBlocker blocker(tree_);
        tree_->setChecked(tree);
    }
    if (snapshot_) {
        if (tree)
            treeModel_->setSnapshot(snapshot_);
        else
            tableModel_->setSnapshot(snapshot_);
    }
    attachModel();
    selectKeys(selected);
    updateCount();
}

void ProcessPanel::setFilterText(const QString& text)
{
    filter_->setText(text);
}

void ProcessPanel::setBuildProcessesOnly(bool only)
{
    buildOnly_->setChecked(only);
}

std::vector<ProcessKey> ProcessPanel::selectedKeys() const
{
    std::vector<ProcessKey> keys;
    if (!view_->selectionModel())
        return keys;
    QModelIndexList rows = view_->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [this](const QModelIndex& a, const QModelIndex& b) {
        return view_->visualRect(a).top() < view_->visualRect(b).top();
    });
    for (const QModelIndex& index : rows)
        keys.push_back(index.data(ProcessColumns::KeyRole).value<ProcessKey>());
    return keys;
}

void ProcessPanel::selectKeys(const std::vector<ProcessKey>& keys)
{
    QItemSelection selection;
    QModelIndex first;
    for (const ProcessKey& key : keys) {
        QModelIndex source;
        if (treeMode_) {
            source = treeModel_->indexOf(key);
        } else {
            const int row = tableModel_->rowOf(key);
            if (row >= 0)
                source = tableModel_->index(row, 0);
        }
        const QModelIndex proxied = proxy_->mapFromSource(source);
        if (!proxied.isValid())
            continue;
        if (!first.isValid())
            first = proxied;
        selection.select(proxied, proxied.siblingAtColumn(ProcessColumns::Count - 1));
    }
    view_->selectionModel()->select(selection,
                                    QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (first.isValid()) {
        view_->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        view_->scrollTo(first);
    }
}

std::vector<const ProcessSample*> ProcessPanel::selectedProcesses() const
{
    std::vector<const ProcessSample*> processes;
    if (!snapshot_)
        return processes;
    for (const ProcessKey& key : selectedKeys()) {
        if (const ProcessSample* process = snapshot_->find(key))
            processes.push_back(process);
    }
    return processes;
}

void ProcessPanel::updateCount()
{
    const int total = treeMode_ ? -1 : tableModel_->rowCount();
    if (treeMode_ || total < 0) {
        count_->setText(snapshot_ ? tr("%n processes", nullptr, static_cast<int>(snapshot_->processes.size()))
                                  : QString());
        return;
    }
    const int shown = proxy_->rowCount();
    count_->setText(shown == total ? tr("%n processes", nullptr, total)
                                   : tr("%1 of %2").arg(shown).arg(total));
}

} // namespace headroom::ui
