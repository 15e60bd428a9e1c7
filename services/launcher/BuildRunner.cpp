// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/BuildRunner.h"

#include "headroom/ChildProcess.h"
#include "headroom/RunFollower.h"
#include "headroom/RunsFolder.h"
#include "services/QtStrings.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <QStandardPaths>

#include <filesystem>
#include <thread>
#include <tuple>

namespace headroom::services {

namespace {

QStringList toQStringList(const std::vector<std::string>& list)
{
    QStringList out;
    for (const auto& item : list)
        out << q(item);
    return out;
}

std::filesystem::path pathOf(const QString& path)
{
    return std::filesystem::path(path.toStdU16String());
}

QString fromPath(const std::filesystem::path& path)
{
    return QString::fromStdU16String(path.u16string());
}

bool isProgram(const QString& path)
{
    const QFileInfo info(path);
    return info.isFile() && info.isExecutable();
}

bool samePool(const PoolStatus& a, const PoolStatus& b)
{
    const auto fields = [](const PoolStatus& p) {
        return std::tie(p.active, p.problem, p.granted, p.inUse, p.poolGranted, p.poolBuilds, p.cpus,
                        p.budgetBytes, p.limitBytes, p.limit, p.reserveBytes, p.predictedBytes, p.heldBack,
                        p.paused, p.oomRetries, p.retryCrate, p.parallelism);
    };
    return fields(a) == fields(b);
}

// Whether a run has anything to say about the pool.
bool speaksOfPool(const RunStatus& status)
{
    return status.spec.pool || status.pool.active || !status.pool.problem.empty();
}

// The plan a spec was made from, as far as a spec keeps it.
BuildPlan planOf(const RunSpec& spec)
{
    BuildPlan plan;
    plan.preset = spec.preset;
    plan.steps = spec.steps;
    plan.jobs = spec.jobs;
    plan.artifactPath = spec.artifactPath;
    plan.usesPool = spec.pool;
    plan.poolStartTokens = spec.poolStartTokens;
    return plan;
}
} // namespace

BuildRunner::BuildRunner(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<BuildRunResult>();
    qRegisterMetaType<PoolStatus>();
    timer_.setInterval(150);
    connect(&timer_, &QTimer::timeout, this, &BuildRunner::poll);
}

BuildRunner::~BuildRunner() = default;

void BuildRunner::setTarget(const QString& package, const QString& kind, const QString& name,
                            const QString& features)
{
    targetPackage_ = package;
    targetKind_ = kind;
    targetName_ = name;
    targetFeatures_ = features;
}

void BuildRunner::setMemoryLimits(std::optional<std::uint64_t> high, std::optional<std::uint64_t> max)
{
    memoryHigh_ = high;
    memoryMax_ = max;
}

QString BuildRunner::runsDir() const
{
    return runsDir_.isEmpty() ? fromPath(defaultRunsDir()) : runsDir_;
}

QString BuildRunner::logPath() const
{
    if (id_.empty())
        return {};
    return fromPath(RunFiles::of(pathOf(runsDir()), id_).log);
}

std::optional<ProcessKey> BuildRunner::rootKey() const
{
    if (!running_ || !status_ || status_->state != RunState::Running)
        return std::nullopt;
    return status_->currentRoot();
}

QString BuildRunner::supervisorProgram(QString* error)
{
    const QString fromEnv = qEnvironmentVariable("HEADROOM_CLI");
    if (!fromEnv.isEmpty()) {
        if (isProgram(fromEnv))
            return QFileInfo(fromEnv).absoluteFilePath();
        if (error)
            *error = QStringLiteral("HEADROOM_CLI names %1, which is not a program.").arg(fromEnv);
        return {};
    }
#ifdef Q_OS_WIN
    const QString name = QStringLiteral("headroom-cli.exe");
#else
    const QString name = QStringLiteral("headroom-cli");
#endif
    QStringList looked;
    if (QCoreApplication::instance()) {
        const QDir here(QCoreApplication::applicationDirPath());
        for (const QString& candidate :
             {here.filePath(name), here.filePath(QStringLiteral("../cli/") + name)}) {
            if (isProgram(candidate))
                return QFileInfo(candidate).canonicalFilePath();
            looked << QDir::cleanPath(candidate);
        }
    }
    const QString onPath = QStandardPaths::findExecutable(name);
    if (!onPath.isEmpty())
        return onPath;
    looked << QStringLiteral("PATH");
    if (error)
        *error =
            QStringLiteral("Headroom's build supervisor (%1) was not found (looked in %2); builds cannot "
                           "start without it. Install it beside Headroom or set HEADROOM_CLI to its path.")
                .arg(name, looked.join(QStringLiteral(", ")));
    return {};
}

bool BuildRunner::start(const BuildRequest& request, const BuildPlan& plan, QString* error)
{
    const auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (running_)
        return fail(QStringLiteral("A build is already running; stop it or wait for it to finish."));
    if (plan.steps.empty())
        return fail(QStringLiteral("This preset has no command to run."));
    QString why;
    const QString program = supervisorProgram(&why);
    if (program.isEmpty())
        return fail(why);

    RunStatus status;
    RunSpec& spec = status.spec;
    spec.id = newRunId();
    spec.origin = origin_;
    spec.project = project_.isEmpty() ? request.projectDir : s(project_);
    spec.title = title_.isEmpty() ? std::string(presetId(plan.preset)) + " · " +
                                        s(QFileInfo(q(request.projectDir)).fileName())
                                  : s(title_);
    spec.request = request;
    spec.preset = plan.preset;
    spec.jobs = plan.jobs;
    spec.steps = plan.steps;
    spec.pool = plan.usesPool;
    spec.poolStartTokens = plan.poolStartTokens;
    spec.artifactPath = plan.artifactPath;
    spec.targetPackage = s(targetPackage_);
    spec.targetKind = s(targetKind_);
    spec.targetName = s(targetName_);
    spec.targetFeatures = s(targetFeatures_);
    spec.historyPath = s(historyPath_);
    spec.oomScoreAdj = oomScoreAdj_;
    spec.graceMs = grace_.count();
    spec.memoryHigh = memoryHigh_;
    spec.memoryMax = memoryMax_;
    spec.createdMs = QDateTime::currentMSecsSinceEpoch();
    status.state = RunState::Starting;

    const std::filesystem::path dir = pathOf(runsDir());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return fail(
            QStringLiteral("The runs folder %1 cannot be made: %2").arg(fromPath(dir), q(ec.message())));
    const RunFiles files = RunFiles::of(dir, spec.id);
    if (auto written = writeStatusAtomically(files.status, status); !written)
        return fail(QStringLiteral("The build cannot start: %1").arg(q(written.error())));
    // The supervisor's own complaints (a refused spec) land in the run's log.
    const auto started =
        startDetached({s(program), "supervise", files.status.string()}, std::filesystem::path(), files.log);
    if (!started) {
        std::filesystem::remove(files.status, ec);
        return fail(
            QStringLiteral("The build supervisor %1 could not start: %2").arg(program, q(started.error())));
    }
    request_ = request;
    plan_ = plan;
    follow(spec.id, false);
    return true;
}

bool BuildRunner::adopt(const QString& runId, QString* error)
{
    if (running_) {
        if (error)
            *error = QStringLiteral("A build is already being followed.");
        return false;
    }
    auto found = findRun(pathOf(runsDir()), s(runId));
    if (!found) {
        if (error)
            *error = q(found.error());
        return false;
    }
    const RunStatus& status = *found.value().status;
    request_ = status.spec.request;
    plan_ = planOf(status.spec);
    follow(status.spec.id, true);
    // Where it is, at once (its root, for the builds list); the first poll
    // still announces its steps and figures.
    status_ = status;
    return true;
}

void BuildRunner::follow(const std::string& id, bool fromTail)
{
    id_ = id;
    follower_ = std::make_unique<RunFollower>(pathOf(runsDir()), id);
    if (fromTail)
        follower_->skipToTail(kAdoptTailBytes);
    status_.reset();
    decoder_.reset();
    pendingLine_.clear();
    announcedStep_ = -1;
    lastDone_ = lastTotal_ = 0;
    lastCompiling_.clear();
    lockShown_ = false;
    lockHolder_.clear();
    lastTree_ = lastPeak_ = 0;
    lastPool_.reset();
    lastProblem_.clear();
    running_ = true;
    clock_.start();
    timer_.start();
    // The first look at once: an adopted run shows where it is without a wait.
    QTimer::singleShot(0, this, &BuildRunner::poll);
}

void BuildRunner::poll()
{
    if (!running_ || !follower_)
        return;
    RunFollower::Update update = follower_->poll();
    if (!update.logBytes.empty())
        takeLog(update.logBytes);
    if (update.status)
        takeStatus(*update.status);
    if (!update.problem.empty())
        lastProblem_ = q(update.problem);
    if (!running_)
        return;
    const auto& now = follower_->status();
    if (follower_->done()) {
        end({});
        return;
    }
    // A status that cannot be read at all, or a supervisor that never takes
    // the run: give up following, and say why.
    const bool starting = !now || (now->state == RunState::Starting && !now->supervisor);
    if (starting && clock_.elapsed() > kSupervisorStartMs) {
        end(lastProblem_.isEmpty()
                ? QStringLiteral("The build supervisor did not take the run within %1 s. Run `headroom-cli "
                                 "supervise %2` by hand to see why.")
                      .arg(kSupervisorStartMs / 1000)
                      .arg(fromPath(RunFiles::of(pathOf(runsDir()), id_).status))
                : lastProblem_);
    }
}

void BuildRunner::takeLog(const std::string& bytes)
{
    // Only whole lines go to the log: a read can end in the middle of one.
    QString text = pendingLine_ + decoder_.decode(bytes);
    // Progress redraws end in \r; they are shown in the progress bar, not in the log.
    text.replace(QLatin1Char('\r'), QLatin1Char('\n'));
    const qsizetype lastBreak = text.lastIndexOf('\n');
    pendingLine_ = text.mid(lastBreak + 1);
    text.truncate(lastBreak + 1);
    emitLogLines(text);
}

void BuildRunner::flushLog()
{
    emitLogLines(pendingLine_);
    pendingLine_.clear();
    decoder_.reset();
}

void BuildRunner::emitLogLines(const QString& text)
{
    QStringList kept;
    for (const QString& line : text.split('\n', Qt::SkipEmptyParts)) {
        if (!line.trimmed().startsWith(QLatin1String("Building [")))
            kept << line;
    }
    if (!kept.isEmpty())
        emit outputArrived(kept.join('\n') + '\n');
}

void BuildRunner::announceStepsUpTo(int index)
{
    const int steps = int(plan_.steps.size());
    while (announcedStep_ < index) {
        const int i = ++announcedStep_;
        if (i < steps) {
            const BuildStep& step = plan_.steps[std::size_t(i)];
            emit stepStarted(i, q(step.title), q(step.displayLine()));
        } else if (i == steps && !request_.thenRun.empty()) {
            emit stepStarted(i, QStringLiteral("Then run"), toQStringList(request_.thenRun).join(' '));
        }
    }
}

void BuildRunner::takeStatus(const RunStatus& status)
{
    status_ = status;
    int step = status.step;
    if (status.state == RunState::Finished) {
        // A step can start and end between two looks: each is still announced.
        step = std::max(step, status.stepsRun - 1);
        if (status.thenRunExitCode)
            step = std::max(step, int(plan_.steps.size()));
    }
    announceStepsUpTo(std::min(step, int(plan_.steps.size())));

    if (status.total > 0 &&
        (status.done != lastDone_ || status.total != lastTotal_ || status.compilingNow != lastCompiling_)) {
        lastDone_ = status.done;
        lastTotal_ = status.total;
        lastCompiling_ = status.compilingNow;
        emit progressChanged(status.done, status.total, toQStringList(status.compilingNow));
    }
    if (status.waitingForLock != lockShown_ || status.lockHolder != lockHolder_) {
        lockShown_ = status.waitingForLock;
        lockHolder_ = status.lockHolder;
        emit waitingForLock(lockShown_, q(lockHolder_));
    }
    if (status.treeBytes != lastTree_ || status.peakTreeBytes != lastPeak_) {
        lastTree_ = status.treeBytes;
        lastPeak_ = status.peakTreeBytes;
        emit memoryChanged(status.treeBytes, status.peakTreeBytes);
    }
    if (speaksOfPool(status) && (!lastPool_ || !samePool(*lastPool_, status.pool))) {
        lastPool_ = status.pool;
        emit poolChanged(status.pool);
    }
}

BuildRunResult BuildRunner::resultOf(const RunStatus& status) const
{
    BuildRunResult r;
    r.preset = status.spec.preset;
    r.jobs = status.spec.jobs;
    r.exitCode = status.exitCode;
    r.signal = status.signal;
    r.seconds = status.seconds;
    r.artifactPath = q(status.artifactPath.empty() ? status.spec.artifactPath : status.artifactPath);
    r.artifactSize = status.artifactSize;
    r.executables = toQStringList(status.executables);
    r.errorCount = status.errorCount;
    r.warningCount = status.warningCount;
    r.peakTreeBytes = status.peakTreeBytes;
    r.peakSystemUsed = status.peakSystemUsed;
    for (const auto& [crate, bytes] : status.peakByCrate)
        r.peakByCrate[crate] = bytes;
    r.stepsRun = status.stepsRun;
    r.thenRunExitCode = status.thenRunExitCode;
    r.runId = q(status.spec.id);
    r.logPath = logPath();
    r.pool = status.pool;
    if (status.diagnosis)
        r.diagnosis = *status.diagnosis;
    return r;
}

void BuildRunner::end(const QString& problem)
{
    flushLog();
    timer_.stop();
    running_ = false;
    BuildRunResult r;
    if (status_)
        r = resultOf(*status_);
    else {
        r.preset = plan_.preset;
        r.jobs = plan_.jobs;
        r.artifactPath = q(plan_.artifactPath);
        r.runId = q(id_);
        r.logPath = logPath();
    }
    const bool finishedWell = status_ && status_->state == RunState::Finished && status_->diagnosis;
    if (!finishedWell) {
        // The supervisor is gone (or never came): what became of the build is
        // what its status says, and the problem says why no more is known.
        QString why = !problem.isEmpty()                     ? problem
                      : status_ && !status_->problem.empty() ? q(status_->problem)
                                                             : lastProblem_;
        if (why.isEmpty())
            why = QStringLiteral("The run's status ends without an outcome.");
        if (r.seconds <= 0.0 && status_ && status_->startedMs > 0)
            r.seconds = double(QDateTime::currentMSecsSinceEpoch() - status_->startedMs) / 1000.0;
        r.diagnosis = BuildDiagnosis{};
        r.diagnosis.verdict = BuildVerdict::Failed;
        r.diagnosis.summary = status_ && status_->state == RunState::SupervisorLost
                                  ? "The build's supervisor ended before the build did"
                                  : "The build could not be followed to its end";
        r.diagnosis.detail = s(why);
        r.diagnosis.nextStep = "See `headroom runs` and the run's log (" + s(logPath()) + ").";
    }
    emit finished(r);
}

void BuildRunner::stop()
{
    if (!running_ || id_.empty())
        return;
    // Asking is quick, but with the supervisor gone it stops the tree itself
    // and waits out the grace period: never on the caller's (GUI) thread.
    const std::filesystem::path dir = pathOf(runsDir());
    const std::string id = id_;
    QPointer<BuildRunner> self(this);
    std::thread([self, dir, id] {
        const auto asked = requestStop(dir, id);
        if (asked)
            return;
        const QString text = q(asked.error());
        QMetaObject::invokeMethod(
            qApp,
            [self, text] {
                if (self && self->running_)
                    emit self->outputArrived(text + '\n');
            },
            Qt::QueuedConnection);
    }).detach();
}

} // namespace headroom::services
