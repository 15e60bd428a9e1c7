// SPDX-License-Identifier: GPL-3.0-or-later
// A remote machine seen end to end through a real Prometheus: `headroom
// export` serves this machine's metrics, /usr/bin/prometheus scrapes it every
// second (its own temporary folder, loopback ports), and RemoteMachines reads
// the machine back with an instant query and its history with range queries.
#include "services/remote/RemoteMachines.h"
#include "support/LocalServers.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;
using namespace headroom::services;

namespace {

// The whole HTTP/1.0 answer, or empty.
QByteArray get(quint16 port, const QByteArray& path)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(500))
        return {};
    socket.write("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray answer;
    while (socket.waitForReadyRead(1000))
        answer += socket.readAll();
    return answer;
}

bool answers(quint16 port, const QByteArray& path)
{
    const QByteArray answer = get(port, path);
    return answer.startsWith("HTTP/1.") && answer.contains(" 200 ");
}

} // namespace

class TestRemotePrometheus : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        exporterPort_ = test::freeLoopbackPort();
        prometheusPort_ = test::freeLoopbackPort();
        QVERIFY(exporterPort_ && prometheusPort_ && exporterPort_ != prometheusPort_);

        const QString cli = qEnvironmentVariable("HEADROOM_CLI", QStringLiteral(HEADROOM_CLI_BIN));
        exporter_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        exporter_.start(cli, {QStringLiteral("export"), QStringLiteral("--listen"),
                              QStringLiteral("127.0.0.1:%1").arg(exporterPort_)});
        QVERIFY2(exporter_.waitForStarted(5000), qPrintable(exporter_.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(answers(exporterPort_, "/metrics"), 5000);

        QString why;
        QVERIFY2(test::startPrometheus(prometheus_, dir_.path(),
                                       QStringLiteral("127.0.0.1:%1").arg(exporterPort_), prometheusPort_,
                                       &why),
                 qPrintable(why));
        QTRY_VERIFY_WITH_TIMEOUT(answers(prometheusPort_, "/-/ready"), 5000);
        // Prometheus scrapes its first target some seconds after it is ready
        // (its discovery is throttled to 5 s); the machine is asked after that.
        QTRY_VERIFY_WITH_TIMEOUT(get(prometheusPort_, "/api/v1/query?query=up").contains(",\"1\"]"), 10000);
    }

    void machineIsReadThroughPrometheus()
    {
        RemoteMachines remote(nullptr);
        remote.setInterval(1);
        QSignalSpy views(&remote, &RemoteMachines::viewReady);
        QSignalSpy states(&remote, &RemoteMachines::stateChanged);
        QSignalSpy histories(&remote, &RemoteMachines::historyReady);
        MachineEntry entry;
        entry.id = QStringLiteral("this-one");
        entry.name = QStringLiteral("this machine");
        entry.url = QStringLiteral("http://127.0.0.1:%1/").arg(prometheusPort_);
        entry.instance = QStringLiteral("127.0.0.1:%1").arg(exporterPort_);
        remote.setMachines({entry});

        QTRY_VERIFY2_WITH_TIMEOUT(!views.isEmpty(), qPrintable(remote.state(entry.id).error), 3000);
        const auto view = views.first().at(1).value<MachineViewPtr>();
        QVERIFY(view);
        QCOMPARE(view->hostname, QSysInfo::machineHostName().toStdString());
        QVERIFY(view->snapshot.memory.total > 0);
        QVERIFY(view->snapshot.memory.used > 0 && view->snapshot.memory.used < view->snapshot.memory.total);
        QCOMPARE(remote.state(entry.id).reach, MachineReach::Up);

        // Range queries over the last minute: the scrapes so far, oldest first.
        QTest::qWait(1100);
        remote.setShown(entry.id);
        remote.setHistorySpan(60);
        QTRY_VERIFY_WITH_TIMEOUT(!histories.isEmpty(), 5000);
        const auto history = histories.last().at(1).value<MachineHistoryPtr>();
        QVERIFY(history);
        QVERIFY2(history->size() >= 1, "the scrapes so far");
        for (std::size_t i = 1; i < history->size(); ++i)
            QVERIFY(history->at(i - 1).wallMs < history->at(i).wallMs);
        QCOMPARE(history->back().memory.total, view->snapshot.memory.total);
    }

    void cleanupTestCase()
    {
        test::stopProcess(prometheus_);
        test::stopProcess(exporter_);
    }

  private:
    QTemporaryDir dir_;
    quint16 exporterPort_ = 0;
    quint16 prometheusPort_ = 0;
    QProcess exporter_;
    QProcess prometheus_;
};

QTEST_GUILESS_MAIN(TestRemotePrometheus)
#include "TestRemotePrometheus.moc"
