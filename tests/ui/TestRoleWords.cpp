// SPDX-License-Identifier: GPL-3.0-or-later
// The window's role and state words are the core's table (headroom/Words.h),
// in the process table, the tree and the chart legend alike.
#include "headroom/Words.h"
#include "services/WordsText.h"
#include "ui/ChartsPanel.h"
#include "ui/ProcessColumns.h"
#include "ui/TimeChart.h"

#include <QtTest>

using namespace headroom;

namespace {
QString core(std::string_view word)
{
    return QString::fromUtf8(word.data(), qsizetype(word.size()));
}
} // namespace

class TestRoleWords : public QObject {
    Q_OBJECT

  private slots:
    void tableCellsUseTheCoreWords()
    {
        for (ProcessRole role : kAllRoles) {
            const QString shown = ui::ProcessColumns::roleText(role);
            if (role == ProcessRole::Other)
                QVERIFY2(shown.isEmpty(), qPrintable(shown)); // left blank so the builds stand out
            else
                QCOMPARE(shown, core(roleLabel(role)));
            QCOMPARE(services::roleLabelText(role), core(roleWords(role).label));
            QCOMPARE(services::roleNounText(role, false), core(roleNoun(role, false)));
            QCOMPARE(services::roleNounText(role, true), core(roleNoun(role, true)));
        }
        for (ProcessState state : kAllStates)
            QCOMPARE(ui::ProcessColumns::stateText(state), core(stateWord(state)));
        // A process as the table shows it.
        ProcessSample p;
        p.role = ProcessRole::BuildScript;
        p.state = ProcessState::Stopped;
        QCOMPARE(ui::ProcessColumns::data(p, ui::ProcessColumns::Role, Qt::DisplayRole).toString(),
                 QStringLiteral("build script"));
        QCOMPARE(ui::ProcessColumns::data(p, ui::ProcessColumns::State, Qt::DisplayRole).toString(),
                 QStringLiteral("paused"));
    }

    void chartLegendUsesTheCoreWords()
    {
        ui::ChartsPanel panel;
        auto* chart = panel.findChild<ui::TimeChart*>(QStringLiteral("roleChart"));
        QVERIFY(chart);
        QCOMPARE(chart->graphCount(), int(kRoleCount));
        for (ProcessRole role : kAllRoles)
            QCOMPARE(chart->graph(int(roleIndex(role)))->name(), core(roleLabel(role)));
    }

    void everyWordIsThere()
    {
        QStringList labels;
        for (ProcessRole role : kAllRoles) {
            QVERIFY(!roleWords(role).id.empty() && !roleWords(role).singular.empty() &&
                    !roleWords(role).plural.empty() && !roleLabel(role).empty());
            QVERIFY2(!labels.contains(core(roleLabel(role))), qPrintable(core(roleLabel(role))));
            labels << core(roleLabel(role));
            QCOMPARE(roleFromId(roleId(role)), std::optional<ProcessRole>(role));
        }
        for (ProcessState state : kAllStates)
            QCOMPARE(stateLetter(state), stateWords(state).letter);
        // Out-of-range values read as the catch-all, never past the table.
        QCOMPARE(roleLabel(static_cast<ProcessRole>(250)), roleLabel(ProcessRole::Other));
        QCOMPARE(stateWord(static_cast<ProcessState>(250)), stateWord(ProcessState::Unknown));
    }
};

QTEST_MAIN(TestRoleWords)
#include "TestRoleWords.moc"
