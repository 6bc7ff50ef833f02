// SPDX-License-Identifier: Apache-2.0
#include "heat/fixture.hpp"
#include "heat/heat_internal.hpp"
#include "heat/ledger_rows.hpp"
#include "store/schema.hpp"

#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <sihlicon/error.hpp>
#include <tuple>

#include <boost/json.hpp>

#include <random>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::HeatFixture;
using sihlicon::testing::kDay;
using sihlicon::testing::kHour;

namespace {

std::int64_t count_rows(HeatFixture& fixture, const char* table) {
    return fixture.database().read([&](store::Transaction& tx) {
        auto statement = tx.prepare(std::string("SELECT COUNT(*) FROM ") + table);
        statement.step();
        return statement.column_int64(0);
    });
}

std::int64_t credit_of(HeatFixture& fixture, std::int64_t from, std::int64_t to) {
    return fixture.ledger()
        .credits("pool", HeatFixture::t(from), HeatFixture::t(to))
        .credit.minor_units();
}

}  // namespace

TEST_CASE("a manual heat record keeps its kind, tag, source and both instants") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(2 * kDay);
    ManualHeat heat;
    heat.hub_id = "pool";
    heat.kind = HeatKind::other;
    heat.tag = "wood stove";
    heat.at = HeatFixture::t(kDay);
    heat.thermal = Energy::parse_kwh("2.5");
    heat.electrical = Energy::parse_kwh("0");
    heat.source = EnergySource::estimated;
    const auto record = fixture.ledger().record(heat);
    CHECK(record.sequence == 1);
    CHECK(record.kind == HeatKind::other);
    CHECK(record.tag == "wood stove");
    CHECK(record.credit_at == record.at);
    CHECK(record.recorded_at == HeatFixture::t(2 * kDay));
    const auto json = boost::json::parse(record.to_json()).as_object();
    CHECK(json.at("kind") == "other");
    CHECK(json.at("energySource") == "estimated");
    CHECK(json.at("thermalKwh").to_number<double>() == 2.5);
    CHECK(json.at("jobId").is_null());
    CHECK(json.at("at") == "2026-01-02T00:00:00.000Z");

    heat.at.reset();  // delivered now
    CHECK(fixture.ledger().record(heat).at == HeatFixture::t(2 * kDay));
}

TEST_CASE("bad heat input is refused and changes nothing") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    ManualHeat good;
    good.hub_id = "pool";
    good.at = HeatFixture::t(kHour);
    good.thermal = Energy::milliwatt_hours(1000);
    good.kind = HeatKind::battery_losses;

    auto untagged = good;
    untagged.kind = HeatKind::other;
    auto job = good;
    job.kind = HeatKind::job;
    auto future = good;
    future.at = HeatFixture::t(kDay + 1);
    auto negative = good;
    negative.thermal = Energy::milliwatt_hours(-1);
    auto elsewhere = good;
    elsewhere.hub_id = "nowhere";

    for (const auto& bad : {untagged, job, future, negative}) {
        CHECK(error_of([&] {
                  fixture.ledger().record_many({good, bad});
              }) == ErrorCode::invalid_argument);
    }
    CHECK(error_of([&] {
              fixture.ledger().record_many({good, elsewhere});
          }) == ErrorCode::not_found);
    try {
        fixture.ledger().record_many({good, untagged});
    } catch (const Error& error) {
        CHECK(error.field() == "records[1].tag");
    }
    CHECK(count_rows(fixture, "heat_records") == 0);
    CHECK(count_rows(fixture, "heat_buckets") == 0);
}

TEST_CASE("credits round the period total half to even, never record by record") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(30 * kDay);
    // At 5 centimes per kWh thermal, 1 centime is 200,000 mWh.
    fixture.heat("pool", 0, 100'000);                      // 0.5 centime
    CHECK(credit_of(fixture, 0, kHour) == 0);              // 0.5 -> 0 (even)
    fixture.heat("pool", kHour, 300'000);                  // 1.5 centimes
    CHECK(credit_of(fixture, kHour, 2 * kHour) == 2);      // 1.5 -> 2 (even)
    fixture.heat("pool", 2 * kHour, 500'000);              // 2.5 centimes
    CHECK(credit_of(fixture, 2 * kHour, 3 * kHour) == 2);  // 2.5 -> 2 (even)
    fixture.heat("pool", 3 * kHour, 299'999);
    CHECK(credit_of(fixture, 3 * kHour, 4 * kHour) == 1);  // 1.499995 -> 1
    fixture.heat("pool", 4 * kHour, 300'001);
    CHECK(credit_of(fixture, 4 * kHour, 5 * kHour) == 2);  // 1.500005 -> 2
    // 0.5 + 1.5 + 2.5 + 1.499995 + 1.500005 = 7.5 -> 8 for the whole, not 0+2+2+1+2 = 7.
    const auto whole = fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(kDay));
    CHECK(whole.total_heat.mwh() == 1'500'000);
    CHECK(whole.credit == Money(8, Currency::of("CHF")));

    // 400 records of 1,000 mWh: each is 0.005 centime (0 if rounded alone); together 2.
    fixture.at(60 * kDay);
    std::vector<ManualHeat> small(400);
    for (std::size_t i = 0; i < small.size(); ++i) {
        small[i].hub_id = "pool";
        small[i].kind = HeatKind::standalone_heater;
        small[i].at = HeatFixture::t(40 * kDay + static_cast<std::int64_t>(i) * 1000);
        small[i].thermal = Energy::milliwatt_hours(1000);
    }
    fixture.ledger().record_many(small);
    CHECK(credit_of(fixture, 40 * kDay, 41 * kDay) == 2);
}

TEST_CASE("a rate change splits a period into segments whose sum is rounded once") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    const auto chf = Currency::of("CHF");
    fixture.ledger().set_credit_rate("pool", Money(3, chf), HeatFixture::t(12 * kHour));
    fixture.heat("pool", kHour, 300'000);       // at 5: 1.5 centimes
    fixture.heat("pool", 13 * kHour, 300'000);  // at 3: 0.9 centime
    // 1.5 + 0.9 = 2.4 -> 2 (segment by segment it would be 2 + 1 = 3).
    CHECK(credit_of(fixture, 0, kDay) == 2);
    CHECK(credit_of(fixture, 0, 12 * kHour) == 2);
    CHECK(credit_of(fixture, 12 * kHour, kDay) == 1);
    const auto rates = fixture.ledger().credit_rates("pool");
    REQUIRE(rates.size() == 2);
    CHECK(rates[0].is_default);
    CHECK(rates[0].per_kwh == Money(5, chf));
    CHECK(rates[1].per_kwh == Money(3, chf));
    CHECK(rates[1].effective_from == HeatFixture::t(12 * kHour));
}

TEST_CASE("all of a hub's rates share one currency") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.add_hub("bath");
    const auto eur = Currency::of("EUR");
    CHECK(error_of([&] {
              fixture.ledger().set_credit_rate("pool", Money(4, eur), HeatFixture::t(kDay));
          }) == ErrorCode::conflict);
    // From the epoch on, the rate replaces the CHF default entirely.
    fixture.ledger().set_credit_rate("bath", Money(4, eur), Timestamp());
    fixture.ledger().set_credit_rate("bath", Money(6, eur), HeatFixture::t(kDay));
    CHECK(
        fixture.ledger().credits("bath", HeatFixture::t(0), HeatFixture::t(1)).credit.currency() ==
        eur);
    CHECK(error_of([&] {
              fixture.ledger().set_credit_rate("bath", Money(4, Currency::of("CHF")),
                                               HeatFixture::t(2 * kDay));
          }) == ErrorCode::conflict);
}

TEST_CASE("settling a period is idempotent and its figures never change") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(40 * kDay);
    fixture.heat("pool", kDay, 2'000'000);       // 2 kWh: 10 centimes
    fixture.heat("pool", 31 * kDay, 4'000'000);  // February
    const auto first =
        fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    CHECK(first.total_heat.mwh() == 2'000'000);
    CHECK(first.credit.minor_units() == 10);
    CHECK(first.record_count == 1);
    CHECK(first.settled_at == HeatFixture::t(40 * kDay));
    const auto json = boost::json::parse(first.to_json()).as_object();
    CHECK(json.at("settledCreditChf") == 10);

    fixture.at(41 * kDay);
    const auto again =
        fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    CHECK(again.credit == first.credit);
    CHECK(again.settled_at == first.settled_at);
    CHECK(count_rows(fixture, "heat_settlements") == 1);

    const auto credit =
        fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    CHECK(credit.settled);
    CHECK(credit.credit.minor_units() == 10);
    const auto credit_json = boost::json::parse(credit.to_json()).as_object();
    for (const char* key :
         {"hubId", "periodStart", "periodEnd", "totalHeatKwh", "heatCreditChf", "settled"}) {
        CHECK(credit_json.contains(key));
    }
    CHECK(credit_json.at("totalHeatKwh").to_number<double>() == 2.0);
    CHECK(credit_json.at("settled") == true);
    // A sub-span of a settled period is settled too; a span reaching past it is not.
    CHECK(fixture.ledger().credits("pool", HeatFixture::t(kDay), HeatFixture::t(2 * kDay)).settled);
    CHECK_FALSE(
        fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(32 * kDay)).settled);
}

TEST_CASE("a period overlapping a settled one is refused; an adjacent one is not") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(90 * kDay);
    fixture.ledger().settle("pool", HeatFixture::t(10 * kDay), HeatFixture::t(20 * kDay));
    for (const auto& [start, end] :
         {std::pair{5 * kDay, 11 * kDay}, std::pair{19 * kDay, 25 * kDay},
          std::pair{12 * kDay, 13 * kDay}, std::pair{0 * kDay, 30 * kDay},
          std::pair{10 * kDay, 21 * kDay}}) {
        CHECK(error_of([&] {
                  fixture.ledger().settle("pool", HeatFixture::t(start), HeatFixture::t(end));
              }) == ErrorCode::conflict);
    }
    fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(10 * kDay));
    fixture.ledger().settle("pool", HeatFixture::t(20 * kDay), HeatFixture::t(30 * kDay));
    CHECK(count_rows(fixture, "heat_settlements") == 3);
    // A period is settled once it has ended; an empty or reversed one is malformed.
    CHECK(error_of([&] {
              fixture.ledger().settle("pool", HeatFixture::t(89 * kDay), HeatFixture::t(91 * kDay));
          }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              fixture.ledger().settle("pool", HeatFixture::t(40 * kDay), HeatFixture::t(40 * kDay));
          }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              fixture.ledger().settle("nowhere", HeatFixture::t(40 * kDay),
                                      HeatFixture::t(41 * kDay));
          }) == ErrorCode::not_found);
}

TEST_CASE("a record arriving late for a settled period counts in the next open period") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(70 * kDay);
    fixture.heat("pool", 15 * kDay, 2'000'000);
    const auto january =
        fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));

    // Delivered on 16 January, recorded after January was settled.
    const auto late = fixture.heat("pool", 16 * kDay, 1'000'000);
    CHECK(late.at == HeatFixture::t(16 * kDay));
    CHECK(late.credit_at == HeatFixture::t(31 * kDay));  // 1 February, 00:00
    const auto january_again =
        fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    CHECK(january_again.total_heat == january.total_heat);
    CHECK(january_again.credit == january.credit);
    const auto february =
        fixture.ledger().credits("pool", HeatFixture::t(31 * kDay), HeatFixture::t(59 * kDay));
    CHECK(february.total_heat.mwh() == 1'000'000);
    CHECK_FALSE(february.settled);

    // With February settled too, a record for January moves past both.
    fixture.ledger().settle("pool", HeatFixture::t(31 * kDay), HeatFixture::t(59 * kDay));
    const auto later = fixture.heat("pool", 20 * kDay, 500'000);
    CHECK(later.credit_at == HeatFixture::t(59 * kDay));
    const auto late_job = fixture.database().write([&](store::Transaction& tx) {
        return detail::record_job_heat(tx, fixture.core(), "pool", "job-late",
                                       Energy::milliwatt_hours(0), EnergySource::modelled,
                                       HeatFixture::t(40 * kDay));
    });
    CHECK(late_job.credit_at == HeatFixture::t(59 * kDay));
    // The default credit period starts where settlement stopped and holds the late record.
    const auto open = fixture.ledger().credits("pool");
    CHECK(open.period_start == HeatFixture::t(59 * kDay));
    CHECK(open.period_end == HeatFixture::t(70 * kDay));
    CHECK(open.total_heat.mwh() == 500'000);

    // The time series shows the heat when it was delivered.
    const auto series = fixture.ledger().series("pool", SeriesResolution::day, HeatFixture::t(0),
                                                HeatFixture::t(31 * kDay));
    CHECK(series.points[16].heat.mwh() == 1'000'000);
    CHECK(series.points[20].heat.mwh() == 500'000);

    // A batch of job records (complete_many's) credits each for its own hub and instant.
    fixture.add_hub("spa");
    const auto batch = fixture.database().write([&](store::Transaction& tx) {
        detail::JobHeatBatch heat(tx);
        std::vector<HeatRecord> records;
        for (const auto& [hub, job, day] :
             {std::tuple{"pool", "job-b1", 40}, std::tuple{"pool", "job-b2", 40},
              std::tuple{"spa", "job-b3", 40}, std::tuple{"pool", "job-b4", 65}}) {
            records.push_back(heat.record(fixture.core(), hub, job, Energy::milliwatt_hours(0),
                                          EnergySource::modelled, HeatFixture::t(day * kDay)));
        }
        heat.finish();
        return records;
    });
    CHECK(batch[0].credit_at == HeatFixture::t(59 * kDay));
    CHECK(batch[1].credit_at == HeatFixture::t(59 * kDay));
    CHECK(batch[2].credit_at == HeatFixture::t(40 * kDay));  // nothing settled at the spa
    CHECK(batch[3].credit_at == HeatFixture::t(65 * kDay));  // after the settled periods
}

TEST_CASE("stats add settled credits and the unsettled remainder") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(100 * kDay);
    auto empty = fixture.ledger().stats("pool");
    CHECK(empty.period_count == 0);
    CHECK_FALSE(empty.last_period_end);
    CHECK(boost::json::parse(empty.to_json()).as_object().at("lastPeriodEnd").is_null());

    fixture.heat("pool", kDay, 300'000);                                            // 1.5
    fixture.heat("pool", 40 * kDay, 300'000);                                       // 1.5
    fixture.heat("pool", 50 * kDay, 300'000);                                       // 1.5
    fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));  // 2
    const auto stats = fixture.ledger().stats("pool");
    CHECK(stats.total_heat.mwh() == 900'000);
    CHECK(stats.unsettled_credit.minor_units() == 3);  // 3.0, one period
    CHECK(stats.total_credit.minor_units() == 5);
    CHECK(stats.period_count == 1);
    CHECK(stats.last_period_end == HeatFixture::t(31 * kDay));
    const auto json = boost::json::parse(stats.to_json()).as_object();
    CHECK(json.at("totalCreditChf") == 5);
    CHECK(json.at("unsettledCreditChf") == 3);
    CHECK(json.at("periodCount") == 1);
    CHECK(json.at("lastPeriodEnd") == "2026-02-01T00:00:00.000Z");
    // A span of settled periods counts with their settled credits.
    CHECK(fixture.ledger()
              .credits("pool", HeatFixture::t(0), HeatFixture::t(100 * kDay))
              .credit.minor_units() == 5);
}

TEST_CASE("a rate cannot change a settled period") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(60 * kDay);
    fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    const auto chf = Currency::of("CHF");
    CHECK(error_of([&] {
              fixture.ledger().set_credit_rate("pool", Money(7, chf), HeatFixture::t(30 * kDay));
          }) == ErrorCode::conflict);
    fixture.ledger().set_credit_rate("pool", Money(7, chf), HeatFixture::t(31 * kDay));
}

TEST_CASE("job heat is electrical energy times the hub's heat recovery") {
    HeatFixture fixture;
    fixture.add_hub("pool", 920'000);
    fixture.at(kDay);
    const auto record = fixture.database().write([&](store::Transaction& tx) {
        return detail::record_job_heat(tx, fixture.core(), "pool", "job-1",
                                       Energy::milliwatt_hours(1'000'001), EnergySource::measured,
                                       HeatFixture::t(kHour));
    });
    CHECK(record.kind == HeatKind::job);
    CHECK(record.job_id == "job-1");
    CHECK(record.thermal.mwh() == 920'001);  // 920,000.92 -> 920,001
    CHECK(record.heat_recovery_ppm == 920'000);
    CHECK(fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(kDay)).total_heat ==
          record.thermal);
    // A second record of the same job is refused, naming it, and changes nothing.
    CHECK_THROWS_WITH_AS(fixture.database().write([&](store::Transaction& tx) {
        detail::record_job_heat(tx, fixture.core(), "pool", "job-1", Energy::milliwatt_hours(5),
                                EnergySource::measured, HeatFixture::t(kHour));
    }),
                         "job job-1 already has a heat record", Error);
    CHECK(fixture.ledger().credits("pool", HeatFixture::t(0), HeatFixture::t(kDay)).total_heat ==
          record.thermal);
    // The next record takes the next sequence.
    const auto next = fixture.database().write([&](store::Transaction& tx) {
        return detail::record_job_heat(tx, fixture.core(), "pool", "job-2",
                                       Energy::milliwatt_hours(5), EnergySource::measured,
                                       HeatFixture::t(kHour));
    });
    CHECK(next.sequence == record.sequence + 1);
}

TEST_CASE("heat is recorded in the same transaction as the completion: a failure leaves neither") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    const auto completion_marker = [&](store::Transaction& tx) {
        tx.prepare("UPDATE hubs SET updated_at = 42 WHERE id = 'pool'").run();
    };
    const auto marker_written = [&] {
        return fixture.database().read([](store::Transaction& tx) {
            auto statement = tx.prepare("SELECT updated_at FROM hubs WHERE id = 'pool'");
            statement.step();
            return statement.column_int64(0) == 42;
        });
    };
    SUBCASE("the completion fails after the heat was recorded") {
        CHECK_THROWS_AS(fixture.database().write([&](store::Transaction& tx) {
            detail::record_job_heat(tx, fixture.core(), "pool", "job-1",
                                    Energy::milliwatt_hours(1000), EnergySource::measured,
                                    HeatFixture::t(kHour));
            completion_marker(tx);
            throw Error(ErrorCode::conflict, "the completion failed");
        }),
                        Error);
    }
    SUBCASE("the heat record fails after the completion was written") {
        CHECK_THROWS_AS(fixture.database().write([&](store::Transaction& tx) {
            completion_marker(tx);
            detail::record_job_heat(tx, fixture.core(), "pool", "job-1",
                                    Energy::milliwatt_hours(-1), EnergySource::measured,
                                    HeatFixture::t(kHour));
        }),
                        Error);
    }
    CHECK_FALSE(marker_written());
    CHECK(count_rows(fixture, "heat_records") == 0);
    CHECK(count_rows(fixture, "heat_buckets") == 0);
    CHECK(fixture.ledger().stats("pool").total_heat.mwh() == 0);
}

TEST_CASE("a failing settlement posting undoes the settlement") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(40 * kDay);
    fixture.heat("pool", kDay, 2'000'000);
    std::vector<std::int64_t> posted;
    detail::HeatLedgerAccess::set_settlement_posting(
        fixture.ledger(), [&](store::Transaction& tx, const HeatSettlement& settlement) {
            auto statement =
                tx.prepare("SELECT COUNT(*) FROM heat_settlements WHERE period_start = ?");
            statement.bind_all(settlement.period_start.ms());
            statement.step();
            CHECK(statement.column_int64(0) == 1);  // inside the settle transaction
            posted.push_back(settlement.credit.minor_units());
            if (settlement.period_start == HeatFixture::t(31 * kDay)) {
                throw Error(ErrorCode::insufficient_funds, "the journal refused");
            }
        });
    fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));
    fixture.ledger().settle("pool", HeatFixture::t(0), HeatFixture::t(31 * kDay));  // no repost
    CHECK(posted == std::vector<std::int64_t>{10});
    CHECK(error_of([&] {
              fixture.ledger().settle("pool", HeatFixture::t(31 * kDay), HeatFixture::t(32 * kDay));
          }) == ErrorCode::insufficient_funds);
    CHECK(fixture.ledger().settlements("pool").size() == 1);
    detail::HeatLedgerAccess::set_settlement_posting(fixture.ledger(), {});
}

TEST_CASE("a period's total from buckets equals the sum of its records at any edges") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.add_hub("bath");
    fixture.at(10 * kDay);
    std::mt19937_64 random(7);
    std::vector<ManualHeat> heat(2000);
    for (auto& record : heat) {
        record.hub_id = random() % 4 == 0 ? "bath" : "pool";
        record.kind = HeatKind::battery_losses;
        record.at = HeatFixture::t(static_cast<std::int64_t>(random() % (9 * kDay)));
        record.thermal = Energy::milliwatt_hours(static_cast<std::int64_t>(random() % 100'000));
    }
    fixture.ledger().record_many(heat);
    for (int trial = 0; trial < 200; ++trial) {
        std::int64_t from = static_cast<std::int64_t>(random() % (10 * kDay));
        std::int64_t to = static_cast<std::int64_t>(random() % (10 * kDay));
        if (trial % 5 == 0) {
            from -= from % kHour;  // aligned edges too
        }
        if (from == to) {
            continue;
        }
        if (from > to) {
            std::swap(from, to);
        }
        std::int64_t expected = 0;
        for (const auto& record : heat) {
            const auto at = record.at->ms() - HeatFixture::t(0).ms();
            if (record.hub_id == "pool" && at >= from && at < to) {
                expected += record.thermal.mwh();
            }
        }
        const auto credit =
            fixture.ledger().credits("pool", HeatFixture::t(from), HeatFixture::t(to));
        REQUIRE(credit.total_heat.mwh() == expected);
    }
}

TEST_CASE("the series buckets electricity, heat and heat demand by hour and by day") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(2 * kDay);
    ManualHeat heater;
    heater.hub_id = "pool";
    heater.kind = HeatKind::standalone_heater;
    heater.at = HeatFixture::t(kHour + 10);
    heater.thermal = Energy::milliwatt_hours(900);
    heater.electrical = Energy::milliwatt_hours(1000);
    fixture.ledger().record(heater);
    heater.at = HeatFixture::t(kDay + 5 * kHour);
    fixture.ledger().record(heater);
    fixture.database().write([&](store::Transaction& tx) {
        // 2 kW from 00:30 to 01:30, then 1 kW until it expires at 03:00.
        detail::record_heat_demand(tx, fixture.core(), "pool", 2000, HeatFixture::t(kHour / 2));
        detail::record_heat_demand(tx, fixture.core(), "pool", 1000,
                                   HeatFixture::t(kHour + kHour / 2), HeatFixture::t(3 * kHour));
    });
    const auto hours = fixture.ledger().series("pool", SeriesResolution::hour, HeatFixture::t(10),
                                               HeatFixture::t(4 * kHour - 1));
    REQUIRE(hours.points.size() == 4);
    CHECK(hours.points[0].start == HeatFixture::t(0));
    CHECK(hours.points[0].heat_demand.mwh() == 1'000'000);  // 2 kW for half an hour
    CHECK(hours.points[1].heat_demand.mwh() == 1'500'000);  // 2 kW + 1 kW, half an hour each
    CHECK(hours.points[1].heat.mwh() == 900);
    CHECK(hours.points[1].electricity.mwh() == 1000);
    CHECK(hours.points[1].records == 1);
    CHECK(hours.points[2].heat_demand.mwh() == 1'000'000);
    CHECK(hours.points[3].heat_demand.mwh() == 0);  // expired
    const auto days = fixture.ledger().series("pool", SeriesResolution::day, HeatFixture::t(0),
                                              HeatFixture::t(2 * kDay));
    REQUIRE(days.points.size() == 2);
    CHECK(days.points[0].heat.mwh() == 900);
    CHECK(days.points[0].heat_demand.mwh() == 3'500'000);
    CHECK(days.points[1].heat.mwh() == 900);
    const auto json = boost::json::parse(days.to_json()).as_object();
    CHECK(json.at("resolution") == "day");
    CHECK(json.at("points").as_array().size() == 2);
    CHECK(error_of([&] {
              fixture.ledger().series("pool", SeriesResolution::hour, HeatFixture::t(0),
                                      HeatFixture::t(10'001 * kHour));
          }) == ErrorCode::invalid_argument);
}

TEST_CASE("unmet heat demand is demand minus the heat delivered in the recent window") {
    HeatFixture fixture;
    fixture.add_hub("pool");
    fixture.at(kDay);
    CHECK(fixture.ledger().unmet_heat_demand_w("pool") == 0);
    fixture.database().write([&](store::Transaction& tx) {
        detail::record_heat_demand(tx, fixture.core(), "pool", 5000, HeatFixture::t(kDay),
                                   HeatFixture::t(2 * kDay));
    });
    CHECK(fixture.ledger().unmet_heat_demand_w("pool") == 5000);
    // 500 Wh delivered in the last 15 minutes is 2 kW on average.
    fixture.heat("pool", kDay - 60'000, 500'000);
    fixture.heat("pool", kDay - 20 * 60'000, 900'000);  // outside the window
    CHECK(fixture.ledger().unmet_heat_demand_w("pool") == 3000);
    CHECK(fixture.ledger().unmet_heat_demand_w("pool", std::chrono::minutes(2)) == 0);
    fixture.at(2 * kDay);  // the demand expired
    CHECK(fixture.ledger().unmet_heat_demand_w("pool") == 0);
    CHECK(error_of([&] { fixture.ledger().unmet_heat_demand_w("nowhere"); }) ==
          ErrorCode::not_found);
}

TEST_CASE("the heat ledger's tables are migration 4 and counted by info") {
    HeatFixture fixture;
    const auto migrations = store::hub_migrations();
    REQUIRE(migrations.size() >= 4);
    CHECK(migrations[3].version == 4);
    CHECK(migrations[3].name == "heat_ledger");
    const auto info = fixture.hub.info();
    bool counted = false;
    for (const auto& [label, count] : info.counts) {
        counted = counted || label == "heatRecords";
    }
    CHECK(counted);
}
