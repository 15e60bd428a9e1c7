// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/ActionRequest.h"

#include <QObject>
#include <QThreadPool>

#include <atomic>
#include <chrono>

namespace headroom::services {

// Carries out the user's stop/pause/resume requests through the core's safe
// path, off the GUI thread: Terminate waits up to the grace period for each
// process before it kills, and the window must not freeze meanwhile. Every
// request and every per-process outcome is logged.
class ProcessActions : public QObject {
    Q_OBJECT
  public:
    explicit ProcessActions(QObject* parent = nullptr);
    ~ProcessActions() override;

    void setGrace(std::chrono::milliseconds grace) { grace_ = grace; }
    std::chrono::milliseconds grace() const { return grace_; }
    int pending() const { return pending_.load(); }
    // Blocks until every request has finished (shutdown, tests).
    void waitForAll();

  public slots:
    void request(const headroom::services::ActionRequest& request);

  signals:
    void started(const headroom::services::ActionRequest& request);
    void finished(const headroom::services::ActionRequest& request, const headroom::ActionReport& report);

  private:
    QThreadPool pool_;
    std::chrono::milliseconds grace_{3000};
    std::atomic<int> pending_{0};
};

} // namespace headroom::services
