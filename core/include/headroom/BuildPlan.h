#pragma once

// What a build preset runs: the exact steps (program, arguments, environment,
// folder) for a cargo project, from the four strategies people use by hand
// when a build keeps dying (A release with one job, B debug, C staged,
// D free memory then A) plus Auto, which picks -j from the memory there is.
// Pure logic: the app runs the steps.

#include "headroom/Memory.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

enum class BuildPreset { A, B, C, D, Auto, Adaptive, Custom };

std::string_view presetId(BuildPreset preset); // "A", "B", "C", "D", "auto", "adaptive", "custom"
std::optional<BuildPreset> presetFromId(std::string_view id);
std::string_view presetTitle(BuildPreset preset);       // "A — Release, one job"
std::string_view presetExplanation(BuildPreset preset); // one or two plain sentences

enum class TargetKind { Default, Bin, Example, Lib };

struct BuildRequest {
    std::string projectDir; // holds Cargo.toml
    std::string package;    // -p, may be empty
    TargetKind targetKind = TargetKind::Default;
    std::string targetName;          // for Bin and Example
    std::string features;            // "a,b" as cargo takes them
    std::string profile = "release"; // release, dev, or a custom profile
    std::vector<std::string> extraArgs;
    std::vector<std::string> thenRun; // argv started after a successful build; may be empty
    std::string targetDir;            // where cargo writes; empty means <projectDir>/target
    std::string cargoProgram = "cargo";
    std::optional<unsigned> jobs; // -j asked for by the user (1..1024); unset: the preset decides
};

struct BuildStep {
    std::string title; // "Build the library", "Build example pyphi_validation"
    std::string program;
    std::vector<std::string> args;
    std::map<std::string, std::string> environment; // set on top of the inherited one
    std::string workingDir;
    // The --message-format Headroom adds to read cargo's JSON messages
    // ("json-diagnostic-rendered-ansi"); empty when it adds none (not a
    // cargo step, or the user chose a format in the extra arguments).
    std::string messageFormat;

    // The arguments the step runs with: `args`, and --message-format=<messageFormat>
    // before any "--" (what follows it is the program's).
    std::vector<std::string> commandArgs() const;
    // The step as one shell-quoted line, environment first, for people to copy:
    // without the message format, so that a terminal shows cargo's own text.
    std::string displayLine() const;
};

// Auto's choice of parallel jobs, with the arithmetic shown to the user.
struct JobsChoice {
    unsigned jobs = 1;
    std::string explanation; // "17.2 GiB for the build ÷ 2.0 GiB per job = 8, at most 8 CPUs → -j 8"
};

struct AutoJobsInput {
    std::uint64_t availableBytes = 0;               // MemAvailable now
    std::uint64_t reserveBytes = 1ull << 30;        // kept for the desktop and the editor
    std::optional<std::uint64_t> learnedPeakPerJob; // from this project's history
    std::uint64_t defaultPeakPerJob = 2ull << 30;
    unsigned cpus = 1;
};

JobsChoice chooseJobs(const AutoJobsInput& input);

struct BuildPlan {
    BuildPreset preset = BuildPreset::A;
    std::vector<BuildStep> steps;
    std::optional<unsigned> jobs; // what -j the build uses, when Headroom sets it
    std::string jobsExplanation;  // Auto only
    std::string profileDir;       // target/<profileDir>: "release", "debug", or the custom profile
    std::string artifactPath;     // the file a successful build leaves; empty for --lib/default
    bool freeMemoryFirst = false; // D: ask which heavy processes to pause or stop first
    std::string note;             // the trade-off, said plainly
    // Adaptive: the build draws from the job pool instead of a fixed -j;
    // Auto's choice is where its lane may start.
    bool usesPool = false;
    unsigned poolStartTokens = 0;
};

// The plan for a request. `jobs` is used by Auto (pass chooseJobs().jobs) and by
// Adaptive as its starting point.
BuildPlan planBuild(const BuildRequest& request, BuildPreset preset, std::optional<JobsChoice> autoJobs = {},
                    bool windows = false);

// The message format Headroom reads cargo's output in.
inline constexpr std::string_view kCargoMessageFormat = "json-diagnostic-rendered-ansi";
// Whether `cargo <subcommand>` takes --message-format (build, check, run,
// test, bench, rustc, doc, rustdoc, fix: clippy forwards it to check).
bool cargoTakesMessageFormat(std::string_view subcommand);
// Whether the arguments already say --message-format (before any "--").
bool hasMessageFormat(const std::vector<std::string>& args);

// target/<dir> for a cargo profile: dev and test build into "debug".
std::string profileDirectory(const std::string& profile);

// Splits "a b 'c d'" the way a shell would, without running one. Nullopt on an
// unmatched quote.
std::optional<std::vector<std::string>> splitArguments(const std::string& text);
// The headroom build command that runs `request` again with preset `next`
// (and -j `jobs` when given): the same target, package, features, profile,
// extra arguments and then-run, so pasting it builds the same thing.
std::vector<std::string> nextBuildCommand(const BuildRequest& request, BuildPreset next,
                                          std::optional<unsigned> jobs = {},
                                          const std::string& program = "headroom");
// The same as one line a shell runs as it reads: every word quoted.
std::string nextBuildCommandLine(const BuildRequest& request, BuildPreset next,
                                 std::optional<unsigned> jobs = {}, const std::string& program = "headroom");

// The other way: words joined with spaces, shell-quoted where needed, so that
// splitArguments gives them back unchanged.
std::string joinArguments(const std::vector<std::string>& words);

} // namespace headroom
