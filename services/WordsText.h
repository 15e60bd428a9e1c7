// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The core's role and state words (headroom/Words.h) as the window shows
// them: translated here, at the edge, with the core's English as the source
// text in the context "headroom::Words".

#include "headroom/Words.h"

#include <QString>

namespace headroom::services {

QString roleLabelText(ProcessRole role);
QString roleNounText(ProcessRole role, bool plural);
QString stateText(ProcessState state);

} // namespace headroom::services
