// SPDX-License-Identifier: Apache-2.0
//
// A small HTTP/1.1 client over Boost.Beast (TLS through OpenSSL) for the remote hub link
// (hub_link.hpp): keep-alive connections reused between requests, connect and request
// timeouts, and retries with exponential back-off and jitter on connection errors, timeouts
// and 503 answers (never on another status). Not installed.
//
// TLS: the server's certificate is verified against the CA file given (else the system's
// trust store) and must name the URL's host (its DNS name, or its IP address for a literal).
//
// Thread safety: request() may be called from several threads at once; each call uses a
// connection of its own (idle ones are kept for the next call).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
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

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon::net
