// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/SamplingService.h"

#include <QThread>

#include <spdlog/spdlog.h>

namespace headroom::services {

SamplingWorker::SamplingWorker(SamplingService::SamplerFactory factory) : factory_(std::move(factory)) {}

void SamplingWorker::begin(qint64 intervalMs)
{
    intervalMs_ = intervalMs;
    if (!sampler_) {
        sampler_ = factory_ ? factory_() : SystemSampler::create();
        if (classifierOptions_)
            sampler_->setClassifierOptions(*classifierOptions_);
    }
    if (!timer_) {
        timer_ = new QTimer(this);
        timer_->setSingleShot(true);
        timer_->setTimerType(Qt::PreciseTimer);
        connect(timer_, &QTimer::timeout, this, &SamplingWorker::poll);
    }
    poll();
}

void SamplingWorker::end()
{
    if (timer_)
        timer_->stop();
}

void SamplingWorker::setIntervalMs(qint64 intervalMs)
{
    intervalMs_ = intervalMs;
    // The next poll follows the new interval; a long wait under the old one is cut short.
    if (timer_ && timer_->isActive() && timer_->remainingTime() > intervalMs_)
        timer_->start(static_cast<int>(intervalMs_));
}

void SamplingWorker::applyClassifierOptions(const ClassifierOptions& options)
{
    classifierOptions_ = options;
    if (sampler_)
        sampler_->setClassifierOptions(options);
}

void SamplingWorker::poll()
{
    QElapsedTimer took;
    took.start();
    Result<Snapshot> result = sampler_->sample();
    if (result.ok()) {
        if (lastFailed_)
            spdlog::info("sampling works again");
        lastFailed_ = false;
        emit snapshotReady(std::make_shared<const Snapshot>(std::move(result).value()));
    } else {
        // Report a failure once, not every second while it lasts.
        if (!lastFailed_)
            emit samplingFailed(QString::fromStdString(result.error()));
        lastFailed_ = true;
    }
    // Fixed rate where possible; a poll slower than the interval is followed
    // by the next one at once rather than piling up.
    const qint64 wait = std::max<qint64>(intervalMs_ - took.elapsed(), 0);
    timer_->start(static_cast<int>(wait));
}

SamplingService::SamplingService(SamplerFactory factory, QObject* parent) : QObject(parent)
{
    qRegisterMetaType<SnapshotPtr>();
    qRegisterMetaType<ClassifierOptions>();
    thread_ = new QThread;
    thread_->setObjectName(QStringLiteral("sampling"));
    worker_ = new SamplingWorker(std::move(factory));
    worker_->moveToThread(thread_);
    connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(worker_, &SamplingWorker::snapshotReady, this, [this](const SnapshotPtr& snapshot) {
        sinceLastSnapshot_.restart();
        stallReported_ = false;
        emit snapshotReady(snapshot);
    });
    connect(worker_, &SamplingWorker::samplingFailed, this, [this](const QString& message) {
        spdlog::error("sampling failed: {}", message.toStdString());
        emit samplingFailed(message);
    });
    watchdog_.setInterval(1000);
    connect(&watchdog_, &QTimer::timeout, this, &SamplingService::checkStall);
}

SamplingService::~SamplingService()
{
    stop();
}

void SamplingService::start(std::chrono::milliseconds interval)
{
    interval_ = interval;
    if (!thread_->isRunning())
        thread_->start();
    sinceLastSnapshot_.start();
    QMetaObject::invokeMethod(worker_, "begin", Qt::QueuedConnection, Q_ARG(qint64, interval.count()));
    watchdog_.start();
    spdlog::info("sampling every {} ms", interval.count());
}

void SamplingService::stop()
{
    watchdog_.stop();
    if (!thread_)
        return;
    if (thread_->isRunning()) {
        QMetaObject::invokeMethod(worker_, "end", Qt::QueuedConnection);
        thread_->quit();
        // A poll stuck in the kernel cannot be interrupted; leave that thread
        // to the process exit rather than hang the window on close.
        if (!thread_->wait(3000)) {
            spdlog::warn("the sampling thread did not stop within 3 s; leaving it behind");
            thread_ = nullptr;
            worker_ = nullptr;
            return;
        }
    }
    delete thread_;
    thread_ = nullptr;
    worker_ = nullptr;
}

void SamplingService::setInterval(std::chrono::milliseconds interval)
{
    interval_ = interval;
    if (worker_)
        QMetaObject::invokeMethod(worker_, "setIntervalMs", Qt::QueuedConnection,
                                  Q_ARG(qint64, interval.count()));
}

void SamplingService::setClassifierOptions(const ClassifierOptions& options)
{
    if (worker_)
        QMetaObject::invokeMethod(worker_, "applyClassifierOptions", Qt::QueuedConnection,
                                  Q_ARG(headroom::ClassifierOptions, options));
}

void SamplingService::checkStall()
{
    const qint64 limit = std::max<qint64>(interval_.count() * 5, 5000);
    if (stallReported_ || !sinceLastSnapshot_.isValid() || sinceLastSnapshot_.elapsed() < limit)
        return;
    stallReported_ = true;
    const QString message = tr("No new sample for %1 s: reading the system is slow (heavy swapping?). "
                               "The figures shown are from %1 s ago.")
                                .arg(sinceLastSnapshot_.elapsed() / 1000);
    spdlog::warn("{}", message.toStdString());
    emit samplingStalled(message);
}

} // namespace headroom::services
