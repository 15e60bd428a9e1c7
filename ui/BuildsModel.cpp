// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/BuildsModel.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"
#include "ui/DashboardColors.h"

#include <QApplication>
#include <QBrush>
#include <QDir>
#include <QStyle>

#include <algorithm>

namespace headroom::ui {

BuildsModel::BuildsModel(QObject* parent) : QAbstractTableModel(parent) {}

void BuildsModel::setSnapshot(services::SnapshotPtr snapshot)
{
    if (!snapshot)
        return;
    std::vector<ProcessKey> roots;
    roots.reserve(snapshot->builds.size());
    for (const BuildTree& build : snapshot->builds)
        roots.push_back(build.root);
    if (roots != roots_) {
        // Builds come and go a few times an hour; a reset is simplest and the
        // panel restores its selection by root key.
        beginResetModel();
        snapshot_ = std::move(snapshot);
        roots_ = std::move(roots);
        endResetModel();
        return;
    }
    snapshot_ = std::move(snapshot);
    if (!roots_.empty())
        emit dataChanged(index(0, 0), index(static_cast<int>(roots_.size()) - 1, Count - 1));
}

void BuildsModel::setPool(std::shared_ptr<const services::PoolView> pool)
{
    pool_ = std::move(pool);
    if (!roots_.empty())
        emit dataChanged(index(0, Build), index(static_cast<int>(roots_.size()) - 1, Build));
}

const BuildTree* BuildsModel::build(int row) const
{
    if (!snapshot_ || row < 0 || row >= static_cast<int>(snapshot_->builds.size()))
        return nullptr;
    return &snapshot_->builds[static_cast<std::size_t>(row)];
}

int BuildsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(roots_.size());
}

int BuildsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : Count;
}

QVariant BuildsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const BuildTree* build = this->build(index.row());
    if (!build)
        return {};
    const bool duplicate = !build->duplicates.empty();
    const PoolMember* member = pool_ ? pool_->memberOf(*build) : nullptr;

    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Build: {
            // Enough to tell two builds of one workspace apart: packages,
            // profile, pid and who holds the lock (the age has its column).
            QString text = QString::fromStdString(buildName(*snapshot_, *build));
            if (!build->profile.empty() && build->profile != "dev")
                text += QStringLiteral(" · ") + QString::fromStdString(safeText(build->profile, 40));
            // A remote machine's build has a synthetic root (pid 0): no pid to show.
            if (build->root.pid != 0)
                text += tr(" · pid %1").arg(build->root.pid);
            const std::string_view lock = lockStateText(build->lock);
            if (!lock.empty())
                text += QStringLiteral(" · ") + QString::fromUtf8(lock.data(), static_cast<int>(lock.size()));
            if (member)
                text +=
                    tr(" · pool %1/%2").arg(member->inUse).arg(member->granted); // tokens: see the tooltip
            return text;
        }
        case Workspace: {
            QString where = QString::fromStdString(build->workspace);
            const QString home = QDir::homePath();
            if (home.size() > 1 && where.startsWith(home + QLatin1Char('/')))
                where = QLatin1Char('~') + where.mid(home.size());
            return where;
        }
        case Rustc:
            return build->count(ProcessRole::Rustc);
        case Linkers:
            return build->count(ProcessRole::Linker);
        case Tests:
            return build->count(ProcessRole::Test);
        case Memory:
            return QString::fromStdString(formatBytes(build->residentBytes));
        case Elapsed:
            return QString::fromStdString(formatDuration(build->elapsedSeconds));
        }
        return {};
    case Qt::ToolTipRole: {
        QString tip = QStringLiteral("<b>%1</b><br>%2 processes")
                          .arg(QString::fromStdString(build->command).toHtmlEscaped(),
                               QString::number(build->members.size()));
        if (!build->targetDir.empty())
            tip += QStringLiteral("<br>target: %1")
                       .arg(QString::fromStdString(build->targetDir).toHtmlEscaped());
        if (member) {
            tip += tr("<br>Draws from the job pool: %1 of %2 tokens in use, %3 job(s) running")
                       .arg(member->inUse)
                       .arg(member->granted)
                       .arg(member->jobs);
            if (!member->heldBack.empty())
                tip += tr("<br>Held back: %1")
                           .arg(QString::fromStdString(safeText(member->heldBack, 300)).toHtmlEscaped());
        }
        if (duplicate) {
            tip += tr("<br><b>Another build works on the same workspace or target folder.</b>");
            for (const DuplicateGroup& group : duplicateGroups(*snapshot_)) {
                const auto at = static_cast<std::size_t>(index.row());
                if (std::find(group.builds.begin(), group.builds.end(), at) != group.builds.end())
                    tip += (at == group.kept ? tr("<br>Kept by “Stop the extra builds”: %1")
                                             : tr("<br>Stopped by “Stop the extra builds”: %1"))
                               .arg(QString::fromStdString(duplicateVerdict(*snapshot_, group, at)));
            }
        }
        return tip;
    }
    case Qt::DecorationRole:
        if (index.column() == Build && duplicate)
            return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        return {};
    case Qt::BackgroundRole:
        if (duplicate)
            return QBrush(tint(levelColor(services::MemoryLevel::Warning, QApplication::palette()),
                               QApplication::palette(), 0.2));
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() >= Rustc)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case RootKeyRole:
        return QVariant::fromValue(build->root);
    case HasDuplicatesRole:
        return duplicate;
    case ResidentBytesRole:
        return QVariant::fromValue<qulonglong>(build->residentBytes);
    case PoolMemberRole:
        return member != nullptr;
    case PoolTokensRole:
        return member ? member->granted : 0u;
    default:
        return {};
    }
}

QVariant BuildsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Build:
        return tr("Build");
    case Workspace:
        return tr("Workspace");
    case Rustc:
        return tr("rustc");
    case Linkers:
        return tr("Linkers");
    case Tests:
        return tr("Tests");
    case Memory:
        return tr("Memory");
    case Elapsed:
        return tr("Elapsed");
    }
    return {};
}

} // namespace headroom::ui
