// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/id.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::IdGenerator;
using sihlicon::ManualClock;
using sihlicon::Timestamp;

namespace {

constexpr std::int64_t kNewYear2024 = 1'704'067'200'000;
constexpr std::int64_t kLastEncodableMs = (std::int64_t{1} << 48) - 1;
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Runs `action`, which must throw sihlicon::Error, and returns the error.
template <typename Action>
Error error_of(Action&& action) {
    try {
        action();
    } catch (const Error& error) {
        return error;
    }
    FAIL("expected sihlicon::Error");
    return Error(ErrorCode::internal, "unreachable");
}

std::shared_ptr<ManualClock> clock_at(std::int64_t ms) {
    return std::make_shared<ManualClock>(Timestamp::from_ms(ms));
}

// A random source that always yields the same bytes.
IdGenerator::RandomSource constant_random(std::uint8_t byte) {
    return [byte](std::span<std::uint8_t> out) { std::fill(out.begin(), out.end(), byte); };
}

std::string body_of(const std::string& id) {
    return id.substr(id.find('-') + 1);
}

}  // namespace

TEST_CASE("an id is the prefix, a dash and 26 Crockford base32 characters") {
    IdGenerator generator(clock_at(kNewYear2024));
    const std::string id = generator.next("job");
    REQUIRE(id.size() == 30);
    CHECK(id.substr(0, 4) == "job-");
    CHECK(body_of(id).find_first_not_of(kAlphabet) == std::string::npos);
    CHECK(body_of(id).substr(0, 10) == "01HK153X00");
    CHECK(sihlicon::is_valid_id(id, "job"));
    CHECK(sihlicon::id_timestamp(id).ms() == kNewYear2024);
}

TEST_CASE("the body encodes the timestamp then the random bits like a ULID") {
    // The ULID specification's example timestamp.
    IdGenerator generator(clock_at(1'469'918'176'385), [](std::span<std::uint8_t> out) {
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] = static_cast<std::uint8_t>(i + 1);
        }
    });
    CHECK(generator.next("blob") == "blob-01ARYZ6S41041061050R3GG28A");
}

TEST_CASE("ids from a clock that does not move strictly increase in byte order") {
    const auto clock = clock_at(kNewYear2024);
    IdGenerator generator(clock);
    std::string previous = generator.next("job");
    for (int i = 0; i < 100'000; ++i) {
        std::string id = generator.next("job");
        REQUIRE(id > previous);
        previous = std::move(id);
    }
    CHECK(sihlicon::id_timestamp(previous).ms() == kNewYear2024);
}

TEST_CASE("ids stay strictly increasing when the clock goes backwards") {
    const auto clock = clock_at(kNewYear2024);
    IdGenerator generator(clock);
    std::string previous = generator.next("job");
    for (int i = 0; i < 100'000; ++i) {
        clock->advance(i % 3 == 0 ? 1s : -2s);  // drifts backwards overall
        std::string id = generator.next("job");
        REQUIRE(id > previous);
        previous = std::move(id);
    }
    CHECK(clock->now().ms() < kNewYear2024);
    CHECK(sihlicon::id_timestamp(previous).ms() >= kNewYear2024);
}

TEST_CASE("a new millisecond starts a fresh random part and a later timestamp") {
    const auto clock = clock_at(kNewYear2024);
    // 2^79: a one followed by 79 zero bits.
    IdGenerator generator(clock, [](std::span<std::uint8_t> out) {
        std::fill(out.begin(), out.end(), 0);
        out[0] = 0x80;
    });
    const std::string first = generator.next("job");
    CHECK(body_of(generator.next("job")).substr(10) == "G000000000000001");
    clock->advance(1ms);
    const std::string later = generator.next("job");
    CHECK(body_of(later).substr(10) == "G000000000000000");
    CHECK(later > first);
    CHECK(sihlicon::id_timestamp(later).ms() == kNewYear2024 + 1);
}

TEST_CASE("when the random part overflows the timestamp part advances by one millisecond") {
    IdGenerator generator(clock_at(kNewYear2024), constant_random(0xff));
    const std::string first = generator.next("job");
    CHECK(body_of(first).substr(10) == "ZZZZZZZZZZZZZZZZ");
    const std::string second = generator.next("job");
    CHECK(body_of(second).substr(10) == "0000000000000000");
    CHECK(sihlicon::id_timestamp(second).ms() == kNewYear2024 + 1);
    CHECK(second > first);
}

TEST_CASE("a clock outside the 48-bit millisecond range cannot make ids") {
    CHECK(error_of([] { IdGenerator(clock_at(-1)).next("job"); }).field() == "clock");
    CHECK_THROWS_AS(IdGenerator(clock_at(kLastEncodableMs + 1)).next("job"), Error);
    IdGenerator last(clock_at(kLastEncodableMs), constant_random(0xff));
    CHECK(body_of(last.next("job")) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    CHECK(error_of([&] { last.next("job"); }).field() == "clock");
}

TEST_CASE("ids from eight threads sharing one generator are unique and ordered per thread") {
    IdGenerator generator(sihlicon::system_clock());
    constexpr int kThreads = 8;
    constexpr int kPerThread = 10'000;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&generator, &ids = made[static_cast<std::size_t>(t)]] {
            for (int i = 0; i < kPerThread; ++i) {
                ids.push_back(generator.next("task"));
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::set<std::string> unique;
    for (const auto& ids : made) {
        CHECK(std::is_sorted(ids.begin(), ids.end()));
        unique.insert(ids.begin(), ids.end());
    }
    CHECK(unique.size() == static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_CASE("a prefix must be one to sixteen lower-case letters") {
    IdGenerator generator(clock_at(kNewYear2024));
    CHECK(sihlicon::is_valid_id(generator.next("abcdefghijklmnop"), "abcdefghijklmnop"));
    for (const char* prefix : {"", "Job", "job1", "j-b", "job_", "abcdefghijklmnopq", "é"}) {
        CAPTURE(prefix);
        const Error error = error_of([&] { generator.next(prefix); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "prefix");
    }
}

TEST_CASE("validation refuses anything that is not a well-formed id with that prefix") {
    const std::string good = "job-01JD3M5Q7X9K2W4V6T8R0P1N3B";
    CHECK(sihlicon::is_valid_id(good, "job"));
    CHECK(sihlicon::is_valid_id("job-7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "job"));
    CHECK_FALSE(sihlicon::is_valid_id(good, "blob"));
    CHECK_FALSE(sihlicon::is_valid_id(good, "jo"));
    CHECK_FALSE(sihlicon::is_valid_id(good, ""));
    CHECK_FALSE(sihlicon::is_valid_id("job-01jd3m5q7x9k2w4v6t8r0p1n3b", "job"));
    for (const char letter : {'I', 'L', 'O', 'U', '-', ' '}) {
        std::string bad = good;
        bad.back() = letter;
        CAPTURE(bad);
        CHECK_FALSE(sihlicon::is_valid_id(bad, "job"));
    }
    CHECK_FALSE(sihlicon::is_valid_id(good + "0", "job"));
    CHECK_FALSE(sihlicon::is_valid_id(good.substr(0, good.size() - 1), "job"));
    CHECK_FALSE(sihlicon::is_valid_id("job_01JD3M5Q7X9K2W4V6T8R0P1N3B", "job"));
    CHECK_FALSE(sihlicon::is_valid_id("job-81JD3M5Q7X9K2W4V6T8R0P1N3B", "job"));  // > 128 bits
    CHECK_FALSE(sihlicon::is_valid_id("", "job"));
}

TEST_CASE("the timestamp of a malformed id is refused naming the id field") {
    CHECK(sihlicon::id_timestamp("job-01ARYZ6S41041061050R3GG28A").ms() == 1'469'918'176'385);
    for (const char* id : {"", "job", "job-", "-01ARYZ6S41041061050R3GG28A",
                           "Job-01ARYZ6S41041061050R3GG28A", "job-01ARYZ6S41041061050R3GG28",
                           "job-81ARYZ6S41041061050R3GG28A", "job-01ARYZ6S41041061050R3GG28I"}) {
        CAPTURE(id);
        const Error error = error_of([&] { sihlicon::id_timestamp(id); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "id");
    }
}
