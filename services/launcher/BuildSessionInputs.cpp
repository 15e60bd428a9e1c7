// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/BuildSessionInputs.h"

#include <QThread>

#include <algorithm>

namespace headroom::services {

headroom::LearnedFigures learnedFigures(const BuildHistory& history, const QString& project,
                                        headroom::BuildPreset preset, const RunTarget& target,
                                        std::uint64_t defaultNeed)
{
    headroom::LearnedFigures figures;
    figures.peakPerJob = history.learnedPeakPerJob(project, headroom::AutoJobsInput{}.defaultPeakPerJob);
    figures.peak = history.learnedPeak(project, QString::fromStdString(std::string(presetId(preset))), target,
                                       defaultNeed);
    return figures;
}

unsigned buildCpus()
{
    return unsigned(std::max(1, QThread::idealThreadCount()));
}

} // namespace headroom::services
