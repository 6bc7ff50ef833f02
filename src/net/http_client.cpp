// SPDX-License-Identifier: Apache-2.0
#include "net/http_client.hpp"

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
#include <cstring>
#include <fstream>
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

HttpBody file_body(const std::filesystem::path& path) {
    auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    if (!*file || error) {
        throw Error(ErrorCode::io, fmt::format("cannot read {}", path.string()), "file");
    }
    HttpBody body;
    body.size = size;
    body.read = [file, path](std::span<std::uint8_t> buffer) -> std::size_t {
        file->read(reinterpret_cast<char*>(buffer.data()),
                   static_cast<std::streamsize>(buffer.size()));
        if (file->bad()) {
            throw Error(ErrorCode::io, fmt::format("cannot read {}", path.string()), "file");
        }
        return static_cast<std::size_t>(file->gcount());
    };
    body.rewind = [file] {
        file->clear();
        file->seekg(0);
    };
    return body;
}

HttpBody memory_body(std::string_view bytes) {
    auto position = std::make_shared<std::size_t>(0);
    HttpBody body;
    body.size = bytes.size();
    body.read = [bytes, position](std::span<std::uint8_t> buffer) {
        const std::size_t take = std::min(buffer.size(), bytes.size() - *position);
        std::memcpy(buffer.data(), bytes.data() + *position, take);
        *position += take;
        return take;
    };
    body.rewind = [position] { *position = 0; };
    return body;
}

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

    milliseconds jittered(milliseconds delay) {
        std::lock_guard lock(mutex);
        std::uniform_real_distribution<double> factor(0.5, 1.5);
        return milliseconds(
            static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor(random)));
    }
};

// Runs `operation(stream)` on the connection's TLS or plain stream within `timeout`, then
// throws the error it ended with (need_buffer, a buffer_body's "read more", is not one).
template <typename Operation>
void run_on(Connection& c, milliseconds timeout, Operation&& operation) {
    beast::error_code error;
    const auto done = [&](beast::error_code ec, std::size_t) { error = ec; };
    c.lowest().expires_after(timeout);
    if (c.tls) {
        operation(*c.tls, done);
    } else {
        operation(*c.plain, done);
    }
    c.run();
    if (error && error != http::error::need_buffer) {
        throw beast::system_error(error);
    }
}

struct HttpResponse::State {
    HttpClient::Impl* client = nullptr;
    std::unique_ptr<Connection> connection;
    http::response_parser<http::buffer_body> parser;
    int status = 0;
    std::map<std::string, std::string> headers;
    bool keep_alive = false;
    std::string where;  // "METHOD target to host:port", for errors

    ~State() {
        if (connection && parser.is_done() && keep_alive) {
            client->give_back(std::move(connection));
        }
    }
};

HttpResponse::HttpResponse(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpResponse::HttpResponse(HttpResponse&&) noexcept = default;
HttpResponse& HttpResponse::operator=(HttpResponse&&) noexcept = default;
HttpResponse::~HttpResponse() = default;

int HttpResponse::status() const {
    return state_->status;
}

std::string HttpResponse::header(const std::string& name) const {
    const auto found = state_->headers.find(name);
    return found == state_->headers.end() ? std::string() : found->second;
}

const std::map<std::string, std::string>& HttpResponse::headers() const {
    return state_->headers;
}

std::size_t HttpResponse::read(std::span<std::uint8_t> buffer) {
    auto& state = *state_;
    if (buffer.empty() || !state.connection) {
        return 0;
    }
    while (!state.parser.is_done()) {
        auto& body = state.parser.get().body();
        body.data = buffer.data();
        body.size = buffer.size();
        try {
            run_on(*state.connection, state.client->options.request_timeout,
                   [&](auto& stream, auto& done) {
                       http::async_read(stream, state.connection->buffer, state.parser, done);
                   });
        } catch (const beast::system_error& error) {
            state.connection.reset();
            throw Error(ErrorCode::io,
                        fmt::format("{}: reading the answer: {}", state.where,
                                    error.code() == http::error::body_limit
                                        ? fmt::format("the body exceeds {} bytes",
                                                      state.client->options.max_response_bytes)
                                        : error.code().message()),
                        "server");
        }
        const std::size_t got = buffer.size() - state.parser.get().body().size;
        if (got > 0) {
            return got;
        }
    }
    return 0;
}

std::string HttpResponse::read_all() {
    std::string all;
    std::vector<std::uint8_t> chunk(1 << 16);
    while (const std::size_t got = read(chunk)) {
        all.append(reinterpret_cast<const char*>(chunk.data()), got);
    }
    return all;
}

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

HttpResponse HttpClient::open(std::string_view method, std::string_view target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              milliseconds budget, const HttpBody* body) {
    auto& impl = *impl_;
    http::request<http::empty_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, impl.options.url.host + ":" + impl.options.url.port);
    request.set(http::field::user_agent, "sihlicon");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    if (body != nullptr) {
        request.content_length(body->size);
    }
    request.keep_alive(true);
    const std::string where = fmt::format("{} {} to {}:{}", method, printable(target, 200),
                                          impl.options.url.host, impl.options.url.port);

    const auto start = std::chrono::steady_clock::now();
    auto delay = impl.options.retry_initial;
    std::string last_problem;
    bool body_started = false;
    std::vector<std::uint8_t> chunk(body != nullptr ? std::size_t{1} << 16 : 0);
    while (true) {
        // A kept-alive connection the server has closed meanwhile fails at once: one more
        // try on a new connection is not a retry.
        for (int fresh = 0; fresh < 2; ++fresh) {
            if (body_started && !body->rewind) {
                throw Error(
                    ErrorCode::io,
                    fmt::format("{}: {} (the body cannot be sent again)", where, last_problem),
                    "server");
            }
            auto connection = fresh == 0 ? impl.take() : nullptr;
            const bool reused = connection != nullptr;
            try {
                if (!connection) {
                    connection = impl.connect();
                }
                http::request_serializer<http::empty_body> serializer(request);
                run_on(*connection, impl.options.request_timeout, [&](auto& stream, auto& done) {
                    http::async_write_header(stream, serializer, done);
                });
                if (body != nullptr) {
                    if (body_started) {
                        body->rewind();
                    }
                    body_started = true;
                    std::uint64_t sent = 0;
                    while (true) {
                        const std::size_t got = std::min(body->read(chunk), chunk.size());
                        if (got == 0) {
                            break;
                        }
                        if (got > body->size - sent) {
                            throw Error(ErrorCode::io,
                                        fmt::format("{}: the body is longer than its {} bytes",
                                                    where, body->size),
                                        "body");
                        }
                        sent += got;
                        run_on(*connection, impl.options.request_timeout,
                               [&](auto& stream, auto& done) {
                                   asio::async_write(stream, asio::buffer(chunk.data(), got), done);
                               });
                    }
                    if (sent != body->size) {
                        throw Error(ErrorCode::io,
                                    fmt::format("{}: the body ended after {} of its {} bytes",
                                                where, sent, body->size),
                                    "body");
                    }
                }
                auto state = std::make_unique<HttpResponse::State>();
                state->client = &impl;
                state->where = where;
                state->parser.body_limit(impl.options.max_response_bytes);
                if (method == "HEAD") {
                    state->parser.skip(true);
                }
                run_on(*connection, impl.options.request_timeout, [&](auto& stream, auto& done) {
                    http::async_read_header(stream, connection->buffer, state->parser, done);
                });
                const auto& head = state->parser.get();
                state->status = static_cast<int>(head.result_int());
                for (const auto& field : head) {
                    std::string name(field.name_string());
                    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) {
                        return static_cast<char>(std::tolower(ch));
                    });
                    state->headers[name] = std::string(field.value());
                }
                state->keep_alive = head.keep_alive();
                if (!state->keep_alive) {
                    state->headers["connection"] = "close";
                }
                state->connection = std::move(connection);
                HttpResponse response(std::move(state));
                if (response.status() != 503) {
                    return response;
                }
                last_problem = fmt::format("503: {}", printable(response.read_all(), 200));
                if (std::chrono::steady_clock::now() - start + delay > budget) {
                    return response;
                }
                break;
            } catch (const beast::system_error& error) {
                last_problem = error.code().message();
                if (reused && !body_started) {
                    continue;
                }
                if (reused && body->rewind) {
                    continue;
                }
                break;
            }
        }
        if (std::chrono::steady_clock::now() - start + delay > budget) {
            throw Error(ErrorCode::io, fmt::format("{}: {}", where, last_problem), "server");
        }
        std::this_thread::sleep_for(impl.jittered(delay));
        delay = std::min(delay * 2, impl.options.retry_max);
    }
}

HttpResult HttpClient::request(std::string_view method, std::string_view target,
                               std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               milliseconds budget) {
    const bool bodiless = body.empty() && (method == "GET" || method == "HEAD");
    const HttpBody content = memory_body(body);
    auto response = open(method, target, headers, budget, bodiless ? nullptr : &content);
    HttpResult result;
    result.status = response.status();
    result.headers = response.headers();
    result.body = response.read_all();
    return result;
}

}  // namespace sihlicon::net
