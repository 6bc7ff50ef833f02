// SPDX-License-Identifier: Apache-2.0
//
// Streamed bodies over real HTTP: uploads of 256 MiB (Content-Length and chunked) spooled to
// disk while the process's peak RSS stays flat, a client that disconnects or stalls
// mid-upload (no handler, no manifest, no block, no spool file), and a 256 MiB response
// produced through a test-only route and sent in chunks.
#include "server/api.hpp"
#include "server/spool.hpp"
#include "server/storage_support.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::Role;
using sihlicon::ServerOptions;
using sihlicon::testing::form_end;
using sihlicon::testing::form_part;
using sihlicon::testing::HttpClient;
using sihlicon::testing::kBoundary;
using sihlicon::testing::kRssIsMeasurable;
using sihlicon::testing::request;
using sihlicon::testing::reset_peak_rss;
using sihlicon::testing::status_kib;
using sihlicon::testing::StorageFixture;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// 256 MiB where the memory bound is checked; under the sanitizers (no bound) 32 MiB still proves
// the bytes, in a fraction of the time.
constexpr std::uint64_t kLarge = (kRssIsMeasurable ? 256 : 32) * kMiB;

// The bytes of a large body: a pseudo-random MiB, stamped with its index so that no two MiBs
// are the same (the content store would share equal blocks).
class Pattern {
  public:
    Pattern() : base_(kMiB) {
        std::uint64_t state = 0x9e3779b97f4a7c15ULL;
        for (auto& byte : base_) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            byte = static_cast<std::uint8_t>(state);
        }
    }
    // MiB number `index`.
    const std::vector<std::uint8_t>& mib(std::uint64_t index) {
        piece_ = base_;
        std::memcpy(piece_.data(), &index, sizeof index);
        return piece_;
    }
    // The byte at `offset`.
    std::uint8_t at(std::uint64_t offset) const {
        const auto index = offset / kMiB;
        const auto within = offset % kMiB;
        if (within < sizeof index) {
            return static_cast<std::uint8_t>(index >> (8 * within));
        }
        return base_[within];
    }

  private:
    std::vector<std::uint8_t> base_;
    std::vector<std::uint8_t> piece_;
};

std::string_view text_of(const std::vector<std::uint8_t>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Checks that the content `cid` holds the pattern's first `size` bytes, streaming.
void check_pattern(StorageFixture& f, const std::string& cid, std::uint64_t size) {
    Pattern pattern;
    std::uint64_t offset = 0;
    bool same = true;
    f.hub.content_store().get(cid, "ann", [&](std::span<const std::uint8_t> bytes) {
        for (const auto byte : bytes) {
            same = same && byte == pattern.at(offset++);
        }
    });
    CHECK(offset == size);
    CHECK(same);
}

// Uploads kLarge pattern bytes as the file part, with Content-Length or chunked; returns the
// answer.
sihlicon::testing::HttpResponse upload_large(StorageFixture& f, bool chunked) {
    Pattern pattern;
    const std::string head = "--" + std::string(kBoundary) +
                             "\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"large.bin\"\r\n\r\n";
    const std::string tail = "\r\n" + form_end();
    HttpClient client(f.port());
    std::string header =
        "POST /api/storage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
        "\r\nContent-Type: multipart/form-data; boundary=" + std::string(kBoundary) + "\r\n";
    header += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                      : "Content-Length: " + std::to_string(head.size() + kLarge + tail.size()) +
                            "\r\n\r\n";
    const auto piece = [&](std::string_view bytes) {
        if (chunked) {
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
            REQUIRE(client.send(size));
            REQUIRE(client.send(bytes));
            REQUIRE(client.send("\r\n"));
        } else {
            REQUIRE(client.send(bytes));
        }
    };
    REQUIRE(client.send(header));
    piece(head);
    for (std::uint64_t i = 0; i < kLarge / kMiB; ++i) {
        piece(text_of(pattern.mib(i)));
    }
    piece(tail);
    if (chunked) {
        REQUIRE(client.send("0\r\n\r\n"));
    }
    auto response = client.read_response(120'000ms);
    REQUIRE(response);
    return *response;
}

// A raw GET whose body is handed to `check` piece by piece; returns the status and the
// Content-Length, and sends a second request on the same connection to see it kept alive.
struct Streamed {
    int status = 0;
    std::uint64_t length = 0;
    std::uint64_t received = 0;
    int next_status = 0;
};

Streamed stream_get(
    std::uint16_t port, const std::string& target, const std::string& token,
    const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& check) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const auto send_all = [fd](const std::string& bytes) {
        REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
    };
    send_all(request("GET", target, token));
    std::vector<std::uint8_t> buffer(256 * 1024);
    std::string head;
    Streamed result;
    const auto receive = [&]() -> std::size_t {
        pollfd descriptor{fd, POLLIN, 0};
        if (::poll(&descriptor, 1, 30'000) <= 0) {
            return 0;
        }
        const auto got = ::recv(fd, buffer.data(), buffer.size(), 0);
        return got > 0 ? static_cast<std::size_t>(got) : 0;
    };
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
        const auto got = receive();
        REQUIRE(got > 0);
        head.append(reinterpret_cast<const char*>(buffer.data()), got);
        header_end = head.find("\r\n\r\n");
    }
    result.status = std::stoi(head.substr(9, 3));
    const auto at = head.find("Content-Length: ");
    REQUIRE(at != std::string::npos);
    result.length = std::stoull(head.substr(at + 16));
    std::string rest = head.substr(header_end + 4);
    check({reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()}, 0);
    result.received = rest.size();
    while (result.received < result.length) {
        const auto got = receive();
        REQUIRE(got > 0);
        check({buffer.data(), got}, result.received);
        result.received += got;
    }
    send_all(request("GET", "/.well-known/sihlicon.json"));
    std::string next;
    while (next.size() < 12) {
        const auto got = receive();
        REQUIRE(got > 0);
        next.append(reinterpret_cast<const char*>(buffer.data()), got);
    }
    result.next_status = std::stoi(next.substr(9, 3));
    ::close(fd);
    return result;
}

}  // namespace

TEST_CASE(
    "a 256 MiB upload, with Content-Length or chunked, is stored whole while the process's "
    "peak RSS grows by less than 64 MiB") {
    StorageFixture f;
    sihlicon::Quota quota;  // the default is 100 MB an hour
    quota.upload_bytes_per_hour = std::int64_t{1} << 40;
    f.hub.content_store().set_quota("ann", quota);
    for (const bool chunked : {false, true}) {
        CAPTURE(chunked);
        reset_peak_rss();
        const auto before = status_kib("VmHWM");
        REQUIRE(before > 0);
        const auto response = upload_large(f, chunked);
        const auto after = status_kib("VmHWM");
        REQUIRE(response.status == 200);
        MESSAGE("peak RSS grew by " << (after - before) / 1024 << " MiB");
        if (kRssIsMeasurable) {
            CHECK(after - before < 64 * 1024);
        }
        const auto manifest = boost::json::parse(response.body).at("manifest").as_object();
        CHECK(manifest.at("fileSizeBytes").as_int64() == static_cast<std::int64_t>(kLarge));
        const std::string cid(manifest.at("contentId").as_string());
        check_pattern(f, cid, kLarge);
        f.hub.content_store().remove(cid, "ann");
        CHECK(f.spool_files() == 0);
    }
}

TEST_CASE(
    "a client that disconnects mid-upload leaves no manifest, no block and no spool file; one "
    "that stalls is cut off after the read timeout") {
    ServerOptions options;
    options.read_timeout = 500ms;
    StorageFixture f(options);
    Pattern pattern;
    const std::string head = "--" + std::string(kBoundary) +
                             "\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"cut.bin\"\r\n\r\n";
    const auto header = [&](std::uint64_t length) {
        return "POST /api/storage HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + f.ann +
               "\r\nContent-Type: multipart/form-data; boundary=" + std::string(kBoundary) +
               "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
    };
    const auto wait_for_no_spool = [&] {
        for (int i = 0; i < 100 && f.spool_files() != 0; ++i) {
            std::this_thread::sleep_for(50ms);
        }
        return f.spool_files();
    };
    SUBCASE("disconnect") {
        {
            HttpClient client(f.port());
            REQUIRE(client.send(header(64 * kMiB)));
            REQUIRE(client.send(head));
            for (std::uint64_t i = 0; i < 8; ++i) {
                REQUIRE(client.send(text_of(pattern.mib(i))));
            }
            // The whole file part and even a closing boundary, but not the whole body.
            REQUIRE(client.send("\r\n" + form_end()));
            std::this_thread::sleep_for(200ms);
        }  // closed here
        CHECK(wait_for_no_spool() == 0);
    }
    SUBCASE("stall") {
        HttpClient client(f.port());
        REQUIRE(client.send(header(8 * kMiB)));
        REQUIRE(client.send(head));
        REQUIRE(client.send(text_of(pattern.mib(0)).substr(0, 1000)));
        CHECK(client.closed_within(3000ms));
        CHECK(wait_for_no_spool() == 0);
    }
    CHECK(f.hub.content_store().list("ann").empty());
    CHECK(f.hub.content_store().collect_garbage() == 0);
    // The server still serves.
    const auto fine = f.send(sihlicon::testing::upload_request(
        f.ann, form_part("file", "after", "after.txt") + form_end()));
    CHECK(fine.status == 200);
}

TEST_CASE(
    "a response produced by a handler is spooled and sent in chunks with its Content-Length; a "
    "producer that fails answers with its error; a file is sent as it is") {
    StorageFixture f({}, false);
    auto& api = sihlicon::server::api_of(*f.server);
    using sihlicon::server::Request;
    using sihlicon::server::Response;
    api.add_route({"GET", "/test/large", false, {Role::client}, [](const Request&) {
                       Response response;
                       response.content_type = "application/octet-stream";
                       response.producer = [](const sihlicon::ContentStore::ByteSink& sink) {
                           Pattern pattern;
                           for (std::uint64_t i = 0; i < kLarge / kMiB; ++i) {
                               sink(pattern.mib(i));
                           }
                       };
                       return response;
                   }});
    api.add_route({"GET", "/test/fails", false, {Role::client}, [](const Request&) {
                       Response response;
                       response.producer = [](const sihlicon::ContentStore::ByteSink& sink) {
                           sink(std::vector<std::uint8_t>(1000, 1));
                           throw Error(ErrorCode::not_found, "no content here", "contentId");
                       };
                       return response;
                   }});
    const auto file_path = f.dir / "sent.bin";
    {
        std::ofstream out(file_path, std::ios::binary);
        out << "a file sent as it is";
    }
    api.add_route({"GET", "/test/file", false, {Role::client}, [&file_path](const Request&) {
                       Response response;
                       response.file = sihlicon::server::SpoolFile::open(file_path);
                       return response;
                   }});
    f.server->start();

    Pattern pattern;
    bool same = true;
    reset_peak_rss();
    const auto before = status_kib("VmHWM");
    const auto large = stream_get(f.port(), "/test/large", f.ann,
                                  [&](std::span<const std::uint8_t> bytes, std::uint64_t offset) {
                                      for (const auto byte : bytes) {
                                          same = same && byte == pattern.at(offset++);
                                      }
                                  });
    const auto after = status_kib("VmHWM");
    CHECK(large.status == 200);
    CHECK(large.length == kLarge);
    CHECK(large.received == kLarge);
    CHECK(same);
    CHECK(large.next_status == 200);  // the connection is kept alive after it
    MESSAGE("peak RSS grew by " << (after - before) / 1024 << " MiB");
    if (kRssIsMeasurable) {
        CHECK(after - before < 64 * 1024);
    }
    CHECK(f.spool_files() == 0);

    const auto failed = f.send(request("GET", "/test/fails", f.ann));
    CHECK(failed.status == 404);
    CHECK(boost::json::parse(failed.body).at("details").at("field").as_string() == "contentId");

    const auto file = f.send(request("GET", "/test/file", f.ann));
    CHECK(file.status == 200);
    CHECK(file.body == "a file sent as it is");
    CHECK(f.spool_files() == 0);
}
