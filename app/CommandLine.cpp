// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/CommandLine.h"

#include "services/DashboardSettings.h"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace headroom::app {

static_assert(cli::kDashboardMinIntervalSeconds == services::DashboardSettings::kMinIntervalSeconds &&
                  cli::kDashboardMaxIntervalSeconds == services::DashboardSettings::kMaxIntervalSeconds,
              "the command line checks --interval against the settings' bounds");

namespace {

// Qt's own GUI options (and their values) are meant for QApplication, which
// reads them from argv itself; they are only looked for before a command.
std::vector<std::string> withoutQtOptions(const std::vector<std::string>& arguments,
                                          const std::vector<std::string>& commands)
{
    static const std::vector<std::string> withValue = {
        "platform", "platformtheme",   "platformpluginpath", "style",       "stylesheet", "display",
        "geometry", "qwindowgeometry", "qwindowtitle",       "qwindowicon", "session",    "plugin"};
    static const std::vector<std::string> flags = {"reverse", "widgetcount", "nograb", "dograb", "sync"};
    const auto has = [](const std::vector<std::string>& list, const std::string& name) {
        return std::find(list.begin(), list.end(), name) != list.end();
    };
    std::vector<std::string> ours;
    bool inCommand = false;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        inCommand = inCommand || has(commands, argument);
        if (!inCommand && argument.size() > 1 && argument.front() == '-') {
            std::string name = argument.substr(argument.find_first_not_of('-'));
            const auto equals = name.find('=');
            if (has(withValue, name.substr(0, equals))) {
                if (equals == std::string::npos)
                    ++i; // its value
                continue;
            }
            if (has(flags, name))
                continue;
        }
        ours.push_back(argument);
    }
    return ours;
}

} // namespace

DashboardOptions toDashboardOptions(const cli::DashboardFlags& flags)
{
    DashboardOptions o;
    o.intervalSeconds = flags.intervalSeconds;
    o.screenshotPath = QString::fromLocal8Bit(flags.screenshotPath);
    o.screenshotAfter = flags.screenshotAfter;
    if (flags.windowWidth > 0 && flags.windowHeight > 0)
        o.windowSize = QSize(flags.windowWidth, flags.windowHeight);
    o.settingsPath = QString::fromLocal8Bit(flags.settingsPath);
    o.historyPath = QString::fromLocal8Bit(flags.historyPath);
    o.colorScheme = QString::fromStdString(flags.colorScheme);
    o.startHidden = flags.startHidden;
    o.verbose = flags.verbose;
    return o;
}

ParsedCommandLine parseArguments(const std::vector<std::string>& arguments)
{
    ParsedCommandLine parsed;
    parsed.commandLine = std::make_shared<cli::CommandLine>(cli::CommandLine::Program::Dashboard);
    std::ostringstream problems;
    parsed.choice = parsed.commandLine->parse(withoutQtOptions(arguments, parsed.commandLine->commandNames()),
                                              std::cout, problems);
    parsed.exitCode = parsed.commandLine->exitCode();
    parsed.error = QString::fromLocal8Bit(problems.str());
    parsed.exitNow = parsed.choice == ParsedCommandLine::Choice::Exit && parsed.exitCode == 0;
    if (parsed.choice == ParsedCommandLine::Choice::Exit && parsed.exitCode != 0 && parsed.error.isEmpty())
        parsed.error = QStringLiteral("headroom: bad arguments\n");
    if (parsed.choice == ParsedCommandLine::Choice::Dashboard)
        parsed.options = toDashboardOptions(parsed.commandLine->dashboardFlags());
    return parsed;
}

ParsedCommandLine parseCommandLine(const QStringList& arguments)
{
    std::vector<std::string> args;
    for (qsizetype i = 1; i < arguments.size(); ++i)
        args.push_back(arguments[i].toLocal8Bit().toStdString());
    return parseArguments(args);
}

} // namespace headroom::app
