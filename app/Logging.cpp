// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/Logging.h"

#include "headroom/SafeText.h"

#include <QDir>
#include <QStandardPaths>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <vector>

namespace headroom::app {
namespace {

void qtMessageToSpdlog(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    const std::string text = message.toStdString();
    const char* category =
        context.category && qstrcmp(context.category, "default") != 0 ? context.category : "qt";
    switch (type) {
    case QtDebugMsg:
        spdlog::debug("[{}] {}", category, text);
        break;
    case QtInfoMsg:
        spdlog::info("[{}] {}", category, text);
        break;
    case QtWarningMsg:
        // The offscreen and minimal platforms warn about every top-level
        // resize; that says nothing about Headroom.
        if (message.startsWith(QLatin1String("This plugin does not support")))
            spdlog::debug("[{}] {}", category, text);
        else
            spdlog::warn("[{}] {}", category, text);
        break;
    case QtCriticalMsg:
        spdlog::error("[{}] {}", category, text);
        break;
    case QtFatalMsg:
        spdlog::critical("[{}] {}", category, text);
        spdlog::shutdown();
        std::abort();
    }
}

// Log lines quote process names, commands and paths: a name holding ESC [2J
// or a newline must neither steer the terminal that shows stderr nor forge a
// line in the file. Every sink gets the message through safeText(), so no call
// site can forget it.
class SafeTextSink final : public spdlog::sinks::sink {
  public:
    explicit SafeTextSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) { set_level(inner_->level()); }

    void log(const spdlog::details::log_msg& msg) override
    {
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        if (isSafeText(payload, kMaxLine)) {
            inner_->log(msg);
            return;
        }
        const std::string safe = safeText(payload, kMaxLine);
        spdlog::details::log_msg copy = msg;
        copy.payload = spdlog::string_view_t(safe.data(), safe.size());
        inner_->log(copy);
    }
    void flush() override { inner_->flush(); }
    void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override
    {
        inner_->set_formatter(std::move(formatter));
    }

  private:
    static constexpr std::size_t kMaxLine = 16 * 1024;
    spdlog::sink_ptr inner_;
};

} // namespace

QString defaultLogDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

LoggingSetup initLogging(const QString& directory, bool verbose)
{
    LoggingSetup setup;
    std::vector<spdlog::sink_ptr> sinks;
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
    sinks.push_back(std::make_shared<SafeTextSink>(console));

    if (directory.isEmpty()) {
        setup.problem = QStringLiteral("no app-data folder is known on this system");
    } else if (!QDir().mkpath(directory)) {
        setup.problem = QStringLiteral("cannot create the log folder %1").arg(directory);
    } else {
        const QString path = QDir(directory).filePath(QStringLiteral("headroom.log"));
        try {
            // 5 MiB per file, 3 old files kept: a month of ordinary use.
            auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path.toStdString(),
                                                                               5 * 1024 * 1024, 3);
            file->set_level(spdlog::level::debug);
            sinks.push_back(std::make_shared<SafeTextSink>(file));
            setup.filePath = path;
        } catch (const spdlog::spdlog_ex& error) {
            setup.problem = QStringLiteral("cannot open %1: %2").arg(path, QString::fromUtf8(error.what()));
        }
    }

    auto logger = std::make_shared<spdlog::logger>("headroom", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    qInstallMessageHandler(qtMessageToSpdlog);

    if (!setup.problem.isEmpty())
        spdlog::warn("logging to stderr only: {}", setup.problem.toStdString());
    return setup;
}

void shutdownLogging()
{
    qInstallMessageHandler(nullptr);
    spdlog::shutdown();
}

} // namespace headroom::app
