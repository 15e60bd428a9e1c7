// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/launcher/CustomPresetsDialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace headroom::ui {

namespace {
enum Column { Name, Program, Arguments, Environment, MemoryHigh, MemoryMax, Folder, Pool, ColumnCount };

QString sizeText(const std::optional<quint64>& bytes)
{
    return bytes ? services::formatMemorySize(*bytes) : QString();
}
} // namespace

CustomPresetsDialog::CustomPresetsDialog(const std::vector<services::CustomPreset>& presets, QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Custom presets"));
    auto* intro =
        new QLabel(tr("Commands for builds that are not plain cargo builds (make, ninja, cmake --build, "
                      "cargo nextest run…). Arguments are split like a shell would, but never run by one. "
                      "Environment: NAME=value pairs separated by \";\". An empty folder means the "
                      "project folder. Memory high and max (4G, 512M; empty: none) are the build's "
                      "systemd user scope's MemoryHigh, above which it is slowed down, and MemoryMax, at "
                      "which it is killed; they apply only where Linux has a systemd user manager. "
                      "Job pool: the command gets the memory-aware job pool's jobserver instead of its own "
                      "-j (make, ninja and cargo take it)."));
    intro->setWordWrap(true);
    table_ = new QTableWidget(0, ColumnCount);
    table_->setHorizontalHeaderLabels({tr("Name"), tr("Program"), tr("Arguments"), tr("Environment"),
                                       tr("Memory high"), tr("Memory max"), tr("Folder"), tr("Job pool")});
    table_->horizontalHeaderItem(MemoryHigh)
        ->setToolTip(tr("MemoryHigh: above this the kernel slows the build down instead of letting it grow"));
    table_->horizontalHeaderItem(MemoryMax)->setToolTip(
        tr("MemoryMax: at this the kernel kills in the build's own scope, not elsewhere"));
    table_->horizontalHeaderItem(Pool)->setToolTip(
        tr("Use the job pool: as many jobs as memory allows, shared with every other build Headroom runs"));
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    for (const auto& p : presets)
        addRow(p);

    auto* add = new QPushButton(tr("&Add"));
    auto* remove = new QPushButton(tr("&Remove"));
    connect(add, &QPushButton::clicked, this, [this] {
        addRow(
            services::CustomPreset{tr("New preset"), QStringLiteral("make"), QStringLiteral("-j2"), {}, {}});
        table_->editItem(table_->item(table_->rowCount() - 1, Name));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (table_->currentRow() >= 0)
            table_->removeRow(table_->currentRow());
    });
    auto* rowButtons = new QHBoxLayout;
    rowButtons->addWidget(add);
    rowButtons->addWidget(remove);
    rowButtons->addStretch(1);

    problems_ = new QLabel;
    problems_->setWordWrap(true);
    problems_->setStyleSheet(QStringLiteral("color: #c62828;"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &CustomPresetsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(table_, 1);
    layout->addLayout(rowButtons);
    layout->addWidget(problems_);
    layout->addWidget(buttons);
    resize(1000, 380);
}

void CustomPresetsDialog::addRow(const services::CustomPreset& p)
{
    const int row = table_->rowCount();
    table_->insertRow(row);
    QString environment = p.environment;
    environment.replace('\n', QStringLiteral("; "));
    const QString cells[Pool] = {
        p.name,      p.program, p.arguments, environment, sizeText(p.memoryHigh), sizeText(p.memoryMax),
        p.workingDir};
    for (int c = 0; c < Pool; ++c)
        table_->setItem(row, c, new QTableWidgetItem(cells[c]));
    auto* pool = new QTableWidgetItem(tr("Use the job pool"));
    pool->setFlags((pool->flags() | Qt::ItemIsUserCheckable) & ~Qt::ItemIsEditable);
    pool->setCheckState(p.usePool ? Qt::Checked : Qt::Unchecked);
    table_->setItem(row, Pool, pool);
}

std::vector<services::CustomPreset> CustomPresetsDialog::presets() const
{
    std::vector<services::CustomPreset> out;
    for (int row = 0; row < table_->rowCount(); ++row) {
        auto text = [&](int c) {
            return table_->item(row, c) ? table_->item(row, c)->text().trimmed() : QString();
        };
        services::CustomPreset p;
        p.name = text(Name);
        p.program = text(Program);
        p.arguments = text(Arguments);
        QStringList env;
        for (const QString& pair : text(Environment).split(';', Qt::SkipEmptyParts))
            env << pair.trimmed();
        p.environment = env.join('\n');
        p.workingDir = text(Folder);
        // Junk reads as no limit here; accept() refuses it first.
        p.memoryHigh = services::parseMemorySize(text(MemoryHigh)).bytes;
        p.memoryMax = services::parseMemorySize(text(MemoryMax)).bytes;
        p.usePool = table_->item(row, Pool) && table_->item(row, Pool)->checkState() == Qt::Checked;
        out.push_back(p);
    }
    return out;
}

void CustomPresetsDialog::accept()
{
    QStringList problems;
    const auto all = presets();
    for (int row = 0; row < int(all.size()); ++row) {
        const auto& p = all[std::size_t(row)];
        const QString who = p.name.isEmpty() ? tr("(unnamed)") : p.name;
        for (const auto& [column, label] :
             {std::pair{MemoryHigh, tr("Memory high")}, {MemoryMax, tr("Memory max")}}) {
            const QTableWidgetItem* item = table_->item(row, column);
            const auto size = services::parseMemorySize(item ? item->text() : QString());
            if (!size.ok)
                problems << QStringLiteral("%1: %2 %3").arg(who, label, size.error);
        }
        for (const QString& problem : p.problems())
            problems << QStringLiteral("%1: %2").arg(who, problem);
    }
    if (!problems.isEmpty()) {
        problems_->setText(problems.join('\n'));
        return;
    }
    QDialog::accept();
}

} // namespace headroom::ui
