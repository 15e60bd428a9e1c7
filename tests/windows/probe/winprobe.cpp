// SPDX-License-Identifier: GPL-3.0-or-later
// A small Windows program the Wine tests drive. It reports what Windows itself
// says (memory), starts processes and tells their pids, and exercises job
// objects, so the tests can check headroom-cli.exe against the system.
//
//   winprobe memory                  total=<bytes> available=<bytes>
//   winprobe run EXE [ARGS...]       starts EXE; "launcher=<pid> pid=<pid>" on stderr; exits with its code
//   winprobe spawn [DEPTH] [SECONDS] a chain of DEPTH processes (default 1) below this one, each
//                                    sleeping SECONDS; prints "parent=<pid> child=<pid>" for each link,
//                                    then "exit=<code>" when its child ends
//   winprobe tick FILE [SECONDS]     writes an increasing counter to FILE every 20 ms
//   winprobe job                     checks that a JobObject stops a whole tree
//   winprobe args [ARGS...]          prints each argument as it arrived, in hex of its UTF-8
//   winprobe child DIR               checks ChildProcess and startDetached, one line per check
//                                    ("<name>: ok" or "<name>: failed (<why>)"), files in DIR
#include "headroom/ChildProcess.h"
#include "headroom/JobObject.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <windows.h>

namespace {

std::wstring selfPath()
{
    std::wstring path(32768, L'\0');
    const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    path.resize(n);
    return path;
}

std::wstring quote(const std::wstring& arg)
{
    if (!arg.empty() && arg.find_first_of(L" \t\"") == std::wstring::npos)
        return arg;
    std::wstring out = L"\"";
    for (wchar_t c : arg) {
        if (c == L'"')
            out += L'\\';
        out += c;
    }
    return out + L"\"";
}

struct Child {
    PROCESS_INFORMATION info{};
    bool ok = false;
};

Child start(const std::vector<std::wstring>& argv, DWORD flags = 0, HANDLE out = nullptr)
{
    std::wstring line;
    for (const auto& a : argv)
        line += (line.empty() ? L"" : L" ") + quote(a);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out ? out : ::GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
    Child child;
    child.ok = ::CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, flags, nullptr, nullptr, &si,
                                &child.info) != 0;
    if (!child.ok)
        std::fprintf(stderr, "winprobe: CreateProcess failed (%lu)\n", ::GetLastError());
    return child;
}

int memory()
{
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    if (!::GlobalMemoryStatusEx(&status))
        return 1;
    std::printf("total=%llu available=%llu\n", static_cast<unsigned long long>(status.ullTotalPhys),
                static_cast<unsigned long long>(status.ullAvailPhys));
    return 0;
}

int run(int argc, wchar_t** argv)
{
    std::vector<std::wstring> args(argv + 2, argv + argc);
    if (args.empty())
        return 2;
    Child child = start(args);
    if (!child.ok)
        return 127;
    std::fprintf(stderr, "launcher=%lu pid=%lu\n", ::GetCurrentProcessId(), child.info.dwProcessId);
    std::fflush(stderr);
    ::WaitForSingleObject(child.info.hProcess, INFINITE);
    DWORD code = 1;
    ::GetExitCodeProcess(child.info.hProcess, &code);
    return static_cast<int>(code);
}

int spawn(int depth, int seconds)
{
    if (depth <= 0) {
        ::Sleep(static_cast<DWORD>(seconds) * 1000);
        return 0;
    }
    Child child = start({selfPath(), L"spawn", std::to_wstring(depth - 1), std::to_wstring(seconds)});
    if (!child.ok)
        return 127;
    std::printf("parent=%lu child=%lu\n", ::GetCurrentProcessId(), child.info.dwProcessId);
    std::fflush(stdout);
    ::WaitForSingleObject(child.info.hProcess, static_cast<DWORD>(seconds) * 1000 + 5000);
    DWORD code = 0;
    ::GetExitCodeProcess(child.info.hProcess, &code);
    std::printf("exit=%lu\n", code);
    std::fflush(stdout);
    return 0;
}

int tick(const wchar_t* file, int seconds)
{
    const DWORD end = ::GetTickCount() + static_cast<DWORD>(seconds) * 1000;
    for (unsigned long n = 1; ::GetTickCount() < end; ++n) {
        if (FILE* f = ::_wfopen(file, L"w")) {
            std::fprintf(f, "%lu\n", n);
            std::fclose(f);
        }
        ::Sleep(20);
    }
    return 0;
}

bool gone(HANDLE process)
{
    return ::WaitForSingleObject(process, 5000) == WAIT_OBJECT_0;
}

// Starts "winprobe spawn 1" suspended inside `job`; returns the handle of the
// spawned process and, through its stdout, the pid of its child.
bool startTreeInJob(headroom::JobObject& job, HANDLE& parent, DWORD& grandchild)
{
    SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE readEnd = nullptr, writeEnd = nullptr;
    if (!::CreatePipe(&readEnd, &writeEnd, &sa, 0))
        return false;
    ::SetHandleInformation(readEnd, HANDLE_FLAG_INHERIT, 0);
    Child child =
        start({selfPath(), L"spawn", L"1", L"60"}, headroom::JobObject::suspendedCreationFlag(), writeEnd);
    ::CloseHandle(writeEnd);
    if (!child.ok)
        return false;
    const auto adopted = job.adopt(child.info.dwProcessId, true);
    std::printf("adopt: %s (%s)\n", adopted.ok ? "ok" : "failed", adopted.message.c_str());
    char buffer[256] = {};
    DWORD n = 0;
    std::string text;
    while (text.find('\n') == std::string::npos &&
           ::ReadFile(readEnd, buffer, sizeof buffer - 1, &n, nullptr) && n > 0)
        text.append(buffer, n);
    ::CloseHandle(readEnd);
    unsigned long p = 0, c = 0;
    if (std::sscanf(text.c_str(), "parent=%lu child=%lu", &p, &c) != 2)
        return false;
    parent = child.info.hProcess;
    ::CloseHandle(child.info.hThread);
    grandchild = c;
    return adopted.ok;
}

int jobCheck()
{
    int failures = 0;
    {
        headroom::JobObject job;
        HANDLE parent = nullptr;
        DWORD grandchild = 0;
        if (!job.valid() || !startTreeInJob(job, parent, grandchild))
            return 10;
        HANDLE g = ::OpenProcess(SYNCHRONIZE, FALSE, grandchild);
        const auto members = job.processes();
        std::printf("members=%zu\n", members.size());
        if (members.size() != 2)
            ++failures;
        const auto ended = job.terminate(1);
        const bool both = gone(parent) && g && gone(g);
        std::printf("terminate: %s\n", ended.ok && both ? "ok" : "failed");
        failures += ended.ok && both ? 0 : 1;
    }
    HANDLE parent = nullptr;
    HANDLE g = nullptr;
    {
        headroom::JobObject job;
        DWORD grandchild = 0;
        if (!startTreeInJob(job, parent, grandchild))
            return 11;
        g = ::OpenProcess(SYNCHRONIZE, FALSE, grandchild);
    } // the job closes here: kill on close
    const bool both = gone(parent) && g && gone(g);
    std::printf("close: %s\n", both ? "ok" : "failed");
    failures += both ? 0 : 1;
    return failures;
}

std::string utf8(const std::wstring& text)
{
    if (text.empty())
        return {};
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0,
                                        nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n, nullptr,
                          nullptr);
    return out;
}

std::string hex(const std::string& bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out = "[";
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out + "]";
}

int args(int argc, wchar_t** argv)
{
    for (int i = 2; i < argc; ++i)
        std::printf("%s\n", hex(utf8(argv[i])).c_str());
    return 0;
}

std::string readAll(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Waits for `path` to hold `what`, for at most `seconds`.
bool waitForText(const std::filesystem::path& path, const std::string& what, int seconds)
{
    for (int i = 0; i < seconds * 20; ++i) {
        if (readAll(path).find(what) != std::string::npos)
            return true;
        ::Sleep(50);
    }
    return false;
}

struct Checks {
    int failures = 0;
    void report(const char* name, bool ok, const std::string& detail = {})
    {
        if (ok) {
            std::printf("%s: ok\n", name);
        } else {
            std::printf("%s: failed (%s)\n", name, detail.c_str());
            ++failures;
        }
        std::fflush(stdout);
    }
};

std::string exitText(const std::optional<headroom::ChildExit>& exit)
{
    if (!exit)
        return "still running";
    return exit->exitCode ? "exit " + std::to_string(*exit->exitCode) : "no exit code";
}

bool alive(DWORD pid)
{
    HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (!h)
        return false;
    const bool running = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    ::CloseHandle(h);
    return running;
}

bool endsWithin(DWORD pid, DWORD ms)
{
    HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (!h)
        return true;
    const bool ended = ::WaitForSingleObject(h, ms) == WAIT_OBJECT_0;
    ::CloseHandle(h);
    return ended;
}

void killPid(DWORD pid)
{
    if (HANDLE h = ::OpenProcess(PROCESS_TERMINATE, FALSE, pid)) {
        ::TerminateProcess(h, 1);
        ::CloseHandle(h);
    }
}

// Starts "winprobe spawn 1 SECONDS" as a ChildProcess with its output in
// `log`; gives the pid of the child it starts in turn.
std::unique_ptr<headroom::ChildProcess> startTree(const std::filesystem::path& log, DWORD& grandchild,
                                                  std::string& why)
{
    headroom::ChildSpec spec;
    spec.argv = {utf8(selfPath()), "spawn", "1", "60"};
    spec.stdoutFile = log;
    spec.stderrFile = log;
    auto child = headroom::ChildProcess::start(spec);
    if (!child) {
        why = child.error();
        return nullptr;
    }
    if (!waitForText(log, "child=", 30)) {
        why = "the tree did not start: " + readAll(log);
        return nullptr;
    }
    unsigned long p = 0, c = 0;
    const std::string text = readAll(log);
    if (std::sscanf(text.c_str() + text.find("parent="), "parent=%lu child=%lu", &p, &c) != 2) {
        why = "unreadable: " + text;
        return nullptr;
    }
    grandchild = c;
    return std::move(child.value());
}

int childChecks(const std::filesystem::path& dir)
{
    namespace fs = std::filesystem;
    using namespace std::chrono_literals;
    Checks checks;
    std::error_code ec;
    fs::remove_all(dir, ec); // every check starts from no files
    fs::create_directories(dir, ec);

    {
        // One file for both streams, opened for append: what was there stays.
        const fs::path log = dir / "exit.log";
        std::ofstream(log, std::ios::binary) << "before\n";
        headroom::ChildSpec spec;
        spec.argv = {"cmd", "/c", "echo hi & echo oops 1>&2 & exit 3"};
        spec.stdoutFile = log;
        spec.stderrFile = log;
        auto child = headroom::ChildProcess::start(spec);
        if (!child) {
            checks.report("exit-code", false, child.error());
        } else {
            const auto exit = child.value()->wait(30000ms);
            checks.report("exit-code", exit && exit->exitCode == 3, exitText(exit));
            const std::string text = readAll(log);
            checks.report("one-log",
                          text.rfind("before\n", 0) == 0 && text.find("hi") != std::string::npos &&
                              text.find("oops") != std::string::npos,
                          text);
            checks.report("key", child.value()->key().pid > 0 && child.value()->key().startTime > 0,
                          std::to_string(child.value()->key().pid));
        }
    }
    {
        const fs::path out = dir / "split.out";
        const fs::path err = dir / "split.err";
        headroom::ChildSpec spec;
        spec.argv = {"cmd", "/c", "echo to-out & echo to-err 1>&2"};
        spec.stdoutFile = out;
        spec.stderrFile = err;
        auto child = headroom::ChildProcess::start(spec);
        const auto exit = child ? child.value()->wait(30000ms) : std::nullopt;
        const std::string o = readAll(out), e = readAll(err);
        checks.report("two-files",
                      exit && o.find("to-out") != std::string::npos &&
                          o.find("to-err") == std::string::npos && e.find("to-err") != std::string::npos &&
                          e.find("to-out") == std::string::npos,
                      child ? "out=" + o + " err=" + e : child.error());
    }
    {
        // The arguments arrive as given, however they are quoted.
        const std::vector<std::string> tricky = {"plain",
                                                 "",
                                                 "two words",
                                                 "a\"quote",
                                                 "trailing\\",
                                                 "back\\\\slashes\\\"q",
                                                 "\\\\server\\share\\",
                                                 "tab\there",
                                                 "space and end\\",
                                                 "two at the end\\\\",
                                                 "caf\xc3\xa9 \xe2\x82\xac",
                                                 "\"",
                                                 "\\",
                                                 "%PATH%",
                                                 "a & b"};
        const fs::path log = dir / "args.log";
        headroom::ChildSpec spec;
        spec.argv = {utf8(selfPath()), "args"};
        spec.argv.insert(spec.argv.end(), tricky.begin(), tricky.end());
        spec.stdoutFile = log;
        spec.stderrFile = log;
        auto child = headroom::ChildProcess::start(spec);
        const auto exit = child ? child.value()->wait(30000ms) : std::nullopt;
        std::string expected;
        for (const auto& a : tricky)
            expected += hex(a) + "\n";
        std::string got = readAll(log);
        std::erase(got, '\r');
        checks.report("arguments", exit && got == expected, child ? got : child.error());
    }
    {
        const fs::path log = dir / "env.log";
        const fs::path work = dir / "work folder";
        fs::create_directories(work, ec);
        headroom::ChildSpec spec;
        spec.argv = {"cmd", "/c", "echo [%HEADROOM_PROBE%] [%HEADROOM_probe_case%] & cd"};
        spec.environment = {{"HEADROOM_PROBE", "set here"}, {"headroom_PROBE_CASE", "one"}};
        ::SetEnvironmentVariableW(L"HEADROOM_PROBE_CASE", L"inherited");
        spec.workingDir = work;
        spec.stdoutFile = log;
        spec.stderrFile = log;
        auto child = headroom::ChildProcess::start(spec);
        const auto exit = child ? child.value()->wait(30000ms) : std::nullopt;
        const std::string text = readAll(log);
        checks.report("environment", exit && text.find("[set here] [one]") != std::string::npos,
                      child ? text : child.error());
        checks.report("working-dir", exit && text.find("work folder") != std::string::npos, text);
    }
    {
        headroom::ChildSpec spec;
        spec.argv = {"no-such-program-here", "x"};
        spec.stdoutFile = dir / "missing.log";
        spec.stderrFile = spec.stdoutFile;
        auto child = headroom::ChildProcess::start(spec);
        checks.report("missing-program",
                      !child && child.error().find("cannot run no-such-program-here: ") == 0,
                      child ? "it started" : child.error());
    }
    {
        // terminate() ends the step and what it started.
        DWORD grandchild = 0;
        std::string why;
        auto child = startTree(dir / "tree.log", grandchild, why);
        if (!child) {
            checks.report("terminate-tree", false, why);
        } else {
            const auto ended = child->containment().terminate();
            const auto exit = child->wait(10000ms);
            const bool both = exit && endsWithin(grandchild, 10000);
            checks.report("terminate-tree", ended.ok && both, ended.message + ", " + exitText(exit));
            if (!both)
                killPid(grandchild);
        }
    }
    {
        // A starter that goes away leaves the build running.
        DWORD grandchild = 0;
        DWORD pid = 0;
        std::string why;
        {
            auto child = startTree(dir / "release.log", grandchild, why);
            if (child)
                pid = static_cast<DWORD>(child->key().pid);
        } // the ChildProcess and its job handle are gone
        ::Sleep(1000);
        const bool running = pid && alive(pid) && alive(grandchild);
        checks.report("outlives-starter", running, why.empty() ? "the tree ended with its starter" : why);
        killPid(grandchild);
        killPid(pid);
    }
    {
        // Only the standard handles are inherited: a pipe end open here is not.
        SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        HANDLE readEnd = nullptr, writeEnd = nullptr;
        ::CreatePipe(&readEnd, &writeEnd, &sa, 0);
        headroom::ChildSpec spec;
        spec.argv = {utf8(selfPath()), "spawn", "0", "4"};
        spec.stdoutFile = dir / "inherit.log";
        spec.stderrFile = spec.stdoutFile;
        auto child = headroom::ChildProcess::start(spec);
        ::CloseHandle(writeEnd);
        const auto start = std::chrono::steady_clock::now();
        char byte = 0;
        DWORD n = 0;
        ::ReadFile(readEnd, &byte, 1, &n, nullptr); // ends when the last write end closes
        const auto waited = std::chrono::steady_clock::now() - start;
        ::CloseHandle(readEnd);
        checks.report("inherits-only-streams", child && waited < 2s,
                      child ? "the child held the pipe for " +
                                  std::to_string(
                                      std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
                                  " ms"
                            : child.error());
        if (child)
            child.value()->containment().terminate();
    }
    {
        const auto self = headroom::currentExecutable();
        checks.report("current-executable", self == std::filesystem::path(selfPath()), self.string());
    }
    {
        // Detached: it runs on its own and writes into the log it was given.
        const fs::path log = dir / "detached.log";
        const auto pid = headroom::startDetached({utf8(selfPath()), "args", "detached run"}, dir, log);
        checks.report("detached", pid && waitForText(log, hex("detached run"), 30),
                      pid ? readAll(log) : pid.error());
    }
    return checks.failures;
}

} // namespace

int wmain(int argc, wchar_t** argv)
{
    const std::wstring command = argc > 1 ? argv[1] : L"";
    const auto number = [&](int index, int fallback) {
        return argc > index ? static_cast<int>(std::wcstol(argv[index], nullptr, 10)) : fallback;
    };
    if (command == L"memory")
        return memory();
    if (command == L"run")
        return run(argc, argv);
    if (command == L"spawn")
        return spawn(number(2, 1), number(3, 120));
    if (command == L"tick" && argc > 2)
        return tick(argv[2], number(3, 120));
    if (command == L"job")
        return jobCheck();
    if (command == L"args")
        return args(argc, argv);
    if (command == L"child" && argc > 2)
        return childChecks(argv[2]);
    std::fprintf(stderr, "usage: winprobe memory|run|spawn|tick|job|args|child\n");
    return 2;
}
