// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/MainWindow.h"

#include "headroom/PressureMessage.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"
#include "headroom/Version.h"
#include "services/RunawayBuilds.h"
#include "services/SafeDisplayText.h"
#include "ui/BuildsPanel.h"
#include "ui/ChartsPanel.h"
#include "ui/DashboardColors.h"
#include "ui/ProcessPanel.h"
#include "ui/SettingsDialog.h"
#include "ui/StopBuildsDialog.h"
#include "ui/SummaryStrip.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDataStream>
#include <QDateTime>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace headroom::ui {
namespace {

constexpr ProcessAction kActions[] = {ProcessAction::Pause, ProcessAction::Resume, ProcessAction::Terminate,
                                      ProcessAction::Kill};

QIcon themedIcon(const QString& resource, QStyle::StandardPixmap fallback)
{
    QIcon icon(resource);
    // Without Qt's SVG icon engine the resource loads as an empty icon.
    if (icon.availableSizes().isEmpty() && icon.pixmap(16, 16).isNull())
        return QApplication::style()->standardIcon(fallback);
    return icon;
}

QString reachWord(services::MachineReach reach)
{
    switch (reach) {
    case services::MachineReach::Connecting:
        return QObject::tr("connecting");
    case services::MachineReach::Up:
        return QObject::tr("up");
    case services::MachineReach::Unreachable:
        return QObject::tr("unreachable");
    }
    return {};
}

// What a remote server sent, made safe for a widget: its builds' words.
void sanitiseRemote(Snapshot& snapshot)
{
    snapshot.processes.clear(); // a remote machine exports none; never show any
    for (BuildTree& build : snapshot.builds) {
        for (std::string* text : {&build.tool, &build.subcommand, &build.profile, &build.command,
                                  &build.workspace, &build.targetDir})
            *text = safeText(*text, 300);
        build.members.clear();
        build.duplicates.clear(); // duplicate warnings offer a stop: not for another machine
    }
    snapshot.notes.clear();
}

QString describeTargets(const std::vector<const ProcessSample*>& processes)
{
    if (processes.size() == 1)
        return QStringLiteral("%1 (%2)").arg(QString::fromStdString(processes.front()->displayName()),
                                             QString::number(processes.front()->key.pid));
    return QObject::tr("%n processes", nullptr, static_cast<int>(processes.size()));
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Headroom"));
    setWindowIcon(themedIcon(QStringLiteral(":/icons/headroom.svg"), QStyle::SP_ComputerIcon));

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(8, 6, 8, 4);
    layout->setSpacing(6);

    // While another machine is shown, a line above everything says which,
    // from where, and how fresh its figures are.
    banner_ = new QLabel(central);
    banner_->setObjectName(QStringLiteral("remoteBanner"));
    banner_->setTextFormat(Qt::PlainText);
    banner_->setWordWrap(true);
    banner_->setAutoFillBackground(true);
    banner_->setFrameShape(QFrame::StyledPanel);
    banner_->setContentsMargins(8, 4, 8, 4);
    banner_->hide();
    layout->addWidget(banner_);
    bannerTimer_ = new QTimer(this);
    bannerTimer_->setInterval(1000);
    connect(bannerTimer_, &QTimer::timeout, this, &MainWindow::updateBanner);

    summary_ = new SummaryStrip(central);
    layout->addWidget(summary_);

    mainSplitter_ = new QSplitter(Qt::Vertical, central);
    mainSplitter_->setObjectName(QStringLiteral("mainSplitter"));
    mainSplitter_->setChildrenCollapsible(false);
    // This machine's charts keep drawing while a remote machine's are shown.
    chartsStack_ = new QStackedWidget(mainSplitter_);
    chartsStack_->setObjectName(QStringLiteral("chartsStack"));
    charts_ = new ChartsPanel(chartsStack_);
    remoteCharts_ = new ChartsPanel(chartsStack_);
    remoteCharts_->setObjectName(QStringLiteral("remoteChartsPanel"));
    chartsStack_->addWidget(charts_);
    chartsStack_->addWidget(remoteCharts_);
    auto* lower = lowerSplitter_ = new QSplitter(Qt::Horizontal, mainSplitter_);
    lower->setObjectName(QStringLiteral("lowerSplitter"));
    lower->setChildrenCollapsible(false);
    processStack_ = new QStackedWidget(lower);
    processStack_->setObjectName(QStringLiteral("processStack"));
    processes_ = new ProcessPanel(processStack_);
    processNote_ = new QLabel(processStack_);
    processNote_->setObjectName(QStringLiteral("remoteProcessNote"));
    processNote_->setTextFormat(Qt::PlainText);
    processNote_->setAlignment(Qt::AlignCenter);
    processNote_->setWordWrap(true);
    processNote_->setMargin(24);
    processNote_->setForegroundRole(QPalette::PlaceholderText);
    processStack_->addWidget(processes_);
    processStack_->addWidget(processNote_);
    auto* side = sideSplitter_ = new QSplitter(Qt::Vertical, lower);
    side->setChildrenCollapsible(false);
    builds_ = new BuildsPanel(side);
    activity_ = new ActivityLog(side);
    side->setStretchFactor(0, 3);
    side->setStretchFactor(1, 2);
    lower->setStretchFactor(0, 5);
    lower->setStretchFactor(1, 3);
    mainSplitter_->setStretchFactor(0, 2);
    mainSplitter_->setStretchFactor(1, 3);
    pages_ = new QTabWidget(central);
    pages_->setObjectName(QStringLiteral("pages"));
    pages_->setDocumentMode(true);
    pages_->setTabBarAutoHide(true);
    pages_->addTab(mainSplitter_, tr("&Monitor"));
    layout->addWidget(pages_, 1);
    setCentralWidget(central);

    statusLabel_ = new QLabel(this);
    statusLabel_->setObjectName(QStringLiteral("samplingStatus"));
    statusBar()->addPermanentWidget(statusLabel_);
    buildStatus_ = new QLabel(this);
    buildStatus_->setObjectName(QStringLiteral("buildStatus"));
    statusBar()->addPermanentWidget(buildStatus_);

    createActions();
    createMenus();
    createToolBar();
    processes_->setContextMenu(processMenu_);

    connect(processes_, &ProcessPanel::selectionChanged, this, &MainWindow::updateActionStates);
    connect(builds_, &BuildsPanel::stopBuildsRequested, this, &MainWindow::requestBuildStop);
    connect(builds_, &BuildsPanel::buildActivated, this, [this](const ProcessKey& root) {
        processes_->setFilterText({});
        processes_->selectKeys({root});
        processes_->view()->setFocus();
    });

    charts_->configure(settings_.historyMinutes * 60.0, settings_.intervalSeconds);
    // A server's history comes in whatever steps it keeps: room for one a second.
    remoteCharts_->configure(settings_.historyMinutes * 60.0, 1.0);
    connect(remoteCharts_, &ChartsPanel::visibleSpanChosen, this, &MainWindow::remoteHistorySpanChanged);
    updateActionStates();
    updateStatus();

    // A window that fits a 1366x768 laptop with room for the panel, larger
    // screens get a bit more.
    QSize size(1280, 720);
    if (const QScreen* screen = QGuiApplication::primaryScreen()) {
        const QSize available = screen->availableSize();
        if (available.width() > 400 && available.height() > 300)
            size = size.boundedTo(available * 0.95);
    }
    resize(size);
    mainSplitter_->setSizes({size.height() * 2 / 5, size.height() * 3 / 5});
    lower->setSizes({size.width() * 5 / 8, size.width() * 3 / 8});
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    const QKeySequence keys[4][2] = {
        {QKeySequence(Qt::CTRL | Qt::Key_P), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_P)},
        {QKeySequence(Qt::CTRL | Qt::Key_R), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_R)},
        {QKeySequence(Qt::Key_Delete), QKeySequence(Qt::ALT | Qt::Key_Delete)},
        {QKeySequence(Qt::SHIFT | Qt::Key_Delete), QKeySequence(Qt::ALT | Qt::SHIFT | Qt::Key_Delete)},
    };
    const QString icons[4] = {QStringLiteral(":/icons/pause.svg"), QStringLiteral(":/icons/resume.svg"),
                              QStringLiteral(":/icons/terminate.svg"), QStringLiteral(":/icons/kill.svg")};
    const QStyle::StandardPixmap fallbacks[4] = {QStyle::SP_MediaPause, QStyle::SP_MediaPlay,
                                                 QStyle::SP_MediaStop, QStyle::SP_DialogCancelButton};
    const QString tips[4][2] = {
        {tr("Pause the selected processes (SIGSTOP); they keep their memory"),
         tr("Pause the selected processes and everything they started")},
        {tr("Resume paused processes (SIGCONT)"),
         tr("Resume the selected processes and everything they started")},
        {tr("Ask the selected processes to exit (SIGTERM), kill them after the grace period"),
         tr("Terminate the selected processes and everything they started")},
        {tr("Kill the selected processes at once (SIGKILL)"),
         tr("Kill the selected processes and everything they started")},
    };
    for (int a = 0; a < 4; ++a) {
        for (int tree = 0; tree < 2; ++tree) {
            auto* action = new QAction(themedIcon(icons[a], fallbacks[a]),
                                       services::actionLabel(kActions[a], tree == 1), this);
            action->setObjectName(QStringLiteral("action%1%2")
                                      .arg(QString::fromLatin1(actionId(kActions[a]).data()))
                                      .arg(tree ? QStringLiteral("Tree") : QString()));
            action->setShortcut(keys[a][tree]);
            action->setShortcutContext(Qt::WindowShortcut);
            action->setToolTip(QStringLiteral("%1 (%2)").arg(
                tips[a][tree], keys[a][tree].toString(QKeySequence::NativeText)));
            action->setStatusTip(tips[a][tree]);
            const ProcessAction which = kActions[a];
            connect(action, &QAction::triggered, this,
                    [this, which, tree] { requestOnSelection(which, tree == 1); });
            addAction(action);
            actions_[a][tree] = action;
        }
    }

    stopRunaway_ = new QAction(themedIcon(QStringLiteral(":/icons/stop-builds.svg"), QStyle::SP_BrowserStop),
                               tr("Stop Runaway &Builds…"), this);
    stopRunaway_->setObjectName(QStringLiteral("actionStopRunaway"));
    stopRunaway_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    stopRunaway_->setToolTip(
        tr("Gather every cargo, rustc, build script, linker, compiler and test process of yours "
           "and choose which builds to stop (Ctrl+B)"));
    connect(stopRunaway_, &QAction::triggered, this, [this] { openStopBuildsDialog(); });

    settingsAction_ =
        new QAction(themedIcon(QStringLiteral(":/icons/settings.svg"), QStyle::SP_FileDialogDetailedView),
                    tr("&Settings…"), this);
    settingsAction_->setObjectName(QStringLiteral("actionSettings"));
    settingsAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    connect(settingsAction_, &QAction::triggered, this, &MainWindow::editSettings);

    treeModeAction_ = new QAction(themedIcon(QStringLiteral(":/icons/tree.svg"), QStyle::SP_DirIcon),
                                  tr("Process &Tree"), this);
    treeModeAction_->setCheckable(true);
    treeModeAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    connect(treeModeAction_, &QAction::toggled, processes_, &ProcessPanel::setTreeMode);
    connect(processes_->findChild<QAbstractButton*>(QStringLiteral("treeMode")), &QAbstractButton::toggled,
            treeModeAction_, &QAction::setChecked);

    buildOnlyAction_ = new QAction(tr("&Build Processes Only"), this);
    buildOnlyAction_->setCheckable(true);
    buildOnlyAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
    connect(buildOnlyAction_, &QAction::toggled, processes_, &ProcessPanel::setBuildProcessesOnly);
    connect(processes_->findChild<QAbstractButton*>(QStringLiteral("buildOnly")), &QAbstractButton::toggled,
            buildOnlyAction_, &QAction::setChecked);

    focusFilterAction_ = new QAction(tr("&Filter Processes"), this);
    focusFilterAction_->setShortcut(QKeySequence::Find);
    connect(focusFilterAction_, &QAction::triggered, this, [this] {
        processes_->filterEdit()->setFocus(Qt::ShortcutFocusReason);
        processes_->filterEdit()->selectAll();
    });
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(settingsAction_);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    quit->setMenuRole(QAction::QuitRole);

    processMenu_ = menuBar()->addMenu(tr("&Process"));
    for (int a = 0; a < 4; ++a)
        processMenu_->addAction(actions_[a][0]);
    processMenu_->addSeparator();
    for (int a = 0; a < 4; ++a)
        processMenu_->addAction(actions_[a][1]);
    processMenu_->addSeparator();
    processMenu_->addAction(stopRunaway_);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(focusFilterAction_);
    view->addAction(buildOnlyAction_);
    view->addAction(treeModeAction_);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Headroom"), this, &MainWindow::showAbout);
}

void MainWindow::createToolBar()
{
    QToolBar* bar = addToolBar(tr("Actions"));
    bar->setObjectName(QStringLiteral("actionsToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(18, 18));

    bar->addAction(stopRunaway_);
    if (auto* button = qobject_cast<QToolButton*>(bar->widgetForAction(stopRunaway_))) {
        QFont bold = button->font();
        bold.setBold(true);
        button->setFont(bold);
    }
    bar->addSeparator();
    // Each action is a split button: click for the selected processes, the
    // arrow for the same on their whole trees.
    for (int a = 0; a < 4; ++a) {
        auto* button = new QToolButton(bar);
        button->setDefaultAction(actions_[a][0]);
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        auto* menu = new QMenu(button);
        menu->addAction(actions_[a][1]);
        button->setMenu(menu);
        button->setPopupMode(QToolButton::MenuButtonPopup);
        bar->addWidget(button);
    }
    bar->addSeparator();
    bar->addAction(treeModeAction_);
    auto* spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    auto* machine = new QWidget(bar);
    auto* machineRow = new QHBoxLayout(machine);
    machineRow->setContentsMargins(0, 0, 6, 0);
    auto* machineLabel = new QLabel(tr("&Machine:"), machine);
    switcher_ = new QComboBox(machine);
    switcher_->setObjectName(QStringLiteral("machineSwitcher"));
    switcher_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    switcher_->setToolTip(tr("The machine the window shows; other machines are shown read-only"));
    machineLabel->setBuddy(switcher_);
    machineRow->addWidget(machineLabel);
    machineRow->addWidget(switcher_);
    switcherAction_ = bar->addWidget(machine);
    connect(switcher_, &QComboBox::activated, this,
            [this](int index) { showMachine(switcher_->itemData(index).toString()); });
    rebuildSwitcher();
    bar->addAction(settingsAction_);
}

QAction* MainWindow::action(ProcessAction which, bool tree) const
{
    return actions_[static_cast<int>(which)][tree ? 1 : 0];
}

void MainWindow::setIdentity(std::uint32_t uid, Pid selfPid)
{
    uid_ = uid;
    selfPid_ = selfPid;
    builds_->setIdentity(uid, selfPid);
}

void MainWindow::applySettings(const services::DashboardSettings& settings)
{
    const bool historyChanged = settings.historyMinutes != settings_.historyMinutes ||
                                settings.intervalSeconds != settings_.intervalSeconds;
    const bool machinesChanged = settings.machines != settings_.machines;
    const QString wanted = settings.shownMachine;
    settings_ = settings;
    settings_.shownMachine = shown_;
    builds_->setGraceSeconds(settings.graceSeconds);
    if (historyChanged) {
        charts_->configure(settings.historyMinutes * 60.0, settings.intervalSeconds);
        remoteCharts_->configure(settings.historyMinutes * 60.0, 1.0);
    }
    if (machinesChanged)
        rebuildSwitcher();
    // The machine asked for when it exists, else this one.
    showMachine(machineEntry(wanted) ? wanted : QString());
    if (machinesChanged && showingRemote())
        showRemoteView(); // its name or address may have changed
    updateStatus();
}

void MainWindow::showPressure(const services::PressureState& state)
{
    pressure_ = state;
    if (!showingRemote())
        summary_->showPressure(state);
}

void MainWindow::showSnapshot(const services::SnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    snapshot_ = snapshot;
    ++snapshotsShown_;
    if (!samplingHealthy_) {
        samplingHealthy_ = true;
        activity_->add(ActivityLog::Severity::Success, tr("Sampling is back to normal."));
    }
    charts_->append(*snapshot);
    processes_->setSnapshot(snapshot);
    if (!showingRemote()) {
        summary_->showMemory(snapshot->memory, snapshot->budget);
        builds_->setSnapshot(snapshot);
    }
    for (const std::string& note : snapshot->notes) {
        if (notesSeen_.insert(note).second)
            activity_->add(ActivityLog::Severity::Info, QString::fromStdString(note));
    }
    updateActionStates();
    updateStatus();
    emit snapshotShown(snapshotsShown_);
}

void MainWindow::updateStatus()
{
    // While another machine is shown, this line is still about this one.
    QString text = showingRemote() ? tr("This computer: every %1 s").arg(settings_.intervalSeconds, 0, 'g', 3)
                                   : tr("Every %1 s").arg(settings_.intervalSeconds, 0, 'g', 3);
    if (snapshot_) {
        text += tr(" · %n processes", nullptr, static_cast<int>(snapshot_->processes.size()));
        text +=
            tr(" · updated %1")
                .arg(QDateTime::fromMSecsSinceEpoch(snapshot_->wallMs).toString(QStringLiteral("HH:mm:ss")));
    } else {
        text += tr(" · waiting for the first sample");
    }
    statusLabel_->setText(text);
}

void MainWindow::updateActionStates()
{
    // Another machine's processes are never acted on from here.
    stopRunaway_->setEnabled(!showingRemote());
    const auto selected =
        showingRemote() ? std::vector<const ProcessSample*>{} : processes_->selectedProcesses();
    bool anyStopped = false;
    bool anyRunning = false;
    for (const ProcessSample* process : selected) {
        (process->state == ProcessState::Stopped ? anyStopped : anyRunning) = true;
    }
    for (int tree = 0; tree < 2; ++tree) {
        actions_[0][tree]->setEnabled(!selected.empty() && (anyRunning || tree == 1));
        actions_[1][tree]->setEnabled(!selected.empty() && (anyStopped || tree == 1));
        actions_[2][tree]->setEnabled(!selected.empty());
        actions_[3][tree]->setEnabled(!selected.empty());
    }
}

// Build stops, from the builds panel or the Stop runaway builds dialog: whole
// trees, the user's own processes only, checked against the sample shown.
void MainWindow::requestBuildStop(const std::vector<ProcessKey>& roots, const QString& description)
{
    if (showingRemote())
        return; // a remote build's root is synthetic: it names no process here
    services::ActionRequest request;
    request.targets = roots;
    request.seen = snapshot_;
    request.action = ProcessAction::Terminate;
    request.tree = true;
    request.onlyCurrentUser = true;
    request.description = description;
    emit actionRequested(request);
}

void MainWindow::requestOnSelection(ProcessAction which, bool tree)
{
    if (showingRemote())
        return;
    const auto selected = processes_->selectedProcesses();
    if (selected.empty()) {
        statusBar()->showMessage(tr("Select a process first."), 4000);
        return;
    }
    services::ActionRequest request;
    request.seen = snapshot_;
    request.action = which;
    request.tree = tree;
    for (const ProcessSample* process : selected)
        request.targets.push_back(process->key);
    request.description =
        QStringLiteral("%1 %2").arg(services::actionLabel(which, tree), describeTargets(selected));
    emit actionRequested(request);
}

StopBuildsDialog* MainWindow::openStopBuildsDialog()
{
    // It offers this machine's builds: show this machine with it.
    showMachine(QString());
    if (!snapshot_) {
        statusBar()->showMessage(tr("No sample yet; try again in a moment."), 4000);
        return nullptr;
    }
    auto* dialog = new StopBuildsDialog(services::collectRunawayBuilds(*snapshot_, uid_, selfPid_),
                                        settings_.graceSeconds, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const std::vector<ProcessKey> roots = dialog->chosenRoots();
        if (roots.empty())
            return;
        requestBuildStop(roots,
                         tr("Stop runaway builds (%n build(s), %1)", nullptr, static_cast<int>(roots.size()))
                             .arg(QString::fromStdString(formatBytes(dialog->chosenBytes()))));
    });
    dialog->open();
    return dialog;
}

void MainWindow::showActionStarted(const services::ActionRequest& request)
{
    activity_->add(ActivityLog::Severity::Info, tr("%1…").arg(request.description));
    statusBar()->showMessage(tr("%1…").arg(request.description));
}

void MainWindow::showActionReport(const services::ActionRequest& request, const ActionReport& report)
{
    const QString summary = QString::fromStdString(report.summary());
    const bool clean = report.allSucceeded();
    // One line per process that did not simply do as asked, then the summary
    // on top, so the newest line reads first.
    for (const ActionResult& result : report.results) {
        ActivityLog::Severity severity = ActivityLog::Severity::Success;
        switch (result.outcome) {
        case ActionOutcome::Done:
            severity = ActivityLog::Severity::Success;
            break;
        case ActionOutcome::AlreadyGone:
            severity = ActivityLog::Severity::Info;
            break;
        case ActionOutcome::NotPermitted:
        case ActionOutcome::Refused:
            severity = ActivityLog::Severity::Warning;
            break;
        case ActionOutcome::Failed:
            severity = ActivityLog::Severity::Error;
            break;
        }
        activity_->add(
            severity, QString::fromStdString(result.message),
            tr("pid %1, %2").arg(result.key.pid).arg(QString::fromLatin1(outcomeId(result.outcome).data())));
    }
    const QString line = summary.isEmpty() ? tr("%1: nothing to do").arg(request.description)
                                           : tr("%1: %2").arg(request.description, summary);
    activity_->add(clean ? ActivityLog::Severity::Success : ActivityLog::Severity::Warning, line);
    statusBar()->showMessage(line, 15000);
}

void MainWindow::showMessage(ActivityLog::Severity severity, const QString& text, const QString& detail)
{
    activity_->add(severity, text, detail);
    if (severity == ActivityLog::Severity::Warning || severity == ActivityLog::Severity::Error)
        statusBar()->showMessage(text, 15000);
}

void MainWindow::showStatus(const QString& text, int timeoutMs)
{
    statusBar()->showMessage(text, std::max(0, timeoutMs));
}

void MainWindow::showBuildProgress(unsigned done, unsigned total)
{
    buildShown_ = true;
    buildDone_ = done;
    buildTotal_ = total;
    updateBuildStatus();
}

void MainWindow::showBuildMemory(quint64 residentBytes)
{
    buildShown_ = true;
    buildMemory_ = residentBytes;
    updateBuildStatus();
}

void MainWindow::clearBuildStatus()
{
    buildShown_ = false;
    buildDone_ = buildTotal_ = 0;
    buildMemory_.reset();
    updateBuildStatus();
}

void MainWindow::updateBuildStatus()
{
    if (!buildShown_) {
        buildStatus_->clear();
        return;
    }
    QString text = buildTotal_ > 0 ? tr("Building %1/%2").arg(buildDone_).arg(buildTotal_) : tr("Building");
    if (buildMemory_)
        text += QStringLiteral(" · ") + QString::fromStdString(formatBytes(*buildMemory_));
    buildStatus_->setText(text);
}

MainWindow::CloseDuringBuild MainWindow::askCloseDuringBuild()
{
    QMessageBox box(QMessageBox::Question, tr("A build is running"),
                    tr("A build started from Headroom is still running."), QMessageBox::NoButton, this);
    box.setInformativeText(
        tr("The build keeps running when Headroom quits; Headroom shows it again when you open it, "
           "and records it in the history. Or stop the whole build now, then quit."));
    QPushButton* keep = box.addButton(tr("&Quit, keep the build running"), QMessageBox::AcceptRole);
    QPushButton* stop = box.addButton(tr("&Stop the build and quit"), QMessageBox::DestructiveRole);
    box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(keep);
    box.exec();
    if (box.clickedButton() == keep)
        return CloseDuringBuild::KeepRunning;
    if (box.clickedButton() == stop)
        return CloseDuringBuild::StopBuild;
    return CloseDuringBuild::Cancel;
}

void MainWindow::showSamplingProblem(const QString& text)
{
    samplingHealthy_ = false;
    showMessage(ActivityLog::Severity::Error, text);
}

void MainWindow::editSettings()
{
    auto* dialog = new SettingsDialog(settings_, this);
    dialog->setCredentialStore(credentials_);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const services::DashboardSettings edited = dialog->settings();
        if (!(edited == settings_))
            emit settingsChangeRequested(edited);
    });
    dialog->open();
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About Headroom"),
        tr("<h3>Headroom %1</h3><p>Watch and tame memory-hungry builds: how much memory is left, "
           "who is eating it, and which build to stop.</p><p>Licensed under the GNU GPL, "
           "version 3 or later.</p>")
            .arg(QStringLiteral(HEADROOM_VERSION)));
}

QByteArray MainWindow::saveLayout() const
{
    QByteArray layout;
    QDataStream out(&layout, QIODevice::WriteOnly);
    out << quint32(1) << saveGeometry() << saveState() << mainSplitter_->saveState()
        << lowerSplitter_->saveState()
        << (localSideSplit_.isEmpty() ? sideSplitter_->saveState() : localSideSplit_)
        << processes_->view()->header()->saveState() << builds_->view()->header()->saveState()
        << charts_->visibleSpan() << processes_->treeMode() << charts_->memoryFitToData();
    return layout;
}

bool MainWindow::restoreLayout(const QByteArray& layout)
{
    QDataStream in(layout);
    quint32 version = 0;
    QByteArray geometry, state, mainSplit, lowerSplit, sideSplit, processHeader, buildsHeader;
    double span = 0;
    bool tree = false;
    in >> version >> geometry >> state >> mainSplit >> lowerSplit >> sideSplit >> processHeader >>
        buildsHeader >> span >> tree;
    if (in.status() != QDataStream::Ok || version != 1)
        return false;
    restoreGeometry(geometry);
    restoreState(state);
    mainSplitter_->restoreState(mainSplit);
    lowerSplitter_->restoreState(lowerSplit);
    sideSplitter_->restoreState(sideSplit);
    processes_->view()->header()->restoreState(processHeader);
    builds_->view()->header()->restoreState(buildsHeader);
    charts_->setVisibleSpan(span);
    processes_->setTreeMode(tree);
    // Added later to the same version: a layout saved before it has no such field.
    bool fit = false;
    in >> fit;
    charts_->setMemoryFitToData(in.status() == QDataStream::Ok && fit);
    return true;
}

void MainWindow::addPage(QWidget* page, const QString& title)
{
    pages_->addTab(page, title);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (closeGuard_ && !closeGuard_()) {
        event->ignore();
        return;
    }
    QMainWindow::closeEvent(event);
}

QImage MainWindow::renderImage()
{
    charts_->replotNow();
    remoteCharts_->replotNow();
    return grab().toImage();
}

} // namespace headroom::ui

namespace headroom::ui {

const services::MachineEntry* MainWindow::machineEntry(const QString& id) const
{
    if (id.isEmpty())
        return nullptr;
    for (const services::MachineEntry& m : settings_.machines) {
        if (m.id == id)
            return &m;
    }
    return nullptr;
}

void MainWindow::rebuildSwitcher()
{
    const QSignalBlocker blocker(switcher_);
    switcher_->clear();
    switcher_->addItem(tr("This computer"), QString());
    for (const services::MachineEntry& m : settings_.machines) {
        switcher_->addItem(services::safeDisplayText(m.name, 80), m.id);
        updateSwitcherItem(m.id);
    }
    const int index = switcher_->findData(shown_);
    switcher_->setCurrentIndex(index >= 0 ? index : 0);
    // With no other machine there is nothing to choose.
    switcherAction_->setVisible(!settings_.machines.isEmpty());
}

void MainWindow::updateSwitcherItem(const QString& id)
{
    const services::MachineEntry* m = machineEntry(id);
    const int index = switcher_->findData(id);
    if (!m || index < 0)
        return;
    const services::MachineState state = stateOf(id);
    switcher_->setItemText(
        index, QStringLiteral("%1 · %2").arg(services::safeDisplayText(m->name, 80), reachWord(state.reach)));
    switcher_->setItemData(index,
                           state.reach == services::MachineReach::Unreachable
                               ? services::safeDisplayText(state.error, 300)
                               : QString(),
                           Qt::ToolTipRole);
}

void MainWindow::showMachine(const QString& requested)
{
    const QString id = machineEntry(requested) ? requested : QString();
    const bool changed = id != shown_;
    shown_ = id;
    settings_.shownMachine = id;
    {
        const QSignalBlocker blocker(switcher_);
        const int index = switcher_->findData(id);
        switcher_->setCurrentIndex(index >= 0 ? index : 0);
    }
    if (changed) {
        if (id.isEmpty()) {
            // This machine again, as it is now: nothing to wait for.
            bannerTimer_->stop();
            banner_->hide();
            chartsStack_->setCurrentWidget(charts_);
            processStack_->setCurrentWidget(processes_);
            builds_->setReadOnly(false);
            if (!localSideSplit_.isEmpty())
                sideSplitter_->restoreState(localSideSplit_);
            localSideSplit_.clear();
            if (snapshot_) {
                summary_->showMemory(snapshot_->memory, snapshot_->budget);
                summary_->showPressure(pressure_);
                builds_->setSnapshot(snapshot_);
            } else {
                summary_->clear(tr("waiting for the first sample"));
                builds_->setSnapshot(std::make_shared<const Snapshot>());
            }
        } else {
            shownHistory_.reset();
            remoteCharts_->showHistory({});
            // Builds are all there is to see of another machine's processes:
            // they get most of the side, the activity log the rest.
            if (localSideSplit_.isEmpty()) {
                localSideSplit_ = sideSplitter_->saveState();
                const int total = std::max(100, sideSplitter_->height());
                sideSplitter_->setSizes({total * 4 / 5, total / 5});
            }
            chartsStack_->setCurrentWidget(remoteCharts_);
            processStack_->setCurrentWidget(processNote_);
            banner_->show();
            bannerTimer_->start();
            showRemoteView();
        }
        updateActionStates();
        emit shownMachineChanged(id);
    }
}

void MainWindow::showRemoteView()
{
    const services::MachineEntry* m = machineEntry(shown_);
    if (!m)
        return;
    const QString name = services::safeDisplayText(m->name, 80);
    processNote_->setText(
        tr("Processes of %1 are not exported; its builds and role totals are shown above.").arg(name));
    const services::MachineViewPtr view = machineViews_.value(shown_);
    if (!view) {
        summary_->clear(tr("waiting for %1's first reading").arg(name));
        builds_->setReadOnly(true);
        builds_->setSnapshot(std::make_shared<const Snapshot>());
        updateBanner();
        return;
    }
    auto snapshot = std::make_shared<Snapshot>(view->snapshot);
    sanitiseRemote(*snapshot);
    if (snapshot->steadyNs == 0)
        snapshot->steadyNs = snapshot->wallMs * 1'000'000; // as the history's, so the charts line up

    services::PressureState level;
    level.level = view->level.level;
    level.reason = QString::fromStdString(safeText(view->level.reason, 300));
    level.secondsLeft = timeLeftWorthShowing(view->secondsLeft);
    summary_->showMemory(snapshot->memory, snapshot->budget);
    summary_->showPressure(level);

    QString poolText;
    if (const auto& pool = view->pool; pool && pool->builds > 0) {
        poolText =
            tr("Job pool: %1 of %2 tokens in use by %n build(s)", nullptr, static_cast<int>(pool->builds))
                .arg(pool->inUse)
                .arg(pool->granted);
        if (pool->heldBack > 0)
            poolText += tr(" · %n held back", nullptr, static_cast<int>(pool->heldBack));
    }
    builds_->setReadOnly(true, poolText);
    builds_->setSnapshot(snapshot);

    // The newest reading extends the history between two fetches of it.
    const auto& points = remoteCharts_->history().points();
    if (snapshot->wallMs > 0 &&
        (points.empty() || services::MemoryHistory::toSeconds(snapshot->steadyNs) > points.back().seconds))
        remoteCharts_->append(*snapshot);
    updateBanner();
}

services::MachineState MainWindow::stateOf(const QString& id) const
{
    if (const auto it = machineStates_.constFind(id); it != machineStates_.constEnd())
        return *it;
    services::MachineState state;
    state.id = id;
    return state;
}

QString MainWindow::bannerText() const
{
    return banner_->text();
}

void MainWindow::updateBanner()
{
    const services::MachineEntry* m = machineEntry(shown_);
    if (!m)
        return;
    const QString name = services::safeDisplayText(m->name, 80);
    const QString url = services::safeDisplayText(m->url, 300);
    const QString source = m->kind == services::MachineEntry::Kind::Prometheus
                               ? tr("from Prometheus at %1").arg(url)
                               : tr("from the Headroom exporter at %1").arg(url);
    const services::MachineState state = stateOf(shown_);
    const services::MachineViewPtr view = machineViews_.value(shown_);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    qint64 seenMs = state.lastSeenMs;
    if (seenMs <= 0 && view)
        seenMs = view->snapshot.wallMs;
    QString text;
    services::MemoryLevel tone = services::MemoryLevel::Normal;
    if (state.reach == services::MachineReach::Unreachable) {
        const qint64 since = now - stateAtMs_.value(shown_, now);
        const int retry = std::max<qint64>(0, state.retryInSeconds - since / 1000);
        text = tr("%1 — unreachable: %2; retrying in %3 s")
                   .arg(name, services::safeDisplayText(state.error, 300))
                   .arg(retry);
        if (seenMs > 0)
            text +=
                tr(" (the figures below are from %1 s ago)").arg(std::max<qint64>(0, (now - seenMs) / 1000));
        tone = services::MemoryLevel::Critical;
    } else if (seenMs > 0) {
        text = tr("%1 — read-only, %2, last reading %3 s ago")
                   .arg(name, source)
                   .arg(std::max<qint64>(0, (now - seenMs) / 1000));
    } else {
        text = tr("%1 — read-only, %2, connecting…").arg(name, source);
        tone = services::MemoryLevel::Warning;
    }
    banner_->setText(text);
    QPalette pal = banner_->palette();
    pal.setColor(QPalette::Window, tint(levelColor(tone, palette()), palette(), 0.18));
    banner_->setPalette(pal);
}

void MainWindow::showPool(const services::PoolView& pool)
{
    builds_->setPool(pool); // kept for this machine while another is shown
}

void MainWindow::showMachineView(const QString& id, const services::MachineViewPtr& view)
{
    if (!view || !machineEntry(id))
        return;
    const bool first = !machineViews_.contains(id);
    machineViews_.insert(id, view);
    if (id == shown_) {
        showRemoteView();
        if (first)
            emit machineViewShown(id);
    }
}

void MainWindow::showMachineHistory(const QString& id, const services::MachineHistoryPtr& history)
{
    if (!history || id != shown_ || id.isEmpty())
        return;
    const bool first = !shownHistory_;
    shownHistory_ = history;
    remoteCharts_->showHistory(*history);
    // A machine that has been watched for a minute only: that minute fills the
    // charts rather than a sliver at their right edge. The span asked of the
    // server stays the one chosen; only a longer choice refetches.
    if (first && history->size() >= 2) {
        const double extent = static_cast<double>(history->back().wallMs - history->front().wallMs) / 1000.0;
        const double fit = remoteCharts_->spanCovering(extent);
        if (fit < remoteCharts_->visibleSpan())
            remoteCharts_->setVisibleSpan(fit);
    }
    // The reading newer than the history's end stays drawn.
    if (const services::MachineViewPtr view = machineViews_.value(id))
        showRemoteView();
}

void MainWindow::showMachineState(const services::MachineState& state)
{
    if (!machineEntry(state.id))
        return;
    machineStates_.insert(state.id, state);
    stateAtMs_.insert(state.id, QDateTime::currentMSecsSinceEpoch());
    updateSwitcherItem(state.id);
    if (state.id == shown_)
        updateBanner();
}

} // namespace headroom::ui
