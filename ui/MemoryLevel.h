// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DashboardSettings.h"
#include "headroom/Memory.h"

#include <QString>

namespace headroom::ui {

enum class MemoryLevel { Normal, Warning, Critical };

struct LevelAssessment {
    MemoryLevel level = MemoryLevel::Normal;
    QString reason; // why the level is not normal, in words; empty when normal
};

// The overall level the summary shows, from the figures and the thresholds.
LevelAssessment assessMemory(const MemoryStatus& memory, const LevelThresholds& thresholds);

QString levelName(MemoryLevel level);

} // namespace headroom::ui
