// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What a BuildSession needs from the Qt side, read the same way for the Build
// page and for `headroom build`: the history's learned figures and the CPUs.

#include "headroom/BuildSession.h"
#include "services/launcher/BuildHistory.h"

#include <QString>

#include <cstdint>

namespace headroom::services {

// The learned peaks of `project` for `preset` building `target`; nothing
// learned when the history is not open. `defaultNeed` is what the checks use
// without history: a stopped run's lower bound counts only above it.
headroom::LearnedFigures learnedFigures(const BuildHistory& history, const QString& project,
                                        headroom::BuildPreset preset, const RunTarget& target,
                                        std::uint64_t defaultNeed);

// The CPUs Auto may use (at least one).
unsigned buildCpus();

} // namespace headroom::services
