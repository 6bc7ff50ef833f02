// SPDX-License-Identifier: Apache-2.0
//
// Aggregating one period of 10,000,000 heat records (issue 5: at most 1 s). The records are
// spread over January 2026 on one hub and inserted with HeatLedger::record_many in batches of
// 100,000 (one transaction each, durability process_crash). Then the period, whose edges fall
// inside hours that hold records, is aggregated by credits() (day and hour buckets plus the
// records of the two partial edge hours), settled, and summarised by stats(). The reference,
// measured in the same process, is one indexed SQL scan summing every record of the period.
//
//   build/release/benchmarks/heat/heat_benchmark [records] [hub directory]
#include "hub/hub_internal.hpp"

#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace sihlicon;

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::size_t kBatch = 100'000;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Action>
double best_and_worst(int runs, Action action, double& worst) {
    double best = 1e9;
    worst = 0;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        action();
        const double elapsed = seconds_since(start);
        best = std::min(best, elapsed);
        worst = std::max(worst, elapsed);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t count = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
    const std::filesystem::path directory =
        argc > 2 ? std::filesystem::path(argv[2])
                 : std::filesystem::temp_directory_path() / "sihlicon-heat-benchmark";
    std::filesystem::remove_all(directory);

    auto clock = std::make_shared<ManualClock>(Timestamp::from_ms(kJan1 + 40 * kDay));
    HubOptions options;
    options.clock = clock;
    options.durability = Durability::process_crash;
    options.integrity_check = IntegrityCheck::none;
    auto hub = Hub::open(directory, options);
    HubAccess::database(hub).write([](store::Transaction& tx) {
        tx.prepare(
              "INSERT INTO hubs (id, name, site, region, heat_recovery_ppm, power_capacity_w, "
              "routing_policy, created_at, updated_at) VALUES ('pool', 'Pool', 'site-pool', 'CH', "
              "900000, 100000, 'least-loaded', 0, 0)")
            .run();
    });
    HeatLedger& ledger = hub.heat_ledger();

    // Records from 2026-01-01T00:30Z to 2026-01-31T23:30Z, evenly spaced.
    const std::int64_t first = kJan1 + kHour / 2;
    const std::int64_t span = 31 * kDay - kHour;
    std::mt19937_64 random(5);
    std::int64_t expected_mwh = 0;
    const auto insert_start = std::chrono::steady_clock::now();
    std::vector<ManualHeat> batch;
    for (std::int64_t i = 0; i < count;) {
        batch.clear();
        for (std::size_t j = 0; j < kBatch && i < count; ++j, ++i) {
            ManualHeat heat;
            heat.hub_id = "pool";
            heat.kind = HeatKind::standalone_heater;
            heat.at = Timestamp::from_ms(
                first + static_cast<std::int64_t>(static_cast<Int128>(i) * span / count));
            heat.thermal = Energy::milliwatt_hours(static_cast<std::int64_t>(random() % 20'000));
            expected_mwh += heat.thermal.mwh();
            batch.push_back(std::move(heat));
        }
        ledger.record_many(batch);
    }
    const double insert_seconds = seconds_since(insert_start);
    std::printf("inserted %lld heat records in %.1f s (%.0f records/s)\n",
                static_cast<long long>(count), insert_seconds,
                static_cast<double>(count) / insert_seconds);

    // The period's edges cut the first and the last hour that hold records.
    const auto start = Timestamp::from_ms(kJan1 + 17 * 60'000 + 23'456);
    const auto end = Timestamp::from_ms(kJan1 + 31 * kDay - 17 * 60'000 - 999);
    HeatCredit credit;
    double worst = 0;
    const double best = best_and_worst(
        5, [&] { credit = ledger.credits("pool", start, end); }, worst);
    std::printf("credits() over %lld records: %.2f ms (worst of 5: %.2f ms) -> %s kWh, %s\n",
                static_cast<long long>(count), best * 1e3, worst * 1e3,
                credit.total_heat.to_kwh_string().c_str(), credit.credit.to_string().c_str());

    std::int64_t scanned_mwh = 0;
    std::int64_t scanned_records = 0;
    double reference_worst = 0;
    const double reference = best_and_worst(
        1,
        [&] {
            HubAccess::database(hub).read([&](store::Transaction& tx) {
                auto statement = tx.prepare(
                    "SELECT SUM(thermal_mwh), COUNT(*) FROM heat_records WHERE hub_id = 'pool' "
                    "AND credit_at >= ? AND credit_at < ?");
                statement.bind_all(start.ms(), end.ms());
                statement.step();
                scanned_mwh = statement.column_int64(0);
                scanned_records = statement.column_int64(1);
            });
        },
        reference_worst);
    std::printf("reference: one SQL scan of the %lld records: %.2f ms (%.0fx slower)\n",
                static_cast<long long>(scanned_records), reference * 1e3, reference / best);

    const auto settle_start = std::chrono::steady_clock::now();
    const auto settlement = ledger.settle("pool", start, end);
    const double settle_seconds = seconds_since(settle_start);
    std::printf("settle(): %.2f ms -> %lld records, %s\n", settle_seconds * 1e3,
                static_cast<long long>(settlement.record_count),
                settlement.credit.to_string().c_str());
    double stats_worst = 0;
    HeatStats stats;
    const double stats_best = best_and_worst(
        3, [&] { stats = ledger.stats("pool"); }, stats_worst);
    std::printf("stats(): %.2f ms -> %s kWh, %s total\n", stats_best * 1e3,
                stats.total_heat.to_kwh_string().c_str(), stats.total_credit.to_string().c_str());

    const bool exact = credit.total_heat.mwh() == expected_mwh && scanned_mwh == expected_mwh &&
                       scanned_records == count && settlement.record_count == count &&
                       settlement.credit == credit.credit;
    std::printf("totals agree with the records: %s\n", exact ? "yes" : "NO");
    std::printf("aggregation of one period of %lld records: %.3f s worst (target <= 1 s: %s)\n",
                static_cast<long long>(count), std::max(worst, settle_seconds),
                std::max(worst, settle_seconds) <= 1.0 ? "met" : "NOT met");
    std::filesystem::remove_all(directory);
    return exact ? EXIT_SUCCESS : EXIT_FAILURE;
}
