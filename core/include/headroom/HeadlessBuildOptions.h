// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The options of `headroom build`, as the command line gave them: the CLI's
// parser (cli/CommandLine) fills and checks them, the headless build (Qt
// Core, services/launcher/HeadlessBuild) runs them. Plain data, so neither
// side needs the other.

#include <cstdint>
#include <optional>
#include <string>

namespace headroom {

struct HeadlessBuildOptions {
    std::string project;                     // --project: the folder that holds Cargo.toml
    std::string preset = "A";                // --preset: A, B, C, D or auto (checked)
    std::string package;                     // -p/--package
    std::string example;                     // --example (wins over --bin and --lib)
    std::string bin;                         // --bin
    bool lib = false;                        // --lib
    std::string features;                    // --features, comma-separated
    std::string profile = "release";         // --profile
    std::optional<std::string> extraArgs;    // --args, one string, split by the build
    std::optional<std::string> thenRun;      // --then-run, one string, split by the build
    bool waitForMemory = false;              // --wait-for-memory
    double maxUsedPercent = 80.0;            // --max-used, 1..100
    std::optional<double> needGiB;           // --need, (0, 65536]
    std::string historyPath;                 // --history; empty: the app-data folder
    std::string cargoProgram = "cargo";      // --cargo
    std::optional<unsigned> jobs;            // --jobs, 1..1024
    int oomScoreAdj = 500;                   // --oom-score-adj, 0..1000
    std::string onInterrupt = "ask";         // --on-interrupt: ask, stop or leave (checked)
    std::optional<std::uint64_t> memoryHigh; // --memory-high, bytes
    std::optional<std::uint64_t> memoryMax;  // --memory-max, bytes
};

} // namespace headroom
