// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The one command-line definition of both programs (CLI11): `headroom-cli`
// (sample, top, stop) and `headroom` (the same commands, `build`, and the
// dashboard's own flags when no command is given). Every option is checked
// here, strictly, into plain structs; the programs only run what was chosen.

#include "cli/HeadroomCli.h"
#include "headroom/HeadlessBuildOptions.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace headroom::cli {

// Bounds the dashboard's flags are checked against (the app asserts they
// match its settings model).
inline constexpr double kDashboardMinIntervalSeconds = 0.5;
inline constexpr double kDashboardMaxIntervalSeconds = 10.0;
inline constexpr int kMaxScreenshotAfter = 100000;
inline constexpr int kMinWindowSide = 100;
inline constexpr int kMaxWindowSide = 8192;

// The dashboard's flags, checked; app/ turns them into its DashboardOptions.
struct DashboardFlags {
    std::optional<double> intervalSeconds; // overrides the setting for this run
    std::string screenshotPath;            // render the window to this PNG and exit
    int screenshotAfter = 3;               // ... after this many samples
    int windowWidth = 0;                   // 0: the default size (1366x768 with --screenshot)
    int windowHeight = 0;
    std::string settingsPath;
    std::string historyPath;
    std::string colorScheme = "system"; // system, light or dark
    bool startHidden = false;
    bool verbose = false;
};

class CommandLine {
  public:
    enum class Program {
        Cli,      // headroom-cli: sample, top, stop
        Dashboard // headroom: those, build, and the dashboard's flags
    };
    enum class Choice {
        Exit,      // --help or --version printed, or a usage error: exitCode()
        Command,   // sample, top or stop: runCommand()
        Build,     // headroom build: buildOptions()
        Dashboard, // headroom with no command: dashboardFlags()
    };

    explicit CommandLine(Program program);
    ~CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    // `args` excludes the program name. Help and version go to `out`; a usage
    // error goes to `err` as "<program>: <what>" plus a hint, and exitCode() is 2.
    Choice parse(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

    int exitCode() const;
    int runCommand(std::ostream& out, std::ostream& err) const;
    const HeadlessBuildOptions& buildOptions() const;
    const DashboardFlags& dashboardFlags() const;

    // The names of this program's commands, from the definition.
    std::vector<std::string> commandNames() const;
    const std::string& programName() const;

  private:
    struct State;
    std::unique_ptr<State> d;
};

// `headroom-cli ARGS`: parse, then run the command. Returns the exit code.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace headroom::cli
