// SPDX-License-Identifier: Apache-2.0
//
// The hub's event log (include/sihlicon/events.hpp): how a service appends an event inside
// the write transaction that makes the change it records, so the event commits with the
// change or not at all. Not installed.
//
// The log is the hub's, not one service's: it orders the changes of every service in one
// sequence, and each service appends to it here.
#pragma once

#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>
#include <sihlicon/time.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace sihlicon::events {

// Schema migration 20: the table hub_events, which takes over job_events (the job
// transitions already stored keep their sequence numbers), and job_events as a view of its
// job.* rows, so Scheduler::events and every reader of job_events read on. Re-runnable once
// tests/support/schema_rewind.hpp has put a job_events table back.
inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS hub_events (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    client  TEXT,
    worker  TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hub_events_by_subject ON hub_events (subject, seq);
INSERT OR IGNORE INTO hub_events (seq, at, kind, subject, client, worker, payload)
    SELECT e.sequence, e.at, 'job.' || e.to_status, e.job_id, j.owner, j.worker_id,
           json_object('from', e.from_status, 'to', e.to_status, 'actor', e.actor,
                       'reason', e.reason)
    FROM job_events e LEFT JOIN jobs j ON j.id = e.job_id;
DROP TABLE job_events;
CREATE VIEW job_events AS
    SELECT seq AS sequence, subject AS job_id, json_extract(payload, '$.from') AS from_status,
           json_extract(payload, '$.to') AS to_status, at,
           json_extract(payload, '$.actor') AS actor, json_extract(payload, '$.reason') AS reason
    FROM hub_events WHERE kind GLOB 'job.*';
)sql";

// Who an event concerns besides the operator (who reads every event).
struct Concerns {
    std::optional<std::string_view> client;  // a client principal
    std::optional<std::string_view> worker;  // a worker id
};

// Appends an event of `kind` about `subject` at `at` with `payload_json` (a JSON object, our
// own serialisation). Returns its sequence number.
std::int64_t append(store::Transaction& tx, Timestamp at, std::string_view kind,
                    std::string_view subject, const Concerns& concerns,
                    std::string_view payload_json);

// Appends the transition of job `job_id` (kind "job.<to>"), concerning the job's owner and the
// worker its row names, in one statement (the job row is read by the insert itself). Returns
// its sequence number. REQUIRES: the job row exists.
std::int64_t append_job_transition(store::Transaction& tx, Timestamp at, std::string_view job_id,
                                   std::optional<JobStatus> from, JobStatus to,
                                   std::string_view actor, std::string_view reason);

}  // namespace sihlicon::events
