// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/MetricsServer.h"

#include "headroom/SafeText.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace headroom::cli {

namespace {

#ifdef _WIN32
using Socket = SOCKET;
const Socket kNoSocket = INVALID_SOCKET;
using PollFd = WSAPOLLFD;
constexpr int kSendFlags = 0;

void closeSocket(Socket s)
{
    ::closesocket(s);
}
int pollOne(PollFd* fd, int timeoutMs)
{
    return ::WSAPoll(fd, 1, timeoutMs);
}
int lastError()
{
    return ::WSAGetLastError();
}
bool wouldBlock(int error)
{
    return error == WSAEWOULDBLOCK;
}
bool addressInUse(int error)
{
    return error == WSAEADDRINUSE;
}
bool notPermitted(int error)
{
    return error == WSAEACCES;
}
bool notHere(int error)
{
    return error == WSAEADDRNOTAVAIL;
}
std::string errorText(int error)
{
    char* text = nullptr;
    ::FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                         FORMAT_MESSAGE_IGNORE_INSERTS,
                     nullptr, DWORD(error), 0, reinterpret_cast<char*>(&text), 0, nullptr);
    std::string out = text ? text : "error " + std::to_string(error);
    if (text)
        ::LocalFree(text);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
        out.pop_back();
    return out;
}
void setNonBlocking(Socket s)
{
    u_long on = 1;
    ::ioctlsocket(s, FIONBIO, &on);
}
constexpr int kShutWrite = SD_SEND;
struct WinsockUser {
    WinsockUser()
    {
        WSADATA data;
        ::WSAStartup(MAKEWORD(2, 2), &data);
    }
};
#else
using Socket = int;
constexpr Socket kNoSocket = -1;
using PollFd = pollfd;
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL; // a client gone mid-answer is no SIGPIPE
#else
constexpr int kSendFlags = 0; // macOS: SO_NOSIGPIPE on each socket
#endif

void closeSocket(Socket s)
{
    ::close(s);
}
int pollOne(PollFd* fd, int timeoutMs)
{
    return ::poll(fd, 1, timeoutMs);
}
int lastError()
{
    return errno;
}
bool wouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}
bool addressInUse(int error)
{
    return error == EADDRINUSE;
}
bool notPermitted(int error)
{
    return error == EACCES || error == EPERM;
}
bool notHere(int error)
{
    return error == EADDRNOTAVAIL;
}
std::string errorText(int error)
{
    return std::strerror(error);
}
void setNonBlocking(Socket s)
{
    const int flags = ::fcntl(s, F_GETFL, 0);
    ::fcntl(s, F_SETFL, flags | O_NONBLOCK);
    ::fcntl(s, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
    int on = 1;
    ::setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
}
constexpr int kShutWrite = SHUT_WR;
#endif

using Clock = std::chrono::steady_clock;

int msUntil(Clock::time_point deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : int(std::min<long long>(left, 60000));
}

// Waits for `events` until the deadline: true when the socket is ready.
bool waitFor(Socket s, short events, Clock::time_point deadline)
{
    for (;;) {
        const int wait = msUntil(deadline);
        if (wait == 0)
            return false;
        PollFd fd{};
        fd.fd = s;
        fd.events = events;
        const int ready = pollOne(&fd, wait);
        if (ready > 0)
            return true;
        if (ready < 0 && !wouldBlock(lastError()))
            return false;
    }
}

bool sendAll(Socket s, std::string_view data, Clock::time_point deadline)
{
    while (!data.empty()) {
        const int chunk = int(std::min<std::size_t>(data.size(), 1 << 20));
        const auto sent = ::send(s, data.data(), chunk, kSendFlags);
        if (sent > 0) {
            data.remove_prefix(std::size_t(sent));
            continue;
        }
        if (sent < 0 && wouldBlock(lastError()) && waitFor(s, POLLOUT, deadline))
            continue;
        return false;
    }
    return true;
}

std::string_view reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

std::string responseText(const HttpResponse& r, bool withBody)
{
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reasonPhrase(r.status)) +
                      "\r\nContent-Type: " + r.contentType +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (r.status == 405)
        out += "Allow: GET, HEAD\r\n";
    out += "\r\n";
    if (withBody)
        out += r.body;
    return out;
}

HttpResponse plain(int status, std::string body)
{
    return {status, "text/plain; charset=utf-8", std::move(body)};
}

// After the answer: no more to send, and whatever the client still sends is
// read and dropped for a moment, so that closing does not reset the
// connection before the client has read the answer.
void closeGracefully(Socket s)
{
    ::shutdown(s, kShutWrite);
    const auto deadline = Clock::now() + std::chrono::milliseconds(500);
    char sink[4096];
    std::size_t drained = 0;
    while (drained < (256u << 10) && waitFor(s, POLLIN, deadline)) {
        const auto n = ::recv(s, sink, sizeof sink, 0);
        if (n <= 0)
            break;
        drained += std::size_t(n);
    }
    closeSocket(s);
}

bool isToken(std::string_view word)
{
    if (word.empty())
        return false;
    for (char c : word)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    return true;
}

} // namespace

struct HttpServer::Shared {
    std::atomic<unsigned> active{0};
#ifdef _WIN32
    WinsockUser winsock;
#endif
};

std::string ListenAddress::text() const
{
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

Result<ListenAddress> parseListenAddress(const std::string& text)
{
    using R = Result<ListenAddress>;
    const auto validPort = [](const std::string& port) {
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
            return false;
        return std::stoul(port) <= 65535;
    };
    const std::string shown = safeText(text, 80);
    ListenAddress a;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return R::failure("wants [IPv6]:PORT such as [::1]:9464, not \"" + shown + "\"");
        a.host = text.substr(1, close - 1);
        a.port = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
        a.host = text.substr(0, colon);
        a.port = text.substr(colon + 1);
        if (a.host.find(':') != std::string::npos)
            return R::failure("wants an IPv6 address in brackets, such as [::1]:9464, not \"" + shown + "\"");
    } else {
        a.port = text;
    }
    if (!validPort(a.port))
        return R::failure("wants ADDRESS:PORT with a port from 0 to 65535, such as 127.0.0.1:9464, not \"" +
                          shown + "\"");
    if (a.host.empty())
        a.host = "127.0.0.1"; // a port alone: this machine only
    for (char c : a.host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '%' ||
              c == '_'))
            return R::failure("\"" + shown + "\" does not name an address");
    return R::success(a);
}

HttpServer::HttpServer(Handler handler, HttpServerOptions options)
    : handler_(std::move(handler)), options_(options), shared_(std::make_shared<Shared>())
{
}

HttpServer::~HttpServer()
{
    if (socket_ != -1)
        closeSocket(static_cast<Socket>(socket_));
    // Connections end within their timeouts; a moment is enough for the ones
    // answering now. The rest keep `shared_` alive until they end.
    for (int i = 0; i < 100 && shared_->active.load() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

std::string HttpServer::boundAddress() const
{
    return bound_;
}

Result<bool> HttpServer::listen(const ListenAddress& address)
{
    using R = Result<bool>;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string where = address.text();
    if (const int error = ::getaddrinfo(address.host.c_str(), address.port.c_str(), &hints, &found);
        error != 0 || !found) {
#ifdef _WIN32
        const std::string why = errorText(error);
#else
        const std::string why = ::gai_strerror(error);
#endif
        return R::failure("cannot listen on " + safeText(where, 120) + ": " + why);
    }
    std::string problem;
    Socket s = kNoSocket;
    for (addrinfo* ai = found; ai && s == kNoSocket; ai = ai->ai_next) {
        s = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == kNoSocket) {
            problem = errorText(lastError());
            continue;
        }
        int on = 1;
#ifdef _WIN32
        // Windows lets SO_REUSEADDR take a port another program listens on.
        ::setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on), sizeof on);
#else
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
#endif
        if (::bind(s, ai->ai_addr, int(ai->ai_addrlen)) != 0 || ::listen(s, 64) != 0) {
            const int error = lastError();
            if (addressInUse(error))
                problem = "the port is in use (is another exporter running? choose another with --listen)";
            else if (notPermitted(error))
                problem = "not permitted (ports below 1024 need privileges)";
            else if (notHere(error))
                problem = "that address is not one of this machine's";
            else
                problem = errorText(error);
            closeSocket(s);
            s = kNoSocket;
        }
    }
    ::freeaddrinfo(found);
    if (s == kNoSocket)
        return R::failure("cannot listen on " + safeText(where, 120) + ": " + problem);
    setNonBlocking(s);
    socket_ = static_cast<std::intptr_t>(s);

    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    bound_ = where;
    if (::getsockname(s, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
        char host[INET6_ADDRSTRLEN] = {};
        unsigned port = 0;
        if (bound.ss_family == AF_INET6) {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&bound);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
            port = ntohs(v6->sin6_port);
            bound_ = "[" + std::string(host) + "]:" + std::to_string(port);
        } else if (bound.ss_family == AF_INET) {
            const auto* v4 = reinterpret_cast<const sockaddr_in*>(&bound);
            ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
            port = ntohs(v4->sin_port);
            bound_ = std::string(host) + ":" + std::to_string(port);
        }
    }
    return R::success(true);
}

namespace {

void answer(Socket c, const HttpResponse& response, bool withBody, const HttpServerOptions& options)
{
    sendAll(c, responseText(response, withBody), Clock::now() + options.writeTimeout);
    closeGracefully(c);
}

void serveConnection(Socket c, const HttpServer::Handler& handler, const HttpServerOptions& options)
{
    const auto deadline = Clock::now() + options.readTimeout;
    std::string head;
    std::size_t end = std::string::npos;
    char buffer[2048];
    for (;;) {
        end = head.find("\r\n\r\n");
        if (end == std::string::npos)
            end = head.find("\n\n"); // bare LF, as some hand-written clients send
        if (end != std::string::npos && end <= options.maxHeadBytes)
            break;
        if (head.size() > options.maxHeadBytes)
            return answer(c, plain(431, "The request head is larger than 8 KiB.\n"), true, options);
        if (!waitFor(c, POLLIN, deadline)) {
            if (msUntil(deadline) == 0)
                return answer(c, plain(408, "The request took too long to arrive.\n"), true, options);
            return closeSocket(c);
        }
        const auto n = ::recv(c, buffer, int(sizeof buffer), 0);
        if (n == 0)
            return closeSocket(c); // the client went away
        if (n < 0) {
            if (wouldBlock(lastError()))
                continue;
            return closeSocket(c);
        }
        head.append(buffer, std::size_t(n));
    }

    std::string_view line(head.data(), head.find('\n'));
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    const auto firstSpace = line.find(' ');
    const auto secondSpace =
        firstSpace == std::string_view::npos ? firstSpace : line.find(' ', firstSpace + 1);
    if (secondSpace == std::string_view::npos)
        return answer(c, plain(400, "That is not an HTTP request.\n"), true, options);
    const std::string_view method = line.substr(0, firstSpace);
    const std::string_view target = line.substr(firstSpace + 1, secondSpace - firstSpace - 1);
    const std::string_view version = line.substr(secondSpace + 1);
    if (!isToken(method) || target.empty() || target.front() != '/' ||
        (version != "HTTP/1.1" && version != "HTTP/1.0"))
        return answer(c, plain(400, "That is not an HTTP/1.1 request.\n"), true, options);
    const bool head_ = method == "HEAD";
    if (method != "GET" && !head_)
        return answer(c, plain(405, "Only GET (and HEAD) are served here.\n"), true, options);
    const std::string path(target.substr(0, target.find_first_of("?#")));
    HttpResponse response;
    try {
        response = handler(path);
    } catch (const std::exception& e) {
        response = plain(500, "The metrics could not be gathered: " + safeText(e.what(), 200) + "\n");
    }
    answer(c, response, !head_, options);
}

} // namespace

void HttpServer::serve(const std::atomic<bool>& stop)
{
    if (socket_ == -1)
        return;
    const Socket listener = static_cast<Socket>(socket_);
    while (!stop.load()) {
        PollFd fd{};
        fd.fd = listener;
        fd.events = POLLIN;
        if (pollOne(&fd, 250) <= 0)
            continue;
        const Socket c = ::accept(listener, nullptr, nullptr);
        if (c == kNoSocket)
            continue;
        setNonBlocking(c);
        if (shared_->active.load() >= options_.maxConnections) {
            // Busy: a short answer now rather than a queue a slow client holds up.
            char sink[4096];
            ::recv(c, sink, sizeof sink, 0);
            sendAll(c, responseText(plain(503, "Too many connections at once; try again.\n"), true),
                    Clock::now() + std::chrono::milliseconds(200));
            ::shutdown(c, kShutWrite);
            closeSocket(c);
            continue;
        }
        ++shared_->active;
        try {
            std::thread([c, handler = handler_, options = options_, shared = shared_] {
                serveConnection(c, handler, options);
                --shared->active;
            }).detach();
        } catch (const std::system_error&) {
            --shared_->active;
            sendAll(c, responseText(plain(503, "No thread to answer with; try again.\n"), true),
                    Clock::now() + std::chrono::milliseconds(200));
            closeSocket(c);
        }
    }
}

} // namespace headroom::cli
