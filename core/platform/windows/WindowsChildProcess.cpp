// SPDX-License-Identifier: GPL-3.0-or-later
// Starting a build's step on Windows: CreateProcessW with a command line
// quoted from argv, the output files as the only inherited handles, started
// suspended, put into a job object and only then resumed (BuildContainment).
// The job is made without "kill on job close": a supervisor that dies leaves
// its build running; it ends what a step leaves behind with terminate().
#include "WinApi.h"
#include "headroom/ChildProcess.h"
#include "headroom/Platform.h"

#include <algorithm>
#include <cwchar>
#include <system_error>
#include <utility>

namespace headroom {

namespace fs = std::filesystem;

namespace {

using win::Handle;

// The system's words for why a program could not be started.
std::string cannotRun(const std::string& program, DWORD error)
{
    return "cannot run " + program + ": " + win::errorText(error);
}

// A handle the child inherits (the only kind CreateProcessW hands on).
SECURITY_ATTRIBUTES inheritable()
{
    SECURITY_ATTRIBUTES sa{};
    sa.nLength = sizeof sa;
    sa.bInheritHandle = TRUE;
    return sa;
}

Handle openNullDevice(DWORD access)
{
    SECURITY_ATTRIBUTES sa = inheritable();
    return Handle(::CreateFileW(L"NUL", access, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr));
}

// Opened for append only (FILE_APPEND_DATA without FILE_WRITE_DATA): every
// write goes to the end, whoever else appends to the same file, as O_APPEND.
// Shared for reading (the supervisor tails it), writing (it appends to the
// log too) and deleting (pruning may remove an old run while a leftover
// process still holds its log).
Result<Handle> openForAppend(const fs::path& path)
{
    if (path.empty())
        return Result<Handle>::success(openNullDevice(GENERIC_WRITE));
    SECURITY_ATTRIBUTES sa = inheritable();
    Handle file(::CreateFileW(path.c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa, OPEN_ALWAYS,
                              FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!file.valid())
        return Result<Handle>::failure("cannot open " + path.string() +
                                       " for the output: " + win::errorText(::GetLastError()));
    return Result<Handle>::success(std::move(file));
}

bool samePath(const fs::path& a, const fs::path& b)
{
    if (a.lexically_normal() == b.lexically_normal())
        return true;
    std::error_code ec;
    return fs::equivalent(a, b, ec) && !ec;
}

// Windows compares variable names without regard to case.
bool lessIgnoringCase(const std::wstring& a, const std::wstring& b)
{
    return ::CompareStringOrdinal(a.c_str(), static_cast<int>(a.size()), b.c_str(),
                                  static_cast<int>(b.size()), TRUE) == CSTR_LESS_THAN;
}

std::wstring variableName(const std::wstring& entry)
{
    // "=C:=C:\\dir" (a drive's current folder) has its '=' at the start.
    const std::size_t equals = entry.find(L'=', 1);
    return entry.substr(0, equals);
}

// The inherited environment without `removals` and with `additions` set on
// top, as the sorted, double-NUL-terminated block CreateProcessW takes.
// Names compare without case, as Windows compares them.
std::wstring environmentBlock(const std::map<std::string, std::string>& additions,
                              const std::vector<std::string>& removals)
{
    std::vector<std::wstring> entries;
    if (wchar_t* inherited = ::GetEnvironmentStringsW()) {
        for (const wchar_t* p = inherited; *p; p += std::wcslen(p) + 1)
            entries.emplace_back(p);
        ::FreeEnvironmentStringsW(inherited);
    }
    for (const auto& name : removals) {
        const std::wstring wideName = win::toWide(name);
        if (wideName.empty())
            continue;
        std::erase_if(entries, [&](const std::wstring& entry) {
            const std::wstring other = variableName(entry);
            return !lessIgnoringCase(other, wideName) && !lessIgnoringCase(wideName, other);
        });
    }
    for (const auto& [name, value] : additions) {
        const std::wstring wideName = win::toWide(name);
        if (wideName.empty() || wideName.find(L'=') != std::wstring::npos)
            continue; // no variable can have such a name
        std::erase_if(entries, [&](const std::wstring& entry) {
            const std::wstring other = variableName(entry);
            return !lessIgnoringCase(other, wideName) && !lessIgnoringCase(wideName, other);
        });
        entries.push_back(wideName + L'=' + win::toWide(value));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const std::wstring& a, const std::wstring& b) {
        return lessIgnoringCase(variableName(a), variableName(b));
    });
    std::wstring block;
    for (const auto& entry : entries) {
        block += entry;
        block += L'\0';
    }
    block += L'\0';
    if (entries.empty())
        block += L'\0';
    return block;
}

// Limits what the child inherits to `handles` (PROC_THREAD_ATTRIBUTE_HANDLE_LIST),
// so it does not hold on to whatever else this process has open that is
// inheritable. Falls back to plain inheritance where the system refuses.
class InheritList {
  public:
    explicit InheritList(std::vector<HANDLE> handles) : handles_(std::move(handles))
    {
        std::sort(handles_.begin(), handles_.end());
        handles_.erase(std::unique(handles_.begin(), handles_.end()), handles_.end());
        SIZE_T size = 0;
        ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
        if (size == 0)
            return;
        buffer_.resize(size);
        auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buffer_.data());
        if (!::InitializeProcThreadAttributeList(list, 1, 0, &size))
            return;
        initialised_ = true;
        if (::UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
                                        handles_.size() * sizeof(HANDLE), nullptr, nullptr))
            list_ = list;
    }
    ~InheritList()
    {
        if (initialised_)
            ::DeleteProcThreadAttributeList(reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buffer_.data()));
    }
    InheritList(const InheritList&) = delete;
    InheritList& operator=(const InheritList&) = delete;

    LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

  private:
    std::vector<HANDLE> handles_;
    std::vector<unsigned char> buffer_;
    bool initialised_ = false;
    LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

struct Streams {
    Handle input, output, error; // error stays invalid when it is the output's handle
    HANDLE errorHandle() const { return error.valid() ? error.get() : output.get(); }
};

// CreateProcessW with the three standard handles and nothing else inherited
// (when the system allows the handle list). `commandLine` is changed in place
// by CreateProcessW, so it is taken by value.
bool createProcess(std::wstring commandLine, DWORD flags, const wchar_t* environment,
                   const fs::path& workingDir, const Streams& streams, PROCESS_INFORMATION& info,
                   DWORD& error)
{
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = streams.input.get();
    startup.StartupInfo.hStdOutput = streams.output.get();
    startup.StartupInfo.hStdError = streams.errorHandle();
    InheritList inherit({streams.input.get(), streams.output.get(), streams.errorHandle()});
    if (inherit.get())
        startup.lpAttributeList = inherit.get();
    const wchar_t* folder = workingDir.empty() ? nullptr : workingDir.c_str();
    auto attempt = [&](bool withList) {
        std::wstring line = commandLine; // CreateProcessW may write into it
        STARTUPINFOEXW s = startup;
        DWORD f = flags;
        if (withList) {
            f |= EXTENDED_STARTUPINFO_PRESENT;
        } else {
            s.StartupInfo.cb = sizeof(STARTUPINFOW);
            s.lpAttributeList = nullptr;
        }
        const BOOL ok = ::CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, f,
                                         const_cast<wchar_t*>(environment), folder, &s.StartupInfo, &info);
        error = ok ? 0 : ::GetLastError();
        return ok != 0;
    };
    if (inherit.get()) {
        if (attempt(true))
            return true;
        // Only a refused attribute list is worth a second try.
        if (error != ERROR_INVALID_PARAMETER && error != ERROR_NOT_SUPPORTED)
            return false;
    }
    return attempt(false);
}

} // namespace

struct ChildProcess::State {
    Handle process;
    ProcessKey key;
    std::optional<ChildExit> exit;
    // The build outlives whoever started it: nothing ends it on release.
    BuildContainment containment{OnRelease::LeaveRunning};
};

ChildProcess::ChildProcess() : state_(std::make_unique<State>()) {}
ChildProcess::~ChildProcess() = default;

Result<std::unique_ptr<ChildProcess>> ChildProcess::start(const ChildSpec& spec)
{
    using Out = Result<std::unique_ptr<ChildProcess>>;
    if (spec.argv.empty() || spec.argv.front().empty())
        return Out::failure("cannot run a step without a program");
    const std::string& program = spec.argv.front();

    Streams streams;
    streams.input = openNullDevice(GENERIC_READ);
    auto output = openForAppend(spec.stdoutFile);
    if (!output)
        return Out::failure(output.error());
    streams.output = std::move(output.value());
    if (spec.stderrFile.empty()) {
        if (!spec.stdoutFile.empty())
            streams.error = openNullDevice(GENERIC_WRITE);
    } else if (spec.stdoutFile.empty() || !samePath(spec.stdoutFile, spec.stderrFile)) {
        auto error = openForAppend(spec.stderrFile);
        if (!error)
            return Out::failure(error.error());
        streams.error = std::move(error.value());
    } // else: one file, one handle, so the two streams interleave in order
    if (!streams.input.valid() || !streams.output.valid())
        return Out::failure(cannotRun(program, ::GetLastError()));

    const std::wstring environment =
        spec.environment.empty() && spec.unsetEnvironment.empty()
            ? std::wstring()
            : environmentBlock(spec.environment, spec.unsetEnvironment);
    const DWORD flags = BuildContainment::creationFlags() | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT;
    PROCESS_INFORMATION info{};
    DWORD error = 0;
    if (!createProcess(win::joinCommandLine(spec.argv), flags,
                       environment.empty() ? nullptr : environment.data(), spec.workingDir, streams, info,
                       error))
        return Out::failure(cannotRun(program, error));

    std::unique_ptr<ChildProcess> child(new ChildProcess());
    State& state = *child->state_;
    state.process = Handle(info.hProcess);
    Handle thread(info.hThread);
    const Pid pid = static_cast<Pid>(info.dwProcessId);
    win::ProcessTimes times;
    if (win::queryTimes(state.process.get(), times))
        state.key = ProcessKey{pid, times.creation};
    else if (const auto id = platform::identify(pid))
        state.key = id->key;
    else
        state.key = ProcessKey{pid, 0};

    // Puts it into the job and resumes it. Without a job (the system refused
    // one) it still runs, and a stop ends its tree process by process.
    const ContainmentResult contained = state.containment.attach(pid);
    if (!contained.ok)
        ::ResumeThread(thread.get()); // never leave it frozen; no-op once resumed
    return Out::success(std::move(child));
}

ProcessKey ChildProcess::key() const
{
    return state_->key;
}

std::optional<ChildExit> ChildProcess::wait(std::chrono::milliseconds timeout)
{
    if (state_->exit)
        return state_->exit;
    if (!state_->process.valid())
        return std::nullopt;
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INFINITE - 1);
    if (::WaitForSingleObject(state_->process.get(), static_cast<DWORD>(ms)) != WAIT_OBJECT_0)
        return std::nullopt;
    DWORD code = 0;
    if (!::GetExitCodeProcess(state_->process.get(), &code) || code == STILL_ACTIVE)
        return std::nullopt;
    ChildExit exit;
    // NTSTATUS codes (0xC0000005...) come out negative, like Windows' own tools show them.
    exit.exitCode = static_cast<int>(code);
    state_->exit = exit;
    return state_->exit;
}

BuildContainment& ChildProcess::containment()
{
    return state_->containment;
}

Result<Pid> startDetached(const std::vector<std::string>& argv, const fs::path& workingDir,
                          const fs::path& logFile)
{
    if (argv.empty() || argv.front().empty())
        return Result<Pid>::failure("cannot start nothing detached");
    const std::string& program = argv.front();
    Streams streams;
    streams.input = openNullDevice(GENERIC_READ);
    auto output = openForAppend(logFile);
    if (!output)
        return Result<Pid>::failure(output.error());
    streams.output = std::move(output.value());
    if (!streams.input.valid() || !streams.output.valid())
        return Result<Pid>::failure(cannotRun(program, ::GetLastError()));

    const std::wstring line = win::joinCommandLine(argv);
    // No console, its own process group (no Ctrl+C from ours), and out of our
    // job, so that closing whoever started it (a window in a job that ends
    // its processes on close) does not end it.
    const DWORD flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT;
    PROCESS_INFORMATION info{};
    DWORD error = 0;
    bool started =
        createProcess(line, flags | CREATE_BREAKAWAY_FROM_JOB, nullptr, workingDir, streams, info, error);
    if (!started && error == ERROR_ACCESS_DENIED) {
        // Our job does not allow breaking away: start it inside the job then.
        started = createProcess(line, flags, nullptr, workingDir, streams, info, error);
    }
    if (!started)
        return Result<Pid>::failure(cannotRun(program, error));
    ::CloseHandle(info.hThread);
    ::CloseHandle(info.hProcess);
    return Result<Pid>::success(static_cast<Pid>(info.dwProcessId));
}

fs::path currentExecutable()
{
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
        const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
        if (n == 0)
            return {};
        if (n < path.size()) {
            path.resize(n);
            return fs::path(path);
        }
        if (path.size() >= 32768)
            return {};
        path.resize(path.size() * 2);
    }
}

} // namespace headroom
