// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RunRecord.h"

#include "JsonFields.h"
#include "headroom/Platform.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <type_traits>

namespace headroom {

using nlohmann::json;

namespace {

constexpr RunOrigin kOrigins[] = {RunOrigin::Window, RunOrigin::HeadlessBuild, RunOrigin::Command};
constexpr RunState kStates[] = {RunState::Starting, RunState::Running, RunState::Finished,
                                RunState::SupervisorLost};
constexpr TargetKind kTargetKinds[] = {TargetKind::Default, TargetKind::Bin, TargetKind::Example,
                                       TargetKind::Lib};
constexpr BuildVerdict kVerdicts[] = {BuildVerdict::Succeeded,       BuildVerdict::OutOfMemory,
                                      BuildVerdict::KilledBySignal,  BuildVerdict::CompileError,
                                      BuildVerdict::MissingArtifact, BuildVerdict::Cancelled,
                                      BuildVerdict::Failed};

std::string_view targetKindId(TargetKind kind)
{
    switch (kind) {
    case TargetKind::Default:
        return "default";
    case TargetKind::Bin:
        return "bin";
    case TargetKind::Example:
        return "example";
    case TargetKind::Lib:
        return "lib";
    }
    return "default";
}

template <typename E, std::size_t N, typename F>
std::optional<E> fromId(const E (&all)[N], F id, const std::string& text)
{
    for (E e : all) {
        if (id(e) == text)
            return e;
    }
    return std::nullopt;
}

using json_fields::BadField;
using json_fields::integer;

template <typename T> void read(const json& o, const char* key, T& into)
{
    const auto it = o.find(key);
    if (it == o.end() || it->is_null())
        return;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        into = integer<T>(*it, key);
    } else if constexpr (std::is_same_v<T, std::map<std::string, std::uint64_t>>) {
        if (!it->is_object())
            throw BadField{key};
        T out;
        for (const auto& [k, v] : it->items())
            out[k] = integer<std::uint64_t>(v, key);
        into = std::move(out);
    } else {
        try {
            into = it->get<T>();
        } catch (const json::exception&) {
            throw BadField{key};
        }
    }
}

template <typename T> void readOptional(const json& o, const char* key, std::optional<T>& into)
{
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        into.reset();
        return;
    }
    T value{};
    read(o, key, value);
    into = value;
}

template <typename T> json optionalJson(const std::optional<T>& v)
{
    return v ? json(*v) : json(nullptr);
}

json keyJson(const std::optional<ProcessKey>& key)
{
    if (!key)
        return nullptr;
    return json{{"pid", key->pid}, {"startTime", key->startTime}};
}

std::optional<ProcessKey> keyFrom(const json& o, const char* name)
{
    const auto it = o.find(name);
    if (it == o.end() || it->is_null())
        return std::nullopt;
    if (!it->is_object())
        throw BadField{name};
    ProcessKey key;
    read(*it, "pid", key.pid);
    read(*it, "startTime", key.startTime);
    if (key.pid <= 0)
        throw BadField{name};
    return key;
}

json stepJson(const BuildStep& s)
{
    return json{{"title", s.title},
                {"program", s.program},
                {"args", s.args},
                {"environment", s.environment},
                {"workingDir", s.workingDir},
                {"messageFormat", s.messageFormat}};
}

BuildStep stepFrom(const json& o)
{
    if (!o.is_object())
        throw BadField{"spec.steps"};
    BuildStep s;
    read(o, "title", s.title);
    read(o, "program", s.program);
    read(o, "args", s.args);
    read(o, "environment", s.environment);
    read(o, "workingDir", s.workingDir);
    read(o, "messageFormat", s.messageFormat);
    return s;
}

json requestJson(const BuildRequest& r)
{
    return json{{"projectDir", r.projectDir},
                {"package", r.package},
                {"targetKind", targetKindId(r.targetKind)},
                {"targetName", r.targetName},
                {"features", r.features},
                {"profile", r.profile},
                {"extraArgs", r.extraArgs},
                {"thenRun", r.thenRun},
                {"targetDir", r.targetDir},
                {"cargoProgram", r.cargoProgram},
                {"jobs", optionalJson(r.jobs)}};
}

BuildRequest requestFrom(const json& o)
{
    BuildRequest r;
    if (o.is_null())
        return r;
    if (!o.is_object())
        throw BadField{"spec.request"};
    read(o, "projectDir", r.projectDir);
    read(o, "package", r.package);
    std::string kind = "default";
    read(o, "targetKind", kind);
    const auto k = fromId(kTargetKinds, targetKindId, kind);
    if (!k)
        throw BadField{"spec.request.targetKind"};
    r.targetKind = *k;
    read(o, "targetName", r.targetName);
    read(o, "features", r.features);
    read(o, "profile", r.profile);
    read(o, "extraArgs", r.extraArgs);
    read(o, "thenRun", r.thenRun);
    read(o, "targetDir", r.targetDir);
    read(o, "cargoProgram", r.cargoProgram);
    readOptional(o, "jobs", r.jobs);
    return r;
}

json specJson(const RunSpec& s)
{
    json steps = json::array();
    for (const auto& step : s.steps)
        steps.push_back(stepJson(step));
    return json{{"id", s.id},
                {"origin", runOriginId(s.origin)},
                {"title", s.title},
                {"project", s.project},
                {"request", requestJson(s.request)},
                {"preset", presetId(s.preset)},
                {"jobs", optionalJson(s.jobs)},
                {"steps", steps},
                {"artifactPath", s.artifactPath},
                {"target",
                 {{"package", s.targetPackage},
                  {"kind", s.targetKind},
                  {"name", s.targetName},
                  {"features", s.targetFeatures}}},
                {"historyPath", s.historyPath},
                {"oomScoreAdj", s.oomScoreAdj},
                {"graceMs", s.graceMs},
                {"memoryHigh", optionalJson(s.memoryHigh)},
                {"memoryMax", optionalJson(s.memoryMax)},
                {"createdMs", s.createdMs},
                {"pool", s.pool},
                {"poolStartTokens", s.poolStartTokens}};
}

RunSpec specFrom(const json& o)
{
    if (!o.is_object())
        throw BadField{"spec"};
    RunSpec s;
    read(o, "id", s.id);
    if (!isValidRunId(s.id))
        throw BadField{"spec.id"};
    std::string origin = "run";
    read(o, "origin", origin);
    s.origin = fromId(kOrigins, runOriginId, origin).value_or(RunOrigin::Command);
    read(o, "title", s.title);
    read(o, "project", s.project);
    if (auto it = o.find("request"); it != o.end())
        s.request = requestFrom(*it);
    std::string preset = "custom";
    read(o, "preset", preset);
    s.preset = presetFromId(preset).value_or(BuildPreset::Custom);
    readOptional(o, "jobs", s.jobs);
    if (auto it = o.find("steps"); it != o.end() && !it->is_null()) {
        if (!it->is_array())
            throw BadField{"spec.steps"};
        for (const auto& step : *it)
            s.steps.push_back(stepFrom(step));
    }
    read(o, "artifactPath", s.artifactPath);
    if (auto it = o.find("target"); it != o.end() && !it->is_null()) {
        if (!it->is_object())
            throw BadField{"spec.target"};
        read(*it, "package", s.targetPackage);
        read(*it, "kind", s.targetKind);
        read(*it, "name", s.targetName);
        read(*it, "features", s.targetFeatures);
    }
    read(o, "historyPath", s.historyPath);
    read(o, "oomScoreAdj", s.oomScoreAdj);
    read(o, "graceMs", s.graceMs);
    readOptional(o, "memoryHigh", s.memoryHigh);
    readOptional(o, "memoryMax", s.memoryMax);
    read(o, "createdMs", s.createdMs);
    read(o, "pool", s.pool);
    read(o, "poolStartTokens", s.poolStartTokens);
    return s;
}

json diagnosisJson(const std::optional<BuildDiagnosis>& d)
{
    if (!d)
        return nullptr;
    return json{{"verdict", verdictId(d->verdict)},
                {"summary", d->summary},
                {"detail", d->detail},
                {"nextPreset", d->nextPreset ? json(presetId(*d->nextPreset)) : json(nullptr)},
                {"nextJobs", optionalJson(d->nextJobs)},
                {"nextStep", d->nextStep}};
}

std::optional<BuildDiagnosis> diagnosisFrom(const json& o)
{
    const auto it = o.find("diagnosis");
    if (it == o.end() || it->is_null())
        return std::nullopt;
    if (!it->is_object())
        throw BadField{"diagnosis"};
    BuildDiagnosis d;
    std::string verdict = "failed";
    read(*it, "verdict", verdict);
    const auto v = fromId(kVerdicts, verdictId, verdict);
    if (!v)
        throw BadField{"diagnosis.verdict"};
    d.verdict = *v;
    read(*it, "summary", d.summary);
    read(*it, "detail", d.detail);
    std::optional<std::string> next;
    readOptional(*it, "nextPreset", next);
    if (next)
        d.nextPreset = presetFromId(*next);
    readOptional(*it, "nextJobs", d.nextJobs);
    read(*it, "nextStep", d.nextStep);
    return d;
}

// The chart's series: one point per sample, thinned by the supervisor; a
// longer one (another writer, a damaged file) is thinned here to the bound.
constexpr std::size_t kParallelismPoints = 600;
constexpr std::size_t kPausedNames = 64;

json poolJson(const PoolStatus& p)
{
    json series = json::array();
    for (const auto& [ms, jobs] : p.parallelism)
        series.push_back(json::array({ms, jobs}));
    return json{{"active", p.active},
                {"problem", p.problem},
                {"granted", p.granted},
                {"inUse", p.inUse},
                {"poolGranted", p.poolGranted},
                {"poolBuilds", p.poolBuilds},
                {"cpus", p.cpus},
                {"budgetBytes", p.budgetBytes},
                {"limitBytes", p.limitBytes},
                {"limit", p.limit},
                {"reserveBytes", p.reserveBytes},
                {"predictedBytes", p.predictedBytes},
                {"heldBack", p.heldBack},
                {"paused", p.paused},
                {"oomRetries", p.oomRetries},
                {"retryCrate", p.retryCrate},
                {"parallelism", series}};
}

std::vector<std::pair<std::int64_t, unsigned>> parallelismFrom(const json& o)
{
    const auto it = o.find("parallelism");
    if (it == o.end() || it->is_null())
        return {};
    if (!it->is_array())
        throw BadField{"pool.parallelism"};
    const std::size_t n = it->size();
    // Every stride-th point, and always the last: the shape of the whole run survives.
    const std::size_t stride =
        n > kParallelismPoints ? (n + kParallelismPoints - 2) / (kParallelismPoints - 1) : 1;
    std::vector<std::pair<std::int64_t, unsigned>> out;
    out.reserve(std::min(n, kParallelismPoints));
    for (std::size_t i = 0; i < n; ++i) {
        if (i % stride != 0 && i + 1 != n)
            continue;
        const json& point = (*it)[i];
        if (!point.is_array() || point.size() != 2)
            throw BadField{"pool.parallelism"};
        out.emplace_back(integer<std::int64_t>(point[0], "pool.parallelism"),
                         integer<unsigned>(point[1], "pool.parallelism"));
    }
    return out;
}

void readPool(const json& j, PoolStatus& p)
{
    read(j, "active", p.active);
    read(j, "problem", p.problem);
    read(j, "granted", p.granted);
    read(j, "inUse", p.inUse);
    read(j, "poolGranted", p.poolGranted);
    read(j, "poolBuilds", p.poolBuilds);
    read(j, "cpus", p.cpus);
    read(j, "budgetBytes", p.budgetBytes);
    read(j, "limitBytes", p.limitBytes);
    read(j, "limit", p.limit);
    read(j, "reserveBytes", p.reserveBytes);
    read(j, "predictedBytes", p.predictedBytes);
    read(j, "heldBack", p.heldBack);
    read(j, "paused", p.paused);
    if (p.paused.size() > kPausedNames)
        p.paused.resize(kPausedNames);
    read(j, "oomRetries", p.oomRetries);
    read(j, "retryCrate", p.retryCrate);
    p.parallelism = parallelismFrom(j);
}

PoolStatus poolFrom(const json& o)
{
    const auto it = o.find("pool");
    if (it == o.end() || it->is_null())
        return {};
    if (!it->is_object())
        throw BadField{"pool"};
    PoolStatus p;
    try {
        readPool(*it, p);
    } catch (const BadField& bad) {
        throw BadField{bad.what.rfind("pool.", 0) == 0 ? bad.what : "pool." + bad.what};
    }
    return p;
}

} // namespace

std::string_view runOriginId(RunOrigin origin)
{
    switch (origin) {
    case RunOrigin::Window:
        return "window";
    case RunOrigin::HeadlessBuild:
        return "build";
    case RunOrigin::Command:
        return "run";
    }
    return "run";
}

std::string_view runStateId(RunState state)
{
    switch (state) {
    case RunState::Starting:
        return "starting";
    case RunState::Running:
        return "running";
    case RunState::Finished:
        return "finished";
    case RunState::SupervisorLost:
        return "supervisor-lost";
    }
    return "starting";
}

int RunStatus::exitCodeForShell() const
{
    if (diagnosis && diagnosis->verdict == BuildVerdict::Succeeded)
        return thenRunExitCode.value_or(0);
    if (signal)
        return 128 + *signal;
    if (exitCode && *exitCode != 0)
        return *exitCode;
    return 1;
}

std::optional<ProcessKey> RunStatus::currentRoot() const
{
    if (steps.empty())
        return std::nullopt;
    return steps.back().root;
}

std::string toJson(const RunStatus& s)
{
    json steps = json::array();
    for (const auto& step : s.steps)
        steps.push_back(json{{"root", keyJson(step.root)},
                             {"exitCode", optionalJson(step.exitCode)},
                             {"signal", optionalJson(step.signal)},
                             {"startedMs", step.startedMs},
                             {"endedMs", step.endedMs}});
    json o{{"format", "headroom.run"},
           {"version", RunStatus::kVersion},
           {"spec", specJson(s.spec)},
           {"state", runStateId(s.state)},
           {"supervisor", keyJson(s.supervisor)},
           {"startedMs", s.startedMs},
           {"updatedMs", s.updatedMs},
           {"endedMs", s.endedMs},
           {"step", s.step},
           {"steps", steps},
           {"progress", {{"done", s.done}, {"total", s.total}, {"compilingNow", s.compilingNow}}},
           {"waitingForLock", s.waitingForLock},
           {"lockHolder", s.lockHolder},
           {"treeBytes", s.treeBytes},
           {"peakTreeBytes", s.peakTreeBytes},
           {"peakSystemUsed", s.peakSystemUsed},
           {"peakByCrate", s.peakByCrate},
           {"containment", s.containment},
           {"cgroupDir", s.cgroupDir},
           {"stopRequested", s.stopRequested},
           {"exitCode", optionalJson(s.exitCode)},
           {"signal", optionalJson(s.signal)},
           {"seconds", s.seconds},
           {"diagnosis", diagnosisJson(s.diagnosis)},
           {"artifactPath", s.artifactPath},
           {"artifactSize", s.artifactSize},
           {"executables", s.executables},
           {"errorCount", s.errorCount},
           {"warningCount", s.warningCount},
           {"stepsRun", s.stepsRun},
           {"thenRunExitCode", optionalJson(s.thenRunExitCode)},
           {"problem", s.problem},
           {"pool", poolJson(s.pool)}};
    return o.dump(1, ' ', false, json::error_handler_t::replace);
}

Result<RunStatus> parseRunStatus(std::string_view text)
{
    const json o = json::parse(text, nullptr, false);
    if (o.is_discarded() || !o.is_object())
        return Result<RunStatus>::failure("it is not a JSON object (a torn or damaged file)");
    // Looked at before anything is read as a type: a "format" of 5 is not ours, not a crash.
    const auto format = o.find("format");
    if (format == o.end() || !format->is_string() || format->get<std::string>() != "headroom.run")
        return Result<RunStatus>::failure("it is not a Headroom run status");
    const auto version = o.find("version");
    if (version == o.end() || !version->is_number_integer())
        return Result<RunStatus>::failure("it has no version number");
    if (version->get<std::int64_t>() != RunStatus::kVersion)
        return Result<RunStatus>::failure("it has version " + std::to_string(version->get<std::int64_t>()) +
                                          "; this Headroom reads version " +
                                          std::to_string(RunStatus::kVersion));
    try {
        RunStatus s;
        const auto spec = o.find("spec");
        if (spec == o.end())
            throw BadField{"spec"};
        s.spec = specFrom(*spec);
        std::string state = "starting";
        read(o, "state", state);
        const auto st = fromId(kStates, runStateId, state);
        if (!st)
            throw BadField{"state"};
        s.state = *st;
        s.supervisor = keyFrom(o, "supervisor");
        read(o, "startedMs", s.startedMs);
        read(o, "updatedMs", s.updatedMs);
        read(o, "endedMs", s.endedMs);
        read(o, "step", s.step);
        if (auto it = o.find("steps"); it != o.end() && !it->is_null()) {
            if (!it->is_array())
                throw BadField{"steps"};
            for (const auto& j : *it) {
                if (!j.is_object())
                    throw BadField{"steps"};
                RunStepStatus step;
                step.root = keyFrom(j, "root");
                readOptional(j, "exitCode", step.exitCode);
                readOptional(j, "signal", step.signal);
                read(j, "startedMs", step.startedMs);
                read(j, "endedMs", step.endedMs);
                s.steps.push_back(step);
            }
        }
        if (auto it = o.find("progress"); it != o.end() && !it->is_null()) {
            if (!it->is_object())
                throw BadField{"progress"};
            read(*it, "done", s.done);
            read(*it, "total", s.total);
            read(*it, "compilingNow", s.compilingNow);
        }
        read(o, "waitingForLock", s.waitingForLock);
        read(o, "lockHolder", s.lockHolder);
        read(o, "treeBytes", s.treeBytes);
        read(o, "peakTreeBytes", s.peakTreeBytes);
        read(o, "peakSystemUsed", s.peakSystemUsed);
        read(o, "peakByCrate", s.peakByCrate);
        read(o, "containment", s.containment);
        read(o, "cgroupDir", s.cgroupDir);
        read(o, "stopRequested", s.stopRequested);
        readOptional(o, "exitCode", s.exitCode);
        readOptional(o, "signal", s.signal);
        read(o, "seconds", s.seconds);
        s.diagnosis = diagnosisFrom(o);
        read(o, "artifactPath", s.artifactPath);
        read(o, "artifactSize", s.artifactSize);
        read(o, "executables", s.executables);
        read(o, "errorCount", s.errorCount);
        read(o, "warningCount", s.warningCount);
        read(o, "stepsRun", s.stepsRun);
        readOptional(o, "thenRunExitCode", s.thenRunExitCode);
        read(o, "problem", s.problem);
        s.pool = poolFrom(o);
        return Result<RunStatus>::success(std::move(s));
    } catch (const BadField& bad) {
        return Result<RunStatus>::failure("its field \"" + bad.what + "\" is malformed");
    } catch (const json::exception& e) {
        // A shape no field check foresaw: still a refusal with a reason, never a throw.
        return Result<RunStatus>::failure(std::string("it is malformed (") + e.what() + ")");
    }
}

std::string historyRecordJson(const RunStatus& s)
{
    const RunSpec& spec = s.spec;
    json o{{"runId", spec.id},
           {"project", spec.project},
           {"preset", presetId(spec.preset)},
           {"startedMs", s.startedMs ? s.startedMs : spec.createdMs},
           {"seconds", s.seconds},
           {"verdict", s.diagnosis ? verdictId(s.diagnosis->verdict) : std::string_view("failed")},
           {"summary", s.diagnosis ? s.diagnosis->summary : s.problem},
           {"exitCode", optionalJson(s.exitCode)},
           {"signal", optionalJson(s.signal)},
           {"peakTreeBytes", s.peakTreeBytes},
           {"peakSystemUsed", s.peakSystemUsed},
           {"jobs", optionalJson(spec.jobs)},
           {"artifact", s.artifactPath}};
    if (!spec.targetKind.empty()) {
        o["package"] = spec.targetPackage;
        o["targetKind"] = spec.targetKind;
        o["targetName"] = spec.targetName;
        o["features"] = spec.targetFeatures;
    }
    json steps = json::array();
    for (const auto& step : spec.steps) {
        std::string environment;
        for (const auto& [k, v] : step.environment)
            environment += k + "=" + v + "\n";
        steps.push_back(
            json{{"title", step.title}, {"command", step.displayLine()}, {"environment", environment}});
    }
    o["steps"] = steps;
    json crates = json::array();
    for (const auto& [crate, bytes] : s.peakByCrate)
        crates.push_back(json{{"crate", crate}, {"bytes", bytes}});
    o["crates"] = crates;
    return o.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string newRunId()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
#ifdef _WIN32
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    std::random_device device;
    char id[64];
    std::snprintf(id, sizeof id, "%04d%02d%02d-%02d%02d%02d-%u-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unsigned(platform::currentPid()),
                  unsigned(device() & 0xffff));
    return id;
}

bool isValidRunId(std::string_view id)
{
    if (id.empty() || id.size() > 64)
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

} // namespace headroom
