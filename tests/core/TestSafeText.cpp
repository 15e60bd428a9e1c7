// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/SafeText.h"

#include <QtTest>

using namespace headroom;

class TestSafeText : public QObject {
    Q_OBJECT
  private slots:
    void keepsOrdinaryText_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("ascii") << QByteArray("cargo build --release -p tsz-cli");
        QTest::newRow("spaces and parens") << QByteArray("my (odd) proc");
        QTest::newRow("accents") << QByteArray("caf\xC3\xA9 r\xC3\xA9sum\xC3\xA9");
        QTest::newRow("cjk") << QByteArray("\xE6\x9E\x84\xE5\xBB\xBA");
        QTest::newRow("emoji") << QByteArray("\xF0\x9F\xA6\x80 crab");
    }
    void keepsOrdinaryText()
    {
        QFETCH(QByteArray, text);
        const std::string in = text.toStdString();
        QCOMPARE(safeText(in), in);
        QVERIFY(isSafeText(in));
    }

    void replacesWhatSteersTheDisplay_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("ESC sequence") << QByteArray("a\x1b[31mred") << QByteArray("a?[31mred");
        QTest::newRow("newline, tab, CR") << QByteArray("a\nb\tc\rd") << QByteArray("a?b?c?d");
        QTest::newRow("DEL") << QByteArray("a\x7f"
                                           "b")
                             << QByteArray("a?b");
        QTest::newRow("C1 CSI U+009B") << QByteArray("a\xC2\x9B"
                                                     "31m")
                                       << QByteArray("a?31m");
        QTest::newRow("C1 OSC U+009D") << QByteArray("\xC2\x9D"
                                                     "0;title\xC2\x9C")
                                       << QByteArray("?0;title?");
        QTest::newRow("RLO U+202E") << QByteArray("rustc\xE2\x80\xAEgpj.exe") << QByteArray("rustc?gpj.exe");
        QTest::newRow("isolate U+2066") << QByteArray("\xE2\x81\xA6x\xE2\x81\xA9") << QByteArray("?x?");
        QTest::newRow("line separator") << QByteArray("a\xE2\x80\xA8"
                                                      "b")
                                        << QByteArray("a?b");
        QTest::newRow("overlong slash") << QByteArray("a\xC0\xAF"
                                                      "b")
                                        << QByteArray("a??b");
        QTest::newRow("overlong ESC, 3 bytes") << QByteArray("\xE0\x80\x9B") << QByteArray("???");
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << QByteArray("???");
        QTest::newRow("past U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << QByteArray("????");
        QTest::newRow("truncated sequence") << QByteArray("ab\xE2\x82") << QByteArray("ab??");
        QTest::newRow("stray continuation") << QByteArray("\x80x") << QByteArray("?x");
        QTest::newRow("latin-1 byte") << QByteArray("caf\xE9") << QByteArray("caf?");
    }
    void replacesWhatSteersTheDisplay()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        const std::string in = text.toStdString();
        QCOMPARE(QByteArray::fromStdString(safeText(in)), expected);
        QVERIFY(!isSafeText(in));
        // The result is itself safe: nothing survives a second pass changed.
        QCOMPARE(safeText(safeText(in)), safeText(in));
    }

    void cutsLongTextOnACharacterBoundary()
    {
        std::string long_(10000, 'x');
        const std::string cut = safeText(long_, 100);
        QCOMPARE(cut.size(), std::size_t(100 + 3));
        QVERIFY(cut.ends_with("\xE2\x80\xA6"));
        QVERIFY(!isSafeText(long_, 100));

        // A three-byte character that would straddle the limit is left out whole.
        const std::string cjk = "ab\xE6\x9E\x84";
        QCOMPARE(QByteArray::fromStdString(safeText(cjk, 4)), QByteArray("ab\xE2\x80\xA6"));
    }
};

QTEST_GUILESS_MAIN(TestSafeText)
#include "TestSafeText.moc"
