// SPDX-License-Identifier: GPL-3.0-or-later
// Small Win32 building blocks shared by the Windows backend: handle ownership, UTF-16
// to UTF-8, FILETIME arithmetic, and the few ntdll entry points that have no
// documented kernel32 equivalent.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <windows.h>

namespace headroom::win {

// Owns a HANDLE; closes it once.
class Handle {
  public:
    Handle() = default;
    explicit Handle(HANDLE h) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : h_(other.release()) {}
    Handle& operator=(Handle&& other) noexcept
    {
        if (this != &other) {
            reset();
            h_ = other.release();
        }
        return *this;
    }

    HANDLE get() const { return h_; }
    bool valid() const { return h_ != nullptr; }
    HANDLE release()
    {
        HANDLE h = h_;
        h_ = nullptr;
        return h;
    }
    void reset()
    {
        if (h_)
            ::CloseHandle(h_);
        h_ = nullptr;
    }

  private:
    HANDLE h_ = nullptr;
};

std::string toUtf8(std::wstring_view text);
std::wstring toWide(std::string_view text);
// FormatMessage's words for a Win32 error code, without the trailing newline.
std::string errorText(DWORD error);

// FILETIME as one 64-bit count of 100 ns intervals since 1601-01-01.
inline std::uint64_t fileTimeValue(const FILETIME& ft)
{
    return (static_cast<std::uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
}
// 100 ns intervals since 1601 -> milliseconds since the Unix epoch.
inline std::int64_t fileTimeToUnixMs(std::uint64_t value)
{
    constexpr std::uint64_t kEpochDelta = 116444736000000000ull; // 1601 -> 1970 in 100 ns
    return value > kEpochDelta ? static_cast<std::int64_t>((value - kEpochDelta) / 10000) : 0;
}

// The documented rights to read identity, times and memory of another
// process; granted for far more processes than PROCESS_QUERY_INFORMATION.
constexpr DWORD kQueryRights = PROCESS_QUERY_LIMITED_INFORMATION;

// Creation time (the identity token of ProcessKey) and CPU time of an open process.
struct ProcessTimes {
    std::uint64_t creation = 0; // FILETIME value
    std::uint64_t cpuNs = 0;    // user + kernel
};
bool queryTimes(HANDLE process, ProcessTimes& out);

// True when the process behind an open handle has exited (its object lives
// on while someone holds a handle, like a zombie on Unix).
bool hasExited(HANDLE process);

// Full path of the executable, or empty.
std::string imagePath(HANDLE process);

// The command line as the process was started, split like the C runtime does;
// empty when the system does not let us read it.
std::vector<std::string> commandLine(HANDLE process);

// Splits a command line the way the C runtime does for main().
std::vector<std::string> splitCommandLine(const std::wstring& line);

// The reverse: one argument quoted so that the C runtime (and
// CommandLineToArgvW) gives it back unchanged: in double quotes when it is
// empty or holds a space, tab, newline or quote; a quote becomes \", and the
// backslashes before a quote or the closing quote are doubled.
std::wstring quoteArgument(std::wstring_view argument);
// argv (UTF-8) as one command line for CreateProcessW, each argument quoted.
std::wstring joinCommandLine(const std::vector<std::string>& argv);

// The command line and working folder from the process's own parameter block
// (its PEB), for systems without the command line query. Needs the right to
// read the process's memory, which Windows grants for our own processes;
// false otherwise.
struct ProcessParameters {
    std::wstring commandLine;
    std::wstring currentDirectory;
};
bool readProcessParameters(std::int64_t pid, ProcessParameters& out);

// Parent pid from the kernel's basic information, or -1 when unreadable.
std::int64_t parentPid(HANDLE process);

// The account that owns the process: its SID as text and its relative id (the
// last part of the SID, e.g. 1001 for a local user, 18 for SYSTEM); false
// when the token cannot be opened.
struct Owner {
    std::uint32_t rid = 0;
    std::string sid; // S-1-5-21-...
};
bool queryOwner(HANDLE process, Owner& out);
// The account name (without its domain) for a SID in text form; the SID
// itself when it has no name. Slow (it may ask a domain controller): cache it.
std::string accountName(const std::string& sid);

// The uid Headroom uses when a process's owner cannot be read: it never
// matches the current user, so such processes are never taken for our own.
constexpr std::uint32_t kUnknownUid = 0xFFFFFFFFu;

// One row of a Toolhelp process snapshot: what Windows tells anyone about any
// process, even one we may not open.
struct ToolhelpEntry {
    std::uint32_t pid = 0;
    std::uint32_t parentPid = 0;
    std::uint32_t threads = 0;
    std::string name; // the executable's file name, e.g. "cargo.exe"
};
// Every process, or an empty list when the snapshot cannot be taken.
std::vector<ToolhelpEntry> toolhelpProcesses();

// Pid 0 (System Idle Process) and 4 (System) are the kernel's own: never
// programs, never to be stopped.
inline bool isKernelPid(std::int64_t pid)
{
    return pid == 0 || pid == 4;
}

// A handle on `pid` with query rights (+ `extra`), and the right to wait on it
// when granted. Invalid when the pid is unknown (GetLastError() is then
// ERROR_INVALID_PARAMETER) or the system refuses (ERROR_ACCESS_DENIED).
Handle openProcess(std::int64_t pid, DWORD extra = 0);

// Windows keeps a process's parent pid after the parent exits, and that pid
// may be reused by an unrelated, younger process. A "parent" created after
// its child cannot be the real one: report no parent (0) instead. Creation
// times of 0 mean unknown and leave the parent as it is.
inline std::int64_t checkedParent(std::int64_t parent, std::uint64_t childCreation,
                                  std::uint64_t parentCreation)
{
    if (parent <= 0 || childCreation == 0 || parentCreation == 0)
        return parent;
    return parentCreation > childCreation ? 0 : parent;
}

// The base name of a Windows path (C:\x\cargo.exe -> cargo.exe).
std::string baseName(const std::string& path);

// ntdll entry points, resolved once with GetProcAddress; null when missing.
struct NtApi {
    using QueryInformationProcess = LONG(WINAPI*)(HANDLE, ULONG, PVOID, ULONG, PULONG);
    using QuerySystemInformation = LONG(WINAPI*)(ULONG, PVOID, ULONG, PULONG);
    using SuspendResume = LONG(WINAPI*)(HANDLE);

    QueryInformationProcess queryInformationProcess = nullptr;
    QuerySystemInformation querySystemInformation = nullptr;
    SuspendResume suspendProcess = nullptr;
    SuspendResume resumeProcess = nullptr;

    static const NtApi& get();
};

} // namespace headroom::win
