// SPDX-License-Identifier: Apache-2.0
//
// The settlement tables of schema migration 6 ("settlement_market"): marketplace transactions
// between hubs, the demand pricing recorded on each job charge, and the counters reputation is
// computed from. Not installed.
//
// Reputation counters are kept per worker and updated in the transaction of the job transition
// (or heartbeat) they count, so a reputation is a few indexed row reads. The migration fills
// them from the history already stored (job_events, jobs, workers), so a hub that existed
// before it starts with the reputations its history earned.
#pragma once

#include <string_view>

namespace sihlicon::settlement::market {

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE settlement_market_transactions (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    buyer_hub    TEXT NOT NULL,
    seller_hub   TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit         TEXT NOT NULL,
    unit_price   INTEGER NOT NULL CHECK (unit_price > 0),
    total        INTEGER NOT NULL CHECK (total > 0),
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    transfer_id  TEXT NOT NULL REFERENCES settlement_transfers (id),
    resolution_id TEXT REFERENCES settlement_transfers (id),
    created_at   INTEGER NOT NULL,
    resolved_at  INTEGER
);
CREATE INDEX settlement_market_by_buyer ON settlement_market_transactions (buyer_hub, id);
CREATE INDEX settlement_market_by_seller ON settlement_market_transactions (seller_hub, id);

ALTER TABLE settlement_job_charges ADD COLUMN base_price INTEGER;
ALTER TABLE settlement_job_charges ADD COLUMN multiplier_ppm INTEGER NOT NULL DEFAULT 1000000;
ALTER TABLE settlement_job_charges ADD COLUMN queue_depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlement_job_charges ADD COLUMN utilisation_ppm INTEGER NOT NULL DEFAULT 0;
UPDATE settlement_job_charges SET base_price = price;

CREATE TABLE settlement_reputation (
    worker_id TEXT PRIMARY KEY,
    attempts  INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    on_time   INTEGER NOT NULL DEFAULT 0,
    uptime_ms INTEGER NOT NULL DEFAULT 0
);

INSERT INTO settlement_reputation (worker_id, attempts, successes, on_time, uptime_ms)
SELECT w.id,
       COALESCE(a.attempts, 0),
       COALESCE(a.successes, 0),
       COALESCE(a.on_time, 0),
       CASE WHEN w.last_heartbeat_at > w.registered_at
            THEN w.last_heartbeat_at - w.registered_at ELSE 0 END
FROM workers w
LEFT JOIN (
    SELECT s.actor AS worker_id,
           COUNT(*) AS attempts,
           SUM(CASE WHEN e.to_status = 'completed' THEN 1 ELSE 0 END) AS successes,
           SUM(CASE WHEN e.to_status = 'completed'
                     AND (j.deadline IS NULL OR e.at <= j.deadline)
                     AND e.at - s.at <= j.timeout_ms THEN 1 ELSE 0 END) AS on_time
    FROM job_events e
    JOIN job_events s ON s.job_id = e.job_id AND s.sequence = (
        SELECT MAX(r.sequence) FROM job_events r
        WHERE r.job_id = e.job_id AND r.to_status = 'running' AND r.sequence < e.sequence)
    JOIN jobs j ON j.id = e.job_id
    WHERE e.from_status = 'running' AND e.to_status <> 'cancelled'
    GROUP BY s.actor
) a ON a.worker_id = w.id;
)sql";

// Schema migration 13: the stretches each worker was online, as its heartbeats recorded them
// (a gap between two heartbeats at most the missed-heartbeat limit apart extends the stretch
// that ends at the earlier one, a longer gap starts none). Uptime within any window, for
// reputation (since registration) and for the readiness pool (within an epoch), is the overlap
// of these stretches with it (see settlement::uptime_within). It replaces the running total
// settlement_reputation.uptime_ms, which could not say when the time was online: that total
// becomes one stretch ending at the worker's last heartbeat, and the column stays at 0, unused.
// Safe to run again. The key's columns come first: SQLite 3.40's quick_check misreads a
// WITHOUT ROWID table whose key columns are not its first ones (a false "NULL value").
inline constexpr std::string_view kUptimeSpans = R"sql(
CREATE TABLE IF NOT EXISTS settlement_uptime (
    worker_id TEXT NOT NULL,
    end_at    INTEGER NOT NULL,
    start_at  INTEGER NOT NULL CHECK (end_at > start_at),
    PRIMARY KEY (worker_id, end_at)
) WITHOUT ROWID;
INSERT OR IGNORE INTO settlement_uptime (worker_id, start_at, end_at)
    SELECT r.worker_id, w.last_heartbeat_at - r.uptime_ms, w.last_heartbeat_at
    FROM settlement_reputation r JOIN workers w ON w.id = r.worker_id
    WHERE r.uptime_ms > 0;
UPDATE settlement_reputation SET uptime_ms = 0 WHERE uptime_ms <> 0;
)sql";

}  // namespace sihlicon::settlement::market
