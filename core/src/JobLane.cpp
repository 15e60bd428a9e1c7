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
//   with three tokens ran four at once, and so did `[build] jobs = 1` in
//   .cargo/config.toml. They are taken out all the same:
//   make given -j N on its command line starts a jobserver of its own.
// - cargo keeps a token for as long as it has queued work it can use it for:
//   a job that ends hands its token straight to the next one, and only when
//   fewer jobs can run than it holds tokens does it write one back. So a lane
//   steered down gets its tokens back at those points (a crate everything
//   else waits for, the end of the build), not when a job ends; pausing is
//   what takes effect at once.
// - MAKEFLAGS="-j8" (no --jobserver-auth in it) is no jobserver: cargo runs
//   its own.
// - Build scripts get CARGO_MAKEFLAGS "-j --jobserver-fds=fifo:PATH
//   --jobserver-auth=fifo:PATH" from cargo, and MAKEFLAGS as it was given.
// - GNU make 4.3 (Debian 12, Ubuntu 24.04) reads only the R,W descriptor
//   form and stops ("internal error: invalid --jobserver-auth string
//   'fifo:...'") when MAKEFLAGS names a fifo, and so does a make 4.3 that a
//   build script runs: cargo hands MAKEFLAGS on to build scripts unchanged,
//   and the cmake crate runs make with MAKEFLAGS set to cargo's
//   CARGO_MAKEFLAGS. make >= 4.4 and ninja >= 1.13 read fifo:.
//
// So a POSIX lane names both (PosixJobLane.cpp), measured with make 4.3 and
// cargo 1.95:
// - make 4.3 takes the last of --jobserver-auth= and --jobserver-fds= (one
//   option, two names): " -j --jobserver-auth=fifo:P --jobserver-fds=R,W"
//   ran its targets on the lane's tokens (none: one at a time; one: two),
//   the other order stopped with the error above. ninja >= 1.13 also takes
//   the last one (src/jobserver.cc) but serves only fifo: (it warns and runs
//   on its own -j), so no one MAKEFLAGS serves both; a build that stops is
//   worse than a ninja outside the pool, so the descriptors come last.
// - cargo given both forms in CARGO_MAKEFLAGS, in either order, opened the
//   fifo and handed build scripts CARGO_MAKEFLAGS "-j --jobserver-fds=fifo:P
//   --jobserver-auth=fifo:P", which make 4.3 cannot read. Given only
//   " -j --jobserver-auth=R,W" it follows the lane the same and hands them
//   "-j --jobserver-fds=R,W --jobserver-auth=R,W", with the descriptors
//   open. So CARGO_MAKEFLAGS names only the descriptors.
// - A build script that runs `make -j` (a -j of its own) gets no
//   jobserver from make 4.3 at all ("-j0 forced in submake: resetting
//   jobserver mode"): make runs every target at once. No environment can
//   change that; the lane only keeps it from failing.
#include "headroom/JobLane.h"

#include <algorithm>
#include <cctype>

namespace headroom {

namespace {

// The value of the last "--jobserver-fds=R,W" word in `flags`, or "".
std::string descriptorsIn(const std::string& flags)
{
    static const std::string key = "--jobserver-fds=";
    std::string found;
    std::size_t at = 0;
    while ((at = flags.find(key, at)) != std::string::npos) {
        if (at == 0 || flags[at - 1] == ' ' || flags[at - 1] == '\t') {
            const std::size_t start = at + key.size();
            const std::size_t end = flags.find_first_of(" \t", start);
            found = flags.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        at += key.size();
    }
    return found;
}

} // namespace

JobserverEnvironment jobserverEnvironment(const std::string& makeflags)
{
    JobserverEnvironment env;
    env.set["MAKEFLAGS"] = makeflags;
    const std::string fds = descriptorsIn(makeflags);
    env.set["CARGO_MAKEFLAGS"] = fds.empty() ? makeflags : " -j --jobserver-auth=" + fds;
    env.unset = {"MFLAGS", "CARGO_BUILD_JOBS"};
    return env;
}

JobserverEnvironment jobserverEnvironment(const JobLane& lane)
{
    JobserverEnvironment env = jobserverEnvironment(lane.makeflags());
    env.set["CARGO_MAKEFLAGS"] = lane.cargoMakeflags();
    return env;
}

namespace {

enum class Tool { Cargo, Make, Ninja, Other };

std::string lowered(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
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
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool startsWith(const std::string& text, const std::string& prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

std::vector<std::string> withoutJobsArguments(const std::string& program,
                                              const std::vector<std::string>& args,
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
