// SPDX-License-Identifier: GPL-3.0-or-later
// The dashboard following a remote machine: a Headroom exporter of the
// test's own (a loopback HTTP server answering /metrics with the core's
// rendering of a machine at the critical level) is polled by the real
// RemoteMachines; the tray turns red and names the machine, a notification
// names it, the window's switcher shows it up, and a machine that is not
// followed changes nothing.
#include "app/Dashboard.h"
#include "app/desktop/DesktopIntegration.h"
#include "headroom/MachineMetrics.h"
#include "headroom/Units.h"
#include "services/remote/RemoteMachines.h"
#include "ui/MainWindow.h"

#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;
using namespace headroom::app;

namespace {

class RecordingDesktop : public DesktopIntegration {
    Q_OBJECT
  public:
    bool isTrayAvailable() const override { return true; }
    void setTrayStatus(const TrayStatus& status) override { statuses << status; }
    void notify(const DesktopNotification& notification) override { notifications << notification; }
    QList<TrayStatus> statuses;
    QList<DesktopNotification> notifications;
};

// Answers every request with the metrics of a 16 GiB machine with 0.5 GiB
// available, critical, a fresh timestamp each time; counts the requests.
class FakeExporter : public QObject {
    Q_OBJECT
  public:
    bool listen() { return server_.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return server_.serverPort(); }
    int requests = 0;

    FakeExporter()
    {
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* socket = server_.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    if (!socket->readAll().contains("\r\n\r\n"))
                        return;
                    ++requests;
                    const QByteArray body = QByteArray::fromStdString(metrics());
                    socket->write(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                        QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
                    socket->disconnectFromHost();
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

  private:
    static std::string metrics()
    {
        Snapshot s;
        s.wallMs = QDateTime::currentMSecsSinceEpoch();
        s.memory.total = 16 * GiB;
        s.memory.available = 512 * MiB;
        s.memory.used = s.memory.total - s.memory.available;
        s.roleTotals[roleIndex(ProcessRole::Rustc)] = {ProcessRole::Rustc, 6, 12 * GiB};
        MachineMetricsInputs in;
        in.snapshot = &s;
        in.level = {PressureLevel::Critical, "only 3% of RAM is available"};
        in.hostname = "buildbox";
        in.version = "test";
        return renderMachineMetrics(in);
    }
    QTcpServer server_;
};

} // namespace

class TestDashboardRemote : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::unique_ptr<Dashboard> make(bool follow, quint16 port, RecordingDesktop*& desktop)
    {
        const QString path = dir_.filePath(QStringLiteral("%1/headroom.conf").arg(follow ? "follow" : "not"));
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return nullptr;
        file.write(QStringLiteral("[machines]\n1\\id=buildbox\n1\\name=buildbox\n1\\kind=exporter\n"
                                  "1\\url=http://127.0.0.1:%1/metrics\n1\\followInTray=%2\nsize=1\n")
                       .arg(port)
                       .arg(follow ? "true" : "false")
                       .toUtf8());
        file.close();
        DashboardOptions options;
        options.settingsPath = path;
        options.historyPath = QFileInfo(path).absolutePath() + QStringLiteral("/history.sqlite");
        auto recording = std::make_unique<RecordingDesktop>();
        desktop = recording.get();
        auto dashboard = std::make_unique<Dashboard>(options, std::move(recording));
        dashboard->remote()->setInterval(1.0);
        return dashboard;
    }

  private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        // The credential store is the file in this folder, never a real keyring.
        qputenv("XDG_CONFIG_HOME", dir_.filePath(QStringLiteral("config")).toUtf8());
        qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    }

    void theTrayFollowsAFollowedMachine()
    {
        FakeExporter exporter;
        QVERIFY(exporter.listen());
        RecordingDesktop* desktop = nullptr;
        auto dashboard = make(true, exporter.port(), desktop);
        QVERIFY(dashboard);
        dashboard->start();

        QTRY_VERIFY_WITH_TIMEOUT(
            !desktop->statuses.isEmpty() && desktop->statuses.last().level == PressureLevel::Critical, 8000);
        const TrayStatus& status = desktop->statuses.last();
        QVERIFY2(status.tooltip.startsWith(QStringLiteral("Headroom: buildbox: critical, only 3% of RAM")),
                 qPrintable(status.tooltip));
        QCOMPARE(dashboard->window()->machineSwitcher()->itemText(1), QStringLiteral("buildbox · up"));

        // Two readings at the level: told once, with the machine's name.
        const auto machineNotes = [&] {
            QList<DesktopNotification> found;
            for (const DesktopNotification& n : desktop->notifications)
                if (n.kind == DesktopNotification::Kind::Machine)
                    found << n;
            return found;
        };
        QTRY_VERIFY_WITH_TIMEOUT(!machineNotes().isEmpty(), 8000);
        QCOMPARE(machineNotes().first().urgency, PressureLevel::Critical);
        QCOMPARE(machineNotes().first().title,
                 QStringLiteral("buildbox: memory is critical, 512 MiB available"));
        QVERIFY2(machineNotes().first().body.contains(QStringLiteral("rustc")),
                 qPrintable(machineNotes().first().body));
        QVERIFY(exporter.requests >= 2);
    }

    void aMachineNotFollowedChangesNothing()
    {
        FakeExporter exporter;
        QVERIFY(exporter.listen());
        RecordingDesktop* desktop = nullptr;
        auto dashboard = make(false, exporter.port(), desktop);
        QVERIFY(dashboard);
        dashboard->start();
        QTRY_VERIFY_WITH_TIMEOUT(exporter.requests >= 2, 8000);
        QTRY_COMPARE_WITH_TIMEOUT(dashboard->window()->machineSwitcher()->itemText(1),
                                  QStringLiteral("buildbox · up"), 3000);
        QVERIFY(!desktop->statuses.isEmpty());
        QVERIFY(!desktop->statuses.last().tooltip.contains(QStringLiteral("buildbox")));
        for (const DesktopNotification& n : desktop->notifications)
            QVERIFY(n.kind != DesktopNotification::Kind::Machine);
    }
};

QTEST_MAIN(TestDashboardRemote)
#include "TestDashboardRemote.moc"
