// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/ProcessSpawner.h"

#include "headroom/Platform.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QThread>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

using headroom::Pid;

ProcessSpawner::ProcessSpawner()
{
    QDir(dir_.path()).mkpath("bin");
    QDir(dir_.path()).mkpath("ready");
}

ProcessSpawner::~ProcessSpawner()
{
    for (Pid pid : started_) {
        for (Pid child : liveDescendants(pid))
            ::kill(static_cast<pid_t>(child), SIGKILL);
        ::kill(-static_cast<pid_t>(pid), SIGKILL); // the whole process group
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    }
}

headroom::Pid ProcessSpawner::startAsUser(const QString& name, unsigned uid)
{
    const QString program = installAs(name);
    const auto open =
        QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadOther | QFile::ExeOther;
    if (!QFile::setPermissions(binDir(), open) || !QFile::setPermissions(binDir() + "/..", open))
        return -1;
    const QByteArray path = program.toLocal8Bit();
    const QByteArray argv0 = name.toLocal8Bit();
    const pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (::setgid(uid) != 0 || ::setuid(uid) != 0)
            ::_exit(1);
        ::execl(path.constData(), argv0.constData(), "--sleep", "30", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 10000) {
        const auto seen = headroom::platform::identify(pid);
        if (seen && seen->name == argv0.toStdString())
            return pid;
        QThread::msleep(20);
    }
    return -1;
}

QString ProcessSpawner::binDir() const
{
    return dir_.path() + "/bin";
}

QString ProcessSpawner::installAs(const QString& name)
{
    const QString target = binDir() + "/" + name;
    if (!QFile::exists(target)) {
        QFile::copy(QStringLiteral(HEADROOM_FAKEPROC), target);
        QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                          QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther |
                                          QFile::ExeOther);
    }
    return target;
}

QString ProcessSpawner::makeDir(const QString& relative)
{
    QDir(dir_.path()).mkpath(relative);
    return dir_.path() + "/" + relative;
}

Pid ProcessSpawner::start(const QString& name, const QStringList& args, const QString& workDir,
                          int expectTotal)
{
    const QString program = name.contains('/') ? name : installAs(name);
    // Install every child program the arguments name right after a "{".
    for (int i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "{" && !args[i + 1].contains('/'))
            installAs(args[i + 1]);
    }
    const QByteArray programBytes = QFile::encodeName(program);
    std::vector<QByteArray> words{programBytes};
    for (const auto& a : args)
        words.push_back(a.toLocal8Bit());
    std::vector<char*> argv;
    for (auto& w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    const QByteArray dir = QFile::encodeName(workDir.isEmpty() ? dir_.path() : workDir);
    const QByteArray ready = QFile::encodeName(dir_.path() + "/ready");

    const pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        ::setpgid(0, 0);
        if (::chdir(dir.constData()) != 0)
            ::_exit(126);
        ::setenv("HEADROOM_FAKEPROC_READY_DIR", ready.constData(), 1);
        ::execv(programBytes.constData(), argv.data());
        ::_exit(127);
    }
    started_.push_back(pid);

    // Ready when `expectTotal` processes of this tree have said so.
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 10000) {
        std::unordered_set<Pid> tree{pid};
        for (Pid d : liveDescendants(pid))
            tree.insert(d);
        int readyCount = 0;
        for (Pid p : tree) {
            if (QFile::exists(dir_.path() + "/ready/" + QString::number(p)))
                ++readyCount;
        }
        if (readyCount >= expectTotal)
            return pid;
        QThread::msleep(10);
    }
    return pid;
}

headroom::ProcessKey ProcessSpawner::keyOf(Pid pid)
{
    auto id = headroom::platform::identify(pid);
    return id ? id->key : headroom::ProcessKey{};
}

std::vector<Pid> ProcessSpawner::liveDescendants(Pid pid)
{
    const auto all = headroom::platform::listIdentities();
    std::unordered_map<Pid, std::vector<Pid>> children;
    for (const auto& p : all) {
        if (p.state != headroom::ProcessState::Zombie)
            children[p.parentPid].push_back(p.key.pid);
    }
    std::vector<Pid> out;
    std::vector<Pid> frontier{pid};
    for (std::size_t head = 0; head < frontier.size(); ++head) {
        for (Pid c : children[frontier[head]]) {
            out.push_back(c);
            frontier.push_back(c);
        }
    }
    return out;
}

bool ProcessSpawner::waitGone(Pid pid, std::chrono::milliseconds timeout)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeout.count()) {
        int status = 0;
        ::waitpid(static_cast<pid_t>(pid), &status, WNOHANG); // reap it if it is ours
        const char state = stateOf(pid);
        if (state == 0 || state == 'Z' || state == 'X')
            return true;
        QThread::msleep(10);
    }
    return false;
}

char ProcessSpawner::stateOf(Pid pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size())
        return 0;
    return text[close + 2];
}
