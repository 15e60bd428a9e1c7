// SPDX-License-Identifier: GPL-3.0-or-later
// Windows side of the platform contract. A process is named by its pid and
// its creation FILETIME. Every action first opens a handle on the pid and only
// then compares the creation time: the handle pins that process object, so a
// pid reused after the check can never be hit (the role a pidfd plays on Linux).
#include "WinApi.h"
#include "headroom/Platform.h"

#include <cstdio>
#include <unordered_map>

namespace headroom::platform {

namespace {

using win::Handle;

constexpr Pid kMaxPid = 0xFFFFFFFFll;

Handle openForQuery(Pid pid, DWORD extra = 0)
{
    return win::openProcess(pid, extra);
}

std::optional<ProcessIdentity> fromToolhelp(Pid pid)
{
    for (auto& row : win::toolhelpProcesses()) {
        if (row.pid != pid)
            continue;
        ProcessIdentity id;
        id.key = ProcessKey{pid, 0}; // creation time unreadable without a handle
        id.parentPid = row.parentPid;
        id.uid = win::kUnknownUid;
        id.name = std::move(row.name);
        id.kernelThread = win::isKernelPid(pid);
        return id;
    }
    return std::nullopt;
}

std::uint64_t creationTimeOf(Pid pid)
{
    Handle h = openForQuery(pid);
    win::ProcessTimes times;
    return h.valid() && win::queryTimes(h.get(), times) ? times.creation : 0;
}

using win::checkedParent;

SignalResult denied(DWORD error)
{
    return {ActionOutcome::NotPermitted, win::errorText(error)};
}

SignalResult failed(const std::string& what)
{
    return {ActionOutcome::Failed, what};
}

std::string ntStatusText(LONG status)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%08lX", static_cast<unsigned long>(status));
    return text;
}

struct CloseRequest {
    DWORD pid = 0;
    int posted = 0;
};

BOOL CALLBACK postCloseToWindow(HWND window, LPARAM param)
{
    auto* request = reinterpret_cast<CloseRequest*>(param);
    DWORD owner = 0;
    ::GetWindowThreadProcessId(window, &owner);
    if (owner == request->pid && ::IsWindowVisible(window) && ::GetWindow(window, GW_OWNER) == nullptr) {
        if (::PostMessageW(window, WM_CLOSE, 0, 0))
            ++request->posted;
    }
    return TRUE;
}

// The polite request: WM_CLOSE to the process's visible top-level windows,
// what clicking their close button does. Returns how many were asked.
int requestClose(Pid pid)
{
    CloseRequest request{static_cast<DWORD>(pid), 0};
    ::EnumWindows(postCloseToWindow, reinterpret_cast<LPARAM>(&request));
    return request.posted;
}

DWORD rightsFor(ProcessAction action)
{
    switch (action) {
    case ProcessAction::Pause:
    case ProcessAction::Resume:
        return PROCESS_SUSPEND_RESUME;
    case ProcessAction::Terminate:
    case ProcessAction::Kill:
        return PROCESS_TERMINATE;
    }
    return PROCESS_TERMINATE;
}

// Exit code a stopped process reports, the same one Task Manager's End task uses.
constexpr UINT kStoppedExitCode = 1;

} // namespace

std::optional<ProcessIdentity> identify(Pid pid, const std::filesystem::path& /* procRoot: Linux only */)
{
    if (pid < 0 || pid > kMaxPid)
        return std::nullopt;
    if (win::isKernelPid(pid))
        return fromToolhelp(pid);
    Handle h = openForQuery(pid);
    if (!h.valid()) {
        if (::GetLastError() == ERROR_INVALID_PARAMETER)
            return std::nullopt;  // no process has this pid
        return fromToolhelp(pid); // it exists, but we may not look inside
    }
    win::ProcessTimes times;
    if (!win::queryTimes(h.get(), times))
        return fromToolhelp(pid);

    ProcessIdentity id;
    id.key = ProcessKey{pid, times.creation};
    id.state = win::hasExited(h.get()) ? ProcessState::Zombie : ProcessState::Unknown;
    const std::string path = win::imagePath(h.get());
    const std::int64_t parent = win::parentPid(h.get());
    if (path.empty() || parent < 0) {
        // Older systems (and Wine) may refuse one query or the other: Toolhelp
        // always knows the name and parent.
        if (auto basic = fromToolhelp(pid)) {
            id.name = basic->name;
            id.parentPid = basic->parentPid;
        }
    }
    if (!path.empty())
        id.name = win::baseName(path);
    if (parent >= 0)
        id.parentPid = parent;
    id.parentPid = checkedParent(id.parentPid, times.creation, creationTimeOf(id.parentPid));
    win::Owner owner;
    id.uid = win::queryOwner(h.get(), owner) ? owner.rid : win::kUnknownUid;
    return id;
}

std::vector<ProcessIdentity> listIdentities(const std::filesystem::path& /* procRoot: Linux only */)
{
    std::vector<ProcessIdentity> out;
    const auto rows = win::toolhelpProcesses();
    out.reserve(rows.size());
    std::unordered_map<Pid, std::uint64_t> creation;
    for (const auto& row : rows) {
        ProcessIdentity id;
        id.key.pid = row.pid;
        id.parentPid = row.parentPid;
        id.name = row.name;
        id.uid = win::kUnknownUid;
        id.kernelThread = win::isKernelPid(row.pid);
        if (!id.kernelThread) {
            if (Handle h = openForQuery(row.pid); h.valid()) {
                win::ProcessTimes times;
                if (win::queryTimes(h.get(), times))
                    id.key.startTime = times.creation;
                if (win::hasExited(h.get()))
                    id.state = ProcessState::Zombie;
                win::Owner owner;
                if (win::queryOwner(h.get(), owner))
                    id.uid = owner.rid;
            }
        }
        creation[id.key.pid] = id.key.startTime;
        out.push_back(std::move(id));
    }
    for (auto& id : out) {
        auto parent = creation.find(id.parentPid);
        id.parentPid =
            checkedParent(id.parentPid, id.key.startTime, parent == creation.end() ? 0 : parent->second);
    }
    return out;
}

Pid currentPid()
{
    return static_cast<Pid>(::GetCurrentProcessId());
}

std::uint32_t currentUid()
{
    static const std::uint32_t uid = [] {
        win::Owner owner;
        return win::queryOwner(::GetCurrentProcess(), owner) ? owner.rid : win::kUnknownUid;
    }();
    return uid;
}

bool isAlive(const ProcessKey& key, const std::filesystem::path& /* procRoot: Linux only */)
{
    if (key.pid <= 0 || key.pid > kMaxPid)
        return false;
    Handle h = openForQuery(key.pid);
    if (!h.valid())
        return ::GetLastError() != ERROR_INVALID_PARAMETER && key.startTime == 0;
    win::ProcessTimes times;
    if (!win::queryTimes(h.get(), times) || times.creation != key.startTime)
        return false;
    return !win::hasExited(h.get());
}

SignalResult sendSignal(const ProcessKey& key, ProcessAction action, const SignalExpectation& expected)
{
    if (key.pid <= 0 || key.pid > kMaxPid)
        return {ActionOutcome::AlreadyGone, {}};
    Handle h = openForQuery(key.pid, rightsFor(action));
    if (!h.valid()) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_INVALID_PARAMETER)
            return {ActionOutcome::AlreadyGone, {}};
        if (error == ERROR_ACCESS_DENIED)
            return denied(error);
        return failed(win::errorText(error));
    }
    // The handle now pins one process object: check it is the one we mean.
    win::ProcessTimes times;
    if (!win::queryTimes(h.get(), times))
        return failed("cannot read its creation time: " + win::errorText(::GetLastError()));
    if (times.creation != key.startTime || win::hasExited(h.get()))
        return {ActionOutcome::AlreadyGone, {}};
    // The creation time is exact to 100 ns, so this only guards against a
    // sample that was wrong to begin with.
    if (!expected.exe.empty()) {
        const std::string path = win::imagePath(h.get());
        if (!path.empty() && path != expected.exe)
            return {ActionOutcome::Refused, "pid " + std::to_string(key.pid) +
                                                " is another process now: it runs " + path + ", not " +
                                                expected.exe};
    }

    const auto& nt = win::NtApi::get();
    switch (action) {
    case ProcessAction::Pause:
    case ProcessAction::Resume: {
        const auto call = action == ProcessAction::Pause ? nt.suspendProcess : nt.resumeProcess;
        if (!call)
            return failed("this version of Windows does not offer pausing a whole process");
        const LONG status = call(h.get());
        if (status < 0)
            return failed(
                std::string(action == ProcessAction::Pause ? "NtSuspendProcess" : "NtResumeProcess") +
                " failed with status " + ntStatusText(status));
        return {ActionOutcome::Done, {}};
    }
    case ProcessAction::Terminate:
        // A program with windows gets the same request as its close button, and
        // the grace period to save its work; ProcessControl ends it for good
        // afterwards. Console programs (compilers, cargo, make) have no window
        // and no way to receive a request from outside their console, so they
        // are ended at once rather than after a pointless wait.
        if (requestClose(key.pid) > 0)
            return {ActionOutcome::Done, {}};
        [[fallthrough]];
    case ProcessAction::Kill:
        if (::TerminateProcess(h.get(), kStoppedExitCode))
            return {ActionOutcome::Done, {}};
        {
            const DWORD error = ::GetLastError();
            // TerminateProcess on a process that is already exiting fails with
            // access denied: that is not a refusal.
            if (win::hasExited(h.get()))
                return {ActionOutcome::AlreadyGone, {}};
            if (error == ERROR_ACCESS_DENIED)
                return denied(error);
            return failed(win::errorText(error));
        }
    }
    return failed("unknown action");
}

std::vector<ProcessKey> waitForExit(const std::vector<ProcessKey>& keys, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<ProcessKey> alive = keys;
    for (;;) {
        std::vector<ProcessKey> still;
        for (const auto& key : alive) {
            if (isAlive(key))
                still.push_back(key);
        }
        alive = std::move(still);
        if (alive.empty() || std::chrono::steady_clock::now() >= deadline)
            return alive;
        ::Sleep(10);
    }
}

} // namespace headroom::platform
