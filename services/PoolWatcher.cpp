// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/PoolWatcher.h"

#include "headroom/RunsFolder.h"
#include "headroom/Units.h"
#include "services/SafeDisplayText.h"

#include <QCoreApplication>
#include <QPointer>
#include <QSet>
#include <QStringList>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace headroom::services {

namespace {
std::filesystem::path pathOf(const QString& path)
{
    return std::filesystem::path(path.toStdU16String());
}

QString fromPath(const std::filesystem::path& path)
{
    return QString::fromStdU16String(path.u16string());
}

// A member's words on one line: its own line breaks become spaces, the rest is safeText's.
QString safe(std::string text, std::size_t max = 300)
{
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    return QString::fromStdString(safeText(text, max));
}

QString count(unsigned n, const char* one, const char* many)
{
    return QStringLiteral("%1 %2").arg(n).arg(QCoreApplication::translate("PoolView", n == 1 ? one : many));
}
} // namespace

const PoolMember* PoolView::memberOf(const BuildTree& build) const
{
    for (const PoolMember& member : state.members) {
        const auto root = roots.find(member.runId);
        if (root == roots.end() || root->second.pid == 0)
            continue;
        if (build.root == root->second ||
            std::find(build.members.begin(), build.members.end(), root->second) != build.members.end())
            return &member;
    }
    return nullptr;
}

unsigned PoolView::inUse() const
{
    unsigned sum = 0;
    for (const PoolMember& member : state.members)
        sum += member.inUse;
    return sum;
}

QString PoolView::nameOf(const PoolMember& member) const
{
    const auto project = projects.find(member.runId);
    if (project != projects.end() && !project->second.isEmpty())
        return project->second;
    return safe(member.title, 80);
}

QString PoolView::summary() const
{
    if (!problem.isEmpty())
        return QCoreApplication::translate("PoolView", "Job pool: %1").arg(problem);
    if (state.members.empty())
        return {};
    QString text = QCoreApplication::translate("PoolView", "Job pool: %1 of %2 tokens in use by %3")
                       .arg(inUse())
                       .arg(state.granted())
                       .arg(count(unsigned(state.members.size()), "build", "builds"));
    // Each reason with whose it is: "held by this build" means something only beside a name.
    QStringList held;
    for (const PoolMember& member : state.members) {
        if (member.heldBack.empty())
            continue;
        const QString line = QStringLiteral("%1: %2").arg(nameOf(member), safe(member.heldBack));
        if (!held.contains(line))
            held << line;
    }
    if (!held.isEmpty())
        text += QStringLiteral(" · ") +
                QCoreApplication::translate("PoolView", "held back: %1").arg(held.join(QStringLiteral("; ")));
    return text;
}

QString PoolView::details() const
{
    QStringList lines;
    if (state.cpus > 0)
        lines << QCoreApplication::translate("PoolView", "At most %1 tokens over every build (CPUs - 1).")
                     .arg(state.cpus > 1 ? state.cpus - 1 : 0);
    for (const PoolMember& member : state.members) {
        QString line = QCoreApplication::translate("PoolView", "%1: %2 of %3 tokens in use, %4")
                           .arg(nameOf(member) == safe(member.title, 120)
                                    ? nameOf(member)
                                    : QStringLiteral("%1 (%2)").arg(nameOf(member), safe(member.title, 120)))
                           .arg(member.inUse)
                           .arg(member.granted)
                           .arg(count(member.jobs, "job", "jobs"));
        if (member.predictedBytes > 0)
            line += QCoreApplication::translate("PoolView", ", predicted peak %1")
                        .arg(QString::fromStdString(formatBytes(member.predictedBytes)));
        if (!member.heldBack.empty())
            line += QCoreApplication::translate("PoolView", "; held back: %1").arg(safe(member.heldBack));
        lines << line;
    }
    return lines.join(QLatin1Char('\n'));
}

PoolView PoolView::readNow(const QString& poolDir, const QString& runsDir)
{
    PoolView view;
    view.read = true;
    const JobPool pool(pathOf(poolDir));
    auto state = pool.read();
    if (!state) {
        view.problem = safeDisplayText(QString::fromStdString(state.error()));
        return view;
    }
    view.state = std::move(state.value());
    const std::filesystem::path runs = pathOf(runsDir);
    for (const PoolMember& member : view.state.members) {
        if (!isValidRunId(member.runId))
            continue; // a name that is not a run's cannot be a file of the runs folder
        const auto status = readStatusFile(RunFiles::of(runs, member.runId).status);
        if (!status)
            continue;
        if (const auto root = status.value().currentRoot())
            view.roots[member.runId] = *root;
        const std::string& project = status.value().spec.project;
        if (!project.empty())
            view.projects[member.runId] = safeDisplayText(
                QString::fromStdU16String(std::filesystem::path(project).filename().u16string()), 80);
    }
    return view;
}

PoolWatcher::PoolWatcher(const QString& poolDir, const QString& runsDir, QObject* parent)
    : QObject(parent), poolDir_(poolDir.isEmpty() ? fromPath(defaultPoolDir()) : poolDir),
      runsDir_(runsDir.isEmpty() ? fromPath(defaultRunsDir()) : runsDir), view_(std::make_shared<PoolView>())
{
    qRegisterMetaType<PoolView>();
    timer_.setInterval(1000);
    connect(&timer_, &QTimer::timeout, this, &PoolWatcher::refresh);
}

PoolWatcher::~PoolWatcher() = default;

void PoolWatcher::start()
{
    timer_.start();
    refresh();
}

void PoolWatcher::refresh()
{
    if (reading_)
        return;
    reading_ = true;
    QPointer<PoolWatcher> self(this);
    const QString poolDir = poolDir_, runsDir = runsDir_;
    // Small files, but a slow disk or a network home must never hold up the window.
    std::thread([self, poolDir, runsDir] {
        auto view = std::make_shared<const PoolView>(PoolView::readNow(poolDir, runsDir));
        QMetaObject::invokeMethod(
            qApp,
            [self, view] {
                if (!self)
                    return;
                self->reading_ = false;
                self->view_ = view;
                emit self->poolRead(*view);
            },
            Qt::QueuedConnection);
    }).detach();
}

} // namespace headroom::services
