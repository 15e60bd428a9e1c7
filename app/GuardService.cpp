// SPDX-License-Identifier: GPL-3.0-or-later
#include "GuardService.h"

#include "ProcessActions.h"
#include "headroom/Units.h"

#include <QStringList>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace headroom::app {
namespace {

QString describe(const std::string& name, Pid pid, std::uint64_t bytes)
{
    QString text = QStringLiteral("%1 (%2)").arg(QString::fromStdString(name)).arg(pid);
    if (bytes > 0)
        text += QStringLiteral(" · ") + QString::fromStdString(formatBytes(bytes));
    return text;
}

} // namespace

GuardService::GuardService(ProcessActions* actions, std::uint32_t uid, QObject* parent)
    : QObject(parent), actions_(actions), uid_(uid)
{
    setSettings(settings_);
}

void GuardService::setSettings(const Settings& settings)
{
    const bool turnedOff = settings_.enabled && !settings.enabled;
    settings_ = settings;
    if (turnedOff && !guard_.paused().empty())
        emit acted(tr("Build guard off"),
                   tr("%n process(es) it paused stay paused: choose Resume builds when memory allows.", nullptr,
                      static_cast<int>(guard_.paused().size())),
                   PressureLevel::Normal);
}

double GuardService::now() const
{
    return snapshot_ ? static_cast<double>(snapshot_->steadyNs) / 1e9 : 0.0;
}

bool GuardService::mine(const ProcessSample& p) const
{
    return p.uid == uid_ && !p.kernelThread && p.state != ProcessState::Zombie;
}

bool GuardService::anyMine(bool (*match)(const ProcessSample&)) const
{
    return snapshot_ && std::any_of(snapshot_->processes.begin(), snapshot_->processes.end(),
                                    [&](const ProcessSample& p) { return mine(p) && match(p); });
}

bool GuardService::canPause() const
{
    return anyMine([](const ProcessSample& p) { return isBuildRole(p.role) && p.state != ProcessState::Stopped; });
}

bool GuardService::hasBuildProcesses() const
{
    return anyMine([](const ProcessSample& p) { return isBuildRole(p.role); });
}

bool GuardService::canPauseTests() const
{
    return anyMine(
        [](const ProcessSample& p) { return p.role == ProcessRole::Test && p.state != ProcessState::Stopped; });
}

void GuardService::observe(const ui::SnapshotPtr& snapshot, PressureLevel level)
{
    if (!snapshot)
        return;
    snapshot_ = snapshot;
    // Forget what has exited.
    std::erase_if(held_, [&](const Held& h) { return snapshot->find(h.key) == nullptr; });

    if (settings_.enabled) {
        GuardOptions options;
        options.uid = uid_;
        options.emergencyAvailablePercent = settings_.emergencyAvailablePercent;
        options.graceSeconds = settings_.restSeconds;
        options.guardExternalBuilds = settings_.guardExternalBuilds;
        if (launchedRoots_)
            options.launchedRoots = launchedRoots_();
        guard_.setOptions(std::move(options));
        const std::vector<GuardAction> decisions = guard_.decide(*snapshot, level, now());
        QStringList paused, resumed, terminated;
        for (const GuardAction& a : decisions) {
            const QString what = describe(a.name, a.target.pid, a.residentBytes);
            switch (a.kind) {
            case GuardActionKind::Pause:
                request({a.target}, ProcessAction::Pause, false, tr("Build guard: pause %1").arg(what));
                paused << what;
                break;
            case GuardActionKind::Resume:
                request({a.target}, ProcessAction::Resume, false, tr("Build guard: resume %1").arg(what));
                resumed << what;
                break;
            case GuardActionKind::TerminateTree:
                request({a.target}, ProcessAction::Terminate, true, tr("Build guard: terminate %1").arg(what));
                terminated << what;
                break;
            }
            spdlog::warn("build guard: {} {} (pid {}, start {}): {}",
                         a.kind == GuardActionKind::Pause    ? "pause"
                         : a.kind == GuardActionKind::Resume ? "resume"
                                                             : "terminate tree",
                         a.name, a.target.pid, a.target.startTime, a.reason);
        }
        if (!terminated.isEmpty())
            emit acted(tr("Build guard stopped a build"),
                       tr("Terminated %1: %2, before the system runs out of memory. Paused builds stay paused.")
                           .arg(terminated.join(QStringLiteral(", ")),
                                QString::fromStdString(decisions.front().reason)),
                       PressureLevel::Critical);
        if (!paused.isEmpty())
            emit acted(tr("Build guard paused %n process(es)", nullptr, static_cast<int>(guard_.paused().size())),
                       tr("Memory is critical. Just paused: %1. They resume when memory is back to normal.")
                           .arg(paused.join(QStringLiteral(", "))),
                       PressureLevel::Critical);
        if (!resumed.isEmpty())
            emit acted(tr("Build guard resumed %n process(es)", nullptr, static_cast<int>(resumed.size())),
                       tr("Memory is back to normal. Resumed, oldest first: %1.").arg(resumed.join(QStringLiteral(", "))),
                       PressureLevel::Normal);
    }
    if (holdsPaused() != lastHeld_) {
        lastHeld_ = holdsPaused();
        emit heldChanged(lastHeld_);
    }
}

void GuardService::request(std::vector<ProcessKey> targets, ProcessAction action, bool tree,
                           const QString& description)
{
    ui::ActionRequest r;
    r.targets = std::move(targets);
    r.action = action;
    r.tree = tree;
    r.onlyCurrentUser = true; // the guard and the tray only ever touch the user's own processes
    r.description = description;
    actions_->request(r);
}

void GuardService::hold(const ProcessSample& p, bool tree)
{
    held_.push_back({p.key, tree, p.startedAtMs, p.displayName()});
}

void GuardService::pauseBuilds()
{
    if (!snapshot_)
        return;
    std::vector<ProcessKey> roots;
    std::vector<ProcessKey> loose;
    for (const BuildTree& b : snapshot_->builds) {
        const ProcessSample* root = snapshot_->find(b.root);
        if (root && mine(*root)) {
            roots.push_back(b.root);
            hold(*root, true);
        }
    }
    // Test binaries and compilers outside any build tree (a test runner started by hand).
    for (const ProcessSample& p : snapshot_->processes) {
        if (mine(p) && isBuildRole(p.role) && p.state != ProcessState::Stopped && !snapshot_->buildOf(p.key)) {
            loose.push_back(p.key);
            hold(p, false);
        }
    }
    if (roots.empty() && loose.empty()) {
        emit acted(tr("Nothing to pause"), tr("None of your build or test processes is running."),
                   PressureLevel::Normal);
        return;
    }
    if (!roots.empty())
        request(roots, ProcessAction::Pause, true, tr("Pause builds (%n build(s))", nullptr, int(roots.size())));
    if (!loose.empty())
        request(loose, ProcessAction::Pause, false, tr("Pause %n build or test process(es)", nullptr, int(loose.size())));
    emit acted(tr("Builds paused"),
               tr("%n build(s) and %1 other process(es) paused. Choose Resume builds to let them go on.", nullptr,
                  int(roots.size()))
                   .arg(loose.size()),
               PressureLevel::Normal);
    emit heldChanged(lastHeld_ = true);
}

void GuardService::pauseTests()
{
    if (!snapshot_)
        return;
    std::vector<ProcessKey> tests;
    std::uint64_t bytes = 0;
    for (const ProcessSample& p : snapshot_->processes) {
        if (mine(p) && p.role == ProcessRole::Test && p.state != ProcessState::Stopped) {
            tests.push_back(p.key);
            bytes += p.residentBytes;
            hold(p, false);
        }
    }
    if (tests.empty()) {
        emit acted(tr("No tests to pause"), tr("None of your test processes is running."), PressureLevel::Normal);
        return;
    }
    request(tests, ProcessAction::Pause, false, tr("Pause %n test process(es)", nullptr, int(tests.size())));
    emit acted(tr("Tests paused"),
               tr("%n test process(es) paused, holding %1. Choose Resume builds to let them go on.", nullptr,
                  int(tests.size()))
                   .arg(QString::fromStdString(formatBytes(bytes))),
               PressureLevel::Normal);
    emit heldChanged(lastHeld_ = true);
}

void GuardService::resumeAll()
{
    std::vector<Held> order = held_;
    for (const ProcessKey& key : guard_.paused()) {
        const ProcessSample* p = snapshot_ ? snapshot_->find(key) : nullptr;
        order.push_back({key, false, p ? p->startedAtMs : 0, p ? p->displayName() : std::string()});
    }
    guard_.release(guard_.paused(), now());
    held_.clear();
    if (order.empty())
        return;
    // Oldest first: the work that has run longest goes on first.
    std::stable_sort(order.begin(), order.end(),
                     [](const Held& a, const Held& b) { return a.startedAtMs < b.startedAtMs; });
    std::vector<ProcessKey> trees, singles;
    for (const Held& h : order)
        (h.tree ? trees : singles).push_back(h.key);
    if (!trees.empty())
        request(trees, ProcessAction::Resume, true, tr("Resume builds (%n build(s))", nullptr, int(trees.size())));
    if (!singles.empty())
        request(singles, ProcessAction::Resume, false,
                tr("Resume %n paused process(es)", nullptr, int(singles.size())));
    emit acted(tr("Builds resumed"), tr("%n paused process(es) resumed, oldest first.", nullptr, int(order.size())),
               PressureLevel::Normal);
    emit heldChanged(lastHeld_ = false);
}

} // namespace headroom::app
