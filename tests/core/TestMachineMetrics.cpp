// SPDX-License-Identifier: GPL-3.0-or-later
// What Headroom tells Prometheus about a machine, and the machine read back.
#include "headroom/MachineMetrics.h"
#include "support/SnapshotBuilder.h"

#include <QtTest>

#include <set>

using namespace headroom;

namespace {

BuildTree makeBuild(Pid pid, std::string tool, std::string workspace, std::uint64_t bytes)
{
    BuildTree b;
    b.root = {pid, std::uint64_t(pid) * 100};
    b.tool = std::move(tool);
    b.workspace = std::move(workspace);
    b.residentBytes = bytes;
    b.members.push_back(b.root);
    b.countByRole[roleIndex(ProcessRole::Cargo)] = 1;
    return b;
}

Snapshot machine()
{
    Snapshot s;
    s.wallMs = 1764750000123;
    s.memory.total = 16ull << 30;
    s.memory.available = 3ull << 30;
    s.memory.used = s.memory.total - s.memory.available;
    s.memory.swapTotal = 4ull << 30;
    s.memory.swapUsed = 1ull << 30;
    s.memory.swapFree = s.memory.swapTotal - s.memory.swapUsed;
    s.memory.pressure.available = true;
    s.memory.pressure.some.avg10 = 12.34;
    s.memory.pressure.full.avg10 = 1.5;
    s.budget.source = BudgetSource::CgroupV2Max;
    s.budget.availableBytes = 2ull << 30;
    s.budget.limitBytes = 8ull << 30;
    s.budget.usedBytes = 6ull << 30;
    s.budget.container = true;
    support::addProcess(s, 100, "cargo", ProcessRole::Cargo, 50ull << 20);
    support::addProcess(s, 101, "rustc", ProcessRole::Rustc, 2ull << 30);
    support::addProcess(s, 102, "rustc", ProcessRole::Rustc, 1ull << 30);
    support::addProcess(s, 103, "cc", ProcessRole::Linker, 300ull << 20);
    support::addProcess(s, 200, "cargo", ProcessRole::Cargo, 40ull << 20);

    BuildTree a = makeBuild(100, "cargo", "/home/u/tsz", (3ull << 30) + (350ull << 20));
    a.subcommand = "build";
    a.profile = "release";
    a.countByRole[roleIndex(ProcessRole::Rustc)] = 2;
    a.countByRole[roleIndex(ProcessRole::Linker)] = 1;
    a.elapsedSeconds = 93.25;
    a.duplicates = {1};
    BuildTree b = makeBuild(200, "cargo", "/home/u/tsz", 40ull << 20);
    b.subcommand = "build";
    b.profile = "release"; // the same labels as a: only the build id tells them apart
    b.duplicates = {0};
    b.elapsedSeconds = 4.0;
    s.builds = {a, b};
    return s;
}

MachineMetricsInputs inputsFor(const Snapshot& s)
{
    MachineMetricsInputs in;
    in.snapshot = &s;
    in.level = {PressureLevel::Warning, "low"};
    in.secondsLeft = 42.5;
    PoolState pool;
    pool.cpus = 8;
    PoolMember m1;
    m1.granted = 3;
    m1.inUse = 2;
    m1.jobs = 3;
    PoolMember m2;
    m2.granted = 1;
    m2.inUse = 1;
    m2.jobs = 2;
    m2.heldBack = "the next unit does not fit";
    pool.members = {m1, m2};
    in.pool = pool;
    in.outcomes = {{"adaptive", "succeeded", 4}, {"A", "out-of-memory", 1}};
    in.peaks = {{"/home/u/tsz", "tsz_checker", 1500ull << 20, false},
                {"/home/u/tsz", "build-script:ring", 80ull << 20, true}};
    in.hostname = "buildbox";
    in.version = "0.1.0";
    return in;
}

MachineView roundTrip(const MachineMetricsInputs& in)
{
    const auto samples = parseMetricsText(renderMachineMetrics(in));
    if (!samples)
        qFatal("%s", samples.error().c_str());
    const auto view = machineViewFromSamples(samples.value());
    if (!view)
        qFatal("%s", view.error().c_str());
    return view.value();
}

std::set<std::string> labelValues(const std::vector<MetricSample>& samples, const std::string& name,
                                  const std::string& label)
{
    std::set<std::string> values;
    for (const MetricSample& s : samples)
        if (s.name == name)
            values.insert(std::string(s.label(label)));
    return values;
}

} // namespace

class TestMachineMetrics : public QObject {
    Q_OBJECT
  private slots:
    void roundTripGivesTheMachineBack()
    {
        const Snapshot s = machine();
        const MachineMetricsInputs in = inputsFor(s);
        const MachineView v = roundTrip(in);
        const Snapshot& r = v.snapshot;
        QCOMPARE(r.memory.total, s.memory.total);
        QCOMPARE(r.memory.available, s.memory.available);
        QCOMPARE(r.memory.used, s.memory.used);
        QCOMPARE(r.memory.swapTotal, s.memory.swapTotal);
        QCOMPARE(r.memory.swapUsed, s.memory.swapUsed);
        QCOMPARE(r.memory.swapFree, s.memory.swapFree);
        QVERIFY(r.memory.pressure.available);
        QCOMPARE(r.memory.pressure.some.avg10, 12.34);
        QCOMPARE(r.memory.pressure.full.avg10, 1.5);
        QCOMPARE(r.budget.source, BudgetSource::CgroupV2Max);
        QCOMPARE(r.budget.availableBytes, s.budget.availableBytes);
        QCOMPARE(r.budget.limitBytes, s.budget.limitBytes);
        QCOMPARE(r.budget.usedBytes, s.budget.usedBytes);
        QVERIFY(r.budget.container);
        QVERIFY(!r.budget.swapCounted);
        QCOMPARE(r.budget.describe(), s.budget.describe());
        QCOMPARE(v.level.level, PressureLevel::Warning);
        QCOMPARE(v.secondsLeft.value_or(-1), 42.5);
        QCOMPARE(r.wallMs, s.wallMs);
        for (ProcessRole role : kAllRoles) {
            QCOMPARE(r.total(role).role, role);
            QCOMPARE(r.total(role).count, s.total(role).count);
            QCOMPARE(r.total(role).residentBytes, s.total(role).residentBytes);
        }
        QCOMPARE(r.total(ProcessRole::Rustc).count, 2u);

        QCOMPARE(r.builds.size(), std::size_t(2));
        for (std::size_t i = 0; i < 2; ++i) {
            const BuildTree& got = r.builds[i];
            const BuildTree& want = s.builds[i];
            QCOMPARE(got.tool, want.tool);
            QCOMPARE(got.subcommand, want.subcommand);
            QCOMPARE(got.profile, want.profile);
            QCOMPARE(got.workspace, want.workspace);
            QCOMPARE(got.residentBytes, want.residentBytes);
            QCOMPARE(got.countByRole, want.countByRole);
            QCOMPARE(got.elapsedSeconds, want.elapsedSeconds);
            QCOMPARE(got.duplicates.empty(), want.duplicates.empty());
            QVERIFY(got.members.empty());
            QCOMPARE(got.root.pid, Pid(0)); // names no process here
            QCOMPARE(got.root, remoteBuildKey(got));
        }
        QCOMPARE(r.builds[0].duplicates, std::vector<std::size_t>{1});
        QVERIFY(r.builds[0].root != r.builds[1].root); // same labels, two builds
        QVERIFY(r.processes.empty());

        QVERIFY(v.pool);
        QCOMPARE(v.pool->granted, 4u);
        QCOMPARE(v.pool->inUse, 3u);
        QCOMPARE(v.pool->capacity, 7u);
        QCOMPARE(v.pool->builds, 2u);
        QCOMPARE(v.pool->jobs, 5u);
        QCOMPARE(v.pool->heldBack, 1u);
        QCOMPARE(v.pool->budgetBytes, s.budget.availableBytes);
        QCOMPARE(v.pool->reserveBytes, poolReserve(s.budget));

        QCOMPARE(v.outcomes.size(), std::size_t(2));
        QCOMPARE(v.outcomes[0].preset, std::string("A"));
        QCOMPARE(v.outcomes[0].verdict, std::string("out-of-memory"));
        QCOMPARE(v.outcomes[0].count, std::uint64_t(1));
        QCOMPARE(v.outcomes[1].preset, std::string("adaptive"));
        QCOMPARE(v.outcomes[1].count, std::uint64_t(4));

        QCOMPARE(v.peaks.size(), std::size_t(2));
        QCOMPARE(v.peaks[0].crate, std::string("tsz_checker"));
        QCOMPARE(v.peaks[0].project, std::string("/home/u/tsz"));
        QCOMPARE(v.peaks[0].bytes, std::uint64_t(1500ull << 20));
        QVERIFY(!v.peaks[0].oomKilled);
        QCOMPARE(v.peaks[1].crate, std::string("build-script:ring"));
        QVERIFY(v.peaks[1].oomKilled);
        QCOMPARE(v.hostname, std::string("buildbox"));
        QCOMPARE(v.version, std::string("0.1.0"));
    }

    void leavesOutWhatIsNotKnown()
    {
        Snapshot s = machine();
        s.memory.pressure.available = false;
        MachineMetricsInputs in = inputsFor(s);
        in.secondsLeft.reset();
        in.pool.reset();
        in.level = {};
        const std::string text = renderMachineMetrics(in);
        QVERIFY(text.find("headroom_memory_pressure") == std::string::npos);
        QVERIFY(text.find("headroom_exhaustion_seconds") == std::string::npos);
        QVERIFY(text.find("headroom_pool_") == std::string::npos);
        QVERIFY(text.find("headroom_level{level=\"normal\"} 1\n") != std::string::npos);
        QVERIFY(text.find("headroom_level{level=\"critical\"} 0\n") != std::string::npos);
        const MachineView v = roundTrip(in);
        QVERIFY(!v.snapshot.memory.pressure.available);
        QVERIFY(!v.secondsLeft);
        QVERIFY(!v.pool);
        QCOMPARE(v.level.level, PressureLevel::Normal);
    }

    void namesNoPid()
    {
        const Snapshot s = machine();
        const std::string text = renderMachineMetrics(inputsFor(s));
        QVERIFY(text.find("pid") == std::string::npos);
        const auto samples = parseMetricsText(text);
        QVERIFY(samples);
        for (const MetricSample& sample : samples.value()) {
            QVERIFY2(sample.name.starts_with("headroom_"), sample.name.c_str());
            for (const auto& [k, value] : sample.labels)
                QVERIFY2(value != "100" && value != "200", k.c_str());
        }
        // The build ids are stable: the same build, the same id on the next scrape.
        QCOMPARE(labelValues(samples.value(), metric::kBuildResident, "build"),
                 labelValues(parseMetricsText(renderMachineMetrics(inputsFor(machine()))).value(),
                             metric::kBuildResident, "build"));
    }

    void boundsCardinality()
    {
        Snapshot s = machine();
        s.builds.clear();
        for (int i = 0; i < 30; ++i)
            s.builds.push_back(
                makeBuild(1000 + i, "cargo", "/w/" + std::to_string(i), (std::uint64_t(i) + 1) << 20));
        MachineMetricsInputs in = inputsFor(s);
        in.peaks.clear();
        for (int i = 0; i < 80; ++i)
            in.peaks.push_back({"/p", "crate" + std::to_string(i), (std::uint64_t(i) + 1) << 20, false});
        const auto samples = parseMetricsText(renderMachineMetrics(in));
        QVERIFY(samples);
        const auto ids = labelValues(samples.value(), metric::kBuildResident, "build");
        QCOMPARE(ids.size(), kMaxExportedBuilds);
        QCOMPARE(labelValues(samples.value(), "headroom_build_processes", "build"), ids);
        QCOMPARE(labelValues(samples.value(), "headroom_build_elapsed_seconds", "build"), ids);
        // Heaviest first: the 20 heaviest workspaces, /w/10 to /w/29.
        const auto workspaces = labelValues(samples.value(), metric::kBuildResident, "workspace");
        QVERIFY(workspaces.count("/w/29") && workspaces.count("/w/10") && !workspaces.count("/w/9"));
        const auto crates = labelValues(samples.value(), "headroom_crate_peak_bytes", "crate");
        QCOMPARE(crates.size(), kMaxExportedPeaks);
        QVERIFY(crates.count("crate79") && crates.count("crate30") && !crates.count("crate29"));
        for (const MetricSample& sample : samples.value())
            if (sample.name == "headroom_builds")
                QCOMPARE(sample.value, 30.0); // every build counted, even those not listed

        const MachineView v = roundTrip(in);
        QCOMPARE(v.snapshot.builds.size(), kMaxExportedBuilds);
        QCOMPARE(v.snapshot.builds.front().workspace, std::string("/w/29"));
        QCOMPARE(v.peaks.size(), kMaxExportedPeaks);
        QCOMPARE(v.peaks.front().crate, std::string("crate79"));
    }

    void boundsWhatAHostileExporterSends()
    {
        std::vector<MetricSample> samples;
        for (int i = 0; i < 500; ++i)
            samples.push_back({metric::kBuildResident,
                               {{"build", std::to_string(i)}, {"tool", "cargo"}},
                               double(i),
                               std::nullopt});
        for (int i = 0; i < 300; ++i)
            samples.push_back(
                {"headroom_crate_peak_bytes", {{"crate", std::to_string(i)}}, double(i), std::nullopt});
        samples.push_back({metric::kMemoryTotal, {}, -5.0, std::nullopt});
        samples.push_back(
            {metric::kMemoryAvailable, {}, std::numeric_limits<double>::quiet_NaN(), std::nullopt});
        samples.push_back({metric::kSwapTotal, {}, 1e300, std::nullopt});
        const auto view = machineViewFromSamples(samples);
        QVERIFY(view);
        QCOMPARE(view->snapshot.builds.size(), kMaxExportedBuilds);
        QCOMPARE(view->snapshot.builds.front().residentBytes, std::uint64_t(499));
        QCOMPARE(view->peaks.size(), kMaxExportedPeaks);
        QCOMPARE(view->peaks.front().bytes, std::uint64_t(299));
        QCOMPARE(view->snapshot.memory.total, std::uint64_t(0));
        QCOMPARE(view->snapshot.memory.available, std::uint64_t(0));
        QCOMPARE(view->snapshot.memory.swapTotal, std::numeric_limits<std::uint64_t>::max());

        std::vector<MetricSeries> series;
        for (int i = 0; i < 100; ++i)
            series.push_back({metric::kBuildResident, {{"build", std::to_string(i)}}, {{1000, double(i)}}});
        series.push_back({metric::kMemoryUsed, {}, {{std::numeric_limits<std::int64_t>::max(), 1.0}}});
        const auto history = machineHistoryFromSeries(series);
        QCOMPARE(history.size(), std::size_t(2));
        QVERIFY(history[1].steadyNs > 0); // held, not wrapped
        QCOMPARE(history[0].builds.size(), kMaxExportedBuilds);
        QCOMPARE(history[0].builds.front().residentBytes, std::uint64_t(99));
    }

    void buildsWithOneIdStayTwoSeries()
    {
        // Ids are a hash: were two to collide, Prometheus would refuse the scrape.
        Snapshot s = machine();
        s.builds[1].root = s.builds[0].root;
        const auto samples = parseMetricsText(renderMachineMetrics(inputsFor(s)));
        QVERIFY(samples);
        const auto ids = labelValues(samples.value(), metric::kBuildResident, "build");
        QCOMPARE(ids.size(), std::size_t(2));
        QVERIFY(ids.begin()->ends_with("-2") != ids.rbegin()->ends_with("-2"));
        QCOMPARE(machineViewFromSamples(samples.value())->snapshot.builds.size(), std::size_t(2));
    }

    void hostileTextStaysInItsLabel()
    {
        Snapshot s = machine();
        s.builds[0].workspace = "/home/u/evil\"} 1\nheadroom_memory_total_bytes 1\n\x1b[2J\xff";
        s.builds[0].tool = std::string(1000, 'x');
        MachineMetricsInputs in = inputsFor(s);
        in.hostname = "host\nname";
        const MachineView v = roundTrip(in);
        QCOMPARE(v.snapshot.memory.total, s.memory.total);
        QCOMPARE(v.snapshot.builds[0].workspace,
                 std::string("/home/u/evil\"} 1?headroom_memory_total_bytes 1??[2J?"));
        QVERIFY(v.snapshot.builds[0].tool.size() <= MetricsWriter::kMaxLabelValueBytes + 3);
        QCOMPARE(v.hostname, std::string("host?name"));
    }

    void refusesWhatIsNotHeadroom()
    {
        const auto other = parseMetricsText("node_memory_MemTotal_bytes 1.6e10\nup 1\n");
        QVERIFY(other);
        const auto view = machineViewFromSamples(other.value());
        QVERIFY(!view);
        QVERIFY2(view.error().find("no headroom_ series") != std::string::npos, view.error().c_str());
        QVERIFY(!machineViewFromSamples({}));
    }

    void readsPrometheusSamplesWithTheirExtraLabels()
    {
        // What an instant query gives: instance and job on every series.
        const Snapshot s = machine();
        auto samples = parseMetricsText(renderMachineMetrics(inputsFor(s))).value();
        for (MetricSample& sample : samples) {
            sample.labels.emplace_back("instance", "buildbox:9464");
            sample.labels.emplace_back("job", "headroom");
        }
        const auto view = machineViewFromSamples(samples);
        QVERIFY(view);
        QCOMPARE(view->snapshot.memory.total, s.memory.total);
        QCOMPARE(view->snapshot.builds.size(), std::size_t(2));
        QCOMPARE(view->hostname, std::string("buildbox"));
    }

    void countsOutcomes()
    {
        std::vector<RunStatus> runs(5);
        runs[0].state = RunState::Finished;
        runs[0].spec.preset = BuildPreset::Adaptive;
        runs[0].diagnosis = BuildDiagnosis{BuildVerdict::Succeeded, {}, {}, {}, {}, {}};
        runs[1] = runs[0];
        runs[2] = runs[0];
        runs[2].spec.preset = BuildPreset::A;
        runs[2].diagnosis->verdict = BuildVerdict::OutOfMemory;
        runs[3].state = RunState::Running; // no outcome yet
        runs[4].state = RunState::SupervisorLost;
        const auto counts = countOutcomes(runs);
        QCOMPARE(counts.size(), std::size_t(3));
        std::map<std::pair<std::string, std::string>, std::uint64_t> byKey;
        for (const auto& c : counts)
            byKey[{c.preset, c.verdict}] = c.count;
        const auto at = [&byKey](BuildPreset preset, const char* verdict) {
            return byKey[std::make_pair(std::string(presetId(preset)), std::string(verdict))];
        };
        QCOMPARE(at(BuildPreset::Adaptive, "succeeded"), std::uint64_t(2));
        QCOMPARE(at(BuildPreset::A, "out-of-memory"), std::uint64_t(1));
        QCOMPARE(at(BuildPreset::Custom, "supervisor-lost"), std::uint64_t(1));
    }

    void historyIsOrderedByTime()
    {
        MetricSeries total{metric::kMemoryTotal, {}, {{3000, 16e9}, {1000, 16e9}, {2000, 16e9}}};
        MetricSeries used{metric::kMemoryUsed, {}, {{2000, 9e9}, {1000, 8e9}, {3000, 10e9}}};
        MetricSeries rustc{metric::kRoleResident, {{"role", "rustc"}}, {{1000, 1e9}, {3000, 3e9}}};
        MetricSeries bogus{metric::kRoleResident, {{"role", "nope"}}, {{1000, 5e9}}};
        MetricSeries buildA{metric::kBuildResident,
                            {{"build", "aaaa"}, {"tool", "cargo"}, {"workspace", "/w"}},
                            {{1000, 1e8}, {2000, 4e9}}};
        MetricSeries buildB{metric::kBuildResident,
                            {{"build", "bbbb"}, {"tool", "cargo"}, {"workspace", "/w"}},
                            {{1000, 2e8}, {2000, 1e9}}};
        MetricSeries budget{metric::kBudgetAvailable, {}, {{2000, 7e9}}};
        const auto history = machineHistoryFromSeries({used, buildA, total, rustc, bogus, buildB, budget});
        QCOMPARE(history.size(), std::size_t(3));
        QCOMPARE(history[0].wallMs, std::int64_t(1000));
        QCOMPARE(history[1].wallMs, std::int64_t(2000));
        QCOMPARE(history[2].wallMs, std::int64_t(3000));
        QCOMPARE(history[1].steadyNs, std::int64_t(2000) * 1000000);
        QCOMPARE(history[0].memory.used, std::uint64_t(8e9));
        QCOMPARE(history[2].memory.used, std::uint64_t(10e9));
        QCOMPARE(history[2].memory.total, std::uint64_t(16e9));
        QCOMPARE(history[0].total(ProcessRole::Rustc).residentBytes, std::uint64_t(1e9));
        QCOMPARE(history[1].total(ProcessRole::Rustc).residentBytes, std::uint64_t(0));
        QCOMPARE(history[0].total(ProcessRole::Other).residentBytes, std::uint64_t(0));
        QCOMPARE(history[1].budget.availableBytes, std::uint64_t(7e9));
        // Heaviest first at each time; a build keeps its key across times.
        QCOMPARE(history[0].builds.size(), std::size_t(2));
        QCOMPARE(history[0].builds[0].residentBytes, std::uint64_t(2e8));
        QCOMPARE(history[1].builds[0].residentBytes, std::uint64_t(4e9));
        QCOMPARE(history[0].builds[1].root, history[1].builds[0].root);
        QVERIFY(history[0].builds[0].root != history[0].builds[1].root);
        QVERIFY(history[2].builds.empty());
        QVERIFY(machineHistoryFromSeries({}).empty());
    }

    void historyKeysMatchTheView()
    {
        // A build drawn from the instant view and from the range series is the same build.
        const Snapshot s = machine();
        const auto samples = parseMetricsText(renderMachineMetrics(inputsFor(s))).value();
        const MachineView v = machineViewFromSamples(samples).value();
        std::vector<MetricSeries> series;
        for (const MetricSample& sample : samples)
            if (sample.name == metric::kBuildResident)
                series.push_back({sample.name, sample.labels, {{5000, sample.value}}});
        const auto history = machineHistoryFromSeries(series);
        QCOMPARE(history.size(), std::size_t(1));
        QCOMPARE(history[0].builds.size(), v.snapshot.builds.size());
        for (std::size_t i = 0; i < v.snapshot.builds.size(); ++i)
            QCOMPARE(history[0].builds[i].root, v.snapshot.builds[i].root);
    }
};

QTEST_GUILESS_MAIN(TestMachineMetrics)
#include "TestMachineMetrics.moc"
