// SPDX-License-Identifier: Apache-2.0
//
// Hubs: options, open, close, info; the service options read from JSON.
#include "capi_internal.hpp"

#include <cstddef>
#include <cstring>

namespace sihlicon::capi {

namespace {

std::chrono::milliseconds duration(json::ObjectReader& reader, std::string_view key,
                                   std::chrono::milliseconds current) {
    return std::chrono::milliseconds(
        reader.optional_int64(key, 0, 365LL * 24 * 3600 * 1000).value_or(current.count()));
}

}  // namespace

void apply_scheduler_options(SchedulerOptions& options, const char* json, std::string_view field) {
    const auto value = json_argument(json, field);
    json::ObjectReader reader(value, std::string(field));
    auto next = options;
    next.lease_duration = duration(reader, "leaseDurationMs", next.lease_duration);
    next.heartbeat_interval = duration(reader, "heartbeatIntervalMs", next.heartbeat_interval);
    next.missed_heartbeats =
        reader.optional_int64("missedHeartbeats", 1, 1'000'000).value_or(next.missed_heartbeats);
    next.aging_interval = duration(reader, "agingIntervalMs", next.aging_interval);
    next.submissions_per_hour = reader.optional_int64("submissionsPerHour", 0, INT64_MAX)
                                    .value_or(next.submissions_per_hour);
    next.claim_scan_limit =
        reader.optional_int64("claimScanLimit", 1, 1'000'000).value_or(next.claim_scan_limit);
    next.input_recheck_interval =
        duration(reader, "inputRecheckIntervalMs", next.input_recheck_interval);
    reader.finish();
    options = next;
}

void apply_settlement_options(SettlementOptions& options, const char* json,
                              std::string_view field) {
    const auto value = json_argument(json, field);
    json::ObjectReader reader(value, std::string(field));
    auto next = options;
    // The currency first: the prices are read in it.
    if (auto code = reader.optional_string("currency", 3)) {
        next.currency = Currency::of(*code);
        next.default_price = Money(next.default_price.minor_units(), next.currency);
        next.prices.clear();
    }
    next.charge_jobs = reader.optional_bool("chargeJobs").value_or(next.charge_jobs);
    next.require_worker_signatures =
        reader.optional_bool("requireWorkerSignatures").value_or(next.require_worker_signatures);
    if (auto price = reader.optional_string("defaultPrice", 40)) {
        next.default_price = Money::parse(*price, next.currency, reader.path_of("defaultPrice"));
    }
    if (auto prices = reader.optional_string_map("prices", 64, 40)) {
        for (const auto& [type, price] : *prices) {
            const auto path = reader.path_of("prices") + "." + type;
            parse_job_type(type, path);
            next.prices.insert_or_assign(type, Money::parse(price, next.currency, path));
        }
    }
    const auto ppm = [&](std::string_view key, std::int64_t current) {
        return reader.optional_int64(key, 0, 100'000'000).value_or(current);
    };
    next.protocol_fee_ppm = ppm("protocolFeePpm", next.protocol_fee_ppm);
    next.operator_fee_ppm = ppm("operatorFeePpm", next.operator_fee_ppm);
    next.work_pool_ppm = ppm("workPoolPpm", next.work_pool_ppm);
    next.demand_min_ppm = ppm("demandMinPpm", next.demand_min_ppm);
    next.demand_max_ppm = ppm("demandMaxPpm", next.demand_max_ppm);
    next.demand_full_queue_depth = reader.optional_int64("demandFullQueueDepth", 1, 1'000'000)
                                       .value_or(next.demand_full_queue_depth);
    next.epoch_duration_ms =
        reader.optional_int64("epochDurationMs", 1, INT64_MAX).value_or(next.epoch_duration_ms);
    reader.finish();
    options = next;
}

}  // namespace sihlicon::capi

using namespace sihlicon;

static_assert(static_cast<int>(IntegrityCheck::none) == SIH_INTEGRITY_CHECK_NONE &&
              static_cast<int>(IntegrityCheck::quick) == SIH_INTEGRITY_CHECK_QUICK &&
              static_cast<int>(IntegrityCheck::full) == SIH_INTEGRITY_CHECK_FULL);

extern "C" {

sih_status sih_hub_options_init(sih_hub_options* options, uint32_t version) {
    return capi::guard([&] {
        auto& given = capi::required(options, "options");
        capi::check_version(version, SIH_HUB_OPTIONS_VERSION, "version");
        // A version 1 struct ends before commit_interval_ms: write only what it has.
        const sih_hub_options defaults = SIH_HUB_OPTIONS_INIT;
        std::memcpy(&given, &defaults,
                    version >= 2 ? sizeof defaults : offsetof(sih_hub_options, commit_interval_ms));
        given.version = version;
    });
}

sih_status sih_hub_open(const char* directory, const sih_hub_options* options, sih_hub** out_hub) {
    return capi::guard([&] {
        const auto path = capi::text(directory, "directory");
        capi::required(out_hub, "out_hub");
        HubOptions hub_options;
        if (options != nullptr) {
            capi::check_version(options->version, SIH_HUB_OPTIONS_VERSION, "options.version");
            hub_options.create_if_missing = options->create_if_missing != 0;
            hub_options.busy_timeout = std::chrono::milliseconds(options->busy_timeout_ms);
            // The C values are not the C++ ordinals here (power loss is the C default, 0).
            hub_options.durability =
                capi::enum_from_c<int>(options->durability, 2, "options.durability",
                                       "sih_durability") == SIH_DURABILITY_POWER_LOSS
                    ? Durability::power_loss
                    : Durability::process_crash;
            hub_options.integrity_check = capi::enum_from_c<IntegrityCheck>(
                options->integrity_check, 3, "options.integrity_check", "sih_integrity_check");
            hub_options.reader_connections = options->reader_connections;
            if (options->version >= 2) {
                hub_options.commit_interval =
                    std::chrono::milliseconds(options->commit_interval_ms);
            }
            if (options->clock != nullptr) {
                hub_options.clock = options->clock->clock;
            }
            capi::apply_scheduler_options(hub_options.scheduler, options->scheduler_options_json,
                                          "options.scheduler_options_json");
            capi::apply_settlement_options(hub_options.settlement, options->settlement_options_json,
                                           "options.settlement_options_json");
        }
        auto hub = std::unique_ptr<sih_hub>(new sih_hub{Hub::open(path, hub_options)});
        *out_hub = hub.release();
    });
}

void sih_hub_close(sih_hub** hub) {
    if (hub == nullptr || *hub == nullptr) {
        return;
    }
    {
        // Stop the agents first: they use the hub from their own threads.
        std::lock_guard lock((*hub)->agents->mutex);
        for (auto* agent : (*hub)->agents->live) {
            agent->agent.reset();
        }
        (*hub)->agents->live.clear();
        (*hub)->agents->closed = true;
    }
    delete *hub;
    *hub = nullptr;
}

sih_status sih_hub_info(sih_hub* hub, char** out_json) {
    return capi::guard(
        [&] { capi::give(out_json, capi::required(hub, "hub").hub.info().to_json()); });
}

int sih_hub_latest_schema_version(void) {
    return Hub::latest_schema_version();
}

}  // extern "C"
