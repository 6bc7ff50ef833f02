// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger from C: manual heat, credit rates, credits, statistics, settlements and
// series.
#include "capi_internal.hpp"

namespace sihlicon::capi {

namespace {

HeatLedger& ledger(sih_hub* hub) {
    return required(hub, "hub").hub.heat_ledger();
}

ManualHeat manual_heat(const boost::json::value& value, const std::string& path) {
    json::ObjectReader reader(value, path);
    ManualHeat heat;
    heat.hub_id = reader.required_string("hubId", 64);
    heat.kind = parse_heat_kind(reader.required_string("kind", 32), reader.path_of("kind"));
    heat.tag = reader.optional_string("tag", 128).value_or("");
    if (auto at = reader.optional_int64("at", 0, INT64_MAX)) {
        heat.at = Timestamp::from_ms(*at);
    }
    auto thermal = optional_kwh(reader, "thermalKwh");
    if (!thermal) {
        throw Error::invalid(reader.path_of("thermalKwh"), "", "is required");
    }
    heat.thermal = *thermal;
    heat.electrical = optional_kwh(reader, "electricalKwh");
    if (auto source = reader.optional_string("energySource", 32)) {
        heat.source = parse_energy_source(*source, reader.path_of("energySource"));
    }
    reader.finish();
    return heat;
}

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;
using capi::give;
using capi::guard;
using capi::ledger;
using capi::text;

extern "C" {

sih_status sih_heat_record(sih_hub* hub, const char* heat_json, char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        const auto value = json::parse(text(heat_json, "heat_json"), "heat_json");
        give(out_json, service.record(capi::manual_heat(value, "")).to_json());
    });
}

sih_status sih_heat_record_many(sih_hub* hub, const char* heat_json, char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        const auto array = capi::json_array_argument(heat_json, "heat_json");
        std::vector<ManualHeat> records;
        records.reserve(array.size());
        for (std::size_t i = 0; i < array.size(); ++i) {
            records.push_back(capi::manual_heat(array[i], "records[" + std::to_string(i) + "]"));
        }
        give(out_json, json::join_array(service.record_many(records)));
    });
}

sih_status sih_heat_set_credit_rate(sih_hub* hub, const char* hub_id, int64_t minor_units_per_kwh,
                                    const char* currency, int64_t effective_from_ms,
                                    char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        const Money rate(minor_units_per_kwh, Currency::of(text(currency, "currency")));
        give(out_json, service
                           .set_credit_rate(text(hub_id, "hub_id"), rate,
                                            Timestamp::from_ms(effective_from_ms))
                           .to_json());
    });
}

sih_status sih_heat_credit_rates(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard([&] {
        give(out_json, json::join_array(ledger(hub).credit_rates(text(hub_id, "hub_id"))));
    });
}

sih_status sih_heat_credits(sih_hub* hub, const char* hub_id, int64_t period_start_ms,
                            int64_t period_end_ms, char** out_json) {
    return guard([&] {
        const auto instant = [](std::int64_t ms) -> std::optional<Timestamp> {
            if (ms == SIH_NONE) {
                return std::nullopt;
            }
            return Timestamp::from_ms(ms);
        };
        give(out_json,
             ledger(hub)
                 .credits(text(hub_id, "hub_id"), instant(period_start_ms), instant(period_end_ms))
                 .to_json());
    });
}

sih_status sih_heat_stats(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard([&] { give(out_json, ledger(hub).stats(text(hub_id, "hub_id")).to_json()); });
}

sih_status sih_heat_settle(sih_hub* hub, const char* hub_id, int64_t period_start_ms,
                           int64_t period_end_ms, char** out_json) {
    return guard([&] {
        give(out_json, ledger(hub)
                           .settle(text(hub_id, "hub_id"), Timestamp::from_ms(period_start_ms),
                                   Timestamp::from_ms(period_end_ms))
                           .to_json());
    });
}

sih_status sih_heat_settlements(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard(
        [&] { give(out_json, json::join_array(ledger(hub).settlements(text(hub_id, "hub_id")))); });
}

sih_status sih_heat_series(sih_hub* hub, const char* hub_id, const char* resolution,
                           int64_t from_ms, int64_t to_ms, char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        const auto parsed = parse_series_resolution(text(resolution, "resolution"));
        give(out_json, service
                           .series(text(hub_id, "hub_id"), parsed, Timestamp::from_ms(from_ms),
                                   Timestamp::from_ms(to_ms))
                           .to_json());
    });
}

namespace {

HubGroup group_of(const char* group_by, const char* group) {
    return {parse_hub_group_kind(text(group_by, "group_by"), "group_by"),
            std::string(text(group, "group"))};
}

}  // namespace

sih_status sih_heat_group_stats(sih_hub* hub, const char* group_by, const char* group,
                                char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        give(out_json, service.group_stats(group_of(group_by, group)).to_json());
    });
}

sih_status sih_heat_group_series(sih_hub* hub, const char* group_by, const char* group,
                                 const char* resolution, int64_t from_ms, int64_t to_ms,
                                 char** out_json) {
    return guard([&] {
        auto& service = ledger(hub);
        const auto parsed = parse_series_resolution(text(resolution, "resolution"));
        give(out_json, service
                           .group_series(group_of(group_by, group), parsed,
                                         Timestamp::from_ms(from_ms), Timestamp::from_ms(to_ms))
                           .to_json());
    });
}

sih_status sih_heat_unmet_demand_w(sih_hub* hub, const char* hub_id, int64_t window_ms,
                                   int64_t* out_watts) {
    return guard([&] {
        auto& service = ledger(hub);
        const auto window = window_ms == SIH_NONE
                                ? std::chrono::milliseconds(std::chrono::minutes(15))
                                : std::chrono::milliseconds(window_ms);
        give(out_watts, service.unmet_heat_demand_w(text(hub_id, "hub_id"), window));
    });
}

}  // extern "C"
