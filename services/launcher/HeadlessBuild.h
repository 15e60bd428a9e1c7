#pragma once

#include "headroom/HeadlessBuildOptions.h"

namespace headroom::services {

// `headroom build --project DIR --preset A|B|C|D|auto ...`: everything the
// launcher panel does, in a terminal. The options are parsed and checked by
// the programs' command line (cli/CommandLine). Needs a QCoreApplication.
// Returns the exit code, which mirrors the build's (128 + signal when it was
// killed); 2 when the request cannot be built as asked.
int runHeadlessBuild(const HeadlessBuildOptions& options);

} // namespace headroom::services
