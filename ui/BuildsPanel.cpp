// SPDX-License-Identifier: GPL-3.0-or-later
#include "BuildsPanel.h"

#include "BuildsModel.h"
#include "CachedTextDelegate.h"
#include "DashboardColors.h"
#include "RunawayBuilds.h"
#include "headroom/BuildTrees.h"
#include "headroom/Units.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTreeView>
#include <QVBoxLayout>

namespace headroom::ui {

BuildsPanel::BuildsPanel(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("buildsPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto* title = new QLabel(tr("<b>Builds</b>"), this);
    totals_ = new QLabel(this);
    totals_->setObjectName(QStringLiteral("roleTotals"));
    totals_->setWordWrap(true);
    totals_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(title);
    layout->addWidget(totals_);

    warning_ = new QFrame(this);
    warning_->setObjectName(QStringLiteral("duplicateWarning"));
    warning_->setFrameShape(QFrame::StyledPanel);
    warning_->setAutoFillBackground(true);
    auto* warningLayout = new QHBoxLayout(warning_);
    warningLayout->setContentsMargins(8, 4, 4, 4);
    auto* icon = new QLabel(warning_);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20, 20));
    warningText_ = new QLabel(warning_);
    warningText_->setWordWrap(true);
    stopExtra_ = new QPushButton(tr("Stop the e&xtra builds"), warning_);
    stopExtra_->setObjectName(QStringLiteral("stopExtraBuilds"));
    stopExtra_->setIcon(QIcon(QStringLiteral(":/icons/stop-builds.svg")));
    warningLayout->addWidget(icon);
    warningLayout->addWidget(warningText_, 1);
    warningLayout->addWidget(stopExtra_);
    warning_->hide();
    layout->addWidget(warning_);

    model_ = new BuildsModel(this);
    view_ = new QTreeView(this);
    view_->setObjectName(QStringLiteral("buildsView"));
    view_->setModel(model_);
    view_->setRootIsDecorated(false);
    view_->setUniformRowHeights(true);
    view_->setItemDelegate(new CachedTextDelegate(view_));
    view_->setAllColumnsShowFocus(true);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    // The workspace takes what the figures leave; the figures take what they need.
    view_->header()->setStretchLastSection(false);
    view_->header()->setSectionResizeMode(BuildsModel::Workspace, QHeaderView::Stretch);
    for (int column : {BuildsModel::Rustc, BuildsModel::Linkers, BuildsModel::Tests, BuildsModel::Memory,
                       BuildsModel::Elapsed})
        view_->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    view_->setColumnWidth(BuildsModel::Build, 150);
    layout->addWidget(view_, 1);

    empty_ = new QLabel(tr("No build running. Builds of cargo, make, ninja and cmake show up here."), this);
    empty_->setObjectName(QStringLiteral("noBuilds"));
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    empty_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(empty_);

    connect(stopExtra_, &QPushButton::clicked, this, [this] {
        if (extra_.empty())
            return;
        emit stopBuildsRequested(extra_,
                                 tr("Stopping %n extra build(s)", nullptr, static_cast<int>(extra_.size())));
    });
    connect(view_, &QTreeView::activated, this, [this](const QModelIndex& index) {
        emit buildActivated(index.data(BuildsModel::RootKeyRole).value<ProcessKey>());
    });
}

void BuildsPanel::setSnapshot(const SnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    snapshot_ = snapshot;
    const ProcessKey selected = view_->currentIndex().isValid()
                                    ? view_->currentIndex().data(BuildsModel::RootKeyRole).value<ProcessKey>()
                                    : ProcessKey{};
    model_->setSnapshot(snapshot);
    if (selected.pid != 0) {
        for (int row = 0; row < model_->rowCount(); ++row) {
            if (model_->index(row, 0).data(BuildsModel::RootKeyRole).value<ProcessKey>() == selected)
                view_->setCurrentIndex(model_->index(row, 0));
        }
    }

    const std::string totals = describeRoleTotals(*snapshot, " · ");
    totals_->setText(totals.empty() ? tr("No build processes.") : QString::fromStdString(totals));

    const bool any = !snapshot->builds.empty();
    view_->setVisible(any);
    empty_->setVisible(!any);

    extra_ = extraDuplicateBuilds(*snapshot);
    if (extra_.empty()) {
        warning_->hide();
        return;
    }
    QStringList where;
    std::uint64_t extraBytes = 0;
    for (const ProcessKey& root : extra_) {
        for (const BuildTree& build : snapshot->builds) {
            if (build.root == root) {
                extraBytes += build.residentBytes;
                QString workspace = QString::fromStdString(build.workspace);
                const QString home = QDir::homePath();
                if (home.size() > 1 && workspace.startsWith(home + QLatin1Char('/')))
                    workspace = QLatin1Char('~') + workspace.mid(home.size());
                if (!where.contains(workspace))
                    where << workspace;
            }
        }
    }
    warningText_->setText(tr("<b>Duplicate builds</b> of %1: %n extra build(s) using %2. "
                             "The one that has run longest is kept.",
                             nullptr, static_cast<int>(extra_.size()))
                              .arg(where.join(QStringLiteral(", ")).toHtmlEscaped(),
                                   QString::fromStdString(formatBytes(extraBytes))));
    QPalette pal = warning_->palette();
    pal.setColor(QPalette::Window, tint(levelColor(MemoryLevel::Warning, palette()), palette(), 0.25));
    warning_->setPalette(pal);
    warning_->show();
}

QString BuildsPanel::roleTotalsText() const
{
    return totals_->text();
}

bool BuildsPanel::duplicateWarningShown() const
{
    return !warning_->isHidden();
}

} // namespace headroom::ui
