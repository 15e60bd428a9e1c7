// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/MachineMetrics.h"

namespace headroom {

std::string renderMachineMetrics(const MachineMetricsInputs&) { return "\n"; }
std::vector<BuildOutcomeCount> countOutcomes(const std::vector<RunStatus>&) { return {}; }
Result<MachineView> machineViewFromSamples(const std::vector<MetricSample>&)
{
    return Result<MachineView>::failure("not written yet");
}
std::vector<Snapshot> machineHistoryFromSeries(const std::vector<MetricSeries>&) { return {}; }
ProcessKey remoteBuildKey(const BuildTree&) { return {}; }

} // namespace headroom
