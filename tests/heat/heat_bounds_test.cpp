// SPDX-License-Identifier: Apache-2.0
//
// Heat that would make a period unsettleable is refused when it is recorded, never when it is
// settled (the bounds of heat_ledger.hpp).
#include "heat/fixture.hpp"
#include "heat/heat_internal.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <sihlicon/error.hpp>

#include <limits>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::error_from;
using sihlicon::testing::error_of;
using sihlicon::testing::HeatFixture;
using sihlicon::testing::kDay;
using sihlicon::testing::kHour;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kTerawattHour = 1'000'000'000'000'000;  // mWh

bool mentions(const Error& error, std::string_view text) {
    return std::string(error.what()).find(text) != std::string::npos;
}

ManualHeat heat_of(std::int64_t thermal_mwh, std::int64_t at_ms) {
    ManualHeat heat;
    heat.hub_id = "pool";
    heat.kind = HeatKind::battery_losses;
    heat.at = HeatFixture::t(at_ms);
    heat.thermal = Energy::milliwatt_hours(thermal_mwh);
    return heat;
}

std::int64_t records_of(HeatFixture& fixture) {
    return fixture.database().read([](store::Transaction& tx) {
        auto row = tx.prepare("SELECT COUNT(*) FROM heat_records");
        row.step();
        return row.column_int64(0);
    });
}

}  // namespace

TEST_CASE("heat whose credit would overflow when settled is refused when it is recorded") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    const Currency chf = Currency::of("CHF");
    fixture.ledger().set_credit_rate("pool", Money(10'000'000'000, chf), HeatFixture::t(0));
    // 1 TWh at 10^10 minor units per kWh is 10^19 minor units, beyond 2^63 - 1.
    const auto error = error_from([&] { fixture.ledger().record(heat_of(kTerawattHour, kHour)); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "thermal");
    CHECK(mentions(error, "pool"));
    CHECK(records_of(fixture) == 0);
    CHECK(fixture.ledger().stats("pool").total_heat == Energy());

    // 900 GWh is 9 x 10^18: it fits, and the period settles.
    fixture.ledger().record(heat_of(900'000'000'000'000, kHour));
    const auto settled = fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(kDay));
    CHECK(settled.credit == Money(9'000'000'000'000'000'000, chf));
    // The settled credit counts: more heat whose own credit fits is refused as well, because
    // the hub's credits would no longer sum inside int64.
    const auto more = error_from([&] {
        fixture.ledger().record_many(
            {heat_of(1'000, kDay), heat_of(100'000'000'000'000, kDay - kHour)});
    });
    CHECK(more.code() == ErrorCode::invalid_argument);
    CHECK(more.field() == "records[1].thermal");
    CHECK(records_of(fixture) == 1);
    CHECK(fixture.ledger().stats("pool").total_credit == Money(9'000'000'000'000'000'000, chf));
}

TEST_CASE("the settleable bound is exact: a credit of 2^63 - 1 is kept, one unit more is not") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    const Currency chf = Currency::of("CHF");
    fixture.ledger().set_credit_rate("pool", Money(kMax, chf), HeatFixture::t(0));
    fixture.ledger().record(heat_of(1'000'000, kHour));  // 1 kWh at 2^63 - 1 per kWh
    CHECK(fixture.ledger().credits("pool").credit == Money(kMax, chf));
    CHECK(error_of([&] { fixture.ledger().record(heat_of(1, kHour)); }) ==
          ErrorCode::invalid_argument);
    CHECK(fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(kDay)).credit ==
          Money(kMax, chf));
}

TEST_CASE("a credit rate that would make unsettled heat unsettleable is refused when set") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    fixture.ledger().record(heat_of(kTerawattHour, kHour));
    const auto before = fixture.ledger().credit_rates("pool");
    const Currency chf = Currency::of("CHF");
    const auto error = error_from([&] {
        fixture.ledger().set_credit_rate("pool", Money(10'000'000'000, chf), HeatFixture::t(0));
    });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "ratePerKwh");
    CHECK(mentions(error, "pool"));
    const auto after = fixture.ledger().credit_rates("pool");
    REQUIRE(after.size() == before.size());
    CHECK(after.front().per_kwh == before.front().per_kwh);
    // Heat credited after the new rate takes effect counts too: a rate from after the record
    // leaves it at the old rate and is accepted.
    fixture.ledger().set_credit_rate("pool", Money(10'000'000'000, chf), HeatFixture::t(kDay));
    CHECK(fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(kDay)).credit ==
          Money(5'000'000'000, chf));
}

TEST_CASE("a hub's total heat stays inside int64 across batches; the buckets never turn REAL") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    // 9000 TWh, then 224 TWh more: the hub's total would pass 2^63 - 1 mWh (about 9223 TWh).
    fixture.ledger().record_many(std::vector<ManualHeat>(9000, heat_of(kTerawattHour, kHour)));
    const auto error = error_from([&] {
        fixture.ledger().record_many(std::vector<ManualHeat>(224, heat_of(kTerawattHour, kHour)));
    });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "records[223].thermal");
    CHECK(mentions(error, "pool"));
    CHECK(records_of(fixture) == 9000);
    CHECK(fixture.ledger().stats("pool").total_heat ==
          Energy::milliwatt_hours(9000 * kTerawattHour));
    CHECK(fixture.database().read([](store::Transaction& tx) {
        auto row =
            tx.prepare("SELECT COUNT(*) FROM heat_buckets WHERE typeof(thermal_mwh) <> 'integer'");
        row.step();
        return row.column_int64(0);
    }) == 0);
}
