// SPDX-License-Identifier: GPL-3.0-or-later
#include "WinApi.h"

#include <algorithm>
#include <sddl.h>
#include <shellapi.h>
#include <tlhelp32.h>

namespace headroom::win {

namespace {

constexpr LONG kStatusInfoLengthMismatch = static_cast<LONG>(0xC0000004L);
constexpr LONG kStatusBufferTooSmall = static_cast<LONG>(0xC0000023L);
constexpr ULONG kProcessBasicInformation = 0;
// Documented since Windows 8.1; needs only PROCESS_QUERY_LIMITED_INFORMATION.
constexpr ULONG kProcessCommandLineInformation = 60;

struct BasicInformation {
    LONG exitStatus;
    PVOID pebBaseAddress;
    ULONG_PTR affinityMask;
    LONG basePriority;
    ULONG_PTR uniqueProcessId;
    ULONG_PTR inheritedFromUniqueProcessId;
};

struct CountedUnicode {
    USHORT length; // bytes, without a terminator
    USHORT maximumLength;
    PWSTR buffer;
};

template <typename Fn> Fn resolve(HMODULE module, const char* name)
{
    // GetProcAddress returns a generic function pointer; go through void(*)()
    // so the conversion to the real signature is explicit and warning-free.
    const auto generic = reinterpret_cast<void (*)()>(::GetProcAddress(module, name));
    return reinterpret_cast<Fn>(generic);
}

} // namespace

std::string toUtf8(std::wstring_view text)
{
    if (text.empty())
        return {};
    const int size = ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0,
                                           nullptr, nullptr);
    if (size <= 0)
        return {};
    std::string out(static_cast<std::size_t>(size), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), size, nullptr,
                          nullptr);
    return out;
}

std::wstring toWide(std::string_view text)
{
    if (text.empty())
        return {};
    const int size =
        ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
    if (size <= 0)
        return {};
    std::wstring out(static_cast<std::size_t>(size), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), size);
    return out;
}

std::string errorText(DWORD error)
{
    wchar_t* buffer = nullptr;
    const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                         FORMAT_MESSAGE_IGNORE_INSERTS,
                                     nullptr, error, 0, reinterpret_cast<LPWSTR>(&buffer), 0, nullptr);
    std::string text;
    if (n > 0 && buffer)
        text = toUtf8(std::wstring_view(buffer, n));
    if (buffer)
        ::LocalFree(buffer);
    while (!text.empty() &&
           (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.'))
        text.pop_back();
    if (text.empty())
        text = "Windows error " + std::to_string(error);
    return text;
}

bool queryTimes(HANDLE process, ProcessTimes& out)
{
    FILETIME creation{}, exit{}, kernel{}, user{};
    if (!::GetProcessTimes(process, &creation, &exit, &kernel, &user))
        return false;
    out.creation = fileTimeValue(creation);
    out.cpuNs = (fileTimeValue(kernel) + fileTimeValue(user)) * 100;
    return true;
}

bool hasExited(HANDLE process)
{
    DWORD code = 0;
    // STILL_ACTIVE is also a legal exit code, so it only says "maybe running";
    // a process that really exited with 259 is caught by the wait below when
    // the handle allows waiting.
    if (!::GetExitCodeProcess(process, &code))
        return false;
    if (code != STILL_ACTIVE)
        return true;
    return ::WaitForSingleObject(process, 0) == WAIT_OBJECT_0;
}

std::string imagePath(HANDLE process)
{
    std::wstring buffer(MAX_PATH, L'\0');
    for (int attempt = 0; attempt < 4; ++attempt) {
        DWORD size = static_cast<DWORD>(buffer.size());
        if (::QueryFullProcessImageNameW(process, 0, buffer.data(), &size))
            return toUtf8(std::wstring_view(buffer.data(), size));
        if (::GetLastError() != ERROR_INSUFFICIENT_BUFFER)
            return {};
        buffer.resize(buffer.size() * 4);
    }
    return {};
}

std::vector<std::string> commandLine(HANDLE process)
{
    const auto query = NtApi::get().queryInformationProcess;
    if (!query)
        return {};
    std::vector<std::uint8_t> buffer(4096);
    LONG status = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        ULONG needed = 0;
        status = query(process, kProcessCommandLineInformation, buffer.data(),
                       static_cast<ULONG>(buffer.size()), &needed);
        if (status != kStatusInfoLengthMismatch && status != kStatusBufferTooSmall)
            break;
        buffer.resize(std::max<std::size_t>(needed, buffer.size() * 2));
    }
    if (status < 0)
        return {};
    const auto* text = reinterpret_cast<const CountedUnicode*>(buffer.data());
    if (!text->buffer || text->length == 0)
        return {};
    return splitCommandLine(std::wstring(text->buffer, text->length / sizeof(wchar_t)));
}

std::vector<std::string> splitCommandLine(const std::wstring& line)
{
    if (line.empty())
        return {}; // CommandLineToArgvW would answer with our own path
    int argc = 0;
    // Split the way the C runtime would for this program, so the arguments
    // are the ones main() sees.
    wchar_t** argv = ::CommandLineToArgvW(line.c_str(), &argc);
    std::vector<std::string> out;
    if (!argv)
        return out;
    out.reserve(static_cast<std::size_t>(argc));
    for (int i = 0; i < argc; ++i)
        out.push_back(toUtf8(argv[i]));
    ::LocalFree(argv);
    return out;
}

std::wstring quoteArgument(std::wstring_view argument)
{
    if (!argument.empty() && argument.find_first_of(L" \t\n\v\"") == std::wstring_view::npos)
        return std::wstring(argument);
    std::wstring out = L"\"";
    std::size_t backslashes = 0;
    for (const wchar_t c : argument) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        // Backslashes are literal unless a quote follows them.
        out.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, L'\\'); // before the closing quote
    out += L'"';
    return out;
}

std::wstring joinCommandLine(const std::vector<std::string>& argv)
{
    std::wstring line;
    for (const auto& argument : argv) {
        if (!line.empty())
            line += L' ';
        line += quoteArgument(toWide(argument));
    }
    return line;
}

namespace {

// Reads `size` bytes at `address` in another process.
bool readRemote(HANDLE process, std::uintptr_t address, void* out, std::size_t size)
{
    SIZE_T read = 0;
    return address != 0 &&
           ::ReadProcessMemory(process, reinterpret_cast<LPCVOID>(address), out, size, &read) && read == size;
}

bool readRemoteString(HANDLE process, const CountedUnicode& text, std::wstring& out)
{
    if (text.length == 0 || !text.buffer)
        return true;
    std::wstring value(text.length / sizeof(wchar_t), L'\0');
    if (!readRemote(process, reinterpret_cast<std::uintptr_t>(text.buffer), value.data(), text.length))
        return false;
    out = std::move(value);
    return true;
}

// The start of RTL_USER_PROCESS_PARAMETERS, as laid out by this build's
// pointer size (the documented fields and their reserved neighbours).
struct UserProcessParameters {
    BYTE reserved1[16];
    PVOID reserved2[5];
    CountedUnicode currentDirectory; // CURDIR.DosPath
    HANDLE currentDirectoryHandle;
    CountedUnicode dllPath;
    CountedUnicode imagePathName;
    CountedUnicode commandLine;
};

} // namespace

bool readProcessParameters(std::int64_t pid, ProcessParameters& out)
{
    const auto query = NtApi::get().queryInformationProcess;
    if (!query || pid <= 0 || pid > 0xFFFFFFFFll)
        return false;
    Handle process(
        ::OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, static_cast<DWORD>(pid)));
    if (!process.valid())
        return false;
    BasicInformation info{};
    ULONG size = 0;
    if (query(process.get(), kProcessBasicInformation, &info, sizeof info, &size) < 0)
        return false;
    // PEB.ProcessParameters comes after a pointer-sized block of flags and
    // three pointers (Mutant, ImageBaseAddress, Ldr): 0x20 on 64-bit, 0x10 on 32-bit.
    constexpr std::size_t kParametersOffset = 2 * sizeof(PVOID) + 2 * sizeof(PVOID);
    PVOID parameters = nullptr;
    if (!readRemote(process.get(), reinterpret_cast<std::uintptr_t>(info.pebBaseAddress) + kParametersOffset,
                    &parameters, sizeof parameters))
        return false;
    UserProcessParameters block{};
    if (!readRemote(process.get(), reinterpret_cast<std::uintptr_t>(parameters), &block, sizeof block))
        return false;
    ProcessParameters read;
    if (!readRemoteString(process.get(), block.commandLine, read.commandLine))
        return false;
    readRemoteString(process.get(), block.currentDirectory, read.currentDirectory);
    out = std::move(read);
    return true;
}

std::int64_t parentPid(HANDLE process)
{
    const auto query = NtApi::get().queryInformationProcess;
    if (!query)
        return -1;
    BasicInformation info{};
    ULONG size = 0;
    if (query(process, kProcessBasicInformation, &info, sizeof info, &size) < 0)
        return -1;
    return static_cast<std::int64_t>(info.inheritedFromUniqueProcessId);
}

bool queryOwner(HANDLE process, Owner& out)
{
    HANDLE raw = nullptr;
    if (!::OpenProcessToken(process, TOKEN_QUERY, &raw))
        return false;
    Handle token(raw);
    DWORD size = 0;
    ::GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
    if (size == 0)
        return false;
    std::vector<std::uint8_t> buffer(size);
    if (!::GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size))
        return false;
    PSID sid = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
    if (!::IsValidSid(sid))
        return false;
    const UCHAR parts = *::GetSidSubAuthorityCount(sid);
    out.rid = parts > 0 ? static_cast<std::uint32_t>(*::GetSidSubAuthority(sid, parts - 1u)) : 0;
    wchar_t* text = nullptr;
    if (::ConvertSidToStringSidW(sid, &text)) {
        out.sid = toUtf8(text);
        ::LocalFree(text);
    }
    return true;
}

std::string accountName(const std::string& sidText)
{
    PSID sid = nullptr;
    const std::wstring wide = toWide(sidText);
    if (!::ConvertStringSidToSidW(wide.c_str(), &sid))
        return sidText;
    wchar_t name[256];
    wchar_t domain[256];
    DWORD nameSize = 256;
    DWORD domainSize = 256;
    SID_NAME_USE use{};
    std::string out = sidText;
    if (::LookupAccountSidW(nullptr, sid, name, &nameSize, domain, &domainSize, &use))
        out = toUtf8(std::wstring_view(name, nameSize));
    ::LocalFree(sid);
    return out;
}

std::vector<ToolhelpEntry> toolhelpProcesses()
{
    std::vector<ToolhelpEntry> out;
    Handle snapshot(::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
    if (!snapshot.valid())
        return out;
    PROCESSENTRY32W entry{};
    entry.dwSize = sizeof entry;
    if (!::Process32FirstW(snapshot.get(), &entry))
        return out;
    do {
        ToolhelpEntry row;
        row.pid = entry.th32ProcessID;
        row.parentPid = entry.th32ParentProcessID;
        row.threads = entry.cntThreads;
        row.name = toUtf8(entry.szExeFile);
        out.push_back(std::move(row));
        entry.dwSize = sizeof entry;
    } while (::Process32NextW(snapshot.get(), &entry));
    return out;
}

Handle openProcess(std::int64_t pid, DWORD extra)
{
    if (pid < 0 || pid > 0xFFFFFFFFll) {
        ::SetLastError(ERROR_INVALID_PARAMETER);
        return Handle();
    }
    const DWORD id = static_cast<DWORD>(pid);
    Handle h(::OpenProcess(kQueryRights | SYNCHRONIZE | extra, FALSE, id));
    if (!h.valid() && ::GetLastError() == ERROR_ACCESS_DENIED)
        h = Handle(::OpenProcess(kQueryRights | extra, FALSE, id));
    return h;
}

std::string baseName(const std::string& path)
{
    const auto slash = path.find_last_of("\\/");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

const NtApi& NtApi::get()
{
    static const NtApi api = [] {
        NtApi a;
        if (HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll")) {
            a.queryInformationProcess = resolve<QueryInformationProcess>(ntdll, "NtQueryInformationProcess");
            a.querySystemInformation = resolve<QuerySystemInformation>(ntdll, "NtQuerySystemInformation");
            a.suspendProcess = resolve<SuspendResume>(ntdll, "NtSuspendProcess");
            a.resumeProcess = resolve<SuspendResume>(ntdll, "NtResumeProcess");
        }
        return a;
    }();
    return api;
}

} // namespace headroom::win
