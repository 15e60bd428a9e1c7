// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ProcessTreeModel.h"

#include <algorithm>

namespace headroom::ui {
namespace {

using ParentOf = std::unordered_map<ProcessKey, ProcessKey, ProcessKeyHash>;

// The tree parent of each process in a snapshot: its parent pid, if that
// process is in the table and started no later (a reused pid is not a parent).
// Absent from the map means a top-level process.
ParentOf parentsOf(const Snapshot& snapshot)
{
    ParentOf parents;
    parents.reserve(snapshot.processes.size());
    for (const ProcessSample& process : snapshot.processes) {
        if (process.kernelThread || process.parentPid == process.key.pid)
            continue;
        const ProcessSample* parent = snapshot.find(process.parentPid);
        if (parent && !parent->kernelThread && parent->key.startTime <= process.key.startTime)
            parents.emplace(process.key, parent->key);
    }
    return parents;
}

} // namespace

ProcessTreeModel::ProcessTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

ProcessTreeModel::~ProcessTreeModel() = default;

ProcessTreeModel::Node* ProcessTreeModel::nodeOf(const QModelIndex& index) const
{
    return index.isValid() ? static_cast<Node*>(index.internalPointer()) : const_cast<Node*>(&root_);
}

QModelIndex ProcessTreeModel::indexOfNode(const Node* node, int column) const
{
    if (!node || node == &root_)
        return {};
    return createIndex(node->row, column, const_cast<Node*>(node));
}

QModelIndex ProcessTreeModel::indexOf(const ProcessKey& key, int column) const
{
    const auto it = nodes_.find(key);
    return it == nodes_.end() ? QModelIndex() : indexOfNode(it->second.get(), column);
}

ProcessColumns::SubtreeSum ProcessTreeModel::subtreeSum(const ProcessKey& key) const
{
    const auto it = nodes_.find(key);
    return it == nodes_.end() ? ProcessColumns::SubtreeSum{} : it->second->sum;
}

void ProcessTreeModel::renumber(Node* parent)
{
    for (std::size_t i = 0; i < parent->children.size(); ++i)
        parent->children[i]->row = static_cast<int>(i);
}

void ProcessTreeModel::forgetSubtree(Node* node)
{
    for (Node* child : node->children)
        forgetSubtree(child);
    expanded_.erase(node->key);
    nodes_.erase(node->key);
}

void ProcessTreeModel::removeSubtree(Node* node)
{
    Node* parent = node->parent;
    const int row = node->row;
    beginRemoveRows(indexOfNode(parent), row, row);
    parent->children.erase(parent->children.begin() + row);
    renumber(parent);
    forgetSubtree(node);
    endRemoveRows();
}

void ProcessTreeModel::setSnapshot(services::SnapshotPtr snapshot)
{
    if (!snapshot)
        return;
    const ParentOf parents = parentsOf(*snapshot);
    std::unordered_map<ProcessKey, std::size_t, ProcessKeyHash> incoming;
    incoming.reserve(snapshot->processes.size());
    std::unordered_map<ProcessKey, std::vector<std::size_t>, ProcessKeyHash> childrenOf;
    std::vector<std::size_t> topLevel;
    for (std::size_t i = 0; i < snapshot->processes.size(); ++i) {
        const ProcessSample& process = snapshot->processes[i];
        if (process.kernelThread)
            continue;
        incoming.emplace(process.key, i);
        const auto parent = parents.find(process.key);
        if (parent == parents.end())
            topLevel.push_back(i);
        else
            childrenOf[parent->second].push_back(i);
    }
    auto desiredParent = [&](const ProcessKey& key) -> const ProcessKey* {
        const auto it = parents.find(key);
        return it == parents.end() ? nullptr : &it->second;
    };

    const bool firstFill = nodes_.empty();
    if (firstFill)
        beginResetModel();

    // 1. Remove processes that ended or moved to another parent (the kernel
    //    re-parents orphans); a removed node takes its subtree with it, and
    //    whatever of that subtree still lives is re-inserted below.
    if (!firstFill) {
        std::vector<ProcessKey> leaving;
        for (const auto& [key, node] : nodes_) {
            if (!incoming.contains(key)) {
                leaving.push_back(key);
                continue;
            }
            const ProcessKey* wanted = desiredParent(key);
            const bool isTop = node->parent == &root_;
            if ((wanted == nullptr) != isTop || (wanted && !isTop && node->parent->key != *wanted))
                leaving.push_back(key);
        }
        for (const ProcessKey& key : leaving) {
            const auto it = nodes_.find(key);
            if (it != nodes_.end())
                removeSubtree(it->second.get());
        }
    }

    // 2. Survivors read from the new snapshot; remember which show something new.
    std::unordered_set<const Node*> changed;
    for (auto& [key, node] : nodes_) {
        const std::size_t next = incoming.at(key);
        if (!firstFill &&
            !ProcessColumns::sameCells(snapshot_->processes[node->sampleIndex], snapshot->processes[next]))
            changed.insert(node.get());
        node->sampleIndex = next;
    }
    snapshot_ = std::move(snapshot);

    // 3. Insert new processes, parents before children.
    std::vector<std::pair<Node*, std::size_t>> pending; // (parent node, sample index)
    for (std::size_t index : topLevel)
        pending.emplace_back(&root_, index);
    while (!pending.empty()) {
        auto [parent, sampleIndex] = pending.back();
        pending.pop_back();
        const ProcessSample& process = snapshot_->processes[sampleIndex];
        Node* node = nullptr;
        const auto existing = nodes_.find(process.key);
        if (existing != nodes_.end()) {
            node = existing->second.get();
        } else {
            auto created = std::make_unique<Node>();
            created->key = process.key;
            created->sampleIndex = sampleIndex;
            created->parent = parent;
            created->row = static_cast<int>(parent->children.size());
            if (!firstFill)
                beginInsertRows(indexOfNode(parent), created->row, created->row);
            parent->children.push_back(created.get());
            node = created.get();
            nodes_.emplace(process.key, std::move(created));
            if (!firstFill)
                endInsertRows();
        }
        const auto kids = childrenOf.find(process.key);
        if (kids != childrenOf.end()) {
            for (std::size_t child : kids->second)
                pending.emplace_back(node, child);
        }
    }

    std::unordered_map<const Node*, ProcessColumns::SubtreeSum> sumsBefore;
    if (!firstFill) {
        sumsBefore.reserve(nodes_.size());
        for (const auto& [key, node] : nodes_)
            sumsBefore.emplace(node.get(), node->sum);
    }
    computeSums(&root_);
    if (firstFill) {
        endResetModel();
        return;
    }
    // A node whose subtree sum moved shows a new figure when collapsed.
    for (const auto& [node, sum] : sumsBefore) {
        if (!(node->sum == sum))
            changed.insert(node);
    }
    emitChanged(&root_, changed);
}

void ProcessTreeModel::computeSums(Node* node)
{
    ProcessColumns::SubtreeSum sum;
    if (node != &root_) {
        const ProcessSample& process = snapshot_->processes[node->sampleIndex];
        sum.residentBytes = process.residentBytes;
        sum.cpuPercent = process.cpuPercent.value_or(0.0);
        sum.processes = 1;
    }
    for (Node* child : node->children) {
        computeSums(child);
        sum.residentBytes += child->sum.residentBytes;
        sum.cpuPercent += child->sum.cpuPercent;
        sum.processes += child->sum.processes;
    }
    node->sum = sum;
}

void ProcessTreeModel::emitChanged(Node* parent, const std::unordered_set<const Node*>& changed)
{
    if (parent->children.empty())
        return;
    const QModelIndex parentIndex = indexOfNode(parent);
    const std::size_t count = parent->children.size();
    for (std::size_t i = 0; i < count;) {
        if (!changed.contains(parent->children[i])) {
            ++i;
            continue;
        }
        std::size_t last = i;
        while (last + 1 < count && changed.contains(parent->children[last + 1]))
            ++last;
        emit dataChanged(index(static_cast<int>(i), 0, parentIndex),
                         index(static_cast<int>(last), ProcessColumns::Count - 1, parentIndex));
        i = last + 1;
    }
    for (Node* child : parent->children)
        emitChanged(child, changed);
}

void ProcessTreeModel::setExpanded(const QModelIndex& index, bool expanded)
{
    Node* node = nodeOf(index);
    if (node == &root_ || index.model() != this)
        return;
    const bool changed = expanded ? expanded_.insert(node->key).second : expanded_.erase(node->key) > 0;
    if (changed && !node->children.empty()) {
        emit dataChanged(this->index(node->row, ProcessColumns::Memory, parent(index)),
                         this->index(node->row, ProcessColumns::Cpu, parent(index)));
    }
}

QModelIndex ProcessTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    const Node* parentNode = nodeOf(parent);
    return createIndex(row, column, parentNode->children[static_cast<std::size_t>(row)]);
}

QModelIndex ProcessTreeModel::parent(const QModelIndex& child) const
{
    if (!child.isValid())
        return {};
    return indexOfNode(nodeOf(child)->parent);
}

int ProcessTreeModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return static_cast<int>(nodeOf(parent)->children.size());
}

int ProcessTreeModel::columnCount(const QModelIndex&) const
{
    return ProcessColumns::Count;
}

QVariant ProcessTreeModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !snapshot_)
        return {};
    const Node* node = nodeOf(index);
    const ProcessSample& process = snapshot_->processes[node->sampleIndex];
    const bool showSum = !node->children.empty() && !expanded_.contains(node->key);
    return ProcessColumns::data(process, index.column(), role, showSum ? &node->sum : nullptr);
}

QVariant ProcessTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole)
        return ProcessColumns::header(section);
    if (orientation == Qt::Horizontal && role == Qt::TextAlignmentRole)
        return ProcessColumns::data(ProcessSample{}, section, Qt::TextAlignmentRole);
    return QAbstractItemModel::headerData(section, orientation, role);
}

} // namespace headroom::ui
