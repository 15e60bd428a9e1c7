// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/ProcessActions.h"

#include <spdlog/spdlog.h>

namespace headroom::services {

ProcessActions::ProcessActions(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<ActionRequest>();
    qRegisterMetaType<ActionReport>();
    // A few requests may run at once (a Terminate waiting out its grace period
    // must not hold up a Kill).
    pool_.setMaxThreadCount(4);
}

ProcessActions::~ProcessActions()
{
    pool_.waitForDone();
}

void ProcessActions::waitForAll()
{
    pool_.waitForDone();
}

void ProcessActions::request(const ActionRequest& request)
{
    ActionOptions options;
    options.tree = request.tree;
    options.grace = grace_;
    options.onlyCurrentUser = request.onlyCurrentUser;

    QStringList pids;
    for (const ProcessKey& key : request.targets)
        pids << QString::number(key.pid);
    spdlog::info("action requested: {} [{} {}{}; pids {}]", request.description.toStdString(),
                 actionId(request.action), request.tree ? "tree" : "single",
                 request.onlyCurrentUser ? ", own processes only" : "",
                 pids.join(QLatin1Char(' ')).toStdString());
    emit started(request);

    ++pending_;
    pool_.start([this, request, options] {
        const ProcessControl control;
        ActionReport report = control.apply(request.identities(), request.action, options);
        for (const ActionResult& result : report.results) {
            const auto level =
                result.outcome == ActionOutcome::Done || result.outcome == ActionOutcome::AlreadyGone
                    ? spdlog::level::info
                    : spdlog::level::warn;
            spdlog::log(level, "  {} {} (pid {}, start {}): {} - {}", actionId(request.action), result.name,
                        result.key.pid, result.key.startTime, outcomeId(result.outcome), result.message);
        }
        spdlog::info("action finished: {}: {}", request.description.toStdString(), report.summary());
        QMetaObject::invokeMethod(
            this,
            [this, request, report] {
                --pending_;
                emit finished(request, report);
            },
            Qt::QueuedConnection);
    });
}

} // namespace headroom::services
