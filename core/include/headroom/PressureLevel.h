#pragma once

// How close the system is to the OS killing something: a level with
// hysteresis (a figure hovering at a threshold does not flap), an estimate of
// the time left before memory and swap run out, and the rule for when a
// person should be told. Pure logic, fed with snapshots' memory figures.

#include "headroom/Memory.h"
#include "headroom/MemoryBudget.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace headroom {

enum class PressureLevel { Normal, Warning, Critical };

std::string_view levelId(PressureLevel level); // "normal", "warning", "critical"

struct PressureThresholds {
    double warningAvailablePercent = 20.0;  // available RAM at or below this share of total
    double warningSwapUsedPercent = 75.0;   // swap used at or above this share of swap
    double warningPsiSome = 10.0;           // PSI some avg10 at or above
    double criticalAvailablePercent = 10.0; // available RAM at or below
    double criticalPsiFull = 10.0;          // PSI full avg10 at or above
    double marginPoints = 5.0;              // how far back past a threshold before a level is left

    friend bool operator==(const PressureThresholds&, const PressureThresholds&) = default;
};

struct LevelReading {
    PressureLevel level = PressureLevel::Normal;
    std::string reason; // the figure that decided it, in words; empty when normal
};

// The level with hysteresis: a level is entered as soon as a threshold is
// crossed, and left only once every figure is `marginPoints` back on the safe
// side. On macOS the kernel's own level is used when it reports one.
class PressureLevelMachine {
  public:
    explicit PressureLevelMachine(PressureThresholds thresholds = {}) : thresholds_(thresholds) {}

    LevelReading update(const MemoryStatus& memory);
    // The same where a cgroup limit applies (budget.isCgroup()): the
    // available-memory thresholds are then shares of that limit, and the
    // reason names it ("only 8% of the container limit 8.0 GiB is left").
    // Swap and PSI stay the machine's. Without a cgroup limit, update(memory).
    LevelReading update(const MemoryStatus& memory, const MemoryBudget& budget);
    PressureLevel level() const { return level_; }
    void setThresholds(const PressureThresholds& thresholds) { thresholds_ = thresholds; }

    // The level the figures alone say, with `slack` points of margin
    // (0 to enter a level, marginPoints to stay in it).
    static LevelReading assess(const MemoryStatus& memory, const PressureThresholds& thresholds,
                               double slack);
    static LevelReading assess(const MemoryStatus& memory, const MemoryBudget& budget,
                               const PressureThresholds& thresholds, double slack);

  private:
    PressureThresholds thresholds_;
    PressureLevel level_ = PressureLevel::Normal;
};

// Time until available memory + free swap reach zero, from their trend over
// the last `windowSeconds`.
class ExhaustionEstimator {
  public:
    explicit ExhaustionEstimator(double windowSeconds = 30.0) : window_(windowSeconds) {}

    void add(double timeSeconds, std::uint64_t headroomBytes);
    // Seconds left at the present rate of decline; nullopt when the headroom
    // is not falling or there are too few samples (under 5 s of data).
    std::optional<double> secondsLeft() const;

  private:
    double window_;
    std::deque<std::pair<double, double>> samples_;
};

// When to tell the user: once per change to warning or critical, after the
// level held for `confirmSamples` samples (a one-sample spike says nothing),
// a repeat of the same level no sooner than `repeatSeconds`, nothing in quiet mode.
class NotificationPolicy {
  public:
    struct Options {
        int confirmSamples = 2;
        double repeatSeconds = 300.0;
    };
    NotificationPolicy() = default;
    explicit NotificationPolicy(Options options) : options_(options) {}

    // Feeds one sample's level; true when a notification should go out now.
    bool shouldNotify(double timeSeconds, PressureLevel level);
    void setQuiet(bool quiet) { quiet_ = quiet; }
    bool quiet() const { return quiet_; }

  private:
    Options options_;
    bool quiet_ = false;
    PressureLevel candidate_ = PressureLevel::Normal;
    int held_ = 0;
    PressureLevel confirmed_ = PressureLevel::Normal;
    std::optional<PressureLevel> lastNotified_;
    double lastNotifiedAt_ = 0.0;
};

} // namespace headroom
