// SPDX-License-Identifier: Apache-2.0
//
// What the storage endpoints' tests share: a hub served on 127.0.0.1 with client, worker and
// operator tokens and a spool folder of its own, multipart bodies, and the process's peak RSS.
#pragma once

#include "server/http_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <boost/json.hpp>

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

namespace sihlicon::testing {

struct StorageFixture {
    TempDir dir;
    TempDir spool;
    Hub hub = Hub::open(dir.path());
    std::string ann, bob, bee, op;
    std::unique_ptr<Server> server;

    explicit StorageFixture(ServerOptions options = {}, bool start = true) {
        ApiTokens tokens(hub);
        ann = tokens.create(kOperatorPrincipal, "ann", Role::client).secret;
        bob = tokens.create(kOperatorPrincipal, "bob", Role::client).secret;
        bee = tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-1").secret;
        op = tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).secret;
        options.spool_directory = spool.path();
        server = std::make_unique<Server>(hub, std::move(options));
        if (start) {
            server->start();
        }
    }

    std::uint16_t port() const { return server->port(); }

    HttpResponse send(const std::string& bytes) {
        HttpClient client(port());
        REQUIRE(client.send(bytes));
        auto response = client.read_response(std::chrono::milliseconds(60'000));
        REQUIRE(response);
        return *response;
    }

    // Entries of the spool folder, and descriptors of this process open on a file there
    // (an unlinked spool file still shows as "<folder>/#123 (deleted)").
    std::size_t spool_files() const {
        std::size_t count = 0;
        for ([[maybe_unused]] const auto& entry :
             std::filesystem::directory_iterator(spool.path())) {
            ++count;
        }
        const auto folder = spool.path().string();
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
            std::error_code ignored;
            const auto target = std::filesystem::read_symlink(entry.path(), ignored).string();
            if (target.starts_with(folder)) {
                ++count;
            }
        }
        return count;
    }
};

inline constexpr std::string_view kBoundary = "sihlicon-test-boundary-7MA4YWxk";

// One form-data part.
inline std::string form_part(std::string_view name, std::string_view content,
                             std::string_view file_name = {},
                             std::string_view boundary = kBoundary) {
    std::string text = "--" + std::string(boundary) +
                       "\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"";
    if (!file_name.empty()) {
        text += "; filename=\"" + std::string(file_name) + "\"";
    }
    text += "\r\n\r\n" + std::string(content) + "\r\n";
    return text;
}

inline std::string form_end(std::string_view boundary = kBoundary) {
    return "--" + std::string(boundary) + "--\r\n";
}

// POST /api/storage with `body` and its Content-Length.
inline std::string upload_request(std::string_view token, std::string_view body,
                                  std::string_view boundary = kBoundary) {
    return request("POST", "/api/storage", token, body,
                   "Content-Type: multipart/form-data; boundary=" + std::string(boundary) + "\r\n");
}

// A field of /proc/self/status in KiB ("VmHWM", "VmRSS").
inline std::int64_t status_kib(std::string_view field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(std::string(field) + ":")) {
            return std::stoll(line.substr(field.size() + 1));
        }
    }
    return -1;
}

// Resets the peak RSS to the current RSS where the kernel allows it (clear_refs 5), so that
// VmHWM measures what comes next, not an earlier test.
inline void reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
}

// Whether the process's RSS says what the code holds: not under AddressSanitizer (its
// quarantine keeps freed memory from being reused, by design: hundreds of MiB) nor
// ThreadSanitizer (shadow memory). There the memory bounds are not checked; everything else is.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssIsMeasurable = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kRssIsMeasurable = false;
#else
inline constexpr bool kRssIsMeasurable = true;
#endif
#else
inline constexpr bool kRssIsMeasurable = true;
#endif

}  // namespace sihlicon::testing
