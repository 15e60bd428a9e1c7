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
#include <cstdio>
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

// Six crates whose build scripts sleep kScriptMs and append "start end"
// (wall clock ms) to $LANE_TIMES/<crate>: a1, a2, a3 side by side; mid
// build-depends on all three, b1 and b2 on mid. While mid's script runs
// nothing else can, and cargo hands back the token it does not need: cargo
// keeps a token as long as it has queued work for it, so a lane gets a
// token back only at such a point.
fs::path makeWorkspace(const fs::path& root)
{
    const std::vector<std::pair<std::string, std::vector<std::string>>> crates = {
        {"a1", {}}, {"a2", {}}, {"a3", {}}, {"mid", {"a1", "a2", "a3"}}, {"b1", {"mid"}}, {"b2", {"mid"}}};
    std::string members;
    for (const auto& [name, deps] : crates)
        members += std::string(members.empty() ? "" : ", ") + "\"" + name + "\"";
    writeFile(root / "Cargo.toml", "[workspace]\nmembers = [" + members + "]\nresolver = \"2\"\n");
    for (const auto& [name, deps] : crates) {
        std::string manifest = "[package]\nname = \"" + name +
                               "\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n";
        if (!deps.empty()) {
            manifest += "\n[build-dependencies]\n";
            for (const auto& dep : deps)
                manifest += dep + " = { path = \"../" + dep + "\" }\n";
        }
        writeFile(root / name / "Cargo.toml", manifest);
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

// Three make targets that sleep 1 s and write "start end" (wall clock ms)
// to $(TIMES)/<target>.
void writeMakefile(const fs::path& path)
{
    writeFile(path, "all: t1 t2 t3\n"
                    "t1 t2 t3:\n"
                    "\t@s=$$(date +%s%3N); sleep 1; echo \"$$s $$(date +%s%3N)\" > $(TIMES)/$@\n");
}

// One crate whose build script runs make on that Makefile, the way
// $MAKE_STYLE says: "inherit" (MAKEFLAGS as cargo handed it on), "cmake"
// (MAKEFLAGS set to CARGO_MAKEFLAGS, as the cmake crate does), "own-j"
// (`make -j`). A make that fails fails the build.
fs::path makeBuildScriptWorkspace(const fs::path& root)
{
    writeFile(root / "Cargo.toml",
              "[package]\nname = \"mk\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n");
    writeFile(root / "src/lib.rs", "pub fn f() {}\n");
    writeMakefile(root / "Makefile");
    writeFile(
        root / "build.rs",
        "use std::process::Command;\n"
        "fn main() {\n"
        "    let style = std::env::var(\"MAKE_STYLE\").unwrap();\n"
        "    let mut make = Command::new(\"make\");\n"
        "    if style == \"own-j\" { make.arg(\"-j\"); }\n"
        "    if style == \"cmake\" { make.env(\"MAKEFLAGS\", std::env::var(\"CARGO_MAKEFLAGS\").unwrap()); "
        "}\n"
        "    make.arg(\"-f\").arg(format!(\"{}/Makefile\", std::env::var(\"CARGO_MANIFEST_DIR\").unwrap()))\n"
        "        .arg(format!(\"TIMES={}\", std::env::var(\"LANE_TIMES\").unwrap()));\n"
        "    let status = make.status().unwrap();\n"
        "    assert!(status.success(), \"make failed\");\n"
        "}\n");
    return root;
}

bool haveMake()
{
    return std::system("make --version > /dev/null 2>&1") == 0;
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
        if (program.rfind(prefix, 0) == 0 &&
            fs::path(program).filename().string().rfind("build-script-build", 0) == 0) {
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
        // The descriptors the build inherits: the same fifo, blocking, not close-on-exec.
        const std::string flags = lane.value()->makeflags();
        const std::string head = " -j --jobserver-auth=fifo:" + fifo.string() + " --jobserver-fds=";
        QVERIFY2(flags.rfind(head, 0) == 0, flags.c_str());
        int r = -1, w = -1;
        QCOMPARE(std::sscanf(flags.c_str() + head.size(), "%d,%d", &r, &w), 2);
        QCOMPARE(lane.value()->cargoMakeflags(),
                 " -j --jobserver-auth=" + std::to_string(r) + "," + std::to_string(w));
        for (const int fd : {r, w}) {
            QVERIFY(fd >= 3);
            struct stat fdStat {};
            QCOMPARE(::fstat(fd, &fdStat), 0);
            QCOMPARE(fdStat.st_ino, st.st_ino);
            QCOMPARE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
            QCOMPARE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
        }
        QCOMPARE(::fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
        QCOMPARE(::fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
        // A token written by a client on them is the lane's.
        QCOMPARE(lane.value()->steer(1), 1u);
        char token = 0;
        QCOMPARE(::read(r, &token, 1), ssize_t(1));
        QCOMPARE(lane.value()->inUse(), 1u);
        QCOMPARE(::write(w, &token, 1), ssize_t(1));
        QCOMPARE(lane.value()->waiting(), 1u);
        QCOMPARE(lane.value()->steer(0), 0u);
        QCOMPARE(lane.value()->maxTokens(), 3u);
        QCOMPARE(lane.value()->granted(), 0u);
        QCOMPARE(lane.value()->waiting(), 0u);
        lane.value().reset();
        QVERIFY(!fs::exists(fs::symlink_status(fifo)));
        // They go with the lane.
        QCOMPARE(::fcntl(r, F_GETFD), -1);
        QCOMPARE(::fcntl(w, F_GETFD), -1);
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
        // Taken as it comes back (the lane's waiting reader), or by the next steer.
        QTRY_COMPARE_WITH_TIMEOUT(lane.steer(0), 0u, 5000);
        QCOMPARE(lane.granted(), 0u);
        QCOMPARE(lane.waiting(), 0u);

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

    void aLaneOwedATokenGoesAtOnce()
    {
        QTemporaryDir dir;
        auto made = JobLane::create(dir.path().toStdString(), "owed", 2);
        QVERIFY2(made, made.error().c_str());
        const std::string path = made.value()->auth().substr(5);
        QCOMPARE(made.value()->steer(2), 2u);
        const int client = ::open(path.c_str(), O_RDWR | O_NONBLOCK);
        QVERIFY(client >= 0);
        char token = 0;
        QCOMPARE(::read(client, &token, 1), ssize_t(1));
        // One held, one owed: its reader waits for the held one.
        QCOMPARE(made.value()->steer(0), 1u);
        made.value().reset();
        QVERIFY(!fs::exists(fs::symlink_status(path)));
        // What waited went with the lane; the job still gives its token back.
        char rest[4];
        QCOMPARE(::read(client, rest, sizeof rest), ssize_t(-1));
        QCOMPARE(::write(client, &token, 1), ssize_t(1));
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
        spec.argv = {"sh",
                     "-c",
                     "head -c 1 < \"$1\" > \"$2.part\" && mv \"$2.part\" \"$2\" && "
                     "while [ ! -e \"$3\" ]; do sleep 0.05; done; cat \"$2\" > \"$1\"",
                     "client",
                     lane.auth().substr(5),
                     (base / "token").string(),
                     (base / "go").string()};
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

        // A POSIX lane's flags: cargo gets only the descriptors, from either overload.
        const JobserverEnvironment both =
            jobserverEnvironment(" -j --jobserver-auth=fifo:/x/y.fifo --jobserver-fds=7,8");
        QCOMPARE(both.set.at("MAKEFLAGS"),
                 std::string(" -j --jobserver-auth=fifo:/x/y.fifo --jobserver-fds=7,8"));
        QCOMPARE(both.set.at("CARGO_MAKEFLAGS"), std::string(" -j --jobserver-auth=7,8"));
        QTemporaryDir laneDir;
        auto lane = JobLane::create(laneDir.path().toStdString(), "env", 2);
        QVERIFY2(lane, lane.error().c_str());
        const JobserverEnvironment fromLane = jobserverEnvironment(*lane.value());
        QCOMPARE(fromLane.set.at("MAKEFLAGS"), lane.value()->makeflags());
        QCOMPARE(fromLane.set.at("CARGO_MAKEFLAGS"), lane.value()->cargoMakeflags());
        QCOMPARE(jobserverEnvironment(lane.value()->makeflags()).set, fromLane.set);
        QCOMPARE(fromLane.unset, env.unset);
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
            << "/usr/bin/cargo" << QStringList{"build", "-j8", "--jobs=3", "--jobs", "2"}
            << QStringList{"build"} << QStringList{"-j8", "--jobs=3", "--jobs 2"};
        QTest::newRow("cargo -j -1") << "cargo" << QStringList{"+nightly", "build", "-j", "-1"}
                                     << QStringList{"+nightly", "build"} << QStringList{"-j -1"};
        QTest::newRow("after --") << "cargo" << QStringList{"run", "--", "-j", "8"}
                                  << QStringList{"run", "--", "-j", "8"} << QStringList{};
        QTest::newRow("nextest") << "cargo" << QStringList{"nextest", "run", "-j", "4", "--build-jobs", "8"}
                                 << QStringList{"nextest", "run", "-j", "4"} << QStringList{"--build-jobs 8"};
        QTest::newRow("make -j") << "make" << QStringList{"-j", "all"} << QStringList{"all"}
                                 << QStringList{"-j"};
        QTest::newRow("make -j 4") << "gmake" << QStringList{"-j", "4", "all", "--jobs=2"}
                                   << QStringList{"all"} << QStringList{"-j 4", "--jobs=2"};
        QTest::newRow("ninja") << "C:\\tools\\Ninja.exe" << QStringList{"-C", "build", "-j16"}
                               << QStringList{"-C", "build"} << QStringList{"-j16"};
        QTest::newRow("other program")
            << "cc" << QStringList{"-j", "8"} << QStringList{"-j", "8"} << QStringList{};
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
        const JobserverEnvironment env = jobserverEnvironment(lane);
        CargoRun run = startCargo(workspace_, scratch, "steered", {"build", "--offline"}, &env);
        QVERIFY(run.child);

        int phase = 0; // 0: no token, 1: one token, 2: taken back
        int mostNoToken = 0, mostOneToken = 0, mostAfter = 0;
        std::int64_t takenBackMs = 0, oneTokenMs = 0, steeredBackMs = 0;
        for (int i = 0; i < 180 * 20; ++i) {
            const int now = runningScripts(run.target);
            const std::size_t done = recorded(run.times).size();
            if (phase == 0) {
                mostNoToken = std::max(mostNoToken, now);
                lane.steer(0);
                if (done >= 1) {
                    phase = 1;
                    oneTokenMs = nowMs();
                    QCOMPARE(lane.steer(1), 1u);
                }
            } else if (phase == 1) {
                mostOneToken = std::max(mostOneToken, now);
                if (mostOneToken >= 2) {
                    phase = 2;
                    steeredBackMs = nowMs();
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
        qInfo(
            "most build scripts at once in /proc: %d with no token, %d with one, %d after it was taken back",
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
                    QVERIFY2(b.end <= a.start || b.start >= a.end,
                             "two build scripts overlapped after the token went");
            }
        }
        qInfo("%d build scripts started after the token was taken back", startedAfter);
        for (const auto& i : intervals)
            qInfo("script %lld..%lld ms after the token was taken back", (long long)(i.start - takenBackMs),
                  (long long)(i.end - takenBackMs));
        qInfo("phases: one token at %lld, steered back at %lld ms (same origin)",
              (long long)(oneTokenMs - takenBackMs), (long long)(steeredBackMs - takenBackMs));
        // Taken back while cargo still had work waiting, not at its end.
        QVERIFY(startedAfter >= 1);
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
        const JobserverEnvironment env = jobserverEnvironment(lane);
        std::vector<std::string> removed;
        CargoRun run =
            startCargo(workspace_, scratch, "hostile", withoutJobsArguments("cargo", args, &removed), &env);
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

    // `make -j` run directly, with the lane's environment and its -j taken
    // out: make 4.3 reads the descriptors and runs one target at a time on no
    // token, two on one. The fifo alone stops make 4.3; its own -j kept runs
    // all three at once.
    void plainMakeFollowsTheLane()
    {
        if (!haveMake())
            QSKIP("GNU make is not installed");
        const fs::path scratch = fs::path(scratch_.path().toStdString()) / "plain-make";
        fs::create_directories(scratch);
        writeMakefile(scratch / "Makefile");
        auto made = JobLane::create(scratch, "make", 4);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        HostileEnvironment hostile;

        auto runMake = [&](const std::string& name, const std::vector<std::string>& args,
                           const JobserverEnvironment& env, int* exitCode) {
            const fs::path times = scratch / ("times-" + name);
            fs::create_directories(times);
            ChildSpec spec;
            spec.argv = {"make"};
            spec.argv.insert(spec.argv.end(), args.begin(), args.end());
            spec.argv.push_back("-f");
            spec.argv.push_back((scratch / "Makefile").string());
            spec.argv.push_back("TIMES=" + times.string());
            spec.environment = env.set;
            spec.unsetEnvironment = env.unset;
            spec.stdoutFile = scratch / (name + ".log");
            spec.stderrFile = scratch / (name + ".log");
            auto child = ChildProcess::start(spec);
            if (!child) {
                qWarning("%s", child.error().c_str());
                return -1;
            }
            const auto exit = child.value()->wait(std::chrono::seconds(60));
            *exitCode = exit && exit->exitCode ? *exit->exitCode : -1;
            return mostAtOnce(recorded(times));
        };

        const JobserverEnvironment env = jobserverEnvironment(lane);
        std::vector<std::string> removed;
        const auto args = withoutJobsArguments("make", {"-j"}, &removed);
        QCOMPARE(removed, std::vector<std::string>{"-j"});
        int code = -1;
        QCOMPARE(lane.steer(0), 0u);
        const int noToken = runMake("none", args, env, &code);
        QVERIFY2(code == 0, readFile(scratch / "none.log").c_str());
        QCOMPARE(lane.steer(1), 1u);
        const int oneToken = runMake("one", args, env, &code);
        QVERIFY2(code == 0, readFile(scratch / "one.log").c_str());
        QCOMPARE(lane.waiting(), 1u); // make gave it back
        QCOMPARE(lane.steer(0), 0u);

        JobserverEnvironment fifoOnly = env;
        fifoOnly.set["MAKEFLAGS"] = " -j --jobserver-auth=" + lane.auth();
        runMake("fifo", args, fifoOnly, &code);
        const int fifoCode = code;
        const std::string fifoLog = readFile(scratch / "fifo.log");
        const int ownJ = runMake("own-j", {"-j"}, env, &code);
        QCOMPARE(code, 0);
        qInfo("make targets at once: %d on no token, %d on one, %d with its own -j; with only fifo: %s",
              noToken, oneToken, ownJ, fifoLog.c_str());
        QCOMPARE(noToken, 1);
        QCOMPARE(oneToken, 2);
        QCOMPARE(ownJ, 3);
        // make >= 4.4 reads fifo:; 4.3 stops.
        if (std::system("make --version | grep -q 'GNU Make 4.3'") == 0) {
            QVERIFY(fifoCode != 0);
            QVERIFY(fifoLog.find("invalid --jobserver-auth") != std::string::npos);
        }
    }

    // A build script that runs make, under cargo with the lane's environment.
    // Before the lane named its descriptors, make 4.3 stopped and the build
    // failed. Now it succeeds, and make runs its targets one at a time on no
    // token (on the build script's own job: cargo runs nothing else), two
    // on one token, whether make inherits MAKEFLAGS or is given cargo's
    // CARGO_MAKEFLAGS. A `make -j` of the script's own has no jobserver.
    void makeInABuildScriptFollowsTheLane()
    {
        if (!haveMake())
            QSKIP("GNU make is not installed");
        const fs::path scratch = fs::path(scratch_.path().toStdString()) / "script-make";
        const fs::path workspace = makeBuildScriptWorkspace(scratch / "ws");
        auto made = JobLane::create(scratch, "script", 4);
        QVERIFY2(made, made.error().c_str());
        JobLane& lane = *made.value();
        const bool make43 = std::system("make --version | grep -q 'GNU Make 4.3'") == 0;

        auto build = [&](const std::string& name, const std::string& style, JobserverEnvironment env,
                         unsigned tokens, bool* ok) {
            env.set["MAKE_STYLE"] = style;
            lane.steer(tokens);
            CargoRun run = startCargo(workspace, scratch, name, {"build", "--offline"}, &env);
            if (!run.child) {
                *ok = false;
                return -1;
            }
            followToEnd(run, &lane, tokens);
            *ok = exitedWell(run);
            if (!*ok)
                qInfo("%s: %s", name.c_str(), readFile(run.log).c_str());
            return mostAtOnce(recorded(run.times));
        };

        // What the lane gave before: the fifo alone, in both variables.
        JobserverEnvironment before;
        before.set["MAKEFLAGS"] = " -j --jobserver-auth=" + lane.auth();
        before.set["CARGO_MAKEFLAGS"] = before.set["MAKEFLAGS"];
        before.unset = {"MFLAGS", "CARGO_BUILD_JOBS"};
        bool ok = true;
        build("before", "inherit", before, 0, &ok);
        if (make43) {
            QVERIFY2(!ok, "make 4.3 read a fifo: jobserver");
            QVERIFY(readFile(scratch / "cargo-before.log").find("invalid --jobserver-auth") !=
                    std::string::npos);
        }

        const JobserverEnvironment env = jobserverEnvironment(lane);
        const int inherit0 = build("inherit0", "inherit", env, 0, &ok);
        QVERIFY(ok);
        const int cmake0 = build("cmake0", "cmake", env, 0, &ok);
        QVERIFY(ok);
        const int inherit1 = build("inherit1", "inherit", env, 1, &ok);
        QVERIFY(ok);
        const int cmake1 = build("cmake1", "cmake", env, 1, &ok);
        QVERIFY(ok);
        const int ownJ = build("ownj", "own-j", env, 0, &ok);
        QVERIFY(ok);
        qInfo("make targets at once in a build script: inherited MAKEFLAGS %d on no token, %d on one; "
              "CARGO_MAKEFLAGS %d on no token, %d on one; its own -j %d",
              inherit0, inherit1, cmake0, cmake1, ownJ);
        QCOMPARE(inherit0, 1);
        QCOMPARE(cmake0, 1);
        QCOMPARE(inherit1, 2);
        QCOMPARE(cmake1, 2);
        QCOMPARE(ownJ, 3);
        QCOMPARE(lane.steer(0), 0u);
    }
};

QTEST_GUILESS_MAIN(TestJobLane)
#include "TestJobLane.moc"
