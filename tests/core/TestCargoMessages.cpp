// SPDX-License-Identifier: GPL-3.0-or-later
// cargo's JSON messages, read from real `cargo build --offline
// --message-format=json-diagnostic-rendered-ansi` runs of a workspace this
// test writes, and hostile lines that must never be taken for a message.
#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/CargoMessages.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace headroom;

namespace {

void write(const QString& path, const QByteArray& text)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(text);
}

struct CargoRun {
    int exitCode = -1;
    QByteArray out; // standard output: the JSON messages
    QByteArray err; // standard error: status lines
};

CargoRun cargo(const QString& dir, const QStringList& args)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("CARGO_TERM_COLOR", "never");
    p.setProcessEnvironment(env);
    p.start("cargo", args);
    CargoRun run;
    if (!p.waitForFinished(240000))
        return run;
    run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    return run;
}

// Feeds in small pieces, as output arrives.
CargoMessageParser::Text feed(CargoMessageParser& p, std::string_view text, std::size_t chunk = 7)
{
    CargoMessageParser::Text all;
    for (std::size_t i = 0; i < text.size(); i += chunk) {
        auto t = p.feed(text.substr(i, chunk));
        all.log += t.log;
        all.other += t.other;
    }
    auto t = p.finish();
    all.log += t.log;
    all.other += t.other;
    return all;
}

std::string_view view(const QByteArray& bytes)
{
    return {bytes.constData(), std::size_t(bytes.size())};
}

// A library with a warning, an example that builds, one with a type error,
// and a test that prints.
class Workspace {
  public:
    Workspace()
    {
        root_ = dir_.path() + "/json ws";
        write(root_ + "/Cargo.toml",
              "[package]\nname = \"jsondemo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        write(root_ + "/src/lib.rs", "pub fn answer() -> u32 { let unused = 1; 42 }\n\n"
                                     "#[test]\nfn prints() { println!(\"{{\\\"not\\\": \\\"cargo\\\"}}\"); "
                                     "println!(\"plain line from the test\"); }\n");
        write(root_ + "/examples/hello.rs", "fn main() { println!(\"{}\", jsondemo::answer()); }\n");
        write(root_ + "/examples/broken.rs",
              "fn main() {\n    let x: u32 = \"text\";\n    println!(\"{}\", x);\n}\n");
    }
    QString root() const { return root_; }

  private:
    QTemporaryDir dir_;
    QString root_;
};

const QStringList kJson{"--offline", "--message-format=json-diagnostic-rendered-ansi"};

} // namespace

class TestCargoMessages : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("cargo").isEmpty())
            QFAIL("cargo is not on PATH: scripts/dev.sh test installs it");
    }

    void realBuildReportsWarningsArtifactsAndSuccess()
    {
        Workspace ws;
        const CargoRun run = cargo(ws.root(), QStringList{"build", "--example", "hello"} + kJson);
        QCOMPARE(run.exitCode, 0);
        CargoMessageParser p;
        const auto text = feed(p, view(run.out));
        QVERIFY(p.sawMessages());
        QCOMPARE(p.ignoredLines(), std::size_t(0));
        QVERIFY(text.other.empty()); // a build's standard output is all messages
        QCOMPARE(p.buildFinished().value_or(false), true);
        QCOMPARE(p.errorCount(), 0u);
        QCOMPARE(p.warningCount(), 1u);
        QVERIFY(!p.firstError());
        const CargoDiagnostic& w = p.diagnostics().at(0);
        QCOMPARE(w.level, std::string("warning"));
        QCOMPARE(w.code, std::string("unused_variables"));
        QCOMPARE(w.location, std::string("src/lib.rs:1:30"));
        QCOMPARE(w.target.name, std::string("jsondemo"));
        QVERIFY(w.target.is("lib"));
        QCOMPARE(packageNameOf(w.packageId), std::string("jsondemo"));
        // The log shows what a terminal would: the rendered text, in colour.
        QVERIFY2(text.log.find("unused variable: `unused`") != std::string::npos, text.log.c_str());
        QVERIFY(text.log.find("\x1b[") != std::string::npos);
        QVERIFY(stripAnsi(text.log).find("--> src/lib.rs:1:30") != std::string::npos);
        QVERIFY(text.log.find("\"reason\"") == std::string::npos);

        const CargoArtifact* hello = p.artifactOf("example", "hello");
        QVERIFY(hello);
        QVERIFY(!hello->fresh);
        QVERIFY2(QFileInfo(QString::fromStdString(hello->executable)).isExecutable(),
                 hello->executable.c_str());
        QVERIFY(hello->executable.ends_with("/debug/examples/hello"));
        QVERIFY(!p.artifactOf("bin", "hello"));
        const CargoArtifact* lib = p.artifactOf("lib", "jsondemo");
        QVERIFY(lib);
        QVERIFY(lib->executable.empty());
        QVERIFY(!lib->filenames.empty());

        // Built again: nothing rebuilt, every artifact still reported, as fresh.
        const CargoRun again = cargo(ws.root(), QStringList{"build", "--example", "hello"} + kJson);
        CargoMessageParser q;
        feed(q, view(again.out), 4096);
        QVERIFY(q.artifactOf("example", "hello"));
        QVERIFY(q.artifactOf("example", "hello")->fresh);
        QCOMPARE(q.artifactOf("example", "hello")->executable, hello->executable);
    }

    void realCompileErrorHasItsPlaceTargetAndCount()
    {
        Workspace ws;
        const CargoRun run = cargo(ws.root(), QStringList{"build", "--example", "broken"} + kJson);
        QCOMPARE(run.exitCode, 101);
        CargoMessageParser p;
        const auto text = feed(p, view(run.out), 13);
        QCOMPARE(p.buildFinished().value_or(true), false);
        QCOMPARE(p.errorCount(), 1u);
        const CargoDiagnostic* e = p.firstError();
        QVERIFY(e);
        QCOMPARE(e->code, std::string("E0308"));
        QCOMPARE(e->message, std::string("mismatched types"));
        QCOMPARE(e->headline(), std::string("error[E0308]: mismatched types"));
        QCOMPARE(e->location, std::string("examples/broken.rs:2:18"));
        QCOMPARE(e->target.name, std::string("broken"));
        QVERIFY(e->target.is("example"));
        QVERIFY(stripAnsi(e->rendered).starts_with("error[E0308]: mismatched types\n"));
        QVERIFY(stripAnsi(text.log).find("expected `u32`, found `&str`") != std::string::npos);
        QVERIFY(!p.artifactOf("example", "broken"));

        // The diagnosis says it with the JSON's words; the terminal text
        // (standard error) alone has only cargo's "could not compile".
        CargoOutputParser terminal;
        terminal.feed(view(run.err));
        terminal.finish();
        QVERIFY(!terminal.firstError());
        BuildOutcomeFacts facts;
        facts.exitCode = 101;
        const BuildDiagnosis d = diagnoseBuild(facts, terminal, BuildPreset::B, &p);
        QCOMPARE(d.verdict, BuildVerdict::CompileError);
        QCOMPARE(d.summary, std::string("Compile error: error[E0308]: mismatched types"));
        QVERIFY2(d.detail.find("at examples/broken.rs:2:18") != std::string::npos, d.detail.c_str());
        QVERIFY2(d.detail.find("in example broken of package jsondemo") != std::string::npos,
                 d.detail.c_str());
        QVERIFY(d.nextStep.find("examples/broken.rs:2:18") != std::string::npos);
        // Without the messages the same run is just a failure.
        QCOMPARE(diagnoseBuild(facts, terminal, BuildPreset::B).verdict, BuildVerdict::Failed);
    }

    void twoErrorsAreCounted()
    {
        Workspace ws;
        write(ws.root() + "/examples/broken.rs", "fn main() {\n    let x: u32 = \"text\";\n    let y: bool = "
                                                 "3;\n    println!(\"{} {}\", x, y);\n}\n");
        const CargoRun run = cargo(ws.root(), QStringList{"build", "--example", "broken"} + kJson);
        CargoMessageParser p;
        feed(p, view(run.out));
        QCOMPARE(p.errorCount(), 2u);
        BuildOutcomeFacts facts;
        facts.exitCode = run.exitCode;
        const BuildDiagnosis d = diagnoseBuild(facts, CargoOutputParser(), BuildPreset::A, &p);
        QVERIFY2(d.summary.ends_with("(2 errors)"), d.summary.c_str());
    }

    // `cargo test` prints the tests' own output on the same standard output:
    // it passes through untouched, JSON-looking lines included.
    void testOutputPassesThrough()
    {
        Workspace ws;
        const CargoRun run =
            cargo(ws.root(), QStringList{"test", "--lib"} + kJson + QStringList{"--", "--nocapture"});
        QCOMPARE(run.exitCode, 0);
        CargoMessageParser p;
        const auto text = feed(p, view(run.out), 5);
        QVERIFY(p.sawMessages());
        QVERIFY(p.artifactOf("lib", "jsondemo"));
        QVERIFY2(text.other.find("plain line from the test\n") != std::string::npos, text.other.c_str());
        QVERIFY(text.other.find("{\"not\": \"cargo\"}\n") != std::string::npos);
        QVERIFY(text.other.find("test result: ok") != std::string::npos);
        QVERIFY(text.log.find("plain line from the test\n") != std::string::npos);
        QVERIFY(text.other.find("\"reason\"") == std::string::npos);
        QCOMPARE(p.ignoredLines(), std::size_t(0)); // valid JSON that is not cargo's is output, not an error
    }

    void hostileLinesAreCountedNeverTrusted()
    {
        CargoMessageParser p;
        std::string input;
        input +=
            "{\"reason\":\"compiler-message\",\"message\":{\"level\":\"error\",\"message\":\"cut\"\n"; // truncated
        input += "{\"reason\":\"compiler-message\",\"message\":{\"level\":\"error\",\"message\":\"bad "
                 "\xff\xfe utf8\"}}\n";
        input += "{\"reason\":\"x\"," + std::string(100000, '[') + "\n"; // nested far too deep
        input += "{\"reason\":\"compiler-artifact\",\"target\":5,\"filenames\":\"x\",\"fresh\":\"yes\","
                 "\"executable\":7}\n";
        input +=
            "{\"reason\":\"compiler-message\",\"message\":{\"level\":3,\"spans\":[{\"is_primary\":\"yes\"}],"
            "\"code\":[]}}\n";
        input += "{\"reason\":\"build-finished\",\"success\":\"maybe\"}\n";
        input += "{\"reason\":7}\n";
        input += "[1, 2, 3]\n";
        input += "{\"type\":\"test\",\"event\":\"ok\"}\r\n";
        input += "{} trailing\n";
        input += std::string("\0\0\0{", 4) + "\n";
        const auto text = feed(p, input, 3);
        // Truncated, invalid UTF-8, nested too deep, bytes after the object; the
        // rest are JSON that is not cargo's or not JSON at all: program output.
        QCOMPARE(p.malformedLines(), std::size_t(4));
        QCOMPARE(p.errorCount(), 0u);
        QCOMPARE(p.artifacts().size(), std::size_t(1));
        QVERIFY(p.artifacts()[0].target.name.empty());
        QVERIFY(p.artifacts()[0].executable.empty());
        QVERIFY(!p.artifacts()[0].fresh);
        QVERIFY(!p.buildFinished());
        QVERIFY(text.other.find("[1, 2, 3]\n") != std::string::npos);
        QVERIFY(text.other.find("\"type\":\"test\"") != std::string::npos);
        QVERIFY(text.other.find("{\"reason\":7}\n") != std::string::npos);
        QVERIFY(text.other.find(std::string("\0\0\0{\n", 5)) != std::string::npos);
        // Not read as a message, but not hidden either: shown as it came.
        QVERIFY(text.other.find("bad \xff\xfe utf8") != std::string::npos);
        QVERIFY(p.ignoredNote().find("4 lines that looked like cargo messages were not read as messages: 4 "
                                     "not a valid message.") != std::string::npos);
    }

    void overlongLinesAreBounded()
    {
        CargoMessageParser p;
        const std::size_t big = CargoMessageParser::kMaxMessageLine + 12345;
        std::string message =
            "{\"reason\":\"compiler-message\",\"message\":{\"level\":\"error\",\"message\":\"";
        message += std::string(big, 'a') + "\"}}\n";
        std::string output(big * 2 + 7, 'b');
        output += '\n';
        const std::string valid = "{\"reason\":\"build-finished\",\"success\":true}\n";
        CargoMessageParser::Text text;
        for (const std::string* part : std::initializer_list<const std::string*>{&message, &output, &valid}) {
            for (std::size_t i = 0; i < part->size(); i += 65536) {
                auto t = p.feed(std::string_view(*part).substr(i, 65536));
                text.log += t.log;
                text.other += t.other;
                // Never more held than one line's bound.
                QVERIFY(text.log.size() <= 3 * big + 1000);
            }
        }
        QCOMPARE(p.tooLongLines(), std::size_t(1));
        QCOMPARE(p.errorCount(), 0u);
        QVERIFY(text.log.find("longer than 4 MiB was left out") != std::string::npos);
        // Program output is shown whole, in pieces no longer than the bound.
        std::size_t bs = 0, run = 0, longest = 0;
        for (char c : text.other) {
            bs += c == 'b';
            run = c == '\n' ? 0 : run + 1;
            longest = std::max(longest, run);
        }
        QCOMPARE(bs, output.size() - 1);
        QCOMPARE(longest, CargoMessageParser::kMaxMessageLine);
        QCOMPARE(p.buildFinished().value_or(false), true); // the line after is read again
        QVERIFY(p.ignoredNote().find("1 longer than 4 MiB") != std::string::npos);
    }

    // Real lines cut, flipped and spliced at random (a fixed seed): never a crash.
    void mangledRealLinesNeverCrash()
    {
        Workspace ws;
        const CargoRun run = cargo(ws.root(), QStringList{"build", "--example", "broken"} + kJson);
        const std::string real(view(run.out));
        QVERIFY(real.size() > 1000);
        std::mt19937 random(20261202);
        for (int round = 0; round < 300; ++round) {
            std::string mangled = real;
            for (int k = 0; k < 8; ++k) {
                const std::size_t at = random() % mangled.size();
                switch (random() % 4) {
                case 0:
                    mangled[at] = char(random() % 256);
                    break;
                case 1:
                    mangled.erase(at, random() % 40);
                    break;
                case 2:
                    mangled.insert(at, real.substr(random() % real.size(), random() % 200));
                    break;
                default:
                    mangled.insert(at, 1, "{[\"\\\n"[random() % 5]);
                }
                if (mangled.empty())
                    mangled = "x";
            }
            CargoMessageParser p;
            feed(p, mangled, 1 + random() % 300);
            QVERIFY(p.errorCount() <= 2);
        }
    }

    // A linker killed by signal 9 is told only in a diagnostic's note.
    void linkerKilledInADiagnostic()
    {
        CargoMessageParser p;
        feed(
            p,
            "{\"reason\":\"compiler-message\",\"package_id\":\"path+file:///w#big@0.1.0\","
            "\"target\":{\"kind\":[\"bin\"],\"name\":\"big\"},\"message\":{\"level\":\"error\","
            "\"message\":\"linking with `cc` failed: exit status: 1\",\"code\":null,\"spans\":[],"
            "\"rendered\":\"\\u001b[1m\\u001b[91merror\\u001b[0m: linking with `cc` failed: exit status: 1\\n"
            "  |\\n  = note: collect2: fatal error: ld terminated with signal 9 [Killed]\\n\"}}\n");
        QCOMPARE(p.killed().size(), std::size_t(1));
        QVERIFY(p.killed()[0].linker);
        BuildOutcomeFacts facts;
        facts.exitCode = 101;
        facts.lowestAvailableFraction = 0.02;
        facts.lowestHeadroomFraction = 0.03;
        const BuildDiagnosis d = diagnoseBuild(facts, CargoOutputParser(), BuildPreset::C, &p);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY(d.summary.find("the linker") != std::string::npos);
    }

    void packageNames()
    {
        QCOMPARE(packageNameOf("path+file:///tmp/ws#demo@0.1.0"), std::string("demo"));
        QCOMPARE(packageNameOf("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.1"),
                 std::string("serde"));
        QCOMPARE(packageNameOf("path+file:///tmp/demo#0.1.0"), std::string("demo"));
        QCOMPARE(packageNameOf("demo 0.1.0 (path+file:///tmp/ws)"), std::string("demo"));
        QCOMPARE(packageNameOf(""), std::string());
    }

    void planAsksForTheMessagesUnlessTheUserChoseAFormat()
    {
        BuildRequest r;
        r.projectDir = "/p";
        r.targetKind = TargetKind::Example;
        r.targetName = "hello";
        const BuildPlan c = planBuild(r, BuildPreset::C);
        QCOMPARE(c.steps.size(), std::size_t(2));
        for (const auto& step : c.steps) {
            QCOMPARE(step.messageFormat, std::string("json-diagnostic-rendered-ansi"));
            const auto args = step.commandArgs();
            QCOMPARE(std::count(args.begin(), args.end(), "--message-format=json-diagnostic-rendered-ansi"),
                     1);
            // The line people copy is cargo's human one.
            QVERIFY(step.displayLine().find("message-format") == std::string::npos);
        }
        for (const auto& extra : {std::vector<std::string>{"--message-format", "short"},
                                  std::vector<std::string>{"--message-format=json"}}) {
            r.extraArgs = extra;
            const BuildPlan own = planBuild(r, BuildPreset::A);
            QVERIFY(own.steps[0].messageFormat.empty());
            QCOMPARE(own.steps[0].commandArgs(), own.steps[0].args);
        }
        // What follows "--" is the program's: the format goes before it.
        r.extraArgs = {"--", "--message-format=mine"};
        const BuildPlan dashes = planBuild(r, BuildPreset::B);
        const auto args = dashes.steps[0].commandArgs();
        const auto format =
            std::find(args.begin(), args.end(), "--message-format=json-diagnostic-rendered-ansi");
        QVERIFY(format != args.end());
        QVERIFY(format < std::find(args.begin(), args.end(), "--"));
        QVERIFY(cargoTakesMessageFormat("build"));
        QVERIFY(cargoTakesMessageFormat("test"));
        QVERIFY(!cargoTakesMessageFormat("install"));
        QVERIFY(!cargoTakesMessageFormat("fmt"));
    }
};

QTEST_GUILESS_MAIN(TestCargoMessages)
#include "TestCargoMessages.moc"
