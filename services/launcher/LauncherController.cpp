// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/LauncherController.h"

#include "headroom/ProcessControl.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QPointer>
#include <QStandardPaths>
#include <QThread>

#include <algorithm>

namespace headroom::services {

namespace {
QString q(const std::string& s)
{
    return QString::fromStdString(s);
}
} // namespace

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
    connect(&runner_, &BuildRunner::finished, this, [this](const BuildRunResult& result) {
        lastResult_ = result;
        // Recorded even when the history was not open at start: it may be free
        // now, and if not the run is kept to be recorded later.
        const RecordResult recorded = history_->record(workspace_ ? workspace_->root : q(request_.projectDir),
                                                       plan_, result, startedMs_, runTarget());
        if (recorded)
            emit historyChanged();
        resumePaused();
        setState(State::Idle);
        emit finished(result);
        // After the result, so the panel adds it to the diagnosis instead of replacing it.
        if (!recorded)
            emit historyProblem(recorded.message);
    });
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

BuildPlan LauncherController::plan(BuildRequest request, BuildPreset preset) const
{
    if (preset == BuildPreset::Custom) {
        BuildPlan none;
        none.preset = BuildPreset::Custom;
        if (customIndex_ < 0 || customIndex_ >= int(customPresets_.size()))
            return none;
        return customPresets_[std::size_t(customIndex_)].plan(q(request.projectDir)).value_or(none);
    }
    if (workspace_)
        request.targetDir = workspace_->targetDir.toStdString();
    std::optional<JobsChoice> jobs;
    if (preset == BuildPreset::Auto) {
        AutoJobsInput in;
        in.availableBytes = snapshot_ ? snapshot_->memory.available : 0;
        if (workspace_)
            in.learnedPeakPerJob = history_->learnedPeakPerJob(workspace_->root, in.defaultPeakPerJob);
        in.cpus = unsigned(std::max(1, QThread::idealThreadCount()));
        jobs = chooseJobs(in);
        if (!snapshot_)
            jobs->explanation = "no memory reading yet: " + jobs->explanation;
    }
    return planBuild(request, preset, jobs);
}

QStringList LauncherController::validate(const BuildRequest& request) const
{
    if (preset_ == BuildPreset::Custom && customIndex_ >= 0 && customIndex_ < int(customPresets_.size())) {
        const CustomPreset& custom = customPresets_[std::size_t(customIndex_)];
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

BuildCheckOptions LauncherController::checkOptions(const BuildRequest& request, BuildPreset preset) const
{
    BuildCheckOptions o;
    o.maxUsedFraction = maxUsedFraction_;
    o.requiredHeadroom = defaultNeed_;
    o.workspace = workspace_ ? workspace_->root.toStdString() : request.projectDir;
    o.targetDir = workspace_ ? workspace_->targetDir.toStdString() : request.projectDir + "/target";
    if (workspace_) {
        RunTarget target = RunTarget::of(request);
        if (auto peak = history_->learnedPeak(workspace_->root, q(std::string(presetId(preset))), target,
                                              o.requiredHeadroom))
            o.requiredHeadroom = *peak;
    }
    return o;
}

std::vector<BuildCheck> LauncherController::checks(const BuildRequest& request, BuildPreset preset) const
{
    if (!snapshot_)
        return {};
    return runBuildChecks(*snapshot_, checkOptions(request, preset));
}

std::vector<ProcessSample> LauncherController::heavyProcesses(std::size_t limit) const
{
    std::vector<ProcessSample> rows;
    if (!snapshot_)
        return rows;
    for (const auto& p : snapshot_->processes) {
        if (!p.kernelThread && p.state != ProcessState::Zombie && p.residentBytes > 0)
            rows.push_back(p);
    }
    const auto rank = [](const ProcessSample& p) {
        return p.role == ProcessRole::Test ? 0 : p.role == ProcessRole::Rustc ? 1 : 2;
    };
    std::sort(rows.begin(), rows.end(), [&](const ProcessSample& a, const ProcessSample& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.residentBytes > b.residentBytes;
    });
    if (rows.size() > limit)
        rows.resize(limit);
    return rows;
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
        gate_.arm(checkOptions(request, preset), mode == StartMode::WaitForBuild
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
} // namespace

void LauncherController::rememberLastBuild()
{
    settings_->beginGroup(QStringLiteral("lastBuild"));
    settings_->setValue(QStringLiteral("project"), q(request_.projectDir));
    settings_->setValue(QStringLiteral("package"), q(request_.package));
    settings_->setValue(QStringLiteral("targetKind"), int(request_.targetKind));
    settings_->setValue(QStringLiteral("targetName"), q(request_.targetName));
    settings_->setValue(QStringLiteral("features"), q(request_.features));
    settings_->setValue(QStringLiteral("profile"), q(request_.profile));
    settings_->setValue(QStringLiteral("extraArgs"), toList(request_.extraArgs));
    settings_->setValue(QStringLiteral("thenRun"), toList(request_.thenRun));
    settings_->setValue(QStringLiteral("preset"), q(std::string(presetId(preset_))));
    const bool custom =
        preset_ == BuildPreset::Custom && customIndex_ >= 0 && customIndex_ < int(customPresets_.size());
    settings_->setValue(QStringLiteral("customPreset"),
                        custom ? customPresets_[std::size_t(customIndex_)].name : QString());
    settings_->endGroup();
}

std::optional<LauncherController::LastBuild> LauncherController::lastBuild() const
{
    settings_->beginGroup(QStringLiteral("lastBuild"));
    LastBuild last;
    last.request.projectDir = settings_->value(QStringLiteral("project")).toString().toStdString();
    last.request.package = settings_->value(QStringLiteral("package")).toString().toStdString();
    const int kind = settings_->value(QStringLiteral("targetKind"), 0).toInt();
    last.request.targetKind =
        kind >= 0 && kind <= int(TargetKind::Lib) ? TargetKind(kind) : TargetKind::Default;
    last.request.targetName = settings_->value(QStringLiteral("targetName")).toString().toStdString();
    last.request.features = settings_->value(QStringLiteral("features")).toString().toStdString();
    last.request.profile =
        settings_->value(QStringLiteral("profile"), QStringLiteral("release")).toString().toStdString();
    last.request.extraArgs = fromList(settings_->value(QStringLiteral("extraArgs")).toStringList());
    last.request.thenRun = fromList(settings_->value(QStringLiteral("thenRun")).toStringList());
    const auto preset = presetFromId(settings_->value(QStringLiteral("preset")).toString().toStdString());
    last.customPreset = settings_->value(QStringLiteral("customPreset")).toString();
    settings_->endGroup();
    if (last.request.projectDir.empty() || !preset)
        return std::nullopt;
    last.preset = *preset;
    return last;
}

namespace {
QString projectGroup(const QString& projectDir)
{
    // Paths hold slashes, which QSettings reads as groups.
    return QStringLiteral("projects/") + QString::fromLatin1(projectDir.toUtf8().toBase64(
                                             QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}
} // namespace

void LauncherController::rememberProjectForm(const BuildRequest& request)
{
    if (request.projectDir.empty())
        return;
    settings_->beginGroup(projectGroup(q(request.projectDir)));
    settings_->setValue(QStringLiteral("package"), q(request.package));
    settings_->setValue(QStringLiteral("targetKind"), int(request.targetKind));
    settings_->setValue(QStringLiteral("targetName"), q(request.targetName));
    settings_->setValue(QStringLiteral("features"), q(request.features));
    settings_->setValue(QStringLiteral("profile"), q(request.profile));
    settings_->setValue(QStringLiteral("extraArgs"), toList(request.extraArgs));
    settings_->setValue(QStringLiteral("thenRun"), toList(request.thenRun));
    settings_->endGroup();
}

std::optional<BuildRequest> LauncherController::projectForm(const QString& projectDir) const
{
    settings_->beginGroup(projectGroup(projectDir));
    const bool known = settings_->contains(QStringLiteral("targetKind"));
    BuildRequest r;
    r.projectDir = projectDir.toStdString();
    r.package = settings_->value(QStringLiteral("package")).toString().toStdString();
    const int kind = settings_->value(QStringLiteral("targetKind"), 0).toInt();
    r.targetKind = kind >= 0 && kind <= int(TargetKind::Lib) ? TargetKind(kind) : TargetKind::Default;
    r.targetName = settings_->value(QStringLiteral("targetName")).toString().toStdString();
    r.features = settings_->value(QStringLiteral("features")).toString().toStdString();
    r.profile = settings_->value(QStringLiteral("profile")).toString().toStdString();
    r.extraArgs = fromList(settings_->value(QStringLiteral("extraArgs")).toStringList());
    r.thenRun = fromList(settings_->value(QStringLiteral("thenRun")).toStringList());
    settings_->endGroup();
    if (!known)
        return std::nullopt;
    return r;
}

QString LauncherController::LastBuild::title() const
{
    const QString name = QFileInfo(QString::fromStdString(request.projectDir)).fileName();
    const QString which = preset == BuildPreset::Custom && !customPreset.isEmpty()
                              ? customPreset
                              : QString::fromStdString(std::string(presetId(preset)));
    return QStringLiteral("%1 · %2").arg(which, name);
}

RunTarget LauncherController::runTarget() const
{
    // A custom preset is its own target: the command it runs.
    if (preset_ == BuildPreset::Custom) {
        RunTarget target;
        target.kind = QStringLiteral("custom");
        if (customIndex_ >= 0 && customIndex_ < int(customPresets_.size()))
            target.name = customPresets_[std::size_t(customIndex_)].name;
        return target;
    }
    return RunTarget::of(request_);
}

void LauncherController::launch()
{
    rememberLastBuild();
    plan_ = plan(request_, preset_);
    startedMs_ = QDateTime::currentMSecsSinceEpoch();
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
    QPointer<LauncherController> self(this);
    // Terminating waits out a grace period: off the GUI thread.
    QThread* thread = QThread::create([self, request, targets, action] {
        ActionOptions options;
        options.onlyCurrentUser = true;
        options.tree = action != ProcessAction::Pause;
        const ActionReport report = ProcessControl().apply(targets, action, options);
        QMetaObject::invokeMethod(
            qApp,
            [self, request, report, action] {
                if (!self)
                    return;
                if (action == ProcessAction::Pause) {
                    for (const auto& r : report.results) {
                        if (r.outcome == ActionOutcome::Done)
                            self->paused_.push_back(r.key);
                    }
                }
                emit self->actionsDone(report);
                QString problem;
                if (!self->start(request, BuildPreset::D, StartMode::Anyway, &problem))
                    emit self->message(problem);
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void LauncherController::actInBackground(std::vector<ProcessKey> targets, ProcessAction action, bool tree,
                                         bool rememberPaused)
{
    QPointer<LauncherController> self(this);
    const auto grace = runner_.gracePeriod();
    // A terminate waits out the grace period: never on the GUI thread.
    QThread* thread = QThread::create([self, targets, action, tree, rememberPaused, grace] {
        ActionOptions options;
        options.onlyCurrentUser = true;
        options.tree = tree;
        options.grace = grace;
        const ActionReport report = ProcessControl().apply(targets, action, options);
        QMetaObject::invokeMethod(
            qApp,
            [self, report, rememberPaused] {
                if (!self)
                    return;
                if (rememberPaused) {
                    for (const auto& r : report.results) {
                        if (r.outcome == ActionOutcome::Done)
                            self->paused_.push_back(r.key);
                    }
                }
                emit self->actionsDone(report);
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
    runner_.observe(snapshot);
}

} // namespace headroom::services
