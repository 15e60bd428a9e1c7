// SPDX-License-Identifier: GPL-3.0-or-later
// Cargo's output as it streams, and the diagnosis made from it.
#include "headroom/BuildDiagnosis.h"
#include "headroom/CargoOutput.h"

#include <QtTest>

using namespace headroom;

namespace {
CargoOutputParser parse(std::string_view text, std::size_t chunk = 7)
{
    CargoOutputParser p;
    // Feed in small pieces: output arrives in arbitrary chunks.
    for (std::size_t i = 0; i < text.size(); i += chunk)
        p.feed(text.substr(i, chunk));
    p.finish();
    return p;
}

// What cargo 1.95 printed here for `cargo build --example demo` with
// CARGO_TERM_PROGRESS_WHEN=always (progress redraws end in \r).
const char* kProgress = "   Compiling ws1 v0.1.0 (/tmp/ws1)\n"
                        "    Building [                         ] 0/2: ws1                    \r"
                        "    Building [============>            ] 1/2: demo(example)          \r"
                        "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 1.15s\n";

const char* kOomKilledRustc =
    "   Compiling numpy v0.20.0\n"
    "   Compiling pyphi v0.1.0 (/home/dev/pyphi)\n"
    "error: could not compile `pyphi` (lib)\n\n"
    "Caused by:\n"
    "  process didn't exit successfully: `/home/dev/.rustup/toolchains/stable/bin/rustc --crate-name pyphi "
    "--edition=2021 src/lib.rs` (signal: 9, SIGKILL: kill)\n";

const char* kLinkerKilled = "   Compiling pyphi v0.1.0 (/home/dev/pyphi)\n"
                            "error: linking with `cc` failed: exit status: 1\n"
                            "  = note: collect2: fatal error: ld terminated with signal 9 [Killed]\n"
                            "          compilation terminated.\n";

const char* kCompileError = "   Compiling demo v0.1.0 (/tmp/demo)\n"
                            "error[E0308]: mismatched types\n"
                            " --> src/main.rs:3:18\n"
                            "  |\n"
                            "3 |     let x: u32 = \"text\";\n"
                            "  |            ---   ^^^^^^ expected `u32`, found `&str`\n"
                            "error: could not compile `demo` (bin \"demo\") due to 1 previous error\n";
} // namespace

class TestCargoOutput : public QObject {
    Q_OBJECT

  private slots:
    // Standard output's non-message lines come in between standard error's
    // reads: a partial line of the one is not joined to the other's.
    void linesOfASecondStreamLeaveAPartialLineAlone()
    {
        CargoOutputParser p;
        p.feed("   Compiling de");
        p.feedLines("error[E0599]: no method named `x`\n --> src/lib.rs:2:7\nplain\n");
        p.feed("mo v0.1.0\n");
        p.finish();
        QCOMPARE(p.compiledCount(), 1u);
        QVERIFY(p.firstError());
        QCOMPARE(p.firstError()->headline, std::string("error[E0599]: no method named `x`"));
        QCOMPARE(p.firstError()->location, std::string("src/lib.rs:2:7"));
        QCOMPARE(p.lineCount(), std::size_t(4));
    }

    void killedProcessInOneLine()
    {
        const auto k =
            killedProcessIn("  process didn't exit successfully: `rustc --crate-name big src/lib.rs` "
                            "(signal: 9, SIGKILL: kill)");
        QVERIFY(k);
        QCOMPARE(k->crate, std::string("big"));
        QVERIFY(!k->linker);
        QVERIFY(
            killedProcessIn("= note: collect2: fatal error: ld terminated with signal 9 [Killed]")->linker);
        QVERIFY(!killedProcessIn("error[E0308]: mismatched types"));
    }

    void progressFromRealOutput()
    {
        const auto p = parse(kProgress);
        QVERIFY(p.progress());
        QCOMPARE(p.progress()->done, 1u);
        QCOMPARE(p.progress()->total, 2u);
        QCOMPARE(p.progress()->compilingNow, std::vector<std::string>{"demo(example)"});
        QVERIFY(p.finished());
        QCOMPARE(p.compiledCount(), 1u);
        QCOMPARE(p.lineCount(), std::size_t(2)); // progress redraws are not lines
        QVERIFY(!p.firstError());
    }

    void progressLine()
    {
        auto p = parseProgressLine("Building [=====>    ] 42/140: serde(build), syn, tokio...");
        QVERIFY(p);
        QCOMPARE(p->done, 42u);
        QCOMPARE(p->total, 140u);
        QCOMPARE(p->compilingNow, (std::vector<std::string>{"serde(build)", "syn", "tokio"}));
        QVERIFY(!parseProgressLine("Building the thing"));
        QVERIFY(!parseProgressLine("Compiling x"));
    }

    void ansiIsStripped()
    {
        QCOMPARE(stripAnsi("\x1b[1m\x1b[32m   Compiling\x1b[0m foo\x1b[K"), std::string("   Compiling foo"));
        QCOMPARE(stripAnsi("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), std::string("link"));
        const auto p = parse("\x1b[1m\x1b[31merror[E0425]\x1b[0m: cannot find value `y`\n  "
                             "\x1b[34m-->\x1b[0m src/lib.rs:1:1\n");
        QVERIFY(p.firstError());
        QCOMPARE(p.firstError()->headline, std::string("error[E0425]: cannot find value `y`"));
        QCOMPARE(p.firstError()->location, std::string("src/lib.rs:1:1"));
    }

    void lockWaiting()
    {
        CargoOutputParser p;
        p.feed("    Blocking waiting for file lock on build directory\n");
        QVERIFY(p.waitingForLock());
        p.feed("   Compiling a v0.1.0\n");
        QVERIFY(!p.waitingForLock());
    }

    void compileError()
    {
        const auto p = parse(kCompileError);
        QVERIFY(p.firstError());
        QCOMPARE(p.firstError()->headline, std::string("error[E0308]: mismatched types"));
        QCOMPARE(p.firstError()->location, std::string("src/main.rs:3:18"));
        QCOMPARE(p.firstErrorLine().value_or(99), std::size_t(1));
        QVERIFY(p.killed().empty());

        BuildOutcomeFacts f;
        f.exitCode = 101;
        const auto d = diagnoseBuild(f, p, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::CompileError);
        QVERIFY(d.detail.find("src/main.rs:3:18") != std::string::npos);
        QVERIFY(!d.nextPreset);
    }

    void sigkillWithOomSignIsOutOfMemory()
    {
        const auto p = parse(kOomKilledRustc);
        QCOMPARE(p.killed().size(), std::size_t(1));
        QCOMPARE(p.killed()[0].crate, std::string("pyphi"));
        QVERIFY(!p.killed()[0].linker);
        QVERIFY(!p.firstError()); // "could not compile" is a summary, not the cause

        BuildOutcomeFacts f;
        f.exitCode = 101; // cargo's exit, not 137
        f.oomKillsBefore = 3;
        f.oomKillsAfter = 4;
        f.lowestAvailableFraction = 0.08; // the counter alone is no evidence
        const auto d = diagnoseBuild(f, p, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(d.summary.find("rustc (crate pyphi)") != std::string::npos, d.summary.c_str());
        QVERIFY(d.detail.find("from 3 to 4") != std::string::npos);
        QCOMPARE(d.nextPreset.value(), BuildPreset::B);
    }

    void sigkillWithoutOomSignIsAnotherKill()
    {
        const auto p = parse(kOomKilledRustc);
        BuildOutcomeFacts f;
        f.exitCode = 101;
        f.oomKillsBefore = 3;
        f.oomKillsAfter = 3;
        f.lowestAvailableFraction = 0.6;
        f.lowestHeadroomFraction = 0.6;
        auto d = diagnoseBuild(f, p, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::KilledBySignal);
        QVERIFY(d.summary.find("not for lack of memory") != std::string::npos);
        QVERIFY(!d.nextPreset);
        f.macOS = true;
        d = diagnoseBuild(f, p, BuildPreset::A);
        QVERIFY(d.nextStep.find("code-signing") != std::string::npos);
    }

    void nearlyExhaustedMemoryCountsAsOom()
    {
        CargoOutputParser none;
        BuildOutcomeFacts f;
        f.exitCode = 137;
        f.lowestAvailableFraction = 0.02;
        f.lowestHeadroomFraction = 0.03;
        const auto d = diagnoseBuild(f, none, BuildPreset::B);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY(d.detail.find("fell to 2%") != std::string::npos);
        QCOMPARE(d.nextPreset.value(), BuildPreset::D); // debug failed: nothing lighter than B is left
    }

    void ladder()
    {
        const auto linker = parse(kLinkerKilled);
        QCOMPARE(linker.killed().size(), std::size_t(1));
        QVERIFY(linker.killed()[0].linker);
        BuildOutcomeFacts f;
        f.signal = 9;
        f.oomKillsBefore = 0;
        f.oomKillsAfter = 1;
        f.lowestAvailableFraction = 0.05;
        auto d = diagnoseBuild(f, linker, BuildPreset::C);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QCOMPARE(d.nextPreset.value(), BuildPreset::D);
        QVERIFY(d.nextStep.find("link step") != std::string::npos);

        f.jobs = 6;
        d = diagnoseBuild(f, linker, BuildPreset::Auto);
        QCOMPARE(d.nextPreset.value(), BuildPreset::Auto);
        QCOMPARE(d.nextJobs.value(), 3u);
        f.jobs = 1;
        d = diagnoseBuild(f, linker, BuildPreset::Auto);
        QCOMPARE(d.nextPreset.value(), BuildPreset::B);
        d = diagnoseBuild(f, linker, BuildPreset::D);
        QVERIFY(!d.nextPreset);
    }

    void successAndMissingArtifact()
    {
        const auto p = parse(kProgress);
        BuildOutcomeFacts f;
        f.exitCode = 0;
        f.artifactExpected = true;
        f.artifactExists = true;
        QCOMPARE(diagnoseBuild(f, p, BuildPreset::A).verdict, BuildVerdict::Succeeded);
        f.artifactExists = false;
        QCOMPARE(diagnoseBuild(f, p, BuildPreset::A).verdict, BuildVerdict::MissingArtifact);
        f.cancelledByUser = true;
        f.exitCode.reset();
        f.signal = 15;
        QCOMPARE(diagnoseBuild(f, p, BuildPreset::A).verdict, BuildVerdict::Cancelled);
    }

    void otherSignalAndPlainFailure()
    {
        CargoOutputParser none;
        BuildOutcomeFacts f;
        f.signal = 15;
        auto d = diagnoseBuild(f, none, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::KilledBySignal);
        QVERIFY(d.summary.find("SIGTERM") != std::string::npos);
        f.signal.reset();
        f.exitCode = 2;
        d = diagnoseBuild(f, none, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::Failed);
        QVERIFY(d.summary.find("exit code 2") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestCargoOutput)
#include "TestCargoOutput.moc"
