// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/BuildsPanel.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/BuildTrees.h"
#include "headroom/Platform.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"
#include "services/RunawayBuilds.h"
#include "ui/BuildsModel.h"
#include "ui/CachedTextDelegate.h"
#include "ui/DashboardColors.h"
#include "ui/StopBuildsDialog.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTreeView>
#include <QVBoxLayout>

namespace headroom::ui {

BuildsPanel::BuildsPanel(QWidget* parent)
    : QWidget(parent), uid_(platform::currentUid()), selfPid_(platform::currentPid())
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
    pool_ = new QLabel(this);
    pool_->setObjectName(QStringLiteral("poolLine"));
    pool_->setWordWrap(true);
    pool_->setTextFormat(Qt::PlainText);
    pool_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    pool_->hide();
    layout->addWidget(title);
    layout->addWidget(totals_);
    layout->addWidget(pool_);

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
    // Wide enough for "cargo build -p name · pid N · holds the lock".
    view_->setColumnWidth(BuildsModel::Build, 300);
    layout->addWidget(view_, 1);

    empty_ = new QLabel(tr("No build running. Builds of cargo, make, ninja and cmake show up here."), this);
    empty_->setObjectName(QStringLiteral("noBuilds"));
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    empty_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(empty_);

    // Like every other stop, this one shows what it stops and what that frees first.
    connect(stopExtra_, &QPushButton::clicked, this, [this] { openStopExtraDialog(); });
    connect(view_, &QTreeView::activated, this, [this](const QModelIndex& index) {
        if (readOnly_)
            return;
        emit buildActivated(index.data(BuildsModel::RootKeyRole).value<ProcessKey>());
    });
}

void BuildsPanel::setSnapshot(const services::SnapshotPtr& snapshot)
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

    extra_ = readOnly_ ? std::vector<ProcessKey>{} : headroom::extraDuplicateBuilds(*snapshot);
    if (extra_.empty()) {
        warning_->hide();
        return;
    }
    QStringList parts;
    for (const DuplicateGroup& group : duplicateGroups(*snapshot)) {
        const BuildTree& kept = snapshot->builds[group.kept];
        std::uint64_t extraBytes = 0;
        QStringList waiting, others;
        for (std::size_t index : group.extra()) {
            const BuildTree& build = snapshot->builds[index];
            extraBytes += build.residentBytes;
            (build.lock == BuildLockState::Waiting ? waiting : others) << tr("pid %1").arg(build.root.pid);
        }
        QString workspace = QString::fromStdString(safeText(kept.workspace, 200));
        const QString home = QDir::homePath();
        if (home.size() > 1 && workspace.startsWith(home + QLatin1Char('/')))
            workspace = QLatin1Char('~') + workspace.mid(home.size());
        QString part = tr("<b>%1 builds of %2</b> at once. Kept: %3 (%4).")
                           .arg(group.builds.size())
                           .arg(workspace.toHtmlEscaped(),
                                QString::fromStdString(buildLabel(*snapshot, kept, false)).toHtmlEscaped(),
                                QString::fromStdString(duplicateVerdict(*snapshot, group, group.kept)));
        if (!waiting.isEmpty())
            part +=
                QLatin1Char(' ') + tr("Waiting for its lock: %1.").arg(waiting.join(QStringLiteral(", ")));
        if (!others.isEmpty())
            part += QLatin1Char(' ') + tr("Also extra: %1.").arg(others.join(QStringLiteral(", ")));
        part += QLatin1Char(' ') +
                tr("The extra ones use %1.").arg(QString::fromStdString(formatBytes(extraBytes)));
        parts << part;
    }
    warningText_->setText(parts.join(QStringLiteral("<br>")));
    QPalette pal = warning_->palette();
    pal.setColor(QPalette::Window,
                 tint(levelColor(services::MemoryLevel::Warning, palette()), palette(), 0.25));
    warning_->setPalette(pal);
    warning_->show();
}

void BuildsPanel::setReadOnly(bool readOnly, const QString& poolText)
{
    readOnly_ = readOnly;
    stopExtra_->setEnabled(!readOnly);
    if (readOnly) {
        warning_->hide();
        extra_.clear();
        model_->setPool(nullptr);
        pool_->setText(poolText);
        pool_->setToolTip(QString());
        pool_->setVisible(!poolText.isEmpty());
        view_->setToolTip(tr("Builds of another machine: shown read-only"));
    } else {
        view_->setToolTip(QString());
        if (localPool_)
            setPool(*localPool_);
        else
            pool_->hide();
    }
}

void BuildsPanel::setPool(const services::PoolView& pool)
{
    localPool_ = std::make_shared<const services::PoolView>(pool);
    if (readOnly_)
        return; // kept for when this machine is shown again
    model_->setPool(localPool_);
    const QString summary = pool.summary();
    pool_->setText(summary);
    pool_->setToolTip(pool.details());
    pool_->setVisible(!summary.isEmpty());
}

void BuildsPanel::setIdentity(std::uint32_t uid, Pid selfPid)
{
    uid_ = uid;
    selfPid_ = selfPid;
}

StopBuildsDialog* BuildsPanel::openStopExtraDialog()
{
    if (readOnly_ || !snapshot_ || extra_.empty())
        return nullptr;
    auto* dialog = new StopBuildsDialog(services::collectExtraBuilds(*snapshot_, uid_, selfPid_),
                                        graceSeconds_, window());
    dialog->setObjectName(QStringLiteral("stopExtraBuildsDialog"));
    dialog->setWindowTitle(tr("Stop the extra builds"));
    dialog->setIntro(tr("These builds work on the same workspace or target folder. The one marked "
                        "<i>Kept</i> is doing the work (it holds cargo's lock, or runs compilers, or has "
                        "done the most); the ticked ones are stopped with everything they started: asked "
                        "to terminate, then killed after %1 s. Nothing else is touched.")
                         .arg(graceSeconds_, 0, 'g', 3));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const std::vector<ProcessKey> roots = dialog->chosenRoots();
        if (roots.empty())
            return;
        emit stopBuildsRequested(
            roots, tr("Stop the extra builds (%n build(s), %1)", nullptr, static_cast<int>(roots.size()))
                       .arg(QString::fromStdString(formatBytes(dialog->chosenBytes()))));
    });
    dialog->open();
    return dialog;
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
