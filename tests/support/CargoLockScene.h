// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Three real `cargo build --offline` of one generated package: the first holds
// cargo's lock on target/debug while its build script sleeps, the second and
// third block on that lock ("Blocking waiting for file lock"). Each cargo runs
// in its own process group, so the scene can always be torn down whole.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <map>
#include <memory>
#include <unistd.h>

class CargoLockScene {
  public:
    explicit CargoLockScene(int buildScriptSeconds = 60)
    {
        root_ = dir_.path() + QStringLiteral("/lockws");
        QDir().mkpath(root_ + QStringLiteral("/src"));
        write(QStringLiteral("Cargo.toml"), "[package]\nname = \"lockdemo\"\nversion = \"0.1.0\"\n"
                                            "edition = \"2021\"\nbuild = \"build.rs\"\n");
        write(QStringLiteral("build.rs"),
              QStringLiteral("fn main() { std::thread::sleep(std::time::Duration::from_secs(%1)); }\n")
                  .arg(buildScriptSeconds)
                  .toUtf8());
        write(QStringLiteral("src/lib.rs"), "pub fn answer() -> u32 { 42 }\n");
    }

    ~CargoLockScene() { stopAll(); }

    QString workspace() const { return root_; }

    // Starts the holder, waits for its build script, then the two waiters,
    // and waits until both say they block on the lock.
    bool start(int timeoutMs = 90000)
    {
        holder_ = launch({QStringLiteral("build"), QStringLiteral("--offline")});
        if (!holder_ || !waitForBuildScript(timeoutMs))
            return false;
        waiterA_ = launch({QStringLiteral("build"), QStringLiteral("--offline"), QStringLiteral("-p"),
                           QStringLiteral("lockdemo")});
        waiterB_ = launch({QStringLiteral("build"), QStringLiteral("--offline"), QStringLiteral("--lib")});
        return waiterA_ && waiterB_ && waitForText(*waiterA_, timeoutMs) &&
               waitForText(*waiterB_, timeoutMs) && waitBlocked(waiterA_->processId(), 10000) &&
               waitBlocked(waiterB_->processId(), 10000);
    }

    qint64 holder() const { return holder_ ? holder_->processId() : 0; }
    qint64 waiterA() const { return waiterA_ ? waiterA_->processId() : 0; }
    qint64 waiterB() const { return waiterB_ ? waiterB_->processId() : 0; }

    void stopAll()
    {
        for (auto* p : {holder_.get(), waiterA_.get(), waiterB_.get()}) {
            if (p && p->processId() > 0)
                ::kill(-static_cast<pid_t>(p->processId()), SIGKILL);
        }
        for (auto* p : {holder_.get(), waiterA_.get(), waiterB_.get()}) {
            if (p)
                p->waitForFinished(10000);
        }
    }

  private:
    void write(const QString& name, const QByteArray& text)
    {
        QFile file(root_ + QLatin1Char('/') + name);
        file.open(QIODevice::WriteOnly | QIODevice::Truncate);
        file.write(text);
    }

    std::unique_ptr<QProcess> launch(const QStringList& args)
    {
        auto p = std::make_unique<QProcess>();
        p->setWorkingDirectory(root_);
        p->setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER",
                                 "CARGO_BUILD_RUSTC_WRAPPER", "CARGO_BUILD_JOBS"})
            env.remove(QString::fromLatin1(name));
        p->setProcessEnvironment(env);
        p->setChildProcessModifier([] { ::setpgid(0, 0); });
        p->start(QStringLiteral("cargo"), args);
        if (!p->waitForStarted(10000))
            return nullptr;
        return p;
    }

    // cargo prints "Blocking waiting for file lock" just before its blocking
    // flock(): the kernel lists the waiter ("->") in /proc/locks only then.
    static bool waitBlocked(qint64 pid, int timeoutMs)
    {
        const QByteArray needle = " " + QByteArray::number(pid) + " ";
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            QFile locks(QStringLiteral("/proc/locks"));
            if (locks.open(QIODevice::ReadOnly)) {
                for (const QByteArray& line : locks.readAll().split('\n')) {
                    if (line.contains("->") && line.contains(needle))
                        return true;
                }
            }
            QThread::msleep(50);
        }
        return false;
    }

    bool waitForText(QProcess& p, int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            p.waitForReadyRead(200);
            output_[&p] += p.readAll();
            if (output_[&p].contains("Blocking waiting for file lock"))
                return true;
            if (p.state() == QProcess::NotRunning)
                return false;
        }
        return false;
    }

    // The holder's build script runs once target/debug/build/*/build-script-build
    // has a running child; simplest outside sign: a process named build-script-*.
    bool waitForBuildScript(int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            const QDir proc(QStringLiteral("/proc"));
            for (const QString& entry : proc.entryList(QDir::Dirs)) {
                QFile comm(QStringLiteral("/proc/%1/comm").arg(entry));
                if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("build-script-")) {
                    const QString exe = QFile::symLinkTarget(QStringLiteral("/proc/%1/exe").arg(entry));
                    if (exe.startsWith(root_))
                        return true;
                }
            }
            if (holder_->state() == QProcess::NotRunning)
                return false;
            QThread::msleep(200);
        }
        return false;
    }

    QTemporaryDir dir_;
    QString root_;
    std::unique_ptr<QProcess> holder_, waiterA_, waiterB_;
    std::map<QProcess*, QByteArray> output_;
};
