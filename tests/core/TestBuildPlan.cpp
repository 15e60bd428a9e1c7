// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildDiagnosis.h"
#include "headroom/BuildPlan.h"
#include "headroom/Units.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace headroom;

namespace {
BuildRequest pyphi()
{
    BuildRequest r;
    r.projectDir = "/home/dev/pyphi";
    r.targetKind = TargetKind::Example;
    r.targetName = "pyphi_validation";
    r.features = "pyphi";
    r.profile = "release";
    return r;
}

using Args = std::vector<std::string>;
} // namespace

class TestBuildPlan : public QObject {
    Q_OBJECT

  private slots:
    void presetAIsTheReportsOptionA()
    {
        const BuildPlan plan = planBuild(pyphi(), BuildPreset::A);
        QCOMPARE(plan.steps.size(), std::size_t(1));
        const BuildStep& step = plan.steps[0];
        QCOMPARE(step.program, std::string("cargo"));
        QCOMPARE(step.args,
                 (Args{"build", "--features", "pyphi", "--example", "pyphi_validation", "--release"}));
        QCOMPARE(step.environment.at("CARGO_BUILD_JOBS"), std::string("1"));
        QCOMPARE(step.environment.at("CARGO_TERM_PROGRESS_WHEN"), std::string("always"));
        QCOMPARE(step.workingDir, std::string("/home/dev/pyphi"));
        QCOMPARE(plan.jobs.value_or(0), 1u);
        QCOMPARE(plan.artifactPath, std::string("/home/dev/pyphi/target/release/examples/pyphi_validation"));
        QVERIFY(!plan.freeMemoryFirst);
        QVERIFY(step.displayLine().find("CARGO_BUILD_JOBS=1 ") != std::string::npos);
        QVERIFY(step.displayLine().ends_with(
            "cargo build --features pyphi --example pyphi_validation --release"));
    }

    void presetAKeepsACustomProfile()
    {
        BuildRequest r = pyphi();
        r.profile = "dist-fast";
        r.targetKind = TargetKind::Bin;
        r.targetName = "tsz";
        r.package = "tsz-cli";
        const BuildPlan plan = planBuild(r, BuildPreset::A);
        QCOMPARE(plan.steps[0].args, (Args{"build", "-p", "tsz-cli", "--features", "pyphi", "--bin", "tsz",
                                           "--profile", "dist-fast"}));
        QCOMPARE(plan.artifactPath, std::string("/home/dev/pyphi/target/dist-fast/tsz"));
    }

    void presetBIsDebug()
    {
        const BuildPlan plan = planBuild(pyphi(), BuildPreset::B);
        QCOMPARE(plan.steps.size(), std::size_t(1));
        QCOMPARE(plan.steps[0].args, (Args{"build", "--features", "pyphi", "--example", "pyphi_validation"}));
        QVERIFY(!plan.steps[0].environment.count("CARGO_BUILD_JOBS"));
        QCOMPARE(plan.artifactPath, std::string("/home/dev/pyphi/target/debug/examples/pyphi_validation"));
        QVERIFY(plan.note.find("10x slower") != std::string::npos);
    }

    void presetCIsTwoSteps()
    {
        BuildRequest r = pyphi();
        r.extraArgs = {"--locked"};
        const BuildPlan plan = planBuild(r, BuildPreset::C);
        QCOMPARE(plan.steps.size(), std::size_t(2));
        QCOMPARE(plan.steps[0].args,
                 (Args{"build", "--features", "pyphi", "--lib", "--release", "--locked"}));
        QCOMPARE(plan.steps[1].args, (Args{"build", "--features", "pyphi", "--example", "pyphi_validation",
                                           "--release", "--locked"}));
        QVERIFY(plan.steps[0].title.starts_with("Step 1"));
        QVERIFY(plan.steps[1].title.starts_with("Step 2"));
    }

    void presetDFreesMemoryThenRunsA()
    {
        const BuildPlan d = planBuild(pyphi(), BuildPreset::D);
        const BuildPlan a = planBuild(pyphi(), BuildPreset::A);
        QVERIFY(d.freeMemoryFirst);
        QCOMPARE(d.steps[0].args, a.steps[0].args);
        QCOMPARE(d.steps[0].environment, a.steps[0].environment);
    }

    void autoUsesTheChosenJobs()
    {
        AutoJobsInput in;
        in.availableBytes = 18 * GiB + GiB / 5;
        in.cpus = 4;
        const JobsChoice choice = chooseJobs(in);
        QCOMPARE(choice.jobs, 4u);
        QVERIFY2(choice.explanation.find("= 8, capped at 4 CPUs → -j 4") != std::string::npos,
                 choice.explanation.c_str());
        QVERIFY(choice.explanation.find("no history yet") != std::string::npos);
        const BuildPlan plan = planBuild(pyphi(), BuildPreset::Auto, choice);
        QCOMPARE(plan.steps[0].args.back(), std::string("4"));
        QCOMPARE(plan.jobs.value_or(0), 4u);
        QCOMPARE(plan.jobsExplanation, choice.explanation);
    }

    void jobsArithmetic_data()
    {
        QTest::addColumn<qulonglong>("available");
        QTest::addColumn<qulonglong>("learned");
        QTest::addColumn<uint>("cpus");
        QTest::addColumn<uint>("jobs");
        QTest::newRow("plenty, capped by cpus") << qulonglong(30 * GiB) << qulonglong(0) << 4u << 4u;
        QTest::newRow("the report: 1.4 GiB free")
            << qulonglong(GiB + 2 * GiB / 5) << qulonglong(0) << 16u << 1u;
        QTest::newRow("learned 3 GiB peak") << qulonglong(13 * GiB) << qulonglong(3 * GiB) << 16u << 4u;
        QTest::newRow("nothing available") << qulonglong(0) << qulonglong(0) << 8u << 1u;
    }

    void jobsArithmetic()
    {
        QFETCH(qulonglong, available);
        QFETCH(qulonglong, learned);
        QFETCH(uint, cpus);
        QFETCH(uint, jobs);
        AutoJobsInput in;
        in.availableBytes = available;
        if (learned)
            in.learnedPeakPerJob = learned;
        in.cpus = cpus;
        QCOMPARE(chooseJobs(in).jobs, jobs);
    }

    void windowsArtifactAndTargetDir()
    {
        BuildRequest r = pyphi();
        r.targetDir = "D:/cache/target";
        QCOMPARE(planBuild(r, BuildPreset::A, {}, true).artifactPath,
                 std::string("D:/cache/target/release/examples/pyphi_validation.exe"));
    }

    void hostileNamesStayOneArgument()
    {
        BuildRequest r = pyphi();
        r.features = "a; rm -rf ~";
        r.targetName = "$(reboot)";
        const BuildPlan plan = planBuild(r, BuildPreset::A);
        const auto& args = plan.steps[0].args;
        QVERIFY(std::find(args.begin(), args.end(), "a; rm -rf ~") != args.end());
        QVERIFY(std::find(args.begin(), args.end(), "$(reboot)") != args.end());
        QVERIFY(plan.steps[0].displayLine().find("'a; rm -rf ~'") != std::string::npos);
        QVERIFY(plan.steps[0].displayLine().find("'$(reboot)'") != std::string::npos);
    }

    void profiles()
    {
        QCOMPARE(profileDirectory("dev"), std::string("debug"));
        QCOMPARE(profileDirectory("release"), std::string("release"));
        QCOMPARE(profileDirectory("dist-fast"), std::string("dist-fast"));
        for (auto p : {BuildPreset::A, BuildPreset::B, BuildPreset::C, BuildPreset::D, BuildPreset::Auto,
                       BuildPreset::Custom})
            QCOMPARE(presetFromId(presetId(p)).value(), p);
        QCOMPARE(presetFromId("a").value(), BuildPreset::A);
        QVERIFY(!presetFromId("E"));
    }

    void nextCommandCarriesTheWholeRequest()
    {
        BuildRequest r = pyphi();
        r.package = "core pkg";
        r.extraArgs = {"--offline", "-Z", "unstable opts"};
        r.thenRun = {"./run", "it's here"};
        r.profile = "bench-lite";
        r.cargoProgram = "/opt/cargo";
        const Args argv = nextBuildCommand(r, BuildPreset::B);
        QCOMPARE(argv, (Args{"headroom",   "build",
                             "--project",  "/home/dev/pyphi",
                             "--preset",   "B",
                             "--package",  "core pkg",
                             "--example",  "pyphi_validation",
                             "--features", "pyphi",
                             "--profile",  "bench-lite",
                             "--args",     "--offline -Z 'unstable opts'",
                             "--then-run", "./run 'it'\\''s here'",
                             "--cargo",    "/opt/cargo"}));
        QCOMPARE(splitArguments(argv[15]).value(), r.extraArgs);
        QCOMPARE(splitArguments(argv[17]).value(), r.thenRun);
        // -j goes with the preset that asked for it.
        const Args withJobs = nextBuildCommand(pyphi(), BuildPreset::Auto, 3u);
        QCOMPARE(Args(withJobs.begin() + 4, withJobs.begin() + 8), (Args{"--preset", "auto", "--jobs", "3"}));
        r.targetKind = TargetKind::Lib;
        const Args lib = nextBuildCommand(r, BuildPreset::D);
        QVERIFY(std::find(lib.begin(), lib.end(), "--lib") != lib.end());
    }

    void nextCommandLineIsSafeToPaste()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        BuildRequest r = pyphi();
        r.projectDir = (dir.path() + "/oom $(touch pwned)").toStdString();
        r.features = "a;touch pwned2";
        r.extraArgs = {"`touch pwned3`", "$HOME", "x\ny"};
        const Args argv = nextBuildCommand(r, BuildPreset::B, 1u);
        const std::string line = nextBuildCommandLine(r, BuildPreset::B, 1u);
        // The shell parses the line into words and prints them; nothing in it may run.
        QProcess sh;
        sh.setWorkingDirectory(dir.path());
        sh.start("sh", {"-c", QString::fromStdString("set -- " + line +
                                                     "; for a in \"$@\"; do printf '%s\\0' \"$a\"; done")});
        QVERIFY(sh.waitForFinished(10000));
        QCOMPARE(sh.exitCode(), 0);
        Args parsed;
        for (const QByteArray& w : sh.readAllStandardOutput().split('\0'))
            parsed.push_back(w.toStdString());
        parsed.pop_back(); // after the last NUL
        QCOMPARE(parsed, argv);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::NoDotAndDotDot), QStringList());
        QCOMPARE(splitArguments(line).value(), argv);
    }

    void jobsFromTheRequestSetThePlan()
    {
        BuildRequest r = pyphi();
        r.jobs = 3;
        const BuildPlan a = planBuild(r, BuildPreset::A);
        QCOMPARE(a.jobs.value(), 3u);
        QCOMPARE(a.steps[0].environment.at("CARGO_BUILD_JOBS"), std::string("3"));
        const BuildPlan automatic = planBuild(r, BuildPreset::Auto, JobsChoice{2, "two"});
        QCOMPARE(automatic.jobs.value(), 3u);
        const auto& args = automatic.steps[0].args;
        const auto j = std::find(args.begin(), args.end(), "-j");
        QVERIFY(j != args.end() && j + 1 != args.end());
        QCOMPARE(*(j + 1), std::string("3"));
        const BuildPlan c = planBuild(r, BuildPreset::C);
        for (const auto& step : c.steps)
            QCOMPARE(step.environment.at("CARGO_BUILD_JOBS"), std::string("3"));
    }

    void ladderFollowsWhatFailed()
    {
        CargoOutputParser none;
        BuildOutcomeFacts f;
        f.signal = 9;
        f.cgroupOomKillsBefore = 0;
        f.cgroupOomKillsAfter = 1;
        QCOMPARE(diagnoseBuild(f, none, BuildPreset::A).nextPreset.value(), BuildPreset::B);
        // Debug failed: a staged release build needs more, so free memory.
        QCOMPARE(diagnoseBuild(f, none, BuildPreset::B).nextPreset.value(), BuildPreset::D);
        QCOMPARE(diagnoseBuild(f, none, BuildPreset::C).nextPreset.value(), BuildPreset::D);
        f.jobs = 4;
        auto d = diagnoseBuild(f, none, BuildPreset::Auto);
        QCOMPARE(d.nextPreset.value(), BuildPreset::Auto);
        QCOMPARE(d.nextJobs.value(), 2u);
        // One unit in flight when it died: halving -j changes nothing.
        CargoOutputParser one;
        one.feed("    Building [=====>     ] 41/42: pyphi\r");
        d = diagnoseBuild(f, one, BuildPreset::Auto);
        QCOMPARE(d.nextPreset.value(), BuildPreset::B);
        QVERIFY(!d.nextJobs);
        CargoOutputParser two;
        two.feed("    Building [=====>     ] 40/42: pyphi, numpy\r");
        QCOMPARE(diagnoseBuild(f, two, BuildPreset::Auto).nextJobs.value(), 2u);
    }

    void machineOomCounterAloneIsNoEvidence()
    {
        CargoOutputParser none;
        BuildOutcomeFacts f;
        f.signal = 9;
        f.oomKillsBefore = 5;
        f.oomKillsAfter = 6;
        f.lowestAvailableFraction = 0.8;
        f.lowestHeadroomFraction = 0.8;
        auto d = diagnoseBuild(f, none, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::KilledBySignal);
        QVERIFY2(d.detail.find("elsewhere") != std::string::npos, d.detail.c_str());
        // With memory near the limit it is a guess, and said as one.
        f.lowestAvailableFraction = 0.07;
        d = diagnoseBuild(f, none, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(d.summary.rfind("Probably out of memory", 0) == 0, d.summary.c_str());
        // The build's own cgroup counting the kill is evidence.
        f.lowestAvailableFraction = 0.8;
        f.cgroupOomKillsBefore = 0;
        f.cgroupOomKillsAfter = 1;
        d = diagnoseBuild(f, none, BuildPreset::A);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(d.summary.rfind("Out of memory", 0) == 0, d.summary.c_str());
    }

    void theBuildsOwnScopeIsCertain()
    {
        CargoOutputParser none;
        BuildOutcomeFacts f;
        // make says "Error 2", not a signal: the scope's count is the evidence.
        f.exitCode = 2;
        f.cgroupIsBuildScope = true;
        f.cgroupOomKillsBefore = 0;
        f.cgroupOomKillsAfter = 2;
        f.cgroupLimitBytes = 4 * GiB;
        f.cgroupHitMax = true;
        f.cgroupMaxEvents = 3;
        auto d = diagnoseBuild(f, none, BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QCOMPARE(d.summary,
                 std::string("Out of memory: the build's scope hit its MemoryMax of 4.0 GiB and the kernel "
                             "killed the build (SIGKILL)."));
        QVERIFY2(d.detail.find("The build's scope counted 2 OOM kill(s).") != std::string::npos,
                 d.detail.c_str());
        QVERIFY2(d.detail.find("reached MemoryMax (4.0 GiB) 3 times") != std::string::npos, d.detail.c_str());
        QCOMPARE(d.nextPreset.value(), BuildPreset::A);

        // A kill in the scope far below its limit: out of memory, but not at MemoryMax.
        f.cgroupHitMax = false;
        f.cgroupMaxEvents = 0;
        d = diagnoseBuild(f, none, BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(d.summary.rfind("Out of memory: the kernel killed", 0) == 0, d.summary.c_str());
        QVERIFY2(d.summary.find("MemoryMax") == std::string::npos, d.summary.c_str());

        // The scope's last count was never read (its folder went with its last
        // process), but it was at MemoryMax when rustc got SIGKILL.
        BuildOutcomeFacts unread;
        unread.exitCode = 101;
        unread.cgroupIsBuildScope = true;
        unread.cgroupLimitBytes = 4 * GiB;
        unread.cgroupHitMax = true;
        unread.cgroupMaxEvents = 9;
        unread.cgroupOomKillsBefore = 0;
        unread.cgroupOomKillsAfter = 0;
        CargoOutputParser killedRustc;
        killedRustc.feed(
            "error: could not compile `big` (lib)\n\nCaused by:\n  process didn't exit successfully: "
            "`rustc --crate-name big` (signal: 9, SIGKILL: kill)\n");
        d = diagnoseBuild(unread, killedRustc, BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::OutOfMemory);
        QVERIFY2(
            d.summary.rfind("Probably out of memory: the build's scope hit its MemoryMax of 4.0 GiB", 0) == 0,
            d.summary.c_str());
        // The machine's counter rising too makes it certain.
        unread.oomKillsBefore = 3;
        unread.oomKillsAfter = 4;
        d = diagnoseBuild(unread, killedRustc, BuildPreset::Custom);
        QVERIFY2(d.summary.rfind("Out of memory: the build's scope hit its MemoryMax of 4.0 GiB", 0) == 0,
                 d.summary.c_str());
        // Far from MemoryMax, nothing counted: a SIGKILL from elsewhere.
        unread.cgroupHitMax = false;
        unread.oomKillsAfter = 3;
        QCOMPARE(diagnoseBuild(unread, killedRustc, BuildPreset::Custom).verdict,
                 BuildVerdict::KilledBySignal);

        // Not the build's own scope (a login session's cgroup): exit 2 alone says nothing of memory.
        f.cgroupIsBuildScope = false;
        d = diagnoseBuild(f, none, BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::Failed);

        // No kill counted: a failure is a failure, throttled or not.
        f.cgroupIsBuildScope = true;
        f.cgroupOomKillsAfter = 0;
        f.cgroupThrottled = true;
        f.cgroupHighEvents = 40;
        QCOMPARE(diagnoseBuild(f, none, BuildPreset::Custom).verdict, BuildVerdict::Failed);
    }

    void throttlingIsToldAfterASuccess()
    {
        BuildOutcomeFacts f;
        f.exitCode = 0;
        f.cgroupIsBuildScope = true;
        auto d = diagnoseBuild(f, CargoOutputParser(), BuildPreset::Custom);
        QCOMPARE(d.verdict, BuildVerdict::Succeeded);
        QVERIFY(d.detail.empty());
        f.cgroupThrottled = true;
        f.cgroupHighEvents = 1;
        d = diagnoseBuild(f, CargoOutputParser(), BuildPreset::Custom);
        QVERIFY2(d.detail.rfind("It was slowed down once at MemoryHigh", 0) == 0, d.detail.c_str());
        f.cgroupHighEvents = 250;
        f.cgroupHighBytes = 3 * GiB / 2;
        d = diagnoseBuild(f, CargoOutputParser(), BuildPreset::Custom);
        QVERIFY2(d.detail.rfind("It was slowed down 250 times at MemoryHigh (1.5 GiB)", 0) == 0,
                 d.detail.c_str());
    }

    void splitting()
    {
        QCOMPARE(splitArguments("--locked -Z 'unstable opts' \"a b\" c\\ d").value(),
                 (Args{"--locked", "-Z", "unstable opts", "a b", "c d"}));
        QVERIFY(splitArguments("").value().empty());
        QVERIFY(!splitArguments("'unclosed"));
        // joinArguments is its inverse, quoting only where needed.
        const std::vector<std::string> words = {"--locked", "unstable opts", "it's", "", "a\\b", "$HOME"};
        QCOMPARE(splitArguments(joinArguments(words)).value(), words);
        QCOMPARE(joinArguments({"-p", "demo"}), std::string("-p demo"));
    }
};

QTEST_GUILESS_MAIN(TestBuildPlan)
#include "TestBuildPlan.moc"
