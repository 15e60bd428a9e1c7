// SPDX-License-Identifier: GPL-3.0-or-later
// Adaptive builds end to end: real `headroom-cli run -- cargo build` runs of
// workspaces the test writes, real supervisors sharing one job pool, the
// concurrency seen in /proc, and a real v1 memory cgroup where cargo's own
// -j is OOM-killed and the pool is not.
#include "headroom/JobPool.h"
#include "headroom/LearnedPeaks.h"
#include "headroom/PoolPolicy.h"
#include "headroom/RunsFolder.h"
#include "support/CargoWorkspace.h"
#include "support/HeadlessBuildCommand.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace headroom;
namespace fs = std::filesystem;

namespace {

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeFile(const fs::path& path, const std::string& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::uint64_t oomKills()
{
    std::ifstream in("/proc/vmstat");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
        if (key == "oom_kill")
            return value;
    }
    return 0;
}

unsigned cpus()
{
    return std::max(1u, std::thread::hardware_concurrency());
}

// A crate of the workspace: its build script sleeps `holdMs` after taking
// `megabytes` of touched memory, and notes when it ran. `firstMegabytes`:
// what it takes the first time it ever runs (a marker file remembers).
struct Unit {
    std::string name;
    int holdMs = 1500;
    int megabytes = 0;
    int firstMegabytes = -1;
    std::vector<std::string> dependsOn = {}; // other crates of the workspace
};

// A workspace of such crates; each build script appends "name start end" (ms) to intervals.log.
class Workspace {
  public:
    Workspace(const fs::path& root, const std::vector<Unit>& units) : root_(root)
    {
        std::string members;
        for (const Unit& u : units) {
            members += "\"" + u.name + "\", ";
            const fs::path dir = root / u.name;
            writeFile(dir / "Cargo.toml",
                      "[package]\nname = \"" + u.name +
                          "\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n" +
                          dependencies(u));
            writeFile(dir / "src/lib.rs", "pub fn id() -> u32 { 7 }\n");
            const std::string marker = (root / (u.name + ".ran")).string();
            std::ostringstream rs;
            rs << "use std::io::Write;\n"
                  "fn now() -> u128 { std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)"
                  ".unwrap().as_millis() }\n"
                  "fn main() {\n"
                  "    let start = now();\n"
                  "    let marker = std::path::Path::new(\""
               << marker << "\");\n"
               << "    let mb: usize = if " << (u.firstMegabytes >= 0 ? "!marker.exists()" : "false") << " { "
               << std::max(0, u.firstMegabytes) << " } else { " << u.megabytes << " };\n"
               << "    let _ = std::fs::write(marker, b\"ran\");\n"
                  "    let mut v = vec![0u8; mb << 20];\n"
                  "    let mut i = 0; while i < v.len() { unsafe { std::ptr::write_volatile(&mut v[i], 1); } "
                  "i += 4096; }\n"
                  "    std::hint::black_box(&v);\n"
                  "    let held = now();\n"
                  "    std::thread::sleep(std::time::Duration::from_millis("
               << u.holdMs << "));\n"
               << "    drop(v);\n"
                  "    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(\""
               << intervalsPath().string() << "\").unwrap();\n"
               << "    writeln!(f, \"" << u.name << " {} {} {}\", start, now(), held).unwrap();\n"
               << "}\n";
            writeFile(dir / "build.rs", rs.str());
        }
        writeFile(root / "Cargo.toml", "[workspace]\nresolver = \"2\"\nmembers = [" + members + "]\n");
    }

    static std::string dependencies(const Unit& u)
    {
        std::string out = u.dependsOn.empty() ? "" : "[dependencies]\n";
        for (const auto& d : u.dependsOn)
            out += d + " = { path = \"../" + d + "\" }\n";
        return out;
    }

    const fs::path& root() const { return root_; }
    fs::path intervalsPath() const { return root_ / "intervals.log"; }

    // What each build script noted: when it started, when it held all its
    // memory (touched), when it ended (ms).
    struct Interval {
        std::string name;
        std::int64_t start = 0, end = 0, held = 0;
    };
    std::vector<Interval> intervals() const
    {
        std::vector<Interval> out;
        std::istringstream in(readAll(intervalsPath()));
        Interval i;
        while (in >> i.name >> i.start >> i.end >> i.held)
            out.push_back(i);
        return out;
    }

    // The most build scripts that ran at once, from what they noted.
    int maxOverlap() const
    {
        std::vector<std::pair<std::int64_t, int>> events;
        for (const Interval& i : intervals()) {
            events.emplace_back(i.start, 1);
            events.emplace_back(i.end, -1);
        }
        std::sort(events.begin(), events.end()); // an end before a start at the same ms
        int now = 0, most = 0;
        for (const auto& [t, d] : events) {
            now += d;
            most = std::max(most, now);
        }
        return most;
    }
    int scriptsRun() const
    {
        const std::string text = readAll(intervalsPath());
        return int(std::count(text.begin(), text.end(), '\n'));
    }
    void clean() const
    {
        std::error_code ec;
        fs::remove_all(root_ / "target", ec);
        fs::remove(intervalsPath(), ec);
    }

  private:
    fs::path root_;
};

// Counts, every 50 ms, the build scripts and rustc processes of the given
// workspaces that run at once, as /proc shows them.
class ProcWatch {
  public:
    explicit ProcWatch(std::vector<std::string> roots) : roots_(std::move(roots))
    {
        thread_ = std::thread([this] {
            while (!stop_) {
                int scripts = 0;
                for (const auto& e : fs::directory_iterator("/proc")) {
                    const std::string pid = e.path().filename().string();
                    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0])))
                        continue;
                    std::error_code ec;
                    const std::string exe = fs::read_symlink(e.path() / "exe", ec).string();
                    if (ec || !exe.ends_with("/build-script-build"))
                        continue;
                    for (const auto& r : roots_) {
                        if (exe.rfind(r, 0) == 0)
                            ++scripts;
                    }
                }
                most_ = std::max(most_.load(), scripts);
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    ~ProcWatch() { finish(); }
    int finish()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        return most_;
    }

  private:
    std::vector<std::string> roots_;
    std::atomic<bool> stop_{false};
    std::atomic<int> most_{0};
    std::thread thread_;
};

// A real v1 memory cgroup with a limit, removed at the end.
class MemoryCgroup {
  public:
    explicit MemoryCgroup(std::uint64_t limit)
        : dir_("/sys/fs/cgroup/memory/headroom-test-" + std::to_string(::getpid()))
    {
        std::error_code ec;
        fs::create_directory(dir_, ec);
        ok_ = !ec && fs::exists(dir_ / "memory.limit_in_bytes");
        if (ok_) {
            std::ofstream(dir_ / "memory.swappiness") << 0;
            std::ofstream(dir_ / "memory.limit_in_bytes") << limit;
            ok_ = std::stoull(readAll(dir_ / "memory.limit_in_bytes")) <= limit;
        }
    }
    ~MemoryCgroup()
    {
        for (int i = 0; i < 200 && !readAll(dir_ / "cgroup.procs").empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::rmdir(dir_.c_str());
    }
    bool ok() const { return ok_; }
    // Its own OOM kills (memory.oom_control's oom_kill): the machine's
    // counter also counts other cgroups' kills.
    std::uint64_t oomKills() const
    {
        std::istringstream in(readAll(dir_ / "memory.oom_control"));
        std::string key;
        std::uint64_t value = 0;
        while (in >> key >> value) {
            if (key == "oom_kill")
                return value;
        }
        return 0;
    }
    // `argv` run inside it: a shell that moves itself in, then execs.
    QStringList wrap(const QStringList& argv) const
    {
        return QStringList{"-c",
                           QString::fromStdString("echo $$ > " + (dir_ / "cgroup.procs").string() +
                                                  " && exec \"$@\""),
                           "sh"} +
               argv;
    }

  private:
    fs::path dir_;
    bool ok_ = false;
};

struct CliRun {
    int code = -1;
    QByteArray out;
    QByteArray err;
};

// A home, runs folder, pool and learned peaks of the test's own.
struct Scene {
    QTemporaryDir dir;
    fs::path home() const { return fs::path(dir.path().toStdString()); }
    fs::path runs() const { return home() / "runs"; }
    fs::path poolDir() const { return home() / "pool"; }
    fs::path peaks() const { return home() / "peaks.json"; }
    std::map<QString, QString> extraEnv;
    QStringList removedEnv;

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("HOME", dir.path());
        env.insert("XDG_DATA_HOME", dir.path() + "/data");
        env.insert("RUSTUP_HOME", "/root/.rustup");
        env.insert("CARGO_HOME", "/root/.cargo");
        env.insert("HEADROOM_RUNS_DIR", QString::fromStdString(runs().string()));
        env.insert("HEADROOM_POOL_DIR", QString::fromStdString(poolDir().string()));
        env.insert("HEADROOM_PEAKS_FILE", QString::fromStdString(peaks().string()));
        for (const auto& name : {"CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_BUILD_JOBS"})
            env.remove(name);
        for (const auto& [k, v] : extraEnv)
            env.insert(k, v);
        for (const auto& k : removedEnv)
            env.remove(k);
        return env;
    }

    void start(QProcess& p, const QStringList& args, const fs::path& cwd,
               const MemoryCgroup* cgroup = nullptr) const
    {
        p.setProcessEnvironment(environment());
        p.setWorkingDirectory(QString::fromStdString(cwd.string()));
        if (cgroup)
            p.start("/bin/sh", cgroup->wrap(QStringList{QStringLiteral(HEADROOM_CLI_BIN)} + args));
        else
            p.start(QStringLiteral(HEADROOM_CLI_BIN), args);
    }

    static CliRun finish(QProcess& p, int timeoutMs = 240000)
    {
        CliRun run;
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished();
            return run;
        }
        run.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        run.out = p.readAllStandardOutput();
        run.err = p.readAllStandardError();
        return run;
    }

    CliRun run(const QStringList& args, const fs::path& cwd, const MemoryCgroup* cgroup = nullptr) const
    {
        QProcess p;
        start(p, args, cwd, cgroup);
        return finish(p);
    }

    // The newest run's status and log.
    std::optional<RunStatus> lastStatus() const
    {
        std::optional<RunStatus> newest;
        for (const auto& e : listRuns(runs())) {
            if (e.status && (!newest || e.status->spec.createdMs >= newest->spec.createdMs))
                newest = e.status;
        }
        return newest;
    }
    std::string logOf(const RunStatus& s) const { return readAll(RunFiles::of(runs(), s.spec.id).log); }
};

QStringList cargoBuild(const QStringList& extra = {})
{
    return QStringList{"run", "--on-interrupt", "stop", "--", "cargo", "build", "--offline"} + extra;
}

QByteArray describe(const CliRun& r)
{
    if (r.code != 0) // the whole story, where QVERIFY2's message is cut short
        qWarning("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out.constData(), r.err.constData());
    return "exit " + QByteArray::number(r.code) + "\nstdout:\n" + r.out.right(3000) + "\nstderr:\n" +
           r.err.right(3000);
}

} // namespace

class TestAdaptiveBuild : public QObject {
    Q_OBJECT

  private slots:
    void aPoolThatCannotBeJoinedStillBuildsAndSaysWhy()
    {
        Scene scene;
        Workspace ws(scene.home() / "ws", {{"solo", 100, 0, -1}});
        writeFile(scene.poolDir(), "not a folder\n"); // HEADROOM_POOL_DIR names a file
        const CliRun r = scene.run(cargoBuild(), ws.root());
        QVERIFY2(r.code == 0, describe(r).constData());
        const auto status = scene.lastStatus();
        QVERIFY(status);
        QVERIFY(!status->pool.active);
        QVERIFY2(status->pool.problem.find("could not be joined") != std::string::npos,
                 status->pool.problem.c_str());
        QVERIFY2(r.err.contains("could not be joined") || r.out.contains("could not be joined"),
                 describe(r).constData());
        QCOMPARE(ws.scriptsRun(), 1);
    }

    void concurrencyFollowsThePoolWhateverTheEnvironmentSays()
    {
        Scene scene;
        // What a shell or a make above may have left: each would defeat a
        // jobserver on its own.
        scene.extraEnv = {
            {"CARGO_MAKEFLAGS", ""}, {"MAKEFLAGS", "-j8"}, {"MFLAGS", "-j8"}, {"CARGO_BUILD_JOBS", "8"}};
        std::vector<Unit> units;
        for (int i = 1; i <= 5; ++i)
            units.push_back({"nap" + std::to_string(i), 1500, 0, -1});
        Workspace ws(scene.home() / "ws", units);
        const int allowed = int(maxPoolTokens(cpus())) + 1;

        // Without the pool the hostile -j 8 is what cargo does: the measure sees it.
        ProcWatch noPoolWatch({ws.root().string()});
        QStringList noPool = cargoBuild({"-j", "8"});
        noPool.insert(1, "--no-pool");
        const CliRun unpooled = scene.run(noPool, ws.root());
        const int unpooledMost = noPoolWatch.finish();
        QVERIFY2(unpooled.code == 0, describe(unpooled).constData());
        qInfo("without the pool: %d build scripts at once in /proc, %d by their own notes", unpooledMost,
              ws.maxOverlap());
        QVERIFY2(ws.maxOverlap() > allowed, "the workspace cannot show the difference");

        ws.clean();
        ProcWatch watch({ws.root().string()});
        const CliRun pooled = scene.run(cargoBuild({"-j", "8"}), ws.root());
        const int most = watch.finish();
        QVERIFY2(pooled.code == 0, describe(pooled).constData());
        qInfo("with the pool (%u CPUs): %d build scripts at once in /proc, %d by their own notes", cpus(),
              most, ws.maxOverlap());
        QCOMPARE(ws.scriptsRun(), 5);
        QVERIFY2(most <= allowed, QByteArray::number(most).constData());
        QVERIFY2(ws.maxOverlap() <= allowed, QByteArray::number(ws.maxOverlap()).constData());
        const auto status = scene.lastStatus();
        QVERIFY(status);
        QVERIFY2(status->pool.active, status->pool.problem.c_str());
        QVERIFY(!status->pool.parallelism.empty());
        for (const auto& [ms, jobs] : status->pool.parallelism)
            QVERIFY(jobs <= unsigned(allowed));
        const std::string log = scene.logOf(*status);
        QVERIFY2(log.find("-j 8") != std::string::npos && log.find("left out") != std::string::npos,
                 log.c_str());
        QVERIFY2(log.find("Headroom: pool: ") != std::string::npos, log.c_str());
        // The run left the ledger; its lane is gone.
        const auto ledger = JobPool(scene.poolDir()).read();
        QVERIFY2(ledger.ok(), ledger.error().c_str());
        QVERIFY(!ledger->find(status->spec.id));
        QVERIFY(!fs::exists(scene.poolDir() / (status->spec.id + ".fifo")));
    }

    void twoRunsShareOnePool()
    {
        Scene scene;
        std::vector<Unit> a, b;
        for (int i = 1; i <= 4; ++i) {
            a.push_back({"left" + std::to_string(i), 1500, 0, -1});
            b.push_back({"right" + std::to_string(i), 1500, 0, -1});
        }
        Workspace wa(scene.home() / "a", a);
        Workspace wb(scene.home() / "b", b);
        std::atomic<bool> stop{false};
        std::atomic<unsigned> mostMembers{0}, mostGranted{0};
        std::atomic<int> reads{0};
        std::thread ledgerWatch([&] {
            const JobPool pool(scene.poolDir());
            while (!stop) {
                if (auto state = pool.read()) {
                    mostMembers = std::max(mostMembers.load(), unsigned(state->members.size()));
                    mostGranted = std::max(mostGranted.load(), state->granted());
                    ++reads;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
        });
        ProcWatch watch({wa.root().string(), wb.root().string()});
        QProcess pa, pb;
        scene.start(pa, cargoBuild(), wa.root());
        scene.start(pb, cargoBuild(), wb.root());
        const CliRun ra = Scene::finish(pa);
        const CliRun rb = Scene::finish(pb);
        const int most = watch.finish();
        stop = true;
        ledgerWatch.join();
        QVERIFY2(ra.code == 0, describe(ra).constData());
        QVERIFY2(rb.code == 0, describe(rb).constData());
        qInfo("two builds: %u members at most, %u tokens at most over the pool, %d build scripts at once",
              mostMembers.load(), mostGranted.load(), most);
        QCOMPARE(mostMembers.load(), 2u);
        QVERIFY(mostGranted.load() <= maxPoolTokens(cpus()));
        // Each build has its implicit job; the tokens beyond them are shared.
        QVERIFY2(most <= 2 + int(maxPoolTokens(cpus())), QByteArray::number(most).constData());
        QCOMPARE(wa.scriptsRun() + wb.scriptsRun(), 8);
    }

    // `headroom build --preset adaptive`: the plan's pool reaches the supervisor.
    void theAdaptivePresetOfHeadroomBuildDrawsFromThePool()
    {
        Scene scene;
        CargoWorkspace ws(1500);
        const QProcessEnvironment env = scene.environment();
        for (const char* name : {"HEADROOM_RUNS_DIR", "HEADROOM_POOL_DIR", "HEADROOM_PEAKS_FILE"})
            qputenv(name, env.value(name).toUtf8());
        qputenv("HEADROOM_CLI", HEADROOM_CLI_BIN);
        const int rc = headroom::test::runHeadlessBuild(
            {"--project", ws.root(), "--preset", "adaptive", "--lib", "--args", "--offline", "--history",
             QString::fromStdString((scene.home() / "h.sqlite").string())});
        for (const char* name :
             {"HEADROOM_RUNS_DIR", "HEADROOM_POOL_DIR", "HEADROOM_PEAKS_FILE", "HEADROOM_CLI"})
            qunsetenv(name);
        QCOMPARE(rc, 0);
        const auto status = scene.lastStatus();
        QVERIFY(status);
        QCOMPARE(status->spec.preset, BuildPreset::Adaptive);
        QVERIFY(status->spec.pool);
        QVERIFY2(status->pool.active, status->pool.problem.c_str());
        QVERIFY(!status->pool.limit.empty());
        const std::string log = scene.logOf(*status);
        QVERIFY2(log.find("draws from the job pool") != std::string::npos, log.c_str());
        QVERIFY2(log.find("Headroom: pool: ") != std::string::npos, log.c_str());
        // What it saw is learned for the next build.
        const LearnedPeaks peaks = LearnedPeaks::load(scene.peaks());
        QVERIFY(peaks.units(status->spec.project));
    }

    void anOomKilledJobIsBuiltAgainAlone()
    {
        MemoryCgroup cgroup(400ull << 20);
        if (!cgroup.ok())
            QSKIP("no v1 memory cgroup can be made here (root and /sys/fs/cgroup/memory needed)");
        Scene scene;
        // greedy takes 700 MiB the first time (more than the whole limit), 50 after.
        Workspace ws(scene.home() / "ws", {{"greedy", 300, 50, 700}, {"calm", 200, 0, -1}});
        const std::uint64_t killsBefore = cgroup.oomKills();
        const CliRun r = scene.run(cargoBuild(), ws.root(), &cgroup);
        QVERIFY2(r.code == 0, describe(r).constData());
        QCOMPARE(cgroup.oomKills(), killsBefore + 1);
        const auto status = scene.lastStatus();
        QVERIFY(status);
        QCOMPARE(status->pool.oomRetries, 1u);
        QCOMPARE(status->pool.retryCrate, std::string("build-script:greedy"));
        QVERIFY(status->diagnosis);
        QCOMPARE(status->diagnosis->verdict, BuildVerdict::Succeeded);
        QVERIFY2(status->diagnosis->summary.find("OOM kill") != std::string::npos,
                 status->diagnosis->summary.c_str());
        const std::string log = scene.logOf(*status);
        QVERIFY2(log.find("the build script of greedy was killed for memory") != std::string::npos,
                 log.c_str());
        QVERIFY2(log.find("(retry 1 of 2)") != std::string::npos, log.c_str());
        const LearnedPeaks peaks = LearnedPeaks::load(scene.peaks());
        const auto learned = peaks.peak(status->spec.project, "build-script:greedy");
        QVERIFY(learned);
        QVERIFY(learned->bytes > 0);
    }

    void theContainerLimitIsKeptWhereCargosOwnJobsAreKilled()
    {
        MemoryCgroup cgroup(520ull << 20);
        if (!cgroup.ok())
            QSKIP("no v1 memory cgroup can be made here (root and /sys/fs/cgroup/memory needed)");
        Scene scene;
        std::vector<Unit> units;
        for (int i = 1; i <= 4; ++i)
            units.push_back({"heavy" + std::to_string(i), 2000, 300, -1});
        Workspace ws(scene.home() / "ws", units);

        // cargo's own -j (2 here) in the same limit.
        std::uint64_t before = oomKills();
        std::uint64_t inGroup = cgroup.oomKills();
        {
            QProcess p;
            p.setProcessEnvironment(scene.environment());
            p.setWorkingDirectory(QString::fromStdString(ws.root().string()));
            p.start("/bin/sh", cgroup.wrap({"cargo", "build", "--offline"}));
            const CliRun plain = Scene::finish(p);
            qInfo("cargo's own -j: exit %d, %llu OOM kills in the cgroup (%llu on the machine)", plain.code,
                  static_cast<unsigned long long>(cgroup.oomKills() - inGroup),
                  static_cast<unsigned long long>(oomKills() - before));
            if (plain.code == 0)
                QFAIL("cargo's own -j was not killed in the limit: the workspace cannot show the difference");
            QVERIFY(oomKills() > before);
            QVERIFY(cgroup.oomKills() > inGroup);
        }

        ws.clean();
        inGroup = cgroup.oomKills();
        const CliRun first = scene.run(cargoBuild(), ws.root(), &cgroup);
        const std::uint64_t firstKills = cgroup.oomKills() - inGroup;
        QVERIFY2(first.code == 0, describe(first).constData());
        const auto one = scene.lastStatus();
        QVERIFY(one);
        qInfo("adaptive, nothing learned: exit %d, %llu OOM kills in the cgroup, %u retries, limit \"%s\"",
              first.code, static_cast<unsigned long long>(firstKills), one->pool.oomRetries,
              one->pool.limit.c_str());
        QVERIFY2(one->pool.limitBytes <= (520ull << 20), one->pool.limit.c_str());
        QCOMPARE(ws.scriptsRun(), 4);
        QVERIFY(firstKills == 0 || one->pool.oomRetries > 0); // a kill is built again, not the end

        ws.clean();
        inGroup = cgroup.oomKills();
        const CliRun second = scene.run(cargoBuild(), ws.root(), &cgroup);
        const std::uint64_t secondKills = cgroup.oomKills() - inGroup;
        QVERIFY2(second.code == 0, describe(second).constData());
        const auto two = scene.lastStatus();
        QVERIFY(two);
        qInfo("adaptive, peaks learned: exit %d, %llu OOM kills in the cgroup, %u retries", second.code,
              static_cast<unsigned long long>(secondKills), two->pool.oomRetries);
        // Build scripts that take their whole 300 MiB at once, faster than
        // the pool samples: only a token that is never given keeps two of
        // them apart (cargo keeps a token while it has work queued).
        QCOMPARE(secondKills, std::uint64_t(0));
        QCOMPARE(two->pool.oomRetries, 0u);
        const LearnedPeaks peaks = LearnedPeaks::load(scene.peaks());
        const auto heavy = peaks.peak(two->spec.project, "build-script:heavy1");
        QVERIFY(heavy);
        QVERIFY2(heavy->bytes >= (200ull << 20), std::to_string(heavy->bytes).c_str());
    }

    // Two heavy build scripts and four light ones in a limit that holds one
    // heavy and a light, not two heavies. The first build learns the peaks
    // and the order cargo starts the units in; the second, knowing what
    // comes next, runs lights beside a heavy and never two heavies.
    void aLearnedBuildNeverRunsTwoHeaviesAtOnce()
    {
        // The reserve is a tenth of the limit, at least 1 GiB, at most half
        // of it: heavies above 1 GiB are what makes the difference here.
        // "last" alone does not fit above the reserve of 1 GiB, "first" and a
        // light do; "first" and "last" together are over the limit. "first"
        // holds its memory for longer than the lights take: cargo then starts
        // "last" in the token the lights gave back, and the pool must pause it.
        constexpr std::uint64_t limit = 2560ull << 20;
        constexpr int firstMiB = 1200, lastMiB = 1600;
        MemoryCgroup cgroup(limit);
        if (!cgroup.ok())
            QSKIP("no v1 memory cgroup can be made here (root and /sys/fs/cgroup/memory needed)");
        Scene scene;
        // Cargo starts what more units wait for first: "first" (every light
        // and "top" depend on it), then the lights ("top" waits for them),
        // "last" (nothing waits for it) at the end. The old prediction, the
        // heaviest unit still to come, kept every light from running beside
        // "first" while "last" was still to come.
        const std::vector<std::string> lights{"alight", "blight", "clight", "dlight"};
        std::vector<Unit> units{{"first", 6000, firstMiB, -1}, {"last", 1500, lastMiB, -1}};
        for (const auto& name : lights)
            units.push_back({name, 1000, 0, -1, {"first"}});
        units.push_back({"top", 0, 0, -1, {"first", "alight", "blight", "clight", "dlight"}});
        Workspace ws(scene.home() / "ws", units);
        const auto heavy = [](const std::string& name) { return name == "first" || name == "last"; };
        const auto wall = [](auto&& f) {
            const auto t0 = std::chrono::steady_clock::now();
            f();
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };

        // cargo one job at a time, for the figures.
        CliRun serial;
        const double serialSeconds = wall([&] {
            Scene one;
            one.extraEnv = {{"CARGO_BUILD_JOBS", "1"}};
            QProcess p;
            p.setProcessEnvironment(one.environment());
            p.setWorkingDirectory(QString::fromStdString(ws.root().string()));
            p.start("/bin/sh", cgroup.wrap({"cargo", "build", "--offline"}));
            serial = Scene::finish(p);
        });
        QVERIFY2(serial.code == 0, describe(serial).constData());

        ws.clean();
        std::uint64_t inGroup = cgroup.oomKills();
        CliRun first;
        const double firstSeconds = wall([&] { first = scene.run(cargoBuild(), ws.root(), &cgroup); });
        QVERIFY2(first.code == 0, describe(first).constData());
        const auto one = scene.lastStatus();
        QVERIFY(one);
        QCOMPARE(ws.scriptsRun(), 7);
        const std::uint64_t firstKills = cgroup.oomKills() - inGroup;
        QVERIFY(firstKills == 0 || one->pool.oomRetries > 0);
        const LearnedPeaks learned = LearnedPeaks::load(scene.peaks());
        const auto order = learned.order(one->spec.project);
        std::string orderWords;
        for (const auto& unit : order)
            orderWords += unit + " ";
        QVERIFY2(order.size() >= 6, orderWords.c_str());
        for (const auto& u : units) { // all but "top", too quick for a sample to see
            if (u.holdMs > 0)
                QVERIFY2(learned.peak(one->spec.project, "build-script:" + u.name), u.name.c_str());
        }
        QVERIFY(learned.peak(one->spec.project, "build-script:first")->bytes >=
                (std::uint64_t(firstMiB) << 20));

        ws.clean();
        inGroup = cgroup.oomKills();
        CliRun second;
        const double secondSeconds = wall([&] { second = scene.run(cargoBuild(), ws.root(), &cgroup); });
        const std::uint64_t secondKills = cgroup.oomKills() - inGroup;
        QVERIFY2(second.code == 0, describe(second).constData());
        const auto two = scene.lastStatus();
        QVERIFY(two);
        const std::string log = scene.logOf(*two);
        QCOMPARE(ws.scriptsRun(), 7);

        // Who ran beside whom: a heavy from when it held its memory.
        const auto notes = ws.intervals();
        // A light beside a heavy while the other heavy had not started: what
        // the old prediction never allowed.
        int lightBesideHeavy = 0, heaviesAtOnce = 0;
        for (const auto& h : notes) {
            if (!heavy(h.name))
                continue;
            const auto other = std::find_if(notes.begin(), notes.end(),
                                            [&](const auto& o) { return heavy(o.name) && &o != &h; });
            for (const auto& o : notes) {
                if (&o == &h)
                    continue;
                if (heavy(o.name) && o.held < h.end && h.held < o.end)
                    ++heaviesAtOnce;
                if (!heavy(o.name) && o.start < h.end && h.held < o.end && other != notes.end() &&
                    o.start < other->start)
                    ++lightBesideHeavy;
            }
        }
        qInfo("learned order: %s", orderWords.c_str());
        if (!notes.empty()) {
            std::int64_t t0 = notes.front().start;
            for (const auto& n : notes)
                t0 = std::min(t0, n.start);
            std::string line;
            for (const auto& n : notes)
                line +=
                    n.name + " " + std::to_string(n.start - t0) + ".." + std::to_string(n.end - t0) + "  ";
            qInfo("second run's build scripts (ms): %s", line.c_str());
        }
        qInfo("wall time: cargo -j1 %.1f s, adaptive learning %.1f s (%llu OOM kills), adaptive with the "
              "order %.1f s = %.2fx of -j1; %d lights beside a heavy, %d heavy pairs at once, %llu OOM kills",
              serialSeconds, firstSeconds, static_cast<unsigned long long>(firstKills), secondSeconds,
              secondSeconds / serialSeconds, lightBesideHeavy, heaviesAtOnce,
              static_cast<unsigned long long>(secondKills));
        // Paused when it was seen starting, or once memory fell below the reserve.
        const bool pausedLast = log.find("build script of last just started") != std::string::npos ||
                                log.find("paused build script of last") != std::string::npos;
        qInfo("\"last\" %s", pausedLast ? "started beside \"first\" and was paused until it fitted"
                                        : "did not start beside \"first\" (nothing to pause)");
        if (secondKills != 0 || heaviesAtOnce != 0 || qEnvironmentVariableIsSet("SHOW_LOG"))
            qWarning("%s", log.c_str());
        QCOMPARE(secondKills, std::uint64_t(0));
        QCOMPARE(two->pool.oomRetries, 0u);
        QCOMPARE(heaviesAtOnce, 0);
        // Lights beside a heavy are printed, not required: a token is given
        // only when the next job fits beside the heaviest unit still to come
        // (cargo keeps a token while it has work queued), which here holds
        // them back while "first" runs and "last" is still to come.
    }
};

QTEST_GUILESS_MAIN(TestAdaptiveBuild)
#include "TestAdaptiveBuild.moc"
