// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/ActionRequest.h"

#include <QObject>

namespace headroom::services {

std::vector<ProcessTarget> ActionRequest::identities() const
{
    std::vector<ProcessTarget> out;
    out.reserve(targets.size());
    for (const ProcessKey& key : targets) {
        const ProcessSample* sample = seen ? seen->find(key) : nullptr;
        out.push_back(sample ? ProcessTarget::of(*sample) : ProcessTarget{key, {}, {}});
    }
    return out;
}

QString actionLabel(ProcessAction action, bool tree)
{
    QString verb;
    switch (action) {
    case ProcessAction::Pause:
        verb = QObject::tr("Pause");
        break;
    case ProcessAction::Resume:
        verb = QObject::tr("Resume");
        break;
    case ProcessAction::Terminate:
        verb = QObject::tr("Terminate");
        break;
    case ProcessAction::Kill:
        verb = QObject::tr("Kill");
        break;
    }
    return tree ? QObject::tr("%1 Tree").arg(verb) : verb;
}

} // namespace headroom::services
