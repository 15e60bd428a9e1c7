// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/MachineDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace headroom::ui {

using services::MachineEntry;

MachineDialog::MachineDialog(const MachineEntry& machine, const services::MachineList& others,
                             const QString& credentialPlace, bool hasPassword, QWidget* parent)
    : QDialog(parent), original_(machine), others_(others), hadPassword_(hasPassword)
{
    setObjectName(QStringLiteral("machineDialog"));
    setWindowTitle(machine.id.isEmpty() ? tr("Add a Machine") : tr("Edit Machine %1").arg(machine.name));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    layout->addLayout(form);

    name_ = new QLineEdit(machine.name, this);
    name_->setObjectName(QStringLiteral("machineName"));
    name_->setPlaceholderText(tr("buildbox"));
    name_->setMaxLength(80);
    form->addRow(tr("&Name:"), name_);

    kind_ = new QComboBox(this);
    kind_->setObjectName(QStringLiteral("machineKind"));
    kind_->addItem(tr("A Prometheus server (one instance in it)"), int(MachineEntry::Kind::Prometheus));
    kind_->addItem(tr("A Headroom exporter (its /metrics)"), int(MachineEntry::Kind::Exporter));
    kind_->setCurrentIndex(machine.kind == MachineEntry::Kind::Exporter ? 1 : 0);
    form->addRow(tr("&Read from:"), kind_);

    url_ = new QLineEdit(machine.url, this);
    url_->setObjectName(QStringLiteral("machineUrl"));
    form->addRow(tr("&URL:"), url_);

    instance_ = new QLineEdit(machine.instance, this);
    instance_->setObjectName(QStringLiteral("machineInstance"));
    instance_->setPlaceholderText(tr("buildbox:9464"));
    instance_->setToolTip(tr("The instance label Prometheus gives the machine's exporter "
                             "(Status → Targets in Prometheus)"));
    instanceLabel_ = new QLabel(tr("&Instance:"), this);
    instanceLabel_->setBuddy(instance_);
    form->addRow(instanceLabel_, instance_);

    user_ = new QLineEdit(machine.username, this);
    user_->setObjectName(QStringLiteral("machineUser"));
    user_->setPlaceholderText(tr("none"));
    form->addRow(tr("User na&me:"), user_);

    password_ = new QLineEdit(this);
    password_->setObjectName(QStringLiteral("machinePassword"));
    password_->setEchoMode(QLineEdit::Password);
    clearPassword_ = new QCheckBox(tr("Forget the stored password"), this);
    clearPassword_->setObjectName(QStringLiteral("machineClearPassword"));
    clearPassword_->setVisible(hasPassword);
    auto* place = new QLabel(this);
    place->setObjectName(QStringLiteral("credentialPlace"));
    place->setWordWrap(true);
    place->setForegroundRole(QPalette::PlaceholderText);
    if (credentialPlace.isEmpty()) {
        password_->setEnabled(false);
        password_->setPlaceholderText(tr("no place to keep passwords"));
        place->setText(tr("Passwords cannot be kept on this system."));
    } else {
        password_->setPlaceholderText(hasPassword ? tr("unchanged") : tr("none"));
        place->setText(tr("Kept in %1, never in the settings file.").arg(credentialPlace));
    }
    form->addRow(tr("&Password:"), password_);
    form->addRow(QString(), clearPassword_);
    form->addRow(QString(), place);

    caFile_ = new QLineEdit(machine.caFile, this);
    caFile_->setObjectName(QStringLiteral("machineCaFile"));
    caFile_->setPlaceholderText(tr("the system's certificates"));
    browseCa_ = new QPushButton(tr("&Choose…"), this);
    browseCa_->setObjectName(QStringLiteral("machineBrowseCa"));
    auto* caRow = new QHBoxLayout;
    caRow->addWidget(caFile_, 1);
    caRow->addWidget(browseCa_);
    auto* caLabel = new QLabel(tr("Extra &CA certificate:"), this);
    caLabel->setBuddy(caFile_);
    form->addRow(caLabel, caRow);

    follow_ = new QCheckBox(tr("&Tray and notifications follow this machine"), this);
    follow_->setObjectName(QStringLiteral("machineFollow"));
    follow_->setChecked(machine.followInTray);
    form->addRow(follow_);

    error_ = new QLabel(this);
    error_->setObjectName(QStringLiteral("machineError"));
    error_->setWordWrap(true);
    error_->setTextFormat(Qt::PlainText);
    QPalette pal = error_->palette();
    pal.setColor(QPalette::WindowText, QColor(0xc0, 0x1c, 0x28));
    error_->setPalette(pal);
    error_->hide();
    layout->addWidget(error_);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &MachineDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(kind_, &QComboBox::currentIndexChanged, this, &MachineDialog::updateKind);
    connect(clearPassword_, &QCheckBox::toggled, password_, [this](bool clear) {
        password_->setEnabled(!clear);
        if (clear)
            password_->clear();
    });
    connect(browseCa_, &QPushButton::clicked, this, [this] {
        const QString file =
            QFileDialog::getOpenFileName(this, tr("CA certificate"), caFile_->text(),
                                         tr("Certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            caFile_->setText(file);
    });
    updateKind();
    setMinimumWidth(480);
}

void MachineDialog::updateKind()
{
    const bool prometheus = kind_->currentData().toInt() == int(MachineEntry::Kind::Prometheus);
    instance_->setEnabled(prometheus);
    instanceLabel_->setEnabled(prometheus);
    url_->setPlaceholderText(prometheus ? tr("https://prometheus.example:9090")
                                        : tr("http://buildbox:9464/metrics"));
}

MachineEntry MachineDialog::machine() const
{
    MachineEntry m = original_;
    m.name = name_->text().trimmed();
    m.kind = static_cast<MachineEntry::Kind>(kind_->currentData().toInt());
    m.url = url_->text().trimmed();
    m.instance = m.kind == MachineEntry::Kind::Prometheus ? instance_->text().trimmed() : QString();
    m.username = user_->text().trimmed();
    m.caFile = caFile_->text().trimmed();
    m.followInTray = follow_->isChecked();
    // A new machine's id comes from its name; an existing one keeps its id, so
    // its stored password and the shown choice stay attached to it.
    if (m.id.isEmpty())
        m.id = services::machineIdFromName(m.name, others_);
    return m;
}

QString MachineDialog::password() const
{
    return password_->text();
}

bool MachineDialog::passwordChanged() const
{
    return !password_->text().isEmpty() || (hadPassword_ && clearPassword_->isChecked());
}

QString MachineDialog::error() const
{
    return error_->isHidden() ? QString() : error_->text();
}

void MachineDialog::accept()
{
    const MachineEntry m = machine();
    QString problem = services::validateMachine(m, others_);
    if (problem.isEmpty() && !password_->text().isEmpty() && m.username.isEmpty())
        problem = tr("A password needs a user name.");
    if (!problem.isEmpty()) {
        error_->setText(problem);
        error_->show();
        return;
    }
    error_->hide();
    QDialog::accept();
}

} // namespace headroom::ui
