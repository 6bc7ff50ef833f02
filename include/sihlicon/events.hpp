// SPDX-License-Identifier: Apache-2.0
//
// The hub's event log: one durable, ordered record of what changed in the hub, readable from
// any process (Hub::events_after, Hub::wait_for_events) and, through the server, from any
// machine (GET /api/v1/events, server.hpp).
//
// What is appended, each in the same transaction as the change it records (a change that
// rolls back leaves no event):
//   - job.<status>      every job transition (job.queued, job.running, job.completed,
//                       job.failed, job.cancelled, job.pending): subject the job id; payload
//                       {"from": status or null, "to", "actor", "reason"}; concerns the job's
//                       owner and the worker the job row names at that moment (the worker
//                       holding it while it runs, and after it completed or failed there);
//   - content.stored    a new manifest, or an owner's manifest given new metadata: subject the
//                       content id (CID); payload {"owner", "size", "storageTier"}; concerns
//                       the owner;
//   - content.removed   an owner's manifest removed: payload {"owner"}; concerns the owner;
//   - content.named     a name version pointing at content (a pin by name): subject the name;
//                       payload {"name", "version", "contentId", "owner"}; concerns the owner;
//   - content.unnamed   that name version removed: the same subject, payload and concerns;
//   - heat.settled      a heat settlement: subject the hub id; payload {"periodStart",
//                       "periodEnd", "totalHeatMwh"}; concerns the operator only;
//   - epoch.sealed      an epoch finalized: subject the epoch id; payload {"number",
//                       "jobsCount", "merkleRoot"}; concerns the operator only;
//   - payout.made       a worker's payout of a sealed epoch: subject the epoch id; payload
//                       {"workerId", "amount", "currency"}; concerns that worker.
//
// Sequence numbers are hub-wide and increase in commit order: an event a reader has seen is
// never followed by a smaller one, so a follower that remembers the last sequence it read and
// asks for what comes after it misses nothing and sees nothing twice. They are not
// contiguous (a rolled-back transaction's number may be skipped).
//
// Retention: the hub keeps every event (the log is the history job_events was before schema
// migration 20; a job's events are what Scheduler::events reads). Nothing deletes events.
#pragma once

#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sihlicon {

struct SIHLICON_API HubEvent {
    std::int64_t sequence = 0;
    Timestamp at;                       // the hub's clock when the change was made
    std::string kind;                   // e.g. "job.completed" (see the file comment)
    std::string subject;                // the job id, content id, name, hub id or epoch id
    std::optional<std::string> client;  // the client principal it concerns, if any
    std::optional<std::string> worker;  // the worker id it concerns, if any
    std::string payload;                // a JSON object

    // {"sequence", "at" (ISO 8601), "kind", "subject", "client" (or null), "worker" (or
    // null), "payload" (the object itself)}.
    std::string to_json() const;
};

// Who reads the log (Hub::events_after): what a reader sees is decided in the core.
//   - the operator (principal kOperatorPrincipal): every event;
//   - a worker (worker_id set: a worker token's bound worker): the events that concern that
//     worker (its jobs' transitions while the job names it, its payouts);
//   - any other principal: the events that concern it as a client (its jobs, its content);
//   - the anonymous principal (empty) without a worker: nothing.
// An event that does not concern the reader is left out exactly as if it did not exist.
struct EventReader {
    std::string principal;
    std::string worker_id;  // non-empty: read as this worker
};

}  // namespace sihlicon
