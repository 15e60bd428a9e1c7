// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RunFollower.h"

#include "headroom/RunsFolder.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <system_error>

namespace headroom {

namespace fs = std::filesystem;

namespace {

// A status can be rewritten twice within one tick of the file system's
// clock with the same size: read it again this often whatever its stamp says.
constexpr std::int64_t kStatusRereadMs = 1000;
// How often a running run's supervisor is looked for in the process table.
constexpr std::int64_t kLivenessCheckMs = 2000;

std::int64_t steadyMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool isOpen(const RunStatus& status)
{
    return status.state == RunState::Starting || status.state == RunState::Running;
}

// Up to `count` bytes of `path` from `offset`; the file is closed again on return.
std::string readAt(const fs::path& path, std::uint64_t offset, std::uint64_t count)
{
    std::string bytes;
    if (count == 0)
        return bytes;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return bytes;
    in.seekg(std::streamoff(offset));
    if (!in)
        return bytes;
    bytes.resize(std::size_t(count));
    in.read(bytes.data(), std::streamsize(count));
    bytes.resize(std::size_t(std::max<std::streamsize>(in.gcount(), 0)));
    return bytes;
}

} // namespace

RunFollower::RunFollower(fs::path runsDir, std::string id) : runsDir_(std::move(runsDir)), id_(std::move(id))
{
}

RunFollower::Update RunFollower::poll(std::size_t maxBytes)
{
    Update update;
    const RunFiles files = RunFiles::of(runsDir_, id_);
    const std::int64_t now = steadyMs();

    // The status first, then the log: once a poll sees Finished, the log
    // read after it holds everything the run wrote.
    std::error_code ec;
    const auto stamp = fs::last_write_time(files.status, ec);
    const std::uintmax_t size = ec ? 0 : fs::file_size(files.status, ec);
    if (ec) {
        if (statusProblem_.empty()) {
            statusProblem_ = "The run status " + files.status.string() + " is gone (" + ec.message() + ").";
            update.problem = statusProblem_;
        }
    } else {
        const std::int64_t stampNs = std::int64_t(stamp.time_since_epoch().count());
        if (stampNs != statusStamp_ || size != statusSize_ || now - lastStatusReadMs_ >= kStatusRereadMs) {
            lastStatusReadMs_ = now;
            auto read = readStatusFile(files.status);
            if (read) {
                statusStamp_ = stampNs;
                statusSize_ = size;
                statusProblem_.clear();
                std::string json = toJson(read.value());
                if (json != statusJson_) {
                    statusJson_ = std::move(json);
                    status_ = std::move(read.value());
                    update.status = status_;
                }
            } else if (read.error() != statusProblem_) {
                statusProblem_ = read.error();
                update.problem = statusProblem_;
            }
        }
    }

    // A supervisor that died cannot say so: look for it now and then.
    if (status_ && isOpen(*status_) && now - lastLivenessCheckMs_ >= kLivenessCheckMs) {
        lastLivenessCheckMs_ = now;
        if (auto found = findRun(runsDir_, id_); found && found->status) {
            std::string json = toJson(*found->status);
            if (json != statusJson_) {
                statusJson_ = std::move(json);
                status_ = *found->status;
                update.status = status_;
            }
            if (status_->state == RunState::SupervisorLost)
                update.problem = found->problem;
        }
    }

    const std::uintmax_t logSize = fs::file_size(files.log, ec);
    if (ec) {
        logAtEnd_ = true; // no log (yet): nothing to read
    } else {
        if (logSize < logOffset_)
            logOffset_ = 0; // the log was replaced: read the new one from its start
        const std::uint64_t count = std::min<std::uint64_t>(maxBytes, logSize - logOffset_);
        update.logBytes = readAt(files.log, logOffset_, count);
        logOffset_ += update.logBytes.size();
        logAtEnd_ = logOffset_ >= logSize;
    }
    return update;
}

void RunFollower::skipToTail(std::uint64_t tailBytes)
{
    const fs::path log = RunFiles::of(runsDir_, id_).log;
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(log, ec);
    if (ec || size <= tailBytes) {
        logOffset_ = 0;
        return;
    }
    // The byte before the tail tells whether the tail starts a line.
    const std::uint64_t start = size - tailBytes;
    const std::string window = readAt(log, start - 1, tailBytes + 1);
    const auto newline = window.find('\n');
    // A tail without a line break is shown from its first byte rather than not at all.
    logOffset_ = newline == std::string::npos ? start : start - 1 + newline + 1;
    logAtEnd_ = false;
}

bool RunFollower::done() const
{
    return status_ && !isOpen(*status_) && logAtEnd_;
}

} // namespace headroom
