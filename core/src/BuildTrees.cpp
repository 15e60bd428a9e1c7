// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/BuildTrees.h"

#include "headroom/BuildDuplicates.h"
#include "headroom/FsRoot.h"

#include "headroom/RoleClassifier.h"
#include "headroom/Units.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace headroom {

namespace fs = std::filesystem;

namespace {

std::string normalised(const fs::path& path)
{
    std::string text = path.lexically_normal().generic_string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

// A process decides which folder Headroom looks at, so the Cargo.toml found
// there is hostile: it may be a FIFO with no writer, a device, or a sparse file
// of many GiB. Read at most this much of a regular file, never block on open.
constexpr std::size_t kManifestReadLimit = 1u << 20;

bool textDeclaresWorkspace(std::string_view text)
{
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view line = text.substr(start, end - start);
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string_view::npos && line.substr(first).starts_with("[workspace]"))
            return true;
        start = end + 1;
    }
    return false;
}

// Which file a cached answer belongs to: a manifest edited, replaced or
// truncated gets a new identity and is read again.
struct ManifestIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtimeNs = 0;
    bool operator==(const ManifestIdentity&) const = default;
};

struct ManifestAnswer {
    ManifestIdentity identity;
    bool workspace = false;
};

// Every sample walks up from each cargo's folder; the answers are kept so a
// manifest is read once per change, not once per tick.
class ManifestCache {
  public:
    std::optional<bool> find(const std::string& path, const ManifestIdentity& identity)
    {
        std::lock_guard lock(mutex_);
        const auto it = answers_.find(path);
        if (it == answers_.end() || !(it->second.identity == identity))
            return std::nullopt;
        return it->second.workspace;
    }
    void store(const std::string& path, const ManifestIdentity& identity, bool workspace)
    {
        std::lock_guard lock(mutex_);
        // Paths come from processes: bound the cache instead of trusting them.
        if (answers_.size() >= kMaxEntries && !answers_.contains(path))
            answers_.clear();
        answers_[path] = {identity, workspace};
    }

  private:
    static constexpr std::size_t kMaxEntries = 1024;
    std::mutex mutex_;
    std::unordered_map<std::string, ManifestAnswer> answers_;
};

ManifestCache& manifestCache()
{
    static ManifestCache cache;
    return cache;
}

#if defined(__unix__) || defined(__APPLE__)
ManifestIdentity identityOf(const struct stat& st)
{
#if defined(__APPLE__)
    const std::int64_t mtimeNs = std::int64_t(st.st_mtimespec.tv_sec) * 1000000000 + st.st_mtimespec.tv_nsec;
#else
    const std::int64_t mtimeNs = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
#endif
    return {std::uint64_t(st.st_dev), std::uint64_t(st.st_ino), std::uint64_t(st.st_size), mtimeNs};
}

// A regular file at `manifest` (following links, as cargo does), or nothing.
std::optional<ManifestIdentity> manifestIdentity(const fs::path& manifest)
{
    struct stat st {};
    if (::stat(manifest.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    return identityOf(st);
}

bool readDeclaresWorkspace(const fs::path& manifest, ManifestIdentity& identity)
{
    // O_NONBLOCK: a FIFO swapped in after the stat must not hang the sampler in
    // open(); the fstat below then refuses it.
    const int fd = ::open(manifest.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st {};
    bool workspace = false;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        identity = identityOf(st);
        std::string text(std::min<std::uint64_t>(std::uint64_t(st.st_size), kManifestReadLimit), '\0');
        std::size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += std::size_t(n);
        }
        text.resize(got);
        workspace = textDeclaresWorkspace(text);
    }
    ::close(fd);
    return workspace;
}
#else
std::optional<ManifestIdentity> manifestIdentity(const fs::path& manifest)
{
    std::error_code ec;
    const auto status = fs::status(manifest, ec);
    if (ec || !fs::is_regular_file(status))
        return std::nullopt;
    const auto size = fs::file_size(manifest, ec);
    const auto mtime = fs::last_write_time(manifest, ec);
    return ManifestIdentity{0, 0, ec ? 0 : std::uint64_t(size),
                            ec ? 0 : std::int64_t(mtime.time_since_epoch().count())};
}

bool readDeclaresWorkspace(const fs::path& manifest, ManifestIdentity&)
{
    std::ifstream in(manifest, std::ios::binary);
    std::string text(kManifestReadLimit, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(std::size_t(std::max<std::streamsize>(in.gcount(), 0)));
    return textDeclaresWorkspace(text);
}
#endif

bool declaresWorkspace(const fs::path& manifest, const ManifestIdentity& seen)
{
    const std::string key = manifest.string();
    if (auto cached = manifestCache().find(key, seen))
        return *cached;
    ManifestIdentity identity = seen;
    const bool workspace = readDeclaresWorkspace(manifest, identity);
    manifestCache().store(key, identity, workspace);
    return workspace;
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
        // `cmake --build --preset NAME` names no folder: the preset's binaryDir
        // is in the project's CMakePresets.json, and cmake runs from the project.
        if (auto buildDir = optionValue(root.argv, "--build"); buildDir && !buildDir->starts_with("-"))
            dir = resolveAgainst(*buildDir, root.cwd).string();
    } else if (auto changeDir = optionValue(root.argv, "-C")) {
        // make and ninja chdir into -C before they run, so their cwd already is
        // that folder: resolving -C against it again would name a folder below.
        const bool changesDirectory = build.tool == "make" || build.tool == "ninja";
        if (!changesDirectory || root.cwd.empty())
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
    fs::path dir = fs::path(start).lexically_normal();
    std::string nearest;
    for (int depth = 0; depth < 64 && !dir.empty(); ++depth) {
        const fs::path manifest = underRoot(fsRoot, dir / "Cargo.toml");
        if (const auto identity = manifestIdentity(manifest)) {
            if (nearest.empty())
                nearest = normalised(dir);
            if (declaresWorkspace(manifest, *identity))
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
