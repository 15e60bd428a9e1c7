// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/launcher/LauncherPanel.h"

#include "headroom/Units.h"
#include "services/QtStrings.h"
#include "services/SafeDisplayText.h"
#include "ui/launcher/CustomPresetsDialog.h"
#include "ui/launcher/FreeMemoryDialog.h"
#include "ui/launcher/PoolChart.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QScrollBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBlock>
#include <QToolButton>
#include <QVBoxLayout>

namespace headroom::ui {

using services::q;
using services::s;

using services::LauncherController;

namespace {

// Adaptive first: it is the one to use unless there is a reason not to.
const BuildPreset kPresets[] = {BuildPreset::Adaptive, BuildPreset::A, BuildPreset::B,
                                BuildPreset::C,        BuildPreset::D, BuildPreset::Auto};

// Text a process or the supervisor wrote, for a plain-text label.
QString shown(const std::string& text, std::size_t max = 400)
{
    return services::safeDisplayText(QString::fromStdString(text), max);
}

// "1 job", "2 jobs": the pool's figures read as sentences.
QString count(unsigned n, const QString& one, const QString& many)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}

QLabel* poolLabel(const char* name)
{
    auto* label = new QLabel;
    label->setObjectName(QLatin1String(name));
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QTableWidgetItem* cell(const QString& text, Qt::Alignment align = Qt::AlignLeft | Qt::AlignVCenter)
{
    auto* item = new QTableWidgetItem(text);
    item->setTextAlignment(align);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

QTableWidget* table(const QStringList& headers)
{
    auto* t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setAlternatingRowColors(true);
    return t;
}
} // namespace

LauncherPanel::LauncherPanel(services::LauncherController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller)
{
    buildForm();

    connect(controller_, &services::LauncherController::workspaceLoaded, this, [this](const QString& dir) {
        if (dir != project_->currentText())
            return;
        const bool otherProject = formDir_ != dir;
        formDir_ = dir;
        fillFromWorkspace();
        if (otherProject && !pendingLast_) {
            // Each project keeps its own target, features and arguments.
            BuildRequest blank;
            blank.projectDir = s(dir);
            applyForm(controller_->projectForm(dir).value_or(blank));
            applyProjectPreset(dir);
        }
        refreshHistory();
        rememberProject(dir);
        updateButtons();
        emit status(tr("Read the workspace %1").arg(dir));
        if (pendingLast_ && q(pendingLast_->request.projectDir) == dir) {
            const auto last = *pendingLast_;
            pendingLast_.reset();
            applyLast(last);
            startRequested();
        }
    });
    connect(controller_, &services::LauncherController::workspaceFailed, this,
            [this](const QString& dir, const QString& why) {
                if (dir != project_->currentText())
                    return;
                pendingLast_.reset();
                diagnosis_->setText(why);
                diagnosis_->setProperty("level", "error");
                diagnosis_->setStyleSheet(
                    QStringLiteral("color: palette(bright-text); background: #b3261e; padding: 6px;"));
                emit status(why);
                updateButtons();
            });
    connect(controller_, &services::LauncherController::stateChanged, this, [this] { updateButtons(); });
    connect(controller_, &services::LauncherController::checksFailed, this,
            [this](const std::vector<BuildCheck>& checks) { showChecks(checks, true); });
    connect(controller_, &services::LauncherController::waiting, this,
            [this](const QString& reason, int seconds) {
                state_->setText(
                    waitMode_ == services::LauncherController::StartMode::WaitForBuild
                        ? tr("Waiting for the other build to finish (%1 s): %2").arg(seconds).arg(reason)
                        : tr("Waiting for memory (%1 s): %2").arg(seconds).arg(reason));
            });
    connect(controller_, &services::LauncherController::planStarted, this, [this](const BuildPlan&) {
        log_->clear();
        logLines_ = 0;
        errorMarked_ = false;
        lastDone_ = lastTotal_ = 0;
        progress_->setRange(0, 0);
        diagnosis_->clear();
        diagnosis_->setStyleSheet({});
        next_->hide();
        clearPool();
        state_->setText(tr("Building…"));
    });
    connect(controller_, &services::LauncherController::poolChanged, this,
            [this](const PoolStatus& pool) { showPool(pool); });
    connect(controller_, &services::LauncherController::actionsDone, this,
            [this](const ActionReport& report) {
                for (const auto& r : report.results)
                    appendLog(q(r.message) + '\n');
                emit status(q(report.summary()));
            });
    connect(controller_, &services::LauncherController::message, this, [this](const QString& text) {
        diagnosis_->setText(text);
        emit status(text);
    });
    connect(controller_, &services::LauncherController::finished, this, &LauncherPanel::showResult);
    connect(controller_, &services::LauncherController::historyProblem, this, [this](const QString& text) {
        // Beside the result, which stays: the build itself is not what failed.
        diagnosis_->setText(diagnosis_->text() + QStringLiteral("<br><b>%1</b>").arg(text.toHtmlEscaped()));
        emit status(text);
    });
    connect(controller_, &services::LauncherController::historyChanged, this, &LauncherPanel::refreshHistory);

    connect(controller_, &services::LauncherController::stepStarted, this,
            [this](int, const QString& title, const QString& line) {
                appendLog(QStringLiteral("==> %1\n$ %2\n").arg(title, line));
            });
    connect(controller_, &services::LauncherController::outputArrived, this, &LauncherPanel::appendLog);
    connect(controller_, &services::LauncherController::progressChanged, this,
            [this](unsigned done, unsigned total, const QStringList& now) {
                lastDone_ = done;
                lastTotal_ = total;
                progress_->setRange(0, int(total));
                progress_->setValue(int(done));
                progress_->setFormat(tr("%v / %m units"));
                compiling_->setText(now.isEmpty() ? QString() : tr("Compiling: %1").arg(now.join(", ")));
            });
    connect(controller_, &services::LauncherController::waitingForLock, this,
            [this](bool waiting, const QString& holder) {
                if (!waiting) {
                    state_->setText(tr("Building…"));
                    return;
                }
                state_->setText(holder.isEmpty()
                                    ? tr("Waiting for the build folder's lock, held by another cargo.")
                                    : tr("Waiting for the build folder's lock, held by %1.").arg(holder));
            });
    connect(
        controller_, &services::LauncherController::memoryChanged, this, [this](quint64 now, quint64 peak) {
            memory_->setText(tr("Build memory %1 (peak %2)").arg(q(formatBytes(now)), q(formatBytes(peak))));
        });

    updateButtons();
    refreshPreview();
}

void LauncherPanel::buildForm()
{
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    project_ = new QComboBox;
    project_->setEditable(true);
    project_->setInsertPolicy(QComboBox::NoInsert);
    project_->setToolTip(tr("The folder that holds Cargo.toml"));
    project_->lineEdit()->setPlaceholderText(tr("Folder with Cargo.toml"));
    browse_ = new QToolButton;
    browse_->setText(tr("Browse…"));
    auto* projectRow = new QHBoxLayout;
    projectRow->addWidget(project_, 1);
    projectRow->addWidget(browse_);
    form->addRow(tr("Project:"), projectRow);
    connect(browse_, &QToolButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Project folder"), project_->currentText());
        if (!dir.isEmpty())
            setProject(dir);
    });
    connect(project_->lineEdit(), &QLineEdit::editingFinished, this,
            [this] { setProject(project_->currentText()); });
    connect(project_, &QComboBox::activated, this, [this] { setProject(project_->currentText()); });

    package_ = new QComboBox;
    form->addRow(tr("P&ackage:"), package_);

    targetKind_ = new QComboBox;
    targetKind_->addItem(tr("Default targets"), int(TargetKind::Default));
    targetKind_->addItem(tr("Binary (--bin)"), int(TargetKind::Bin));
    targetKind_->addItem(tr("Example (--example)"), int(TargetKind::Example));
    targetKind_->addItem(tr("Library (--lib)"), int(TargetKind::Lib));
    targetName_ = new QComboBox;
    auto* targetRow = new QHBoxLayout;
    targetRow->addWidget(targetKind_);
    targetRow->addWidget(targetName_, 1);
    form->addRow(tr("Target:"), targetRow);

    features_ = new QLineEdit;
    features_->setPlaceholderText(tr("none"));
    featureMenu_ = new QToolButton;
    featureMenu_->setText(tr("Choose…"));
    featureMenu_->setPopupMode(QToolButton::InstantPopup);
    featureMenu_->setMenu(new QMenu(featureMenu_));
    auto* featureRow = new QHBoxLayout;
    featureRow->addWidget(features_, 1);
    featureRow->addWidget(featureMenu_);
    form->addRow(tr("Features:"), featureRow);

    profile_ = new QComboBox;
    profile_->setEditable(true);
    profile_->addItems({"release", "dev"});
    form->addRow(tr("P&rofile:"), profile_);
    // The person's pick is kept apart from what a preset forces (B is always
    // dev), so switching presets back and forth shows what each will build.
    connect(profile_, &QComboBox::activated, this, [this] {
        chosenProfile_ = profile_->currentText().trimmed();
        applyPresetProfile();
    });
    connect(profile_->lineEdit(), &QLineEdit::editingFinished, this, [this] {
        if (!profile_->isEnabled() || profile_->currentText().trimmed() == chosenProfile_)
            return;
        chosenProfile_ = profile_->currentText().trimmed();
        applyPresetProfile();
    });

    extraArgs_ = new QLineEdit;
    extraArgs_->setPlaceholderText(tr("for example --locked"));
    form->addRow(tr("E&xtra arguments:"), extraArgs_);
    thenRun_ = new QLineEdit;
    thenRun_->setPlaceholderText(
        tr("a command to run after a successful build, e.g. ./scripts/conformance.sh run"));
    form->addRow(tr("T&hen run:"), thenRun_);

    preset_ = new QComboBox;
    fillPresets();
    auto* editCustom = new QToolButton;
    editCustom->setText(tr("Custom presets…"));
    connect(editCustom, &QToolButton::clicked, this, [this] {
        CustomPresetsDialog dialog(controller_->customPresets(), this);
        if (dialog.exec() != QDialog::Accepted)
            return;
        controller_->setCustomPresets(dialog.presets());
        fillPresets();
        refreshPreview();
    });
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(preset_, 1);
    presetRow->addWidget(editCustom);
    form->addRow(tr("Preset:"), presetRow);
    presetNote_ = new QLabel;
    presetNote_->setWordWrap(true);
    form->addRow(QString(), presetNote_);

    preview_ = new QPlainTextEdit;
    preview_->setReadOnly(true);
    preview_->setMaximumHeight(76);
    preview_->setLineWrapMode(QPlainTextEdit::NoWrap);
    preview_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* copy = new QToolButton;
    copy->setText(tr("Copy"));
    copy->setToolTip(tr("Copy the exact commands and environment"));
    connect(copy, &QToolButton::clicked, this,
            [this] { QApplication::clipboard()->setText(preview_->toPlainText()); });
    auto* previewRow = new QHBoxLayout;
    previewRow->addWidget(preview_, 1);
    previewRow->addWidget(copy, 0, Qt::AlignTop);
    form->addRow(tr("Runs:"), previewRow);

    // Outside the scrolling form, beside the buttons that act on it: the box
    // grows to all of its wrapped lines instead of being clipped to the
    // form's last visible row.
    checks_ = new QLabel;
    checks_->setWordWrap(true);
    checks_->setTextFormat(Qt::RichText);
    checks_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    auto* checksBox = new QGroupBox(tr("Checks"));
    auto* checksLayout = new QVBoxLayout(checksBox);
    checksLayout->setContentsMargins(6, 2, 6, 4);
    checksLayout->addWidget(checks_);

    start_ = new QPushButton(tr("&Start build"));
    start_->setDefault(true);
    anyway_ = new QPushButton(tr("Start &anyway"));
    wait_ = new QPushButton(tr("&Wait until memory is available"));
    pauseTests_ = new QPushButton(tr("&Pause the test processes"));
    pauseTests_->setToolTip(tr("SIGSTOP; they are resumed when the build ends"));
    stopOther_ = new QPushButton(tr("Stop the &other build"));
    stop_ = new QPushButton(tr("St&op build"));
    next_ = new QPushButton;
    next_->hide();
    auto* buttons = new QHBoxLayout;
    for (auto* b : {start_, anyway_, wait_, pauseTests_, stopOther_, stop_, next_})
        buttons->addWidget(b);
    buttons->addStretch(1);

    state_ = new QLabel;
    state_->setWordWrap(true);
    progress_ = new QProgressBar;
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setTextVisible(true);
    progress_->setFormat(QString()); // no count before a build
    progress_->setToolTip(tr("units: crates and build scripts cargo compiles (cargo's own count, N/M)"));
    compiling_ = new QLabel;
    compiling_->setWordWrap(true);
    memory_ = new QLabel;
    diagnosis_ = new QLabel;
    diagnosis_->setWordWrap(true);
    diagnosis_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // The job pool while an Adaptive build runs: everything from the run's
    // status, so a run taken back after a restart shows the same.
    poolBox_ = new QGroupBox(tr("Job pool"));
    poolBox_->setObjectName(QStringLiteral("poolBox"));
    poolJobs_ = poolLabel("poolJobs");
    poolBudget_ = poolLabel("poolBudget");
    poolPredicted_ = poolLabel("poolPredicted");
    poolHeldBack_ = poolLabel("poolHeldBack");
    poolPaused_ = poolLabel("poolPaused");
    poolRetries_ = poolLabel("poolRetries");
    poolProblem_ = poolLabel("poolProblem");
    poolChart_ = new PoolChart;
    poolChart_->setFixedHeight(120);
    auto* poolText = new QVBoxLayout;
    poolText->setSpacing(2);
    for (QLabel* label :
         {poolProblem_, poolJobs_, poolBudget_, poolPredicted_, poolHeldBack_, poolPaused_, poolRetries_})
        poolText->addWidget(label);
    poolText->addStretch(1);
    auto* poolLayout = new QHBoxLayout(poolBox_);
    poolLayout->setContentsMargins(6, 2, 6, 4);
    poolLayout->addLayout(poolText, 3);
    poolLayout->addWidget(poolChart_, 2);
    poolBox_->hide();

    log_ = new QPlainTextEdit;
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(20000);
    log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    log_->setPlaceholderText(tr("The build's output appears here."));

    auto* formBox = new QWidget;
    auto* formLayout = new QVBoxLayout(formBox);
    formLayout->setContentsMargins(0, 0, 0, 0);
    formLayout->addLayout(form);
    auto* formScroll = new QScrollArea;
    formScroll->setWidget(formBox);
    formScroll->setWidgetResizable(true);
    formScroll->setFrameShape(QFrame::NoFrame);

    auto* runBox = new QWidget;
    auto* runLayout = new QVBoxLayout(runBox);
    runLayout->setContentsMargins(0, 0, 0, 0);
    runLayout->addWidget(checksBox);
    runLayout->addLayout(buttons);
    runLayout->addWidget(state_);
    auto* progressRow = new QHBoxLayout;
    progressRow->addWidget(progress_, 2);
    progressRow->addWidget(memory_, 1);
    runLayout->addLayout(progressRow);
    runLayout->addWidget(compiling_);
    runLayout->addWidget(poolBox_);
    runLayout->addWidget(diagnosis_);

    presetTable_ = table(
        {tr("Preset"), tr("Runs"), tr("Succeeded"), tr("Typical duration"), tr("Peak memory"), tr("Target")});
    crateTable_ = table({tr("Crate"), tr("Peak rustc memory")});
    runTable_ = table({tr("Started"), tr("Preset"), tr("Result"), tr("Duration"), tr("Peak"), tr("Summary")});
    auto* historyBox = new QWidget;
    auto* historyLayout = new QVBoxLayout(historyBox);
    auto* topRow = new QHBoxLayout;
    topRow->addWidget(presetTable_, 3);
    topRow->addWidget(crateTable_, 2);
    historyLayout->addLayout(topRow, 1);
    historyLayout->addWidget(runTable_, 2);

    tabs_ = new QTabWidget;
    tabs_->addTab(log_, tr("Output"));
    tabs_->addTab(historyBox, tr("History"));

    // A plain layout, not a splitter: the diagnosis label must be able to grow
    // to its wrapped height whenever its text changes.
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(formScroll, 5);
    layout->addWidget(runBox, 0);
    layout->addWidget(tabs_, 3);

    for (auto* combo : {package_, targetKind_, targetName_, profile_, preset_})
        connect(combo, &QComboBox::currentIndexChanged, this, &LauncherPanel::refreshPreview);
    connect(profile_, &QComboBox::currentTextChanged, this, &LauncherPanel::refreshPreview);
    for (auto* edit : {features_, extraArgs_, thenRun_})
        connect(edit, &QLineEdit::textChanged, this, &LauncherPanel::refreshPreview);
    connect(targetKind_, &QComboBox::currentIndexChanged, this, [this] { fillFromWorkspace(); });
    connect(targetName_, &QComboBox::currentIndexChanged, this, &LauncherPanel::addRequiredFeatures);
    connect(features_, &QLineEdit::textChanged, this, &LauncherPanel::syncFeatureMenu);
    connect(preset_, &QComboBox::currentIndexChanged, this, &LauncherPanel::applyPresetProfile);
    connect(preset_, &QComboBox::currentIndexChanged, this, [this] { jobsAsked_.reset(); });
    connect(package_, &QComboBox::currentIndexChanged, this, [this] { fillFromWorkspace(); });

    connect(start_, &QPushButton::clicked, this, &LauncherPanel::startRequested);
    connect(pauseTests_, &QPushButton::clicked, this, [this] {
        controller_->pauseForBuild(heavyTests_);
        pauseTests_->hide();
    });
    connect(stopOther_, &QPushButton::clicked, this, [this] {
        controller_->stopCompetingBuild(competing_);
        stopOther_->hide();
    });
    connect(anyway_, &QPushButton::clicked, this,
            [this] { startWith(services::LauncherController::StartMode::Anyway); });
    connect(wait_, &QPushButton::clicked, this, [this] { startWith(waitMode_); });
    connect(stop_, &QPushButton::clicked, controller_, &services::LauncherController::stop);
    connect(next_, &QPushButton::clicked, this, [this] {
        if (!suggested_)
            return;
        setPreset(*suggested_);
        jobsAsked_ = suggestedJobs_;
        refreshPreview();
        startRequested();
    });
}

void LauncherPanel::fillPresets()
{
    const QSignalBlocker block(preset_);
    const int current = preset_->currentIndex();
    preset_->clear();
    for (BuildPreset p : kPresets) {
        const QString title = q(std::string(presetTitle(p)));
        preset_->addItem(p == BuildPreset::Adaptive ? tr("%1 (recommended)").arg(title) : title, int(p));
        preset_->setItemData(preset_->count() - 1, q(std::string(presetExplanation(p))), Qt::ToolTipRole);
    }
    const auto& custom = controller_->customPresets();
    for (int i = 0; i < int(custom.size()); ++i) {
        preset_->addItem(tr("Custom — %1").arg(custom[std::size_t(i)].name), int(BuildPreset::Custom));
        preset_->setItemData(preset_->count() - 1, i, Qt::UserRole + 1);
    }
    preset_->setCurrentIndex(std::clamp(current, 0, preset_->count() - 1));
}

void LauncherPanel::setRecentProjects(const QStringList& recent)
{
    recent_ = recent;
    const QString current = project_->currentText();
    const QSignalBlocker block(project_);
    project_->clear();
    project_->addItems(recent_);
    project_->setEditText(current);
}

void LauncherPanel::rememberProject(const QString& dir)
{
    recent_.removeAll(dir);
    recent_.prepend(dir);
    while (recent_.size() > 10)
        recent_.removeLast();
    setRecentProjects(recent_);
    emit recentProjectsChanged(recent_);
}

void LauncherPanel::setProject(const QString& dir)
{
    if (!formDir_.isEmpty() && formDir_ != dir && controller_->workspace())
        controller_->rememberProjectForm(formToRemember());
    if (project_->currentText() != dir)
        project_->setEditText(dir);
    diagnosis_->clear();
    diagnosis_->setStyleSheet({});
    const QString problem = services::checkProject(dir, QStringLiteral("cargo"));
    if (!problem.isEmpty() && QFileInfo(dir).isDir() && !QFileInfo::exists(dir + "/Cargo.toml")) {
        // make, ninja and cmake projects can still run custom presets.
        diagnosis_->setText(
            tr("%1 has no Cargo.toml: the cargo presets cannot run here, custom presets can.").arg(dir));
        rememberProject(dir);
        updateButtons();
        return;
    }
    if (!problem.isEmpty()) {
        diagnosis_->setText(problem);
        diagnosis_->setStyleSheet(QStringLiteral("color: white; background: #b3261e; padding: 6px;"));
        emit status(problem);
        updateButtons();
        return;
    }
    state_->setText(tr("Reading the workspace…"));
    controller_->openProject(dir);
}

void LauncherPanel::fillFromWorkspace()
{
    const auto& ws = controller_->workspace();
    if (!ws)
        return;
    const QSignalBlocker b1(package_), b2(targetName_), b3(profile_);
    const QString package = package_->currentData().toString();
    if (package_->count() != int(ws->packages.size()) + 1) {
        package_->clear();
        package_->addItem(tr("(whole workspace)"), QString());
        for (const auto& p : ws->packages)
            package_->addItem(p.name, p.name);
        package_->setCurrentIndex(std::max(0, package_->findData(package)));
    }
    const auto* only = ws->package(package_->currentData().toString());
    const auto kind = TargetKind(targetKind_->currentData().toInt());
    const QString name = targetName_->currentData().toString();
    targetName_->clear();
    const QStringList names = kind == TargetKind::Bin       ? (only ? only->bins : ws->allBins())
                              : kind == TargetKind::Example ? (only ? only->examples : ws->allExamples())
                                                            : QStringList{};
    for (const QString& n : names) {
        // Said up front: building such a target without them is refused.
        const QStringList needs = only ? only->requiredFor(kind, n) : ws->requiredFeatures(kind, n);
        const QString label = needs.isEmpty()     ? n
                              : needs.size() == 1 ? tr("%1 (needs feature %2)").arg(n, needs.front())
                                                  : tr("%1 (needs features %2)").arg(n, needs.join(", "));
        targetName_->addItem(label, n);
    }
    targetName_->setEnabled(!names.isEmpty());
    targetName_->setCurrentIndex(std::max(0, targetName_->findData(name)));

    const QString profile = profile_->currentText();
    profile_->clear();
    profile_->addItems(ws->profiles);
    profile_->setCurrentText(profile.isEmpty() ? QStringLiteral("release") : profile);

    QMenu* menu = featureMenu_->menu();
    menu->clear();
    const QStringList features = only ? only->features : ws->allFeatures();
    for (const QString& f : features) {
        if (f == "default")
            continue;
        QAction* a = menu->addAction(f);
        a->setData(f);
        a->setCheckable(true);
        a->setChecked(features_->text().split(',', Qt::SkipEmptyParts).contains(f));
        connect(a, &QAction::toggled, this, [this, f](bool on) {
            QStringList list = features_->text().split(',', Qt::SkipEmptyParts);
            for (auto& item : list)
                item = item.trimmed();
            list.removeAll(f);
            if (on)
                list << f;
            features_->setText(list.join(','));
        });
    }
    featureMenu_->setEnabled(!menu->isEmpty());
    state_->setText(tr("%1: %n package(s)", nullptr, int(ws->packages.size())).arg(ws->root));
    addRequiredFeatures();
    applyPresetProfile();
    refreshPreview();
}

void LauncherPanel::addRequiredFeatures()
{
    const auto& ws = controller_->workspace();
    if (!ws)
        return;
    const BuildRequest r = request();
    if (r.targetKind != TargetKind::Bin && r.targetKind != TargetKind::Example)
        return;
    QStringList missing;
    for (const auto& p : ws->packages) {
        if (r.package.empty() || p.name == q(r.package))
            missing += services::missingRequiredFeatures(r, p, *ws);
    }
    missing.removeDuplicates();
    if (missing.isEmpty())
        return;
    QStringList list = features_->text().split(',', Qt::SkipEmptyParts);
    for (auto& item : list)
        item = item.trimmed();
    list += missing;
    features_->setText(list.join(','));
}

void LauncherPanel::syncFeatureMenu()
{
    QStringList list =
        features_->text().split(QRegularExpression(QStringLiteral("[ ,]+")), Qt::SkipEmptyParts);
    for (auto& item : list)
        item = item.section('/', -1);
    for (QAction* a : featureMenu_->menu()->actions()) {
        const QSignalBlocker block(a);
        a->setChecked(list.contains(a->data().toString()));
    }
}

void LauncherPanel::applyPresetProfile()
{
    const BuildPreset p = preset();
    QString shown = chosenProfile_;
    if (p == BuildPreset::B)
        shown = QStringLiteral("dev");
    else if (shown.isEmpty() || ((p == BuildPreset::A || p == BuildPreset::D) && shown == "dev"))
        shown = QStringLiteral("release"); // what planBuild makes of it
    profile_->setToolTip(
        p == BuildPreset::B ? tr("Preset B always builds the dev profile (debug, unoptimised).")
        : p == BuildPreset::A || p == BuildPreset::D
            ? tr("Preset %1 builds optimised: release, or a custom profile you pick. Choose preset B for a "
                 "debug build.")
                  .arg(q(std::string(presetId(p))))
            : tr("The cargo profile: release unless you pick another."));
    if (profile_->currentText() != shown)
        profile_->setCurrentText(shown);
    updateButtons();
}

BuildRequest LauncherPanel::formToRemember() const
{
    BuildRequest r = request();
    r.projectDir = s(formDir_);
    r.profile = s(chosenProfile_);
    return r;
}

void LauncherPanel::applyForm(const BuildRequest& form)
{
    package_->setCurrentIndex(std::max(0, package_->findData(q(form.package))));
    {
        const QSignalBlocker block(targetKind_);
        targetKind_->setCurrentIndex(std::max(0, targetKind_->findData(int(form.targetKind))));
    }
    features_->clear();
    fillFromWorkspace();
    {
        const QSignalBlocker block(targetName_);
        targetName_->setCurrentIndex(std::max(0, targetName_->findData(q(form.targetName))));
    }
    features_->setText(q(form.features));
    chosenProfile_ = form.profile == "release" ? QString() : q(form.profile);
    applyPresetProfile();
    extraArgs_->setText(q(joinArguments(form.extraArgs)));
    thenRun_->setText(q(joinArguments(form.thenRun)));
    refreshPreview();
}

BuildRequest LauncherPanel::request() const
{
    BuildRequest r;
    r.projectDir = s(project_->currentText().trimmed());
    r.package = s(package_->currentData().toString());
    r.targetKind = TargetKind(targetKind_->currentData().toInt());
    if (r.targetKind == TargetKind::Bin || r.targetKind == TargetKind::Example)
        r.targetName = s(targetName_->currentData().toString());
    r.features = s(features_->text().trimmed());
    r.profile = s(profile_->currentText().trimmed());
    if (auto extra = splitArguments(s(extraArgs_->text())))
        r.extraArgs = *extra;
    if (auto then = splitArguments(s(thenRun_->text())))
        r.thenRun = *then;
    r.jobs = jobsAsked_;
    if (controller_->workspace())
        services::nameTheOnlyBinary(r, *controller_->workspace());
    return r;
}

BuildPreset LauncherPanel::preset() const
{
    return BuildPreset(preset_->currentData().toInt());
}

void LauncherPanel::setPreset(BuildPreset p)
{
    preset_->setCurrentIndex(std::max(0, preset_->findData(int(p))));
}

void LauncherPanel::refreshPreview()
{
    const BuildPreset p = preset();
    controller_->selectCustomPreset(p == BuildPreset::Custom ? preset_->currentData(Qt::UserRole + 1).toInt()
                                                             : -1);
    updateButtons();
    const BuildPlan plan = controller_->plan(request(), p);
    QStringList lines;
    for (const auto& step : plan.steps)
        lines << QStringLiteral("# %1\n%2").arg(q(step.title), q(step.displayLine()));
    if (!request().thenRun.empty())
        lines << "# Then run\n" + thenRun_->text();
    preview_->setPlainText(lines.join('\n'));
    QString note = q(plan.note);
    if (!plan.jobsExplanation.empty())
        note += "\n" + tr("Jobs: %1").arg(q(plan.jobsExplanation));
    if (!plan.artifactPath.empty())
        note += "\n" + tr("Expected result: %1").arg(q(plan.artifactPath));
    presetNote_->setText(note);
    if (controller_->state() == services::LauncherController::State::Idle)
        showChecks(controller_->checks(request(), p), false);
}

void LauncherPanel::showChecks(const std::vector<BuildCheck>& checks, bool offerChoices)
{
    QStringList rows;
    bool failed = false;
    for (const auto& c : checks) {
        failed = failed || !c.passed;
        // Paths and commands have long words: let them break after a slash.
        QString verdict = q(c.verdict).toHtmlEscaped();
        verdict.replace('/', QStringLiteral("/\u200b"));
        rows << QStringLiteral("<span style='color:%1'>%2</span> %3")
                    .arg(c.passed ? "#2e7d32" : "#c62828", c.passed ? "✔" : "✖", verdict);
    }
    checks_->setText(rows.isEmpty() ? tr("No memory reading yet.") : rows.join("<br>"));
    heavyTests_.clear();
    competing_.clear();
    bool memoryShort = false;
    bool otherBuild = false;
    for (const auto& c : checks) {
        if (c.passed)
            continue;
        if (c.id == BuildCheckId::HeavyTests)
            heavyTests_ = c.offenders;
        else if (c.id == BuildCheckId::CompetingBuild) {
            competing_ = c.offenders;
            otherBuild = true;
        } else
            memoryShort = true;
    }
    // A duplicate build is not a memory shortage: what to wait for is its end.
    const bool waitForBuild = otherBuild && !memoryShort;
    waitMode_ = waitForBuild ? services::LauncherController::StartMode::WaitForBuild
                             : services::LauncherController::StartMode::WaitForMemory;
    wait_->setText(waitForBuild ? tr("&Wait for that build to finish")
                                : tr("&Wait until memory is available"));
    wait_->setToolTip(waitForBuild ? tr("Starts by itself once the other build on this workspace has ended")
                                   : tr("Starts by itself once the memory checks pass"));
    anyway_->setVisible(offerChoices && failed);
    wait_->setVisible(offerChoices && (memoryShort || otherBuild));
    pauseTests_->setVisible(offerChoices && !heavyTests_.empty());
    stopOther_->setVisible(offerChoices && !competing_.empty());
    if (offerChoices && failed)
        state_->setText(waitForBuild
                            ? tr("Another build is running on this workspace: wait for it to finish, "
                                 "stop it, or start anyway.")
                            : tr("A check failed: start anyway, wait until memory is available, or "
                                 "change the preset."));
}

bool LauncherPanel::startLast()
{
    const auto last = controller_->lastBuild();
    if (!last) {
        emit status(tr("No build has been started from Headroom yet."));
        return false;
    }
    const QString dir = q(last->request.projectDir);
    if (controller_->workspace() && controller_->workspace()->root == dir && project_->currentText() == dir) {
        applyLast(*last);
        startRequested();
        return true;
    }
    // Read the workspace first; the build starts once it is loaded.
    pendingLast_ = last;
    setProject(dir);
    return true;
}

void LauncherPanel::applyLast(const services::LauncherController::LastBuild& last)
{
    int presetIndex = preset_->findData(int(last.preset));
    if (last.preset == BuildPreset::Custom) {
        for (int i = 0; i < preset_->count(); ++i) {
            if (preset_->itemData(i).toInt() == int(BuildPreset::Custom) &&
                preset_->itemText(i).endsWith(last.customPreset))
                presetIndex = i;
        }
    }
    preset_->setCurrentIndex(std::max(0, presetIndex));
    package_->setCurrentIndex(std::max(0, package_->findData(q(last.request.package))));
    targetKind_->setCurrentIndex(std::max(0, targetKind_->findData(int(last.request.targetKind))));
    fillFromWorkspace();
    targetName_->setCurrentIndex(std::max(0, targetName_->findData(q(last.request.targetName))));
    features_->setText(q(last.request.features));
    chosenProfile_ = last.preset == BuildPreset::B || last.request.profile == "release"
                         ? QString()
                         : q(last.request.profile);
    applyPresetProfile();
    extraArgs_->setText(q(joinArguments(last.request.extraArgs)));
    thenRun_->setText(q(joinArguments(last.request.thenRun)));
    refreshPreview();
}

void LauncherPanel::startRequested()
{
    if (preset() == BuildPreset::D) {
        chooseFreeMemory();
        return;
    }
    startWith(services::LauncherController::StartMode::CheckFirst);
}

void LauncherPanel::startWith(services::LauncherController::StartMode mode)
{
    if (controller_->workspace() && formDir_ == project_->currentText())
        controller_->rememberProjectForm(formToRemember());
    QString problem;
    if (!controller_->start(request(), preset(), mode, &problem)) {
        diagnosis_->setText(problem);
        diagnosis_->setStyleSheet(QStringLiteral("color: white; background: #b3261e; padding: 6px;"));
        emit status(problem.section('\n', 0, 0));
        return;
    }
    if (controller_->state() == services::LauncherController::State::Idle)
        return; // a check failed: its choices stay on screen
    anyway_->hide();
    wait_->hide();
    pauseTests_->hide();
    stopOther_->hide();
}

void LauncherPanel::chooseFreeMemory()
{
    FreeMemoryDialog dialog(controller_->heavyProcesses(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QStringList problems = controller_->validate(request());
    if (!problems.isEmpty()) {
        diagnosis_->setText(problems.join('\n'));
        return;
    }
    controller_->freeMemoryThenStart(request(), dialog.chosen(), dialog.action());
}

void LauncherPanel::appendLog(const QString& text)
{
    const bool atEnd = log_->verticalScrollBar()->value() == log_->verticalScrollBar()->maximum();
    QString chunk = text;
    if (chunk.endsWith('\n'))
        chunk.chop(1);
    log_->appendPlainText(chunk);
    if (!errorMarked_) {
        // Mark the first error line so it stands out in a long log.
        for (QTextBlock block = log_->document()->firstBlock(); block.isValid(); block = block.next()) {
            const QString line = block.text().trimmed();
            if ((line.startsWith("error[") || line.startsWith("error:")) &&
                !line.startsWith("error: could not compile")) {
                QTextCursor cursor(block);
                cursor.select(QTextCursor::LineUnderCursor);
                QTextCharFormat format;
                format.setBackground(QColor(0xc6, 0x28, 0x28, 60));
                format.setFontWeight(QFont::Bold);
                cursor.mergeCharFormat(format);
                errorMarked_ = true;
                break;
            }
        }
    }
    if (atEnd)
        log_->verticalScrollBar()->setValue(log_->verticalScrollBar()->maximum());
}

void LauncherPanel::showResult(const services::BuildRunResult& r)
{
    const auto& d = r.diagnosis;
    QString text =
        QStringLiteral("<b>%1</b> (%2)").arg(q(d.summary).toHtmlEscaped(), q(formatDuration(r.seconds)));
    if (!d.detail.empty())
        text += "<br>" + q(d.detail).toHtmlEscaped().replace('\n', "<br>");
    if (r.artifactSize >= 0)
        text +=
            "<br>" +
            tr("Built %1 (%2)").arg(r.artifactPath.toHtmlEscaped(), q(formatBytes(quint64(r.artifactSize))));
    if (r.peakTreeBytes > 0)
        text += "<br>" + tr("Peak memory of the build: %1").arg(q(formatBytes(r.peakTreeBytes)));
    if (r.thenRunExitCode)
        text += "<br>" + tr("The then-run command exited with %1.").arg(*r.thenRunExitCode);
    if (!d.nextStep.empty())
        text += "<br>" + tr("Next: %1").arg(q(d.nextStep).toHtmlEscaped());
    diagnosis_->setTextFormat(Qt::RichText);
    diagnosis_->setText(text);
    const bool good = d.verdict == BuildVerdict::Succeeded;
    const bool cancelled = d.verdict == BuildVerdict::Cancelled;
    diagnosis_->setStyleSheet(good        ? QStringLiteral("background: rgba(46,125,50,40); padding: 6px;")
                              : cancelled ? QStringLiteral("padding: 6px;")
                                          : QStringLiteral("background: rgba(198,40,40,40); padding: 6px;"));
    // End on cargo's own count: its last total, all of it when the build succeeded.
    if (lastTotal_ > 0) {
        progress_->setRange(0, int(lastTotal_));
        progress_->setValue(int(good ? lastTotal_ : std::min(lastDone_, lastTotal_)));
        progress_->setFormat(tr("%v / %m units"));
    } else {
        progress_->setRange(0, 1);
        progress_->setValue(good ? 1 : 0);
        progress_->setFormat(good ? tr("done") : tr("no units counted"));
    }
    showChecks(controller_->checks(request(), preset()), false);
    showPool(r.pool, true);
    compiling_->clear();
    memory_->setText(r.peakTreeBytes ? tr("Peak build memory %1").arg(q(formatBytes(r.peakTreeBytes)))
                                     : QString());
    state_->setText(good ? tr("Done.") : tr("Ended: %1").arg(q(std::string(verdictId(d.verdict)))));
    suggested_ = d.nextPreset;
    suggestedJobs_ = d.nextJobs;
    if (suggested_) {
        next_->setText(tr("Try %1").arg(q(std::string(presetTitle(*suggested_)))));
        next_->show();
    } else {
        next_->hide();
    }
    emit status(q(d.summary));
}

void LauncherPanel::clearPool()
{
    poolBox_->hide();
    for (QLabel* label :
         {poolProblem_, poolJobs_, poolBudget_, poolPredicted_, poolHeldBack_, poolPaused_, poolRetries_}) {
        label->clear();
        label->setToolTip({});
    }
    poolChart_->clearSeries();
}

void LauncherPanel::showPool(const PoolStatus& pool, bool ended)
{
    if (!pool.active && pool.problem.empty()) {
        poolBox_->hide();
        return;
    }
    poolBox_->show();
    poolProblem_->setVisible(!pool.problem.empty());
    if (!pool.problem.empty()) {
        // The supervisor's own sentence ("The job pool could not be joined: ...").
        poolProblem_->setText(shown(pool.problem));
        poolProblem_->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
    }
    for (QWidget* w :
         std::initializer_list<QWidget*>{poolJobs_, poolBudget_, poolPredicted_, poolHeldBack_, poolChart_})
        w->setVisible(pool.active);
    if (!pool.active) {
        poolPaused_->hide();
        poolRetries_->hide();
        return;
    }

    // Jobs running: the implicit one every jobserver client has, and the tokens taken.
    const unsigned running = pool.inUse + 1;
    QString jobs = tr("%1 running").arg(count(running, tr("job"), tr("jobs"))) + QStringLiteral(" · ") +
                   tr("%1 of %2 tokens").arg(pool.inUse).arg(pool.granted) + QStringLiteral(" · ");
    jobs += pool.poolBuilds > 1
                ? tr("pool shared by %1").arg(count(pool.poolBuilds, tr("build"), tr("builds")))
                : tr("this build alone in the pool");
    if (ended) {
        unsigned most = 0;
        for (const auto& point : pool.parallelism)
            most = std::max(most, point.second);
        jobs =
            most > 0 ? tr("Ended · at most %1 at once").arg(count(most, tr("job"), tr("jobs"))) : tr("Ended");
    }
    poolJobs_->setText(jobs);
    poolJobs_->setToolTip(pool.cpus > 0 ? tr("%1 of at most %2 tokens given over every build (CPUs - 1)")
                                              .arg(pool.poolGranted)
                                              .arg(pool.cpus > 1 ? pool.cpus - 1 : 0)
                                        : QString());

    const QString limit =
        pool.limit.empty()
            ? (pool.limitBytes > 0 ? tr("limit %1").arg(q(formatBytes(pool.limitBytes))) : tr("limit"))
            : shown(pool.limit, 120);
    QString budget = tr("%1 left of the %2").arg(q(formatBytes(pool.budgetBytes)), limit);
    if (pool.reserveBytes > 0)
        budget += QStringLiteral(" · ") + tr("%1 kept in reserve").arg(q(formatBytes(pool.reserveBytes)));
    poolBudget_->setText(budget);

    poolPredicted_->setText(
        pool.predictedBytes > 0
            ? tr("Predicted peak of what runs now: %1").arg(q(formatBytes(pool.predictedBytes)))
            : tr("Predicted peak of what runs now: nothing learned yet"));

    poolPredicted_->setVisible(!ended);
    poolHeldBack_->setVisible(!ended);
    if (pool.heldBack.empty()) {
        poolHeldBack_->setText(tr("No token held back."));
        poolHeldBack_->setToolTip({});
    } else {
        // Word-wrapped, and whole in the tooltip however long it is.
        const QString full = shown(pool.heldBack, 4000);
        poolHeldBack_->setText(tr("Held back: %1").arg(shown(pool.heldBack, 400)));
        poolHeldBack_->setToolTip(full);
    }

    QStringList paused;
    for (const std::string& job : pool.paused)
        paused << shown(job, 200);
    poolPaused_->setVisible(!paused.isEmpty());
    poolPaused_->setText(
        paused.isEmpty() ? QString() : tr("Paused by the pool: %1").arg(paused.join(QStringLiteral("; "))));

    poolRetries_->setVisible(pool.oomRetries > 0);
    if (pool.oomRetries > 0) {
        QString retries = pool.oomRetries == 1
                              ? tr("Resumed once after an OOM kill")
                              : tr("Resumed %1 times after an OOM kill").arg(pool.oomRetries);
        if (!pool.retryCrate.empty())
            retries += tr("; %1 is built alone").arg(shown(pool.retryCrate, 120));
        poolRetries_->setText(retries);
    }

    poolChart_->showParallelism(pool.parallelism, pool.cpus);
}

void LauncherPanel::applyProjectPreset(const QString& dir)
{
    const auto remembered = controller_->projectPreset(dir);
    if (!remembered) {
        setPreset(BuildPreset::Adaptive);
        return;
    }
    int index = preset_->findData(int(remembered->first));
    if (remembered->first == BuildPreset::Custom) {
        index = -1;
        for (int i = 0; i < preset_->count(); ++i) {
            if (preset_->itemData(i).toInt() == int(BuildPreset::Custom) &&
                preset_->itemText(i).endsWith(remembered->second))
                index = i;
        }
    }
    preset_->setCurrentIndex(index >= 0 ? index : std::max(0, preset_->findData(int(BuildPreset::Adaptive))));
}

void LauncherPanel::refreshHistory()
{
    if (!controller_->workspace())
        return;
    const auto stats = controller_->presetStats();
    presetTable_->setRowCount(int(stats.size()));
    for (int i = 0; i < int(stats.size()); ++i) {
        const auto& st = stats[std::size_t(i)];
        presetTable_->setItem(i, 0, cell(st.preset));
        presetTable_->setItem(i, 1, cell(QString::number(st.runs), Qt::AlignRight | Qt::AlignVCenter));
        presetTable_->setItem(i, 2, cell(QString::number(st.succeeded), Qt::AlignRight | Qt::AlignVCenter));
        presetTable_->setItem(
            i, 3, cell(st.succeeded ? q(formatDuration(st.typicalSeconds)) : QStringLiteral("—")));
        presetTable_->setItem(i, 4,
                              cell(q(formatBytes(st.peakTreeBytes)), Qt::AlignRight | Qt::AlignVCenter));
        presetTable_->setItem(i, 5, cell(st.target.label()));
    }
    const auto crates = controller_->hungriestCrates();
    crateTable_->setRowCount(int(crates.size()));
    for (int i = 0; i < int(crates.size()); ++i) {
        crateTable_->setItem(i, 0, cell(crates[std::size_t(i)].crate));
        crateTable_->setItem(
            i, 1, cell(q(formatBytes(crates[std::size_t(i)].peakBytes)), Qt::AlignRight | Qt::AlignVCenter));
    }
    const auto runs = controller_->runs(50);
    runTable_->setRowCount(int(runs.size()));
    for (int i = 0; i < int(runs.size()); ++i) {
        const auto& run = runs[std::size_t(i)];
        runTable_->setItem(i, 0,
                           cell(QDateTime::fromMSecsSinceEpoch(run.startedMs).toString("yyyy-MM-dd hh:mm")));
        runTable_->setItem(i, 1, cell(run.preset));
        runTable_->setItem(i, 2, cell(run.verdict));
        runTable_->setItem(i, 3, cell(q(formatDuration(run.seconds))));
        runTable_->setItem(i, 4, cell(q(formatBytes(run.peakTreeBytes)), Qt::AlignRight | Qt::AlignVCenter));
        auto* summary = cell(run.summary);
        summary->setToolTip(run.commands.join('\n'));
        runTable_->setItem(i, 5, summary);
    }
    for (auto* t : {presetTable_, crateTable_, runTable_})
        t->resizeColumnsToContents();
}

void LauncherPanel::updateButtons()
{
    const auto state = controller_->state();
    const bool idle = state == services::LauncherController::State::Idle;
    const bool custom = preset_ && preset() == BuildPreset::Custom;
    start_->setEnabled(idle && (controller_->workspace().has_value() ||
                                (custom && QFileInfo(project_->currentText()).isDir())));
    stop_->setEnabled(state == services::LauncherController::State::Running ||
                      state == services::LauncherController::State::Waiting);
    stop_->setText(state == services::LauncherController::State::Waiting ? tr("Cancel &waiting")
                                                                         : tr("St&op build"));
    for (QWidget* w : std::initializer_list<QWidget*>{project_, browse_, package_, targetKind_, targetName_,
                                                      features_, profile_, extraArgs_, thenRun_, preset_})
        w->setEnabled(idle || state == services::LauncherController::State::LoadingProject);
    if (preset_ && preset() == BuildPreset::B)
        profile_->setEnabled(false); // B always builds dev
    if (idle) {
        anyway_->setVisible(anyway_->isVisible() && controller_->workspace().has_value());
    } else {
        anyway_->hide();
        wait_->hide();
        pauseTests_->hide();
        stopOther_->hide();
    }
}

} // namespace headroom::ui
