// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/launcher/FreeMemoryDialog.h"

#include "headroom/Units.h"
#include "services/QtStrings.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace headroom::ui {

using services::q;

FreeMemoryDialog::FreeMemoryDialog(std::vector<ProcessSample> candidates, QWidget* parent)
    : QDialog(parent), candidates_(std::move(candidates))
{
    setWindowTitle(tr("Free memory, then build with one job"));
    auto* intro =
        new QLabel(tr("Tick the processes to pause (they continue after the build) or stop. Only your own "
                      "processes can be touched; nothing unticked is."));
    intro->setWordWrap(true);

    table_ = new QTableWidget(int(candidates_.size()), 5);
    table_->setHorizontalHeaderLabels(
        {tr("Process"), tr("Role"), tr("Memory"), tr("PID"), tr("Command line")});
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    for (int row = 0; row < int(candidates_.size()); ++row) {
        const auto& p = candidates_[std::size_t(row)];
        auto* name = new QTableWidgetItem(q(p.displayName()));
        name->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled | Qt::ItemIsSelectable);
        // Tests are the report's first candidates: suggest them, leave the rest to the user.
        name->setCheckState(p.role == ProcessRole::Test ? Qt::Checked : Qt::Unchecked);
        table_->setItem(row, 0, name);
        table_->setItem(row, 1, new QTableWidgetItem(q(std::string(roleNoun(p.role, false)))));
        auto* memory = new QTableWidgetItem(q(formatBytes(p.residentBytes)));
        memory->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table_->setItem(row, 2, memory);
        table_->setItem(row, 3, new QTableWidgetItem(QString::number(p.key.pid)));
        table_->setItem(row, 4, new QTableWidgetItem(q(p.commandLine())));
    }
    table_->resizeColumnsToContents();
    connect(table_, &QTableWidget::itemChanged, this, &FreeMemoryDialog::updateTotal);

    pause_ = new QRadioButton(tr("&Pause them (SIGSTOP; resumed when the build ends)"));
    stop_ = new QRadioButton(tr("&Stop them (terminate, then kill after the grace period)"));
    pause_->setChecked(true);
    total_ = new QLabel;

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Free memory and build"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(table_, 1);
    layout->addWidget(pause_);
    layout->addWidget(stop_);
    layout->addWidget(total_);
    layout->addWidget(buttons);
    resize(820, 460);
    updateTotal();
}

std::vector<ProcessKey> FreeMemoryDialog::chosen() const
{
    std::vector<ProcessKey> keys;
    for (int row = 0; row < table_->rowCount(); ++row) {
        if (table_->item(row, 0)->checkState() == Qt::Checked)
            keys.push_back(candidates_[std::size_t(row)].key);
    }
    return keys;
}

ProcessAction FreeMemoryDialog::action() const
{
    return pause_->isChecked() ? ProcessAction::Pause : ProcessAction::Terminate;
}

void FreeMemoryDialog::setChecked(Pid pid, bool checked)
{
    for (int row = 0; row < table_->rowCount(); ++row) {
        if (candidates_[std::size_t(row)].key.pid == pid)
            table_->item(row, 0)->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
    }
}

void FreeMemoryDialog::updateTotal()
{
    std::uint64_t bytes = 0;
    int count = 0;
    for (int row = 0; row < table_->rowCount(); ++row) {
        if (table_->item(row, 0) && table_->item(row, 0)->checkState() == Qt::Checked) {
            bytes += candidates_[std::size_t(row)].residentBytes;
            ++count;
        }
    }
    total_->setText(tr("%n process(es) ticked, %1 to be freed.", nullptr, count).arg(q(formatBytes(bytes))));
}

} // namespace headroom::ui
