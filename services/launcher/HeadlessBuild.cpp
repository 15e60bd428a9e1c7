// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/HeadlessBuild.h"

#include "headroom/ProcessControl.h"
#include "headroom/SafeText.h"
#include "headroom/SystemSampler.h"
#include "headroom/Units.h"
#include "services/QtStrings.h"
#include "services/launcher/BuildGate.h"
#include "services/launcher/BuildHistory.h"
#include "services/launcher/BuildRunner.h"
#include "services/launcher/BuildSessionInputs.h"
#include "services/launcher/HeadlessSession.h"
#include "services/launcher/WorkspaceInfo.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QSocketNotifier>
#include <QTimer>

#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <unistd.h>
#endif

namespace headroom::services {

namespace {

void say(const QString& text)
{
    std::fputs(text.toLocal8Bit().constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void complain(const QString& text)
{
    std::fputs(("headroom build: " + text).toLocal8Bit().constData(), stderr);
    std::fputc('\n', stderr);
}

QString safe(const std::string& s, std::size_t max = kSafeTextDefaultMax)
{
    return QString::fromStdString(safeText(s, max));
}

#ifdef Q_OS_UNIX
// Ctrl+C, SIGTERM and SIGHUP reach Headroom only (the build runs in its
// supervisor's session): the handler writes the signal number into a pipe
// that the event loop reads, where asking, stopping or leaving is safe.
int gSignalPipe[2] = {-1, -1};

void onTerminationSignal(int signal)
{
    const unsigned char byte = static_cast<unsigned char>(signal);
    [[maybe_unused]] const auto written = ::write(gSignalPipe[1], &byte, 1);
}
#endif

// Preset D: lists the heavy processes, then pauses the test processes
// outside any build; those paused are added to `paused`.
void pauseTestsFirst(const BuildSession& session, std::vector<ProcessKey>& paused)
{
    say("Heaviest processes (tests and rustc first):");
    for (const auto& p : session.heavyProcesses())
        say(QStringLiteral("  %1  %2  pid %3  %4")
                .arg(q(formatBytes(p.residentBytes)), q(std::string(roleId(p.role))))
                .arg(p.key.pid)
                .arg(safe(p.commandLine(), 100)));
    const std::vector<ProcessKey> tests = session.testsToPause();
    ActionOptions options;
    options.onlyCurrentUser = true;
    const ActionReport report = ProcessControl().apply(tests, ProcessAction::Pause, options);
    for (const auto& r : report.results) {
        say("  " + q(r.message));
        if (r.outcome == ActionOutcome::Done)
            paused.push_back(r.key);
    }
    if (tests.empty())
        say("  No test processes to pause.");
}

// What the build came to, its memory and the next step, for the terminal.
void printOutcome(const BuildRunResult& r, const BuildRequest& request)
{
    const auto& d = r.diagnosis;
    say(QStringLiteral("\n%1 (%2)").arg(q(d.summary), q(formatDuration(r.seconds))));
    if (!d.detail.empty())
        say(q(d.detail));
    if (r.artifactSize >= 0)
        say(QStringLiteral("Artifact: %1 (%2)").arg(r.artifactPath, q(formatBytes(quint64(r.artifactSize)))));
    if (r.peakTreeBytes > 0)
        say(QStringLiteral("Peak memory of the build: %1; peak system memory used: %2.")
                .arg(q(formatBytes(r.peakTreeBytes)), q(formatBytes(r.peakSystemUsed))));
    else
        say("Peak memory: not measured (the build was over before the first sample).");
    if (!d.nextStep.empty())
        say("Next: " + q(d.nextStep));
    if (d.nextPreset)
        say("Suggested: " + safe(nextBuildCommandLine(request, *d.nextPreset, d.nextJobs)));
    if (r.thenRunExitCode)
        say(QStringLiteral("Then-run command exited with %1.").arg(*r.thenRunExitCode));
}

// The build's own exit code: the then-run command's after a success, 128 +
// the signal that killed it, never 0 for a failure.
int exitCodeOf(const BuildRunResult& r)
{
    if (r.diagnosis.verdict == BuildVerdict::Succeeded)
        return r.thenRunExitCode.value_or(0);
    if (r.signal)
        return 128 + *r.signal;
    return r.exitCode.value_or(1) == 0 ? 1 : r.exitCode.value_or(1);
}

} // namespace

int runHeadlessBuild(const HeadlessBuildOptions& options)
{
    // The options come checked from the command line (cli/CommandLine); the
    // preset and the argument strings are read once more so that a caller
    // that filled the struct itself cannot start a malformed build.
    const auto presetChoice = presetFromId(options.preset);
    if (!presetChoice || *presetChoice == BuildPreset::Custom) {
        complain(QStringLiteral("unknown preset \"%1\": use A, B, C, D, auto or adaptive.")
                     .arg(safe(options.preset, 64)));
        return 2;
    }
    if (options.onInterrupt != "ask" && options.onInterrupt != "stop" && options.onInterrupt != "leave") {
        complain(QStringLiteral("unknown --on-interrupt \"%1\": use ask, stop or leave.")
                     .arg(safe(options.onInterrupt, 64)));
        return 2;
    }
    if (options.project.empty()) {
        complain("--project DIR is required: the folder that holds Cargo.toml.");
        return 2;
    }
    const int adjValue = options.oomScoreAdj;
    const double maxUsedValue = options.maxUsedPercent;
    const std::optional<double> needGiB = options.needGiB;

    BuildRequest request;
    request.jobs = options.jobs;
    request.projectDir = options.project;
    request.cargoProgram = options.cargoProgram;
    request.package = options.package;
    request.features = options.features;
    request.profile = options.profile;
    if (!options.example.empty()) {
        request.targetKind = TargetKind::Example;
        request.targetName = options.example;
    } else if (!options.bin.empty()) {
        request.targetKind = TargetKind::Bin;
        request.targetName = options.bin;
    } else if (options.lib) {
        request.targetKind = TargetKind::Lib;
    }
    if (options.extraArgs) {
        auto split = splitArguments(*options.extraArgs);
        if (!split) {
            complain("--args has an unmatched quote.");
            return 2;
        }
        request.extraArgs = *split;
    }
    if (options.thenRun) {
        auto split = splitArguments(*options.thenRun);
        if (!split || split->empty()) {
            complain("--then-run needs a command (quotes must match).");
            return 2;
        }
        request.thenRun = *split;
    }

    HeadlessOptions session;
    session.request = std::move(request);
    session.preset = *presetChoice;
    session.maxUsedFraction = maxUsedValue / 100.0;
    if (needGiB)
        session.need = std::uint64_t(*needGiB * double(GiB));
    session.historyPath = q(options.historyPath);
    session.waitForMemory = options.waitForMemory;
    session.oomScoreAdj = adjValue;
    session.onInterrupt = options.onInterrupt;
    session.memoryHigh = options.memoryHigh;
    session.memoryMax = options.memoryMax;
    return runHeadlessSession(session);
}

BuildSession headlessSession(const HeadlessOptions& options, const WorkspaceInfo& info,
                             const BuildHistory& history, std::shared_ptr<const Snapshot> snapshot)
{
    BuildRequest request = options.request;
    nameTheOnlyBinary(request, info);
    BuildSessionSettings settings;
    settings.maxUsedFraction = options.maxUsedFraction;
    settings.need = options.need;
    settings.cpus = buildCpus();
    settings.workspace = info.root.toStdString();
    settings.targetDir = info.targetDir.toStdString();
    const LearnedFigures learned =
        learnedFigures(history, info.root, options.preset, RunTarget::of(request), settings.defaultNeed);
    return BuildSession(std::move(request), options.preset, std::move(snapshot), learned,
                        std::move(settings));
}

int runHeadlessSession(const HeadlessOptions& options)
{
    QString error;
    const auto info =
        WorkspaceInfo::load(q(options.request.projectDir), q(options.request.cargoProgram), &error);
    if (!info) {
        complain(error);
        return 2;
    }
    const QStringList problems = checkRequest(options.request, *info);
    if (!problems.isEmpty()) {
        for (const auto& p : problems)
            complain(p);
        return 2;
    }

    BuildHistory historyDb(options.historyPath.isEmpty() ? BuildHistory::defaultPath() : options.historyPath);
    if (!historyDb.warning().isEmpty())
        complain(historyDb.warning());
    const QString projectKey = info->root;

    auto sampler = SystemSampler::create();
    auto first = sampler->sample();
    if (!first) {
        complain(q(first.error()));
        return 1;
    }
    auto snapshot = std::make_shared<const Snapshot>(std::move(first.value()));

    const BuildSession session = headlessSession(options, *info, historyDb, snapshot);
    const BuildRequest& request = session.request();
    const BuildPlan plan = session.plan();
    say(QStringLiteral("Preset %1. %2").arg(q(std::string(presetTitle(plan.preset))), q(plan.note)));
    if (!plan.jobsExplanation.empty())
        say("Jobs: " + q(plan.jobsExplanation));
    for (const auto& step : plan.steps)
        say(QStringLiteral("  %1:\n    %2").arg(q(step.title), q(step.displayLine())));

    const auto checks = session.checks();
    for (const auto& c : checks)
        say(QStringLiteral("  [%1] %2").arg(c.passed ? "ok" : "!!", q(c.verdict)));

    QCoreApplication* app = QCoreApplication::instance();
    BuildRunner runner;
    runner.setOomScoreAdj(options.oomScoreAdj);
    runner.setOrigin(RunOrigin::HeadlessBuild);
    runner.setProject(projectKey);
    const RunTarget target = RunTarget::of(request);
    runner.setTarget(target.package, target.kind, target.name, target.features);
    runner.setHistoryPath(historyDb.path());
    runner.setMemoryLimits(options.memoryHigh, options.memoryMax);
    runner.setTitle(QStringLiteral("%1 · %2 (headroom build)")
                        .arg(q(std::string(presetId(plan.preset))), QFileInfo(projectKey).fileName()));
    BuildGate gate;
    std::vector<ProcessKey> paused;
    int exitCode = 1;
    int stoppedBySignal = 0; // SIGINT or SIGTERM that Headroom received
    qint64 startedMs = 0;
    unsigned lastDone = ~0u;

    const auto startBuild = [&] {
        if (plan.freeMemoryFirst) {
            // What the memory looks like now, after any wait.
            pauseTestsFirst(headlessSession(options, *info, historyDb, snapshot), paused);
        }
        startedMs = QDateTime::currentMSecsSinceEpoch();
        QString startError;
        if (!runner.start(request, plan, &startError)) {
            complain(startError);
            app->exit(1);
            return;
        }
    };

    QObject::connect(&runner, &BuildRunner::stepStarted, [&](int, const QString& title, const QString& line) {
        say(QStringLiteral("==> %1\n    %2").arg(title, line));
    });
    QObject::connect(&runner, &BuildRunner::outputArrived, [&](const QString& text) {
        std::fputs(text.toLocal8Bit().constData(), stdout);
        std::fflush(stdout);
    });
    QObject::connect(
        &runner, &BuildRunner::progressChanged, [&](unsigned done, unsigned total, const QStringList& now) {
            if (done == lastDone)
                return;
            lastDone = done;
            say(QStringLiteral("    progress %1/%2: %3").arg(done).arg(total).arg(now.join(", ")));
        });
    QObject::connect(&runner, &BuildRunner::waitingForLock, [&](bool waiting, const QString& holder) {
        if (waiting)
            say("    waiting for the build folder's lock" +
                (holder.isEmpty() ? QString() : ", held by " + holder));
    });
    QObject::connect(&runner, &BuildRunner::finished, [&](const BuildRunResult& r) {
        if (!paused.empty()) {
            const ActionReport report = ProcessControl().apply(paused, ProcessAction::Resume);
            say("Resumed the paused test processes: " + q(report.summary()));
        }
        printOutcome(r, request);
        // The supervisor posts the same run to the history's inbox; by its id it is recorded once.
        if (const RecordResult recorded = historyDb.record(projectKey, plan, r, startedMs, target);
            !recorded) {
            complain("could not record this run in the history: " + recorded.message);
        } else {
            for (const QString& problem : historyDb.importInbox().problems)
                complain(problem);
        }
        exitCode = stoppedBySignal ? 128 + stoppedBySignal : exitCodeOf(r);
        app->exit(exitCode);
    });

    QTimer poll;
    poll.setInterval(500);
    QObject::connect(&poll, &QTimer::timeout, [&] {
        auto next = sampler->sample();
        if (!next)
            return;
        snapshot = std::make_shared<const Snapshot>(std::move(next.value()));
        gate.observe(snapshot);
    });
    poll.start();

#ifdef Q_OS_UNIX
    std::unique_ptr<QSocketNotifier> signalNotifier;
    std::unique_ptr<QSocketNotifier> answerNotifier;
    bool stopping = false;
    // Never deleted inside its own signal: its reader may be what calls this.
    const auto stopAsking = [&] {
        if (answerNotifier) {
            answerNotifier->setEnabled(false);
            answerNotifier.release()->deleteLater();
        }
    };
    const auto resumePaused = [&] {
        if (paused.empty())
            return;
        const ActionReport report = ProcessControl().apply(paused, ProcessAction::Resume);
        paused.clear();
        say("Resumed the paused test processes: " + q(report.summary()));
    };
    const auto stopBuild = [&](int signal, const QString& why) {
        stopAsking();
        if (stopping)
            return;
        stopping = true;
        stoppedBySignal = signal;
        say(QStringLiteral("\n%1: stopping the build's whole process tree.").arg(why));
        runner.stop(); // `finished` resumes what was paused and exits
    };
    const auto leaveBuild = [&](int signal) {
        stopAsking();
        resumePaused();
        say(QStringLiteral("\nThe build goes on: run %1; follow it with `headroom runs`, log: %2")
                .arg(runner.runId(), runner.logPath()));
        app->exit(128 + signal);
    };
    const auto ask = [&] {
        std::fputs("\nStop the build (s) or leave it running (l)? [s/l] ", stdout);
        std::fflush(stdout);
        if (answerNotifier)
            return;
        answerNotifier = std::make_unique<QSocketNotifier>(STDIN_FILENO, QSocketNotifier::Read);
        QObject::connect(answerNotifier.get(), &QSocketNotifier::activated, [&] {
            char line[256];
            const ssize_t n = ::read(STDIN_FILENO, line, sizeof line);
            if (n <= 0) {
                stopBuild(SIGINT, QStringLiteral("No answer (the input ended)")); // EOF: the safe choice
                return;
            }
            char answer = 0;
            for (ssize_t i = 0; i < n && !answer; ++i) {
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\n' && line[i] != '\r')
                    answer = char(std::tolower(static_cast<unsigned char>(line[i])));
            }
            if (answer == 's')
                stopBuild(SIGINT, QStringLiteral("Stop"));
            else if (answer == 'l')
                leaveBuild(SIGINT);
            else {
                std::fputs("Type s to stop the build or l to leave it running: ", stdout);
                std::fflush(stdout);
            }
        });
    };
    if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) == 0) {
        signalNotifier = std::make_unique<QSocketNotifier>(gSignalPipe[0], QSocketNotifier::Read);
        QObject::connect(signalNotifier.get(), &QSocketNotifier::activated, [&] {
            unsigned char byte = 0;
            while (::read(gSignalPipe[0], &byte, 1) == 1) {
                const int signal = byte;
                const char* name = signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM";
                if (!runner.isRunning()) {
                    if (stoppedBySignal)
                        continue;
                    stoppedBySignal = signal;
                    say(QStringLiteral("\n%1: not started; giving up.").arg(name));
                    resumePaused();
                    app->exit(128 + stoppedBySignal);
                    return;
                }
                // The terminal going away, or a polite kill: the build is not
                // this front-end's to end; it runs on under its supervisor.
                if (signal != SIGINT) {
                    say(QStringLiteral("\n%1: leaving the build running.").arg(name));
                    leaveBuild(signal);
                    return;
                }
                if (stopping)
                    continue;
                if (answerNotifier) { // a second Ctrl+C while asking
                    stopBuild(SIGINT, QString::fromLatin1(name));
                } else if (options.onInterrupt == "leave") {
                    leaveBuild(SIGINT);
                    return;
                } else if (options.onInterrupt == "stop") {
                    stopBuild(SIGINT, QString::fromLatin1(name));
                } else if (::isatty(STDIN_FILENO)) {
                    ask();
                } else {
                    stopBuild(SIGINT, QStringLiteral("%1 (the input is not a terminal to ask)").arg(name));
                }
            }
        });
        struct sigaction action {};
        action.sa_handler = onTerminationSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &action, nullptr);
        ::sigaction(SIGTERM, &action, nullptr);
        ::sigaction(SIGHUP, &action, nullptr);
    }
#endif

    bool blocked = false;
    for (const auto& c : checks)
        blocked = blocked || BuildGate::blocks(c);
    if (blocked && options.waitForMemory) {
        say("Waiting until memory is available (Ctrl+C to give up)...");
        QObject::connect(&gate, &BuildGate::stillWaiting,
                         [&](const QString& reason) { say("  waiting: " + reason); });
        QObject::connect(&gate, &BuildGate::ready, [&] {
            say("The checks pass now: starting.");
            startBuild();
        });
        gate.arm(session.checkOptions());
    } else {
        if (blocked)
            say("Starting anyway (add --wait-for-memory to wait until the checks pass).");
        QTimer::singleShot(0, startBuild);
    }
    const int rc = app->exec();
#ifdef Q_OS_UNIX
    if (signalNotifier) {
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGHUP, SIG_DFL);
        answerNotifier.reset();
        signalNotifier.reset();
        ::close(gSignalPipe[0]);
        ::close(gSignalPipe[1]);
        gSignalPipe[0] = gSignalPipe[1] = -1;
    }
#endif
    return rc;
}

} // namespace headroom::services
