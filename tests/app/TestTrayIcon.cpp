// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/SystemDesktop.h"
#include "app/desktop/TrayGauge.h"

#include <QAction>
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

using namespace headroom;
using namespace headroom::app;

namespace {

constexpr int kSize = 32;

// Pixels inside the 32 px tank, clear of its outline: one near the bottom
// (within a fill of 20 %), one in the upper part (filled only above 75 %).
const QPoint kBottom{kSize / 2, kSize - 6};
const QPoint kTop{kSize / 2, 8};
const QPoint kMiddle{kSize / 2, kSize / 2};

QColor opaque(const QImage& image, QPoint at)
{
    return image.pixelColor(at);
}

bool sameRgb(const QColor& a, const QColor& b)
{
    return a.red() == b.red() && a.green() == b.green() && a.blue() == b.blue() && a.alpha() == b.alpha();
}

QString describe(const QColor& c)
{
    return QStringLiteral("rgba(%1, %2, %3, %4)").arg(c.red()).arg(c.green()).arg(c.blue()).arg(c.alpha());
}

TrayStatus fullStatus()
{
    TrayStatus s;
    s.level = PressureLevel::Warning;
    s.usedFraction = 0.6;
    s.hasData = true;
    s.tooltip =
        QStringLiteral("Headroom: warning, only 12% of RAM is available\nRAM 14 GiB of 16 GiB used (88 %)");
    s.lastBuild = QStringLiteral("Preset A · tsz");
    s.canStartBuild = true;
    s.haveRunaway = true;
    s.canPause = true;
    return s;
}

QList<QAction*> menuActions(SystemDesktop& desktop)
{
    QList<QAction*> actions;
    for (QAction* a : desktop.menu()->actions())
        if (!a->isSeparator())
            actions << a;
    return actions;
}

} // namespace

// The tray icon as a gauge, and the tray menu's actions: what they show for a
// status and which command each one asks for. Offscreen there is no tray.
class TestTrayIcon : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() { qRegisterMetaType<DesktopCommand>(); }

    void gaugeFillHasTheLevelColour_data()
    {
        QTest::addColumn<PressureLevel>("level");
        QTest::newRow("normal") << PressureLevel::Normal;
        QTest::newRow("warning") << PressureLevel::Warning;
        QTest::newRow("critical") << PressureLevel::Critical;
    }

    void gaugeFillHasTheLevelColour()
    {
        QFETCH(PressureLevel, level);
        const QColor color = trayLevelColor(level);

        const QImage full = paintTrayGauge(GaugeLook{level, 0.9, true}, kSize);
        QCOMPARE(full.size(), QSize(kSize, kSize));
        // Near the bottom centre and well up the tank: the level's colour.
        QVERIFY2(sameRgb(opaque(full, kBottom), color), qPrintable(describe(opaque(full, kBottom))));
        QVERIFY2(sameRgb(opaque(full, kTop), color), qPrintable(describe(opaque(full, kTop))));

        const QImage low = paintTrayGauge(GaugeLook{level, 0.2, true}, kSize);
        // The bottom is filled, the top of the tank is not.
        QVERIFY(sameRgb(opaque(low, kBottom), color));
        const QColor top = opaque(low, kTop);
        QVERIFY2(!sameRgb(top, color), qPrintable(describe(top)));
        QVERIFY2(top.alpha() > 200, qPrintable(describe(top))); // the dark body, not a hole
        QVERIFY(top.lightness() < 60);

        // Outside the tank, left and right of it: transparent.
        QCOMPARE(full.pixelColor(0, kSize / 2).alpha(), 0);
        QCOMPARE(full.pixelColor(kSize - 1, kSize / 2).alpha(), 0);
    }

    void levelsHaveDifferentColours()
    {
        const QColor normal = trayLevelColor(PressureLevel::Normal);
        const QColor warning = trayLevelColor(PressureLevel::Warning);
        const QColor critical = trayLevelColor(PressureLevel::Critical);
        QVERIFY(normal != warning);
        QVERIFY(warning != critical);
        QVERIFY(normal != critical);

        auto bottom = [](PressureLevel level) {
            return paintTrayGauge(GaugeLook{level, 0.8, true}, kSize).pixelColor(kBottom);
        };
        QVERIFY(bottom(PressureLevel::Normal) != bottom(PressureLevel::Warning));
        QVERIFY(bottom(PressureLevel::Warning) != bottom(PressureLevel::Critical));
        QVERIFY(bottom(PressureLevel::Normal) != bottom(PressureLevel::Critical));
    }

    void noDataIsAGreyOutlineWithoutFill()
    {
        for (const double used : {0.0, 0.9}) {
            const QImage image = paintTrayGauge(GaugeLook{PressureLevel::Critical, used, false}, kSize);
            // No fill: the tank is the dark body from top to bottom.
            for (const QPoint at : {kBottom, kMiddle, kTop}) {
                const QColor c = image.pixelColor(at);
                QVERIFY2(c.alpha() > 200 && c.lightness() < 60, qPrintable(describe(c)));
                for (PressureLevel level :
                     {PressureLevel::Normal, PressureLevel::Warning, PressureLevel::Critical})
                    QVERIFY(!sameRgb(c, trayLevelColor(level)));
            }
            // The outline, across the tank's left wall at mid height, is grey.
            bool greyWall = false;
            for (int x = 0; x < kSize / 2; ++x) {
                const QColor c = image.pixelColor(x, kSize / 2);
                if (c.alpha() == 255 && c.red() == c.green() && c.green() == c.blue() && c.red() > 120)
                    greyWall = true;
                // Nothing coloured anywhere: grey, the dark body, or transparent.
                QVERIFY2(c.alpha() == 0 || c.hslSaturation() < 60,
                         qPrintable(QStringLiteral("x=%1: %2").arg(x).arg(describe(c))));
            }
            QVERIFY(greyWall);
        }
    }

    void gaugeLookEqualityFollowsFillSteps()
    {
        const GaugeLook base{PressureLevel::Warning, 0.50, true};
        QCOMPARE(base.fillSteps(), 16);
        QVERIFY((base == GaugeLook{PressureLevel::Warning, 0.505, true}));
        QVERIFY((base == GaugeLook{PressureLevel::Warning, 0.51, true}));
        QVERIFY(!(base == GaugeLook{PressureLevel::Warning, 0.55, true}));
        QVERIFY(!(base == GaugeLook{PressureLevel::Critical, 0.50, true}));
        QVERIFY(!(base == GaugeLook{PressureLevel::Warning, 0.50, false}));
        // Out of range figures are clamped.
        QCOMPARE((GaugeLook{PressureLevel::Normal, 1.7, true}.fillSteps()), 32);
        QCOMPARE((GaugeLook{PressureLevel::Normal, -0.2, true}.fillSteps()), 0);
    }

    void iconIsRepaintedOnlyWhenTheLookChanges()
    {
        SystemDesktop desktop;
        TrayStatus s = fullStatus();
        s.usedFraction = 0.50;
        desktop.setTrayStatus(s);
        const qint64 first = desktop.trayIcon()->icon().cacheKey();

        s.usedFraction = 0.505; // the same step of 1/32
        s.tooltip += QStringLiteral(" ");
        desktop.setTrayStatus(s);
        QCOMPARE(desktop.trayIcon()->icon().cacheKey(), first);

        s.usedFraction = 0.60;
        desktop.setTrayStatus(s);
        const qint64 fuller = desktop.trayIcon()->icon().cacheKey();
        QVERIFY(fuller != first);

        s.level = PressureLevel::Critical;
        desktop.setTrayStatus(s);
        QVERIFY(desktop.trayIcon()->icon().cacheKey() != fuller);
    }

    void menuHoldsTheCommandsInOrder()
    {
        SystemDesktop desktop;
        desktop.setTrayStatus(fullStatus());
        const QList<QAction*> actions = menuActions(desktop);
        QCOMPARE(actions.size(), 7);
        QCOMPARE(actions[0]->text(), QStringLiteral("Show dashboard"));
        QCOMPARE(desktop.menu()->defaultAction(), actions[0]);
        QVERIFY2(actions[1]->text().startsWith(QStringLiteral("Start last build")),
                 qPrintable(actions[1]->text()));
        QVERIFY2(actions[1]->text().contains(QStringLiteral("Preset A · tsz")),
                 qPrintable(actions[1]->text()));
        QVERIFY(actions[1]->isEnabled());
        QCOMPARE(actions[2]->text(), QStringLiteral("Stop runaway builds…"));
        QVERIFY(actions[2]->isEnabled());
        QCOMPARE(actions[3]->text(), QStringLiteral("Pause builds"));
        QVERIFY(actions[3]->isEnabled());
        QVERIFY2(actions[4]->text().startsWith(QStringLiteral("Build guard")),
                 qPrintable(actions[4]->text()));
        QVERIFY(actions[4]->isCheckable());
        QVERIFY(!actions[4]->isChecked());
        QCOMPARE(actions[5]->text(), QStringLiteral("Don't disturb"));
        QVERIFY(actions[5]->isCheckable());
        QVERIFY(!actions[5]->isChecked());
        QCOMPARE(actions[6]->text(), QStringLiteral("Quit Headroom"));
        QCOMPARE(desktop.trayIcon()->toolTip(), fullStatus().tooltip);
        QCOMPARE(desktop.trayIcon()->contextMenu(), desktop.menu());
    }

    void menuFollowsTheStatus()
    {
        SystemDesktop desktop;
        TrayStatus s = fullStatus();
        s.lastBuild.clear();
        s.canStartBuild = false;
        s.haveRunaway = false;
        s.heldPaused = true;
        s.guardOn = true;
        s.quiet = true;
        s.tooltip = QStringLiteral("Headroom: memory normal\nBuild guard on");
        desktop.setTrayStatus(s);
        const QList<QAction*> actions = menuActions(desktop);
        QCOMPARE(actions[1]->text(), QStringLiteral("Start last build"));
        QVERIFY(!actions[1]->isEnabled());
        QVERIFY(!actions[2]->isEnabled());
        QCOMPARE(actions[3]->text(), QStringLiteral("Resume builds"));
        QVERIFY(actions[3]->isEnabled());
        QVERIFY(actions[4]->isChecked());
        QVERIFY(actions[5]->isChecked());
        QCOMPARE(desktop.trayIcon()->toolTip(), s.tooltip);

        // Nothing to pause and nothing held: the item is there but disabled.
        s.heldPaused = false;
        s.canPause = false;
        desktop.setTrayStatus(s);
        QCOMPARE(actions[3]->text(), QStringLiteral("Pause builds"));
        QVERIFY(!actions[3]->isEnabled());
    }

    void actionsRequestTheirCommands()
    {
        SystemDesktop desktop;
        desktop.setTrayStatus(fullStatus());
        QSignalSpy spy(&desktop, &DesktopIntegration::commandRequested);
        const QList<QAction*> actions = menuActions(desktop);
        auto next = [&spy](QAction* action) -> QList<QVariant> {
            spy.clear();
            action->trigger();
            if (spy.size() != 1)
                return {};
            return spy.takeFirst();
        };
        auto command = [](const QList<QVariant>& args) { return args.value(0).value<DesktopCommand>(); };

        QList<QVariant> args = next(actions[0]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::ShowDashboard);
        args = next(actions[1]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::StartLastBuild);
        args = next(actions[2]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::StopRunawayBuilds);
        args = next(actions[3]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::PauseBuilds);

        // The toggles carry their new state.
        args = next(actions[4]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::SetGuard);
        QCOMPARE(args[1].toBool(), true);
        args = next(actions[5]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::SetQuiet);
        QCOMPARE(args[1].toBool(), true);

        TrayStatus on = fullStatus();
        on.guardOn = true;
        on.quiet = true;
        on.heldPaused = true;
        desktop.setTrayStatus(on);
        args = next(actions[4]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::SetGuard);
        QCOMPARE(args[1].toBool(), false);
        args = next(actions[5]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::SetQuiet);
        QCOMPARE(args[1].toBool(), false);
        // Held paused: the same item resumes.
        args = next(actions[3]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::ResumeBuilds);

        args = next(actions[6]);
        QCOMPARE(args.size(), 2);
        QCOMPARE(command(args), DesktopCommand::Quit);

        // A disabled item asks for nothing.
        TrayStatus idle = fullStatus();
        idle.canStartBuild = false;
        idle.haveRunaway = false;
        desktop.setTrayStatus(idle);
        spy.clear();
        actions[1]->trigger();
        actions[2]->trigger();
        QCOMPARE(spy.size(), 0);
    }

    void offscreenHasNoTrayAndNotifyNeverBlocks()
    {
        SystemDesktop desktop;
        QVERIFY(!desktop.isTrayAvailable());
        DesktopNotification n;
        n.kind = DesktopNotification::Kind::Pressure;
        n.urgency = PressureLevel::Critical;
        n.title = QStringLiteral("Memory critical: only 3% of RAM is available");
        n.body = QStringLiteral("3 rustc · 9.8 GiB");
        n.actions << DesktopCommand::StopRunawayBuilds;
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < 3; ++i)
            desktop.notify(n);
        QVERIFY2(clock.elapsed() < 50, qPrintable(QString::number(clock.elapsed())));
        // Whatever the fallback does happens in the event loop: let it run.
        QTest::qWait(100);
        QVERIFY(!desktop.isTrayAvailable());
    }
};

int main(int argc, char** argv)
{
    // Never reach a developer's real session bus (a notification would pop
    // up on their desktop): a bus address that cannot be connected to.
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/headroom-test-no-bus");
    QApplication app(argc, argv);
    TestTrayIcon test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "TestTrayIcon.moc"
