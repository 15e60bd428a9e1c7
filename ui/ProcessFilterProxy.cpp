// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ProcessFilterProxy.h"

#include "headroom/ProcessRole.h"
#include "services/SnapshotPtr.h"
#include "ui/ProcessColumns.h"

namespace headroom::ui {

ProcessFilterProxy::ProcessFilterProxy(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(ProcessColumns::SortRole);
    setDynamicSortFilter(true);
    setRecursiveFilteringEnabled(true);
    setAutoAcceptChildRows(false);
}

void ProcessFilterProxy::setFilterText(const QString& text)
{
    if (text == text_)
        return;
    text_ = text;
    // Every word must appear somewhere: "rustc foo" finds rustc compiling foo.
    words_ = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    invalidateFilter();
}

void ProcessFilterProxy::setBuildProcessesOnly(bool only)
{
    if (only == buildOnly_)
        return;
    buildOnly_ = only;
    invalidateFilter();
}

bool ProcessFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    if (buildOnly_) {
        const auto role = static_cast<ProcessRole>(index.data(ProcessColumns::ProcessRoleRole).toInt());
        if (!isBuildRole(role))
            return false;
    }
    if (words_.isEmpty())
        return true;
    const QString haystack = index.data(ProcessColumns::SearchTextRole).toString();
    for (const QString& word : words_) {
        if (!haystack.contains(word, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

bool ProcessFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const QVariant a = left.data(ProcessColumns::SortRole);
    const QVariant b = right.data(ProcessColumns::SortRole);
    const int order = QVariant::compare(a, b) == QPartialOrdering::Less      ? -1
                      : QVariant::compare(a, b) == QPartialOrdering::Greater ? 1
                                                                             : 0;
    if (order != 0)
        return order < 0;
    // Ties break on pid so equal rows never swap places between refreshes.
    return left.data(ProcessColumns::KeyRole).value<ProcessKey>().pid <
           right.data(ProcessColumns::KeyRole).value<ProcessKey>().pid;
}

} // namespace headroom::ui
