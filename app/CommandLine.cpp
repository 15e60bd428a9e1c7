// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/CommandLine.h"

#include "services/DashboardSettings.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QRegularExpression>

#include <cstdio>

namespace headroom::app {

namespace {
// Samples are seconds apart: a day of them is more than any screenshot needs,
// and far from where a sample counter could overflow.
constexpr int kMaxScreenshotAfter = 100000;
constexpr int kMinWindowSide = 100;
constexpr int kMaxWindowSide = 8192;
} // namespace

ParsedCommandLine parseCommandLine(const QStringList& arguments)
{
    ParsedCommandLine parsed;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Headroom: watch memory, see which build eats it, stop the right thing.\n\n"
                       "Without a command it opens the dashboard. Commands that need no display:\n"
                       "  headroom sample [--json]      one snapshot of memory, builds and processes\n"
                       "  headroom top                  the heaviest processes with their roles\n"
                       "  headroom stop ...             stop processes or runaway builds safely\n"
                       "  headroom build --project DIR  build with a memory-safe preset (A, B, C, D, auto)\n"
                       "Run `headroom <command> --help` for a command's options."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption interval(QStringLiteral("interval"),
                                      QStringLiteral("Refresh every SECONDS (0.5 to 10) for this run."),
                                      QStringLiteral("SECONDS"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the window to the PNG FILE and exit."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption after(QStringLiteral("after"),
                                   QStringLiteral("With --screenshot: wait for N samples first (default 3)."),
                                   QStringLiteral("N"));
    const QCommandLineOption size(
        QStringLiteral("size"),
        QStringLiteral("Window size WIDTHxHEIGHT (--screenshot defaults to 1366x768)."),
        QStringLiteral("WxH"));
    const QCommandLineOption settings(
        QStringLiteral("settings"), QStringLiteral("Read and write settings in FILE instead of the default."),
        QStringLiteral("FILE"));
    const QCommandLineOption history(
        QStringLiteral("history"),
        QStringLiteral("Keep the build history in FILE instead of the app-data folder."),
        QStringLiteral("FILE"));
    const QCommandLineOption scheme(QStringLiteral("color-scheme"),
                                    QStringLiteral("Palette: system (default), light or dark."),
                                    QStringLiteral("SCHEME"));
    const QCommandLineOption verbose(QStringList{QStringLiteral("verbose")},
                                     QStringLiteral("Log debug messages to stderr too."));
    const QCommandLineOption hidden(QStringLiteral("hidden"),
                                    QStringLiteral("Start in the system tray without opening the window "
                                                   "(the window opens when there is no tray)."));
    parser.addOptions({interval, screenshot, after, size, settings, history, scheme, hidden, verbose});

    // Qt's own GUI options (and their values) are meant for QApplication.
    static const QStringList qtOptionsWithValue = {QStringLiteral("platform"),
                                                   QStringLiteral("platformtheme"),
                                                   QStringLiteral("platformpluginpath"),
                                                   QStringLiteral("style"),
                                                   QStringLiteral("stylesheet"),
                                                   QStringLiteral("display"),
                                                   QStringLiteral("geometry"),
                                                   QStringLiteral("qwindowgeometry"),
                                                   QStringLiteral("qwindowtitle"),
                                                   QStringLiteral("qwindowicon"),
                                                   QStringLiteral("session"),
                                                   QStringLiteral("plugin")};
    static const QStringList qtFlags = {QStringLiteral("reverse"), QStringLiteral("widgetcount"),
                                        QStringLiteral("nograb"), QStringLiteral("dograb"),
                                        QStringLiteral("sync")};
    QStringList ours;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString& argument = arguments[i];
        QString name = argument;
        while (name.startsWith(QLatin1Char('-')))
            name.remove(0, 1);
        const bool isOption = i > 0 && argument.startsWith(QLatin1Char('-'));
        if (isOption && qtOptionsWithValue.contains(name.section(QLatin1Char('='), 0, 0))) {
            if (!name.contains(QLatin1Char('=')))
                ++i; // its value
            continue;
        }
        if (isOption && qtFlags.contains(name))
            continue;
        ours << argument;
    }
    if (!parser.parse(ours)) {
        parsed.error = parser.errorText();
        return parsed;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        // Read before QCoreApplication exists, Qt does not know the program's name yet.
        QString help = parser.helpText();
        help.replace(QStringLiteral("<executable_name>"), QStringLiteral("headroom"));
        std::fputs(qPrintable(help), stdout);
        parsed.exitNow = true;
        return parsed;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        std::printf("%s %s\n", qPrintable(QCoreApplication::applicationName()),
                    qPrintable(QCoreApplication::applicationVersion()));
        parsed.exitNow = true;
        return parsed;
    }

    DashboardOptions& o = parsed.options;
    if (parser.isSet(interval)) {
        bool ok = false;
        const double seconds = parser.value(interval).toDouble(&ok);
        // Written so that NaN, which compares false to everything, fails too.
        if (!ok || !(seconds >= services::DashboardSettings::kMinIntervalSeconds &&
                     seconds <= services::DashboardSettings::kMaxIntervalSeconds)) {
            parsed.error = QStringLiteral("--interval wants seconds between 0.5 and 10, not \"%1\"")
                               .arg(parser.value(interval));
            return parsed;
        }
        o.intervalSeconds = seconds;
    }
    o.screenshotPath = parser.value(screenshot);
    if (parser.isSet(after)) {
        bool ok = false;
        o.screenshotAfter = parser.value(after).toInt(&ok);
        if (!ok || o.screenshotAfter < 1 || o.screenshotAfter > kMaxScreenshotAfter) {
            parsed.error = QStringLiteral("--after wants a number of samples from 1 to %1, not \"%2\"")
                               .arg(QString::number(kMaxScreenshotAfter), parser.value(after));
            return parsed;
        }
        if (o.screenshotPath.isEmpty()) {
            parsed.error = QStringLiteral("--after only makes sense with --screenshot FILE");
            return parsed;
        }
    }
    if (parser.isSet(size)) {
        const QRegularExpressionMatch match =
            QRegularExpression(QStringLiteral("^(\\d{3,5})x(\\d{3,5})$")).match(parser.value(size));
        if (!match.hasMatch()) {
            parsed.error = QStringLiteral("--size wants WIDTHxHEIGHT such as 1366x768, not \"%1\"")
                               .arg(parser.value(size));
            return parsed;
        }
        const QSize wanted(match.captured(1).toInt(), match.captured(2).toInt());
        // The window's backing store grows with the area: 99999x99999 is tens of GB.
        if (wanted.width() < kMinWindowSide || wanted.height() < kMinWindowSide ||
            wanted.width() > kMaxWindowSide || wanted.height() > kMaxWindowSide) {
            parsed.error = QStringLiteral("--size wants each side from %1 to %2 pixels, not \"%3\"")
                               .arg(QString::number(kMinWindowSide), QString::number(kMaxWindowSide),
                                    parser.value(size));
            return parsed;
        }
        o.windowSize = wanted;
    } else if (!o.screenshotPath.isEmpty()) {
        o.windowSize = QSize(1366, 768);
    }
    o.settingsPath = parser.value(settings);
    o.historyPath = parser.value(history);
    if (parser.isSet(scheme)) {
        o.colorScheme = parser.value(scheme).toLower();
        if (o.colorScheme != QLatin1String("system") && o.colorScheme != QLatin1String("light") &&
            o.colorScheme != QLatin1String("dark")) {
            parsed.error = QStringLiteral("--color-scheme wants system, light or dark, not \"%1\"")
                               .arg(parser.value(scheme));
            return parsed;
        }
    }
    o.verbose = parser.isSet(verbose);
    o.startHidden = parser.isSet(hidden);
    if (o.startHidden && !o.screenshotPath.isEmpty()) {
        parsed.error =
            QStringLiteral("--hidden and --screenshot cannot go together: a screenshot needs the window");
        return parsed;
    }
    if (!parser.positionalArguments().isEmpty()) {
        parsed.error = QStringLiteral("unknown command \"%1\"; the commands are sample, top, stop and build")
                           .arg(parser.positionalArguments().constFirst());
        return parsed;
    }
    return parsed;
}

} // namespace headroom::app
