// SPDX-License-Identifier: GPL-3.0-or-later
// Run records and the runs folder on real files and real processes: the
// status round trip, refusals with reasons, a dead supervisor found out,
// atomic replacement, the history inbox, pruning, where the folder is.
#include "headroom/AtomicFile.h"
#include "headroom/Platform.h"
#include "headroom/RunRecord.h"
#include "headroom/RunsFolder.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string slurp(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void spit(const fs::path& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> names(const fs::path& dir)
{
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

ProcessKey selfKey()
{
    const auto me = platform::identify(platform::currentPid());
    if (!me)
        qFatal("cannot identify this process");
    return me->key;
}

// A child that sleeps until killed; its key, once it runs.
struct Child {
    pid_t pid = -1;
    ProcessKey key;
    Child()
    {
        pid = ::fork();
        if (pid == 0) {
            ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (auto id = platform::identify(pid); id && id->name == "sleep") {
                key = id->key;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        qFatal("the child did not start");
    }
    void end()
    {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
            pid = -1;
        }
    }
    ~Child() { end(); }
};

RunStatus full()
{
    RunStatus s;
    RunSpec& spec = s.spec;
    spec.id = "20261202-061813-4242-ab12";
    spec.origin = RunOrigin::HeadlessBuild;
    spec.title = "A \xc2\xb7 tsz";
    spec.project = "/home/dev/tsz";
    spec.request.projectDir = "/home/dev/tsz";
    spec.request.package = "tsz-core";
    spec.request.targetKind = TargetKind::Example;
    spec.request.targetName = "bench";
    spec.request.features = "a,b";
    spec.request.profile = "dev";
    spec.request.extraArgs = {"--locked", "-Z", "x"};
    spec.request.thenRun = {"./bench", "--fast"};
    spec.request.targetDir = "/tmp/target";
    spec.request.cargoProgram = "/opt/cargo";
    spec.request.jobs = 3;
    spec.preset = BuildPreset::C;
    spec.jobs = 2;
    BuildStep one;
    one.title = "Build the library";
    one.program = "cargo";
    one.args = {"build", "-p", "tsz-core", "--", "after"};
    one.environment = {{"CARGO_BUILD_JOBS", "2"}, {"RUSTFLAGS", "-C debuginfo=0"}};
    one.workingDir = "/home/dev/tsz";
    one.messageFormat = "json-diagnostic-rendered-ansi";
    BuildStep two;
    two.title = "Link";
    two.program = "make";
    spec.steps = {one, two};
    spec.artifactPath = "/tmp/target/debug/examples/bench";
    spec.targetPackage = "tsz-core";
    spec.targetKind = "example";
    spec.targetName = "bench";
    spec.targetFeatures = "a,b";
    spec.historyPath = "/home/dev/.local/share/headroom/history.sqlite";
    spec.oomScoreAdj = 800;
    spec.graceMs = 4500;
    spec.memoryHigh = 3ull << 30;
    spec.memoryMax = 4ull << 30;
    spec.createdMs = 1764656293000;
    spec.pool = true;
    spec.poolStartTokens = 3;
    s.state = RunState::Finished;
    s.supervisor = ProcessKey{4242, 987654321};
    s.startedMs = 1764656293100;
    s.updatedMs = 1764656393100;
    s.endedMs = 1764656393200;
    s.step = 1;
    RunStepStatus a;
    a.root = ProcessKey{4243, 987654400};
    a.exitCode = 0;
    a.startedMs = 1764656293100;
    a.endedMs = 1764656353100;
    RunStepStatus b;
    b.root = ProcessKey{4300, 987659999};
    b.signal = 9;
    b.startedMs = 1764656353200;
    b.endedMs = 1764656393100;
    s.steps = {a, b};
    s.done = 41;
    s.total = 42;
    s.compilingNow = {"tsz", "numpy"};
    s.waitingForLock = true;
    s.lockHolder = "cargo build (pid 77)";
    s.treeBytes = 123456789;
    s.peakTreeBytes = 9876543210;
    s.peakSystemUsed = 30000000000;
    s.peakByCrate = {{"tsz", 5000000000}, {"numpy", 1200000000}};
    s.containment = "systemd user scope headroom-x-0.scope";
    s.cgroupDir = "/sys/fs/cgroup/user.slice/headroom-x-0.scope";
    s.stopRequested = true;
    s.exitCode = 101;
    s.signal = 9;
    s.seconds = 100.25;
    BuildDiagnosis d;
    d.verdict = BuildVerdict::OutOfMemory;
    d.summary = "Out of memory: the build's scope hit its MemoryMax of 4.0 GiB";
    d.detail = "line one\nline two";
    d.nextPreset = BuildPreset::D;
    d.nextJobs = 1;
    d.nextStep = "Try D.";
    s.diagnosis = d;
    s.artifactPath = "/tmp/target/debug/examples/bench";
    s.artifactSize = 123456;
    s.executables = {"/tmp/a", "/tmp/b"};
    s.errorCount = 2;
    s.warningCount = 7;
    s.stepsRun = 2;
    s.thenRunExitCode = 4;
    s.problem = "none really";
    PoolStatus& p = s.pool;
    p.active = true;
    p.problem = "the pool folder was a file once";
    p.granted = 2;
    p.inUse = 1;
    p.poolGranted = 3;
    p.poolBuilds = 2;
    p.cpus = 4;
    p.budgetBytes = 3435973836;
    p.limitBytes = 4294967296;
    p.limit = "container limit 4.0 GiB";
    p.reserveBytes = 1073741824;
    p.predictedBytes = 2147483648;
    p.heldBack = "the next job (serde_derive, 1.2 GiB learned) does not fit in the 0.8 GiB left";
    p.paused = {"tsz (pid 77)", "build script of ring"};
    p.oomRetries = 1;
    p.retryCrate = "tsz";
    p.parallelism = {{0, 1}, {250, 2}, {500, 3}, {9000000000, 1}};
    return s;
}

RunStatus starting(const std::string& id, std::int64_t createdMs)
{
    RunStatus s;
    s.spec.id = id;
    s.spec.createdMs = createdMs;
    BuildStep step;
    step.program = "true";
    s.spec.steps = {step};
    return s;
}

RunStatus finished(const std::string& id, std::int64_t startedMs)
{
    RunStatus s = starting(id, startedMs - 10);
    s.state = RunState::Finished;
    s.startedMs = startedMs;
    s.endedMs = startedMs + 1000;
    s.exitCode = 0;
    s.diagnosis = BuildDiagnosis{BuildVerdict::Succeeded, "The build succeeded.", {}, {}, {}, {}};
    return s;
}

// The status's JSON with one field replaced.
std::string withField(const RunStatus& s, const char* key, const QJsonValue& value)
{
    QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(toJson(s))).object();
    o[QString::fromLatin1(key)] = value;
    return QJsonDocument(o).toJson().toStdString();
}

void setEnv(const char* name, const char* value)
{
    if (value)
        ::setenv(name, value, 1);
    else
        ::unsetenv(name);
}

} // namespace

class TestRunRecord : public QObject {
    Q_OBJECT

  private slots:
    void everyFieldRoundTrips()
    {
        const RunStatus s = full();
        const auto parsed = parseRunStatus(toJson(s));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const RunStatus& r = parsed.value();
        const RunSpec& a = s.spec;
        const RunSpec& b = r.spec;
        QCOMPARE(b.id, a.id);
        QCOMPARE(b.origin, a.origin);
        QCOMPARE(b.title, a.title);
        QCOMPARE(b.project, a.project);
        QCOMPARE(b.request.projectDir, a.request.projectDir);
        QCOMPARE(b.request.package, a.request.package);
        QCOMPARE(b.request.targetKind, a.request.targetKind);
        QCOMPARE(b.request.targetName, a.request.targetName);
        QCOMPARE(b.request.features, a.request.features);
        QCOMPARE(b.request.profile, a.request.profile);
        QCOMPARE(b.request.extraArgs, a.request.extraArgs);
        QCOMPARE(b.request.thenRun, a.request.thenRun);
        QCOMPARE(b.request.targetDir, a.request.targetDir);
        QCOMPARE(b.request.cargoProgram, a.request.cargoProgram);
        QCOMPARE(b.request.jobs, a.request.jobs);
        QCOMPARE(b.preset, a.preset);
        QCOMPARE(b.jobs, a.jobs);
        QCOMPARE(b.steps.size(), a.steps.size());
        for (std::size_t i = 0; i < a.steps.size(); ++i) {
            QCOMPARE(b.steps[i].title, a.steps[i].title);
            QCOMPARE(b.steps[i].program, a.steps[i].program);
            QCOMPARE(b.steps[i].args, a.steps[i].args);
            QCOMPARE(b.steps[i].environment, a.steps[i].environment);
            QCOMPARE(b.steps[i].workingDir, a.steps[i].workingDir);
            QCOMPARE(b.steps[i].messageFormat, a.steps[i].messageFormat);
        }
        QCOMPARE(b.artifactPath, a.artifactPath);
        QCOMPARE(b.targetPackage, a.targetPackage);
        QCOMPARE(b.targetKind, a.targetKind);
        QCOMPARE(b.targetName, a.targetName);
        QCOMPARE(b.targetFeatures, a.targetFeatures);
        QCOMPARE(b.historyPath, a.historyPath);
        QCOMPARE(b.oomScoreAdj, a.oomScoreAdj);
        QCOMPARE(b.graceMs, a.graceMs);
        QCOMPARE(b.memoryHigh, a.memoryHigh);
        QCOMPARE(b.memoryMax, a.memoryMax);
        QCOMPARE(b.createdMs, a.createdMs);
        QCOMPARE(b.pool, a.pool);
        QCOMPARE(b.poolStartTokens, a.poolStartTokens);

        QCOMPARE(r.state, s.state);
        QCOMPARE(r.supervisor, s.supervisor);
        QCOMPARE(r.startedMs, s.startedMs);
        QCOMPARE(r.updatedMs, s.updatedMs);
        QCOMPARE(r.endedMs, s.endedMs);
        QCOMPARE(r.step, s.step);
        QCOMPARE(r.steps.size(), s.steps.size());
        for (std::size_t i = 0; i < s.steps.size(); ++i) {
            QCOMPARE(r.steps[i].root, s.steps[i].root);
            QCOMPARE(r.steps[i].exitCode, s.steps[i].exitCode);
            QCOMPARE(r.steps[i].signal, s.steps[i].signal);
            QCOMPARE(r.steps[i].startedMs, s.steps[i].startedMs);
            QCOMPARE(r.steps[i].endedMs, s.steps[i].endedMs);
        }
        QCOMPARE(r.done, s.done);
        QCOMPARE(r.total, s.total);
        QCOMPARE(r.compilingNow, s.compilingNow);
        QCOMPARE(r.waitingForLock, s.waitingForLock);
        QCOMPARE(r.lockHolder, s.lockHolder);
        QCOMPARE(r.treeBytes, s.treeBytes);
        QCOMPARE(r.peakTreeBytes, s.peakTreeBytes);
        QCOMPARE(r.peakSystemUsed, s.peakSystemUsed);
        QCOMPARE(r.peakByCrate, s.peakByCrate);
        QCOMPARE(r.containment, s.containment);
        QCOMPARE(r.cgroupDir, s.cgroupDir);
        QCOMPARE(r.stopRequested, s.stopRequested);
        QCOMPARE(r.exitCode, s.exitCode);
        QCOMPARE(r.signal, s.signal);
        QCOMPARE(r.seconds, s.seconds);
        QVERIFY(r.diagnosis);
        QCOMPARE(r.diagnosis->verdict, s.diagnosis->verdict);
        QCOMPARE(r.diagnosis->summary, s.diagnosis->summary);
        QCOMPARE(r.diagnosis->detail, s.diagnosis->detail);
        QCOMPARE(r.diagnosis->nextPreset, s.diagnosis->nextPreset);
        QCOMPARE(r.diagnosis->nextJobs, s.diagnosis->nextJobs);
        QCOMPARE(r.diagnosis->nextStep, s.diagnosis->nextStep);
        QCOMPARE(r.artifactPath, s.artifactPath);
        QCOMPARE(r.artifactSize, s.artifactSize);
        QCOMPARE(r.executables, s.executables);
        QCOMPARE(r.errorCount, s.errorCount);
        QCOMPARE(r.warningCount, s.warningCount);
        QCOMPARE(r.stepsRun, s.stepsRun);
        QCOMPARE(r.thenRunExitCode, s.thenRunExitCode);
        QCOMPARE(r.problem, s.problem);
        const PoolStatus& p = s.pool;
        const PoolStatus& q = r.pool;
        QCOMPARE(q.active, p.active);
        QCOMPARE(q.problem, p.problem);
        QCOMPARE(q.granted, p.granted);
        QCOMPARE(q.inUse, p.inUse);
        QCOMPARE(q.poolGranted, p.poolGranted);
        QCOMPARE(q.poolBuilds, p.poolBuilds);
        QCOMPARE(q.cpus, p.cpus);
        QCOMPARE(q.budgetBytes, p.budgetBytes);
        QCOMPARE(q.limitBytes, p.limitBytes);
        QCOMPARE(q.limit, p.limit);
        QCOMPARE(q.reserveBytes, p.reserveBytes);
        QCOMPARE(q.predictedBytes, p.predictedBytes);
        QCOMPARE(q.heldBack, p.heldBack);
        QCOMPARE(q.paused, p.paused);
        QCOMPARE(q.oomRetries, p.oomRetries);
        QCOMPARE(q.retryCrate, p.retryCrate);
        QVERIFY(q.parallelism == p.parallelism);
        // And once more through the text: nothing drifts.
        QCOMPARE(toJson(r), toJson(s));
    }

    void unsetOptionalsStayUnset()
    {
        const RunStatus s = starting("plain", 5);
        const auto r = parseRunStatus(toJson(s));
        QVERIFY2(r.ok(), r.error().c_str());
        QVERIFY(!r->supervisor);
        QVERIFY(!r->spec.memoryHigh);
        QVERIFY(!r->spec.memoryMax);
        QVERIFY(!r->spec.jobs);
        QVERIFY(!r->diagnosis);
        QVERIFY(!r->exitCode);
        QVERIFY(!r->thenRunExitCode);
        QCOMPARE(r->state, RunState::Starting);
        QVERIFY(!r->spec.pool);
        QCOMPARE(r->spec.poolStartTokens, 0u);
        QVERIFY(!r->pool.active);
        QVERIFY(r->pool.parallelism.empty());
    }

    void aStatusWithoutThePoolReadsAsNoPool()
    {
        // A status an older supervisor wrote has no "pool" at all.
        QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(toJson(full()))).object();
        o.remove(QStringLiteral("pool"));
        QJsonObject spec = o["spec"].toObject();
        spec.remove(QStringLiteral("pool"));
        spec.remove(QStringLiteral("poolStartTokens"));
        o["spec"] = spec;
        const auto r = parseRunStatus(QJsonDocument(o).toJson().toStdString());
        QVERIFY2(r.ok(), r.error().c_str());
        QVERIFY(!r->spec.pool);
        QVERIFY(!r->pool.active);
        QCOMPARE(r->pool.granted, 0u);
    }

    void aLongParallelismSeriesIsThinnedWhenRead()
    {
        RunStatus s = starting("long", 5);
        s.pool.active = true;
        for (std::int64_t i = 0; i < 5000; ++i)
            s.pool.parallelism.emplace_back(i * 250, unsigned(1 + i % 3));
        const auto r = parseRunStatus(toJson(s));
        QVERIFY2(r.ok(), r.error().c_str());
        const auto& series = r->pool.parallelism;
        QVERIFY2(series.size() <= 600, std::to_string(series.size()).c_str());
        QVERIFY(series.size() >= 500);
        // The whole run is still there, first to last, in order.
        QCOMPARE(series.front().first, std::int64_t(0));
        QCOMPARE(series.back().first, std::int64_t(4999 * 250));
        for (std::size_t i = 1; i < series.size(); ++i)
            QVERIFY(series[i].first > series[i - 1].first);
        // At the bound exactly, nothing is dropped.
        s.pool.parallelism.resize(600);
        const auto exact = parseRunStatus(toJson(s));
        QVERIFY2(exact.ok(), exact.error().c_str());
        QVERIFY(exact->pool.parallelism == s.pool.parallelism);
    }

    void textThatIsNotUtf8IsWrittenReplaced()
    {
        RunStatus s = starting("bytes", 5);
        s.spec.steps[0].args = {"caf\xe9\xff", "ok"};
        const std::string json = toJson(s);
        const auto r = parseRunStatus(json);
        QVERIFY2(r.ok(), r.error().c_str());
        QCOMPARE(r->spec.steps[0].args.size(), std::size_t(2));
        QCOMPARE(r->spec.steps[0].args[1], std::string("ok"));
        QVERIFY(r->spec.steps[0].args[0].rfind("caf", 0) == 0);
        QVERIFY(r->spec.steps[0].args[0] != "caf\xe9\xff");
    }

    void badStatusesAreRefusedWithAReason_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("reason");
        const RunStatus s = full();
        const std::string good = toJson(s);
        auto row = [](const char* name, const std::string& text, const char* reason) {
            QTest::newRow(name) << QByteArray::fromStdString(text) << QString::fromLatin1(reason);
        };
        row("torn", good.substr(0, good.size() / 2), "not a JSON object");
        row("empty", "", "not a JSON object");
        row("array", "[1,2]", "not a JSON object");
        row("not ours", R"({"format":"other","version":1})", "not a Headroom run status");
        row("format of the wrong type", withField(s, "format", 5), "not a Headroom run status");
        row("newer version", withField(s, "version", 2), "version 2; this Headroom reads version 1");
        row("version of the wrong type", withField(s, "version", QStringLiteral("1")), "no version number");
        row("no version", R"({"format":"headroom.run"})", "no version number");
        row("no spec", R"({"format":"headroom.run","version":1})", "\"spec\"");
        row("unknown state", withField(s, "state", QStringLiteral("exploded")), "\"state\"");
        row("exit code as text", withField(s, "exitCode", QStringLiteral("3")), "\"exitCode\"");
        row("negative count", withField(s, "errorCount", -1), "\"errorCount\"");
        row("fractional step", withField(s, "step", 1.5), "\"step\"");
        row("steps not a list", withField(s, "steps", QStringLiteral("x")), "\"steps\"");
        row("progress not an object", withField(s, "progress", 3), "\"progress\"");
        row("supervisor not an object", withField(s, "supervisor", 42), "\"supervisor\"");
        row("peak of the wrong type", withField(s, "peakByCrate", QJsonObject{{"tsz", "big"}}),
            "\"peakByCrate\"");
        row("diagnosis verdict unknown", withField(s, "diagnosis", QJsonObject{{"verdict", "maybe"}}),
            "\"diagnosis.verdict\"");
        QJsonObject pool =
            QJsonDocument::fromJson(QByteArray::fromStdString(good)).object()["pool"].toObject();
        row("pool not an object", withField(s, "pool", QStringLiteral("on")), "\"pool\"");
        auto poolWith = [&](const char* key, const QJsonValue& value) {
            QJsonObject o = pool;
            o[QString::fromLatin1(key)] = value;
            return withField(s, "pool", o);
        };
        row("pool tokens negative", poolWith("granted", -1), "\"pool.granted\"");
        row("pool budget as text", poolWith("budgetBytes", QStringLiteral("4G")), "\"pool.budgetBytes\"");
        row("pool active as a number", poolWith("active", 1), "\"pool.active\"");
        row("pool paused not a list", poolWith("paused", QStringLiteral("tsz")), "\"pool.paused\"");
        row("parallelism not a list", poolWith("parallelism", 3), "\"pool.parallelism\"");
        row("parallelism point not a pair", poolWith("parallelism", QJsonArray{QJsonArray{1, 2, 3}}),
            "\"pool.parallelism\"");
        row("parallelism point a number", poolWith("parallelism", QJsonArray{7}), "\"pool.parallelism\"");
        row("parallelism jobs negative", poolWith("parallelism", QJsonArray{QJsonArray{10, -2}}),
            "\"pool.parallelism\"");
        row("parallelism time fractional", poolWith("parallelism", QJsonArray{QJsonArray{1.5, 2}}),
            "\"pool.parallelism\"");
        QJsonObject spec =
            QJsonDocument::fromJson(QByteArray::fromStdString(good)).object()["spec"].toObject();
        spec["id"] = QStringLiteral("../../etc/passwd");
        row("id that is a path", withField(s, "spec", spec), "\"spec.id\"");
        spec["id"] = QStringLiteral("fine");
        spec["request"] = QStringLiteral("cargo build");
        row("request not an object", withField(s, "spec", spec), "\"spec.request\"");
        spec.remove("request");
        spec["memoryMax"] = QStringLiteral("4G");
        row("memory limit as text", withField(s, "spec", spec), "\"memoryMax\"");
        spec.remove("memoryMax");
        spec["pool"] = QStringLiteral("yes");
        row("spec pool as text", withField(s, "spec", spec), "\"pool\"");
        spec["pool"] = true;
        spec["poolStartTokens"] = -3;
        row("start tokens negative", withField(s, "spec", spec), "\"poolStartTokens\"");
    }

    void badStatusesAreRefusedWithAReason()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, reason);
        const auto r = parseRunStatus(text.toStdString());
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains(reason), r.error().c_str());
    }

    void aCorruptFileIsMovedAside()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "torn");
        const std::string good = toJson(starting("torn", nowMs()));
        const std::string torn = good.substr(0, good.size() - 20);
        spit(files.status, torn);
        const auto r = readStatusFile(files.status);
        QVERIFY(!r.ok());
        fs::path aside = files.status;
        aside += ".corrupt";
        QVERIFY2(r.error().find("moved aside to " + aside.string()) != std::string::npos, r.error().c_str());
        QVERIFY(!fs::exists(files.status));
        QCOMPARE(slurp(aside), torn);

        // listRuns reports it with its problem; the .corrupt file is not a run.
        spit(files.status, R"({"format":"headroom.run","version":7})");
        auto runs1 = listRuns(runs);
        QCOMPARE(runs1.size(), std::size_t(1));
        QVERIFY(!runs1[0].status);
        QVERIFY2(runs1[0].problem.find("version 7") != std::string::npos, runs1[0].problem.c_str());
        QVERIFY(listRuns(runs).empty());
        // The second damaged copy of one name does not replace the first.
        QCOMPARE(slurp(aside), torn);
        fs::path second = files.status;
        second += ".corrupt-1";
        QCOMPARE(slurp(second), std::string(R"({"format":"headroom.run","version":7})"));

        // A missing file is no run, and nothing is moved.
        const auto missing = readStatusFile(runs / "nothing.json");
        QVERIFY(!missing.ok());
        QVERIFY(!fs::exists(runs / "nothing.json.corrupt"));
    }

    void smallFilesAreReadWholeOrNotAtAll()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        QCOMPARE(readSmallFile(base / "none", 10).outcome, SmallFile::Outcome::Missing);
        QCOMPARE(readSmallFile(base / "none" / "deeper", 10).outcome, SmallFile::Outcome::Missing);

        // Exactly at the limit is read; one byte more is not one of ours.
        spit(base / "ten", std::string(10, 'x'));
        const SmallFile ten = readSmallFile(base / "ten", 10);
        QCOMPARE(ten.outcome, SmallFile::Outcome::Read);
        QCOMPARE(ten.text, std::string(10, 'x'));
        const SmallFile nine = readSmallFile(base / "ten", 9);
        QCOMPARE(nine.outcome, SmallFile::Outcome::TooLarge);
        QVERIFY(nine.text.empty());
        spit(base / "empty", "");
        QCOMPARE(readSmallFile(base / "empty", 9).outcome, SmallFile::Outcome::Read);

        // A folder where a status should be: not readable now, and left alone.
        const RunFiles files = RunFiles::of(base, "folder");
        fs::create_directory(files.status);
        const SmallFile folder = readSmallFile(files.status, 100);
        QCOMPARE(folder.outcome, SmallFile::Outcome::Unreadable);
        QVERIFY(!folder.why.empty());
        const auto status = readStatusFile(files.status);
        QVERIFY(!status.ok());
        QVERIFY2(status.error().find("cannot be read now") != std::string::npos, status.error().c_str());
        QVERIFY(fs::is_directory(files.status));
        QVERIFY(!fs::exists(base / "folder.json.corrupt"));
    }

    void aReaderSeesTheOldStatusOrTheNewNeverHalf()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const RunFiles files = RunFiles::of(runs, "busy");
        RunStatus a = starting("busy", nowMs());
        RunStatus b = a;
        b.state = RunState::Running;
        b.spec.title = std::string(3000, 'b'); // a longer file: a torn read would show
        QVERIFY(writeStatusAtomically(files.status, a).ok());
        std::atomic<bool> done{false};
        std::thread writer([&] {
            for (int i = 0; i < 400; ++i)
                (void)writeStatusAtomically(files.status, i % 2 ? a : b);
            done = true;
        });
        int reads = 0, failures = 0;
        std::string firstFailure;
        while (!done || reads < 50) {
            const auto read = readStatusFile(files.status);
            ++reads;
            if (!read.ok() || (read->spec.title != a.spec.title && read->spec.title != b.spec.title)) {
                if (failures++ == 0)
                    firstFailure = read.ok() ? "a torn title" : read.error();
            }
        }
        writer.join();
        QVERIFY2(failures == 0, firstFailure.c_str());
        QVERIFY(!fs::exists(runs / "busy.json.corrupt"));
    }

    void aDeadSupervisorIsFoundOut()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        Child supervisor;
        const ProcessKey dead = supervisor.key;
        supervisor.end();
        QVERIFY(!platform::isAlive(dead));

        RunStatus s = starting("lost", nowMs() - 5000);
        s.state = RunState::Running;
        s.supervisor = dead;
        RunStepStatus step;
        Child build;
        step.root = build.key;
        s.steps = {step};
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "lost").status, s).ok());

        const auto entries = listRuns(runs);
        QCOMPARE(entries.size(), std::size_t(1));
        const RunEntry& e = entries[0];
        QVERIFY(e.status);
        QCOMPARE(e.status->state, RunState::SupervisorLost);
        QVERIFY(!e.supervisorAlive);
        QVERIFY(e.buildAlive);
        QVERIFY2(e.problem.find("the build still runs") != std::string::npos, e.problem.c_str());
        // Rewritten so: the next reader sees it without looking at processes.
        const auto again = readStatusFile(RunFiles::of(runs, "lost").status);
        QVERIFY2(again.ok(), again.error().c_str());
        QCOMPARE(again->state, RunState::SupervisorLost);
        QCOMPARE(again->problem, e.problem);

        // The build gone too: said so.
        build.end();
        s.spec.id = "gone";
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "gone").status, s).ok());
        const auto gone = findRun(runs, "gone");
        QVERIFY2(gone.ok(), gone.error().c_str());
        QCOMPARE(gone->status->state, RunState::SupervisorLost);
        QVERIFY2(gone->problem.find("the build is gone too") != std::string::npos, gone->problem.c_str());

        // A live supervisor (this very process) is left alone.
        s.spec.id = "alive";
        s.supervisor = selfKey();
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "alive").status, s).ok());
        const auto alive = findRun(runs, "alive");
        QVERIFY(alive.ok());
        QCOMPARE(alive->status->state, RunState::Running);
        QVERIFY(alive->supervisorAlive);
        QVERIFY(alive->problem.empty());
    }

    void aYoungStartingRunIsLeftAlone()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const fs::path young = RunFiles::of(runs, "young").status;
        QVERIFY(writeStatusAtomically(young, starting("young", nowMs() - 2000)).ok());
        const std::string before = slurp(young);
        const auto e = findRun(runs, "young");
        QVERIFY(e.ok());
        QCOMPARE(e->status->state, RunState::Starting);
        QVERIFY(e->problem.empty());
        QCOMPARE(slurp(young), before);

        // No creation time (a front-end that did not set it): the file's own age counts.
        const fs::path undated = RunFiles::of(runs, "undated").status;
        QVERIFY(writeStatusAtomically(undated, starting("undated", 0)).ok());
        QCOMPARE(findRun(runs, "undated")->status->state, RunState::Starting);

        // Old by both clocks: its supervisor never came.
        const fs::path old = RunFiles::of(runs, "old").status;
        QVERIFY(writeStatusAtomically(old, starting("old", nowMs() - 60000)).ok());
        fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::minutes(1));
        const auto lost = findRun(runs, "old");
        QVERIFY(lost.ok());
        QCOMPARE(lost->status->state, RunState::SupervisorLost);
        QVERIFY2(lost->problem.rfind("Its supervisor never started:", 0) == 0, lost->problem.c_str());
    }

    void invalidIdsAreRefused()
    {
        QVERIFY(isValidRunId("20261202-061813-4242-ab12"));
        QVERIFY(isValidRunId("a_B-9"));
        QVERIFY(isValidRunId(std::string(64, 'x')));
        QVERIFY(!isValidRunId(std::string(65, 'x')));
        QVERIFY(!isValidRunId(""));
        QVERIFY(!isValidRunId("../x"));
        QVERIFY(!isValidRunId("a.json"));
        QVERIFY(!isValidRunId("a b"));
        QVERIFY(!isValidRunId(std::string("a\0b", 3)));
        for (int i = 0; i < 20; ++i)
            QVERIFY(isValidRunId(newRunId()));
        QVERIFY(newRunId() != newRunId());

        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const auto r = findRun(runs, "../\x1b]0;evil\x07");
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("is not a run id") != std::string::npos, r.error().c_str());
        QVERIFY2(r.error().find('\x1b') == std::string::npos, "a hostile id reached the message as it was");
        QVERIFY(!findRun(runs, "nosuchrun").ok());

        RunStatus s = finished("ok", nowMs());
        s.spec.id = "../escaped";
        const fs::path history = runs / "h" / "history.sqlite";
        QVERIFY(!postHistoryRecord(history, s).ok());
        QVERIFY(!fs::exists(runs / "h"));
    }

    void writesAreAtomic()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const fs::path path = RunFiles::of(runs, "atomic").status;
        RunStatus small = starting("atomic", 1);
        RunStatus large = full();
        large.spec.id = "atomic";
        large.compilingNow.assign(2000, std::string(40, 'c'));
        QVERIFY(writeStatusAtomically(path, small).ok());
        QCOMPARE(names(runs), (std::vector<std::string>{"atomic.json"}));

        // A reader never sees half a status while a writer replaces it.
        std::atomic<bool> done{false};
        std::atomic<int> failures{0};
        std::thread writer([&] {
            for (int i = 0; i < 300; ++i) {
                if (!writeStatusAtomically(path, i % 2 ? large : small).ok())
                    ++failures;
            }
            done = true;
        });
        int reads = 0, torn = 0;
        while (!done) {
            const auto r = parseRunStatus(slurp(path));
            ++reads;
            if (!r.ok())
                ++torn;
        }
        writer.join();
        qInfo("%d reads during 300 replacements", reads);
        QCOMPARE(failures.load(), 0);
        QCOMPARE(torn, 0);
        QCOMPARE(names(runs), (std::vector<std::string>{"atomic.json"}));

        // Two threads writing the same status at once: both land, no temp file stays.
        std::thread a([&] {
            for (int i = 0; i < 100; ++i)
                if (!writeStatusAtomically(path, small).ok())
                    ++failures;
        });
        std::thread b([&] {
            for (int i = 0; i < 100; ++i)
                if (!writeStatusAtomically(path, large).ok())
                    ++failures;
        });
        a.join();
        b.join();
        QCOMPARE(failures.load(), 0);
        QVERIFY(parseRunStatus(slurp(path)).ok());
        QCOMPARE(names(runs), (std::vector<std::string>{"atomic.json"}));

        // A folder that cannot exist (its parent is a file): a failure that says where.
        spit(runs / "file", "x");
        const auto bad = writeStatusAtomically(runs / "file" / "x.json", small);
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().find("cannot write") != std::string::npos, bad.error().c_str());
    }

    void theHistoryInboxGetsAParseableRecord()
    {
        QTemporaryDir dir;
        const fs::path history = fs::path(dir.path().toStdString()) / "data" / "history.sqlite";
        RunStatus s = full();
        const auto posted = postHistoryRecord(history, s);
        QVERIFY2(posted.ok(), posted.error().c_str());
        QCOMPARE(posted.value(), historyInboxDir(history) / (s.spec.id + ".json"));
        QCOMPARE(historyInboxDir(history).filename().string(), std::string("history.sqlite.inbox"));
        QJsonParseError error;
        const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray::fromStdString(slurp(posted.value())), &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QJsonObject o = doc.object();
        QCOMPARE(o["runId"].toString().toStdString(), s.spec.id);
        QCOMPARE(o["verdict"].toString(), QStringLiteral("out-of-memory"));
        QCOMPARE(o["preset"].toString(), QStringLiteral("C"));
        QCOMPARE(o["project"].toString().toStdString(), s.spec.project);
        QCOMPARE(o["targetKind"].toString(), QStringLiteral("example"));
        QCOMPARE(o["steps"].toArray().size(), 2);
        QCOMPARE(o["crates"].toArray().size(), 2);
        QCOMPARE(o["peakTreeBytes"].toDouble(), double(s.peakTreeBytes));
        QCOMPARE(names(historyInboxDir(history)), (std::vector<std::string>{s.spec.id + ".json"}));
    }

    void pruningKeepsTheNewestFinishedAndEveryRunningOne()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        const std::int64_t t = nowMs() - 100000;
        for (int i = 0; i < 5; ++i) {
            const std::string id = "done" + std::to_string(i);
            QVERIFY(writeStatusAtomically(RunFiles::of(runs, id).status, finished(id, t + i * 1000)).ok());
            spit(RunFiles::of(runs, id).log, "log of " + id);
        }
        // Older than all of them, but running under a live supervisor.
        RunStatus running = starting("running", t - 50000);
        running.state = RunState::Running;
        running.startedMs = t - 50000;
        running.supervisor = selfKey();
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "running").status, running).ok());
        spit(RunFiles::of(runs, "running").log, "still going");
        // A lost supervisor whose build still runs: not over, so kept.
        Child build;
        RunStatus orphan = finished("orphan", t - 40000);
        orphan.state = RunState::SupervisorLost;
        orphan.steps = {RunStepStatus{build.key, {}, {}, t - 40000, 0}};
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "orphan").status, orphan).ok());
        spit(runs / "broken.json.corrupt", "{");
        // A file whose name and content disagree: its own files go, not the other run's.
        RunStatus misnamed = finished("done4", t - 90000);
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "misnamed").status, misnamed).ok());

        pruneRuns(runs, 2);
        QCOMPARE(names(runs),
                 (std::vector<std::string>{"broken.json.corrupt", "done3.json", "done3.log", "done4.json",
                                           "done4.log", "orphan.json", "running.json", "running.log"}));
        pruneRuns(runs, 0);
        QCOMPARE(names(runs), (std::vector<std::string>{"broken.json.corrupt", "orphan.json", "running.json",
                                                        "running.log"}));
    }

    void whereTheRunsFolderIs()
    {
        const QByteArray savedRuns = qgetenv("HEADROOM_RUNS_DIR");
        const QByteArray savedData = qgetenv("XDG_DATA_HOME");
        const QByteArray savedHome = qgetenv("HOME");
        const bool hadRuns = qEnvironmentVariableIsSet("HEADROOM_RUNS_DIR");
        const bool hadData = qEnvironmentVariableIsSet("XDG_DATA_HOME");

        setEnv("HEADROOM_RUNS_DIR", "/tmp/my-runs");
        setEnv("XDG_DATA_HOME", "/data/x");
        QCOMPARE(defaultRunsDir(), fs::path("/tmp/my-runs"));
        setEnv("HEADROOM_RUNS_DIR", nullptr);
        QCOMPARE(defaultRunsDir(), fs::path("/data/x/headroom/runs"));
        QCOMPARE(defaultHistoryPath(), fs::path("/data/x/headroom/history.sqlite"));
        setEnv("HEADROOM_RUNS_DIR", "");
        QCOMPARE(defaultRunsDir(), fs::path("/data/x/headroom/runs"));
        // A relative XDG_DATA_HOME is to be ignored (the XDG spec).
        setEnv("XDG_DATA_HOME", "relative/dir");
        setEnv("HOME", "/home/someone");
        QCOMPARE(defaultRunsDir(), fs::path("/home/someone/.local/share/headroom/runs"));
        setEnv("XDG_DATA_HOME", nullptr);
        QCOMPARE(defaultAppDataDir(), fs::path("/home/someone/.local/share/headroom"));
        // No HOME: the account's folder, never a relative path.
        setEnv("HOME", nullptr);
        QVERIFY2(defaultRunsDir().is_absolute(), defaultRunsDir().string().c_str());

        setEnv("HEADROOM_RUNS_DIR", hadRuns ? savedRuns.constData() : nullptr);
        setEnv("XDG_DATA_HOME", hadData ? savedData.constData() : nullptr);
        setEnv("HOME", savedHome.constData());
    }

    void stopRequestsAndShellCodes()
    {
        QTemporaryDir dir;
        const fs::path runs = dir.path().toStdString();
        QVERIFY(
            writeStatusAtomically(RunFiles::of(runs, "waiting").status, starting("waiting", nowMs())).ok());
        const auto asked = requestStop(runs, "waiting");
        QVERIFY2(asked.ok(), asked.error().c_str());
        QVERIFY(fs::exists(RunFiles::of(runs, "waiting").stop));
        QVERIFY(writeStatusAtomically(RunFiles::of(runs, "over").status, finished("over", nowMs())).ok());
        const auto over = requestStop(runs, "over");
        QVERIFY(!over.ok());
        QVERIFY2(over.error().find("finished already") != std::string::npos, over.error().c_str());

        RunStatus s = finished("x", 1);
        QCOMPARE(s.exitCodeForShell(), 0);
        s.thenRunExitCode = 5;
        QCOMPARE(s.exitCodeForShell(), 5);
        s.diagnosis->verdict = BuildVerdict::Failed;
        s.exitCode = 3;
        QCOMPARE(s.exitCodeForShell(), 3);
        s.exitCode.reset();
        s.signal = 9;
        QCOMPARE(s.exitCodeForShell(), 137);
        s.signal.reset();
        s.exitCode = 0; // a failure is never 0
        QCOMPARE(s.exitCodeForShell(), 1);
        QVERIFY(!s.currentRoot());
        s.steps = {RunStepStatus{ProcessKey{1, 2}, {}, {}, 0, 0},
                   RunStepStatus{ProcessKey{3, 4}, {}, {}, 0, 0}};
        QCOMPARE(s.currentRoot().value(), (ProcessKey{3, 4}));
    }
};

QTEST_GUILESS_MAIN(TestRunRecord)
#include "TestRunRecord.moc"
