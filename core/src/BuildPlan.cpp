// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildPlan.h"

#include "headroom/Units.h"

#include <algorithm>
#include <cctype>

namespace headroom {

namespace {

struct PresetWords {
    BuildPreset preset;
    std::string_view id;
    std::string_view title;
    std::string_view explanation;
};

constexpr PresetWords kPresets[] = {
    {BuildPreset::A, "A", "A — Release, one job",
     "One compiler at a time (CARGO_BUILD_JOBS=1): the lowest peak memory for an optimised build. Takes "
     "about 2-3 "
     "times longer than a parallel build."},
    {BuildPreset::B, "B", "B — Debug build",
     "No optimisation: uses much less memory and compiles faster, but the program runs about 10x slower. "
     "Good to "
     "check that it builds, not for long runs."},
    {BuildPreset::C, "C", "C — Staged: library first, then the target",
     "Builds the library, then the chosen target with the same profile and features, as two steps, so their "
     "peaks "
     "do not add up. The final link can still need a lot of memory."},
    {BuildPreset::D, "D", "D — Free memory, then A",
     "Lists the heaviest processes (tests and rustc first); you pick which to pause or stop, then preset A "
     "runs."},
    {BuildPreset::Auto, "auto", "Auto — jobs from free memory",
     "Picks the number of parallel jobs from the memory available now and the peak per job learned from this "
     "project's past builds."},
    {BuildPreset::Adaptive, "adaptive", "Adaptive — as parallel as memory allows",
     "Shares one memory-aware job pool with every build Headroom runs: a new job starts only when its "
     "learned peak fits the memory left (the container's limit, if there is one). Recommended."},
    {BuildPreset::Custom, "custom", "Custom",
     "A command you defined: program, arguments, environment and folder."},
};

const PresetWords& words(BuildPreset preset)
{
    for (const auto& w : kPresets) {
        if (w.preset == preset)
            return w;
    }
    return kPresets[0];
}

std::string quoted(const std::string& word)
{
    if (!word.empty() && word.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~!") == std::string::npos)
        return word;
    std::string out = "'";
    for (char c : word) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

void addProfile(std::vector<std::string>& args, const std::string& profile)
{
    if (profile == "release")
        args.push_back("--release");
    else if (profile != "dev" && !profile.empty())
        args.insert(args.end(), {"--profile", profile});
}

void addCommon(std::vector<std::string>& args, const BuildRequest& r)
{
    if (!r.package.empty())
        args.insert(args.end(), {"-p", r.package});
    if (!r.features.empty())
        args.insert(args.end(), {"--features", r.features});
}

void addTarget(std::vector<std::string>& args, const BuildRequest& r)
{
    switch (r.targetKind) {
    case TargetKind::Bin:
        args.insert(args.end(), {"--bin", r.targetName});
        break;
    case TargetKind::Example:
        args.insert(args.end(), {"--example", r.targetName});
        break;
    case TargetKind::Lib:
        args.push_back("--lib");
        break;
    case TargetKind::Default:
        break;
    }
}

std::string targetLabel(const BuildRequest& r)
{
    switch (r.targetKind) {
    case TargetKind::Bin:
        return "binary " + r.targetName;
    case TargetKind::Example:
        return "example " + r.targetName;
    case TargetKind::Lib:
        return "the library";
    case TargetKind::Default:
        break;
    }
    return r.package.empty() ? std::string("the default targets") : "package " + r.package;
}

BuildStep cargoStep(const BuildRequest& r, const std::string& title, std::vector<std::string> args)
{
    BuildStep step;
    step.title = title;
    step.program = r.cargoProgram;
    step.args = std::move(args);
    step.workingDir = r.projectDir;
    // Cargo draws its progress bar only on a terminal unless told otherwise;
    // Headroom reads it for the progress bar and the crates compiling now.
    step.environment["CARGO_TERM_PROGRESS_WHEN"] = "always";
    step.environment["CARGO_TERM_PROGRESS_WIDTH"] = "200";
    step.environment["CARGO_TERM_COLOR"] = "never";
    return step;
}

} // namespace

std::string_view presetId(BuildPreset preset)
{
    return words(preset).id;
}
std::string_view presetTitle(BuildPreset preset)
{
    return words(preset).title;
}
std::string_view presetExplanation(BuildPreset preset)
{
    return words(preset).explanation;
}

std::optional<BuildPreset> presetFromId(std::string_view id)
{
    std::string lower(id);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (lower == "a")
        return BuildPreset::A;
    if (lower == "b")
        return BuildPreset::B;
    if (lower == "c")
        return BuildPreset::C;
    if (lower == "d")
        return BuildPreset::D;
    if (lower == "auto")
        return BuildPreset::Auto;
    if (lower == "adaptive")
        return BuildPreset::Adaptive;
    if (lower == "custom")
        return BuildPreset::Custom;
    return std::nullopt;
}

bool cargoTakesMessageFormat(std::string_view subcommand)
{
    for (std::string_view s : {"build", "b", "check", "c", "clippy", "run", "r", "test", "t", "bench",
                               "rustc", "doc", "d", "rustdoc", "fix"}) {
        if (s == subcommand)
            return true;
    }
    return false;
}

bool hasMessageFormat(const std::vector<std::string>& args)
{
    for (const auto& a : args) {
        if (a == "--")
            return false;
        if (a == "--message-format" || a.starts_with("--message-format="))
            return true;
    }
    return false;
}

std::vector<std::string> BuildStep::commandArgs() const
{
    std::vector<std::string> out = args;
    if (messageFormat.empty())
        return out;
    const auto dashes = std::find(out.begin(), out.end(), std::string("--"));
    out.insert(dashes, "--message-format=" + messageFormat);
    return out;
}

std::string BuildStep::displayLine() const
{
    std::string line;
    for (const auto& [name, value] : environment) {
        line += name;
        line += '=';
        line += quoted(value);
        line += ' ';
    }
    line += quoted(program);
    for (const auto& a : args) {
        line += ' ';
        line += quoted(a);
    }
    return line;
}

std::string profileDirectory(const std::string& profile)
{
    if (profile.empty() || profile == "dev" || profile == "test")
        return "debug";
    if (profile == "bench")
        return "release";
    return profile;
}

JobsChoice chooseJobs(const AutoJobsInput& in)
{
    const std::uint64_t forBuild =
        in.availableBytes > in.reserveBytes ? in.availableBytes - in.reserveBytes : 0;
    const std::uint64_t perJob =
        std::max<std::uint64_t>(in.learnedPeakPerJob.value_or(in.defaultPeakPerJob), 64 * MiB);
    const std::uint64_t raw = forBuild / perJob;
    const unsigned cpus = std::max(1u, in.cpus);
    JobsChoice choice;
    choice.jobs = static_cast<unsigned>(std::clamp<std::uint64_t>(raw, 1, cpus));
    choice.explanation =
        formatBytes(in.availableBytes) + " available − " + formatBytes(in.reserveBytes) +
        " kept for the desktop = " + formatBytes(forBuild) + " for the build; ÷ " + formatBytes(perJob) +
        (in.learnedPeakPerJob ? " per job (the peak of past builds)" : " per job (no history yet)") + " = " +
        std::to_string(raw);
    if (raw < 1)
        choice.explanation += ", raised to 1";
    else if (raw > cpus)
        choice.explanation += ", capped at " + std::to_string(cpus) + " CPUs";
    choice.explanation += " → -j " + std::to_string(choice.jobs);
    return choice;
}

BuildPlan planBuild(const BuildRequest& r, BuildPreset preset, std::optional<JobsChoice> autoJobs,
                    bool windows)
{
    BuildPlan plan;
    plan.preset = preset;
    std::string profile = r.profile.empty() ? std::string("release") : r.profile;
    if ((preset == BuildPreset::A || preset == BuildPreset::D) && profile == "dev")
        profile = "release";
    if (preset == BuildPreset::B)
        profile = "dev";
    plan.profileDir = profileDirectory(profile);
    plan.note = std::string(presetExplanation(preset));

    std::vector<std::string> target{"build"};
    addCommon(target, r);
    addTarget(target, r);
    addProfile(target, profile);

    switch (preset) {
    case BuildPreset::A:
    case BuildPreset::D: {
        BuildStep step = cargoStep(r, "Build " + targetLabel(r) + " (one job)", target);
        step.environment["CARGO_BUILD_JOBS"] = "1";
        step.args.insert(step.args.end(), r.extraArgs.begin(), r.extraArgs.end());
        plan.steps.push_back(std::move(step));
        plan.jobs = 1;
        plan.freeMemoryFirst = preset == BuildPreset::D;
        break;
    }
    case BuildPreset::B:
    case BuildPreset::Auto: {
        BuildStep step = cargoStep(r, "Build " + targetLabel(r), target);
        if (preset == BuildPreset::Auto) {
            const JobsChoice choice = autoJobs.value_or(JobsChoice{1, "no memory figures: one job"});
            step.args.insert(step.args.end(), {"-j", std::to_string(choice.jobs)});
            plan.jobs = choice.jobs;
            plan.jobsExplanation = choice.explanation;
        }
        step.args.insert(step.args.end(), r.extraArgs.begin(), r.extraArgs.end());
        plan.steps.push_back(std::move(step));
        break;
    }
    case BuildPreset::Adaptive: {
        BuildStep step = cargoStep(r, "Build " + targetLabel(r), target);
        step.args.insert(step.args.end(), r.extraArgs.begin(), r.extraArgs.end());
        plan.steps.push_back(std::move(step));
        const JobsChoice choice = autoJobs.value_or(JobsChoice{1, "no memory figures: one job"});
        plan.usesPool = true;
        plan.poolStartTokens = choice.jobs > 0 ? choice.jobs - 1 : 0;
        plan.jobsExplanation = "The job pool gives jobs as memory allows; it may start at -j " +
                               std::to_string(choice.jobs) + " (" + choice.explanation + ").";
        break;
    }
    case BuildPreset::C: {
        std::vector<std::string> lib{"build"};
        addCommon(lib, r);
        lib.push_back("--lib");
        addProfile(lib, profile);
        lib.insert(lib.end(), r.extraArgs.begin(), r.extraArgs.end());
        plan.steps.push_back(cargoStep(r, "Step 1: build the library", lib));
        if (r.targetKind != TargetKind::Lib) {
            target.insert(target.end(), r.extraArgs.begin(), r.extraArgs.end());
            plan.steps.push_back(cargoStep(r, "Step 2: build " + targetLabel(r), target));
        }
        break;
    }
    case BuildPreset::Custom:
        plan.note = "A custom preset runs exactly the command it defines.";
        break;
    }

    if (r.jobs && preset == BuildPreset::Adaptive) {
        // The pool decides; the asked-for -j is where it starts, not a cap
        // cargo would enforce beside the pool.
        plan.poolStartTokens = *r.jobs > 0 ? *r.jobs - 1 : 0;
        plan.jobsExplanation = "The job pool gives jobs as memory allows; it may start at -j " +
                               std::to_string(*r.jobs) + ", as asked with --jobs.";
    } else if (r.jobs && preset != BuildPreset::Custom) {
        // The user's -j wins over the preset's: cargo reads the variable for
        // every step, and Auto's explicit -j is replaced.
        const std::string n = std::to_string(*r.jobs);
        for (auto& step : plan.steps) {
            step.environment["CARGO_BUILD_JOBS"] = n;
            for (std::size_t i = 0; i + 1 < step.args.size(); ++i) {
                if (step.args[i] == "-j")
                    step.args[i + 1] = n;
            }
        }
        plan.jobs = *r.jobs;
        if (preset == BuildPreset::Auto)
            plan.jobsExplanation = "-j " + n + ", as asked with --jobs";
    }

    // Errors and artifacts are read from cargo's JSON messages, unless the
    // user asked for a format of their own.
    for (auto& step : plan.steps) {
        if (!step.args.empty() && cargoTakesMessageFormat(step.args.front()) && !hasMessageFormat(step.args))
            step.messageFormat = std::string(kCargoMessageFormat);
    }

    const std::string targetDir = r.targetDir.empty() ? r.projectDir + "/target" : r.targetDir;
    const std::string exe = windows ? ".exe" : "";
    if (r.targetKind == TargetKind::Example && !r.targetName.empty())
        plan.artifactPath = targetDir + "/" + plan.profileDir + "/examples/" + r.targetName + exe;
    else if ((r.targetKind == TargetKind::Bin || r.targetKind == TargetKind::Default) &&
             !r.targetName.empty())
        plan.artifactPath = targetDir + "/" + plan.profileDir + "/" + r.targetName + exe;
    return plan;
}

std::vector<std::string> nextBuildCommand(const BuildRequest& r, BuildPreset next,
                                          std::optional<unsigned> jobs, const std::string& program)
{
    std::vector<std::string> argv{program,      "build",    "--project",
                                  r.projectDir, "--preset", std::string(presetId(next))};
    if (jobs)
        argv.insert(argv.end(), {"--jobs", std::to_string(*jobs)});
    if (!r.package.empty())
        argv.insert(argv.end(), {"--package", r.package});
    switch (r.targetKind) {
    case TargetKind::Bin:
        argv.insert(argv.end(), {"--bin", r.targetName});
        break;
    case TargetKind::Example:
        argv.insert(argv.end(), {"--example", r.targetName});
        break;
    case TargetKind::Lib:
        argv.push_back("--lib");
        break;
    case TargetKind::Default:
        break;
    }
    if (!r.features.empty())
        argv.insert(argv.end(), {"--features", r.features});
    if (!r.profile.empty() && r.profile != "release")
        argv.insert(argv.end(), {"--profile", r.profile});
    if (!r.extraArgs.empty())
        argv.insert(argv.end(), {"--args", joinArguments(r.extraArgs)});
    if (!r.thenRun.empty())
        argv.insert(argv.end(), {"--then-run", joinArguments(r.thenRun)});
    if (!r.cargoProgram.empty() && r.cargoProgram != "cargo")
        argv.insert(argv.end(), {"--cargo", r.cargoProgram});
    return argv;
}

std::string nextBuildCommandLine(const BuildRequest& r, BuildPreset next, std::optional<unsigned> jobs,
                                 const std::string& program)
{
    return joinArguments(nextBuildCommand(r, next, jobs, program));
}

std::string joinArguments(const std::vector<std::string>& words)
{
    std::string line;
    for (const auto& word : words) {
        if (!line.empty())
            line += ' ';
        line += quoted(word);
    }
    return line;
}

std::optional<std::vector<std::string>> splitArguments(const std::string& text)
{
    std::vector<std::string> out;
    std::string word;
    bool inWord = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                word += text[++i];
            } else {
                word += c;
            }
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            inWord = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
            inWord = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (inWord)
                out.push_back(word);
            word.clear();
            inWord = false;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (quote)
        return std::nullopt;
    if (inWord)
        out.push_back(word);
    return out;
}

} // namespace headroom
