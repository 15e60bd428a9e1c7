// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/SettingsDialog.h"

#include "ui/MachinesPage.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTabWidget>
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

SettingsDialog::SettingsDialog(const services::DashboardSettings& settings, QWidget* parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Headroom Settings"));
    auto* layout = new QVBoxLayout(this);
    tabs_ = new QTabWidget(this);
    tabs_->setObjectName(QStringLiteral("settingsTabs"));
    layout->addWidget(tabs_);
    auto* general = new QWidget(tabs_);
    general->setObjectName(QStringLiteral("generalPage"));
    tabs_->addTab(general, tr("&General"));
    machines_ = new MachinesPage(tabs_);
    tabs_->addTab(machines_, tr("&Machines"));
    // Two columns: what is sampled and recognised, and what is done about it.
    auto* columns = new QHBoxLayout(general);
    auto* left = new QVBoxLayout;
    auto* right = new QVBoxLayout;
    columns->addLayout(left, 1);
    columns->addLayout(right, 1);

    auto* sampling = new QGroupBox(tr("Sampling"), this);
    auto* samplingForm = new QFormLayout(sampling);
    interval_ = new QDoubleSpinBox(sampling);
    interval_->setObjectName(QStringLiteral("interval"));
    interval_->setRange(services::DashboardSettings::kMinIntervalSeconds,
                        services::DashboardSettings::kMaxIntervalSeconds);
    interval_->setSingleStep(0.5);
    interval_->setDecimals(1);
    interval_->setSuffix(tr(" s"));
    history_ = new QSpinBox(sampling);
    history_->setObjectName(QStringLiteral("history"));
    history_->setRange(services::DashboardSettings::kMinHistoryMinutes,
                       services::DashboardSettings::kMaxHistoryMinutes);
    history_->setSingleStep(5);
    history_->setSuffix(tr(" min"));
    samplingForm->addRow(tr("&Refresh every:"), interval_);
    samplingForm->addRow(tr("&Keep history for:"), history_);
    left->addWidget(sampling);

    auto* stopping = new QGroupBox(tr("Stopping processes"), this);
    auto* stoppingForm = new QFormLayout(stopping);
    grace_ = new QDoubleSpinBox(stopping);
    grace_->setObjectName(QStringLiteral("grace"));
    grace_->setRange(services::DashboardSettings::kMinGraceSeconds,
                     services::DashboardSettings::kMaxGraceSeconds);
    grace_->setDecimals(1);
    grace_->setSuffix(tr(" s"));
    grace_->setToolTip(tr("Terminate asks politely first (SIGTERM) and kills (SIGKILL) after this long"));
    stoppingForm->addRow(tr("&Grace period before kill:"), grace_);
    oomScoreAdj_ = new QSpinBox(stopping);
    oomScoreAdj_->setObjectName(QStringLiteral("buildOomScoreAdj"));
    oomScoreAdj_->setRange(services::DashboardSettings::kMinBuildOomScoreAdj,
                           services::DashboardSettings::kMaxBuildOomScoreAdj);
    oomScoreAdj_->setSingleStep(100);
    oomScoreAdj_->setToolTip(tr("oom_score_adj of builds started from Headroom: when memory runs out, the "
                                "kernel kills the build (which can be restarted) before the window or your "
                                "editor. 0 leaves the kernel's own choice."));
    stoppingForm->addRow(tr("Builds' &OOM score adjustment:"), oomScoreAdj_);
    left->addWidget(stopping);

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
    left->addWidget(roles);

    auto* levels = new QGroupBox(tr("Levels: warning (amber) and critical (red) when…"), this);
    auto* levelsForm = new QFormLayout(levels);
    warnAvailable_ = percentBox(levels);
    critAvailable_ = percentBox(levels);
    warnSwap_ = percentBox(levels);
    warnPressure_ = percentBox(levels);
    critPressure_ = percentBox(levels);
    margin_ = new QDoubleSpinBox(levels);
    margin_->setObjectName(QStringLiteral("margin"));
    margin_->setRange(0.0, 50.0);
    margin_->setDecimals(1);
    margin_->setSuffix(tr(" points"));
    margin_->setToolTip(tr("A level is left only once every figure is this far back on the safe side, "
                           "so a value hovering at a threshold does not flap"));
    levelsForm->addRow(tr("Available RAM at or below (warning):"), warnAvailable_);
    levelsForm->addRow(tr("Available RAM at or below (critical):"), critAvailable_);
    levelsForm->addRow(tr("Swap used at or above (warning):"), warnSwap_);
    levelsForm->addRow(tr("Pressure, some tasks stalled (warning):"), warnPressure_);
    levelsForm->addRow(tr("Pressure, all tasks stalled (critical):"), critPressure_);
    levelsForm->addRow(tr("Leave a level after &moving back:"), margin_);
    right->addWidget(levels);

    auto* notify = new QGroupBox(tr("Notifications"), this);
    auto* notifyForm = new QFormLayout(notify);
    repeat_ = new QDoubleSpinBox(notify);
    repeat_->setObjectName(QStringLiteral("repeat"));
    repeat_->setRange(services::DashboardSettings::kMinRepeatMinutes,
                      services::DashboardSettings::kMaxRepeatMinutes);
    repeat_->setDecimals(0);
    repeat_->setSuffix(tr(" min"));
    quiet_ = new QCheckBox(tr("&Don't disturb: no notifications at all"), notify);
    quiet_->setObjectName(QStringLiteral("quiet"));
    notifyForm->addRow(tr("Repeat a lasting level &every:"), repeat_);
    notifyForm->addRow(quiet_);
    right->addWidget(notify);

    auto* guard = new QGroupBox(tr("Build guard"), this);
    auto* guardForm = new QFormLayout(guard);
    guard_ = new QCheckBox(tr("&Guard builds: pause them on critical memory, resume them on normal"), guard);
    guard_->setObjectName(QStringLiteral("guard"));
    guardExternal_ = new QCheckBox(tr("Also guard builds &not started from Headroom"), guard);
    guardExternal_->setObjectName(QStringLiteral("guardExternal"));
    guardEmergency_ = percentBox(guard);
    guardEmergency_->setRange(0.0, 50.0);
    guardEmergency_->setObjectName(QStringLiteral("guardEmergency"));
    guardEmergency_->setToolTip(tr("With builds already paused, the largest build is terminated when "
                                   "available RAM falls this low, before the kernel picks a victim"));
    guardRest_ = new QDoubleSpinBox(guard);
    guardRest_->setObjectName(QStringLiteral("guardRest"));
    guardRest_->setRange(services::DashboardSettings::kMinGuardRestSeconds,
                         services::DashboardSettings::kMaxGuardRestSeconds);
    guardRest_->setDecimals(0);
    guardRest_->setSuffix(tr(" s"));
    guardRest_->setToolTip(tr("The guard never acts on one process twice within this time"));
    guardForm->addRow(guard_);
    guardForm->addRow(guardExternal_);
    guardForm->addRow(tr("Terminate the largest build at available RAM:"), guardEmergency_);
    guardForm->addRow(tr("Leave a process alone after acting for:"), guardRest_);
    right->addWidget(guard);

    left->addStretch(1);
    right->addStretch(1);

    auto* buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
        // The machines are not a preference with a default: they stay.
        services::DashboardSettings defaults;
        defaults.machines = machines_->machines();
        load(defaults);
    });

    base_ = settings;
    load(settings);
}

void SettingsDialog::load(const services::DashboardSettings& settings)
{
    interval_->setValue(settings.intervalSeconds);
    history_->setValue(settings.historyMinutes);
    grace_->setValue(settings.graceSeconds);
    oomScoreAdj_->setValue(settings.buildOomScoreAdj);
    testRunners_->setText(settings.testRunners.join(QStringLiteral(", ")));
    linkers_->setText(settings.extraLinkers.join(QStringLiteral(", ")));
    compilers_->setText(settings.extraCompilers.join(QStringLiteral(", ")));
    warnAvailable_->setValue(settings.thresholds.warningAvailablePercent);
    critAvailable_->setValue(settings.thresholds.criticalAvailablePercent);
    warnSwap_->setValue(settings.thresholds.warningSwapUsedPercent);
    warnPressure_->setValue(settings.thresholds.warningPsiSome);
    critPressure_->setValue(settings.thresholds.criticalPsiFull);
    margin_->setValue(settings.thresholds.marginPoints);
    repeat_->setValue(settings.notifyRepeatMinutes);
    quiet_->setChecked(settings.quiet);
    guard_->setChecked(settings.guardEnabled);
    guardExternal_->setChecked(settings.guardExternalBuilds);
    guardEmergency_->setValue(settings.guardEmergencyPercent);
    guardRest_->setValue(settings.guardRestSeconds);
    if (settings.machines != machines_->machines())
        machines_->setMachines(settings.machines);
}

void SettingsDialog::setCredentialStore(std::shared_ptr<services::CredentialStore> store)
{
    machines_->setCredentialStore(std::move(store));
}

void SettingsDialog::accept()
{
    const QStringList problems = machines_->commitSecrets();
    if (!problems.isEmpty()) {
        machines_->showProblem(tr("Passwords not kept: %1").arg(problems.join(QStringLiteral("; "))));
        tabs_->setCurrentWidget(machines_);
        return;
    }
    machines_->showProblem({});
    QDialog::accept();
}

services::DashboardSettings SettingsDialog::settings() const
{
    services::DashboardSettings settings = base_;
    settings.intervalSeconds = interval_->value();
    settings.historyMinutes = history_->value();
    settings.graceSeconds = grace_->value();
    settings.buildOomScoreAdj = oomScoreAdj_->value();
    settings.testRunners = splitNames(testRunners_->text());
    settings.extraLinkers = splitNames(linkers_->text());
    settings.extraCompilers = splitNames(compilers_->text());
    settings.thresholds.warningAvailablePercent = warnAvailable_->value();
    settings.thresholds.criticalAvailablePercent = critAvailable_->value();
    settings.thresholds.warningSwapUsedPercent = warnSwap_->value();
    settings.thresholds.warningPsiSome = warnPressure_->value();
    settings.thresholds.criticalPsiFull = critPressure_->value();
    settings.thresholds.marginPoints = margin_->value();
    settings.notifyRepeatMinutes = repeat_->value();
    settings.quiet = quiet_->isChecked();
    settings.guardEnabled = guard_->isChecked();
    settings.guardExternalBuilds = guardExternal_->isChecked();
    settings.guardEmergencyPercent = guardEmergency_->value();
    settings.guardRestSeconds = guardRest_->value();
    settings.machines = machines_->machines();
    // A shown machine that was removed: the window shows this one again.
    bool shownKept = settings.shownMachine.isEmpty();
    for (const services::MachineEntry& m : settings.machines)
        shownKept = shownKept || m.id == settings.shownMachine;
    if (!shownKept)
        settings.shownMachine.clear();
    return settings;
}

} // namespace headroom::ui
