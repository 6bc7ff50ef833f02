// SPDX-License-Identifier: Apache-2.0
//
// The heat ledger's tables (schema migration 4, rebuilt by 12). Not installed.
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

// Schema migration 12 (with the scheduler's jobs, store/schema.cpp): the energy and money
// columns hold integers, always, and every hub has a
// 'total' bucket (bucket_start 0): its lifetime sums, which the ledger keeps inside int64 so
// that no bucket and no SUM over the hub's records can overflow. The CHECK (typeof(...) =
// 'integer') and the rebuild follow migration 11 (settlement/schema.hpp), which says why;
// nothing references these tables, so they are rebuilt without deferring foreign keys. Safe to
// run again: the totals are recomputed from the records.
inline constexpr std::string_view kIntegerEnergy = R"sql(
CREATE TABLE heat_energy_copy AS SELECT * FROM heat_records;
DROP TABLE heat_records;
CREATE TABLE heat_records (
    sequence          INTEGER PRIMARY KEY,
    hub_id            TEXT NOT NULL REFERENCES hubs (id),
    kind              TEXT NOT NULL CHECK (kind = 'job' OR kind = 'battery-losses'
                                           OR kind = 'standalone-heater' OR kind = 'other'),
    job_id            TEXT,
    tag               TEXT NOT NULL,
    at                INTEGER NOT NULL,
    credit_at         INTEGER NOT NULL,
    electrical_mwh    INTEGER CHECK (electrical_mwh IS NULL
                                     OR (typeof(electrical_mwh) = 'integer'
                                         AND electrical_mwh >= 0)),
    thermal_mwh       INTEGER NOT NULL CHECK (typeof(thermal_mwh) = 'integer'
                                              AND thermal_mwh >= 0),
    energy_source     TEXT NOT NULL CHECK (energy_source = 'measured'
                                           OR energy_source = 'modelled'
                                           OR energy_source = 'estimated'),
    heat_recovery_ppm INTEGER,
    recorded_at       INTEGER NOT NULL,
    CHECK ((kind = 'job') = (job_id IS NOT NULL)),
    CHECK (credit_at >= at)
);
INSERT INTO heat_records (sequence, hub_id, kind, job_id, tag, at, credit_at, electrical_mwh,
    thermal_mwh, energy_source, heat_recovery_ppm, recorded_at)
    SELECT sequence, hub_id, kind, job_id, tag, at, credit_at, electrical_mwh, thermal_mwh,
           energy_source, heat_recovery_ppm, recorded_at
    FROM heat_energy_copy;
DROP TABLE heat_energy_copy;
CREATE INDEX heat_records_by_credit ON heat_records (hub_id, credit_at);
CREATE UNIQUE INDEX heat_records_by_job ON heat_records (job_id) WHERE job_id IS NOT NULL;

CREATE TABLE heat_energy_copy AS SELECT * FROM heat_buckets;
DROP TABLE heat_buckets;
CREATE TABLE heat_buckets (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    resolution     TEXT NOT NULL CHECK (resolution = 'hour' OR resolution = 'day'
                                        OR resolution = 'total'),
    bucket_start   INTEGER NOT NULL,
    electrical_mwh INTEGER NOT NULL DEFAULT 0 CHECK (typeof(electrical_mwh) = 'integer'),
    thermal_mwh    INTEGER NOT NULL DEFAULT 0 CHECK (typeof(thermal_mwh) = 'integer'),
    record_count   INTEGER NOT NULL DEFAULT 0,
    credited_mwh   INTEGER NOT NULL DEFAULT 0 CHECK (typeof(credited_mwh) = 'integer'),
    credited_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub_id, resolution, bucket_start)
);
INSERT INTO heat_buckets (hub_id, resolution, bucket_start, electrical_mwh, thermal_mwh,
    record_count, credited_mwh, credited_count)
    SELECT hub_id, resolution, bucket_start, electrical_mwh, thermal_mwh, record_count,
           credited_mwh, credited_count
    FROM heat_energy_copy;
DROP TABLE heat_energy_copy;
DELETE FROM heat_buckets WHERE resolution = 'total';
INSERT INTO heat_buckets (hub_id, resolution, bucket_start, electrical_mwh, thermal_mwh,
    record_count, credited_mwh, credited_count)
    SELECT hub_id, 'total', 0, COALESCE(SUM(electrical_mwh), 0), SUM(thermal_mwh), COUNT(*),
           SUM(thermal_mwh), COUNT(*)
    FROM heat_records GROUP BY hub_id;

CREATE TABLE heat_energy_copy AS SELECT * FROM heat_rates;
DROP TABLE heat_rates;
CREATE TABLE heat_rates (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    effective_from INTEGER NOT NULL,
    rate_minor     INTEGER NOT NULL CHECK (typeof(rate_minor) = 'integer' AND rate_minor >= 0),
    currency       TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (hub_id, effective_from)
);
INSERT INTO heat_rates (hub_id, effective_from, rate_minor, currency, recorded_at)
    SELECT hub_id, effective_from, rate_minor, currency, recorded_at FROM heat_energy_copy;
DROP TABLE heat_energy_copy;

CREATE TABLE heat_energy_copy AS SELECT * FROM heat_settlements;
DROP TABLE heat_settlements;
CREATE TABLE heat_settlements (
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    period_start   INTEGER NOT NULL,
    period_end     INTEGER NOT NULL,
    total_heat_mwh INTEGER NOT NULL CHECK (typeof(total_heat_mwh) = 'integer'),
    credit_minor   INTEGER NOT NULL CHECK (typeof(credit_minor) = 'integer'),
    currency       TEXT NOT NULL,
    record_count   INTEGER NOT NULL,
    settled_at     INTEGER NOT NULL,
    PRIMARY KEY (hub_id, period_start),
    CHECK (period_end > period_start)
);
INSERT INTO heat_settlements (hub_id, period_start, period_end, total_heat_mwh, credit_minor,
    currency, record_count, settled_at)
    SELECT hub_id, period_start, period_end, total_heat_mwh, credit_minor, currency,
           record_count, settled_at
    FROM heat_energy_copy;
DROP TABLE heat_energy_copy;
)sql";

}  // namespace sihlicon::heat
