// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildTrees.h"

#include "headroom/BuildDuplicates.h"

#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <algorithm>
#include <fstream>
#include <system_error>

namespace headroom {

namespace fs = std::filesystem;

namespace {

fs::path underRoot(const fs::path& fsRoot, const fs::path& path)
{
    if (fsRoot.empty() || fsRoot == "/")
        return path;
    return fsRoot / path.relative_path();
}

std::string normalised(const fs::path& path)
{
    std::string text = path.lexically_normal().generic_string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

bool declaresWorkspace(const fs::path& manifest)
{
    std::ifstream in(manifest);
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line.compare(first, 11, "[workspace]") == 0)
            return true;
    }
    return false;
}

// The value of an option given as "--name value" or "--name=value".
std::optional<std::string> optionValue(const std::vector<std::string>& argv, std::string_view name)
{
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg == "--")
            break;
        if (arg == name && i + 1 < argv.size())
            return argv[i + 1];
        if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=')
            return arg.substr(name.size() + 1);
    }
    return std::nullopt;
}

bool hasFlag(const std::vector<std::string>& argv, std::string_view flag)
{
    for (std::size_t i = 1; i < argv.size(); ++i) {
        if (argv[i] == "--")
            break;
        if (argv[i] == flag)
            return true;
    }
    return false;
}

std::string cargoSubcommand(const std::vector<std::string>& argv)
{
    // Global options that take a value come before the subcommand.
    static const std::array<std::string_view, 5> valued = {"--config", "-Z", "-C", "--color", "--explain"};
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg.starts_with('+'))
            continue; // +toolchain
        if (std::find(valued.begin(), valued.end(), arg) != valued.end()) {
            ++i;
            continue;
        }
        if (!arg.starts_with('-'))
            return arg;
    }
    return {};
}

fs::path resolveAgainst(const std::string& path, const std::string& base)
{
    fs::path p(path);
    if (p.is_absolute() || base.empty())
        return p;
    return fs::path(base) / p;
}

void describeCargo(BuildTree& build, const ProcessSample& root, const fs::path& fsRoot)
{
    const auto& argv = root.argv;
    build.subcommand = cargoSubcommand(argv);
    if (auto profile = optionValue(argv, "--profile"))
        build.profile = *profile;
    else if (hasFlag(argv, "--release") || hasFlag(argv, "-r") || build.subcommand == "install")
        build.profile = "release";
    else if (build.subcommand == "bench")
        build.profile = "bench";
    else
        build.profile = "dev";

    std::string start = root.cwd;
    if (auto manifest = optionValue(argv, "--manifest-path"))
        start = resolveAgainst(*manifest, root.cwd).parent_path().string();
    if (!start.empty())
        build.workspace = findCargoWorkspace(normalised(start), fsRoot);

    if (auto targetDir = optionValue(argv, "--target-dir"))
        build.targetDir = normalised(resolveAgainst(*targetDir, root.cwd));
    else if (root.cargoTargetDir && !root.cargoTargetDir->empty())
        build.targetDir = normalised(resolveAgainst(*root.cargoTargetDir, build.workspace));
    else if (!build.workspace.empty())
        build.targetDir = normalised(fs::path(build.workspace) / "target");
}

void describeOtherTool(BuildTree& build, const ProcessSample& root)
{
    std::string dir = root.cwd;
    if (build.tool == "cmake") {
        if (auto buildDir = optionValue(root.argv, "--build"))
            dir = resolveAgainst(*buildDir, root.cwd).string();
    } else if (auto changeDir = optionValue(root.argv, "-C")) {
        dir = resolveAgainst(*changeDir, root.cwd).string();
    }
    if (!dir.empty())
        build.workspace = normalised(dir);
    build.targetDir = build.workspace;
}

std::string toolName(const ProcessSample& root)
{
    std::string name = root.displayName();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (name == "gmake")
        return "make";
    if (name == "samu")
        return "ninja";
    return name;
}

} // namespace

std::string findCargoWorkspace(const std::string& start, const fs::path& fsRoot)
{
    std::error_code ec;
    fs::path dir = fs::path(start).lexically_normal();
    std::string nearest;
    for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
        const fs::path manifest = underRoot(fsRoot, dir / "Cargo.toml");
        if (fs::is_regular_file(manifest, ec)) {
            if (nearest.empty())
                nearest = normalised(dir);
            if (declaresWorkspace(manifest))
                return normalised(dir);
        }
        if (dir == dir.root_path())
            break;
        dir = dir.parent_path();
    }
    return nearest.empty() ? normalised(start) : nearest;
}

void assembleBuilds(Snapshot& snapshot, const fs::path& fsRoot)
{
    auto& processes = snapshot.processes;
    snapshot.builds.clear();
    snapshot.roleTotals = {};
    for (ProcessRole role : kAllRoles)
        snapshot.roleTotals[roleIndex(role)].role = role;
    for (const auto& p : processes) {
        if (p.kernelThread)
            continue;
        auto& total = snapshot.roleTotals[roleIndex(p.role)];
        ++total.count;
        total.residentBytes += p.residentBytes;
    }

    const ProcessTree tree(processes);
    for (std::size_t i = 0; i < processes.size(); ++i) {
        const ProcessSample& root = processes[i];
        if (!RoleClassifier::isBuildToolRoot(root))
            continue;
        const auto ancestors = tree.ancestors(root.key.pid);
        const bool nested = std::any_of(ancestors.begin(), ancestors.end(), [&](std::size_t a) {
            return RoleClassifier::isBuildToolRoot(processes[a]);
        });
        if (nested)
            continue;

        BuildTree build;
        build.root = root.key;
        build.tool = toolName(root);
        build.command = root.commandLine();
        build.uid = root.uid;
        if (root.role == ProcessRole::Cargo)
            describeCargo(build, root, fsRoot);
        else
            describeOtherTool(build, root);

        std::vector<std::size_t> members{i};
        const auto descendants = tree.descendants(root.key.pid);
        members.insert(members.end(), descendants.begin(), descendants.end());
        std::sort(members.begin() + 1, members.end());
        for (std::size_t m : members) {
            const ProcessSample& p = processes[m];
            build.members.push_back(p.key);
            build.residentBytes += p.residentBytes;
            ++build.countByRole[roleIndex(p.role)];
            build.bytesByRole[roleIndex(p.role)] += p.residentBytes;
            build.cpuTimeNs += p.cpuTimeNs;
        }
        if (snapshot.wallMs > 0 && root.startedAtMs > 0 && snapshot.wallMs >= root.startedAtMs)
            build.elapsedSeconds = double(snapshot.wallMs - root.startedAtMs) / 1000.0;
        snapshot.builds.push_back(std::move(build));
    }

    std::stable_sort(
        snapshot.builds.begin(), snapshot.builds.end(),
        [](const BuildTree& a, const BuildTree& b) { return a.residentBytes > b.residentBytes; });

    auto& builds = snapshot.builds;
    for (std::size_t a = 0; a < builds.size(); ++a) {
        for (std::size_t b = a + 1; b < builds.size(); ++b) {
            const bool sameWorkspace =
                !builds[a].workspace.empty() && builds[a].workspace == builds[b].workspace;
            const bool sameTarget =
                !builds[a].targetDir.empty() && builds[a].targetDir == builds[b].targetDir;
            if (sameWorkspace || sameTarget) {
                builds[a].duplicates.push_back(b);
                builds[b].duplicates.push_back(a);
            }
        }
    }
    // Only duplicates make the lock worth knowing, so a sample without them
    // never reads the lock table.
    markBuildLocks(snapshot, fsRoot);
}

std::string describeRoleTotals(const Snapshot& snapshot, std::string_view separator, std::string_view beforeBytes,
                               std::size_t maxItems)
{
    std::vector<RoleTotal> totals;
    for (const auto& total : snapshot.roleTotals) {
        if (isBuildRole(total.role) && total.count > 0)
            totals.push_back(total);
    }
    std::stable_sort(totals.begin(), totals.end(), [](const RoleTotal& a, const RoleTotal& b) {
        return a.residentBytes > b.residentBytes;
    });
    if (totals.size() > maxItems)
        totals.resize(maxItems);
    std::string text;
    for (const auto& total : totals) {
        if (!text.empty())
            text += separator;
        text += std::to_string(total.count);
        text += ' ';
        text += roleNoun(total.role, total.count != 1);
        text += beforeBytes;
        text += formatBytes(total.residentBytes);
    }
    return text;
}

} // namespace headroom
