// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The exporter's HTTP/1.1 server: small on purpose. GET and HEAD only, one
// request per connection (Connection: close), a thread per connection up to
// a cap, and every limit a hostile client could push against bounded: the
// request head (8 KiB, else 431), the time to send it (5 s, else 408), the
// connections at once (else 503). POSIX sockets and Winsock.

#include "headroom/Result.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace headroom::cli {

struct HttpResponse {
    int status = 200;
    std::string contentType = "text/plain; charset=utf-8";
    std::string body;
};

struct HttpServerOptions {
    std::size_t maxHeadBytes = 8 * 1024;
    std::chrono::milliseconds readTimeout{5000};
    std::chrono::milliseconds writeTimeout{5000};
    unsigned maxConnections = 16;
};

// Where to listen: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464",
// "localhost:9464"; a port alone ("9464", ":9464") is loopback.
struct ListenAddress {
    std::string host; // numeric or a name; without the brackets
    std::string port;
    std::string text() const; // as a person writes it: host:port, [v6]:port
};
Result<ListenAddress> parseListenAddress(const std::string& text);

class HttpServer {
  public:
    // GET/HEAD of `path` (the target without its query): the response.
    using Handler = std::function<HttpResponse(const std::string& path)>;

    HttpServer(Handler handler, HttpServerOptions options = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens. Failure in words: the port in use, an address
    // that is not this machine's, no permission for a low port.
    Result<bool> listen(const ListenAddress& address);
    // The address actually bound (the port chosen when 0 was asked for).
    std::string boundAddress() const;
    // Accepts and serves until `stop` is set; returns within ~250 ms of it.
    void serve(const std::atomic<bool>& stop);

  private:
    struct Shared;
    Handler handler_;
    HttpServerOptions options_;
    std::intptr_t socket_ = -1;
    std::string bound_;
    std::shared_ptr<Shared> shared_;
};

} // namespace headroom::cli
