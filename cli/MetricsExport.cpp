// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/MetricsExport.h"

#include "cli/ExitCodes.h"
#include "cli/MetricsServer.h"
#include "headroom/AtomicFile.h"
#include "headroom/JobPool.h"
#include "headroom/LearnedPeaks.h"
#include "headroom/MachineMetrics.h"
#include "headroom/PressureLevel.h"
#include "headroom/RunsFolder.h"
#include "headroom/SafeText.h"
#include "headroom/SystemSampler.h"
#include "headroom/Version.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>

#ifdef _WIN32
#include <cstdio>
#include <fcntl.h>
#include <io.h>
#include <iostream>
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace headroom::cli {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> stopRequested{false};

#ifdef _WIN32
BOOL WINAPI onConsoleEvent(DWORD)
{
    stopRequested = true;
    return TRUE;
}
#else
extern "C" void onExportStopSignal(int)
{
    stopRequested = true;
}
#endif

// SIGTERM (systemd stopping the unit) and Ctrl+C end the export cleanly, with 0.
void catchStopSignals()
{
    stopRequested = false;
#ifdef _WIN32
    ::SetConsoleCtrlHandler(onConsoleEvent, TRUE);
#else
    struct sigaction action {};
    action.sa_handler = onExportStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    // A scraper that hangs up mid-answer is not a reason to die.
    std::signal(SIGPIPE, SIG_IGN);
#endif
}

std::string hostName()
{
#ifdef _WIN32
    const char* name = std::getenv("COMPUTERNAME");
    return name ? std::string(name) : std::string();
#else
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0)
        return {};
    return name;
#endif
}

// Everything one scrape tells: sampled fresh each time, with the level's
// hysteresis, the exhaustion trend and the outcome counts carried from one
// scrape to the next. Scrapes may come at once: one at a time samples.
class MetricsCollector {
  public:
    MetricsCollector()
        : sampler_(SystemSampler::create()), runsDir_(defaultRunsDir()), poolDir_(defaultPoolDir()),
          peaksPath_(LearnedPeaks::defaultPath()), hostname_(hostName())
    {
    }

    Result<std::string> scrape()
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        auto sampled = sampler_->sample();
        if (!sampled)
            return Result<std::string>::failure(sampled.error());
        const Snapshot& s = sampled.value();
        MachineMetricsInputs in;
        in.snapshot = &s;
        in.level = level_.update(s.memory, s.budget);
        // What runs out first: a cgroup's limit when one applies, else RAM and swap.
        estimator_.add(double(s.steadyNs) / 1e9,
                       s.budget.isCgroup() ? s.budget.availableBytes : s.memory.headroom());
        in.secondsLeft = estimator_.secondsLeft();
        in.pool = readPool();
        in.outcomes = countFinishedRuns();
        in.peaks = readPeaks();
        in.hostname = hostname_;
        in.version = HEADROOM_VERSION;
        return Result<std::string>::success(renderMachineMetrics(in));
    }

  private:
    std::optional<PoolState> readPool() const
    {
        std::error_code ec;
        if (!fs::is_directory(poolDir_, ec))
            return std::nullopt; // no pool folder: no build has drawn from one
        auto state = JobPool(poolDir_).read();
        if (!state)
            return std::nullopt;
        return std::move(state.value());
    }

    // Counters never go down: a run is counted once, when it is first seen
    // finished, and its count stays when the runs folder is pruned.
    std::vector<BuildOutcomeCount> countFinishedRuns()
    {
        std::set<std::string> present;
        std::vector<RunStatus> fresh;
        for (RunEntry& entry : listRuns(runsDir_)) {
            if (!entry.status)
                continue;
            std::string id = entry.statusPath.stem().string();
            const RunState state = entry.status->state;
            if ((state == RunState::Finished || state == RunState::SupervisorLost) && !counted_.count(id)) {
                fresh.push_back(std::move(*entry.status));
                counted_.insert(id);
            }
            present.insert(std::move(id));
        }
        for (const BuildOutcomeCount& c : countOutcomes(fresh))
            totals_[{c.preset, c.verdict}] += c.count;
        // Ids are never reused: one pruned from the folder will not come back.
        for (auto it = counted_.begin(); it != counted_.end();)
            it = present.count(*it) ? std::next(it) : counted_.erase(it);
        std::vector<BuildOutcomeCount> out;
        for (const auto& [key, count] : totals_)
            out.push_back({key.first, key.second, count});
        return out;
    }

    std::vector<CratePeak> readPeaks() const
    {
        const LearnedPeaks peaks = LearnedPeaks::load(peaksPath_);
        std::vector<CratePeak> out;
        for (const std::string& project : peaks.projects()) {
            if (const auto* units = peaks.units(project))
                for (const auto& [unit, peak] : *units)
                    out.push_back({project, unit, peak.bytes, peak.oomKilled});
        }
        return out;
    }

    std::mutex mutex_;
    std::unique_ptr<SystemSampler> sampler_;
    PressureLevelMachine level_;
    ExhaustionEstimator estimator_;
    fs::path runsDir_, poolDir_, peaksPath_;
    std::string hostname_;
    std::set<std::string> counted_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> totals_;
};

int serveMetrics(const ExportOptions& o, const std::string& programName, std::ostream& out, std::ostream& err)
{
    const auto address = parseListenAddress(o.listen);
    if (!address) {
        err << programName << " export: --listen " << address.error() << "\n";
        return 2;
    }
    auto collector = std::make_shared<MetricsCollector>();
    HttpServer server([collector](const std::string& path) -> HttpResponse {
        if (path == "/metrics") {
            auto text = collector->scrape();
            if (!text)
                return {500, "text/plain; charset=utf-8",
                        "The metrics could not be gathered: " + safeText(text.error(), 400) + "\n"};
            return {200, std::string(metricsContentType()), std::move(text.value())};
        }
        if (path == "/")
            return {200, "text/plain; charset=utf-8",
                    "Headroom " HEADROOM_VERSION " exporter\n\nThe metrics are at /metrics.\n"};
        return {404, "text/plain; charset=utf-8", "Nothing here. The metrics are at /metrics.\n"};
    });
    const auto listening = server.listen(address.value());
    if (!listening) {
        err << programName << " export: " << listening.error() << "\n";
        return kExitFailed;
    }
    out << "Serving metrics on http://" << server.boundAddress() << "/metrics" << std::endl;
    server.serve(stopRequested);
    return 0;
}

int writeTextfile(const ExportOptions& o, const std::string& programName, std::ostream& err)
{
    const fs::path dir(o.textfileDir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        err << programName << " export: " << safeText(dir.string(), 400)
            << (fs::exists(dir, ec) ? " is not a folder" : " does not exist")
            << ": give --textfile the folder node_exporter reads (its --collector.textfile.directory).\n";
        return kExitFailed;
    }
    MetricsCollector collector;
    const fs::path file = dir / kTextfileName;
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(o.everySeconds));
    auto next = std::chrono::steady_clock::now();
    for (;;) {
        auto text = collector.scrape();
        // node_exporter runs as its own user: the file must be readable by others.
        const auto written = text ? writeFileAtomically(file, text.value(), 0644)
                                  : Result<bool>::failure("cannot sample: " + text.error());
        if (!written) {
            err << programName << " export: " << safeText(written.error(), 600) << "\n";
            if (o.everySeconds <= 0.0)
                return kExitFailed;
        }
        if (o.everySeconds <= 0.0)
            return 0;
        next += period;
        while (!stopRequested && std::chrono::steady_clock::now() < next)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (stopRequested)
            return 0;
    }
}

} // namespace

int runExport(const ExportOptions& o, const std::string& programName, std::ostream& out, std::ostream& err)
{
    if (o.once) {
        MetricsCollector collector;
        auto text = collector.scrape();
        if (!text) {
            err << programName << " export: " << text.error() << "\n";
            return kExitFailed;
        }
#ifdef _WIN32
        // The format's lines end in \n alone: no text-mode \r\n on the console or a pipe.
        if (&out == &std::cout) {
            std::cout.flush();
            _setmode(_fileno(stdout), _O_BINARY);
        }
#endif
        out << text.value() << std::flush;
        return 0;
    }
    catchStopSignals();
    if (!o.textfileDir.empty())
        return writeTextfile(o, programName, err);
    return serveMetrics(o, programName, out, err);
}

} // namespace headroom::cli
