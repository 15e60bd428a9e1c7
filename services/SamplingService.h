// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/SystemSampler.h"
#include "services/SnapshotPtr.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace headroom::services {

class SamplingWorker;

// Polls the core on its own thread and hands each snapshot to the GUI thread
// as an immutable shared object. The GUI never waits for it: a slow poll only
// delays the next snapshot, and a watchdog on the GUI side reports polls that
// take far longer than the interval.
class SamplingService : public QObject {
    Q_OBJECT
  public:
    using SamplerFactory = std::function<std::unique_ptr<SystemSampler>()>;

    explicit SamplingService(SamplerFactory factory = {}, QObject* parent = nullptr);
    ~SamplingService() override;

    void start(std::chrono::milliseconds interval);
    void stop();
    void setInterval(std::chrono::milliseconds interval);
    void setClassifierOptions(const ClassifierOptions& options);
    std::chrono::milliseconds interval() const { return interval_; }

  signals:
    void snapshotReady(const headroom::services::SnapshotPtr& snapshot);
    void samplingFailed(const QString& message);
    // No snapshot for much longer than the interval.
    void samplingStalled(const QString& message);

  private:
    void checkStall();

    QThread* thread_ = nullptr;
    SamplingWorker* worker_ = nullptr;
    std::chrono::milliseconds interval_{1000};
    QTimer watchdog_;
    QElapsedTimer sinceLastSnapshot_;
    bool stallReported_ = false;
};

// Lives on the sampling thread. Owns the sampler (which is not thread-safe and
// so never leaves that thread).
class SamplingWorker : public QObject {
    Q_OBJECT
  public:
    explicit SamplingWorker(SamplingService::SamplerFactory factory);

  public slots:
    void begin(qint64 intervalMs);
    void end();
    void setIntervalMs(qint64 intervalMs);
    void applyClassifierOptions(const headroom::ClassifierOptions& options);

  signals:
    void snapshotReady(const headroom::services::SnapshotPtr& snapshot);
    void samplingFailed(const QString& message);

  private:
    void poll();

    SamplingService::SamplerFactory factory_;
    std::unique_ptr<SystemSampler> sampler_;
    std::optional<ClassifierOptions> classifierOptions_; // kept for a sampler created later
    QTimer* timer_ = nullptr;
    qint64 intervalMs_ = 1000;
    bool lastFailed_ = false;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::ClassifierOptions)
