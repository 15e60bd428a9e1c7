#pragma once

#include <cstdint>
#include <string>

namespace headroom {

// "512 B", "12.0 KiB", "340 MiB", "17.2 GiB": one decimal above MiB.
std::string formatBytes(std::uint64_t bytes);
// "80%" for 0.8
std::string formatPercent(double fraction);
// "3.1 s", "4 min 12 s", "2 h 05 min"
std::string formatDuration(double seconds);

inline constexpr std::uint64_t KiB = 1024ull;
inline constexpr std::uint64_t MiB = 1024ull * KiB;
inline constexpr std::uint64_t GiB = 1024ull * MiB;

} // namespace headroom
