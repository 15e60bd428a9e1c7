#pragma once

#include "headroom/ProcessControl.h"
#include "headroom/Snapshot.h"

#include <string>

namespace headroom::cli {

// Version of the JSON layout below; bump it on any incompatible change.
inline constexpr int kSnapshotSchemaVersion = 1;

// The snapshot as JSON (schema "headroom.snapshot", see docs/snapshot-schema.md).
// Bytes that are not UTF-8 (process names can hold any) become U+FFFD.
std::string snapshotToJson(const Snapshot& snapshot, bool pretty);
std::string reportToJson(const ActionReport& report, bool pretty);

} // namespace headroom::cli
