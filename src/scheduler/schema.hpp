// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's tables (schema migration 2). Not installed.
#pragma once

#include <string_view>

namespace sihlicon::scheduler {

// hubs: the physical compute-as-heat sites jobs run on, with their grid signal and heat demand.
//   heat_recovery_ppm   share of electrical energy recovered as heat, parts per million
//   grid_signal         surplus | normal | throttle | curtail, valid until grid_valid_until
//   power_budget_w      the power the grid operator allows now (NULL: power_capacity_w)
//   heat_demand_w       heat the site wants now, valid until heat_demand_valid_until
inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE hubs (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    site                    TEXT NOT NULL,
    region                  TEXT NOT NULL,
    heat_recovery_ppm       INTEGER NOT NULL CHECK (heat_recovery_ppm BETWEEN 0 AND 10000000),
    power_capacity_w        INTEGER NOT NULL CHECK (power_capacity_w >= 0),
    routing_policy          TEXT NOT NULL,
    grid_signal             TEXT NOT NULL DEFAULT 'normal',
    power_budget_w          INTEGER,
    grid_valid_until        INTEGER,
    heat_demand_w           INTEGER NOT NULL DEFAULT 0,
    heat_demand_valid_until INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);
)sql";

}  // namespace sihlicon::scheduler
