// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/HeadlessBuildCommand.h"

#include "cli/CommandLine.h"
#include "services/launcher/HeadlessBuild.h"

#include <iostream>
#include <string>
#include <vector>

namespace headroom::test {

int runHeadlessBuild(const QStringList& arguments)
{
    std::vector<std::string> args{"build"};
    for (const QString& argument : arguments)
        args.push_back(argument.toStdString());
    cli::CommandLine commandLine(cli::CommandLine::Program::Dashboard);
    if (commandLine.parse(args, std::cout, std::cerr) != cli::CommandLine::Choice::Build)
        return commandLine.exitCode();
    return services::runHeadlessBuild(commandLine.buildOptions());
}

} // namespace headroom::test
