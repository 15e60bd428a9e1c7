// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RoleClassifier.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_map>

namespace headroom {

namespace {

std::string lowered(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// "x86_64-linux-gnu-gcc-12" -> "gcc", "clang++-14" -> "clang++", "ld.lld" -> "ld.lld".
std::string_view toolStem(std::string_view name)
{
    // Drop a version suffix: -12, -14.0.6
    for (;;) {
        const auto dash = name.rfind('-');
        if (dash == std::string_view::npos)
            break;
        std::string_view tail = name.substr(dash + 1);
        bool version = !tail.empty();
        for (char c : tail)
            version = version && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
        if (!version)
            break;
        name = name.substr(0, dash);
    }
    // Drop a target triple prefix: x86_64-linux-gnu-
    const auto dash = name.rfind('-');
    if (dash != std::string_view::npos && name.substr(0, dash).find('-') != std::string_view::npos)
        name = name.substr(dash + 1);
    return name;
}

constexpr std::array<std::string_view, 15> kLinkers = {
    "ld",      "ld.bfd",   "ld.gold", "ld.lld",   "lld",  "ld64.lld", "lld-link", "mold",
    "ld.mold", "collect2", "link",    "rust-lld", "ld64", "wasm-ld",  "gold",
};
constexpr std::array<std::string_view, 13> kCompilers = {
    "cc", "c++", "gcc", "g++", "clang", "clang++", "cc1", "cc1plus", "cc1obj", "as", "cl", "clang-cl", "lto1",
};
constexpr std::array<std::string_view, 4> kRustCompilers = {"rustc", "rustdoc", "clippy-driver", "miri"};
constexpr std::array<std::string_view, 4> kBuildTools = {"make", "gmake", "ninja", "samu"};

template <typename List> bool contains(const List& list, std::string_view name)
{
    return std::find(list.begin(), list.end(), name) != list.end();
}

bool containsString(const std::vector<std::string>& list, std::string_view name)
{
    return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return lowered(s) == name; });
}

// cargo names its test and bench binaries <crate>-<16 hex digits> in <target>/<profile>/deps/.
bool looksLikeCargoTestBinary(std::string_view path)
{
    const auto slash = path.find_last_of("/\\");
    if (slash == std::string_view::npos)
        return false;
    std::string_view dir = path.substr(0, slash);
    std::string_view file = path.substr(slash + 1);
    const auto dirSlash = dir.find_last_of("/\\");
    std::string_view dirName = dirSlash == std::string_view::npos ? dir : dir.substr(dirSlash + 1);
    if (dirName != "deps")
        return false;
    if (file.ends_with(".so") || file.ends_with(".dll") || file.ends_with(".dylib") ||
        file.ends_with(".rlib"))
        return false;
    if (file.ends_with(".exe"))
        file.remove_suffix(4);
    const auto dash = file.rfind('-');
    const bool hashed =
        dash != std::string_view::npos && file.size() - dash - 1 == 16 &&
        std::all_of(file.begin() + dash + 1, file.end(), [](unsigned char c) { return std::isxdigit(c); });
    return hashed || path.find("/target/") != std::string_view::npos;
}

} // namespace

std::string_view programBaseName(std::string_view path)
{
    const auto slash = path.find_last_of("/\\");
    if (slash != std::string_view::npos)
        path = path.substr(slash + 1);
    if (path.size() > 4) {
        std::string_view ext = path.substr(path.size() - 4);
        if (ext == ".exe" || ext == ".EXE" || ext == ".Exe")
            path.remove_suffix(4);
    }
    return path;
}

RoleClassifier::RoleClassifier(ClassifierOptions options) : options_(std::move(options)) {}

ProcessRole RoleClassifier::intrinsicRole(const ProcessSample& process) const
{
    if (process.kernelThread)
        return ProcessRole::Other;

    // comm is cut to 15 bytes, so prefer the executable and argv[0]; a rustup
    // proxy or a symlinked compiler can make them differ, so try each.
    std::array<std::string, 3> names;
    std::size_t count = 0;
    if (!process.exe.empty())
        names[count++] = lowered(process.displayName());
    if (!process.argv.empty() && !process.argv.front().empty())
        names[count++] = lowered(programBaseName(process.argv.front()));
    if (!process.name.empty())
        names[count++] = lowered(process.name);

    const auto anyName = [&](auto&& predicate) {
        for (std::size_t i = 0; i < count; ++i) {
            if (predicate(std::string_view(names[i])))
                return true;
        }
        return false;
    };

    if (anyName([&](std::string_view n) {
            return containsString(options_.testRunners, n) || n == "cargo-nextest";
        }))
        return ProcessRole::Test;
    if (anyName([](std::string_view n) { return n == "cargo" || (n.starts_with("cargo-") && n.size() > 6); }))
        return ProcessRole::Cargo;
    if (anyName([](std::string_view n) { return contains(kRustCompilers, n); }))
        return ProcessRole::Rustc;
    if (anyName([](std::string_view n) {
            return n.starts_with("build-script-") || n.starts_with("build_script_");
        }))
        return ProcessRole::BuildScript;
    if (anyName([&](std::string_view n) {
            return contains(kLinkers, toolStem(n)) || containsString(options_.extraLinkers, n);
        }))
        return ProcessRole::Linker;
    if (anyName([&](std::string_view n) {
            return contains(kCompilers, toolStem(n)) || containsString(options_.extraCompilers, n);
        }))
        return ProcessRole::Compiler;
    if (looksLikeCargoTestBinary(process.exe) ||
        (!process.argv.empty() && looksLikeCargoTestBinary(process.argv.front())))
        return ProcessRole::Test;
    if (anyName([](std::string_view n) { return contains(kBuildTools, n); }))
        return ProcessRole::BuildTool;
    if (anyName([](std::string_view n) { return n == "cmake"; }) &&
        std::find(process.argv.begin(), process.argv.end(), "--build") != process.argv.end())
        return ProcessRole::BuildTool;
    return ProcessRole::Other;
}

bool RoleClassifier::isBuildToolRoot(const ProcessSample& process)
{
    if (process.role == ProcessRole::BuildTool)
        return true;
    if (process.role != ProcessRole::Cargo)
        return false;
    // cargo itself, not a cargo-<subcommand> helper that cargo started.
    return lowered(process.displayName()) == "cargo" ||
           (!process.argv.empty() && lowered(programBaseName(process.argv.front())) == "cargo");
}

void RoleClassifier::classify(std::vector<ProcessSample>& processes) const
{
    classify(processes, [this](const ProcessSample& p) { return intrinsicRole(p); });
}

void RoleClassifier::classify(std::vector<ProcessSample>& processes,
                              const std::function<ProcessRole(const ProcessSample&)>& intrinsic) const
{
    std::unordered_map<Pid, std::size_t> index;
    index.reserve(processes.size());
    for (std::size_t i = 0; i < processes.size(); ++i) {
        processes[i].role = intrinsic(processes[i]);
        index.emplace(processes[i].key.pid, i);
    }

    // Whether a test process is among the ancestors, memoised: 0 unknown, 1 no, 2 yes.
    std::vector<unsigned char> underTest(processes.size(), 0);
    std::vector<std::size_t> chain;
    for (std::size_t i = 0; i < processes.size(); ++i) {
        if (underTest[i] != 0)
            continue;
        chain.assign(1, i);
        std::size_t at = i;
        unsigned char verdict = 1;
        while (chain.size() < 256) {
            auto parent = index.find(processes[at].parentPid);
            if (parent == index.end() || parent->second == at)
                break;
            const std::size_t up = parent->second;
            if (processes[up].role == ProcessRole::Test) {
                verdict = 2;
                break;
            }
            if (underTest[up] != 0) {
                verdict = underTest[up];
                break;
            }
            chain.push_back(up);
            at = up;
        }
        for (std::size_t c : chain)
            underTest[c] = verdict;
    }

    for (std::size_t i = 0; i < processes.size(); ++i) {
        auto& p = processes[i];
        if (p.role == ProcessRole::Other && underTest[i] == 2) {
            p.role = ProcessRole::Test;
            continue;
        }
        // rustc links through a C compiler driver: that driver is the link step.
        if (p.role == ProcessRole::Compiler) {
            auto parent = index.find(p.parentPid);
            if (parent != index.end() && processes[parent->second].role == ProcessRole::Rustc)
                p.role = ProcessRole::Linker;
        }
    }
}

} // namespace headroom
