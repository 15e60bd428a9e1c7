// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/BuildRunner.h"

#include "headroom/BuildContainment.h"
#include "headroom/Platform.h"
#include "headroom/ProcessControl.h"

#include <QFileInfo>
#include <QProcessEnvironment>
#include <QThread>
#include <QTimer>

#include <thread>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <unistd.h>
#endif

namespace headroom::services {

namespace {
QString toQString(const std::string& s)
{
    return QString::fromStdString(s);
}

QStringList toQStringList(const std::vector<std::string>& list)
{
    QStringList out;
    for (const auto& s : list)
        out << toQString(s);
    return out;
}

std::string crateOf(const ProcessSample& p)
{
    for (std::size_t i = 0; i + 1 < p.argv.size(); ++i) {
        if (p.argv[i] == "--crate-name")
            return p.argv[i + 1];
    }
    return {};
}
} // namespace

BuildRunner::BuildRunner(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<BuildRunResult>();
}

BuildRunner::~BuildRunner()
{
    if (process_ && process_->state() != QProcess::NotRunning) {
        // Never leave an orphaned build behind a destroyed runner.
        stop();
        process_->waitForFinished(int(grace_.count()) + 3000);
    }
}

bool BuildRunner::start(const BuildRequest& request, const BuildPlan& plan, QString* error)
{
    if (running_) {
        if (error)
            *error = QStringLiteral("A build is already running; stop it or wait for it to finish.");
        return false;
    }
    if (plan.steps.empty()) {
        if (error)
            *error = QStringLiteral("This preset has no command to run.");
        return false;
    }
    request_ = request;
    plan_ = plan;
    parser_ = CargoOutputParser();
    messages_ = CargoMessageParser();
    result_ = BuildRunResult();
    result_.preset = plan.preset;
    result_.jobs = plan.jobs;
    result_.artifactPath = toQString(plan.artifactPath);
    cancelled_ = false;
    lockShown_ = false;
    rootKey_.reset();
    oomBefore_.reset();
    oomAfter_.reset();
    cgroupBefore_.reset();
    cgroupAfter_.reset();
    lowestAvailable_ = lowestHeadroom_ = 1.0;
    running_ = true;
    finishing_ = false;
    pendingLine_.clear();
    output_.reset();
    stdoutText_.reset();
    clock_.start();
    startStep(0);
    return true;
}

void BuildRunner::startStep(int index)
{
    step_ = index;
    const BuildStep& step = plan_.steps[std::size_t(index)];
    auto* process = new QProcess(this);
    process_ = process;
    process->setProgram(toQString(step.program));
    process->setArguments(toQStringList(step.commandArgs()));
    process->setWorkingDirectory(toQString(step.workingDir));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : step.environment)
        env.insert(toQString(name), toQString(value));
    process->setProcessEnvironment(env);
    // Standard output carries cargo's JSON messages, standard error its
    // progress and status lines: each is read by its own reader.
    process->setProcessChannelMode(QProcess::SeparateChannels);
#ifdef Q_OS_UNIX
    // Its own process group: a Ctrl+C in Headroom's terminal does not reach it,
    // and the whole build can be signalled as one.
    process->setChildProcessModifier([] { BuildContainment::prepareChild(); });
#endif
#ifdef Q_OS_LINUX
    if (oomScoreAdj_ >= 0) {
        // Formatted here: between fork and exec only async-signal-safe calls.
        const QByteArray adj = QByteArray::number(std::min(oomScoreAdj_, 1000));
        process->setChildProcessModifier([adj] {
            BuildContainment::prepareChild();
            const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                [[maybe_unused]] const auto written = ::write(fd, adj.constData(), std::size_t(adj.size()));
                ::close(fd);
            }
        });
    }
#endif
    connect(process, &QProcess::readyReadStandardError, this, &BuildRunner::onStandardError);
    connect(process, &QProcess::readyReadStandardOutput, this, [this] { onStandardOutput(); });
    connect(process, &QProcess::finished, this, &BuildRunner::onStepFinished);
    connect(process, &QProcess::errorOccurred, this, [this, process](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || process != process_)
            return;
        emit outputArrived(
            QStringLiteral("Could not start %1: %2\n").arg(process->program(), process->errorString()));
        finish(127, std::nullopt);
    });
#ifdef Q_OS_WIN
    // Windows has no process groups to signal: start the step suspended and put
    // it into a job object before it runs, so nothing it starts can escape.
    process->setCreateProcessArgumentsModifier(
        [](QProcess::CreateProcessArguments* args) { args->flags |= BuildContainment::creationFlags(); });
#endif
    connect(process, &QProcess::started, this, [this, process] {
        job_ = std::make_unique<BuildContainment>();
        const ContainmentResult attached = job_->attach(process->processId());
        if (!attached.ok)
            emit outputArrived(QString::fromStdString(attached.message) + '\n');
        if (auto id = platform::identify(process->processId()))
            rootKey_ = id->key;
#ifdef Q_OS_LINUX
        if (!cgroupBefore_)
            cgroupBefore_ = readProcessCgroupMemory(process->processId());
#endif
    });

    emit stepStarted(index, toQString(step.title), toQString(step.displayLine()));
    ++result_.stepsRun;
    process->start();
}

void BuildRunner::onStandardOutput(bool atEnd)
{
    if (!process_)
        return;
    const QByteArray bytes = process_->readAllStandardOutput();
    CargoMessageParser::Text text =
        messages_.feed(std::string_view(bytes.constData(), std::size_t(bytes.size())));
    if (atEnd) {
        CargoMessageParser::Text rest = messages_.finish();
        text.log += rest.log;
        text.other += rest.other;
    }
    // What is not a cargo message (a custom command's output, a program's)
    // is read like the terminal text, as before.
    parser_.feedLines(text.other);
    if (!text.log.empty())
        emit outputArrived(stdoutText_.decode(text.log));
}

void BuildRunner::onStandardError()
{
    if (!process_)
        return;
    const QByteArray bytes = process_->readAllStandardError();
    parser_.feed(std::string_view(bytes.constData(), std::size_t(bytes.size())));
    // Only whole lines go to the log: a read can end in the middle of one.
    QString text =
        pendingLine_ + output_.decode(std::string_view(bytes.constData(), std::size_t(bytes.size())));
    // Progress redraws end in \r; they are shown in the progress bar, not in the log.
    text.replace(QLatin1Char('\r'), QLatin1Char('\n'));
    const qsizetype lastBreak = text.lastIndexOf('\n');
    pendingLine_ = text.mid(lastBreak + 1);
    text.truncate(lastBreak + 1);
    emitLogLines(text);
    if (const auto& p = parser_.progress()) {
        emit progressChanged(p->done, p->total, toQStringList(p->compilingNow));
    }
    if (parser_.waitingForLock() != lockShown_) {
        lockShown_ = parser_.waitingForLock();
        emit waitingForLock(lockShown_, QString());
    }
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

void BuildRunner::observe(std::shared_ptr<const Snapshot> snapshot)
{
    if (!snapshot || !running_)
        return;
    const auto& m = snapshot->memory;
    if (!oomBefore_)
        oomBefore_ = m.oomKillCount;
    oomAfter_ = m.oomKillCount;
    if (finishing_) {
        conclude();
        return;
    }
    result_.peakSystemUsed = std::max<quint64>(result_.peakSystemUsed, m.used);
    lowestAvailable_ = std::min(lowestAvailable_, m.availableFraction());
    const double all = double(m.total + m.swapTotal);
    if (all > 0)
        lowestHeadroom_ = std::min(lowestHeadroom_, double(m.headroom()) / all);

    if (!rootKey_ || !snapshot->find(*rootKey_))
        return;
#ifdef Q_OS_LINUX
    // Read again while it runs: a build can be moved into a cgroup after it starts.
    if (auto cg = readProcessCgroupMemory(rootKey_->pid);
        cg && (!cgroupBefore_ || cgroupBefore_->dir != cg->dir))
        cgroupBefore_ = cg;
#endif
    const ProcessTree tree(snapshot->processes);
    quint64 total = snapshot->find(*rootKey_)->residentBytes;
    for (std::size_t i : tree.descendants(rootKey_->pid)) {
        const ProcessSample& p = snapshot->processes[i];
        total += p.residentBytes;
        if (p.role == ProcessRole::Rustc) {
            const std::string crate = crateOf(p);
            if (!crate.empty())
                result_.peakByCrate[crate] = std::max<quint64>(result_.peakByCrate[crate], p.residentBytes);
        }
    }
    result_.peakTreeBytes = std::max(result_.peakTreeBytes, total);
    emit memoryChanged(total, result_.peakTreeBytes);

    if (parser_.waitingForLock()) {
        // Who holds the lock: another build on our workspace or target folder.
        const BuildTree* ours = snapshot->buildOf(*rootKey_);
        for (const auto& b : snapshot->builds) {
            if (&b == ours || !ours)
                continue;
            if ((!ours->workspace.empty() && b.workspace == ours->workspace) ||
                (!ours->targetDir.empty() && b.targetDir == ours->targetDir)) {
                emit waitingForLock(true, toQString(b.command) + QStringLiteral(" (pid ") +
                                              QString::number(b.root.pid) + QLatin1Char(')'));
                break;
            }
        }
    }
}

void BuildRunner::stop()
{
    if (!running_)
        return;
    cancelled_ = true;
    if (!rootKey_)
        return;
    // The grace period blocks; never on the caller's (GUI) thread.
    const ProcessKey key = *rootKey_;
    const auto grace = grace_;
    std::thread([key, grace] {
        ActionOptions options;
        options.tree = true;
        options.grace = grace;
        ProcessControl().apply(key, ProcessAction::Terminate, options);
    }).detach();
}

void BuildRunner::onStepFinished(int exitCode, QProcess::ExitStatus status)
{
    if (!process_ || sender() != process_)
        return;
    onStandardOutput(true);
    onStandardError();
    // Closing the job ends whatever the step left running (Windows only).
    job_.reset();
    emitLogLines(pendingLine_);
    output_.reset();
    stdoutText_.reset();
    pendingLine_.clear();
    process_->deleteLater();
    // On Unix a crashed child's "exit code" is the signal that ended it.
    const std::optional<int> signal =
        status == QProcess::CrashExit ? std::optional<int>(exitCode) : std::nullopt;
    const std::optional<int> code =
        status == QProcess::NormalExit ? std::optional<int>(exitCode) : std::nullopt;
    if (!cancelled_ && code == 0 && step_ + 1 < int(plan_.steps.size())) {
        rootKey_.reset();
        startStep(step_ + 1);
        return;
    }
    finish(code, signal);
}

void BuildRunner::finish(std::optional<int> exitCode, std::optional<int> signal)
{
    if (!running_ || finishing_)
        return;
    parser_.finish();
    result_.exitCode = exitCode;
    result_.signal = signal;
    result_.seconds = double(clock_.elapsed()) / 1000.0;
#ifdef Q_OS_LINUX
    if (cgroupBefore_)
        cgroupAfter_ = readCgroupMemory(cgroupBefore_->dir, cgroupBefore_->v2);
#endif
    // A kernel OOM kill may be the very last thing that happened: diagnose
    // with the next snapshot's counter, or without it if none comes soon.
    finishing_ = true;
    QTimer::singleShot(kFinalSnapshotWaitMs, this, &BuildRunner::conclude);
}

void BuildRunner::conclude()
{
    if (!finishing_)
        return;
    finishing_ = false;
    const std::optional<int> exitCode = result_.exitCode;
    const std::optional<int> signal = result_.signal;
    // The file the build made is the one cargo reported, not a guess from the
    // profile and target folders; the planned path only when cargo's messages
    // were not read (a custom command, a --message-format of the user's).
    bool notReported = false;
    for (const auto& a : messages_.artifacts()) {
        if (!a.executable.empty() && !result_.executables.contains(toQString(a.executable)))
            result_.executables << toQString(a.executable);
    }
    const bool namedTarget =
        (request_.targetKind == TargetKind::Example || request_.targetKind == TargetKind::Bin ||
         request_.targetKind == TargetKind::Default) &&
        !request_.targetName.empty() && plan_.preset != BuildPreset::Custom;
    if (namedTarget && messages_.sawMessages()) {
        const char* kind = request_.targetKind == TargetKind::Example ? "example" : "bin";
        const CargoArtifact* reported = messages_.artifactOf(kind, request_.targetName);
        if (reported && !reported->executable.empty()) {
            result_.artifactPath = toQString(reported->executable);
        } else {
            notReported = true;
        }
    }
    const QFileInfo artifact(result_.artifactPath);
    result_.artifactSize =
        !notReported && !result_.artifactPath.isEmpty() && artifact.isFile() ? artifact.size() : -1;
    result_.errorCount = messages_.errorCount();
    result_.warningCount = messages_.warningCount();
    if (const std::string note = messages_.ignoredNote(); !note.empty())
        emit outputArrived(toQString(note) + '\n');

    BuildOutcomeFacts facts;
    facts.exitCode = exitCode;
    facts.signal = signal;
    facts.cancelledByUser = cancelled_;
    facts.artifactExpected = !result_.artifactPath.isEmpty();
    facts.artifactExists = result_.artifactSize >= 0;
    facts.artifactNotReported = notReported;
    facts.oomKillsBefore = oomBefore_;
    facts.oomKillsAfter = oomAfter_;
    facts.lowestAvailableFraction = lowestAvailable_;
    facts.lowestHeadroomFraction = lowestHeadroom_;
    facts.macOS = macOS_;
    facts.jobs = plan_.jobs.value_or(0);
    if (cgroupBefore_ && cgroupAfter_) {
        facts.cgroupOomKillsBefore = cgroupBefore_->oomKills;
        facts.cgroupOomKillsAfter = cgroupAfter_->oomKills;
        facts.cgroupNearLimit = cgroupAfter_->nearLimit();
    }
    result_.diagnosis = diagnoseBuild(facts, parser_, plan_.preset, &messages_);
    running_ = false;
    rootKey_.reset();

    if (result_.diagnosis.verdict == BuildVerdict::Succeeded && !request_.thenRun.empty()) {
        runThen();
        return;
    }
    emit finished(result_);
}

void BuildRunner::runThen()
{
    auto* process = new QProcess(this);
    const QStringList argv = toQStringList(request_.thenRun);
    process->setProgram(argv.first());
    process->setArguments(argv.mid(1));
    process->setWorkingDirectory(toQString(request_.projectDir));
    process->setProcessChannelMode(QProcess::MergedChannels);
    emit stepStarted(int(plan_.steps.size()), QStringLiteral("Then run"), argv.join(' '));
    thenOutput_ = std::make_shared<TerminalTextDecoder>();
    connect(process, &QProcess::readyRead, this, [this, process, decoder = thenOutput_] {
        const QByteArray bytes = process->readAll();
        emit outputArrived(decoder->decode(std::string_view(bytes.constData(), std::size_t(bytes.size()))));
    });
    connect(process, &QProcess::finished, this, [this, process](int code, QProcess::ExitStatus status) {
        result_.thenRunExitCode = status == QProcess::NormalExit ? code : -1;
        process->deleteLater();
        emit finished(result_);
    });
    connect(process, &QProcess::errorOccurred, this, [this, process](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart)
            return;
        emit outputArrived(
            QStringLiteral("Could not start %1: %2\n").arg(process->program(), process->errorString()));
        result_.thenRunExitCode = 127;
        process->deleteLater();
        emit finished(result_);
    });
    process->start();
}

} // namespace headroom::services
