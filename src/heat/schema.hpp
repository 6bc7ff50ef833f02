// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger's tables (schema migration 4). Not installed.
//
// heat_records      one row per heat record, in arrival order (`sequence`). `at` is when the
//                   heat was delivered; `credit_at` is the instant whose period credits it:
//                   `at`, or, for a record arriving after a period covering `at` was settled,
//                   the first unsettled instant after `at` (see heat_ledger.hpp).
// heat_buckets      running sums per hub, per hour and per UTC day, updated in the same
//                   transaction as the records: electricity, heat and record counts by `at`
//                   (the time series), credited heat and counts by `credit_at` (periods).
//                   A period's total is a sum of buckets plus the records of its partial
//                   edge hours.
// heat_rates        the credit rate per kWh thermal of each hub, as segments in time.
// heat_settlements  settled periods; never updated or deleted once written.
// heat_demand_changes  every change of a hub's heat demand (a step function of time).
//
// The CHECKs spell enumerations with OR rather than IN (...): SQLite evaluates a constant IN
// list through a temporary b-tree built for each row, which halved the insert rate.
#pragma once

#include <string_view>

namespace sihlicon::heat {

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE heat_records (
    sequence          INTEGER PRIMARY KEY,
    hub_id            TEXT NOT NULL REFERENCES hubs (id),
    kind              TEXT NOT NULL CHECK (kind = 'job' OR kind = 'battery-losses'
                                           OR kind = 'standalone-heater' OR kind = 'other'),
    job_id            TEXT,
    tag               TEXT NOT NULL,
    at                INTEGER NOT NULL,
    credit_at         INTEGER NOT NULL,
    electrical_mwh    INTEGER CHECK (electrical_mwh >= 0),
    thermal_mwh       INTEGER NOT NULL CHECK (thermal_mwh >= 0),
    energy_source     TEXT NOT NULL CHECK (energy_source = 'measured'
                                           OR energy_source = 'modelled'
                                           OR energy_source = 'estimated'),
    heat_recovery_ppm INTEGER,
    recorded_at       INTEGER NOT NULL,
    CHECK ((kind = 'job') = (job_id IS NOT NULL)),
    CHECK (credit_at >= at)
);
CREATE INDEX heat_records_by_credit ON heat_records (hub_id, credit_at);
CREATE UNIQUE INDEX heat_records_by_job ON heat_records (job_id) WHERE job_id IS NOT NULL;

CREATE TABLE heat_buckets (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    resolution     TEXT NOT NULL CHECK (resolution = 'hour' OR resolution = 'day'),
    bucket_start   INTEGER NOT NULL,
    electrical_mwh INTEGER NOT NULL DEFAULT 0,
    thermal_mwh    INTEGER NOT NULL DEFAULT 0,
    record_count   INTEGER NOT NULL DEFAULT 0,
    credited_mwh   INTEGER NOT NULL DEFAULT 0,
    credited_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub_id, resolution, bucket_start)
);

CREATE TABLE heat_rates (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    effective_from INTEGER NOT NULL,
    rate_minor     INTEGER NOT NULL CHECK (rate_minor >= 0),
    currency       TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (hub_id, effective_from)
);

CREATE TABLE heat_settlements (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    period_start   INTEGER NOT NULL,
    period_end     INTEGER NOT NULL,
    total_heat_mwh INTEGER NOT NULL,
    credit_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    record_count   INTEGER NOT NULL,
    settled_at     INTEGER NOT NULL,
    PRIMARY KEY (hub_id, period_start),
    CHECK (period_end > period_start)
);

CREATE TABLE heat_demand_changes (
    sequence    INTEGER PRIMARY KEY,
    hub_id      TEXT NOT NULL REFERENCES hubs (id),
    at          INTEGER NOT NULL,
    watts       INTEGER NOT NULL CHECK (watts >= 0),
    valid_until INTEGER,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX heat_demand_by_hub ON heat_demand_changes (hub_id, at, sequence);
)sql";

}  // namespace sihlicon::heat
