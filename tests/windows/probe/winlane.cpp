// SPDX-License-Identifier: GPL-3.0-or-later
// A job lane's two ends on Windows, for the Wine tests: the lane itself
// (JobLane, a named semaphore) steered by lines on standard input, and a
// client that opens the semaphore by name as GNU make and the jobserver crate
// do (OpenSemaphoreA with the --jobserver-auth name as given).
//
//   winlane serve RUNID MAX   prints "auth=<name> makeflags=<flags>", then per input line
//                             "steer N" or "state" prints "granted=G waiting=W inuse=U";
//                             "quit" (or the end of input) ends it
//   winlane client NAME       opens NAME ("opened" or "cannot open (<error>)"), waits at most
//                             10 s for a token ("took" or "none"), then gives it back on the
//                             next input line ("returned")
//   winlane try NAME          takes a token only if one waits ("took" then "returned", or "none")
//   winlane pool DIR PREFIX N adds N members PREFIX-0.. to the pool ledger in DIR, each with this
//                             process as supervisor, reading the ledger between updates; prints
//                             "added" (or "failed: <why>"), then waits for an input line
//   winlane members DIR       prints "members=<count>" as the ledger reads now
#include "headroom/JobLane.h"
#include "headroom/JobPool.h"
#include "headroom/Platform.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <windows.h>

namespace {

void say(const std::string& line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

void state(headroom::JobLane& lane)
{
    const unsigned waiting = lane.waiting();
    const unsigned granted = lane.granted();
    say("granted=" + std::to_string(granted) + " waiting=" + std::to_string(waiting) +
        " inuse=" + std::to_string(granted > waiting ? granted - waiting : 0));
}

int serve(const std::string& runId, unsigned maxTokens)
{
    auto lane = headroom::JobLane::create({}, runId, maxTokens);
    if (!lane) {
        say("cannot make the lane: " + lane.error());
        return 2;
    }
    say("auth=" + lane.value()->auth() + " makeflags=" + lane.value()->makeflags());
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.rfind("steer ", 0) == 0) {
            lane.value()->steer(unsigned(std::strtoul(line.c_str() + 6, nullptr, 10)));
            state(*lane.value());
        } else if (line == "state") {
            state(*lane.value());
        } else if (line == "quit") {
            break;
        }
    }
    return 0;
}

int client(const std::string& name, DWORD waitMs)
{
    HANDLE semaphore = ::OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, name.c_str());
    if (!semaphore) {
        say("cannot open (" + std::to_string(::GetLastError()) + ")");
        return 2;
    }
    say("opened");
    if (::WaitForSingleObject(semaphore, waitMs) != WAIT_OBJECT_0) {
        say("none");
        ::CloseHandle(semaphore);
        return 1;
    }
    say("took");
    if (waitMs != 0) {
        std::string line;
        std::getline(std::cin, line);
    }
    const BOOL released = ::ReleaseSemaphore(semaphore, 1, nullptr);
    say(released ? "returned" : "cannot return (" + std::to_string(::GetLastError()) + ")");
    ::CloseHandle(semaphore);
    return released ? 0 : 3;
}

int pool(const std::string& dir, const std::string& prefix, int count)
{
    const headroom::JobPool ledger{std::filesystem::path(dir)};
    if (auto ready = ledger.prepare(); !ready) {
        say("failed: " + ready.error());
        return 2;
    }
    const auto self = headroom::platform::identify(headroom::platform::currentPid());
    if (!self) {
        say("failed: this process cannot identify itself");
        return 2;
    }
    for (int i = 0; i < count; ++i) {
        const auto updated = ledger.update(
            [&](headroom::PoolState& state) {
                headroom::PoolMember member;
                member.runId = prefix + "-" + std::to_string(i);
                member.supervisor = self->key;
                member.granted = 1;
                state.members.push_back(member);
            },
            std::chrono::milliseconds(20000));
        if (!updated) {
            say("failed: " + updated.error());
            return 3;
        }
        if (auto seen = ledger.read(); !seen) {
            say("failed: " + seen.error());
            return 3;
        }
    }
    say("added");
    std::string line;
    std::getline(std::cin, line);
    return 0;
}

int members(const std::string& dir)
{
    const auto state = headroom::JobPool(std::filesystem::path(dir)).read();
    if (!state) {
        say("failed: " + state.error());
        return 2;
    }
    say("members=" + std::to_string(state->members.size()));
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "serve" && argc == 4)
        return serve(argv[2], unsigned(std::strtoul(argv[3], nullptr, 10)));
    if (command == "client" && argc == 3)
        return client(argv[2], 10000);
    if (command == "try" && argc == 3)
        return client(argv[2], 0);
    if (command == "pool" && argc == 5)
        return pool(argv[2], argv[3], std::atoi(argv[4]));
    if (command == "members" && argc == 3)
        return members(argv[2]);
    std::fputs("usage: winlane serve RUNID MAX | client NAME | try NAME | pool DIR PREFIX N | members DIR\n",
               stderr);
    return 64;
}
