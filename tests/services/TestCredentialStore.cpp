// SPDX-License-Identifier: GPL-3.0-or-later
// The file credential store on real files: passwords survive a new store,
// the file is the user's only (and made so again when loosened), a damaged
// file is moved aside and said once, and many threads at once lose nothing.
#include "services/remote/CredentialStore.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace headroom::services;

namespace {

mode_t modeOf(const QString& path)
{
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

void writeFile(const QString& path, const QByteArray& content)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(content);
}

} // namespace

class TestCredentialStore : public QObject {
    Q_OBJECT
  private slots:
    void storeLookupReplaceRemove()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("headroom/credentials.json"));
        auto store = makeFileCredentialStore(path);
        QVERIFY(store);
        QVERIFY(store->describe().contains(QStringLiteral("credentials.json (readable by you only)")));

        QString error = QStringLiteral("stale");
        QVERIFY(!store->lookup(QStringLiteral("buildbox"), &error));
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(!QFile::exists(path)); // nothing written by a lookup

        QCOMPARE(store->store(QStringLiteral("buildbox"), QStringLiteral("s3cr\"et ü\n")), QString());
        QCOMPARE(store->store(QStringLiteral("ci-1"), QStringLiteral("other")), QString());
        QCOMPARE(modeOf(path), mode_t(0600));
        QCOMPARE(store->lookup(QStringLiteral("buildbox")).value_or(QString()),
                 QStringLiteral("s3cr\"et ü\n"));

        // Another store (the next start) reads what the first one wrote.
        auto again = makeFileCredentialStore(path);
        QCOMPARE(again->lookup(QStringLiteral("ci-1")).value_or(QString()), QStringLiteral("other"));
        QCOMPARE(again->store(QStringLiteral("ci-1"), QStringLiteral("replaced")), QString());
        QCOMPARE(store->lookup(QStringLiteral("ci-1")).value_or(QString()), QStringLiteral("replaced"));

        QCOMPARE(store->remove(QStringLiteral("ci-1")), QString());
        QVERIFY(!store->lookup(QStringLiteral("ci-1"), &error));
        QVERIFY(error.isEmpty());
        QCOMPARE(store->remove(QStringLiteral("never-stored")), QString());
        QCOMPARE(again->lookup(QStringLiteral("buildbox")).value_or(QString()),
                 QStringLiteral("s3cr\"et ü\n"));

        // No temporary file is left beside it.
        const QStringList left =
            QDir(dir.filePath(QStringLiteral("headroom"))).entryList(QDir::Files | QDir::Hidden);
        QCOMPARE(left, QStringList{QStringLiteral("credentials.json")});
    }

    void looseFileIsMadeOwnerOnlyAgain()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("credentials.json"));
        auto store = makeFileCredentialStore(path);
        QCOMPARE(store->store(QStringLiteral("a"), QStringLiteral("pw")), QString());
        QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0644), 0);
        QCOMPARE(store->lookup(QStringLiteral("a")).value_or(QString()), QStringLiteral("pw"));
        QCOMPARE(modeOf(path), mode_t(0600));
        QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0666), 0);
        QCOMPARE(store->store(QStringLiteral("b"), QStringLiteral("pw2")), QString());
        QCOMPARE(modeOf(path), mode_t(0600));
    }

    void damagedFileIsMovedAside_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("why");
        QTest::newRow("not json") << QByteArray("{\"version\":1,\"secrets\":{\"a\":") << "it is not JSON";
        QTest::newRow("binary") << QByteArray("\x00\x01\xff\xfe", 4) << "it is not JSON";
        QTest::newRow("array") << QByteArray("[]") << "it is not JSON";
        QTest::newRow("version") << QByteArray(R"({"version":7,"secrets":{}})") << "it has no version 1";
        QTest::newRow("no secrets") << QByteArray(R"({"version":1})") << "it has no \"secrets\"";
        QTest::newRow("number secret")
            << QByteArray(R"({"version":1,"secrets":{"a":"x","b":5}})") << "the entry \"b\" is not text";
        QTest::newRow("huge") << QByteArray(2 << 20, ' ') << "it is larger than 1 MiB";
    }

    void damagedFileIsMovedAside()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, why);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("credentials.json"));
        writeFile(path, content);
        auto store = makeFileCredentialStore(path);

        QString error;
        QVERIFY(!store->lookup(QStringLiteral("a"), &error));
        QVERIFY2(error.contains(why) && error.contains(QStringLiteral("must be entered again")),
                 qPrintable(error));
        const QStringList aside = QDir(dir.path()).entryList({QStringLiteral("credentials.json.corrupt-*")});
        QCOMPARE(aside.size(), 1);
        QVERIFY(error.contains(aside.first()));
        QFile kept(dir.filePath(aside.first()));
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), content);
        QCOMPARE(modeOf(kept.fileName()), mode_t(0600));
        QVERIFY(!QFile::exists(path));

        // Said once; then the store works on a fresh file.
        QVERIFY(!store->lookup(QStringLiteral("a"), &error));
        QVERIFY(error.isEmpty());
        QCOMPARE(store->store(QStringLiteral("a"), QStringLiteral("new")), QString());
        QCOMPARE(store->lookup(QStringLiteral("a")).value_or(QString()), QStringLiteral("new"));
    }

    void unreadableFileIsAnErrorNotAMiss()
    {
        if (::geteuid() == 0)
            QSKIP("root reads a file of mode 0000");
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("credentials.json"));
        auto store = makeFileCredentialStore(path);
        QCOMPARE(store->store(QStringLiteral("a"), QStringLiteral("pw")), QString());
        QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0000), 0);
        QString error;
        QVERIFY(!store->lookup(QStringLiteral("a"), &error));
        QVERIFY2(error.contains(QStringLiteral("cannot read")), qPrintable(error));
        QVERIFY(!store->store(QStringLiteral("b"), QStringLiteral("x")).isEmpty()); // never written over
        QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0600), 0);
        QCOMPARE(store->lookup(QStringLiteral("a")).value_or(QString()), QStringLiteral("pw"));
    }

    void unwritableFolderIsSaid()
    {
        if (::geteuid() == 0)
            QSKIP("root writes into a folder of mode 0500");
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("ro")));
        const QString folder = dir.filePath(QStringLiteral("ro"));
        QCOMPARE(::chmod(QFile::encodeName(folder).constData(), 0500), 0);
        auto store = makeFileCredentialStore(folder + QStringLiteral("/credentials.json"));
        const QString problem = store->store(QStringLiteral("a"), QStringLiteral("pw"));
        ::chmod(QFile::encodeName(folder).constData(), 0700);
        QVERIFY(!problem.isEmpty());
        QVERIFY2(problem.contains(QStringLiteral("credentials.json")), qPrintable(problem));
    }

    void manyThreadsLoseNothing()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("credentials.json"));
        std::shared_ptr<CredentialStore> store = makeFileCredentialStore(path);
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 10; ++i) {
                    const QString id = QStringLiteral("m-%1-%2").arg(t).arg(i);
                    if (!store->store(id, id + QStringLiteral("-pw")).isEmpty())
                        ++failures;
                    if (store->lookup(id).value_or(QString()) != id + QStringLiteral("-pw"))
                        ++failures;
                }
            });
        }
        for (auto& thread : threads)
            thread.join();
        QCOMPARE(failures.load(), 0);
        auto fresh = makeFileCredentialStore(path);
        for (int t = 0; t < 8; ++t)
            for (int i = 0; i < 10; ++i) {
                const QString id = QStringLiteral("m-%1-%2").arg(t).arg(i);
                QCOMPARE(fresh->lookup(id).value_or(QString()), id + QStringLiteral("-pw"));
            }
    }

    void defaultPathIsInTheConfigFolder()
    {
        QVERIFY(defaultCredentialFilePath().endsWith(QStringLiteral("/headroom/credentials.json")));
    }
};

QTEST_GUILESS_MAIN(TestCredentialStore)
#include "TestCredentialStore.moc"
