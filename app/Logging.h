// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace headroom::app {

struct LoggingSetup {
    QString filePath; // the rotating log file, empty when it could not be opened
    QString problem;  // why there is no log file, in words
};

// Sends spdlog to a rotating file in `directory` (created when missing) and to
// stderr, and bridges Qt's own messages (qDebug, qWarning, ...) into it.
// Without a usable directory it logs to stderr only and says why.
LoggingSetup initLogging(const QString& directory, bool verbose);

// Flushes and drops the loggers; call before the process exits.
void shutdownLogging();

// The default folder for the log: the platform's app-data location.
QString defaultLogDirectory();

} // namespace headroom::app
