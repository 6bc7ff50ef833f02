// SPDX-License-Identifier: Apache-2.0
//
// A hub on a manual clock with hubs registered for heat accounting.
#pragma once

#include "hub/hub_internal.hpp"
#include "support/temp_dir.hpp"

#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>

#include <memory>
#include <string>

namespace sihlicon::testing {

inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kDay = 24 * kHour;
inline constexpr std::int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

struct HeatFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(Timestamp::from_ms(kJan1));
    Hub hub = open_hub();

    Hub open_hub() {
        HubOptions options;
        options.clock = clock;
        options.durability = Durability::process_crash;
        return Hub::open(dir.path(), options);
    }

    HeatLedger& ledger() { return hub.heat_ledger(); }
    detail::HubCore& core() { return HubAccess::core(hub); }
    store::Database& database() { return HubAccess::database(hub); }

    // Registers a hub through the scheduler, which owns hubs.
    void add_hub(const std::string& id, std::int64_t heat_recovery_ppm = 900'000) {
        HubSpec spec;
        spec.id = id;
        spec.name = "Hub " + id;
        spec.site = "site-" + id;
        spec.region = "CH";
        spec.heat_recovery_ppm = heat_recovery_ppm;
        spec.power_capacity_w = 100'000;
        hub.scheduler().register_hub(spec);
    }

    // Sets the clock to `ms` after 2026-01-01.
    void at(std::int64_t ms) { clock->set(Timestamp::from_ms(kJan1 + ms)); }

    static Timestamp t(std::int64_t ms) { return Timestamp::from_ms(kJan1 + ms); }

    HeatRecord heat(const std::string& hub_id, std::int64_t at_ms, std::int64_t thermal_mwh,
                    HeatKind kind = HeatKind::battery_losses, std::string tag = {}) {
        ManualHeat record;
        record.hub_id = hub_id;
        record.kind = kind;
        record.tag = std::move(tag);
        record.at = t(at_ms);
        record.thermal = Energy::milliwatt_hours(thermal_mwh);
        return ledger().record(record);
    }
};

}  // namespace sihlicon::testing
