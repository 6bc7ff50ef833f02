// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's tables (schema migration 2). Not installed.
//
// Counters that decisions depend on (a worker's used resources, a hub's running power, a hub's
// queue depth) are columns updated in the same transaction as the transition that changes
// them, so every check is one indexed row read and several processes stay consistent.
//
// workers.status holds 'online', 'offline' or 'draining'. A worker reads as busy when it is
// online with running_jobs > 0 (hubs written by earlier versions may also store 'busy', read the
// same way), so claims and completions never write the status: writing it would rewrite the
// worker's workers_alive entry, one more page in the log per claim and per completion.
#pragma once

#include <string_view>

namespace sihlicon::scheduler {

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE hubs (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    site                    TEXT NOT NULL,
    region                  TEXT NOT NULL,
    heat_recovery_ppm       INTEGER NOT NULL CHECK (heat_recovery_ppm BETWEEN 0 AND 10000000),
    power_capacity_w        INTEGER NOT NULL CHECK (power_capacity_w >= 0),
    routing_policy          TEXT NOT NULL,
    watts_per_core          INTEGER NOT NULL DEFAULT 10,
    watts_per_gpu           INTEGER NOT NULL DEFAULT 250,
    throttle_min_priority   INTEGER NOT NULL DEFAULT 10,
    max_queue_depth         INTEGER NOT NULL DEFAULT 0,
    grid_signal             TEXT NOT NULL DEFAULT 'normal',
    power_budget_w          INTEGER,
    grid_valid_until        INTEGER,
    heat_demand_w           INTEGER NOT NULL DEFAULT 0,
    heat_demand_valid_until INTEGER,
    running_power_w         INTEGER NOT NULL DEFAULT 0,
    queue_depth             INTEGER NOT NULL DEFAULT 0,
    round_robin_turn        INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

CREATE TABLE workers (
    id                  TEXT PRIMARY KEY,
    hub_id              TEXT NOT NULL REFERENCES hubs (id),
    cpu_millicores      INTEGER NOT NULL,
    memory_bytes        INTEGER NOT NULL,
    gpus                TEXT NOT NULL,
    labels              TEXT NOT NULL,
    status              TEXT NOT NULL,
    used_cpu_millicores INTEGER NOT NULL DEFAULT 0,
    used_memory_bytes   INTEGER NOT NULL DEFAULT 0,
    gpus_in_use         INTEGER NOT NULL DEFAULT 0,
    running_jobs        INTEGER NOT NULL DEFAULT 0,
    jobs_started        INTEGER NOT NULL DEFAULT 0,
    utilisation_ppm     INTEGER NOT NULL DEFAULT 0,
    power_draw_w        INTEGER NOT NULL DEFAULT 0,
    last_heartbeat_at   INTEGER NOT NULL,
    registered_at       INTEGER NOT NULL
);
CREATE INDEX workers_by_hub ON workers (hub_id);
CREATE INDEX workers_alive ON workers (last_heartbeat_at) WHERE status <> 'offline';

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    idempotency_key  TEXT,
    spec             TEXT NOT NULL,
    hub_id           TEXT REFERENCES hubs (id),
    queue_hub        TEXT NOT NULL,
    cpu_millicores   INTEGER NOT NULL,
    memory_bytes     INTEGER NOT NULL,
    gpu              INTEGER NOT NULL,
    gpu_vram_bytes   INTEGER NOT NULL,
    region           TEXT,
    required_labels  TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    sort_key         INTEGER NOT NULL,
    timeout_ms       INTEGER NOT NULL,
    scheduled_at     INTEGER,
    deadline         INTEGER,
    status           TEXT NOT NULL,
    wait_reason      TEXT,
    ready_at         INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    backoff_ms       INTEGER NOT NULL,
    dead_letter      INTEGER NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES workers (id),
    lease_token      TEXT,
    lease_expires_at INTEGER,
    power_w          INTEGER NOT NULL DEFAULT 0,
    gpu_index        INTEGER,
    output_refs      TEXT,
    actual_mwh       INTEGER,
    energy_source    TEXT,
    heat_mwh         INTEGER,
    result_hash      TEXT,
    metrics          TEXT,
    completion_digest TEXT,
    error_message    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    attempt_started_at INTEGER,
    finished_at      INTEGER
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (queue_hub, sort_key) WHERE status = 'queued';
CREATE INDEX jobs_due ON jobs (ready_at) WHERE status = 'pending' AND ready_at IS NOT NULL;
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_on_worker ON jobs (worker_id) WHERE status = 'running';
CREATE INDEX jobs_by_hub ON jobs (hub_id, status, id);
CREATE INDEX jobs_by_owner ON jobs (owner, created_at);

CREATE TABLE job_dependencies (
    job_id     TEXT NOT NULL REFERENCES jobs (id),
    depends_on TEXT NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX job_dependents ON job_dependencies (depends_on);

CREATE TABLE job_events (
    sequence    INTEGER PRIMARY KEY,
    job_id      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX job_events_by_job ON job_events (job_id, sequence);
)sql";

// Schema migration 7: jobs_by_hub without the job's status. With the status in the key every
// transition moved the job's entry (one more page written per claim and per completion); no
// query looks a hub's jobs up by status through it, and listing a hub's jobs in id order needs
// only (hub_id, id).
inline constexpr std::string_view kLighterJobIndexes = R"sql(
DROP INDEX jobs_by_hub;
CREATE INDEX jobs_by_hub ON jobs (hub_id, id);
)sql";

// Schema migration 9: two fewer index entries to write.
// - jobs_on_worker is gone: the lease index now carries each running job's worker, so a
//   worker's running jobs (looked up only when it goes offline) are read from that index,
//   which holds running jobs only. Every claim and completion wrote both indexes before.
// - jobs_by_hub holds pinned jobs only: a listing by hub never matches an unpinned job (whose
//   hub_id is NULL), so a submission of one writes no entry there.
// Safe to run again.
inline constexpr std::string_view kRunningAndPinnedJobIndexes = R"sql(
DROP INDEX IF EXISTS jobs_on_worker;
DROP INDEX IF EXISTS jobs_leases;
CREATE INDEX jobs_leases ON jobs (lease_expires_at, worker_id) WHERE status = 'running';
DROP INDEX IF EXISTS jobs_by_hub;
CREATE INDEX jobs_by_hub ON jobs (hub_id, id) WHERE hub_id IS NOT NULL;
)sql";

// Schema migration 10: listings and queue statistics that stay fast however long the
// history grows, at no cost to a job's usual path (submitted, claimed, completed) beyond one
// counter page per step.
// - job_counts holds the number of jobs in each (queue hub, state). Every transition keeps it
//   (Moves::record gathers the changes, one upsert per count a write changed), so
//   queue_stats reads six rows instead of counting the jobs table.
// - job_states lists the pending, failed and cancelled jobs of each queue hub by id, with
//   when each was created, for the listing by state and the oldest pending job. Moves::record
//   keeps it. (A partial index on jobs did the same, but cost every update of a job's status
//   ~15% of a batch's time, though the usual path never enters it.) The other states need no
//   list of their own: queued jobs are listed, and the oldest found, from jobs_ready (which
//   now carries created_at); running jobs from jobs_leases (never more than the workers
//   hold); completed jobs, the bulk of any history, from the primary key or jobs_by_hub,
//   where they are the dense majority.
// Safe to run again.
inline constexpr std::string_view kJobStateListsAndCounts = R"sql(
DROP INDEX IF EXISTS jobs_ready;
CREATE INDEX jobs_ready ON jobs (queue_hub, sort_key, created_at) WHERE status = 'queued';
CREATE TABLE IF NOT EXISTS job_counts (
    queue_hub TEXT NOT NULL,
    status    TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (queue_hub, status)
) WITHOUT ROWID;
DELETE FROM job_counts;
INSERT INTO job_counts (queue_hub, status, count)
    SELECT queue_hub, status, COUNT(*) FROM jobs GROUP BY queue_hub, status;
CREATE TABLE IF NOT EXISTS job_states (
    queue_hub      TEXT NOT NULL,
    state          TEXT NOT NULL,
    job_id         TEXT NOT NULL,
    job_created_at INTEGER NOT NULL,
    PRIMARY KEY (queue_hub, state, job_id)
) WITHOUT ROWID;
DELETE FROM job_states;
INSERT INTO job_states (queue_hub, state, job_id, job_created_at)
    SELECT queue_hub, status, id, created_at FROM jobs
    WHERE status IN ('pending', 'failed', 'cancelled');
)sql";

// Part of schema migration 12 (with the heat ledger's; store/schema.cpp joins them): a job's
// energy columns hold integers, always. They are written from Energy values and never summed
// in SQL, so only a hand edit could store a REAL there; the CHECK (typeof(...) = 'integer',
// SQLite's, see settlement/schema.hpp migration 11 for why and how) closes that too. On the
// scheduler's hot path it adds two comparisons on the row being written, no read and no index
// (reasoned, not benchmarked separately). The table is rebuilt as migration 11 rebuilds the
// settlement's (job_dependencies refers to it: foreign keys are deferred while it is refilled, then
// proved and undeferred) with the indexes of migrations 2, 7, 9 and 10 as they stood. Safe to run
// again.
inline constexpr std::string_view kIntegerJobEnergy = R"sql(
PRAGMA defer_foreign_keys = ON;
CREATE TABLE jobs_energy_copy AS SELECT * FROM jobs;
DROP TABLE jobs;
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    idempotency_key  TEXT,
    spec             TEXT NOT NULL,
    hub_id           TEXT REFERENCES hubs (id),
    queue_hub        TEXT NOT NULL,
    cpu_millicores   INTEGER NOT NULL,
    memory_bytes     INTEGER NOT NULL,
    gpu              INTEGER NOT NULL,
    gpu_vram_bytes   INTEGER NOT NULL,
    region           TEXT,
    required_labels  TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    sort_key         INTEGER NOT NULL,
    timeout_ms       INTEGER NOT NULL,
    scheduled_at     INTEGER,
    deadline         INTEGER,
    status           TEXT NOT NULL,
    wait_reason      TEXT,
    ready_at         INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    backoff_ms       INTEGER NOT NULL,
    dead_letter      INTEGER NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES workers (id),
    lease_token      TEXT,
    lease_expires_at INTEGER,
    power_w          INTEGER NOT NULL DEFAULT 0,
    gpu_index        INTEGER,
    output_refs      TEXT,
    actual_mwh       INTEGER CHECK (actual_mwh IS NULL OR typeof(actual_mwh) = 'integer'),
    energy_source    TEXT,
    heat_mwh         INTEGER CHECK (heat_mwh IS NULL OR typeof(heat_mwh) = 'integer'),
    result_hash      TEXT,
    metrics          TEXT,
    completion_digest TEXT,
    error_message    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    attempt_started_at INTEGER,
    finished_at      INTEGER
);
INSERT INTO jobs (id, owner, idempotency_key, spec, hub_id, queue_hub, cpu_millicores,
    memory_bytes, gpu, gpu_vram_bytes, region, required_labels, priority, sort_key, timeout_ms,
    scheduled_at, deadline, status, wait_reason, ready_at, attempts, max_attempts, backoff_ms,
    dead_letter, worker_id, lease_token, lease_expires_at, power_w, gpu_index, output_refs,
    actual_mwh, energy_source, heat_mwh, result_hash, metrics, completion_digest, error_message,
    created_at, updated_at, started_at, attempt_started_at, finished_at)
    SELECT id, owner, idempotency_key, spec, hub_id, queue_hub, cpu_millicores,
    memory_bytes, gpu, gpu_vram_bytes, region, required_labels, priority, sort_key, timeout_ms,
    scheduled_at, deadline, status, wait_reason, ready_at, attempts, max_attempts, backoff_ms,
    dead_letter, worker_id, lease_token, lease_expires_at, power_w, gpu_index, output_refs,
    actual_mwh, energy_source, heat_mwh, result_hash, metrics, completion_digest, error_message,
    created_at, updated_at, started_at, attempt_started_at, finished_at
    FROM jobs_energy_copy;
DROP TABLE jobs_energy_copy;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (ready_at) WHERE status = 'pending' AND ready_at IS NOT NULL;
CREATE INDEX jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX jobs_leases ON jobs (lease_expires_at, worker_id) WHERE status = 'running';
CREATE INDEX jobs_by_hub ON jobs (hub_id, id) WHERE hub_id IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (queue_hub, sort_key, created_at) WHERE status = 'queued';
CREATE TABLE jobs_energy_orphans (count INTEGER NOT NULL CHECK (count = 0));
INSERT INTO jobs_energy_orphans (count)
    SELECT COUNT(*) FROM pragma_foreign_key_check('job_dependencies');
DROP TABLE jobs_energy_orphans;
PRAGMA defer_foreign_keys = OFF;
)sql";

// Schema migration 14: each worker's last heartbeat's GPU stats, a JSON array
// [{"utilisationPpm", "vramUsed"}] in registration order (rows.hpp gpu_stats_to_json); no row:
// none. A table of its own, so that the migration can run again on a hub that has it.
inline constexpr std::string_view kWorkerGpuStats = R"sql(
CREATE TABLE IF NOT EXISTS worker_gpu_stats (
    worker_id TEXT PRIMARY KEY REFERENCES workers (id),
    stats     TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Schema migration 17: routing among competing workers (placement.hpp) and the executors a
// worker has, in a table beside workers (one row per worker that registered since, or took a
// round-robin turn), so that the workers table and its hot path are untouched:
// - executors: the JSON array of the executors the worker registered ("native", "container");
//   a worker without a row (registered before this migration) reads as ["native"] until it
//   registers again (kWorkerColumns reads it with that default).
// - round_robin_turn: the hub turn at which the worker last took a job on a round-robin hub
//   (the hub's counter is hubs.round_robin_turn, there since migration 2); 0: never.
// Safe to run again.
inline constexpr std::string_view kRoutingTurnsAndExecutors = R"sql(
CREATE TABLE IF NOT EXISTS worker_routing (
    worker_id        TEXT PRIMARY KEY REFERENCES workers (id),
    executors        TEXT NOT NULL DEFAULT '["native"]',
    round_robin_turn INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

// Schema migration 18:
// a job's hubId is a preference; pinning is constraints.pinHub.
// - pinned: 1 when the job runs on its hub (hub_id) only. Jobs stored before this migration
//   named their hub as a pin, so they stay pinned, and their stored spec says so
//   (constraints.pinHub).
// - prefer_until: while a preferred (unpinned) job is queued in its hub's queue (queue_hub =
//   hub_id), when the preference ends; then expire_and_promote moves it to the queue of jobs
//   pinned to no hub. jobs_preference holds those jobs only (queued, with a preference), so
//   the check that nothing is due is one index probe, and no other job writes an entry there.
// - run_hub_id: the hub of the worker that holds or held the job's current or last attempt
//   (set at claim, kept when the job ends, cleared as worker_id is when it is queued again).
//   Jobs stored before this migration take their worker's hub as it is now (a worker that
//   moved hubs since is not known to have).
//   jobs_by_run_hub lists a hub's jobs in id order beside jobs_by_hub; jobs_ended_on_hub lists
//   the failed and cancelled jobs that ran on a hub (job_states lists them by the hub they
//   name), and no other job enters it.
// job_counts, job_states and hubs.queue_depth stay keyed by the hub a job names (hub_id, ""
// for none): a preferred job whose preference ended is still counted for its hub.
// Safe to run again only on a hub without these columns (ALTER TABLE ADD COLUMN).
inline constexpr std::string_view kPreferredHubs = R"sql(
ALTER TABLE jobs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN prefer_until INTEGER;
ALTER TABLE jobs ADD COLUMN run_hub_id TEXT;
UPDATE jobs SET pinned = 1,
    spec = json_set(spec, '$.constraints', json_set(COALESCE(json_extract(spec, '$.constraints'),
        '{}'), '$.pinHub', hub_id))
    WHERE hub_id IS NOT NULL;
UPDATE jobs SET run_hub_id = (SELECT w.hub_id FROM workers w WHERE w.id = jobs.worker_id)
    WHERE worker_id IS NOT NULL;
CREATE INDEX jobs_preference ON jobs (prefer_until)
    WHERE status = 'queued' AND prefer_until IS NOT NULL;
CREATE INDEX jobs_by_run_hub ON jobs (run_hub_id, id) WHERE run_hub_id IS NOT NULL;
CREATE INDEX jobs_ended_on_hub ON jobs (run_hub_id, status, id)
    WHERE run_hub_id IS NOT NULL AND status IN ('failed', 'cancelled');
)sql";

}  // namespace sihlicon::scheduler
