// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/SettingsStore.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using headroom::services::DashboardSettings;
using headroom::services::SettingsStore;

namespace {

void write(const QString& path, const QByteArray& content)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(content);
}

QByteArray read(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<unreadable>");
}

QStringList corruptCopies(const QString& dir)
{
    return QDir(dir).entryList({QStringLiteral("headroom.conf.corrupt-*")}, QDir::Files);
}

} // namespace

class TestSettingsStore : public QObject {
    Q_OBJECT

  private slots:
    void missingFileMeansDefaultsAndNoWarning()
    {
        QTemporaryDir dir;
        SettingsStore store(dir.filePath(QStringLiteral("headroom.conf")));
        const auto loaded = store.load();
        QVERIFY(loaded.warnings.isEmpty());
        QVERIFY(loaded.settings == DashboardSettings{});
        QCOMPARE(loaded.settings.intervalSeconds, 1.0);
        QCOMPARE(loaded.settings.historyMinutes, 30);
    }

    void savedSettingsComeBack()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/headroom.conf"));
        DashboardSettings settings;
        settings.intervalSeconds = 2.5;
        settings.historyMinutes = 120;
        settings.graceSeconds = 7;
        settings.buildOomScoreAdj = 800;
        settings.testRunners = {QStringLiteral("my-runner"), QStringLiteral("other")};
        settings.extraLinkers = {QStringLiteral("wild")};
        settings.thresholds.warningAvailablePercent = 22;
        settings.thresholds.criticalPsiFull = 3.5;
        settings.thresholds.marginPoints = 2;
        settings.notifyRepeatMinutes = 15;
        settings.quiet = true;
        settings.guardEnabled = true;
        settings.guardExternalBuilds = true;
        settings.guardEmergencyPercent = 3;
        settings.guardRestSeconds = 45;
        settings.trayHintShown = true;
        QCOMPARE(SettingsStore(path).save(settings), QString());
        SettingsStore again(path);
        const auto loaded = again.load();
        QVERIFY2(loaded.warnings.isEmpty(), qPrintable(loaded.warnings.join('\n')));
        QVERIFY(loaded.settings == settings);
    }

    void outOfRangeValuesFallBackOneByOne()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        write(path, "[sampling]\nintervalSeconds=0.01\nhistoryMinutes=60\n[actions]\ngraceSeconds=soon\n"
                    "[levels]\nwarningAvailablePercent=250\ncriticalAvailablePercent=4\n"
                    "[builds]\noomScoreAdj=1001\n");
        SettingsStore store(path);
        const auto loaded = store.load();
        QCOMPARE(loaded.settings.intervalSeconds, 1.0); // too fast: default
        QCOMPARE(loaded.settings.historyMinutes, 60);   // fine: kept
        QCOMPARE(loaded.settings.graceSeconds, 3.0);    // not a number: default
        QCOMPARE(loaded.settings.thresholds.warningAvailablePercent, 20.0);
        QCOMPARE(loaded.settings.thresholds.criticalAvailablePercent, 4.0);
        QCOMPARE(loaded.settings.buildOomScoreAdj, 500); // past the kernel's 1000: default
        QCOMPARE(loaded.warnings.size(), 4);
        QVERIFY(loaded.warnings.join('\n').contains(QStringLiteral("sampling/intervalSeconds")));
        QVERIFY(loaded.setAsidePath.isEmpty()); // a bad value is not a damaged file
    }

    void switchesMustSayTrueOrFalse()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        write(path,
              "[guard]\nenabled=perhaps\nexternalBuilds=yes\n[notifications]\nquiet=1\nrepeatMinutes=0\n");
        const auto loaded = SettingsStore(path).load();
        QCOMPARE(loaded.settings.guardEnabled, false); // not a yes or no: off, the safe default
        QCOMPARE(loaded.settings.guardExternalBuilds, true);
        QCOMPARE(loaded.settings.quiet, true);
        QCOMPARE(loaded.settings.notifyRepeatMinutes, 5.0); // below the minimum: default
        QCOMPARE(loaded.warnings.size(), 2);
        QVERIFY(loaded.warnings.join('\n').contains(QStringLiteral("guard/enabled")));
    }

    void damagedFileIsKeptAsideAndNotOverwritten()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        QByteArray junk("[sampling]\nintervalSeconds=2\n");
        junk.append('\0');
        junk.append("\xff\xfe\x01garbage\x00\x00", 12);
        write(path, junk);

        SettingsStore store(path);
        const auto loaded = store.load();
        QVERIFY(loaded.settings == DashboardSettings{});
        QCOMPARE(loaded.warnings.size(), 1);
        QVERIFY2(loaded.warnings.first().contains(QStringLiteral("damaged")),
                 qPrintable(loaded.warnings.first()));
        QVERIFY(!loaded.setAsidePath.isEmpty());
        QVERIFY(loaded.warnings.first().contains(loaded.setAsidePath));
        QCOMPARE(corruptCopies(dir.path()).size(), 1);
        QCOMPARE(read(loaded.setAsidePath), junk); // the copy is byte for byte the damaged file
        QCOMPARE(read(path), junk);                // and loading did not touch the original

        // Saving later writes a clean file; the damaged content survives in the copy.
        DashboardSettings changed;
        changed.intervalSeconds = 4;
        QCOMPARE(store.save(changed), QString());
        QCOMPARE(SettingsStore(path).load().settings.intervalSeconds, 4.0);
        QCOMPARE(read(loaded.setAsidePath), junk);
    }

    void unreadableFileIsNeverWrittenOver()
    {
        QTemporaryDir dir;
        // A folder where the file should be: it cannot be read as a file, even by root.
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        QVERIFY(QDir().mkpath(path));
        QVERIFY(QDir().mkpath(path + QStringLiteral("/keep-me")));
        SettingsStore store(path);
        const auto loaded = store.load();
        QVERIFY(loaded.settings == DashboardSettings{});
        QCOMPARE(loaded.warnings.size(), 1);
        QVERIFY(loaded.warnings.first().contains(QStringLiteral("Cannot read")));
        QVERIFY(!store.writable());
        DashboardSettings changed;
        changed.intervalSeconds = 4;
        const QString problem = store.save(changed);
        QVERIFY(!problem.isEmpty());
        QVERIFY(QFileInfo(path + QStringLiteral("/keep-me")).isDir());
    }

    void changesAreDescribedForTheLog()
    {
        DashboardSettings before;
        DashboardSettings after = before;
        after.intervalSeconds = 2;
        after.extraCompilers = {QStringLiteral("zig")};
        const QStringList changes = SettingsStore::describeChanges(before, after);
        QCOMPARE(changes, (QStringList{QStringLiteral("refresh interval: 1 s -> 2 s"),
                                       QStringLiteral("extra compilers: [] -> [zig]")}));
        QVERIFY(SettingsStore::describeChanges(before, before).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSettingsStore)
#include "TestSettingsStore.moc"
