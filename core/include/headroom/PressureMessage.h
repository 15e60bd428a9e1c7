#pragma once

// The words of the tray tooltip and the pressure notifications: what uses the
// memory, the biggest single consumer, and the time left at the present trend.

#include "headroom/PressureLevel.h"
#include "headroom/Snapshot.h"

#include <optional>
#include <string>

namespace headroom {

// Time-to-exhaustion estimates are shown only below this; further out they
// are noise.
inline constexpr double kShowTimeLeftBelowSeconds = 300.0;

// "about 2 min left", "under a minute left"; empty when there is no estimate
// or it is beyond kShowTimeLeftBelowSeconds.
std::string describeTimeLeft(std::optional<double> secondsLeft);

// What holds the memory: build processes by kind ("3 rustc · 9.8 GiB,
// 14 test processes · 17.2 GiB"), or, with no build running, the largest
// processes ("firefox · 3.1 GiB, code · 1.2 GiB").
std::string describeConsumers(const Snapshot& snapshot, std::size_t maxItems = 3);

// The single largest consumer: a build tree when one outweighs every single
// process ("cargo build in tsz · 9.8 GiB"), else a process ("firefox · 3.1 GiB").
std::string describeTopConsumer(const Snapshot& snapshot);

struct PressureMessage {
    std::string title; // "Memory warning: only 12% of RAM is available"
    std::string body;  // "3 rustc · 9.8 GiB, 14 test processes · 17.2 GiB; about 2 min left"
};

PressureMessage pressureMessage(const Snapshot& snapshot, const LevelReading& reading,
                                std::optional<double> secondsLeft);

} // namespace headroom
