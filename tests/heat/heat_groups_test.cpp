// SPDX-License-Identifier: Apache-2.0
//
// Issue 26: heat stats and series by site and by region (district heating is fed by several
// hubs), exact integer sums of the hubs' own figures.
#include "heat/fixture.hpp"

#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <sihlicon/error.hpp>

#include <boost/json.hpp>

#include <limits>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::HeatFixture;
using sihlicon::testing::kDay;
using sihlicon::testing::kHour;

namespace {

void add_hub(HeatFixture& fixture, const std::string& id, const std::string& site,
             const std::string& region) {
    HubSpec spec;
    spec.id = id;
    spec.name = id;
    spec.site = site;
    spec.region = region;
    spec.heat_recovery_ppm = 900'000;
    spec.power_capacity_w = 100'000;
    fixture.hub.scheduler().register_hub(spec);
}

// Three hubs: two feed the district network of site "aarau" (region CH), one stands at "basel"
// (region CH), one at "lyon" (region FR).
void add_hubs(HeatFixture& fixture) {
    add_hub(fixture, "aarau-1", "aarau", "CH");
    add_hub(fixture, "aarau-2", "aarau", "CH");
    add_hub(fixture, "basel-1", "basel", "CH");
    add_hub(fixture, "lyon-1", "lyon", "FR");
}

HubGroup site(std::string name) {
    return {HubGroupKind::site, std::move(name)};
}
HubGroup region(std::string name) {
    return {HubGroupKind::region, std::move(name)};
}

}  // namespace

TEST_CASE("heat stats of a site or region are the exact sums of its hubs' stats") {
    HeatFixture fixture;
    add_hubs(fixture);
    fixture.at(3 * kDay);
    fixture.heat("aarau-1", kHour, 1'000'001);  // 1.000001 kWh
    fixture.heat("aarau-1", kDay, 300'000);     // 0.3 kWh
    fixture.heat("aarau-2", 2 * kHour, 2'500'000);
    fixture.heat("basel-1", kHour, 7'000'000);
    fixture.heat("lyon-1", kHour, 9'000'000);
    fixture.ledger().set_credit_rate("aarau-2", Money(7, Currency::of("CHF")),
                                     Timestamp::from_ms(0));
    fixture.ledger().settle("aarau-1", HeatFixture::t(0), HeatFixture::t(12 * kHour));

    const auto aarau = fixture.ledger().group_stats(site("aarau"));
    CHECK(aarau.hub_ids == std::vector<std::string>{"aarau-1", "aarau-2"});
    REQUIRE(aarau.hubs.size() == 2);
    const auto one = fixture.ledger().stats("aarau-1");
    const auto two = fixture.ledger().stats("aarau-2");
    CHECK(aarau.hubs[0].to_json() == one.to_json());
    CHECK(aarau.hubs[1].to_json() == two.to_json());
    CHECK(aarau.total_heat == Energy::milliwatt_hours(1'000'001 + 300'000 + 2'500'000));
    CHECK(aarau.total_credit.minor_units() ==
          one.total_credit.minor_units() + two.total_credit.minor_units());
    CHECK(aarau.unsettled_credit.minor_units() ==
          one.unsettled_credit.minor_units() + two.unsettled_credit.minor_units());
    CHECK(aarau.period_count == 1);
    CHECK(aarau.last_period_end == HeatFixture::t(12 * kHour));
    const auto json = boost::json::parse(aarau.to_json()).as_object();
    CHECK(json.at("groupBy") == "site");
    CHECK(json.at("group") == "aarau");
    CHECK(json.at("totalHeatKwh").to_number<double>() == doctest::Approx(3.800001));
    CHECK(json.at("hubs").as_array().size() == 2);

    const auto swiss = fixture.ledger().group_stats(region("CH"));
    CHECK(swiss.hub_ids == std::vector<std::string>{"aarau-1", "aarau-2", "basel-1"});
    CHECK(swiss.total_heat == Energy::milliwatt_hours(1'000'001 + 300'000 + 2'500'000 + 7'000'000));
    CHECK(fixture.ledger().group_stats(region("FR")).total_heat ==
          Energy::milliwatt_hours(9'000'000));
    CHECK(fixture.ledger().group_stats(site("aarau")).last_period_end ==
          HeatFixture::t(12 * kHour));
}

TEST_CASE("a heat series of a site or region sums each bucket of its hubs") {
    HeatFixture fixture;
    add_hubs(fixture);
    fixture.at(0);
    fixture.hub.scheduler().set_heat_demand("aarau-1", 1000);
    fixture.hub.scheduler().set_heat_demand("aarau-2", 500);
    fixture.at(kDay);
    fixture.heat("aarau-1", kHour + 10, 1'000);
    fixture.heat("aarau-2", kHour + 20, 2'000);
    fixture.heat("aarau-2", 3 * kHour, 4'000);
    fixture.heat("lyon-1", kHour, 8'000);

    const auto series = fixture.ledger().group_series(site("aarau"), SeriesResolution::hour,
                                                      HeatFixture::t(0), HeatFixture::t(4 * kHour));
    CHECK(series.hub_ids == std::vector<std::string>{"aarau-1", "aarau-2"});
    REQUIRE(series.points.size() == 4);
    CHECK(series.points[0].heat == Energy());
    CHECK(series.points[1].heat == Energy::milliwatt_hours(3'000));
    CHECK(series.points[1].records == 2);
    CHECK(series.points[3].heat == Energy::milliwatt_hours(4'000));
    // Demand: 1000 W + 500 W over a whole hour is 1.5 kWh.
    CHECK(series.points[2].heat_demand == Energy::milliwatt_hours(1'500'000));
    const auto a = fixture.ledger().series("aarau-1", SeriesResolution::hour, HeatFixture::t(0),
                                           HeatFixture::t(4 * kHour));
    const auto b = fixture.ledger().series("aarau-2", SeriesResolution::hour, HeatFixture::t(0),
                                           HeatFixture::t(4 * kHour));
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(series.points[i].start == a.points[i].start);
        CHECK(series.points[i].heat == a.points[i].heat + b.points[i].heat);
        CHECK(series.points[i].electricity == a.points[i].electricity + b.points[i].electricity);
        CHECK(series.points[i].heat_demand == a.points[i].heat_demand + b.points[i].heat_demand);
    }
    const auto daily = fixture.ledger().group_series(region("CH"), SeriesResolution::day,
                                                     HeatFixture::t(0), HeatFixture::t(kDay));
    REQUIRE(daily.points.size() == 1);
    CHECK(daily.points[0].heat == Energy::milliwatt_hours(7'000));
    const auto json = boost::json::parse(daily.to_json()).as_object();
    CHECK(json.at("groupBy") == "region");
    CHECK(json.at("hubIds").as_array().size() == 3);
}

TEST_CASE("heat totals of an unknown, badly named or mixed-currency group are refused") {
    HeatFixture fixture;
    add_hubs(fixture);
    const auto refusal = [&](const std::function<void()>& action) {
        try {
            action();
        } catch (const Error& error) {
            return std::make_pair(error.code(), error.field());
        }
        FAIL("expected an Error");
        return std::make_pair(ErrorCode::internal, std::string());
    };
    CHECK(refusal([&] { fixture.ledger().group_stats(site("nowhere")); }) ==
          std::make_pair(ErrorCode::not_found, std::string("site")));
    CHECK(refusal([&] { fixture.ledger().group_stats(region("aarau")); }) ==
          std::make_pair(ErrorCode::not_found, std::string("region")));
    CHECK(refusal([&] { fixture.ledger().group_stats(site("")); }) ==
          std::make_pair(ErrorCode::invalid_argument, std::string("site")));
    CHECK(refusal([&] { fixture.ledger().group_stats(region("C\nH")); }) ==
          std::make_pair(ErrorCode::invalid_argument, std::string("region")));
    CHECK(refusal([&] {
              fixture.ledger().group_series(site("aarau"), SeriesResolution::hour,
                                            HeatFixture::t(kHour), HeatFixture::t(0));
          }) == std::make_pair(ErrorCode::invalid_argument, std::string("to")));
    CHECK(error_of([&] { parse_hub_group_kind("district"); }) == ErrorCode::invalid_argument);
    CHECK(parse_hub_group_kind("region") == HubGroupKind::region);

    fixture.ledger().set_credit_rate("aarau-2", Money(5, Currency::of("EUR")),
                                     Timestamp::from_ms(0));
    CHECK(refusal([&] { fixture.ledger().group_stats(site("aarau")); }) ==
          std::make_pair(ErrorCode::conflict, std::string("currency")));
    // Heat alone still sums across currencies.
    CHECK_NOTHROW(fixture.ledger().group_series(site("aarau"), SeriesResolution::day,
                                                HeatFixture::t(0), HeatFixture::t(kDay)));
}

TEST_CASE("a heat total beyond int64 is refused naming the group, never wrapped") {
    HeatFixture fixture;
    add_hubs(fixture);
    fixture.at(kDay);
    // Each hub's bucket fits int64; their sum does not. (Written directly: reaching it through
    // records would take millions of 1 TWh records.)
    constexpr auto kHalfPlus = std::numeric_limits<std::int64_t>::max() / 2 + 1;
    fixture.database().write([&](store::Transaction& tx) {
        for (const char* hub : {"aarau-1", "aarau-2"}) {
            tx.prepare(
                  "INSERT INTO heat_buckets (hub_id, resolution, bucket_start, thermal_mwh, "
                  "record_count) VALUES (?, 'hour', ?, ?, 1)")
                .bind_all(std::string(hub), HeatFixture::t(0).ms(), kHalfPlus)
                .run();
        }
    });
    try {
        fixture.ledger().group_series(site("aarau"), SeriesResolution::hour, HeatFixture::t(0),
                                      HeatFixture::t(kHour));
        FAIL("expected an overflow refusal");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "site");
        CHECK(std::string(error.what()).find("aarau") != std::string::npos);
    }
    // One hub alone still reads.
    CHECK(fixture.ledger()
              .series("aarau-1", SeriesResolution::hour, HeatFixture::t(0), HeatFixture::t(kHour))
              .points[0]
              .heat == Energy::milliwatt_hours(kHalfPlus));
}
