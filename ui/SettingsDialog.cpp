// SPDX-License-Identifier: GPL-3.0-or-later
#include "SettingsDialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

namespace headroom::ui {
namespace {

QDoubleSpinBox* percentBox(QWidget* parent)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(0.0, 100.0);
    box->setDecimals(1);
    box->setSingleStep(1.0);
    box->setSuffix(QStringLiteral(" %"));
    return box;
}

QStringList splitNames(const QString& text)
{
    QStringList names;
    for (const QString& part : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts))
        names << part.trimmed();
    names.removeDuplicates();
    return names;
}

} // namespace

SettingsDialog::SettingsDialog(const DashboardSettings& settings, QWidget* parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Headroom Settings"));
    auto* layout = new QVBoxLayout(this);

    auto* sampling = new QGroupBox(tr("Sampling"), this);
    auto* samplingForm = new QFormLayout(sampling);
    interval_ = new QDoubleSpinBox(sampling);
    interval_->setObjectName(QStringLiteral("interval"));
    interval_->setRange(DashboardSettings::kMinIntervalSeconds, DashboardSettings::kMaxIntervalSeconds);
    interval_->setSingleStep(0.5);
    interval_->setDecimals(1);
    interval_->setSuffix(tr(" s"));
    history_ = new QSpinBox(sampling);
    history_->setObjectName(QStringLiteral("history"));
    history_->setRange(DashboardSettings::kMinHistoryMinutes, DashboardSettings::kMaxHistoryMinutes);
    history_->setSingleStep(5);
    history_->setSuffix(tr(" min"));
    samplingForm->addRow(tr("&Refresh every:"), interval_);
    samplingForm->addRow(tr("&Keep history for:"), history_);
    layout->addWidget(sampling);

    auto* stopping = new QGroupBox(tr("Stopping processes"), this);
    auto* stoppingForm = new QFormLayout(stopping);
    grace_ = new QDoubleSpinBox(stopping);
    grace_->setObjectName(QStringLiteral("grace"));
    grace_->setRange(DashboardSettings::kMinGraceSeconds, DashboardSettings::kMaxGraceSeconds);
    grace_->setDecimals(1);
    grace_->setSuffix(tr(" s"));
    grace_->setToolTip(tr("Terminate asks politely first (SIGTERM) and kills (SIGKILL) after this long"));
    stoppingForm->addRow(tr("&Grace period before kill:"), grace_);
    layout->addWidget(stopping);

    auto* roles = new QGroupBox(tr("Recognising build processes (program names, comma separated)"), this);
    auto* rolesForm = new QFormLayout(roles);
    testRunners_ = new QLineEdit(roles);
    testRunners_->setPlaceholderText(tr("e.g. my-test-runner"));
    linkers_ = new QLineEdit(roles);
    linkers_->setPlaceholderText(tr("e.g. wild, sold"));
    compilers_ = new QLineEdit(roles);
    compilers_->setPlaceholderText(tr("e.g. zig, nvcc"));
    rolesForm->addRow(tr("Extra &test runners:"), testRunners_);
    rolesForm->addRow(tr("Extra &linkers:"), linkers_);
    rolesForm->addRow(tr("Extra &compilers:"), compilers_);
    layout->addWidget(roles);

    auto* levels = new QGroupBox(tr("Level colours: warning (amber) and critical (red) when…"), this);
    auto* levelsForm = new QFormLayout(levels);
    warnAvailable_ = percentBox(levels);
    critAvailable_ = percentBox(levels);
    warnSwap_ = percentBox(levels);
    critSwap_ = percentBox(levels);
    warnPressure_ = percentBox(levels);
    critPressure_ = percentBox(levels);
    levelsForm->addRow(tr("Available RAM below (warning):"), warnAvailable_);
    levelsForm->addRow(tr("Available RAM below (critical):"), critAvailable_);
    levelsForm->addRow(tr("Swap used above (warning):"), warnSwap_);
    levelsForm->addRow(tr("Swap used above (critical):"), critSwap_);
    levelsForm->addRow(tr("Pressure, some tasks stalled (warning):"), warnPressure_);
    levelsForm->addRow(tr("Pressure, all tasks stalled (critical):"), critPressure_);
    layout->addWidget(levels);

    auto* buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
            [this] { load(DashboardSettings{}); });

    load(settings);
}

void SettingsDialog::load(const DashboardSettings& settings)
{
    interval_->setValue(settings.intervalSeconds);
    history_->setValue(settings.historyMinutes);
    grace_->setValue(settings.graceSeconds);
    testRunners_->setText(settings.testRunners.join(QStringLiteral(", ")));
    linkers_->setText(settings.extraLinkers.join(QStringLiteral(", ")));
    compilers_->setText(settings.extraCompilers.join(QStringLiteral(", ")));
    warnAvailable_->setValue(settings.thresholds.warningAvailablePercent);
    critAvailable_->setValue(settings.thresholds.criticalAvailablePercent);
    warnSwap_->setValue(settings.thresholds.warningSwapPercent);
    critSwap_->setValue(settings.thresholds.criticalSwapPercent);
    warnPressure_->setValue(settings.thresholds.warningPressureSome);
    critPressure_->setValue(settings.thresholds.criticalPressureFull);
}

DashboardSettings SettingsDialog::settings() const
{
    DashboardSettings settings;
    settings.intervalSeconds = interval_->value();
    settings.historyMinutes = history_->value();
    settings.graceSeconds = grace_->value();
    settings.testRunners = splitNames(testRunners_->text());
    settings.extraLinkers = splitNames(linkers_->text());
    settings.extraCompilers = splitNames(compilers_->text());
    settings.thresholds.warningAvailablePercent = warnAvailable_->value();
    settings.thresholds.criticalAvailablePercent = critAvailable_->value();
    settings.thresholds.warningSwapPercent = warnSwap_->value();
    settings.thresholds.criticalSwapPercent = critSwap_->value();
    settings.thresholds.warningPressureSome = warnPressure_->value();
    settings.thresholds.criticalPressureFull = critPressure_->value();
    return settings;
}

} // namespace headroom::ui
