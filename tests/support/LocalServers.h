// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Real servers on the loopback for the tests: a free port, a Prometheus of
// the test's own scraping one target, and stopping what a test started.

#include <QFile>
#include <QHostAddress>
#include <QProcess>
#include <QString>
#include <QTcpServer>

namespace headroom::test {

// A port nobody listens on now (a server started right after takes it).
inline quint16 freeLoopbackPort()
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

// SIGTERM, then SIGKILL after `graceMs`; always reaped.
inline void stopProcess(QProcess& process, int graceMs = 3000)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(graceMs)) {
        process.kill();
        process.waitForFinished(3000);
    }
}

inline const QString kPrometheusBinary = QStringLiteral("/usr/bin/prometheus");

// Starts Debian's Prometheus on 127.0.0.1:`port` scraping `target`
// ("127.0.0.1:9464") every second, with its configuration, storage and log in
// `folder`. False, and *why said, when it cannot start; the caller waits for
// /-/ready or the first scrape as it needs.
inline bool startPrometheus(QProcess& process, const QString& folder, const QString& target, quint16 port,
                            QString* why)
{
    if (!QFile::exists(kPrometheusBinary)) {
        *why = QStringLiteral("Prometheus is not installed (%1): scripts/dev.sh installs it")
                   .arg(kPrometheusBinary);
        return false;
    }
    QFile config(folder + QStringLiteral("/prometheus.yml"));
    if (!config.open(QIODevice::WriteOnly)) {
        *why = config.errorString();
        return false;
    }
    config.write(QStringLiteral("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                "scrape_configs:\n  - job_name: headroom\n    static_configs:\n"
                                "      - targets: ['%1']\n")
                     .arg(target)
                     .toUtf8());
    config.close();
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setStandardOutputFile(folder + QStringLiteral("/prometheus.log"));
    process.start(kPrometheusBinary,
                  {QStringLiteral("--config.file=") + config.fileName(),
                   QStringLiteral("--storage.tsdb.path=") + folder + QStringLiteral("/tsdb"),
                   QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(port),
                   QStringLiteral("--log.level=warn")});
    if (!process.waitForStarted(5000)) {
        *why = process.errorString();
        return false;
    }
    return true;
}

} // namespace headroom::test
