// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::ManualClock;
using sihlicon::Timestamp;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kNewYear2024 = 1'704'067'200'000;
constexpr std::int64_t kLastMsOf9999 = 253'402'300'799'999;

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

std::int64_t parsed_ms(std::string_view text) {
    return sihlicon::parse_iso8601(text).ms();
}

}  // namespace

TEST_CASE("a timestamp prints as UTC ISO 8601 with milliseconds") {
    CHECK(sihlicon::to_iso8601(Timestamp()) == "1970-01-01T00:00:00.000Z");
    CHECK(sihlicon::to_iso8601(Timestamp::from_ms(kNewYear2024)) == "2024-01-01T00:00:00.000Z");
    CHECK(sihlicon::to_iso8601(Timestamp::from_ms(1'709'210'096'789)) ==
          "2024-02-29T12:34:56.789Z");
    CHECK(sihlicon::to_iso8601(Timestamp::from_ms(-1)) == "1969-12-31T23:59:59.999Z");
    CHECK(sihlicon::to_iso8601(Timestamp::from_ms(kLastMsOf9999)) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("a timestamp beyond four-digit years cannot be printed") {
    const Error error =
        error_of([] { sihlicon::to_iso8601(Timestamp::from_ms(kLastMsOf9999 + 1)); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "timestamp");
    CHECK_THROWS_AS(sihlicon::to_iso8601(Timestamp::from_ms(kMin)), Error);
    CHECK_THROWS_AS(sihlicon::to_iso8601(Timestamp::from_ms(kMax)), Error);
}

TEST_CASE("ISO 8601 text parses to the instant it names") {
    CHECK(parsed_ms("1970-01-01T00:00:00Z") == 0);
    CHECK(parsed_ms("2024-01-01T00:00:00Z") == kNewYear2024);
    CHECK(parsed_ms("2024-02-29T12:34:56.789Z") == 1'709'210'096'789);
    CHECK(parsed_ms("2000-02-29T00:00:00Z") == 951'782'400'000);
    CHECK(parsed_ms("9999-12-31T23:59:59.999Z") == kLastMsOf9999);
}

TEST_CASE("a zone offset converts local time to UTC") {
    CHECK(parsed_ms("2024-01-01T05:30:00+05:30") == kNewYear2024);
    CHECK(parsed_ms("2023-12-31T16:00:00-08:00") == kNewYear2024);
    CHECK(parsed_ms("2024-01-01T00:00:00+00:00") == kNewYear2024);
    CHECK(parsed_ms("2024-01-01T00:00:00-00:00") == kNewYear2024);
    CHECK(parsed_ms("1970-01-01T01:00:00+01:00") == 0);
}

TEST_CASE("fractional seconds are truncated to milliseconds") {
    CHECK(parsed_ms("1970-01-01T00:00:00.1Z") == 100);
    CHECK(parsed_ms("1970-01-01T00:00:00.12Z") == 120);
    CHECK(parsed_ms("1970-01-01T00:00:00.123Z") == 123);
    CHECK(parsed_ms("1970-01-01T00:00:00.123456789Z") == 123);
    CHECK(parsed_ms("1970-01-01T00:00:00.9999Z") == 999);
    CHECK(parsed_ms("1970-01-01T00:00:00.000000001Z") == 0);
}

TEST_CASE("printing and parsing a timestamp round-trips") {
    std::mt19937_64 random(1970);
    std::uniform_int_distribution<std::int64_t> instants(0, kLastMsOf9999);
    for (int i = 0; i < 5000; ++i) {
        const Timestamp timestamp = Timestamp::from_ms(instants(random));
        CHECK(sihlicon::parse_iso8601(sihlicon::to_iso8601(timestamp)) == timestamp);
    }
}

TEST_CASE("text that is not a strict ISO 8601 UTC or offset date-time is refused") {
    for (const char* text : {
             "",
             "2024-01-01",
             "2024-01-01T00:00:00",              // no zone
             "2024-01-01T00:00Z",                // no seconds
             "2024-01-01 00:00:00Z",             // space separator
             "2024-01-01t00:00:00Z",             // lower-case t
             "2024-01-01T00:00:00z",             // lower-case z
             "2024-1-01T00:00:00Z",              // one-digit month
             "+2024-01-01T00:00:00Z",            // expanded year
             "2024-01-01T00:00:00.Z",            // empty fraction
             "2024-01-01T00:00:00.1234567890Z",  // ten fraction digits
             "2024-01-01T00:00:00,5Z",           // comma fraction
             "2024-01-01T00:00:00+0530",         // offset without colon
             "2024-01-01T00:00:00+05",           // offset without minutes
             "2024-01-01T00:00:00+24:00",        // offset hours out of range
             "2024-01-01T00:00:00+05:60",        // offset minutes out of range
             "2024-01-01T00:00:00Z ",            // trailing space
             "2024-01-01T00:00:00ZZ",
         }) {
        CAPTURE(text);
        const Error error = error_of([&] { sihlicon::parse_iso8601(text); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "timestamp");
    }
}

TEST_CASE("dates and times that do not exist are refused") {
    for (const char* text : {
             "2023-02-29T00:00:00Z",  // not a leap year
             "2100-02-29T00:00:00Z",  // centuries are not leap years unless divisible by 400
             "2024-02-30T00:00:00Z", "2024-04-31T00:00:00Z", "2024-00-10T00:00:00Z",
             "2024-13-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z",
             "2024-01-01T23:60:00Z",
             "2016-12-31T23:59:60Z",  // a real leap second, still refused
         }) {
        CAPTURE(text);
        CHECK(error_of([&] { sihlicon::parse_iso8601(text, "scheduledAt"); }).field() ==
              "scheduledAt");
    }
}

TEST_CASE("instants before the Unix epoch are refused") {
    CHECK_THROWS_AS(sihlicon::parse_iso8601("1969-12-31T23:59:59.999Z"), Error);
    CHECK_THROWS_AS(sihlicon::parse_iso8601("1970-01-01T00:30:00+01:00"), Error);
    CHECK_THROWS_AS(sihlicon::parse_iso8601("0000-01-01T00:00:00Z"), Error);
}

TEST_CASE("timestamps move by durations and subtract to durations, refusing overflow") {
    const Timestamp start = Timestamp::from_ms(1'000);
    CHECK((start + 500ms).ms() == 1'500);
    CHECK((start - 2s).ms() == -1'000);
    CHECK((start + 1min) - start == 60'000ms);
    CHECK(start - (start + 1ms) == -1ms);
    Timestamp moving = start;
    moving += 1s;
    moving -= 10ms;
    CHECK(moving.ms() == 1'990);
    CHECK(start < moving);
    CHECK(Timestamp::from_time_point(moving.to_time_point()) == moving);

    const Timestamp last = Timestamp::from_ms(kMax);
    CHECK_THROWS_AS(last + 1ms, Error);
    CHECK_THROWS_AS(Timestamp::from_ms(kMin) - 1ms, Error);
    CHECK_THROWS_AS(last - Timestamp::from_ms(-1), Error);
}

TEST_CASE("a manual clock moves only when set or advanced") {
    ManualClock clock(Timestamp::from_ms(kNewYear2024));
    CHECK(clock.now().ms() == kNewYear2024);
    clock.advance(90s);
    CHECK(clock.now().ms() == kNewYear2024 + 90'000);
    clock.advance(-30s);
    CHECK(clock.now().ms() == kNewYear2024 + 60'000);
    clock.set(Timestamp::from_ms(5));
    CHECK(clock.now().ms() == 5);
}

TEST_CASE("a manual clock refuses to advance past int64 and stays where it was") {
    ManualClock clock(Timestamp::from_ms(kMax - 1));
    CHECK_THROWS_AS(clock.advance(2ms), Error);
    CHECK(clock.now().ms() == kMax - 1);
}

TEST_CASE("a manual clock advanced from many threads loses no step") {
    ManualClock clock(Timestamp{});
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&clock] {
            for (int i = 0; i < 1000; ++i) {
                clock.advance(1ms);
                (void)clock.now();
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(clock.now().ms() == 8'000);
}

TEST_CASE("the system clock reads the operating system's wall clock") {
    const auto before =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const Timestamp now = sihlicon::system_clock()->now();
    const auto after = std::chrono::system_clock::now();
    CHECK(now.to_time_point() >= before);
    CHECK(now.to_time_point() <= after);
    CHECK(sihlicon::system_clock() == sihlicon::system_clock());
}
