// SPDX-License-Identifier: Apache-2.0
#include "agent/http_client.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace sihlicon::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

HttpUrl parse_http_url(std::string_view url) {
    const auto bad = [&](std::string_view why) {
        return Error::invalid("url", printable(url, 256), why);
    };
    HttpUrl parsed;
    std::string_view rest;
    if (url.starts_with("https://")) {
        parsed.tls = true;
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        throw bad("must start with http:// or https://");
    }
    if (rest.ends_with('/')) {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
        throw bad("must be http(s)://HOST[:PORT], without path, query or user");
    }
    std::string_view port;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            throw bad("has an unclosed [");
        }
        parsed.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                throw bad("has text after the ]");
            }
            port = rest.substr(1);
        }
    } else {
        const auto colon = rest.find(':');
        parsed.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
        }
    }
    if (parsed.host.empty()) {
        throw bad("names no host");
    }
    if (port.empty()) {
        parsed.port = parsed.tls ? "443" : "80";
    } else {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (error != std::errc() || end != port.data() + port.size() || value == 0 ||
            value > 65535) {
            throw bad("has a port that is not 1..65535");
        }
        parsed.port = std::to_string(value);
    }
    return parsed;
}

std::string HttpResult::header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
}

namespace {

// One connection, with an io_context of its own: each operation runs async with the stream's
// expiry (Beast's timeouts), then the context is run to completion on the caller's thread.
struct Connection {
    asio::io_context io;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    std::optional<beast::tcp_stream> plain;
    beast::flat_buffer buffer;

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    void run() {
        io.restart();
        io.run();
    }
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code error;
    asio::ip::make_address(host, error);
    return !error;
}

}  // namespace

struct HttpClient::Impl {
    HttpClientOptions options;
    std::optional<ssl::context> tls_context;
    std::mutex mutex;
    std::vector<std::unique_ptr<Connection>> idle;
    std::mt19937_64 random{std::random_device{}()};

    std::unique_ptr<Connection> take() {
        std::lock_guard lock(mutex);
        if (idle.empty()) {
            return nullptr;
        }
        auto connection = std::move(idle.back());
        idle.pop_back();
        return connection;
    }

    void give_back(std::unique_ptr<Connection> connection) {
        std::lock_guard lock(mutex);
        idle.push_back(std::move(connection));
    }

    std::unique_ptr<Connection> connect() {
        auto connection = std::make_unique<Connection>();
        auto& c = *connection;
        tcp::resolver resolver(c.io);
        beast::error_code error;
        tcp::resolver::results_type endpoints;
        resolver.async_resolve(options.url.host, options.url.port,
                               [&](beast::error_code ec, tcp::resolver::results_type results) {
                                   error = ec;
                                   endpoints = std::move(results);
                               });
        c.run();
        if (error) {
            throw beast::system_error(error);
        }
        if (tls_context) {
            c.tls.emplace(c.io, *tls_context);
        } else {
            c.plain.emplace(c.io);
        }
        auto& stream = c.lowest();
        stream.expires_after(options.connect_timeout);
        stream.async_connect(endpoints,
                             [&](beast::error_code ec, const tcp::endpoint&) { error = ec; });
        c.run();
        if (error) {
            throw beast::system_error(error);
        }
        if (c.tls) {
            SSL* native = c.tls->native_handle();
            auto* param = SSL_get0_param(native);
            if (is_ip_literal(options.url.host)) {
                X509_VERIFY_PARAM_set1_ip_asc(param, options.url.host.c_str());
            } else {
                // SSL_set_tlsext_host_name without its C cast (SNI).
                SSL_ctrl(native, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                         const_cast<char*>(options.url.host.c_str()));
                X509_VERIFY_PARAM_set1_host(param, options.url.host.c_str(), 0);
            }
            c.tls->async_handshake(ssl::stream_base::client,
                                   [&](beast::error_code ec) { error = ec; });
            c.run();
            if (error) {
                throw beast::system_error(error);
            }
        }
        return connection;
    }

    HttpResult exchange(Connection& c, const http::request<http::string_body>& request) {
        beast::error_code error;
        c.lowest().expires_after(options.request_timeout);
        const auto done = [&](beast::error_code ec, std::size_t) { error = ec; };
        if (c.tls) {
            http::async_write(*c.tls, request, done);
        } else {
            http::async_write(*c.plain, request, done);
        }
        c.run();
        if (error) {
            throw beast::system_error(error);
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(options.max_response_bytes);
        if (c.tls) {
            http::async_read(*c.tls, c.buffer, parser, done);
        } else {
            http::async_read(*c.plain, c.buffer, parser, done);
        }
        c.run();
        if (error) {
            throw beast::system_error(error);
        }
        auto response = parser.release();
        HttpResult result;
        result.status = static_cast<int>(response.result_int());
        for (const auto& field : response) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            result.headers[name] = std::string(field.value());
        }
        result.body = std::move(response.body());
        if (!response.keep_alive()) {
            result.headers["connection"] = "close";
        }
        return result;
    }

    milliseconds jittered(milliseconds delay) {
        std::lock_guard lock(mutex);
        std::uniform_real_distribution<double> factor(0.5, 1.5);
        return milliseconds(
            static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor(random)));
    }
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    if (impl_->options.url.tls) {
        auto& context = impl_->tls_context.emplace(ssl::context::tls_client);
        context.set_verify_mode(ssl::verify_peer);
        boost::system::error_code error;
        if (impl_->options.ca_file.empty()) {
            context.set_default_verify_paths(error);
        } else {
            context.load_verify_file(impl_->options.ca_file.string(), error);
        }
        if (error) {
            throw Error::invalid("caFile", impl_->options.ca_file.string(),
                                 fmt::format("cannot be loaded: {}", error.message()));
        }
    }
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(std::string_view method, std::string_view target,
                               std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               milliseconds budget) {
    auto& impl = *impl_;
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, impl.options.url.host + ":" + impl.options.url.port);
    request.set(http::field::user_agent, "sihlicon-agent");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    request.body() = std::string(body);
    request.keep_alive(true);
    request.prepare_payload();

    const auto start = std::chrono::steady_clock::now();
    auto delay = impl.options.retry_initial;
    std::string last_problem;
    while (true) {
        // A kept-alive connection the server has closed meanwhile fails at once: one more
        // try on a new connection is not a retry.
        for (int fresh = 0; fresh < 2; ++fresh) {
            auto connection = fresh == 0 ? impl.take() : nullptr;
            const bool reused = connection != nullptr;
            try {
                if (!connection) {
                    connection = impl.connect();
                }
                auto result = impl.exchange(*connection, request);
                if (result.header("connection") != "close") {
                    impl.give_back(std::move(connection));
                }
                if (result.status != 503) {
                    return result;
                }
                last_problem = fmt::format("503: {}", printable(result.body, 200));
                if (std::chrono::steady_clock::now() - start + delay > budget) {
                    return result;
                }
                break;
            } catch (const beast::system_error& error) {
                last_problem = error.code().message();
                if (reused) {
                    continue;
                }
                break;
            }
        }
        if (std::chrono::steady_clock::now() - start + delay > budget) {
            throw Error(ErrorCode::io,
                        fmt::format("{} {} to {}:{}: {}", method, printable(target, 200),
                                    impl.options.url.host, impl.options.url.port, last_problem),
                        "server");
        }
        std::this_thread::sleep_for(impl.jittered(delay));
        delay = std::min(delay * 2, impl.options.retry_max);
    }
}

}  // namespace sihlicon::net
