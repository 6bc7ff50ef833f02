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
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::settlement {

// The attempts that one write's job state changes end, counted per worker and stored with one
// statement per worker (a batch of completions by one worker updates its row once).
class AttemptTally {
  public:
    // Counts the attempt that `event` ends, if it leaves `running` for anything but
    // `cancelled`: on the worker that claimed it (the actor of the job's last move to
    // running), a success when it completed, on time when within its job's timeout and
    // deadline. For a completion the scheduler's `completed` gives the worker, the attempt's
    // start and the job's limits (the same facts), else they are read from the job's events
    // and row. REQUIRES: `tx` is a write transaction in which `event` was recorded.
    void add(store::Transaction& tx, const JobEvent& event,
             const detail::CompletedAttempt* completed);
    // Adds the counts to the workers' reputation rows. REQUIRES: the same transaction.
    void store(store::Transaction& tx) const;

  private:
    struct Counts {
        std::int64_t attempts = 0;
        std::int64_t successes = 0;
        std::int64_t on_time = 0;
    };
    std::map<std::string, Counts, std::less<>> by_worker_;
};

// Records that `worker_id` was online from its previous heartbeat until `now`, if it is not
// offline and that gap is at most `offline_after` (it was alive all along): the online stretch
// ending at the previous heartbeat now ends at `now`, or one starts there. A longer gap is not
// counted. Unknown workers are ignored. REQUIRES: `tx` is a write transaction, called before
// the heartbeat is stored.
void record_heartbeat(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                      std::chrono::milliseconds offline_after);

// What uptime_within needs to know of a worker besides its recorded stretches.
struct UptimeSubject {
    std::string_view worker_id;
    std::int64_t last_heartbeat_at = 0;  // ms since the epoch
    bool offline = false;
};

// The one definition of uptime, used for reputation and for the readiness pool: the time, in
// ms, that the worker was online within [from_ms, to_ms). That is the overlap of the window
// with the stretches record_heartbeat stored (gaps between heartbeats past `offline_after` are
// not counted) plus, if the worker is still alive at `to_ms` (not offline, last heartbeat at
// most `offline_after` before `to_ms`), the time since its last heartbeat. 0 for an empty
// window.
std::int64_t uptime_within(store::Transaction& tx, const UptimeSubject& worker,
                           std::int64_t from_ms, std::int64_t to_ms,
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
