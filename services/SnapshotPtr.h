// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/ProcessControl.h"
#include "headroom/Snapshot.h"

#include <QMetaType>

#include <memory>
#include <vector>

namespace headroom::services {

// Snapshots travel from the sampling thread to the widgets as shared immutable
// objects: one allocation per poll, no copies, safe to read from any thread.
using SnapshotPtr = std::shared_ptr<const headroom::Snapshot>;

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::SnapshotPtr)
Q_DECLARE_METATYPE(headroom::ActionReport)
Q_DECLARE_METATYPE(headroom::ProcessKey)
Q_DECLARE_METATYPE(std::vector<headroom::ProcessKey>)
