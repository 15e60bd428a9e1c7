// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/StopBuildsDialog.h"

#include "headroom/Units.h"
#include "ui/DashboardColors.h"
#include "ui/ProcessColumns.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace headroom::ui {
namespace {

enum ListColumn { What, Memory, Pid, Detail };

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

} // namespace

StopBuildsDialog::StopBuildsDialog(std::vector<services::RunawayGroup> groups, double graceSeconds,
                                   QWidget* parent)
    : QDialog(parent), groups_(std::move(groups))
{
    setObjectName(QStringLiteral("stopBuildsDialog"));
    setWindowTitle(tr("Stop runaway builds"));
    auto* layout = new QVBoxLayout(this);

    auto* intro = intro_ = new QLabel(this);
    intro->setObjectName(QStringLiteral("stopBuildsIntro"));
    intro->setWordWrap(true);
    if (groups_.empty()) {
        intro->setText(
            tr("None of your build processes (cargo, rustc, build scripts, linkers, compilers, tests) "
               "is running. There is nothing to stop."));
    } else {
        intro->setText(
            tr("These are all your build processes, grouped by build. Each ticked build is stopped "
               "with everything it started: asked to terminate, then killed after %1 s if it is "
               "still there. Nothing else is touched.")
                .arg(graceSeconds, 0, 'g', 3));
    }
    layout->addWidget(intro);

    list_ = new QTreeWidget(this);
    list_->setObjectName(QStringLiteral("runawayList"));
    list_->setColumnCount(4);
    list_->setHeaderLabels({tr("Build / process"), tr("Memory"), tr("PID"), tr("Where / command line")});
    list_->setUniformRowHeights(true);
    list_->setAlternatingRowColors(true);
    list_->header()->setStretchLastSection(true);
    const QPalette pal = palette();
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const services::RunawayGroup& group = groups_[g];
        auto* item = new QTreeWidgetItem(list_);
        item->setText(What, group.isBuildTree ? group.title : tr("%1 (not in a build)").arg(group.title));
        item->setText(Memory, bytes(group.residentBytes));
        item->setTextAlignment(Memory, Qt::AlignRight | Qt::AlignVCenter);
        item->setText(Pid, QString::number(group.root.pid));
        QString detail = group.where;
        if (group.isBuildTree && group.elapsedSeconds > 0)
            detail += tr("  ·  running %1").arg(QString::fromStdString(formatDuration(group.elapsedSeconds)));
        if (!group.note.isEmpty())
            detail += QStringLiteral("  ·  ") + group.note;
        item->setText(Detail, detail);
        item->setToolTip(Detail, detail.toHtmlEscaped());
        if (group.kept) {
            // Shown so the choice can be checked, never offered for stopping.
            item->setText(What, tr("Kept: %1").arg(group.title));
            item->setFlags(item->flags() & ~Qt::ItemIsUserCheckable);
            item->setForeground(What, pal.color(QPalette::Disabled, QPalette::Text));
        } else {
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(What, Qt::Checked);
        }
        item->setData(What, Qt::UserRole, static_cast<qulonglong>(g));
        QFont bold = item->font(What);
        bold.setBold(true);
        item->setFont(What, bold);
        for (const services::RunawayGroup::Member& member : group.members) {
            auto* child = new QTreeWidgetItem(item);
            const QString role = ProcessColumns::roleText(member.role);
            child->setText(What,
                           role.isEmpty() ? member.name : QStringLiteral("%1 — %2").arg(member.name, role));
            child->setForeground(What, roleColor(member.role, pal));
            child->setText(Memory, bytes(member.residentBytes));
            child->setTextAlignment(Memory, Qt::AlignRight | Qt::AlignVCenter);
            child->setText(Pid, QString::number(member.key.pid));
            child->setText(Detail, member.commandLine);
            child->setToolTip(Detail, member.commandLine.toHtmlEscaped());
            child->setFlags(child->flags() & ~Qt::ItemIsUserCheckable);
        }
    }
    list_->expandAll();
    list_->resizeColumnToContents(What);
    list_->resizeColumnToContents(Memory);
    list_->resizeColumnToContents(Pid);
    layout->addWidget(list_, 1);

    auto* row = new QHBoxLayout;
    auto* all = new QPushButton(tr("Tick &all"), this);
    auto* none = new QPushButton(tr("Tick &none"), this);
    total_ = new QLabel(this);
    total_->setObjectName(QStringLiteral("runawayTotal"));
    row->addWidget(all);
    row->addWidget(none);
    row->addStretch(1);
    row->addWidget(total_);
    layout->addLayout(row);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    stop_ = buttons->addButton(tr("&Stop ticked builds"), QDialogButtonBox::AcceptRole);
    stop_->setObjectName(QStringLiteral("stopTicked"));
    stop_->setIcon(QIcon(QStringLiteral(":/icons/stop-builds.svg")));
    buttons->button(QDialogButtonBox::Cancel)->setDefault(true);
    layout->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(all, &QPushButton::clicked, this, [this] { setAllChecked(true); });
    connect(none, &QPushButton::clicked, this, [this] { setAllChecked(false); });
    connect(list_, &QTreeWidget::itemChanged, this, [this] { updateTotal(); });

    resize(820, 460);
    updateTotal();
}

std::vector<ProcessKey> StopBuildsDialog::chosenRoots() const
{
    std::vector<ProcessKey> roots;
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = list_->topLevelItem(i);
        if (item->checkState(What) == Qt::Checked)
            roots.push_back(groups_[item->data(What, Qt::UserRole).toULongLong()].root);
    }
    return roots;
}

std::uint64_t StopBuildsDialog::chosenBytes() const
{
    std::uint64_t total = 0;
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = list_->topLevelItem(i);
        if (item->checkState(What) == Qt::Checked)
            total += groups_[item->data(What, Qt::UserRole).toULongLong()].residentBytes;
    }
    return total;
}

void StopBuildsDialog::setAllChecked(bool checked)
{
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        if (list_->topLevelItem(i)->flags() & Qt::ItemIsUserCheckable)
            list_->topLevelItem(i)->setCheckState(What, checked ? Qt::Checked : Qt::Unchecked);
    }
}

void StopBuildsDialog::setIntro(const QString& text)
{
    intro_->setText(text);
}

void StopBuildsDialog::setChecked(std::size_t group, bool checked)
{
    if (group < static_cast<std::size_t>(list_->topLevelItemCount()) && !groups_[group].kept)
        list_->topLevelItem(static_cast<int>(group))
            ->setCheckState(What, checked ? Qt::Checked : Qt::Unchecked);
}

void StopBuildsDialog::updateTotal()
{
    const std::size_t chosen = chosenRoots().size();
    std::size_t processes = 0;
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        const QTreeWidgetItem* item = list_->topLevelItem(i);
        if (item->checkState(What) == Qt::Checked)
            processes += groups_[item->data(What, Qt::UserRole).toULongLong()].members.size();
    }
    total_->setText(tr("<b>%1</b> to be freed · %2 processes in %3 builds")
                        .arg(bytes(chosenBytes()))
                        .arg(processes)
                        .arg(chosen));
    stop_->setEnabled(chosen > 0);
}

} // namespace headroom::ui
