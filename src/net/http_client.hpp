// SPDX-License-Identifier: Apache-2.0
//
// A small HTTP/1.1 client over Boost.Beast (TLS through OpenSSL) for the remote hub link
// (hub_link.hpp) and the fetcher (fetcher.hpp): keep-alive connections reused between
// requests, connect and request timeouts, and retries with exponential back-off and jitter on
// connection errors, timeouts and 503 answers (never on another status). Bodies stream both
// ways: a request body is pulled from a source (a file) as it is sent, and a response body is
// read as it arrives (HttpResponse::read), never whole in memory unless asked (request()).
// Not installed.
//
// TLS: the server's certificate is verified against the CA file given (else the system's
// trust store) and must name the URL's host (its DNS name, or its IP address for a literal).
//
// Thread safety: open() and request() may be called from several threads at once; each call
// uses a connection of its own (idle ones are kept for the next call). An HttpResponse is
// used by one thread and must not outlive its client.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon::net {

// "http://HOST:PORT" or "https://HOST:PORT" (PORT optional: 80 / 443; an IPv6 literal in
// brackets; a trailing "/" allowed). Throws Error::invalid("url", ...) for anything else (a
// path, a query, user info, another scheme).
struct HttpUrl {
    bool tls = false;
    std::string host;  // without brackets
    std::string port;
};
HttpUrl parse_http_url(std::string_view url);

struct HttpClientOptions {
    HttpUrl url;
    std::filesystem::path ca_file;  // empty: the system's trust store
    std::chrono::milliseconds connect_timeout{5'000};
    // Sending the request head and reading the answer's head; then each read or write of a
    // body chunk (at most 64 KiB): a stream that makes no progress for this long fails.
    std::chrono::milliseconds request_timeout{30'000};
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{5'000};
    std::uint64_t max_response_bytes = 1ull << 30;
};

struct HttpResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case

    // The header's value, empty when absent (`name` in lower case).
    std::string header(const std::string& name) const;
};

// A request body pulled from a source as it is sent, with its length declared beforehand
// (Content-Length). The source must yield exactly `size` bytes (fewer or more is Error(io)).
struct HttpBody {
    std::uint64_t size = 0;
    // Pulls the next bytes into the buffer; returns how many, 0 at the end.
    std::function<std::size_t(std::span<std::uint8_t>)> read;
    // Puts the source back at its first byte so that the request may be sent again. Empty:
    // the body cannot be resent, and a request whose body began to go out is not retried.
    std::function<void()> rewind;
};

// The body of the file `path`, rewindable (a retry reads it again from its first byte). The
// file is opened now (Error(io) naming it if it cannot be) and read as the request goes out.
HttpBody file_body(const std::filesystem::path& path);

// The body of bytes in memory (which must outlive the request), rewindable.
HttpBody memory_body(std::string_view bytes);

// An answer whose body is read as it arrives. The connection goes back to the client's idle
// ones when the body was read to its end and the server keeps it alive; else it is closed.
class HttpResponse {
  public:
    HttpResponse(HttpResponse&&) noexcept;
    HttpResponse& operator=(HttpResponse&&) noexcept;
    ~HttpResponse();

    int status() const;
    // The header's value, empty when absent (`name` in lower case).
    std::string header(const std::string& name) const;
    const std::map<std::string, std::string>& headers() const;

    // Reads the next bytes of the body into `buffer`; returns how many, 0 at its end. Throws
    // Error(io) for a network error, a read that makes no progress within request_timeout, or
    // a body beyond max_response_bytes.
    std::size_t read(std::span<std::uint8_t> buffer);
    // The rest of the body (at most max_response_bytes).
    std::string read_all();

  private:
    friend class HttpClient;
    struct State;
    explicit HttpResponse(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

class HttpClient {
  public:
    // Throws Error::invalid("caFile", ...) when the CA file cannot be loaded.
    explicit HttpClient(HttpClientOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends the request (target: path and query) and returns the answer. Retries after a
    // connection error, a timeout or a 503 until `budget` has passed since the first attempt
    // (back-off doubling from retry_initial up to retry_max, each delay x [0.5, 1.5)); then
    // returns the last 503, or throws Error(io) naming the last connection error. Any other
    // status is returned at once.
    HttpResult request(std::string_view method, std::string_view target, std::string_view body,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       std::chrono::milliseconds budget);

    // Sends the request (with `body` when given: Content-Length is its size) and returns the
    // answer once its head has arrived, its body left to read. Retries as request() does;
    // a request with a body is retried only while no byte of it has gone out, or when the
    // body can be rewound (file_body, memory_body). After a 503 its body is read and the
    // request retried; the last 503 is returned when the budget is spent.
    HttpResponse open(std::string_view method, std::string_view target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds budget, const HttpBody* body = nullptr);

    struct Impl;  // defined in http_client.cpp

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon::net
