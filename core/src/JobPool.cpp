// SPDX-License-Identifier: GPL-3.0-or-later
// The pool's ledger: pool.json, rewritten under pool.lock (flock on POSIX,
// LockFileEx on Windows) by each supervisor, atomically (temp file, flush to
// disk, rename), so a reader without the lock never sees half a ledger.
// Every supervisor can write the folder, so the ledger is read as hostile:
// bounded in size, members and strings, and a malformed one is set aside.
#include "headroom/JobPool.h"

#include "JsonFields.h"
#include "headroom/AtomicFile.h"
#include "headroom/Platform.h"
#include "headroom/RunRecord.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace headroom {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxMembers = 256;
constexpr std::size_t kMaxString = 512;
constexpr std::uintmax_t kMaxLedgerBytes = 4u << 20;
constexpr const char* kLedger = "pool.json";
constexpr const char* kLock = "pool.lock";

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using json_fields::BadField;
using json_fields::integer;

// At most kMaxString bytes, cut where a UTF-8 character starts.
std::string bounded(std::string text)
{
    if (text.size() <= kMaxString)
        return text;
    std::size_t cut = kMaxString;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    text.resize(cut);
    return text;
}

template <typename T> void read(const json& o, const char* key, T& into)
{
    const auto it = o.find(key);
    if (it == o.end() || it->is_null())
        return;
    if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string())
            throw BadField{key};
        into = bounded(it->get<std::string>());
    } else {
        into = integer<T>(*it, key);
    }
}

json memberJson(const PoolMember& m)
{
    return json{{"runId", m.runId},
                {"supervisor", {{"pid", m.supervisor.pid}, {"startTime", m.supervisor.startTime}}},
                {"title", m.title},
                {"granted", m.granted},
                {"inUse", m.inUse},
                {"jobs", m.jobs},
                {"growthBytes", m.growthBytes},
                {"predictedBytes", m.predictedBytes},
                {"lastGrantMs", m.lastGrantMs},
                {"youngestJobMs", m.youngestJobMs},
                {"heldBack", m.heldBack},
                {"updatedMs", m.updatedMs}};
}

PoolMember parseMember(const json& o)
{
    if (!o.is_object())
        throw BadField{"members"};
    PoolMember m;
    read(o, "runId", m.runId);
    if (const auto s = o.find("supervisor"); s != o.end() && !s->is_null()) {
        if (!s->is_object())
            throw BadField{"supervisor"};
        read(*s, "pid", m.supervisor.pid);
        read(*s, "startTime", m.supervisor.startTime);
    }
    read(o, "title", m.title);
    read(o, "granted", m.granted);
    read(o, "inUse", m.inUse);
    read(o, "jobs", m.jobs);
    read(o, "growthBytes", m.growthBytes);
    read(o, "predictedBytes", m.predictedBytes);
    read(o, "lastGrantMs", m.lastGrantMs);
    read(o, "youngestJobMs", m.youngestJobMs);
    read(o, "heldBack", m.heldBack);
    read(o, "updatedMs", m.updatedMs);
    return m;
}

// The ledger's text; nullopt when there is none. Fails when it cannot be
// read or is too large to be one.
Result<std::optional<std::string>> readLedger(const fs::path& path)
{
    using R = Result<std::optional<std::string>>;
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (ec || status.type() == fs::file_type::not_found)
        return R::success(std::nullopt);
    if (status.type() != fs::file_type::regular)
        return R::failure(path.string() + " is not a file");
    SmallFile file = readSmallFile(path, kMaxLedgerBytes);
    switch (file.outcome) {
    case SmallFile::Outcome::Missing:
        return R::success(std::nullopt); // removed meanwhile
    case SmallFile::Outcome::TooLarge:
        return R::failure(path.string() + " is too large to be a job pool ledger");
    case SmallFile::Outcome::Unreadable:
        return R::failure("cannot read the job pool's ledger " + path.string() + " (" + file.why + ")");
    case SmallFile::Outcome::Read:
        break;
    }
    return R::success(std::move(file.text));
}

// pool.lock held for the life of the object.
class LedgerLock {
  public:
    static Result<std::unique_ptr<LedgerLock>> take(const fs::path& path, std::chrono::milliseconds timeout)
    {
        using R = Result<std::unique_ptr<LedgerLock>>;
        std::unique_ptr<LedgerLock> lock(new LedgerLock());
        const auto deadline = std::chrono::steady_clock::now() + timeout;
#ifdef _WIN32
        lock->handle_ = ::CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                      OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (lock->handle_ == INVALID_HANDLE_VALUE)
            return R::failure("cannot open the job pool's lock " + path.string() + " (Windows error " +
                              std::to_string(::GetLastError()) + ")");
        for (;;) {
            OVERLAPPED at{};
            if (::LockFileEx(lock->handle_, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0,
                             &at))
                break;
            if (std::chrono::steady_clock::now() >= deadline)
                return R::failure(timeoutText(path, timeout));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
#else
        do {
            lock->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        } while (lock->fd_ < 0 && errno == EINTR);
        if (lock->fd_ < 0)
            return R::failure("cannot open the job pool's lock " + path.string() + ": " +
                              std::strerror(errno));
        for (;;) {
            if (::flock(lock->fd_, LOCK_EX | LOCK_NB) == 0)
                break;
            if (errno != EWOULDBLOCK && errno != EINTR)
                return R::failure("cannot lock " + path.string() + ": " + std::strerror(errno));
            if (std::chrono::steady_clock::now() >= deadline)
                return R::failure(timeoutText(path, timeout));
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
#endif
        return R::success(std::move(lock));
    }

    ~LedgerLock()
    {
#ifdef _WIN32
        if (handle_ != INVALID_HANDLE_VALUE) {
            OVERLAPPED at{};
            ::UnlockFileEx(handle_, 0, 1, 0, &at);
            ::CloseHandle(handle_);
        }
#else
        if (fd_ >= 0)
            ::close(fd_); // lets go of the flock
#endif
    }

  private:
    LedgerLock() = default;
    static std::string timeoutText(const fs::path& path, std::chrono::milliseconds timeout)
    {
        return "the job pool's ledger is locked by another build for more than " +
               std::to_string(timeout.count()) + " ms (" + path.string() +
               "); the build goes on with the tokens it has";
    }
#ifdef _WIN32
    HANDLE handle_ = INVALID_HANDLE_VALUE;
#else
    int fd_ = -1;
#endif
};

// Members whose supervisor is gone; with `lanes`, their lanes' fifos left
// in that folder go too (nobody can draw from a lane nobody steers).
void dropGone(PoolState& state, const fs::path& lanes = {})
{
    std::erase_if(state.members, [&lanes](const PoolMember& m) {
        if (m.supervisor.pid > 0 && platform::isAlive(m.supervisor))
            return false;
#ifndef _WIN32
        if (!lanes.empty() && isValidRunId(m.runId)) {
            const fs::path fifo = lanes / (m.runId + ".fifo");
            struct stat st {};
            if (::lstat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == ::geteuid())
                ::unlink(fifo.c_str());
        }
#endif
        return true;
    });
}

unsigned machineCpus()
{
    return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

unsigned PoolState::granted() const
{
    unsigned sum = 0;
    for (const auto& m : members)
        sum += m.granted;
    return sum;
}

const PoolMember* PoolState::find(std::string_view runId) const
{
    for (const auto& m : members) {
        if (m.runId == runId)
            return &m;
    }
    return nullptr;
}

std::string toJson(const PoolState& state)
{
    json members = json::array();
    for (const auto& m : state.members)
        members.push_back(memberJson(m));
    const json o{{"version", PoolState::kVersion},
                 {"cpus", state.cpus},
                 {"updatedMs", state.updatedMs},
                 {"members", std::move(members)}};
    return o.dump(1, ' ', false, json::error_handler_t::replace);
}

Result<PoolState> parsePoolState(std::string_view text)
{
    const json o = json::parse(text.begin(), text.end(), nullptr, false);
    if (o.is_discarded() || !o.is_object())
        return Result<PoolState>::failure("the job pool ledger is not a JSON object");
    PoolState state;
    try {
        int version = 0;
        read(o, "version", version);
        if (version != PoolState::kVersion)
            return Result<PoolState>::failure("the job pool ledger has version " + std::to_string(version) +
                                              ", not " + std::to_string(PoolState::kVersion));
        read(o, "cpus", state.cpus);
        state.cpus = std::max(1u, state.cpus);
        read(o, "updatedMs", state.updatedMs);
        if (const auto m = o.find("members"); m != o.end() && !m->is_null()) {
            if (!m->is_array())
                throw BadField{"members"};
            for (const auto& entry : *m) {
                if (state.members.size() >= kMaxMembers)
                    break;
                PoolMember member = parseMember(entry);
                // One entry per run; a second of the same id is a damaged ledger's.
                if (member.runId.empty() || state.find(member.runId))
                    continue;
                state.members.push_back(std::move(member));
            }
        }
    } catch (const BadField& bad) {
        return Result<PoolState>::failure("the job pool ledger has a malformed \"" + bad.what + "\"");
    } catch (const json::exception& e) {
        return Result<PoolState>::failure(std::string("the job pool ledger cannot be read: ") + e.what());
    }
    return Result<PoolState>::success(std::move(state));
}

fs::path defaultPoolDir()
{
    if (const char* dir = std::getenv("HEADROOM_POOL_DIR"); dir && *dir)
        return fs::path(dir);
#ifdef _WIN32
    if (const wchar_t* local = _wgetenv(L"LOCALAPPDATA"); local && *local)
        return fs::path(local) / "Headroom" / "pool";
    std::error_code ec;
    return fs::temp_directory_path(ec) / "Headroom" / "pool";
#else
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime && runtime[0] == '/')
        return fs::path(runtime) / "headroom" / "pool";
    std::error_code ec;
    fs::path temp = fs::temp_directory_path(ec);
    if (ec || temp.empty())
        temp = "/tmp";
    return temp / ("headroom-" + std::to_string(::geteuid())) / "pool";
#endif
}

JobPool::JobPool(fs::path dir) : dir_(std::move(dir)) {}

Result<bool> JobPool::prepare() const
{
    using R = Result<bool>;
    if (dir_.empty())
        return R::failure("the job pool has no folder: set HEADROOM_POOL_DIR");
    const std::string fix = "; remove it, or set HEADROOM_POOL_DIR to a folder of your own";
    std::error_code ec;
#ifdef _WIN32
    fs::create_directories(dir_, ec);
    if (ec)
        return R::failure("cannot make the job pool folder " + dir_.string() + ": " + ec.message());
    const auto status = fs::symlink_status(dir_, ec);
    if (fs::is_symlink(status))
        return R::failure("the job pool folder " + dir_.string() + " is a link" + fix);
    if (!fs::is_directory(status))
        return R::failure("the job pool folder " + dir_.string() + " is not a folder" + fix);
    return R::success(true);
#else
    // Each missing part is made 0700: <temp>/headroom-<uid> as much as pool.
    fs::path made;
    for (const auto& part : dir_) {
        made /= part;
        if (::mkdir(made.c_str(), 0700) != 0 && errno != EEXIST)
            return R::failure("cannot make the job pool folder " + made.string() + ": " +
                              std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(dir_.c_str(), &st) != 0)
        return R::failure("cannot read the job pool folder " + dir_.string() + ": " + std::strerror(errno));
    if (S_ISLNK(st.st_mode))
        return R::failure("the job pool folder " + dir_.string() + " is a symbolic link" + fix);
    if (!S_ISDIR(st.st_mode))
        return R::failure("the job pool folder " + dir_.string() + " is not a folder" + fix);
    const uid_t me = ::geteuid();
    if (st.st_uid != me)
        return R::failure("the job pool folder " + dir_.string() + " belongs to another user (uid " +
                          std::to_string(st.st_uid) + ")" + fix);
    // Whoever owns the folder above could swap this one: only the user or root.
    struct stat parent {};
    const fs::path above = dir_.has_parent_path() ? dir_.parent_path() : fs::path("/");
    if (::stat(above.c_str(), &parent) == 0 && parent.st_uid != me && parent.st_uid != 0)
        return R::failure("the job pool folder's parent " + above.string() +
                          " belongs to another user (uid " + std::to_string(parent.st_uid) + ")" + fix);
    if ((st.st_mode & 0077) != 0 && ::chmod(dir_.c_str(), 0700) != 0)
        return R::failure("cannot make the job pool folder " + dir_.string() +
                          " private: " + std::strerror(errno));
    return R::success(true);
#endif
}

Result<PoolState> JobPool::update(const std::function<void(PoolState&)>& change,
                                  std::chrono::milliseconds timeout) const
{
    using R = Result<PoolState>;
    auto lock = LedgerLock::take(dir_ / kLock, timeout);
    if (!lock)
        return R::failure(lock.error());
    const fs::path path = dir_ / kLedger;
    PoolState state;
    auto text = readLedger(path);
    bool damaged = !text;
    if (text && text.value()) {
        auto parsed = parsePoolState(*text.value());
        if (parsed)
            state = std::move(parsed.value());
        else
            damaged = true;
    }
    if (damaged) {
        // Kept for whoever wants to know what was there; the pool starts afresh.
        std::error_code ec;
        fs::path aside = path;
        aside += ".corrupt";
        fs::remove(aside, ec);
        fs::rename(path, aside, ec);
        if (ec)
            fs::remove(path, ec);
        state = PoolState{};
    }
    dropGone(state, dir_);
    state.cpus = machineCpus();
    if (change)
        change(state);
    if (state.members.size() > kMaxMembers)
        state.members.resize(kMaxMembers);
    state.updatedMs = nowMs();
    auto written = writeFileAtomically(path, toJson(state));
    if (!written)
        return R::failure(written.error());
    return R::success(std::move(state));
}

Result<PoolState> JobPool::read() const
{
    using R = Result<PoolState>;
    auto text = readLedger(dir_ / kLedger);
    if (!text)
        return R::failure(text.error());
    if (!text.value()) {
        PoolState empty;
        empty.cpus = machineCpus();
        return R::success(empty);
    }
    auto state = parsePoolState(*text.value());
    if (!state)
        return R::failure(state.error() + " (" + (dir_ / kLedger).string() + ")");
    dropGone(state.value());
    return state;
}

Result<PoolState> JobPool::leave(std::string_view runId) const
{
    const std::string id(runId);
    return update([&id](PoolState& state) {
        std::erase_if(state.members, [&id](const PoolMember& m) { return m.runId == id; });
    });
}

} // namespace headroom
