#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace headroom {

// What a process is doing for a build. Order is the display order.
enum class ProcessRole {
    Cargo,       // cargo itself
    Rustc,       // rustc, rustdoc, clippy-driver
    BuildScript, // build-script-* of a crate
    Linker,      // ld, lld, mold, collect2, link.exe, or a C driver rustc uses to link
    Compiler,    // cc, gcc, g++, clang, cc1, cc1plus, ...
    Test,        // test binaries, test runners and their children
    BuildTool,   // make, ninja, cmake --build
    Other,
};

inline constexpr std::size_t kRoleCount = 8;
inline constexpr std::array<ProcessRole, kRoleCount> kAllRoles = {
    ProcessRole::Cargo,    ProcessRole::Rustc, ProcessRole::BuildScript, ProcessRole::Linker,
    ProcessRole::Compiler, ProcessRole::Test,  ProcessRole::BuildTool,   ProcessRole::Other,
};

constexpr std::size_t roleIndex(ProcessRole role)
{
    return static_cast<std::size_t>(role);
}

// Stable identifier used in JSON and settings: "cargo", "rustc", "build-script",
// "linker", "compiler", "test", "build-tool", "other".
std::string_view roleId(ProcessRole role);
std::optional<ProcessRole> roleFromId(std::string_view id);

// Singular and plural words for people: "rustc"/"rustc", "test process"/"test processes".
std::string_view roleNoun(ProcessRole role, bool plural);

// True for every role but Other.
constexpr bool isBuildRole(ProcessRole role)
{
    return role != ProcessRole::Other;
}

} // namespace headroom
