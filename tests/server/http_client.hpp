// SPDX-License-Identifier: Apache-2.0
//
// A small HTTP/1.1 client over a raw socket (optionally TLS through OpenSSL) for the server's
// tests: it sends exactly the bytes a test gives, so malformed, partial and oversized
// requests can be written, and reads one response at a time with a deadline.
#pragma once

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sihlicon::testing {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class HttpClient {
  public:
    // Connects to 127.0.0.1:port; with `trusted_certificate`, speaks TLS and verifies the
    // server's certificate against that file and the address 127.0.0.1.
    explicit HttpClient(std::uint16_t port, const std::string& trusted_certificate = {}) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            throw std::runtime_error("cannot connect");
        }
        if (!trusted_certificate.empty()) {
            context_ = SSL_CTX_new(TLS_client_method());
            SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
            if (SSL_CTX_load_verify_locations(context_, trusted_certificate.c_str(), nullptr) !=
                1) {
                throw std::runtime_error("cannot load the test certificate");
            }
            X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(context_), "127.0.0.1");
            ssl_ = SSL_new(context_);
            SSL_set_fd(ssl_, fd_);
            if (SSL_connect(ssl_) != 1) {
                throw std::runtime_error("TLS handshake failed");
            }
        }
    }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    ~HttpClient() {
        if (ssl_ != nullptr) {
            SSL_free(ssl_);
        }
        if (context_ != nullptr) {
            SSL_CTX_free(context_);
        }
        ::close(fd_);
    }

    // Sends the bytes; false when the connection refused them (closed or reset).
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto sent = ssl_ != nullptr
                                  ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                                  : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (sent <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(sent));
        }
        return true;
    }

    // Reads one response; nullopt when the connection closes or `timeout` passes first.
    std::optional<HttpResponse> read_response(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t header_end;
        while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill(deadline)) {
                return std::nullopt;
            }
        }
        HttpResponse response;
        const std::string head = pending_.substr(0, header_end);
        pending_.erase(0, header_end + 4);
        std::size_t line_end = head.find("\r\n");
        const std::string status_line = head.substr(0, line_end);
        if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.1 ")) {
            throw std::runtime_error("bad status line: " + status_line);
        }
        response.status = std::stoi(status_line.substr(9, 3));
        while (line_end != std::string::npos) {
            const auto start = line_end + 2;
            line_end = head.find("\r\n", start);
            const auto line = head.substr(
                start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const auto colon = line.find(':');
            std::string name = line.substr(0, colon);
            for (auto& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            response.headers[name] = value;
        }
        const auto declared = response.header("content-length");  // none in a 1xx answer
        const auto length =
            declared.empty() ? std::size_t{0} : static_cast<std::size_t>(std::stoull(declared));
        while (pending_.size() < length) {
            if (!fill(deadline)) {
                return std::nullopt;
            }
        }
        response.body = pending_.substr(0, length);
        pending_.erase(0, length);
        return response;
    }

    // True when the server closes the connection within `timeout` (nothing more to read).
    bool closed_within(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto before = pending_.size();
            if (!fill(deadline)) {
                return closed_;
            }
            if (pending_.size() == before) {
                return closed_;
            }
        }
    }

  private:
    // Reads what arrives before the deadline; false on close, error or timeout.
    bool fill(std::chrono::steady_clock::time_point deadline) {
        if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd descriptor{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) {
                return false;
            }
        }
        char buffer[16384];
        const auto got = ssl_ != nullptr ? SSL_read(ssl_, buffer, sizeof buffer)
                                         : ::recv(fd_, buffer, sizeof buffer, 0);
        if (got <= 0) {
            closed_ = true;
            return false;
        }
        pending_.append(buffer, static_cast<std::size_t>(got));
        return true;
    }

    int fd_ = -1;
    SSL_CTX* context_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string pending_;
    bool closed_ = false;
};

// A request with a Host header and, when given, a bearer token and a Content-Length body.
inline std::string request(std::string_view method, std::string_view target,
                           std::string_view token = {}, std::string_view body = {},
                           std::string_view extra_headers = {}) {
    std::string text =
        std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n";
    if (!token.empty()) {
        text += "Authorization: Bearer " + std::string(token) + "\r\n";
    }
    if (!body.empty() || method == "POST") {
        text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    text += std::string(extra_headers) + "\r\n" + std::string(body);
    return text;
}

}  // namespace sihlicon::testing
