// SPDX-License-Identifier: GPL-3.0-or-later
// A build's job lane on real fifos and real cargo builds: the fifo and its
// refusals, tokens given, held and taken back, a plain client process, and a
// generated workspace whose build scripts sleep, so the parallelism a lane
// allows is seen in /proc and in the times the scripts recorded, also when
// the environment and the arguments try to defeat it.
#include "headroom/ChildProcess.h"
#include "headroom/JobLane.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
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

void writeFile(const fs::path& path, const std::string& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

constexpr int kCrates = 6;
constexpr int kScriptMs = 1500;

// A workspace of kCrates crates whose build scripts sleep kScriptMs and
// append "start end" (wall clock ms) to $LANE_TIMES/<crate>.
fs::path makeWorkspace(const fs::path& root)
{
    std::string members;
    for (int i = 1; i <= kCrates; ++i)
        members += std::string(i > 1 ? ", " : "") + "\"c" + std::to_string(i) + "\"";
    writeFile(root / "Cargo.toml", "[workspace]\nmembers = [" + members + "]\nresolver = \"2\"\n");
    for (int i = 1; i <= kCrates; ++i) {
        const std::string name = "c" + std::to_string(i);
        writeFile(root / name / "Cargo.toml",
                  "[package]\nname = \"" + name + "\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n");
        writeFile(root / name / "src/lib.rs", "pub fn f() {}\n");
        writeFile(root / name / "build.rs",
                  "use std::io::Write;\n"
                  "fn now() -> u128 { std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)"
                  ".unwrap().as_millis() }\n"
                  "fn main() {\n"
                  "    let start = now();\n"
                  "    std::thread::sleep(std::time::Duration::from_millis(" +
                      std::to_string(kScriptMs) +
                      "));\n"
                      "    let end = now();\n"
                      "    let dir = std::env::var(\"LANE_TIMES\").unwrap();\n"
                      "    let mut f = std::fs::OpenOptions::new().create(true).append(true)"
                      ".open(format!(\"{}/" +
                      name +
                      "\", dir)).unwrap();\n"
                      "    writeln!(f, \"{} {}\", start, end).unwrap();\n"
                      "}\n");
    }
    return root;
}

struct Interval {
    std::int64_t start = 0, end = 0;
};

std::vector<Interval> recorded(const fs::path& dir)
{
    std::vector<Interval> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::istringstream in(readFile(it->path()));
        Interval i;
        while (in >> i.start >> i.end)
            out.push_back(i);
    }
    return out;
}

// The most intervals that overlap at one moment.
int mostAtOnce(const std::vector<Interval>& intervals)
{
    std::vector<std::pair<std::int64_t, int>> events;
    for (const auto& i : intervals) {
        events.push_back({i.start, 1});
        events.push_back({i.end, -1});
    }
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second < b.second;
    });
    int now = 0, most = 0;
    for (const auto& [at, d] : events) {
        now += d;
        most = std::max(most, now);
    }
    return most;
}

// Build scripts of this target folder running now, as /proc lists them.
int runningScripts(const fs::path& targetDir)
{
    int count = 0;
    const std::string prefix = targetDir.string() + "/";
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string pid = it->path().filename().string();
        if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit))
            continue;
        const std::string cmdline = readFile(it->path() / "cmdline");
        const std::string program = cmdline.substr(0, cmdline.find('\0'));
        if (program.rfind(prefix, 0) == 0 && fs::path(program).filename().string().rfind("build-script-build", 0) == 0) {
            // A zombie has no command line, so this one still runs.
            ++count;
        }
    }
    return count;
}

struct CargoRun {
    fs::path target, times, log;
    std::unique_ptr<ChildProcess> child;
};

CargoRun startCargo(const fs::path& workspace, const fs::path& scratch, const std::string& name,
                    std::vector<std::string> args, const JobserverEnvironment* env)
{
    CargoRun run;
    run.target = scratch / ("target-" + name);
    run.times = scratch / ("times-" + name);
    run.log = scratch / ("cargo-" + name + ".log");
    fs::create_directories(run.times);
    ChildSpec spec;
    spec.argv = {"cargo"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.workingDir = workspace;
    spec.environment = {{"CARGO_TARGET_DIR", run.target.string()},
                        {"LANE_TIMES", run.times.string()},
                        {"CARGO_TERM_COLOR", "never"}};
    if (env) {
        for (const auto& [k, v] : env->set)
            spec.environment[k] = v;
        spec.unsetEnvironment = env->unset;
    }
    spec.stdoutFile = run.log;
    spec.stderrFile = run.log;
    auto child = ChildProcess::start(spec);
    if (child)
        run.child = std::move(child.value());
    else
        qWarning("%s", child.error().c_str());
    return run;
}

// Runs it to its end, the most build scripts seen at once in /proc.
int followToEnd(CargoRun& run, JobLane* lane = nullptr, unsigned steerTo = 0)
{
    int most = 0;
    for (int i = 0; i < 180 * 20; ++i) {
        most = std::max(most, runningScripts(run.target));
        if (lane)
            lane->steer(steerTo);
        if (run.child->wait(std::chrono::milliseconds(50)))
            break;
    }
    return most;
}

bool exitedWell(CargoRun& run)
{
    const auto exit = run.child->wait(std::chrono::seconds(120));
    return exit && exit->exitCode && *exit->exitCode == 0;
}

// The inherited environment a user's shell or an outer make may hand on.
struct HostileEnvironment {
    HostileEnvironment()
    {
        ::setenv("CARGO_MAKEFLAGS", "", 1);
        ::setenv("MAKEFLAGS", "-j8", 1);
        ::setenv("MFLAGS", "-j8", 1);
        ::setenv("CARGO_BUILD_JOBS", "8", 1);
    }
    ~HostileEnvironment()
    {
        for (const char* name : {"CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS"})
            ::unsetenv(name);
    }
};

} // namespace

class TestJobLane : public QObject {
    Q_OBJECT

  private:
    QTemporaryDir scratch_;
    fs::path workspace_;

  private slots:
    void initTestCase()
    {
        QVERIFY(scratch_.isValid());
        workspace_ = makeWorkspace(fs::path(scratch_.path().toStdString()) / "ws");
        for (const char* name : {"CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS"})
            ::unsetenv(name);
    }

    void makesAPrivateFifo()
    {
        QTemporaryDir dir;
        auto lane = JobLane::create(dir.path().toStdString(), "run-1", 3);
        QVERIFY2(lane, lane.error().c_str());
        const fs::path fifo = fs::path(dir.path().toStdString()) / "run-1.fifo";
        struct stat st {};
        QCOMPARE(::lstat(fifo.c_str(), &st), 0);
        QVERIFY(S_ISFIFO(st.st_mode));
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
        QCOMPARE(lane.value()->auth(), "fifo:" + fifo.string());
        QCOMPARE(lane.value()->makeflags(), " -j --jobserver-auth=fifo:" + fifo.string());
        QCOMPARE(lane.value()->maxTokens(), 3u);
        QCOMPARE(lane.value()->granted(), 0u);
        QCOMPARE(lane.value()->waiting(), 0u);
        lane.value().reset();
        QVERIFY(!fs::exists(fs::symlink_status(fifo)));
    }

    void refusesWhatIsNotItsFifo()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        writeFile(base / "taken.fifo", "someone's file");
        auto lane = JobLane::create(base, "taken", 2);
        QVERIFY(!lane);
        QVERIFY2(lane.error().find("remove it") != std::string::npos, lane.error().c_str());
        QCOMPARE(readFile(base / "taken.fifo"), std::string("someone's file"));

        fs::create_symlink(base / "elsewhere", base / "linked.fifo");
        QVERIFY(!JobLane::create(base, "linked", 2));
        QVERIFY(!fs::exists(base / "elsewhere"));

        QVERIFY(!JobLane::create(base, "../escape", 2));
        QVERIFY(!JobLane::create(base, "", 2));

        const fs::path spaced = base / "with space";
        fs::create_directories(spaced);
        auto inSpaces = JobLane::create(spaced, "run", 2);
        QVERIFY(!inSpaces);
        QVERIFY2(inSpaces.error().find("HEADROOM_POOL_DIR") != std::string::npos, inSpaces.error().c_str());
    }

    void replacesAStaleFifo()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        QCOMPARE(::mkfifo((base / "stale.fifo").c_str(), 0600), 0);
        // A token left in a stale fifo would be gone with it; the new lane starts empty.
        auto lane = JobLane::create(base, "stale", 2);
        QVERIFY2(lane, lane.error().c_str());
        QCOMPARE(lane.value()->waiting(), 0u);
        QCOMPARE(lane.value()->steer(1), 1u);
        QCOMPARE(lane.value()->waiting(), 1u);
    }

    void givesHoldsAndTakesBack()
    {
        QTemporaryDir dir;
        auto made = JobLane::create(dir.path().toStdString(), "steer", 4);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        QCOMPARE(lane.steer(3), 3u);
        QCOMPARE(lane.waiting(), 3u);
        QCOMPARE(lane.inUse(), 0u);
        QCOMPARE(lane.steer(9), 4u); // never past maxTokens
        QCOMPARE(lane.steer(3), 3u);

        // A client, through the path as clients find it.
        const std::string path = lane.auth().substr(5);
        const int client = ::open(path.c_str(), O_RDWR | O_NONBLOCK);
        QVERIFY(client >= 0);
        char token = 0;
        QCOMPARE(::read(client, &token, 1), ssize_t(1));
        QCOMPARE(token, '+');
        QCOMPARE(lane.waiting(), 2u);
        QCOMPARE(lane.inUse(), 1u);

        // The held token cannot be taken back until it is returned.
        QCOMPARE(lane.steer(0), 1u);
        QCOMPARE(lane.waiting(), 0u);
        QCOMPARE(lane.inUse(), 1u);
        QCOMPARE(::write(client, &token, 1), ssize_t(1));
        QCOMPARE(lane.waiting(), 1u);
        QCOMPARE(lane.steer(0), 0u);

        // What a client writes beyond what it took does not raise the lane.
        const char extra[5] = {'+', '+', '+', '+', '+'};
        QCOMPARE(::write(client, extra, sizeof extra), ssize_t(sizeof extra));
        QCOMPARE(lane.waiting(), 0u);
        QCOMPARE(lane.steer(1), 1u);
        QCOMPARE(lane.waiting(), 1u);
        char drained[8];
        QCOMPARE(::read(client, drained, sizeof drained), ssize_t(1)); // the one token, nothing more
        ::close(client);
    }

    void aClientProcessTakesATokenAndGivesItBack()
    {
        QTemporaryDir dir;
        const fs::path base = dir.path().toStdString();
        auto made = JobLane::create(base, "client", 2);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        lane.steer(1);
        // Reads one token from the fifo by its path, keeps it until told, writes it back.
        ChildSpec spec;
        spec.argv = {"sh", "-c",
                     "head -c 1 < \"$1\" > \"$2.part\" && mv \"$2.part\" \"$2\" && "
                     "while [ ! -e \"$3\" ]; do sleep 0.05; done; cat \"$2\" > \"$1\"",
                     "client", lane.auth().substr(5), (base / "token").string(), (base / "go").string()};
        auto child = ChildProcess::start(spec);
        QVERIFY2(child, child.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(fs::exists(base / "token"), 10000);
        QCOMPARE(readFile(base / "token"), std::string("+"));
        QCOMPARE(lane.waiting(), 0u);
        QCOMPARE(lane.inUse(), 1u);
        writeFile(base / "go", "");
        const auto exit = child.value()->wait(std::chrono::seconds(10));
        QVERIFY(exit && exit->exitCode && *exit->exitCode == 0);
        QCOMPARE(lane.waiting(), 1u);
        QCOMPARE(lane.inUse(), 0u);
        QCOMPARE(lane.steer(0), 0u);
    }

    void theEnvironmentOverridesWhatWasInherited()
    {
        QTemporaryDir dir;
        const fs::path out = fs::path(dir.path().toStdString()) / "env";
        HostileEnvironment hostile;
        const JobserverEnvironment env = jobserverEnvironment(" -j --jobserver-auth=fifo:/x/y.fifo");
        ChildSpec spec;
        spec.argv = {"env"};
        spec.environment = env.set;
        spec.unsetEnvironment = env.unset;
        spec.stdoutFile = out;
        auto child = ChildProcess::start(spec);
        QVERIFY2(child, child.error().c_str());
        QVERIFY(child.value()->wait(std::chrono::seconds(10)));
        const std::string text = "\n" + readFile(out);
        QVERIFY(text.find("\nMAKEFLAGS= -j --jobserver-auth=fifo:/x/y.fifo\n") != std::string::npos);
        QVERIFY(text.find("\nCARGO_MAKEFLAGS= -j --jobserver-auth=fifo:/x/y.fifo\n") != std::string::npos);
        QVERIFY(text.find("\nMFLAGS=") == std::string::npos);
        QVERIFY(text.find("\nCARGO_BUILD_JOBS=") == std::string::npos);
        QVERIFY(text.find("\nPATH=") != std::string::npos); // the rest is inherited
    }

    void jobCountsAreTakenOut_data()
    {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("kept");
        QTest::addColumn<QStringList>("removed");
        QTest::newRow("cargo -j 8") << "cargo" << QStringList{"build", "-j", "8", "--release"}
                                    << QStringList{"build", "--release"} << QStringList{"-j 8"};
        QTest::newRow("cargo -j8 --jobs=3 --jobs 2")
            << "/usr/bin/cargo" << QStringList{"build", "-j8", "--jobs=3", "--jobs", "2"} << QStringList{"build"}
            << QStringList{"-j8", "--jobs=3", "--jobs 2"};
        QTest::newRow("cargo -j -1") << "cargo" << QStringList{"+nightly", "build", "-j", "-1"}
                                     << QStringList{"+nightly", "build"} << QStringList{"-j -1"};
        QTest::newRow("after --") << "cargo" << QStringList{"run", "--", "-j", "8"}
                                  << QStringList{"run", "--", "-j", "8"} << QStringList{};
        QTest::newRow("nextest") << "cargo" << QStringList{"nextest", "run", "-j", "4", "--build-jobs", "8"}
                                 << QStringList{"nextest", "run", "-j", "4"} << QStringList{"--build-jobs 8"};
        QTest::newRow("make -j") << "make" << QStringList{"-j", "all"} << QStringList{"all"} << QStringList{"-j"};
        QTest::newRow("make -j 4") << "gmake" << QStringList{"-j", "4", "all", "--jobs=2"} << QStringList{"all"}
                                   << QStringList{"-j 4", "--jobs=2"};
        QTest::newRow("ninja") << "C:\\tools\\Ninja.exe" << QStringList{"-C", "build", "-j16"}
                               << QStringList{"-C", "build"} << QStringList{"-j16"};
        QTest::newRow("other program") << "cc" << QStringList{"-j", "8"} << QStringList{"-j", "8"} << QStringList{};
    }

    void jobCountsAreTakenOut()
    {
        QFETCH(QString, program);
        QFETCH(QStringList, args);
        QFETCH(QStringList, kept);
        QFETCH(QStringList, removed);
        std::vector<std::string> in;
        for (const auto& a : args)
            in.push_back(a.toStdString());
        std::vector<std::string> gone;
        const auto out = withoutJobsArguments(program.toStdString(), in, &gone);
        QStringList outList, goneList;
        for (const auto& a : out)
            outList << QString::fromStdString(a);
        for (const auto& a : gone)
            goneList << QString::fromStdString(a);
        QCOMPARE(outList, kept);
        QCOMPARE(goneList, removed);
    }

    // 0 tokens: one build script at a time; one token mid-build: two; back
    // to 0: one again once the held token is returned.
    void cargoFollowsTheLanesTokens()
    {
        const fs::path scratch = scratch_.path().toStdString();
        auto made = JobLane::create(scratch, "steered", 4);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        const JobserverEnvironment env = jobserverEnvironment(lane.makeflags());
        CargoRun run = startCargo(workspace_, scratch, "steered", {"build", "--offline"}, &env);
        QVERIFY(run.child);

        int phase = 0; // 0: no token, 1: one token, 2: taken back
        int mostNoToken = 0, mostOneToken = 0, mostAfter = 0;
        std::int64_t takenBackMs = 0;
        for (int i = 0; i < 180 * 20; ++i) {
            const int now = runningScripts(run.target);
            const std::size_t done = recorded(run.times).size();
            if (phase == 0) {
                mostNoToken = std::max(mostNoToken, now);
                lane.steer(0);
                if (done >= 1) {
                    phase = 1;
                    QCOMPARE(lane.steer(1), 1u);
                }
            } else if (phase == 1) {
                mostOneToken = std::max(mostOneToken, now);
                if (mostOneToken >= 2) {
                    phase = 2;
                    lane.steer(0);
                }
            } else {
                if (takenBackMs == 0 && lane.steer(0) == 0)
                    takenBackMs = nowMs();
                if (takenBackMs != 0)
                    mostAfter = std::max(mostAfter, now);
            }
            if (run.child->wait(std::chrono::milliseconds(50)))
                break;
        }
        QVERIFY2(exitedWell(run), readFile(run.log).c_str());
        const auto intervals = recorded(run.times);
        QCOMPARE(int(intervals.size()), kCrates);
        qInfo("most build scripts at once in /proc: %d with no token, %d with one, %d after it was taken back",
              mostNoToken, mostOneToken, mostAfter);
        QCOMPARE(mostNoToken, 1);
        QCOMPARE(mostOneToken, 2);
        QVERIFY2(takenBackMs != 0, "the token was never returned to the lane");
        QVERIFY(mostAfter <= 1);
        // From the recorded times: every script that started after the token
        // was taken back ran alone.
        int startedAfter = 0;
        for (const auto& a : intervals) {
            if (a.start < takenBackMs)
                continue;
            ++startedAfter;
            for (const auto& b : intervals) {
                if (&a != &b)
                    QVERIFY2(b.end <= a.start || b.start >= a.end, "two build scripts overlapped after the token went");
            }
        }
        qInfo("%d build scripts started after the token was taken back", startedAfter);
        QCOMPARE(lane.steer(0), 0u);
    }

    // CARGO_MAKEFLAGS="" would hide the lane, -j 8 and CARGO_BUILD_JOBS=8
    // would ask for more: with the lane's environment and arguments cargo
    // still runs one job at a time on no token. Without them (the control)
    // it runs several.
    void aHostileEnvironmentCannotDefeatTheLane()
    {
        const fs::path scratch = scratch_.path().toStdString();
        HostileEnvironment hostile;
        const std::vector<std::string> args = {"build", "--offline", "-j", "8"};

        auto made = JobLane::create(scratch, "hostile", 4);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        const JobserverEnvironment env = jobserverEnvironment(lane.makeflags());
        std::vector<std::string> removed;
        CargoRun run = startCargo(workspace_, scratch, "hostile", withoutJobsArguments("cargo", args, &removed), &env);
        QVERIFY(run.child);
        QCOMPARE(removed, std::vector<std::string>{"-j 8"});
        const int seen = followToEnd(run, &lane, 0);
        QVERIFY2(exitedWell(run), readFile(run.log).c_str());
        QCOMPARE(int(recorded(run.times).size()), kCrates);
        QCOMPARE(seen, 1);
        QCOMPARE(mostAtOnce(recorded(run.times)), 1);

        CargoRun control = startCargo(workspace_, scratch, "control", args, nullptr);
        QVERIFY(control.child);
        const int controlSeen = followToEnd(control);
        QVERIFY2(exitedWell(control), readFile(control.log).c_str());
        qInfo("build scripts at once: %d with the lane (no token), %d without it", seen, controlSeen);
        QVERIFY(mostAtOnce(recorded(control.times)) >= 2);
    }
};

QTEST_GUILESS_MAIN(TestJobLane)
#include "TestJobLane.moc"
