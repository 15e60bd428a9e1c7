// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/SettingsStore.h"
#include "services/launcher/CustomPresets.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using headroom::services::CustomPreset;
using headroom::services::DashboardSettings;
using headroom::services::MachineEntry;
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

    void memorySizesAreReadAsTyped_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<qulonglong>("bytes"); // 0: no limit
        const qulonglong M = 1024ull * 1024, G = 1024 * M;
        QTest::newRow("empty") << QString() << true << 0ull;
        QTest::newRow("blank") << QStringLiteral("   ") << true << 0ull;
        QTest::newRow("4G") << QStringLiteral("4G") << true << 4 * G;
        QTest::newRow("4g") << QStringLiteral("4g") << true << 4 * G;
        QTest::newRow("4 GiB") << QStringLiteral(" 4 GiB ") << true << 4 * G;
        QTest::newRow("4GB") << QStringLiteral("4GB") << true << 4 * G;
        QTest::newRow("1.5G") << QStringLiteral("1.5G") << true << 3 * G / 2;
        QTest::newRow("512M") << QStringLiteral("512M") << true << 512 * M;
        QTest::newRow("2T") << QStringLiteral("2T") << true << 2048 * G;
        QTest::newRow("bytes") << QStringLiteral("3221225472") << true << 3 * G;
        QTest::newRow("junk") << QStringLiteral("lots") << false << 0ull;
        QTest::newRow("unknown unit") << QStringLiteral("4X") << false << 0ull;
        QTest::newRow("negative") << QStringLiteral("-1G") << false << 0ull;
        QTest::newRow("two numbers") << QStringLiteral("4G 2G") << false << 0ull;
        QTest::newRow("zero") << QStringLiteral("0") << false << 0ull;
        QTest::newRow("too small") << QStringLiteral("1K") << false << 0ull;
        QTest::newRow("half a byte") << QStringLiteral("20000000.5") << false << 0ull;
        QTest::newRow("too large") << QStringLiteral("99999999T") << false << 0ull;
    }

    void memorySizesAreReadAsTyped()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(qulonglong, bytes);
        const auto in = headroom::services::parseMemorySize(text);
        QCOMPARE(in.ok, ok);
        QCOMPARE(qulonglong(in.bytes.value_or(0)), bytes);
        QCOMPARE(in.error.isEmpty(), ok);
        if (!ok)
            QVERIFY2(in.error.contains(text.trimmed().left(40)), qPrintable(in.error));
        if (in.bytes) // the short form reads back as the same size
            QCOMPARE(
                headroom::services::parseMemorySize(headroom::services::formatMemorySize(*in.bytes)).bytes,
                in.bytes);
    }

    void sizesAreShownShort()
    {
        QCOMPARE(headroom::services::formatMemorySize(4ull << 30), QStringLiteral("4G"));
        QCOMPARE(headroom::services::formatMemorySize(1536ull << 20), QStringLiteral("1536M"));
        QCOMPARE(headroom::services::formatMemorySize((3ull << 30) + 1), QStringLiteral("3221225473"));
        QCOMPARE(headroom::services::formatMemorySize(2ull << 40), QStringLiteral("2T"));
    }

    void customPresetLimitsAreSavedAndLoaded()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("launcher.conf"));
        CustomPreset limited{QStringLiteral("big"), QStringLiteral("make"), QStringLiteral("-j8"), {}, {}};
        limited.memoryHigh = 3ull << 30;
        limited.memoryMax = 4ull << 30;
        CustomPreset plain{QStringLiteral("plain"), QStringLiteral("ninja"), {}, {}, {}};
        {
            QSettings settings(path, QSettings::IniFormat);
            headroom::services::saveCustomPresets(settings, {limited, plain});
        }
        QSettings settings(path, QSettings::IniFormat);
        const auto loaded = headroom::services::loadCustomPresets(settings);
        QCOMPARE(loaded.size(), std::size_t(2));
        QCOMPARE(loaded[0].memoryHigh, limited.memoryHigh);
        QCOMPARE(loaded[0].memoryMax, limited.memoryMax);
        QVERIFY(!loaded[1].memoryHigh);
        QVERIFY(!loaded[1].memoryMax);
        // Saving a preset without limits over one with them drops them.
        headroom::services::saveCustomPresets(settings, {plain});
        QVERIFY(!headroom::services::loadCustomPresets(settings)[0].memoryMax);
    }

    void anOldLauncherFileStillLoads()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("launcher.conf"));
        // As a Headroom without memory limits wrote it, and one hand-edited badly.
        write(path, "[launcher]\ncustomPresets\\1\\name=tests\ncustomPresets\\1\\program=cargo\n"
                    "customPresets\\1\\arguments=nextest run\ncustomPresets\\1\\environment=\n"
                    "customPresets\\1\\workingDir=\ncustomPresets\\2\\name=odd\n"
                    "customPresets\\2\\program=make\ncustomPresets\\2\\memoryMax=lots\n"
                    "customPresets\\2\\memoryHigh=0\ncustomPresets\\size=2\n");
        QSettings settings(path, QSettings::IniFormat);
        const auto loaded = headroom::services::loadCustomPresets(settings);
        QCOMPARE(loaded.size(), std::size_t(2));
        QCOMPARE(loaded[0].name, QStringLiteral("tests"));
        QCOMPARE(loaded[0].arguments, QStringLiteral("nextest run"));
        QVERIFY(!loaded[0].memoryHigh && !loaded[0].memoryMax);
        QVERIFY2(!loaded[1].memoryMax, "junk is no limit");
        QVERIFY2(!loaded[1].memoryHigh, "0 is no limit");
    }

    void limitsAreDescribedAndChecked()
    {
        CustomPreset p{QStringLiteral("big"), QStringLiteral("make"), {}, {}, {}};
        QVERIFY(!p.description().contains(QStringLiteral("Memory")));
        p.memoryMax = 4ull << 30;
        QVERIFY2(p.description().contains(QStringLiteral("stopped at 4.0 GiB (MemoryMax)")),
                 qPrintable(p.description()));
        QVERIFY2(p.description().contains(QStringLiteral("not applied")), qPrintable(p.description()));
        p.memoryHigh = 3ull << 30;
        QVERIFY2(p.description().contains(QStringLiteral("slowed down above 3.0 GiB (MemoryHigh)")),
                 qPrintable(p.description()));
        QVERIFY(p.problems().isEmpty());
        const auto plan = p.plan(QStringLiteral("/tmp"));
        QVERIFY(plan);
        QCOMPARE(QString::fromStdString(plan->note), p.description());
        // Throttling above the kill line never happens: said, not saved.
        p.memoryHigh = 5ull << 30;
        QCOMPARE(p.problems().size(), 1);
        QVERIFY2(p.problems()[0].contains(QStringLiteral("above MemoryMax")), qPrintable(p.problems()[0]));
        QVERIFY(!p.plan(QStringLiteral("/tmp")));
    }
    void remoteMachinesComeBackInOrder()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        DashboardSettings settings;
        MachineEntry prom;
        prom.id = QStringLiteral("zeta-box");
        prom.name = QStringLiteral("Zeta box");
        prom.url = QStringLiteral("https://prom.example:9090");
        prom.instance = QStringLiteral("zeta:9464");
        prom.username = QStringLiteral("watcher");
        prom.caFile = QStringLiteral("/etc/ssl/our-ca.pem");
        prom.followInTray = true;
        MachineEntry exporter;
        exporter.id = QStringLiteral("alpha");
        exporter.name = QStringLiteral("alpha");
        exporter.kind = MachineEntry::Kind::Exporter;
        exporter.url = QStringLiteral("http://alpha:9464/metrics");
        settings.machines = {prom, exporter};
        settings.shownMachine = QStringLiteral("alpha");
        QCOMPARE(SettingsStore(path).save(settings), QString());

        const auto loaded = SettingsStore(path).load();
        QVERIFY2(loaded.warnings.isEmpty(), qPrintable(loaded.warnings.join('\n')));
        QCOMPARE(loaded.settings.machines.size(), 2);
        QVERIFY(loaded.settings.machines[0] == prom); // the switcher's order, not the ids'
        QVERIFY(loaded.settings.machines[1] == exporter);
        QCOMPARE(loaded.settings.shownMachine, QStringLiteral("alpha"));
        QVERIFY(loaded.settings == settings);

        // Fewer machines later: the removed one leaves no key behind.
        settings.machines = {exporter};
        QCOMPARE(SettingsStore(path).save(settings), QString());
        QVERIFY(!read(path).contains("zeta"));
        QCOMPARE(SettingsStore(path).load().settings.machines.size(), 1);
    }

    void invalidMachinesAreSkippedWithAReason()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom.conf"));
        write(path,
              "[machines]\n"
              "1\\id=Bad Id\n1\\name=x\n1\\url=http://x:1\n1\\instance=x:1\n"
              "2\\id=ok-1\n2\\name=ok\n2\\url=http://ok:9090\n2\\instance=ok:9464\n2\\password=hunter2\n"
              "3\\id=noinst\n3\\name=n\n3\\url=http://n:9090\n"
              "4\\id=ftp\n4\\name=f\n4\\kind=exporter\n4\\url=ftp://f/metrics\n"
              "5\\id=ok-1\n5\\name=again\n5\\url=http://o:1\n5\\instance=o\n"
              "6\\id=odd\n6\\name=o\n6\\kind=snmp\n6\\url=http://o:1\n"
              "7\\id=noname\n7\\name=\n7\\kind=exporter\n7\\url=http://o:1/metrics\n"
              "size=7\n"
              "shown=gone\n");
        SettingsStore store(path);
        const auto loaded = store.load();
        QCOMPARE(loaded.settings.machines.size(), 1);
        QCOMPARE(loaded.settings.machines[0].id, QStringLiteral("ok-1"));
        QCOMPARE(loaded.settings.shownMachine, QString());
        const QString words = loaded.warnings.join('\n');
        QCOMPARE(loaded.warnings.size(), 8);
        QVERIFY2(words.contains(QStringLiteral("Remote machine 1 (\"Bad Id\") is skipped: The machine's id")),
                 qPrintable(words));
        QVERIFY2(
            words.contains(QStringLiteral("Remote machine 2 (\"ok-1\") has a password in the settings file")),
            qPrintable(words));
        QVERIFY(words.contains(
            QStringLiteral("Remote machine 3 (\"noinst\") is skipped: Enter the instance label")));
        QVERIFY(words.contains(QStringLiteral(
            "Remote machine 4 (\"ftp\") is skipped: The URL must start with http:// or https://")));
        QVERIFY(words.contains(
            QStringLiteral("Remote machine 5 (\"ok-1\") is skipped: Another machine already has the id")));
        QVERIFY(words.contains(QStringLiteral("Remote machine 6 (\"odd\") is skipped: its kind \"snmp\"")));
        QVERIFY(words.contains(
            QStringLiteral("Remote machine 7 (\"noname\") is skipped: Give the machine a name")));
        QVERIFY(
            words.contains(QStringLiteral("The shown machine \"gone\" is not among the remote machines")));

        // The password is never written back.
        QVERIFY(read(path).contains("hunter2"));
        QCOMPARE(store.save(loaded.settings), QString());
        QVERIFY(!read(path).contains("hunter2"));
        QVERIFY(!read(path).contains("password"));
    }

    void machineChangesAreDescribed()
    {
        DashboardSettings before;
        DashboardSettings after = before;
        MachineEntry entry;
        entry.id = QStringLiteral("b");
        entry.name = QStringLiteral("buildbox");
        after.machines = {entry};
        QCOMPARE(SettingsStore::describeChanges(before, after),
                 QStringList{QStringLiteral("remote machines: [] -> [buildbox]")});
    }
};

QTEST_GUILESS_MAIN(TestSettingsStore)
#include "TestSettingsStore.moc"
