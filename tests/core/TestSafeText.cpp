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

    void terminalTextKeepsColoursAndText_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("plain") << QByteArray("   Compiling tsz v0.1.0\n");
        QTest::newRow("tabs and returns") << QByteArray("a\tb\r\nc\rd");
        QTest::newRow("utf-8") << QByteArray("caf\xC3\xA9 \xE6\x9E\x84 \xF0\x9F\xA6\x80\n");
        QTest::newRow("rustc error colours")
            << QByteArray("\x1b[0m\x1b[1m\x1b[38;5;9merror[E0308]\x1b[0m\x1b[0m\x1b[1m: mismatched\x1b[0m\n");
        QTest::newRow("truecolour with colons") << QByteArray("\x1b[38:2::255:0:0mred\x1b[m");
        QTest::newRow("reset") << QByteArray("\x1b[mx");
    }
    void terminalTextKeepsColoursAndText()
    {
        QFETCH(QByteArray, text);
        QCOMPARE(QByteArray::fromStdString(terminalSafeText(text.toStdString())), text);
    }

    void terminalTextDropsWhatDrivesTheTerminal_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("title set, BEL") << QByteArray("a\x1b]0;owned\x07z") << QByteArray("az");
        QTest::newRow("title set, ST") << QByteArray("a\x1b]2;owned\x1b\\z") << QByteArray("az");
        QTest::newRow("hyperlink") << QByteArray("\x1b]8;;http://x.example/\x1b\\link\x1b]8;;\x1b\\")
                                   << QByteArray("link");
        QTest::newRow("clear screen") << QByteArray("a\x1b[2Jb") << QByteArray("ab");
        QTest::newRow("cursor moves") << QByteArray("\x1b[H\x1b[10;5Hx\x1b[3A\x1b[?25l") << QByteArray("x");
        QTest::newRow("private SGR-looking") << QByteArray("\x1b[?1m.") << QByteArray(".");
        QTest::newRow("SGR with intermediates") << QByteArray("\x1b[1 m.") << QByteArray(".");
        QTest::newRow("erase line") << QByteArray("\x1b[Kx") << QByteArray("x");
        QTest::newRow("reset terminal") << QByteArray("\x1b"
                                                      "cx")
                                        << QByteArray("x");
        QTest::newRow("charset") << QByteArray("\x1b(0qqq\x1b(B") << QByteArray("qqq");
        QTest::newRow("DCS") << QByteArray("\x1bP+q544e\x1b\\ok") << QByteArray("ok");
        QTest::newRow("APC") << QByteArray("\x1b_Gpayload\x1b\\ok") << QByteArray("ok");
        QTest::newRow("C0 controls") << QByteArray("a\x07"
                                                   "b\x08"
                                                   "c\x7f"
                                                   "d\x00"
                                                   "e",
                                                   9)
                                     << QByteArray("a?b?c?d?e");
        QTest::newRow("8-bit CSI") << QByteArray("\xC2\x9B"
                                                 "2J")
                                   << QByteArray("?2J");
        QTest::newRow("right-to-left override") << QByteArray("a\xE2\x80\xAE"
                                                              "b")
                                                << QByteArray("a?b");
        QTest::newRow("bad UTF-8") << QByteArray("\xff\xfe|\xC0\xAF|\xED\xA0\x80|\xE6\x9E")
                                   << QByteArray("??|??|???|??");
        QTest::newRow("broken CSI keeps the line break")
            << QByteArray("\x1b[12\nnext") << QByteArray("\nnext");
        QTest::newRow("unterminated OSC ends at the line")
            << QByteArray("\x1b]0;title\nvisible\n") << QByteArray("\nvisible\n");
        QTest::newRow("ESC before text") << QByteArray("\x1b\xC3\xA9") << QByteArray("\xC3\xA9");
        QTest::newRow("oversized SGR")
            << QByteArray("\x1b[" + QByteArray(200, '1') + "mx") << QByteArray("x");
    }
    void terminalTextDropsWhatDrivesTheTerminal()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        const std::string out = terminalSafeText(text.toStdString());
        QCOMPARE(QByteArray::fromStdString(out), expected);
        QCOMPARE(terminalSafeText(out), out); // what it lets through passes again unchanged
    }

    void terminalTextGivesTheSameInAnyPieces()
    {
        const std::string text = "\x1b[1;31merror\x1b[0m \xE6\x9E\x84\x1b]0;t\x07 x\x1b[2J\xF0\x9F\xA6\x80\n"
                                 "\x1b]8;;u\x1b\\l\x1b]8;;\x1b\\\xff end";
        const std::string whole = terminalSafeText(text);
        QVERIFY(whole.find("\x1b[1;31m") != std::string::npos);
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            TerminalTextFilter filter;
            std::string out = filter.feed(std::string_view(text).substr(0, cut));
            out += filter.feed(std::string_view(text).substr(cut));
            out += filter.finish();
            QVERIFY2(out == whole, qPrintable(QString("cut at %1").arg(cut)));
        }
        // Byte by byte.
        TerminalTextFilter filter;
        std::string out;
        for (const char c : text)
            out += filter.feed(std::string_view(&c, 1));
        out += filter.finish();
        QCOMPARE(out, whole);
        // A character cut by the end of the stream.
        TerminalTextFilter cutShort;
        QCOMPARE(cutShort.feed("ab\xE6\x9E"), std::string("ab"));
        QCOMPARE(cutShort.finish(), std::string("??"));
    }

    void terminalTextBoundsAStringSequence()
    {
        // An OSC that never ends swallows at most 4096 bytes, then text shows again.
        const std::string text = "\x1b]0;" + std::string(5000, 'a') + "b";
        const std::string out = terminalSafeText(text);
        QVERIFY(out.size() < 1000);
        QVERIFY(out.ends_with("b"));
        QVERIFY(out.find('\x1b') == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafeText)
#include "TestSafeText.moc"
