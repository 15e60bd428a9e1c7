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
#include "headroom/JobObject.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    std::fprintf(stderr, "usage: winprobe memory|run|spawn|tick|job\n");
    return 2;
}
