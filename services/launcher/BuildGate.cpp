// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/BuildGate.h"

namespace headroom::services {

void BuildGate::arm(const BuildCheckOptions& options, Until until)
{
    options_ = options;
    until_ = until;
    armed_ = true;
}

void BuildGate::cancel()
{
    armed_ = false;
}

bool BuildGate::blocks(const BuildCheck& check, Until until)
{
    if (until == Until::CompetingBuildGone)
        return !check.passed && check.id == BuildCheckId::CompetingBuild;
    return !check.passed && check.id != BuildCheckId::HeavyTests;
}

void BuildGate::observe(std::shared_ptr<const Snapshot> snapshot)
{
    if (!armed_ || !snapshot)
        return;
    checks_ = runBuildChecks(*snapshot, options_);
    QStringList reasons;
    for (const auto& check : checks_) {
        if (blocks(check, until_))
            reasons << QString::fromStdString(check.verdict);
    }
    if (reasons.isEmpty()) {
        armed_ = false;
        emit ready();
        return;
    }
    emit stillWaiting(reasons.join(' '));
}

} // namespace headroom::services
