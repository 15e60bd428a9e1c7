// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/GuardService.h"

#include "headroom/Platform.h"
#include "headroom/SafeText.h"
#include "headroom/Units.h"
#include "services/ProcessActions.h"
#include "services/RunawayBuilds.h"

#include <QStringList>

#include <algorithm>
#include <spdlog/spdlog.h>

namespace headroom::services {
namespace {

constexpr std::size_t kSafeNameMax = 256;

// Process names are the process's own text: made safe for a notification, and
// joined without a second arg() that would fill a "%1" inside the name.
QString describe(const std::string& name, Pid pid, std::uint64_t bytes)
{
    QString text = QString::fromStdString(safeText(name, kSafeNameMax)) + QStringLiteral(" (") +
                   QString::number(pid) + QLatin1Char(')');
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
                   tr("%n process(es) it paused stay paused: choose Resume builds when memory allows.",
                      nullptr, static_cast<int>(guard_.paused().size())),
                   PressureLevel::Normal);
}

double GuardService::now() const
{
    return snapshot_ ? static_cast<double>(snapshot_->steadyNs) / 1e9 : 0.0;
}

TouchPolicy GuardService::policy(bool buildRolesOnly) const
{
    static const Snapshot kEmpty;
    return TouchPolicy::of(snapshot_ ? *snapshot_ : kEmpty, uid_, platform::currentPid(),
                           {true, buildRolesOnly});
}

void GuardService::take(const SnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    snapshot_ = snapshot;
    // Forget what has exited.
    std::erase_if(held_, [&](const Held& h) { return snapshot->find(h.key) == nullptr; });
    // What the tray menu and the notification buttons may offer, in one pass.
    presence_ = {};
    const TouchPolicy builds = policy(true);
    for (const ProcessSample& p : snapshot->processes) {
        if (!builds.check(p).allowed())
            continue;
        presence_.build = true;
        if (p.state != ProcessState::Stopped) {
            presence_.runnable = true;
            presence_.tests = presence_.tests || p.role == ProcessRole::Test;
        }
    }
}

void GuardService::observe(const SnapshotPtr& snapshot, PressureLevel level)
{
    take(snapshot);
    act(level);
}

void GuardService::act(PressureLevel level)
{
    if (!snapshot_)
        return;
    const Snapshot& snapshot = *snapshot_;
    if (settings_.enabled) {
        GuardOptions options;
        options.uid = uid_;
        options.emergencyAvailablePercent = settings_.emergencyAvailablePercent;
        options.graceSeconds = settings_.restSeconds;
        options.guardExternalBuilds = settings_.guardExternalBuilds;
        options.selfPid = platform::currentPid();
        if (launchedRoots_)
            options.launchedRoots = launchedRoots_();
        guard_.setOptions(std::move(options));
        const std::vector<GuardAction> decisions = guard_.decide(snapshot, level, now());
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
                request({a.target}, ProcessAction::Terminate, true,
                        tr("Build guard: terminate %1").arg(what));
                terminated << what;
                break;
            }
            spdlog::warn("build guard: {} {} (pid {}, start {}): {}",
                         a.kind == GuardActionKind::Pause    ? "pause"
                         : a.kind == GuardActionKind::Resume ? "resume"
                                                             : "terminate tree",
                         safeText(a.name, kSafeNameMax), a.target.pid, a.target.startTime,
                         safeText(a.reason));
        }
        if (!terminated.isEmpty())
            emit acted(
                tr("Build guard stopped a build"),
                tr("Terminated %1: %2, before the system runs out of memory. Paused builds stay paused.")
                    .arg(terminated.join(QStringLiteral(", ")),
                         QString::fromStdString(safeText(decisions.front().reason))),
                PressureLevel::Critical);
        if (!paused.isEmpty())
            emit acted(
                tr("Build guard paused %n process(es)", nullptr, static_cast<int>(guard_.paused().size())),
                tr("Memory is critical. Just paused: %1. They resume when memory is back to normal.")
                    .arg(paused.join(QStringLiteral(", "))),
                PressureLevel::Critical);
        if (!resumed.isEmpty())
            emit acted(tr("Build guard resumed %n process(es)", nullptr, static_cast<int>(resumed.size())),
                       tr("Memory is back to normal. Resumed, oldest first: %1.")
                           .arg(resumed.join(QStringLiteral(", "))),
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
    ActionRequest r;
    r.targets = std::move(targets);
    r.seen = snapshot_;
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
    // The same groups "Stop runaway builds" offers: build trees, and build
    // processes outside any tree under their topmost such ancestor; never
    // Headroom itself or what started it.
    std::vector<ProcessKey> builds;
    std::vector<ProcessKey> loose;
    std::size_t looseProcesses = 0;
    for (const RunawayGroup& group : collectRunawayBuilds(*snapshot_, uid_, platform::currentPid())) {
        const ProcessSample* root = snapshot_->find(group.root);
        if (!root)
            continue;
        if (!group.isBuildTree) {
            // What the user paused by hand is theirs to resume.
            if (std::all_of(group.members.begin(), group.members.end(), [&](const RunawayGroup::Member& m) {
                    const ProcessSample* p = snapshot_->find(m.key);
                    return !p || p->state == ProcessState::Stopped;
                }))
                continue;
            looseProcesses += group.members.size();
        }
        (group.isBuildTree ? builds : loose).push_back(group.root);
        hold(*root, true);
    }
    if (builds.empty() && loose.empty()) {
        emit acted(tr("Nothing to pause"), tr("None of your build or test processes is running."),
                   PressureLevel::Normal);
        return;
    }
    std::vector<ProcessKey> roots = builds;
    roots.insert(roots.end(), loose.begin(), loose.end());
    request(roots, ProcessAction::Pause, true, tr("Pause builds (%n group(s))", nullptr, int(roots.size())));
    emit acted(tr("Builds paused"),
               tr("%n build(s) and %1 other process(es) paused. Choose Resume builds to let them go on.",
                  nullptr, int(builds.size()))
                   .arg(looseProcesses),
               PressureLevel::Normal);
    emit heldChanged(lastHeld_ = true);
}

void GuardService::pauseTests()
{
    if (!snapshot_)
        return;
    std::vector<ProcessKey> tests;
    std::uint64_t bytes = 0;
    const TouchPolicy builds = policy(true);
    for (const ProcessSample& p : snapshot_->processes) {
        if (p.role == ProcessRole::Test && p.state != ProcessState::Stopped && builds.check(p).allowed()) {
            tests.push_back(p.key);
            bytes += p.residentBytes;
            hold(p, false);
        }
    }
    if (tests.empty()) {
        emit acted(tr("No tests to pause"), tr("None of your test processes is running."),
                   PressureLevel::Normal);
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
        request(trees, ProcessAction::Resume, true,
                tr("Resume builds (%n build(s))", nullptr, int(trees.size())));
    if (!singles.empty())
        request(singles, ProcessAction::Resume, false,
                tr("Resume %n paused process(es)", nullptr, int(singles.size())));
    emit acted(tr("Builds resumed"),
               tr("%n paused process(es) resumed, oldest first.", nullptr, int(order.size())),
               PressureLevel::Normal);
    emit heldChanged(lastHeld_ = false);
}

} // namespace headroom::services
