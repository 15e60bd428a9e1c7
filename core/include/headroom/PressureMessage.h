#pragma once

// What the tray tooltip and the pressure notifications say: what uses the
// memory, the biggest single consumer, and the time left at the present trend.
// The time left stays a number here; the words for it are made where it is
// shown (services/MemoryLevel.h), so they can be translated.

#include "headroom/PressureLevel.h"
#include "headroom/Snapshot.h"

#include <optional>
#include <string>

namespace headroom {

// Time-to-exhaustion estimates are shown only below this; further out they
// are noise.
inline constexpr double kShowTimeLeftBelowSeconds = 300.0;

// The estimate when it is worth showing: nullopt when there is none, it is
// negative, or it is beyond kShowTimeLeftBelowSeconds.
std::optional<double> timeLeftWorthShowing(std::optional<double> secondsLeft);

// What holds the memory: build processes by kind ("3 rustc · 9.8 GiB,
// 14 test processes · 17.2 GiB"), or, with no build running, the largest
// processes ("firefox · 3.1 GiB, code · 1.2 GiB").
std::string describeConsumers(const Snapshot& snapshot, std::size_t maxItems = 3);

// The single largest consumer: a build tree when one outweighs every single
// process ("cargo build in tsz · 9.8 GiB"), else a process ("firefox · 3.1 GiB").
std::string describeTopConsumer(const Snapshot& snapshot);

struct PressureMessage {
    std::string title;                 // "Memory warning: only 12% of RAM is available"
    std::string body;                  // "3 rustc · 9.8 GiB, 14 test processes · 17.2 GiB"
    std::optional<double> secondsLeft; // worth showing beside the body; see timeLeftWorthShowing
};

PressureMessage pressureMessage(const Snapshot& snapshot, const LevelReading& reading,
                                std::optional<double> secondsLeft);

} // namespace headroom
