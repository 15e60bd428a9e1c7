// SPDX-License-Identifier: GPL-3.0-or-later
// What every system's lane shares: the environment and the arguments that
// make a step draw from it, whatever it inherited.
//
// What cargo 1.95 does, measured with a fifo lane and six build scripts that
// sleep 1.5 s each (tests/core/TestJobLane.cpp repeats the decisive cases):
// - It reads the first of CARGO_MAKEFLAGS, MAKEFLAGS, MFLAGS that is set,
//   in that order, even when it is set to nothing: an empty CARGO_MAKEFLAGS
//   hid a MAKEFLAGS naming the lane, and cargo ran its own jobserver (-j
//   CPUs). That is what defeated an inherited lane; so the lane sets
//   CARGO_MAKEFLAGS and MAKEFLAGS itself and removes MFLAGS.
// - With an inherited jobserver, `-j N` and CARGO_BUILD_JOBS=N neither
//   replace it nor cap it: -j 8 with no token ran one job at a time, -j 1
//   with three tokens ran four at once. They are taken out all the same:
//   make given -j N on its command line starts a jobserver of its own.
// - MAKEFLAGS="-j8" (no --jobserver-auth in it) is no jobserver: cargo runs
//   its own.
// - Build scripts get CARGO_MAKEFLAGS "-j --jobserver-fds=fifo:PATH
//   --jobserver-auth=fifo:PATH" from cargo, and MAKEFLAGS as it was given.
// - GNU make 4.3 (Debian 12, Ubuntu 24.04) reads only the R,W descriptor
//   form and stops ("internal error: invalid --jobserver-auth string
//   'fifo:...'") when MAKEFLAGS names a fifo; make >= 4.4 and ninja >= 1.13
//   read it. So does a make 4.3 that a build script runs.
#include "headroom/JobLane.h"

#include <algorithm>
#include <cctype>

namespace headroom {

JobserverEnvironment jobserverEnvironment(const std::string& makeflags)
{
    JobserverEnvironment env;
    env.set["MAKEFLAGS"] = makeflags;
    env.set["CARGO_MAKEFLAGS"] = makeflags;
    env.unset = {"MFLAGS", "CARGO_BUILD_JOBS"};
    return env;
}

namespace {

enum class Tool { Cargo, Make, Ninja, Other };

std::string lowered(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

Tool toolOf(const std::string& program)
{
    std::string name = program;
    const auto slash = name.find_last_of("/\\");
    if (slash != std::string::npos)
        name = name.substr(slash + 1);
    name = lowered(name);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".exe") == 0)
        name.resize(name.size() - 4);
    if (name == "cargo")
        return Tool::Cargo;
    if (name == "make" || name == "gmake" || name == "mingw32-make")
        return Tool::Make;
    if (name == "ninja")
        return Tool::Ninja;
    return Tool::Other;
}

bool allDigits(const std::string& text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool startsWith(const std::string& text, const std::string& prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

std::vector<std::string> withoutJobsArguments(const std::string& program, const std::vector<std::string>& args,
                                              std::vector<std::string>* removed)
{
    const Tool tool = toolOf(program);
    if (tool == Tool::Other)
        return args;
    // `cargo nextest run -j N` sets test threads, not build jobs: there the
    // build's count is --build-jobs.
    std::string longOption = "--jobs";
    bool shortOption = true;
    if (tool == Tool::Cargo) {
        for (const auto& arg : args) {
            if (arg.empty() || arg[0] == '-' || arg[0] == '+')
                continue;
            if (arg == "nextest") {
                longOption = "--build-jobs";
                shortOption = false;
            }
            break;
        }
    }

    std::vector<std::string> kept;
    kept.reserve(args.size());
    auto drop = [&](std::string text) {
        if (removed)
            removed->push_back(std::move(text));
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") { // what follows is the program's or rustc's
            kept.insert(kept.end(), args.begin() + std::ptrdiff_t(i), args.end());
            break;
        }
        const bool hasNext = i + 1 < args.size() && args[i + 1] != "--";
        if (shortOption && arg == "-j") {
            // cargo and ninja always take a value (cargo also "-1", "default");
            // make's is optional and only a number.
            if (hasNext && (tool != Tool::Make || allDigits(args[i + 1]))) {
                drop(arg + " " + args[i + 1]);
                ++i;
            } else {
                drop(arg);
            }
            continue;
        }
        if (shortOption && startsWith(arg, "-j") && arg.size() > 2) {
            drop(arg);
            continue;
        }
        if (arg == longOption) {
            if (hasNext && (tool != Tool::Make || allDigits(args[i + 1]))) {
                drop(arg + " " + args[i + 1]);
                ++i;
            } else {
                drop(arg);
            }
            continue;
        }
        if (startsWith(arg, longOption + "=")) {
            drop(arg);
            continue;
        }
        kept.push_back(arg);
    }
    return kept;
}

} // namespace headroom
