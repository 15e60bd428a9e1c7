// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/CommandLine.h"
#include "app/Dashboard.h"
#include "app/Logging.h"
#include "headroom/Version.h"
#include "services/launcher/HeadlessBuild.h"
#include "ui/MainWindow.h"

#include <QApplication>
#include <QSocketNotifier>
#include <QStyle>
#include <QStyleFactory>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <iostream>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

namespace {

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31);
    const QColor base(0x1f, 0x21, 0x24);
    const QColor text(0xe6, 0xe6, 0xe6);
    const QColor disabled(0x80, 0x84, 0x8a);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x27, 0x29, 0x2d));
    p.setColor(QPalette::ToolTipBase, QColor(0x35, 0x37, 0x3c));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0xa0, 0xa4, 0xaa));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4e));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3d, 0x42));
    p.setColor(QPalette::Mid, QColor(0x30, 0x32, 0x36));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xc9));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa8, 0xf0));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

void applyColorScheme(QApplication& app, const QString& scheme)
{
    if (scheme == QLatin1String("system"))
        return;
    // Fusion draws every widget from the palette, so a forced scheme looks whole.
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    app.setPalette(scheme == QLatin1String("dark") ? darkPalette() : app.style()->standardPalette());
}

#ifdef Q_OS_UNIX
// SIGTERM (logout, `kill`) and SIGINT (Ctrl+C) end the event loop, so the
// dashboard shuts down in order: the processes Headroom paused are resumed and
// the window layout is saved. The handler only writes a byte to a socket.
int signalPipe[2] = {-1, -1};

void onQuitSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(signalPipe[0], &byte, 1);
}

void quitOnSignals(QApplication& app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signalPipe) != 0)
        return;
    auto* notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [] {
        char byte = 0;
        [[maybe_unused]] const auto got = ::read(signalPipe[1], &byte, 1);
        spdlog::info("asked to quit by a signal");
        // exit(), not quit(): Qt's quit() first asks every window to close,
        // and with a tray the window's close only hides it.
        QCoreApplication::exit(0);
    });
    struct sigaction action = {};
    action.sa_handler = onQuitSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
}
#endif

} // namespace

int main(int argc, char* argv[])
{
    // One command-line definition for every command and the dashboard's
    // flags (cli/CommandLine). It is read before any Qt application exists,
    // so --help, --version and the commands work without a display.
    const std::vector<std::string> arguments(argv + 1, argv + argc);
    const headroom::app::ParsedCommandLine parsed = headroom::app::parseArguments(arguments);
    using Choice = headroom::app::ParsedCommandLine::Choice;
    switch (parsed.choice) {
    case Choice::Exit:
        std::cerr << parsed.error.toLocal8Bit().constData();
        return parsed.exitCode;
    case Choice::Command: // sample, top, stop: the core's commands, no Qt at all
        return parsed.commandLine->runCommand(std::cout, std::cerr);
    case Choice::Build: { // the launcher without a window
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("headroom"));
        return headroom::services::runHeadlessBuild(parsed.commandLine->buildOptions());
    }
    case Choice::Dashboard:
        break;
    }

    QCoreApplication::setApplicationName(QStringLiteral("headroom"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HEADROOM_VERSION));
    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("Headroom"));
    QApplication::setDesktopFileName(QStringLiteral("io.github.headroom_app.Headroom"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/headroom.svg")));

    const headroom::app::LoggingSetup logging =
        headroom::app::initLogging(headroom::app::defaultLogDirectory(), parsed.options.verbose);
    spdlog::info("Headroom {} starting (Qt {}, platform {})", HEADROOM_VERSION, qVersion(),
                 QApplication::platformName().toStdString());
    if (!logging.filePath.isEmpty())
        spdlog::info("log file {}", logging.filePath.toStdString());

    applyColorScheme(app, parsed.options.colorScheme);
#ifdef Q_OS_UNIX
    quitOnSignals(app);
#endif

    int exitCode = 0;
    {
        headroom::app::Dashboard dashboard(parsed.options);
        QObject::connect(&dashboard, &headroom::app::Dashboard::finished, &app, [&](int code) {
            exitCode = code;
            QApplication::exit(code);
        });
        if (!logging.filePath.isEmpty())
            dashboard.window()->showMessage(headroom::ui::ActivityLog::Severity::Info,
                                            QStringLiteral("Headroom %1 started; the log is %2")
                                                .arg(QStringLiteral(HEADROOM_VERSION), logging.filePath));
        if (!logging.problem.isEmpty())
            dashboard.window()->showMessage(headroom::ui::ActivityLog::Severity::Warning,
                                            QStringLiteral("No log file: %1").arg(logging.problem));
        dashboard.start();
        const int loopCode = QApplication::exec();
        if (exitCode == 0)
            exitCode = loopCode;
    }
    spdlog::info("Headroom exits with status {}", exitCode);
    headroom::app::shutdownLogging();
    return exitCode;
}
