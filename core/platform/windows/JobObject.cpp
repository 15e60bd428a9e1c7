// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/JobObject.h"

#include "WinApi.h"

#include <utility>

namespace headroom {

JobObject::JobObject() : JobObject(OnRelease::EndProcesses) {}

JobObject::JobObject(OnRelease onRelease)
{
    HANDLE job = ::CreateJobObjectW(nullptr, nullptr);
    if (!job) {
        error_ = "Cannot create a job object for the build: " + win::errorText(::GetLastError()) + ".";
        return;
    }
    if (onRelease == OnRelease::LeaveRunning) {
        handle_ = job; // a new job has no limits: nothing to set
        return;
    }
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        error_ =
            "Cannot make the build's job end its processes when closed: " + win::errorText(::GetLastError()) +
            ".";
        ::CloseHandle(job);
        return;
    }
    handle_ = job;
}

void JobObject::close()
{
    if (handle_)
        ::CloseHandle(static_cast<HANDLE>(handle_));
    handle_ = nullptr;
}

std::uint32_t JobObject::suspendedCreationFlag()
{
    return CREATE_SUSPENDED;
}

JobResult JobObject::adopt(Pid pid, bool resume)
{
    if (!handle_)
        return {false, error_};
    const std::string who = "process " + std::to_string(pid);
    win::Handle process =
        win::openProcess(pid, PROCESS_SET_QUOTA | PROCESS_TERMINATE | (resume ? PROCESS_SUSPEND_RESUME : 0));
    if (!process.valid()) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_INVALID_PARAMETER)
            return {false, "Cannot put " + who + " into the build's job: it has already exited."};
        return {false, "Cannot put " + who + " into the build's job: " + win::errorText(error) + "."};
    }
    if (!::AssignProcessToJobObject(static_cast<HANDLE>(handle_), process.get())) {
        const DWORD error = ::GetLastError();
        if (resume) {
            if (const auto r = win::NtApi::get().resumeProcess)
                r(process.get()); // never leave it frozen
        }
        return {false, "Cannot put " + who + " into the build's job: " + win::errorText(error) +
                           ". Stopping the build will stop its process tree one by one instead."};
    }
    if (resume) {
        const auto r = win::NtApi::get().resumeProcess;
        if (!r || r(process.get()) < 0)
            return {false, "Put " + who + " into the build's job but could not resume it."};
    }
    return {true, who + " and every process it starts are in the build's job."};
}

JobResult JobObject::terminate(std::uint32_t exitCode)
{
    if (!handle_)
        return {false, error_};
    if (!::TerminateJobObject(static_cast<HANDLE>(handle_), exitCode))
        return {false, "Cannot end the build's processes: " + win::errorText(::GetLastError()) + "."};
    return {true, "Every process of the build was ended."};
}

std::vector<Pid> JobObject::processes() const
{
    std::vector<Pid> out;
    if (!handle_)
        return out;
    // The structure ends in a one-element array; give it room for many.
    std::vector<ULONG_PTR> buffer(2 + 4096);
    auto* list = reinterpret_cast<JOBOBJECT_BASIC_PROCESS_ID_LIST*>(buffer.data());
    if (!::QueryInformationJobObject(static_cast<HANDLE>(handle_), JobObjectBasicProcessIdList, list,
                                     static_cast<DWORD>(buffer.size() * sizeof(ULONG_PTR)), nullptr) &&
        ::GetLastError() != ERROR_MORE_DATA)
        return out;
    for (DWORD i = 0; i < list->NumberOfProcessIdsInList; ++i)
        out.push_back(static_cast<Pid>(list->ProcessIdList[i]));
    return out;
}

JobObject::~JobObject()
{
    close();
}

JobObject::JobObject(JobObject&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), error_(std::move(other.error_))
{
}

JobObject& JobObject::operator=(JobObject&& other) noexcept
{
    if (this != &other) {
        close();
        handle_ = std::exchange(other.handle_, nullptr);
        error_ = std::move(other.error_);
    }
    return *this;
}

bool JobObject::valid() const
{
    return handle_ != nullptr;
}

} // namespace headroom
