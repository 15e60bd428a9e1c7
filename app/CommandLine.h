// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "cli/CommandLine.h"

#include <QSize>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace headroom::app {

// What the dashboard was asked to do on its command line.
struct DashboardOptions {
    std::optional<double> intervalSeconds;          // overrides the setting for this run
    QString screenshotPath;                         // render the window to this PNG and exit
    int screenshotAfter = 3;                        // ... after this many samples
    QSize windowSize;                               // empty: the default size
    QString settingsPath;                           // empty: the default settings file
    QString historyPath;                            // empty: the build history in the app-data folder
    QString colorScheme = QStringLiteral("system"); // "system", "light" or "dark"
    bool startHidden = false;                       // start in the tray, window closed
    bool verbose = false;
};

struct ParsedCommandLine {
    using Choice = cli::CommandLine::Choice;
    Choice choice = Choice::Exit;
    int exitCode = 2;         // Choice::Exit: 0 after --help or --version, 2 after a usage error
    QString error;            // non-empty: the usage error, ready to print on stderr
    bool exitNow = false;     // --help or --version was printed
    DashboardOptions options; // Choice::Dashboard
    // The parsed command line: runCommand() for Choice::Command,
    // buildOptions() for Choice::Build.
    std::shared_ptr<cli::CommandLine> commandLine;
};

// Parses `headroom`'s command line with the programs' one definition
// (cli/CommandLine): the CLI's commands, `build`, and the dashboard's flags.
// `arguments` excludes the program name. Qt's own GUI options (-platform,
// -style...) before any command are left for QApplication. --help and
// --version are printed to stdout.
ParsedCommandLine parseArguments(const std::vector<std::string>& arguments);

// The same, from a list that includes the program name (as QCoreApplication::arguments()).
ParsedCommandLine parseCommandLine(const QStringList& arguments);

DashboardOptions toDashboardOptions(const cli::DashboardFlags& flags);

} // namespace headroom::app
