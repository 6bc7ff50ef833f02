// SPDX-License-Identifier: Apache-2.0
//
// Reputation inside transactions: the counters kept per worker (settlement_reputation, schema
// migration 6) as attempts end and heartbeats arrive, and the reputations computed from them.
// Not installed.
#pragma once

#include "settlement/scheduler_seam.hpp"
#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>
#include <sihlicon/settlement.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sihlicon::settlement {

// Counts the attempt that `event` ends, if it leaves `running` for anything but `cancelled`:
// on the worker that claimed it (the actor of the job's last move to running), a success when
// it completed, on time when within its job's timeout and deadline. For a completion the
// scheduler's `completed` gives the worker, the attempt's start and the job's limits (the
// same facts), else they are read from the job's events and row.
// REQUIRES: `tx` is a write transaction in which `event` was recorded.
void record_attempt(store::Transaction& tx, const JobEvent& event,
                    const detail::CompletedAttempt* completed);

// Adds the time since the worker's previous heartbeat to its uptime if the worker is not
// offline and that gap is at most `offline_after` (it was alive all along). Unknown workers
// are ignored. REQUIRES: `tx` is a write transaction, called before the heartbeat is stored.
void record_heartbeat(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                      std::chrono::milliseconds offline_after);

// Throws not_found for an unknown worker or hub.
Reputation load_worker_reputation(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                                  std::chrono::milliseconds offline_after);
Reputation load_hub_reputation(store::Transaction& tx, std::string_view hub_id, Timestamp now,
                               std::chrono::milliseconds offline_after);
// Best score first, then by id.
std::vector<Reputation> load_reputations(store::Transaction& tx, ReputationSubject subject,
                                         Timestamp now, std::chrono::milliseconds offline_after);

// Fills the rates and the score of `reputation` from its counters.
void compute_rates(Reputation& reputation);

}  // namespace sihlicon::settlement
