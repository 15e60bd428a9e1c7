// SPDX-License-Identifier: GPL-3.0-or-later
// A remote machine in the window: the switcher, the banner, its figures,
// builds and charts shown read-only, the process table's note, and this
// machine's view back at once; the Machines page's validation and where its
// passwords go; the tray and notifications following a machine.
#include "headroom/BuildTrees.h"
#include "headroom/MachineMetrics.h"
#include "headroom/Units.h"
#include "services/PressureMonitor.h"
#include "services/TrayPresenter.h"
#include "support/ReplaySeries.h"
#include "ui/BuildsModel.h"
#include "ui/BuildsPanel.h"
#include "ui/ChartsPanel.h"
#include "ui/MachineDialog.h"
#include "ui/MachinesPage.h"
#include "ui/MainWindow.h"
#include "ui/ProcessPanel.h"
#include "ui/SettingsDialog.h"
#include "ui/SummaryStrip.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMap>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTreeView>
#include <QtTest>
#include <qcustomplot.h>

using namespace headroom;
using namespace headroom::ui;
using services::MachineEntry;

namespace {

QString labelText(QWidget* root, const char* name)
{
    auto* label = root->findChild<QLabel*>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

MachineEntry buildbox()
{
    MachineEntry m;
    m.id = QStringLiteral("buildbox");
    m.name = QStringLiteral("buildbox");
    m.kind = MachineEntry::Kind::Prometheus;
    m.url = QStringLiteral("http://prom.example:9090");
    m.instance = QStringLiteral("buildbox:9464");
    m.followInTray = true;
    return m;
}

// buildbox as its exporter describes it: 32 GiB, `usedGiB` used, one cargo
// build with rustc and a linker, rendered as `headroom export` serves it and
// read back as the window gets it (the level's reason is said again from the
// figures there; `reason` is for hand-made views only).
std::shared_ptr<MachineView> remoteView(std::uint64_t usedGiB, std::int64_t wallMs, PressureLevel level,
                                        std::string reason = {})
{
    Snapshot s;
    s.wallMs = wallMs;
    s.memory = replay::memory(32, usedGiB * 1024, 4, 512);
    BuildTree build;
    build.root = {4242, 4242};
    build.tool = "cargo";
    build.subcommand = "build";
    build.profile = "release";
    build.command = "cargo build --release";
    build.workspace = "/srv/ci/engine";
    build.residentBytes = 6 * GiB;
    build.countByRole[roleIndex(ProcessRole::Rustc)] = 3;
    build.countByRole[roleIndex(ProcessRole::Linker)] = 1;
    build.elapsedSeconds = 95;
    s.builds.push_back(build);
    s.roleTotals[roleIndex(ProcessRole::Rustc)] = {ProcessRole::Rustc, 3, 5 * GiB};
    s.roleTotals[roleIndex(ProcessRole::Linker)] = {ProcessRole::Linker, 1, 1 * GiB};
    MachineMetricsInputs in;
    in.snapshot = &s;
    in.level = {level, std::move(reason)};
    in.hostname = "buildbox";
    in.version = "test";
    const auto samples = parseMetricsText(renderMachineMetrics(in));
    if (!samples)
        qFatal("the rendered metrics do not parse: %s", samples.error().c_str());
    auto view = machineViewFromSamples(samples.value());
    if (!view)
        qFatal("no machine in the rendered metrics: %s", view.error().c_str());
    return std::make_shared<MachineView>(std::move(view).value());
}

// Ten readings a minute apart, oldest first, as machineHistoryFromSeries gives them.
std::shared_ptr<std::vector<Snapshot>> remoteHistory(std::int64_t endMs)
{
    auto history = std::make_shared<std::vector<Snapshot>>();
    for (int i = 9; i >= 0; --i) {
        Snapshot s =
            remoteView(20 + static_cast<std::uint64_t>(i % 3), endMs - i * 60'000, PressureLevel::Normal)
                ->snapshot;
        s.steadyNs = s.wallMs * 1'000'000;
        history->push_back(s);
    }
    return history;
}

services::DashboardSettings withBuildbox()
{
    services::DashboardSettings settings;
    settings.machines << buildbox();
    return settings;
}

// A store of the test's own: what the Machines page wrote, and a refusal on demand.
class MemoryStore : public services::CredentialStore {
  public:
    QString describe() const override { return QStringLiteral("the test's memory"); }
    QString store(const QString& id, const QString& secret) override
    {
        if (!refuse.isEmpty())
            return refuse;
        secrets.insert(id, secret);
        return {};
    }
    std::optional<QString> lookup(const QString& id, QString*) override
    {
        if (!secrets.contains(id))
            return std::nullopt;
        return secrets.value(id);
    }
    QString remove(const QString& id) override
    {
        secrets.remove(id);
        removed << id;
        return {};
    }
    QMap<QString, QString> secrets;
    QStringList removed;
    QString refuse;
};

void fill(MachineDialog* dialog, const char* name, const QString& text)
{
    auto* edit = dialog->findChild<QLineEdit*>(QLatin1String(name));
    QVERIFY2(edit, name);
    edit->setText(text);
}

} // namespace

class TestRemoteView : public QObject {
    Q_OBJECT

  private slots:
    void showsTheRemoteMachineReadOnly()
    {
        MainWindow window;
        window.applySettings(withBuildbox());
        window.show();
        const auto local = replay::buildAt(12);
        window.showSnapshot(local);
        services::PressureState normal;
        window.showPressure(normal);
        QVERIFY(!local->builds.empty());

        QComboBox* switcher = window.findChild<QComboBox*>(QStringLiteral("machineSwitcher"));
        QVERIFY(switcher);
        QCOMPARE(switcher->count(), 2);
        QCOMPARE(switcher->itemText(0), QStringLiteral("This computer"));
        QCOMPARE(switcher->itemText(1), QStringLiteral("buildbox · connecting"));

        QSignalSpy shown(&window, &MainWindow::shownMachineChanged);
        switcher->setCurrentIndex(1);
        emit switcher->activated(1);
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.at(0).at(0).toString(), QStringLiteral("buildbox"));
        QCOMPARE(window.settings().shownMachine, QStringLiteral("buildbox"));

        QLabel* banner = window.findChild<QLabel*>(QStringLiteral("remoteBanner"));
        QVERIFY(banner && banner->isVisible());
        QVERIFY2(banner->text().contains(QStringLiteral("connecting")), qPrintable(banner->text()));
        // No reading yet: no figure of this machine under that banner.
        QCOMPARE(labelText(&window, "availableValue"), QStringLiteral("—"));

        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        services::MachineState up;
        up.id = QStringLiteral("buildbox");
        up.reach = services::MachineReach::Up;
        up.lastSeenMs = now - 3000;
        window.showMachineState(up);
        const auto view = remoteView(30, now - 3000, PressureLevel::Critical, "only 6% of RAM is available");
        window.showMachineView(QStringLiteral("buildbox"), view);
        QCOMPARE(switcher->itemText(1), QStringLiteral("buildbox · up"));

        QVERIFY2(QRegularExpression(QStringLiteral("^buildbox — read-only, from Prometheus at "
                                                   "http://prom\\.example:9090, last reading [34] s ago$"))
                     .match(banner->text())
                     .hasMatch(),
                 qPrintable(banner->text()));
        QCOMPARE(labelText(&window, "availableValue"), bytes(view->snapshot.memory.available));
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Critical"));
        QCOMPARE(labelText(&window, "ramDetail"), QStringLiteral("94 % used")); // no cache figure comes
        QVERIFY(labelText(&window, "levelDetail").contains(QStringLiteral("only 6% of RAM")));

        // The builds panel: the remote build, no pid, nothing to stop or select.
        BuildsPanel* builds = window.builds();
        QCOMPARE(builds->model()->rowCount(), 1);
        const QString row = builds->model()->index(0, BuildsModel::Build).data().toString();
        QVERIFY2(row.contains(QStringLiteral("cargo build")) && !row.contains(QStringLiteral("pid")),
                 qPrintable(row));
        QCOMPARE(builds->model()->index(0, BuildsModel::Memory).data().toString(), bytes(6 * GiB));
        QCOMPARE(builds->model()->index(0, BuildsModel::Rustc).data().toUInt(), 3u);
        QVERIFY(builds->isReadOnly());
        QVERIFY(!builds->stopExtraButton()->isEnabled());
        QVERIFY2(builds->roleTotalsText().contains(QStringLiteral("rustc")),
                 qPrintable(builds->roleTotalsText()));
        QSignalSpy activated(builds, &BuildsPanel::buildActivated);
        QSignalSpy requested(&window, &MainWindow::actionRequested);
        emit builds->view()->activated(builds->model()->index(0, 0));
        QCOMPARE(activated.count(), 0);
        QVERIFY(builds->openStopExtraDialog() == nullptr);

        // Every action that would touch a process is off, whatever was selected.
        for (ProcessAction a :
             {ProcessAction::Pause, ProcessAction::Resume, ProcessAction::Terminate, ProcessAction::Kill}) {
            QVERIFY(!window.action(a, false)->isEnabled());
            QVERIFY(!window.action(a, true)->isEnabled());
            window.action(a, true)->trigger();
        }
        QVERIFY(!window.stopRunawayAction()->isEnabled());
        QCOMPARE(requested.count(), 0);

        // The process table makes way for a note.
        QLabel* note = window.remoteProcessNote();
        QVERIFY(note->isVisible());
        QVERIFY(!window.processes()->isVisible());
        QCOMPARE(note->text(),
                 QStringLiteral("Processes of buildbox are not exported; its builds and role totals "
                                "are shown above."));

        // The charts draw its history, then each newer reading; the span chosen is asked for.
        QVERIFY(window.remoteCharts()->isVisible());
        QVERIFY(!window.charts()->isVisible());
        window.showMachineHistory(QStringLiteral("buildbox"), remoteHistory(now - 60'000));
        QCOMPARE(window.remoteCharts()->usedGraph()->data()->size(), 11); // ten and the reading
        QCOMPARE(window.remoteCharts()->usedGraph()->data()->constEnd()[-1].value,
                 static_cast<double>(view->snapshot.memory.used) / double(GiB));
        window.showMachineView(QStringLiteral("buildbox"),
                               remoteView(31, now - 1000, PressureLevel::Critical));
        QCOMPARE(window.remoteCharts()->usedGraph()->data()->size(), 12);
        QVERIFY(window.remoteCharts()->buildGraph(view->snapshot.builds.front().root));
        QSignalSpy span(&window, &MainWindow::remoteHistorySpanChanged);
        auto* spanBox = window.remoteCharts()->findChild<QComboBox*>(QStringLiteral("spanBox"));
        spanBox->setCurrentIndex(spanBox->count() - 1);
        QCOMPARE(span.count(), 1);
        QCOMPARE(span.at(0).at(0).toDouble(), window.remoteCharts()->visibleSpan());

        // Local samples go on underneath without showing through.
        const auto later = replay::buildAt(13);
        window.showSnapshot(later);
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Critical"));
        QCOMPARE(builds->model()->rowCount(), 1);

        // Back to this computer: its figures, builds, processes and actions at once.
        switcher->setCurrentIndex(0);
        emit switcher->activated(0);
        QCOMPARE(shown.count(), 2);
        QCOMPARE(shown.at(1).at(0).toString(), QString());
        QVERIFY(!banner->isVisible());
        QCOMPARE(labelText(&window, "availableValue"), bytes(later->memory.available));
        QCOMPARE(labelText(&window, "levelValue"), QStringLiteral("Normal"));
        QVERIFY(window.processes()->isVisible());
        QVERIFY(window.charts()->isVisible());
        QCOMPARE(window.charts()->usedGraph()->data()->size(), 2);
        QCOMPARE(builds->model()->rowCount(), static_cast<int>(later->builds.size()));
        QVERIFY(
            builds->model()->index(0, BuildsModel::Build).data().toString().contains(QStringLiteral("pid")));
        QVERIFY(!builds->isReadOnly());
        QVERIFY(window.stopRunawayAction()->isEnabled());
        window.processes()->selectKeys({later->builds.front().root});
        QVERIFY(window.action(ProcessAction::Terminate, true)->isEnabled());
    }

    void unreachableSaysWhyAndWhen()
    {
        services::DashboardSettings settings = withBuildbox();
        settings.shownMachine = QStringLiteral("buildbox");
        MainWindow window;
        window.applySettings(settings);
        window.show();
        QCOMPARE(window.shownMachine(), QStringLiteral("buildbox"));
        window.showMachineView(
            QStringLiteral("buildbox"),
            remoteView(12, QDateTime::currentMSecsSinceEpoch() - 20'000, PressureLevel::Normal));

        services::MachineState down;
        down.id = QStringLiteral("buildbox");
        down.reach = services::MachineReach::Unreachable;
        down.error = QStringLiteral("prom.example:9090 refused the connection\x1b[31m");
        down.retryInSeconds = 16;
        down.lastSeenMs = QDateTime::currentMSecsSinceEpoch() - 20'000;
        window.showMachineState(down);
        const QString text = window.bannerText();
        QVERIFY2(QRegularExpression(QStringLiteral("^buildbox — unreachable: prom\\.example:9090 refused the "
                                                   "connection.*; retrying in 1[56] s"))
                     .match(text)
                     .hasMatch(),
                 qPrintable(text));
        QVERIFY2(!text.contains(QChar(0x1b)), "the server's words reach the widget unsanitised");
        QCOMPARE(window.machineSwitcher()->itemText(1), QStringLiteral("buildbox · unreachable"));
        QVERIFY(window.machineSwitcher()
                    ->itemData(1, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("refused")));

        // A machine removed from the settings: this computer is shown again.
        window.applySettings(services::DashboardSettings{});
        QCOMPARE(window.shownMachine(), QString());
        QVERIFY(!window.remoteBanner()->isVisible());
    }

    void machinesPageValidates()
    {
        MachineEntry existing = buildbox();
        const auto attempt = [&](const QString& name, int kind, const QString& url, const QString& instance) {
            auto* dialog = new MachineDialog({}, {existing}, QStringLiteral("the test's memory"), false);
            fill(dialog, "machineName", name);
            dialog->findChild<QComboBox*>(QStringLiteral("machineKind"))->setCurrentIndex(kind);
            fill(dialog, "machineUrl", url);
            fill(dialog, "machineInstance", instance);
            dialog->accept();
            const QString error = dialog->error();
            const bool accepted = dialog->result() == QDialog::Accepted;
            const MachineEntry machine = dialog->machine();
            delete dialog;
            return std::make_tuple(accepted, error, machine);
        };
        const QString prom = QStringLiteral("https://prom.example:9090");
        auto [ok1, e1, m1] = attempt(QString(), 0, prom, QStringLiteral("ci:9464"));
        QVERIFY(!ok1);
        QVERIFY2(e1.contains(QStringLiteral("name")), qPrintable(e1));
        auto [ok2, e2, m2] = attempt(QStringLiteral("CI box"), 0, QStringLiteral("ftp://prom.example"),
                                     QStringLiteral("ci:9464"));
        QVERIFY(!ok2);
        QVERIFY2(e2.contains(QStringLiteral("http://")), qPrintable(e2));
        auto [ok3, e3, m3] = attempt(QStringLiteral("CI box"), 0, prom, QString());
        QVERIFY(!ok3);
        QVERIFY2(e3.contains(QStringLiteral("instance")), qPrintable(e3));
        auto [ok4, e4, m4] =
            attempt(QStringLiteral("BuildBox"), 1, QStringLiteral("http://ci:9464/metrics"), {});
        QVERIFY(!ok4);
        QVERIFY2(e4.contains(QStringLiteral("already")), qPrintable(e4));
        // An exporter needs no instance; the id comes from the name, unique.
        auto [ok5, e5, m5] =
            attempt(QStringLiteral("Build Box (CI)"), 1, QStringLiteral("http://ci:9464/metrics"), {});
        QVERIFY2(ok5, qPrintable(e5));
        QCOMPARE(m5.id, QStringLiteral("build-box-ci"));
        QCOMPARE(m5.kind, MachineEntry::Kind::Exporter);
        QCOMPARE(services::machineIdFromName(QStringLiteral("buildbox"), {existing}),
                 QStringLiteral("buildbox-2"));
    }

    void passwordsGoToTheStoreOnly()
    {
        auto store = std::make_shared<MemoryStore>();
        services::DashboardSettings settings;
        SettingsDialog dialog(settings);
        dialog.setCredentialStore(store);
        MachinesPage* page = dialog.machinesPage();
        QVERIFY(labelText(page, "credentialPlace").contains(QStringLiteral("the test's memory")));

        MachineDialog* add = page->addMachine();
        QVERIFY(add);
        QVERIFY(labelText(add, "credentialPlace").contains(QStringLiteral("the test's memory")));
        fill(add, "machineName", QStringLiteral("buildbox"));
        fill(add, "machineUrl", QStringLiteral("https://prom.example:9090"));
        fill(add, "machineInstance", QStringLiteral("buildbox:9464"));
        fill(add, "machinePassword", QStringLiteral("s3cret"));
        add->accept();
        QVERIFY2(add->error().contains(QStringLiteral("user name")), qPrintable(add->error()));
        fill(add, "machineUser", QStringLiteral("ci"));
        add->findChild<QCheckBox*>(QStringLiteral("machineFollow"))->setChecked(true);
        add->accept();
        QVERIFY2(add->error().isEmpty(), qPrintable(add->error()));
        QCOMPARE(page->list()->count(), 1);
        QVERIFY(store->secrets.isEmpty()); // nothing is written before the whole dialog is accepted

        // The store refuses: the dialog stays open and says so.
        store->refuse = QStringLiteral("the keyring is locked");
        dialog.accept();
        QVERIFY(dialog.result() != QDialog::Accepted);
        QVERIFY(labelText(page, "machinesProblem").contains(QStringLiteral("the keyring is locked")));
        store->refuse.clear();
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(store->secrets.value(QStringLiteral("buildbox")), QStringLiteral("s3cret"));

        const services::DashboardSettings edited = dialog.settings();
        QCOMPARE(edited.machines.size(), 1);
        QCOMPARE(edited.machines.front().username, QStringLiteral("ci"));
        QVERIFY(edited.machines.front().followInTray);

        // Removed: its password is forgotten too.
        SettingsDialog again(edited);
        again.setCredentialStore(store);
        again.machinesPage()->removeMachine(0);
        again.accept();
        QVERIFY(again.settings().machines.isEmpty());
        QVERIFY(!store->secrets.contains(QStringLiteral("buildbox")));
        QCOMPARE(store->removed, QStringList{QStringLiteral("buildbox")});
    }

    void trayFollowsAFollowedMachine()
    {
        const auto local = replay::buildAt(3);
        services::PressureState normal;
        services::TrayMachineLevel remote;
        remote.name = QStringLiteral("buildbox");
        remote.reachable = true;
        remote.hasReading = true;
        remote.level = PressureLevel::Critical;
        remote.reason = QStringLiteral("only 4% of RAM is available");

        const services::TrayStatus alone = services::TrayPresenter::present(local, normal, {}, {});
        QCOMPARE(alone.level, PressureLevel::Normal);
        const services::TrayStatus followed =
            services::TrayPresenter::present(local, normal, {}, {}, {remote});
        QCOMPARE(followed.level, PressureLevel::Critical);
        QVERIFY2(followed.tooltip.startsWith(QStringLiteral(
                     "Headroom: buildbox: critical, only 4% of RAM is available\nThis computer: ")),
                 qPrintable(followed.tooltip));
        // An unreachable machine says so and decides nothing.
        remote.reachable = false;
        const services::TrayStatus down = services::TrayPresenter::present(local, normal, {}, {}, {remote});
        QCOMPARE(down.level, PressureLevel::Normal);
        QVERIFY2(down.tooltip.contains(QStringLiteral("buildbox: unreachable")), qPrintable(down.tooltip));

        // Notifications: the same policy (confirmed over two readings), the machine named.
        services::PressureMonitor monitor;
        QSignalSpy due(&monitor, &services::PressureMonitor::machineNotificationDue);
        auto critical = remoteView(31, 1'000, PressureLevel::Critical);
        critical->snapshot.memory.available = 1229 * MiB;
        monitor.observeMachine(QStringLiteral("buildbox"), QStringLiteral("buildbox"), *critical);
        monitor.observeMachine(QStringLiteral("buildbox"), QStringLiteral("buildbox"),
                               *critical); // same reading
        QCOMPARE(due.count(), 0);
        critical->snapshot.wallMs = 6'000;
        monitor.observeMachine(QStringLiteral("buildbox"), QStringLiteral("buildbox"), *critical);
        QCOMPARE(due.count(), 1);
        QCOMPARE(due.at(0).at(1).value<PressureLevel>(), PressureLevel::Critical);
        QCOMPARE(due.at(0).at(2).toString(),
                 QStringLiteral("buildbox: memory is critical, 1.2 GiB available"));
        QVERIFY2(due.at(0).at(3).toString().contains(QStringLiteral("rustc")),
                 qPrintable(due.at(0).at(3).toString()));
        monitor.setQuiet(true);
        critical->snapshot.wallMs = 11'000;
        monitor.observeMachine(QStringLiteral("other"), QStringLiteral("other"), *critical);
        critical->snapshot.wallMs = 16'000;
        monitor.observeMachine(QStringLiteral("other"), QStringLiteral("other"), *critical);
        QCOMPARE(due.count(), 1);
    }
};

QTEST_MAIN(TestRemoteView)
#include "TestRemoteView.moc"
