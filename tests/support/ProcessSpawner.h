#pragma once

// Starts real process trees for tests. Every program is a copy of the fakeproc
// helper installed under the name the test needs ("cargo", "rustc",
// "my (odd) proc"), so the kernel reports exactly that name.
//
// fakeproc's arguments: [--mem MiB] [--sleep SECONDS] [{ CHILD ARGS... }]...
// Each { ... } group starts a child: the first word is a program name
// installed with installAs() (or a path), the rest are its own arguments,
// which may hold further groups. Any other argument is ignored, so command
// lines can look real: `cargo build --release { rustc --crate-name foo }`.

#include "headroom/Process.h"

#include <QStringList>
#include <QTemporaryDir>

#include <chrono>
#include <vector>

class ProcessSpawner {
  public:
    ProcessSpawner();
    ~ProcessSpawner(); // kills every tree it started and reaps them

    // Copies fakeproc to <tmp>/bin/<name> and returns that path.
    QString installAs(const QString& name);
    // A fresh folder under the temporary dir, for working directories.
    QString makeDir(const QString& relative);
    // Starts `name` (installed first if needed) with `args` in `workDir`;
    // returns its pid, or -1. Waits until `expectTotal` processes (it and its
    // descendants) exist, so the tree is complete when this returns.
    headroom::Pid start(const QString& name, const QStringList& args, const QString& workDir = {},
                        int expectTotal = 1);
    // Starts `name` (installed first) sleeping 30 s as user and group `uid`
    // (the test runs as root); opens the install folder to that user first.
    // Returns the pid once the kernel shows the name, or -1. The caller ends
    // it (SIGKILL + waitGone): it is not one of the trees this spawner kills.
    headroom::Pid startAsUser(const QString& name, unsigned uid);
    // The (pid, start time) of a live pid, or a zero key.
    static headroom::ProcessKey keyOf(headroom::Pid pid);
    // Descendant pids of `pid` that are alive now.
    static std::vector<headroom::Pid> liveDescendants(headroom::Pid pid);
    // Waits for the process to be gone (or a zombie), reaping it if it is ours.
    bool waitGone(headroom::Pid pid, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Linux state letter from /proc/<pid>/stat ('S', 'T', 'Z'...), or 0 when gone.
    static char stateOf(headroom::Pid pid);
    // Alive and not a zombie.
    static bool isAlive(headroom::Pid pid)
    {
        const char state = stateOf(pid);
        return state != 0 && state != 'Z' && state != 'X';
    }

    QString binDir() const;

  private:
    QTemporaryDir dir_;
    std::vector<headroom::Pid> started_;
};
