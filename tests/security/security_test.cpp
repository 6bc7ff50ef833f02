// SPDX-License-Identifier: Apache-2.0
//
// Hostile input and pressure (issue 11): limits that hold when many callers push at once, and
// names from outside that can never steer a file path. The access-control matrix, lease
// tokens, forged receipts and key-file modes are specified beside their components
// (tests/RELIABILITY.md lists where).
#include "support/errors.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::random_bytes;
using sihlicon::testing::small_job;
using sihlicon::testing::TempDir;

namespace {

// Runs `body(thread)` on `count` threads at once, released together.
template <typename Body>
void at_once(int count, Body&& body) {
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < count; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            body(t);
        });
    }
    go = true;
    for (auto& thread : threads) {
        thread.join();
    }
}

// How `action` ended, from any thread: none when it succeeded.
std::optional<ErrorCode> outcome(const std::function<void()>& action) {
    try {
        action();
        return std::nullopt;
    } catch (const Error& error) {
        return error.code();
    }
}

}  // namespace

TEST_CASE("the per-owner submission limit holds when eight threads submit at once") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");  // the seed's default: 10 submissions per hour
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    at_once(8, [&](int) {
        for (int i = 0; i < 5; ++i) {
            const auto code = outcome([&] { hub.scheduler().submit(small_job()); });
            ++(!code ? accepted : code == ErrorCode::quota_exceeded ? refused : other);
        }
    });
    CHECK(accepted == 10);
    CHECK(refused == 30);
    CHECK(other == 0);
}

TEST_CASE("the hourly upload quota holds when eight threads upload at once") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");
    hub.content_store().set_quota("ann", Quota{1'000'000, std::nullopt});
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    at_once(8, [&](int thread) {
        for (int i = 0; i < 2; ++i) {
            const auto bytes = random_bytes(200'000, static_cast<std::uint32_t>(thread * 10 + i));
            const auto code = outcome([&] { hub.content_store().put_bytes(bytes, "ann"); });
            ++(!code ? accepted : code == ErrorCode::quota_exceeded ? refused : other);
        }
    });
    CHECK(accepted == 5);  // 5 x 200,000 bytes fill the hour's 1,000,000
    CHECK(refused == 11);
    CHECK(other == 0);
    CHECK(hub.content_store().list("ann").size() == 5);
}

TEST_CASE("content ids that are not CIDs never reach the file system") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");
    std::filesystem::create_directories(dir / "outside");
    const auto secret = random_bytes(100, 1);
    for (const std::string& hostile :
         std::vector<std::string>{"../../outside/secret", "bafkrei/../../../outside", "/etc/passwd",
                                  "", "bafy\n", "QmNotBase58!!", std::string(5000, 'b')}) {
        CAPTURE(hostile);
        auto& store = hub.content_store();
        CHECK(error_of([&] { store.get_bytes(hostile, "ann"); }) == ErrorCode::invalid_argument);
        CHECK(error_of([&] { store.stat(hostile, "ann"); }) == ErrorCode::invalid_argument);
        CHECK(error_of([&] { store.remove(hostile, "ann"); }) == ErrorCode::invalid_argument);
    }
    CHECK(std::filesystem::is_empty(dir / "outside"));
}
