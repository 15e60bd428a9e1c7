// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/Dashboard.h"
#include "services/ProcessActions.h"
#include "services/SamplingService.h"
#include "services/SettingsStore.h"
#include "ui/ActivityLog.h"
#include "ui/ChartsPanel.h"
#include "ui/MainWindow.h"
#include "ui/ProcessPanel.h"
#include "ui/SettingsDialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;
using namespace headroom::ui;
using headroom::app::Dashboard;
using headroom::app::DashboardOptions;
using headroom::services::SettingsStore;

// The composition root: settings flow from the dialog to the services, the
// file and the window; snapshots flow from the sampling thread to the window.
class TestDashboardComposition : public QObject {
    Q_OBJECT

  private slots:
    void editedSettingsAreAppliedSavedAndShown()
    {
        QTemporaryDir dir;
        DashboardOptions options;
        options.settingsPath = dir.filePath(QStringLiteral("headroom.conf"));
        Dashboard dashboard(options);
        MainWindow* window = dashboard.window();
        QCOMPARE(window->settings().intervalSeconds, 1.0);

        // Through the dialog, as a user would.
        QMetaObject::invokeMethod(window->findChild<QAction*>(QStringLiteral("actionSettings")), "trigger");
        auto* dialog = window->findChild<SettingsDialog*>(QStringLiteral("settingsDialog"));
        QVERIFY(dialog);
        dialog->intervalBox()->setValue(2.5);
        dialog->historyBox()->setValue(60);
        dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();

        QCOMPARE(dashboard.settings().intervalSeconds, 2.5);
        QCOMPARE(window->settings().historyMinutes, 60);
        QCOMPARE(dashboard.sampling()->interval(), std::chrono::milliseconds(2500));
        QCOMPARE(services::SettingsStore(options.settingsPath).load().settings.intervalSeconds, 2.5);
        QVERIFY2(window->activity()->text(0).startsWith(QStringLiteral("Settings saved")),
                 qPrintable(window->activity()->text(0)));
        QVERIFY(window->activity()->text(0).contains(QStringLiteral("refresh interval: 1 s -> 2.5 s")));
    }

    void windowLayoutComesBack()
    {
        QTemporaryDir dir;
        DashboardOptions options;
        options.settingsPath = dir.filePath(QStringLiteral("headroom.conf"));
        {
            Dashboard dashboard(options);
            dashboard.window()->resize(1000, 640);
            dashboard.window()->charts()->setVisibleSpan(900);
            dashboard.window()->processes()->setTreeMode(true);
        }
        Dashboard again(options);
        QCOMPARE(again.window()->size(), QSize(1000, 640));
        QCOMPARE(again.window()->charts()->visibleSpan(), 900.0);
        QVERIFY(again.window()->processes()->treeMode());
    }

    void commandLineIntervalOverridesWithoutSaving()
    {
        QTemporaryDir dir;
        DashboardOptions options;
        options.settingsPath = dir.filePath(QStringLiteral("headroom.conf"));
        options.intervalSeconds = 0.5;
        {
            Dashboard dashboard(options);
            QCOMPARE(dashboard.settings().intervalSeconds, 0.5);
        }
        // Only the window layout was written on the way out, not the interval.
        QCOMPARE(services::SettingsStore(options.settingsPath).load().settings.intervalSeconds, 1.0);
    }

    void liveSnapshotsReachTheWindow()
    {
        QTemporaryDir dir;
        DashboardOptions options;
        options.settingsPath = dir.filePath(QStringLiteral("headroom.conf"));
        options.intervalSeconds = 0.5;
        Dashboard dashboard(options);
        dashboard.start();
        QTRY_VERIFY_WITH_TIMEOUT(dashboard.window()->snapshotsShown() >= 2, 10000);
        const services::SnapshotPtr latest = dashboard.window()->latestSnapshot();
        QVERIFY(latest && !latest->processes.empty());
        // This very process is in the table the window shows.
        QVERIFY(latest->find(Pid(QCoreApplication::applicationPid())));
    }
};

QTEST_MAIN(TestDashboardComposition)
#include "TestDashboardComposition.moc"
