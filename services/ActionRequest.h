// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/ProcessControl.h"
#include "services/SnapshotPtr.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace headroom::services {

// What the user asked to do to which processes; the app carries it out off
// the GUI thread and answers with an ActionReport.
struct ActionRequest {
    std::vector<ProcessKey> targets;
    ProcessAction action = ProcessAction::Terminate;
    bool tree = false;
    // Runaway-build stops only ever touch the user's own processes.
    bool onlyCurrentUser = false;
    QString description; // "Terminate cargo (4711)", "Stop runaway builds (2 builds)"
    // The sample the user (or the guard) chose from: each target's name and
    // executable there are checked again just before the signal, so a pid
    // reused within one clock tick by another program is never hit.
    SnapshotPtr seen;

    std::vector<ProcessTarget> identities() const;
};

QString actionLabel(ProcessAction action, bool tree); // "Terminate", "Kill tree"

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::ActionRequest)
