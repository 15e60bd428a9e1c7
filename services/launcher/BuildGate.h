#pragma once

// "Wait until memory is available": watches the snapshots and says when the
// pre-build checks that matter for memory pass, so a waiting build starts by
// itself. Heavy test processes are a suggestion, not a gate: waiting for
// them to end could take all day. "Wait for that build to finish" waits only
// for the competing build on the same workspace to be gone: the memory it
// held comes back with it, and the person chose to wait for that alone.

#include "headroom/BuildChecks.h"

#include <QObject>

#include <memory>
#include <vector>

namespace headroom::services {

class BuildGate : public QObject {
    Q_OBJECT

  public:
    explicit BuildGate(QObject* parent = nullptr) : QObject(parent) {}

    enum class Until { ChecksPass, CompetingBuildGone };

    void arm(const headroom::BuildCheckOptions& options, Until until = Until::ChecksPass);
    void cancel();
    bool armed() const { return armed_; }
    Until until() const { return until_; }
    const std::vector<headroom::BuildCheck>& lastChecks() const { return checks_; }

    // The checks that block a start (while waiting with `until`).
    static bool blocks(const headroom::BuildCheck& check, Until until = Until::ChecksPass);

  public slots:
    void observe(std::shared_ptr<const headroom::Snapshot> snapshot);

  signals:
    // Each snapshot while waiting, with the checks still failing.
    void stillWaiting(const QString& reason);
    // The checks passed: start now. Emitted once per arm().
    void ready();

  private:
    headroom::BuildCheckOptions options_;
    std::vector<headroom::BuildCheck> checks_;
    bool armed_ = false;
    Until until_ = Until::ChecksPass;
};

} // namespace headroom::services
