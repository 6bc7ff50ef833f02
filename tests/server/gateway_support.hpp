// SPDX-License-Identifier: Apache-2.0
//
// What the IPFS gateway's tests share: content put on the fixture's hub, a CAR read back into
// its sections, and a GET whose body is written to a file as it arrives (for large bodies).
#pragma once

#include "server/storage_support.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace sihlicon::testing {

// Bytes that differ from block to block: byte i of a content is a function of i and `seed`.
inline std::vector<std::uint8_t> pattern_bytes(std::size_t size, std::uint32_t seed = 1) {
    std::vector<std::uint8_t> bytes(size);
    std::uint32_t state = seed * 2654435761u + 1;
    for (auto& byte : bytes) {
        state = state * 1103515245u + 12345u;
        byte = static_cast<std::uint8_t>(state >> 24);
    }
    return bytes;
}

// A CAR v1 read back: its header's bytes and its sections (CID text, block bytes) in order.
struct CarSections {
    std::vector<std::uint8_t> header;
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> blocks;
};

inline std::uint64_t read_varint(const std::string& bytes, std::size_t& at) {
    std::uint64_t value = 0;
    for (int shift = 0; at < bytes.size(); shift += 7) {
        const auto byte = static_cast<std::uint8_t>(bytes[at++]);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return value;
        }
    }
    throw std::runtime_error("truncated varint");
}

inline CarSections read_car(const std::string& bytes) {
    CarSections car;
    std::size_t at = 0;
    const auto header_size = read_varint(bytes, at);
    car.header.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                      bytes.begin() + static_cast<std::ptrdiff_t>(at + header_size));
    at += header_size;
    while (at < bytes.size()) {
        const auto size = read_varint(bytes, at);
        const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data() + at);
        const auto cid = Cid::from_bytes(std::span(data, 36));  // CIDv1, sha2-256
        car.blocks.emplace_back(cid.to_string(), std::vector<std::uint8_t>(data + 36, data + size));
        at += size;
    }
    return car;
}

// A response whose body went to a file.
struct Downloaded {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::uint64_t length = 0;                    // bytes of body received
};

// Sends `request_text` on a new connection and writes the response's body (Content-Length
// framed) to `path` piece by piece.
inline Downloaded download(std::uint16_t port, const std::string& request_text,
                           const std::filesystem::path& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::send(fd, request_text.data(), request_text.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request_text.size()));
    std::vector<char> buffer(256 * 1024);
    const auto receive = [&]() -> std::size_t {
        pollfd descriptor{fd, POLLIN, 0};
        if (::poll(&descriptor, 1, 60'000) <= 0) {
            return 0;
        }
        const auto got = ::recv(fd, buffer.data(), buffer.size(), 0);
        return got > 0 ? static_cast<std::size_t>(got) : 0;
    };
    std::string head;
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
        const auto got = receive();
        REQUIRE(got > 0);
        head.append(buffer.data(), got);
        header_end = head.find("\r\n\r\n");
    }
    Downloaded result;
    result.status = std::stoi(head.substr(9, 3));
    std::size_t line = head.find("\r\n");
    while (line < header_end) {
        const auto next = head.find("\r\n", line + 2);
        const auto text = head.substr(line + 2, next - line - 2);
        const auto colon = text.find(':');
        std::string name = text.substr(0, colon);
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        result.headers[name] = text.substr(text.find_first_not_of(' ', colon + 1));
        line = next;
    }
    const std::uint64_t expected = std::stoull(result.headers.at("content-length"));
    std::ofstream out(path, std::ios::binary);
    out.write(head.data() + header_end + 4,
              static_cast<std::streamsize>(head.size() - header_end - 4));
    result.length = head.size() - header_end - 4;
    while (result.length < expected) {
        const auto got = receive();
        REQUIRE(got > 0);
        out.write(buffer.data(), static_cast<std::streamsize>(got));
        result.length += got;
    }
    ::close(fd);
    return result;
}

// Sends `request_text` (which should ask for Connection: close) and returns every byte the
// server sends until it closes the connection.
inline std::string exchange(std::uint16_t port, const std::string& request_text) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::send(fd, request_text.data(), request_text.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request_text.size()));
    std::string all;
    std::vector<char> buffer(64 * 1024);
    while (true) {
        pollfd descriptor{fd, POLLIN, 0};
        REQUIRE(::poll(&descriptor, 1, 30'000) > 0);
        const auto got = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (got <= 0) {
            break;
        }
        all.append(buffer.data(), static_cast<std::size_t>(got));
    }
    ::close(fd);
    return all;
}

// Whether two files hold the same bytes (compared piece by piece).
inline bool same_files(const std::filesystem::path& a, const std::filesystem::path& b) {
    if (std::filesystem::file_size(a) != std::filesystem::file_size(b)) {
        return false;
    }
    std::ifstream left(a, std::ios::binary);
    std::ifstream right(b, std::ios::binary);
    std::vector<char> one(1 << 20), two(1 << 20);
    while (left && right) {
        left.read(one.data(), static_cast<std::streamsize>(one.size()));
        right.read(two.data(), static_cast<std::streamsize>(two.size()));
        if (left.gcount() != right.gcount() ||
            !std::equal(one.begin(), one.begin() + left.gcount(), two.begin())) {
            return false;
        }
    }
    return true;
}

}  // namespace sihlicon::testing
