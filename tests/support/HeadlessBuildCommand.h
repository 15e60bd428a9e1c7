// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

namespace headroom::test {

// `headroom build ARGUMENTS` in this process: parsed by the programs' own
// command line (cli/CommandLine), run by services::runHeadlessBuild. Needs a
// QCoreApplication. Returns the exit code the program would have.
int runHeadlessBuild(const QStringList& arguments);

} // namespace headroom::test
