// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

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
    DashboardOptions options;
    QString error;        // non-empty: print it and exit with status 2
    bool exitNow = false; // --help or --version was printed
};

// Parses the dashboard's own options (QCommandLineParser). `arguments`
// includes the program name. Qt's own GUI options (-platform, -style...) are
// let through for QApplication.
ParsedCommandLine parseCommandLine(const QStringList& arguments);

} // namespace headroom::app
