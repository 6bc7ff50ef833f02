// SPDX-License-Identifier: Apache-2.0
//
// The REST contract's Heat Services API over real HTTP: credits, stats (of a hub, a site or a
// region) and settle, with the seed's fields; roles; malformed queries and bodies named.
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/heat_ledger.hpp>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

// Hub "pool" (site "baths", region "CH") with 10 kWh of heat delivered an hour ago at the
// default rate (5 centimes per kWh).
struct HeatFixture : ContractFixture {
    HeatFixture() {
        HubSpec pool;
        pool.id = "pool";
        pool.name = "Pool";
        pool.site = "baths";
        pool.region = "CH";
        pool.power_capacity_w = 100'000;
        hub.scheduler().register_hub(pool);
        ManualHeat heat;
        heat.hub_id = "pool";
        heat.tag = "pool heater";
        heat.at = Timestamp::from_ms(clock->now().ms() - 3'600'000);
        heat.thermal = Energy::kilowatt_hours(10);
        hub.heat_ledger().record(heat);
    }
};

}  // namespace

TEST_CASE("GET /api/heat/credits answers the seed's credit for clients and operators") {
    HeatFixture f;
    const auto answer = f.call("GET", "/api/heat/credits?hubId=pool", f.ann);
    REQUIRE(answer.status == 200);
    const auto body = json_of(answer);
    CHECK(body.at("success").as_bool());
    const auto& credit = body.at("credit").as_object();
    CHECK(credit.at("hubId").as_string() == "pool");
    CHECK(credit.at("heatCreditChf").as_int64() == 50);
    CHECK(!credit.at("settled").as_bool());
    CHECK(credit.at("totalHeatKwh").is_number());
    CHECK(credit.at("periodStart").is_string());
    CHECK(credit.at("periodEnd").is_string());
    // The answer is the library's HeatCredit, unchanged.
    CHECK(boost::json::serialize(credit) == boost::json::serialize(boost::json::parse(
                                                f.hub.heat_ledger().credits("pool").to_json())));
    const auto spanned = json_of(f.call(
        "GET", "/api/heat/credits?hubId=pool&start=2025-12-31T00:00:00Z&end=2025-12-31T12:00:00Z",
        f.op));
    CHECK(spanned.at("credit").at("heatCreditChf").as_int64() == 0);

    CHECK(field_of(f.call("GET", "/api/heat/credits", f.ann)) == "hubId");
    CHECK(field_of(f.call("GET", "/api/heat/credits?hubId=pool&start=yesterday", f.ann)) ==
          "start");
    CHECK(field_of(f.call("GET", "/api/heat/credits?hubId=pool&end=2026-13-01T00:00:00Z", f.ann)) ==
          "end");
    CHECK(field_of(f.call("GET", "/api/heat/credits?hubId=pool&from=x", f.ann)) == "from");
    error_of(f.call("GET", "/api/heat/credits?hubId=elsewhere", f.ann), 404);
    error_of(f.call("GET", "/api/heat/credits?hubId=pool", f.bee), 403);
    error_of(f.call("GET", "/api/heat/credits?hubId=pool", f.revoked), 401);
}

TEST_CASE("GET /api/heat/stats answers a hub's stats, or a site's or region's sums") {
    HeatFixture f;
    const auto hub_stats = json_of(f.call("GET", "/api/heat/stats?hubId=pool", f.ann));
    const auto& stats = hub_stats.at("stats").as_object();
    CHECK(stats.at("totalCreditChf").as_int64() == 50);
    CHECK(stats.at("unsettledCreditChf").as_int64() == 50);
    CHECK(stats.at("periodCount").as_int64() == 0);
    CHECK(stats.at("lastPeriodEnd").is_null());
    CHECK(stats.at("totalHeatKwh").is_number());

    const auto site = json_of(f.call("GET", "/api/heat/stats?site=baths", f.ann));
    CHECK(site.at("stats").at("groupBy").as_string() == "site");
    CHECK(site.at("stats").at("totalCreditChf").as_int64() == 50);
    const auto region = json_of(f.call("GET", "/api/heat/stats?region=CH", f.op));
    CHECK(region.at("stats").at("hubIds").as_array().size() == 1);

    CHECK(field_of(f.call("GET", "/api/heat/stats", f.ann)) == "hubId");
    CHECK(field_of(f.call("GET", "/api/heat/stats?hubId=pool&site=baths", f.ann)) == "site");
    CHECK(field_of(f.call("GET", "/api/heat/stats?hubId=pool&region=CH", f.ann)) == "region");
    error_of(f.call("GET", "/api/heat/stats?site=nowhere", f.ann), 404);
    error_of(f.call("GET", "/api/heat/stats?hubId=pool", f.bee), 403);
}

TEST_CASE("POST /api/heat/settle settles a period for an operator only, with the seed's answer") {
    HeatFixture f;
    const std::string period =
        R"({"hubId":"pool","periodStart":"2025-12-31T00:00:00Z","periodEnd":"2026-01-01T00:00:00Z"})";
    error_of(f.call("POST", "/api/heat/settle", f.ann, period), 403);
    error_of(f.call("POST", "/api/heat/settle", f.bee, period), 403);
    error_of(f.call("POST", "/api/heat/settle", f.revoked, period), 401);
    CHECK(f.hub.heat_ledger().settlements("pool").empty());

    const auto answer = f.call("POST", "/api/heat/settle", f.op, period);
    REQUIRE(answer.status == 200);
    const auto body = json_of(answer);
    CHECK(body.at("success").as_bool());
    CHECK(body.at("settledCreditChf").as_int64() == 50);
    CHECK(body.at("currency").as_string() == "CHF");
    CHECK(body.at("settlement").at("hubId").as_string() == "pool");
    REQUIRE(f.hub.heat_ledger().settlements("pool").size() == 1);
    // Settling the same period again returns it unchanged; an overlapping one is 409.
    CHECK(json_of(f.call("POST", "/api/heat/settle", f.op, period)).at("settledCreditChf") == 50);
    error_of(f.call("POST", "/api/heat/settle", f.op,
                    R"({"hubId":"pool","periodStart":"2025-12-31T12:00:00Z",)"
                    R"("periodEnd":"2026-01-01T00:00:00Z"})"),
             409);
}

TEST_CASE("a malformed settle body is 400 naming the field, and settles nothing") {
    HeatFixture f;
    CHECK(field_of(f.call("POST", "/api/heat/settle", f.op,
                          R"({"periodStart":"2025-12-31T00:00:00Z",)"
                          R"("periodEnd":"2026-01-01T00:00:00Z"})")) == "hubId");
    CHECK(field_of(f.call("POST", "/api/heat/settle", f.op,
                          R"({"hubId":"pool","periodStart":1,)"
                          R"("periodEnd":"2026-01-01T00:00:00Z"})")) == "periodStart");
    CHECK(field_of(f.call("POST", "/api/heat/settle", f.op,
                          R"({"hubId":"pool","periodStart":"2025-12-31T00:00:00Z",)"
                          R"("periodEnd":"tomorrow"})")) == "periodEnd");
    CHECK(field_of(f.call("POST", "/api/heat/settle", f.op,
                          R"({"hubId":"pool","periodStart":"2025-12-31T00:00:00Z",)"
                          R"("periodEnd":"2026-01-01T00:00:00Z","force":true})")) == "force");
    // A period that has not ended yet is the ledger's refusal.
    CHECK(field_of(f.call("POST", "/api/heat/settle", f.op,
                          R"({"hubId":"pool","periodStart":"2025-12-31T00:00:00Z",)"
                          R"("periodEnd":"2027-01-01T00:00:00Z"})")) != "");
    CHECK(f.call("POST", "/api/heat/settle", f.op, "not json").status == 400);
    CHECK(f.hub.heat_ledger().settlements("pool").empty());
}

TEST_CASE("HeatPeriod::from_json decodes the settle body strictly") {
    const auto period = HeatPeriod::from_json(
        R"({"hubId":"pool","periodStart":"2025-12-31T00:00:00Z","periodEnd":"2026-01-01T00:00:00Z"})");
    CHECK(period.hub_id == "pool");
    CHECK(period.period_end.ms() - period.period_start.ms() == 86'400'000);
    CHECK_THROWS_AS(HeatPeriod::from_json(R"([])"), Error);
    CHECK_THROWS_AS(HeatPeriod::from_json(R"({"hubId":"a","hubId":"b"})"), Error);
}
