// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The job pool over every build, for the window: the ledger (JobPool::read,
// which takes no lock) and, for each member, the root of the step its run
// runs now (from the run's status), so a build tree in the list can be told
// to be a pool member. Read off the GUI thread, at most once a second.

#include "headroom/BuildTree.h"
#include "headroom/JobPool.h"
#include "headroom/Process.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <map>
#include <memory>
#include <string>

namespace headroom::services {

struct PoolView {
    bool read = false;                       // a read has finished (the ledger may still be empty)
    QString problem;                         // the ledger could not be read, in words
    PoolState state;                         // members with their tokens, as the ledger says
    std::map<std::string, ProcessKey> roots; // run id -> its running step's root process
    std::map<std::string, QString> projects; // run id -> its project folder's name, from its status

    // The member whose run's root is the build tree's root or one of its
    // processes; null when the build does not draw from the pool.
    const PoolMember* memberOf(const BuildTree& build) const;
    unsigned inUse() const; // tokens held by jobs, over every member
    // What to call a member in one line: its project folder's name, else its title (made safe).
    QString nameOf(const PoolMember& member) const;
    // "Job pool: 1 of 1 tokens in use by 2 builds · held back: …"; empty
    // when no build draws from the pool. Members' words are made safe.
    QString summary() const;
    // One line per member: title, tokens, jobs, predicted peak, held back.
    QString details() const;

    // Reads the ledger in `poolDir` and the status of each member's run in
    // `runsDir`. Blocks on files only (never on the ledger's lock).
    static PoolView readNow(const QString& poolDir, const QString& runsDir);
};

class PoolWatcher : public QObject {
    Q_OBJECT
  public:
    // Empty folders: defaultPoolDir() and defaultRunsDir().
    explicit PoolWatcher(const QString& poolDir = {}, const QString& runsDir = {}, QObject* parent = nullptr);
    ~PoolWatcher() override;

    QString poolDir() const { return poolDir_; }
    QString runsDir() const { return runsDir_; }
    void setIntervalMs(int ms) { timer_.setInterval(ms); }
    void start();
    void stop() { timer_.stop(); }
    // Starts a read now, unless one is under way; poolRead follows.
    void refresh();
    const PoolView& view() const { return *view_; }

  signals:
    void poolRead(const headroom::services::PoolView& view);

  private:
    QString poolDir_, runsDir_;
    QTimer timer_;
    std::shared_ptr<const PoolView> view_;
    bool reading_ = false;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::PoolView)
