// SPDX-License-Identifier: Apache-2.0
//
// net::HttpClient's streams against a sihlicon::Server on 127.0.0.1 with test routes: a
// request body pulled from a file (Content-Length, resent from its first byte after a 503),
// one that cannot be rewound (not resent), and a response body read in pieces.
#include "net/http_client.hpp"
#include "server/api.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/server.hpp>

#include <array>
#include <atomic>
#include <fstream>

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;
using server::Request;
using server::Response;
using server::Route;

std::string digest(std::string_view bytes) {
    return crypto::to_hex(crypto::sha256(bytes));
}

}  // namespace

TEST_CASE(
    "the HTTP client streams a file as a request body, resends it whole after a 503, never "
    "resends a body it cannot rewind, and reads an answer in pieces") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");
    Server server(hub, ServerOptions{});
    auto& api = server::api_of(server);
    std::atomic<int> calls{0};
    Route upload;
    upload.method = "POST";
    upload.pattern = "/test/upload";
    upload.public_route = true;
    upload.streaming_body = true;
    upload.handler = [&calls](const Request& request) {
        Response response;
        if (calls.fetch_add(1) == 0) {
            response.status = 503;
            response.body = R"({"error":"busy","details":{"code":"busy"}})";
            return response;
        }
        std::string body;
        const auto source = request.body_source();
        std::vector<std::uint8_t> chunk(1 << 16);
        while (const auto got = source(chunk)) {
            body.append(reinterpret_cast<const char*>(chunk.data()), got);
        }
        response.body = std::to_string(body.size()) + " " + digest(body);
        response.content_type = "text/plain";
        return response;
    };
    api.add_route(upload);
    server.start();

    net::HttpClientOptions options;
    options.url = net::parse_http_url("http://127.0.0.1:" + std::to_string(server.port()));
    options.retry_initial = 20ms;
    options.retry_max = 50ms;
    net::HttpClient client(options);

    const auto path = dir / "body.bin";
    std::string bytes(3'000'000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<char>((i * 131) >> 7);
    }
    std::ofstream(path, std::ios::binary) << bytes;
    const auto expected = std::to_string(bytes.size()) + " " + digest(bytes);

    // A file: the 503 is retried and the file is sent again from its first byte.
    const auto body = net::file_body(path);
    CHECK(body.size == bytes.size());
    auto response = client.open("POST", "/test/upload", {}, 5s, &body);
    CHECK(response.status() == 200);
    // The answer in pieces of 7 bytes.
    std::string answer;
    std::array<std::uint8_t, 7> piece{};
    while (const auto got = response.read(piece)) {
        answer.append(reinterpret_cast<const char*>(piece.data()), got);
    }
    CHECK(answer == expected);
    CHECK(calls == 2);

    // A body that cannot be rewound is not sent twice: the 503 ends the request.
    calls = 0;
    auto once = net::file_body(path);
    once.rewind = nullptr;
    try {
        auto refused = client.open("POST", "/test/upload", {}, 5s, &once);
        FAIL("a body was sent twice");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::io);
        CHECK(std::string(error.what()).find("cannot be sent again") != std::string::npos);
    }
    CHECK(calls == 1);

    // A body shorter than its declared size is not sent as if whole.
    auto shorter = net::memory_body(std::string_view(bytes).substr(0, 10));
    shorter.size = 20;
    calls = 1;  // no 503
    CHECK_THROWS_AS(client.open("POST", "/test/upload", {}, 1s, &shorter), Error);
}

}  // namespace sihlicon::testing
