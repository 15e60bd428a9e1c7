// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/LauncherController.h"

#include "headroom/ProcessControl.h"
#include "headroom/RunsFolder.h"
#include "headroom/SafeText.h"
#include "services/QtStrings.h"
#include "services/launcher/BuildSessionInputs.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QPointer>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <filesystem>

namespace headroom::services {

LauncherController::LauncherController(const QString& historyPath, const QString& settingsPath,
                                       QObject* parent)
    : QObject(parent), history_(std::make_unique<BuildHistory>(historyPath))
{
    LauncherSettings opened = openLauncherSettings(settingsPath);
    settings_ = std::move(opened.settings);
    settingsWarning_ = opened.warning;
    customPresets_ = loadCustomPresets(*settings_);
    qRegisterMetaType<BuildPlan>();
    qRegisterMetaType<std::vector<BuildCheck>>();
    connect(&gate_, &BuildGate::ready, this, &LauncherController::launch);
    connect(&gate_, &BuildGate::stillWaiting, this,
            [this](const QString& reason) { emit waiting(reason, int(waitClock_.elapsed() / 1000)); });
    connect(&runner_, &BuildRunner::stepStarted, this, &LauncherController::stepStarted);
    connect(&runner_, &BuildRunner::outputArrived, this, &LauncherController::outputArrived);
    connect(&runner_, &BuildRunner::progressChanged, this, &LauncherController::progressChanged);
    connect(&runner_, &BuildRunner::waitingForLock, this, &LauncherController::waitingForLock);
    connect(&runner_, &BuildRunner::memoryChanged, this, &LauncherController::memoryChanged);
    connect(&runner_, &BuildRunner::poolChanged, this, &LauncherController::poolChanged);
    connect(&runner_, &BuildRunner::finished, this, &LauncherController::runEnded);
    runner_.setOrigin(RunOrigin::Window);
    runner_.setHistoryPath(history_->path());
    // A build an earlier window started may still run: follow it, once the
    // caller had its chance to point at another runs folder.
    QTimer::singleShot(0, this, [this] {
        if (!adoptChecked_)
            adoptRunning();
    });
}

void LauncherController::runEnded(const BuildRunResult& result)
{
    // Recorded even when the history was not open at start: it may be free
    // now, and if not the run is kept to be recorded later. The supervisor
    // posts the same run (by its id) to the inbox: it is recorded once.
    const RecordResult recorded = history_->record(recordProject_, plan_, result, startedMs_, recordTarget_);
    if (recorded) // else the history cannot be written now: the inbox waits, and one message says so
        importInbox();
    if (recorded)
        emit historyChanged();
    resumePaused();
    setState(State::Idle);
    emit finished(result);
    // After the result, so the panel adds it to the diagnosis instead of replacing it.
    if (!recorded)
        emit historyProblem(recorded.message);
}

void LauncherController::importInbox()
{
    const InboxImport import = history_->importInbox();
    for (const QString& problem : import.problems)
        emit historyProblem(problem);
    if (import.imported > 0)
        emit historyChanged();
}

bool LauncherController::adoptRunning()
{
    adoptChecked_ = true;
    importInbox();
    if (state_ != State::Idle && state_ != State::LoadingProject)
        return false;
    const std::vector<RunEntry> entries = listRuns(runner_.runsDir().toStdString());
    const RunEntry* newest = nullptr;
    QStringList others;
    for (const RunEntry& entry : entries) {
        if (!entry.status || entry.status->state != RunState::Running || !entry.supervisorAlive)
            continue;
        if (!newest)
            newest = &entry;
        else
            others << QStringLiteral("%1 (%2)").arg(q(entry.status->spec.id),
                                                    q(safeText(entry.status->spec.title, 80)));
    }
    bool adopted = false;
    if (newest) {
        const RunStatus& status = *newest->status;
        QString error;
        if (runner_.adopt(q(status.spec.id), &error)) {
            request_ = runner_.request();
            preset_ = status.spec.preset;
            plan_ = runner_.plan();
            startedMs_ = status.startedMs ? status.startedMs : status.spec.createdMs;
            recordProject_ = q(status.spec.project);
            recordTarget_ = RunTarget{q(status.spec.targetPackage), q(status.spec.targetKind),
                                      q(status.spec.targetName), q(status.spec.targetFeatures)};
            emit planStarted(plan_);
            setState(State::Running);
            emit message(QStringLiteral("Following the build \"%1\" that was already running (run %2, "
                                        "started %3).")
                             .arg(q(safeText(status.spec.title, 80)), q(status.spec.id),
                                  QDateTime::fromMSecsSinceEpoch(startedMs_)
                                      .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));
            adopted = true;
        } else {
            emit message(QStringLiteral("A build is running (run %1) but cannot be followed: %2")
                             .arg(q(status.spec.id), error));
        }
    }
    if (!others.isEmpty())
        emit message(
            QStringLiteral("Other supervised runs are running too: %1. See them with `headroom runs`.")
                .arg(others.join(QStringLiteral(", "))));
    return adopted;
}

LauncherController::~LauncherController() = default;

void LauncherController::setCustomPresets(std::vector<CustomPreset> presets)
{
    customPresets_ = std::move(presets);
    saveCustomPresets(*settings_, customPresets_);
    if (customIndex_ >= int(customPresets_.size()))
        customIndex_ = -1;
}

QStringList LauncherController::recentProjects() const
{
    return settings_->value(QStringLiteral("launcher/recentProjects")).toStringList();
}

void LauncherController::setRecentProjects(const QStringList& recent)
{
    settings_->setValue(QStringLiteral("launcher/recentProjects"), recent);
}

void LauncherController::setCheckOptions(double maxUsedFraction, std::uint64_t defaultNeed)
{
    maxUsedFraction_ = maxUsedFraction;
    defaultNeed_ = defaultNeed;
}

void LauncherController::setState(State state)
{
    if (state_ == state)
        return;
    state_ = state;
    emit stateChanged(state);
}

void LauncherController::openProject(const QString& projectDir)
{
    loadingDir_ = projectDir;
    workspace_.reset();
    if (state_ == State::Idle)
        setState(State::LoadingProject);
    const QString cargo = cargo_;
    QPointer<LauncherController> self(this);
    // cargo metadata can take seconds on a large workspace: not on the GUI thread.
    QThread* thread = QThread::create([self, projectDir, cargo] {
        QString error;
        auto info = WorkspaceInfo::load(projectDir, cargo, &error);
        QMetaObject::invokeMethod(
            qApp,
            [self, projectDir, info, error] {
                if (!self || self->loadingDir_ != projectDir)
                    return; // another project was chosen meanwhile
                if (self->state_ == State::LoadingProject)
                    self->setState(State::Idle);
                if (!info) {
                    emit self->workspaceFailed(projectDir, error);
                    return;
                }
                self->workspace_ = info;
                emit self->workspaceLoaded(projectDir);
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

const CustomPreset* LauncherController::customPreset() const
{
    return customIndex_ >= 0 && customIndex_ < int(customPresets_.size())
               ? &customPresets_[std::size_t(customIndex_)]
               : nullptr;
}

BuildSession LauncherController::session(const BuildRequest& request, BuildPreset preset) const
{
    BuildSessionSettings settings;
    settings.maxUsedFraction = maxUsedFraction_;
    settings.defaultNeed = defaultNeed_;
    settings.cpus = buildCpus();
    LearnedFigures learned;
    if (workspace_) {
        settings.workspace = workspace_->root.toStdString();
        settings.targetDir = workspace_->targetDir.toStdString();
        learned =
            learnedFigures(*history_, workspace_->root, preset, runTarget(request, preset), defaultNeed_);
    }
    if (preset == BuildPreset::Custom) {
        if (const CustomPreset* custom = customPreset())
            settings.customPlan = custom->plan(q(request.projectDir));
    }
    return BuildSession(request, preset, snapshot_, learned, std::move(settings));
}

BuildPlan LauncherController::plan(BuildRequest request, BuildPreset preset) const
{
    return session(request, preset).plan();
}

QStringList LauncherController::validate(const BuildRequest& request) const
{
    if (const CustomPreset* chosen = preset_ == BuildPreset::Custom ? customPreset() : nullptr) {
        const CustomPreset& custom = *chosen;
        if (!QFileInfo(q(request.projectDir)).isDir())
            return {QStringLiteral("The project folder %1 does not exist.").arg(q(request.projectDir))};
        QStringList problems = custom.problems();
        if (problems.isEmpty() && QStandardPaths::findExecutable(custom.program).isEmpty() &&
            !QFileInfo(custom.program).isExecutable())
            problems << QStringLiteral("%1 was not found on PATH.").arg(custom.program);
        return problems;
    }
    const QString problem = checkProject(q(request.projectDir), q(request.cargoProgram));
    if (!problem.isEmpty())
        return {problem};
    if (!workspace_)
        return {QStringLiteral("The workspace is still being read; try again in a moment.")};
    return checkRequest(request, *workspace_);
}

std::vector<BuildCheck> LauncherController::checks(const BuildRequest& request, BuildPreset preset) const
{
    return session(request, preset).checks();
}

std::vector<ProcessSample> LauncherController::heavyProcesses(std::size_t limit) const
{
    return BuildSession({}, BuildPreset::D, snapshot_).heavyProcesses(limit);
}

std::optional<ProcessKey> LauncherController::runningBuildRoot() const
{
    return state_ == State::Running ? runner_.rootKey() : std::nullopt;
}

std::vector<HistoryRun> LauncherController::runs(int limit) const
{
    return workspace_ ? history_->runs(workspace_->root, limit) : std::vector<HistoryRun>{};
}

std::vector<PresetStats> LauncherController::presetStats() const
{
    return workspace_ ? history_->presetStats(workspace_->root) : std::vector<PresetStats>{};
}

std::vector<CratePeak> LauncherController::hungriestCrates(int limit) const
{
    return workspace_ ? history_->hungriestCrates(workspace_->root, limit) : std::vector<CratePeak>{};
}

bool LauncherController::start(const BuildRequest& request, BuildPreset preset, StartMode mode,
                               QString* problem)
{
    if (state_ == State::Running || state_ == State::Waiting) {
        if (problem)
            *problem = QStringLiteral("A build is already running or waiting; stop it first.");
        return false;
    }
    preset_ = preset;
    const QStringList problems = validate(request);
    if (!problems.isEmpty()) {
        if (problem)
            *problem = problems.join('\n');
        return false;
    }
    request_ = request;
    if (mode == StartMode::CheckFirst) {
        const auto found = checks(request, preset);
        const bool blocked =
            std::any_of(found.begin(), found.end(), [](const BuildCheck& c) { return !c.passed; });
        if (blocked) {
            emit checksFailed(found);
            return true;
        }
    }
    if (mode == StartMode::WaitForMemory || mode == StartMode::WaitForBuild) {
        waitClock_.start();
        gate_.arm(session(request, preset).checkOptions(), mode == StartMode::WaitForBuild
                                                               ? BuildGate::Until::CompetingBuildGone
                                                               : BuildGate::Until::ChecksPass);
        setState(State::Waiting);
        if (snapshot_)
            gate_.observe(snapshot_);
        return true;
    }
    launch();
    return true;
}

namespace {
QStringList toList(const std::vector<std::string>& items)
{
    QStringList list;
    for (const auto& item : items)
        list << QString::fromStdString(item);
    return list;
}
std::vector<std::string> fromList(const QStringList& list)
{
    std::vector<std::string> items;
    for (const QString& item : list)
        items.push_back(item.toStdString());
    return items;
}

// The form's fields in the current settings group.
void writeForm(QSettings& settings, const BuildRequest& request)
{
    settings.setValue(QStringLiteral("package"), q(request.package));
    settings.setValue(QStringLiteral("targetKind"), int(request.targetKind));
    settings.setValue(QStringLiteral("targetName"), q(request.targetName));
    settings.setValue(QStringLiteral("features"), q(request.features));
    settings.setValue(QStringLiteral("profile"), q(request.profile));
    settings.setValue(QStringLiteral("extraArgs"), toList(request.extraArgs));
    settings.setValue(QStringLiteral("thenRun"), toList(request.thenRun));
}

void readForm(const QSettings& settings, BuildRequest& r, const QString& defaultProfile)
{
    r.package = settings.value(QStringLiteral("package")).toString().toStdString();
    const int kind = settings.value(QStringLiteral("targetKind"), 0).toInt();
    r.targetKind = kind >= 0 && kind <= int(TargetKind::Lib) ? TargetKind(kind) : TargetKind::Default;
    r.targetName = settings.value(QStringLiteral("targetName")).toString().toStdString();
    r.features = settings.value(QStringLiteral("features")).toString().toStdString();
    r.profile = settings.value(QStringLiteral("profile"), defaultProfile).toString().toStdString();
    r.extraArgs = fromList(settings.value(QStringLiteral("extraArgs")).toStringList());
    r.thenRun = fromList(settings.value(QStringLiteral("thenRun")).toStringList());
}
} // namespace

namespace {
QString projectGroup(const QString& projectDir)
{
    // Paths hold slashes, which QSettings reads as groups.
    return QStringLiteral("projects/") + QString::fromLatin1(projectDir.toUtf8().toBase64(
                                             QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}
} // namespace

void LauncherController::rememberLastBuild()
{
    settings_->beginGroup(QStringLiteral("lastBuild"));
    settings_->setValue(QStringLiteral("project"), q(request_.projectDir));
    writeForm(*settings_, request_);
    settings_->setValue(QStringLiteral("preset"), q(std::string(presetId(preset_))));
    const CustomPreset* custom = preset_ == BuildPreset::Custom ? customPreset() : nullptr;
    settings_->setValue(QStringLiteral("customPreset"), custom ? custom->name : QString());
    settings_->endGroup();
    // Each project starts with its own last preset.
    settings_->beginGroup(projectGroup(q(request_.projectDir)));
    settings_->setValue(QStringLiteral("preset"), q(std::string(presetId(preset_))));
    settings_->setValue(QStringLiteral("customPreset"), custom ? custom->name : QString());
    settings_->endGroup();
}

std::optional<LauncherController::LastBuild> LauncherController::lastBuild() const
{
    settings_->beginGroup(QStringLiteral("lastBuild"));
    LastBuild last;
    last.request.projectDir = settings_->value(QStringLiteral("project")).toString().toStdString();
    readForm(*settings_, last.request, QStringLiteral("release"));
    const auto preset = presetFromId(settings_->value(QStringLiteral("preset")).toString().toStdString());
    last.customPreset = settings_->value(QStringLiteral("customPreset")).toString();
    settings_->endGroup();
    if (last.request.projectDir.empty() || !preset)
        return std::nullopt;
    last.preset = *preset;
    return last;
}

void LauncherController::rememberProjectForm(const BuildRequest& request)
{
    if (request.projectDir.empty())
        return;
    settings_->beginGroup(projectGroup(q(request.projectDir)));
    writeForm(*settings_, request);
    settings_->endGroup();
}

std::optional<BuildRequest> LauncherController::projectForm(const QString& projectDir) const
{
    settings_->beginGroup(projectGroup(projectDir));
    const bool known = settings_->contains(QStringLiteral("targetKind"));
    BuildRequest r;
    r.projectDir = projectDir.toStdString();
    readForm(*settings_, r, QString());
    settings_->endGroup();
    if (!known)
        return std::nullopt;
    return r;
}

std::optional<std::pair<BuildPreset, QString>>
LauncherController::projectPreset(const QString& projectDir) const
{
    settings_->beginGroup(projectGroup(projectDir));
    const auto preset = presetFromId(settings_->value(QStringLiteral("preset")).toString().toStdString());
    const QString custom = settings_->value(QStringLiteral("customPreset")).toString();
    settings_->endGroup();
    if (!preset)
        return std::nullopt;
    return std::make_pair(*preset, custom);
}

QString LauncherController::LastBuild::title() const
{
    const QString name = QFileInfo(QString::fromStdString(request.projectDir)).fileName();
    const QString which = preset == BuildPreset::Custom && !customPreset.isEmpty()
                              ? customPreset
                              : QString::fromStdString(std::string(presetId(preset)));
    return QStringLiteral("%1 · %2").arg(which, name);
}

RunTarget LauncherController::runTarget(const BuildRequest& request, BuildPreset preset) const
{
    if (preset == BuildPreset::Custom) {
        RunTarget target;
        target.kind = QStringLiteral("custom");
        if (const CustomPreset* custom = customPreset())
            target.name = custom->name;
        return target;
    }
    return RunTarget::of(request);
}

void LauncherController::launch()
{
    rememberLastBuild();
    plan_ = plan(request_, preset_);
    startedMs_ = QDateTime::currentMSecsSinceEpoch();
    recordProject_ = workspace_ ? workspace_->root : q(request_.projectDir);
    recordTarget_ = runTarget(request_, preset_);
    runner_.setProject(recordProject_);
    runner_.setTarget(recordTarget_.package, recordTarget_.kind, recordTarget_.name, recordTarget_.features);
    runner_.setHistoryPath(history_->path());
    {
        const LastBuild last{request_, preset_,
                             preset_ == BuildPreset::Custom && customPreset() ? customPreset()->name
                                                                              : QString()};
        runner_.setTitle(last.title());
    }
    // A custom preset's memory limits bound its build's scope; the presets A-D set none.
    const CustomPreset* custom = preset_ == BuildPreset::Custom ? customPreset() : nullptr;
    runner_.setMemoryLimits(custom ? custom->memoryHigh : std::nullopt,
                            custom ? custom->memoryMax : std::nullopt);
    // Announce first: views reset for the new run before its first step shows.
    emit planStarted(plan_);
    setState(State::Running);
    QString error;
    if (!runner_.start(request_, plan_, &error)) {
        setState(State::Idle);
        emit message(error);
    }
}

void LauncherController::freeMemoryThenStart(const BuildRequest& request,
                                             const std::vector<ProcessKey>& targets, ProcessAction action)
{
    const bool pause = action == ProcessAction::Pause;
    actInBackground(targets, action, !pause, pause, [this, request] {
        QString problem;
        if (!start(request, BuildPreset::D, StartMode::Anyway, &problem))
            emit message(problem);
    });
}

void LauncherController::actInBackground(std::vector<ProcessKey> targets, ProcessAction action, bool tree,
                                         bool rememberPaused, std::function<void()> then)
{
    QPointer<LauncherController> self(this);
    const auto grace = runner_.gracePeriod();
    // A terminate waits out the grace period: never on the GUI thread.
    QThread* thread = QThread::create([self, targets, action, tree, rememberPaused, grace, then] {
        ActionOptions options;
        options.onlyCurrentUser = true;
        options.tree = tree;
        options.grace = grace;
        const ActionReport report = ProcessControl().apply(targets, action, options);
        QMetaObject::invokeMethod(
            qApp,
            [self, report, rememberPaused, then] {
                if (!self)
                    return;
                if (rememberPaused) {
                    for (const auto& r : report.results) {
                        if (r.outcome == ActionOutcome::Done)
                            self->paused_.push_back(r.key);
                    }
                }
                emit self->actionsDone(report);
                if (then)
                    then();
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void LauncherController::pauseForBuild(const std::vector<ProcessKey>& tests)
{
    actInBackground(tests, ProcessAction::Pause, false, true);
}

void LauncherController::stopCompetingBuild(const std::vector<ProcessKey>& roots)
{
    actInBackground(roots, ProcessAction::Terminate, true, false);
}

void LauncherController::resumePaused()
{
    if (paused_.empty())
        return;
    const ActionReport report = ProcessControl().apply(paused_, ProcessAction::Resume);
    paused_.clear();
    emit actionsDone(report);
}

void LauncherController::stop()
{
    if (state_ == State::Waiting) {
        cancelWaiting();
        return;
    }
    runner_.stop();
}

void LauncherController::cancelWaiting()
{
    gate_.cancel();
    if (state_ == State::Waiting)
        setState(State::Idle);
}

void LauncherController::observe(std::shared_ptr<const Snapshot> snapshot)
{
    snapshot_ = snapshot;
    gate_.observe(snapshot);
    if (!adoptChecked_)
        adoptRunning();
}

} // namespace headroom::services
