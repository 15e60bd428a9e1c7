#pragma once

#include <QStringList>

namespace headroom::services {

// `headroom build --project DIR --preset A|B|C|D|auto ...`: everything the
// launcher panel does, in a terminal. Needs a QCoreApplication. Returns the
// exit code, which mirrors the build's (128 + signal when it was killed).
int runHeadlessBuild(const QStringList& arguments);

} // namespace headroom::services
