// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/MachinesPage.h"

#include "services/SafeDisplayText.h"
#include "ui/MachineDialog.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace headroom::ui {

using services::MachineEntry;

namespace {

QString describe(const MachineEntry& m)
{
    QString where = m.kind == MachineEntry::Kind::Prometheus
                        ? QObject::tr("%1 in Prometheus at %2").arg(m.instance, m.url)
                        : QObject::tr("Headroom exporter at %1").arg(m.url);
    if (m.followInTray)
        where += QObject::tr(" · followed in the tray");
    return services::safeDisplayText(QStringLiteral("%1 — %2").arg(m.name, where), 400);
}

} // namespace

MachinesPage::MachinesPage(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("machinesPage"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Other machines the window can show, read-only: one instance of a Prometheus "
                                "server that scrapes <tt>headroom export</tt>, or a Headroom exporter read "
                                "directly. Choose the one shown from the toolbar."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* row = new QHBoxLayout;
    list_ = new QListWidget(this);
    list_->setObjectName(QStringLiteral("machinesList"));
    row->addWidget(list_, 1);
    auto* buttons = new QVBoxLayout;
    add_ = new QPushButton(tr("&Add…"), this);
    add_->setObjectName(QStringLiteral("addMachine"));
    edit_ = new QPushButton(tr("&Edit…"), this);
    edit_->setObjectName(QStringLiteral("editMachine"));
    remove_ = new QPushButton(tr("&Remove"), this);
    remove_->setObjectName(QStringLiteral("removeMachine"));
    buttons->addWidget(add_);
    buttons->addWidget(edit_);
    buttons->addWidget(remove_);
    buttons->addStretch(1);
    row->addLayout(buttons);
    layout->addLayout(row, 1);

    place_ = new QLabel(this);
    place_->setObjectName(QStringLiteral("credentialPlace"));
    place_->setWordWrap(true);
    layout->addWidget(place_);
    problem_ = new QLabel(this);
    problem_->setObjectName(QStringLiteral("machinesProblem"));
    problem_->setWordWrap(true);
    problem_->setTextFormat(Qt::PlainText);
    problem_->hide();
    layout->addWidget(problem_);

    connect(add_, &QPushButton::clicked, this, [this] { addMachine(); });
    connect(edit_, &QPushButton::clicked, this, [this] { editMachine(list_->currentRow()); });
    connect(remove_, &QPushButton::clicked, this, [this] { removeMachine(list_->currentRow()); });
    connect(list_, &QListWidget::itemActivated, this, [this] { editMachine(list_->currentRow()); });
    connect(list_, &QListWidget::currentRowChanged, this, [this](int current) {
        edit_->setEnabled(current >= 0);
        remove_->setEnabled(current >= 0);
    });
    setCredentialStore(nullptr);
    refresh();
}

void MachinesPage::setCredentialStore(std::shared_ptr<services::CredentialStore> store)
{
    store_ = std::move(store);
    credentialPlace_ = store_ ? store_->describe() : QString();
    if (credentialPlace_.isEmpty())
        store_.reset();
    place_->setText(store_ ? tr("Passwords are kept in %1, never in the settings file.").arg(credentialPlace_)
                           : tr("No password store is available: machines that need a password cannot "
                                "be shown."));
}

void MachinesPage::setMachines(const services::MachineList& machines)
{
    machines_ = machines;
    secrets_.clear();
    forget_.clear();
    refresh();
}

void MachinesPage::refresh()
{
    const int current = list_->currentRow();
    list_->clear();
    for (const MachineEntry& m : machines_)
        list_->addItem(describe(m));
    list_->setCurrentRow(std::min(current, static_cast<int>(list_->count()) - 1));
    edit_->setEnabled(list_->currentRow() >= 0);
    remove_->setEnabled(list_->currentRow() >= 0);
}

services::MachineList MachinesPage::othersThan(int row) const
{
    services::MachineList others = machines_;
    if (row >= 0 && row < others.size())
        others.removeAt(row);
    return others;
}

bool MachinesPage::hasPassword(const MachineEntry& machine) const
{
    if (machine.id.isEmpty())
        return false;
    if (const auto pending = secrets_.constFind(machine.id); pending != secrets_.constEnd())
        return !pending->isEmpty();
    // Only the user name says a password may be stored; the store is not
    // asked here, as a keyring may block or prompt.
    return !machine.username.isEmpty();
}

MachineDialog* MachinesPage::addMachine()
{
    return openDialog(-1);
}

MachineDialog* MachinesPage::editMachine(int row)
{
    if (row < 0 || row >= machines_.size())
        return nullptr;
    return openDialog(row);
}

MachineDialog* MachinesPage::openDialog(int row)
{
    const MachineEntry machine = row >= 0 ? machines_[row] : MachineEntry{};
    auto* dialog = new MachineDialog(machine, othersThan(row), credentialPlace_, hasPassword(machine), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::accepted, this, [this, dialog, row] {
        const MachineEntry edited = dialog->machine();
        if (row >= 0 && row < machines_.size())
            machines_[row] = edited;
        else
            machines_.append(edited);
        forget_.remove(edited.id);
        if (dialog->passwordChanged())
            secrets_.insert(edited.id, dialog->password());
        refresh();
        list_->setCurrentRow(row >= 0 ? row : static_cast<int>(machines_.size()) - 1);
    });
    dialog->open();
    return dialog;
}

void MachinesPage::removeMachine(int row)
{
    if (row < 0 || row >= machines_.size())
        return;
    const QString id = machines_[row].id;
    const bool mayHavePassword = !machines_[row].username.isEmpty() || secrets_.contains(id);
    machines_.removeAt(row);
    secrets_.remove(id);
    if (mayHavePassword)
        forget_.insert(id);
    refresh();
}

QStringList MachinesPage::commitSecrets()
{
    QStringList problems;
    if (!store_) {
        if (!secrets_.isEmpty())
            problems << tr("No password store is available; the passwords were not kept.");
        return problems;
    }
    for (auto it = secrets_.constBegin(); it != secrets_.constEnd(); ++it) {
        const QString problem =
            it.value().isEmpty() ? store_->remove(it.key()) : store_->store(it.key(), it.value());
        if (!problem.isEmpty())
            problems << tr("%1: %2").arg(it.key(), problem);
    }
    for (const QString& id : forget_) {
        const QString problem = store_->remove(id);
        if (!problem.isEmpty())
            problems << tr("%1: %2").arg(id, problem);
    }
    if (problems.isEmpty()) {
        secrets_.clear();
        forget_.clear();
    }
    return problems;
}

void MachinesPage::showProblem(const QString& text)
{
    problem_->setText(text);
    problem_->setVisible(!text.isEmpty());
}

} // namespace headroom::ui
