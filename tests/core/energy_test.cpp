// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/energy.hpp>
#include <sihlicon/error.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

using sihlicon::Energy;
using sihlicon::Error;
using sihlicon::ErrorCode;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

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

Energy mwh(std::int64_t value) {
    return Energy::milliwatt_hours(value);
}

}  // namespace

TEST_CASE("energy is counted in milliwatt-hours whatever unit it is given in") {
    CHECK(Energy().mwh() == 0);
    CHECK(mwh(7).mwh() == 7);
    CHECK(Energy::watt_hours(3).mwh() == 3'000);
    CHECK(Energy::kilowatt_hours(2).mwh() == 2'000'000);
    CHECK(Energy::kilowatt_hours(-1).mwh() == -1'000'000);
    CHECK(Energy::watt_hours(kMax / 1000).mwh() == kMax / 1000 * 1000);
}

TEST_CASE("unit conversions beyond the int64 range are refused") {
    CHECK_THROWS_AS(Energy::watt_hours(kMax / 1000 + 1), Error);
    CHECK_THROWS_AS(Energy::watt_hours(kMin), Error);
    const Error error = error_of([] { Energy::kilowatt_hours(kMax / 1'000'000 + 1); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(std::string(error.what()).find("kilowatt-hour") != std::string::npos);
}

TEST_CASE("decimal kilowatt-hours parse exactly") {
    CHECK(Energy::parse_kwh("1.5").mwh() == 1'500'000);
    CHECK(Energy::parse_kwh("0.000001").mwh() == 1);
    CHECK(Energy::parse_kwh("12").mwh() == 12'000'000);
    CHECK(Energy::parse_kwh("-0.25").mwh() == -250'000);
    CHECK(Energy::parse_kwh("9223372036854.775807").mwh() == kMax);
    CHECK(Energy::parse_kwh("-9223372036854.775808").mwh() == kMin);
}

TEST_CASE("malformed or inexact kilowatt-hour text is refused naming the field") {
    for (const char* text : {"", "1.", ".5", "+1", "1e3", "1.5 ", "kwh", "--1", "0.0000001",
                             "1.0000000", "9223372036854.775808", "-9223372036854.775809"}) {
        CAPTURE(text);
        const Error error = error_of([&] { Energy::parse_kwh(text); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "energy");
    }
    CHECK(error_of([] { Energy::parse_kwh("x", "heat.recovered"); }).field() == "heat.recovered");
}

TEST_CASE("kilowatt-hours print exactly with no superfluous zeros and parse back") {
    CHECK(mwh(1'500'000).to_kwh_string() == "1.5");
    CHECK(mwh(1).to_kwh_string() == "0.000001");
    CHECK(mwh(2'000'000).to_kwh_string() == "2");
    CHECK(mwh(0).to_kwh_string() == "0");
    CHECK(mwh(-250'000).to_kwh_string() == "-0.25");
    CHECK(mwh(kMin).to_kwh_string() == "-9223372036854.775808");
    std::mt19937_64 random(42);
    for (int i = 0; i < 2000; ++i) {
        const Energy energy = mwh(static_cast<std::int64_t>(random()));
        CHECK(Energy::parse_kwh(energy.to_kwh_string()) == energy);
    }
}

TEST_CASE("energy adds, subtracts and compares exactly and refuses to overflow") {
    Energy total = mwh(5) + mwh(7) - mwh(2);
    CHECK(total == mwh(10));
    total += mwh(1);
    total -= mwh(3);
    CHECK(total == mwh(8));
    CHECK(-total == mwh(-8));
    CHECK(mwh(1) < mwh(2));
    CHECK(mwh(-1) <= mwh(-1));
    CHECK(mwh(3) > mwh(-3));

    Energy full = mwh(kMax);
    CHECK(std::string(error_of([&] { full += mwh(1); }).what()).find("energy addition") !=
          std::string::npos);
    CHECK(full == mwh(kMax));
    CHECK_THROWS_AS(mwh(kMin) - mwh(1), Error);
    CHECK_THROWS_AS(-mwh(kMin), Error);
}

TEST_CASE("scaling by an efficiency in parts per million rounds half to even") {
    CHECK(mwh(1'000'000).scale_ppm(920'000) == mwh(920'000));
    CHECK(mwh(1'000).scale_ppm(1'000'000) == mwh(1'000));
    CHECK(mwh(1'000).scale_ppm(0) == mwh(0));
    CHECK(mwh(1'000).scale_ppm(3'500'000) == mwh(3'500));  // a heat pump's gain
    // Ties: 1 x 0.5 = 0.5 -> 0, 3 x 0.5 = 1.5 -> 2, 5 x 0.5 = 2.5 -> 2; negatives mirror.
    CHECK(mwh(1).scale_ppm(500'000) == mwh(0));
    CHECK(mwh(3).scale_ppm(500'000) == mwh(2));
    CHECK(mwh(5).scale_ppm(500'000) == mwh(2));
    CHECK(mwh(-3).scale_ppm(500'000) == mwh(-2));
    CHECK(mwh(-5).scale_ppm(500'000) == mwh(-2));
    // Not ties: to the nearest, so 0.500001 rounds up and 0.499999 down.
    CHECK(mwh(500'001).scale_ppm(1) == mwh(1));
    CHECK(mwh(999'999).scale_ppm(1) == mwh(1));
    CHECK(mwh(499'999).scale_ppm(1) == mwh(0));
    CHECK(mwh(-999'999).scale_ppm(1) == mwh(-1));
}

TEST_CASE("scaling uses a 128-bit product and refuses only a result beyond int64") {
    CHECK(mwh(kMax).scale_ppm(1'000'000) == mwh(kMax));
    CHECK(mwh(kMax).scale_ppm(500'000) == mwh(kMax / 2 + 1));  // 4611686018427387903.5 -> even
    CHECK(mwh(kMin).scale_ppm(999'999).mwh() < 0);
    CHECK_THROWS_AS(mwh(kMax).scale_ppm(1'000'001), Error);
    CHECK_THROWS_AS(mwh(kMin).scale_ppm(kMax), Error);
    CHECK(error_of([] { mwh(1).scale_ppm(-1); }).field() == "parts_per_million");
}

TEST_CASE("energy from power over a duration is watts times milliseconds over 3600") {
    CHECK(Energy::from_power_and_duration(1'000, 3'600'000) == Energy::kilowatt_hours(1));
    CHECK(Energy::from_power_and_duration(250, 60'000) == mwh(4'167));  // 4166.67 mWh
    CHECK(Energy::from_power_and_duration(1, 3'600) == mwh(1));
    CHECK(Energy::from_power_and_duration(0, 3'600'000) == mwh(0));
    CHECK(Energy::from_power_and_duration(5'000, 0) == mwh(0));
    // Ties round half to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
    CHECK(Energy::from_power_and_duration(1, 1'800) == mwh(0));
    CHECK(Energy::from_power_and_duration(1, 5'400) == mwh(2));
    CHECK(Energy::from_power_and_duration(1, 9'000) == mwh(2));
    CHECK(Energy::from_power_and_duration(1, 1'801) == mwh(1));
}

TEST_CASE("energy from power refuses negative inputs and results beyond int64") {
    CHECK(error_of([] { Energy::from_power_and_duration(-1, 1); }).field() == "watts");
    CHECK(error_of([] { Energy::from_power_and_duration(1, -1); }).field() == "duration_ms");
    CHECK(Energy::from_power_and_duration(kMax, 3'600) == mwh(kMax));
    CHECK_THROWS_AS(Energy::from_power_and_duration(kMax, 3'601), Error);
    CHECK_THROWS_AS(Energy::from_power_and_duration(kMax, kMax), Error);
}
