// SPDX-License-Identifier: Apache-2.0
//
// The seam through which settlement follows the scheduler's jobs inside the scheduler's own
// transactions (defined in src/scheduler/scheduler.cpp). Not installed.
//   - on_transitions runs once per write that changed jobs, after the scheduler's write body
//     and in its transaction, with those changes in order, so a submission and its
//     reservation, a completion and its charge, an end and its void commit together; a throw
//     undoes the whole write. For each completion the scheduler also hands over what it
//     already read (CompletedAttempt, by the event's index; every completion has one), so the
//     hook reads none of it back; seeing the whole write at once, it updates each worker's
//     reputation once.
//   - check_completion runs before a completion changes anything (lease already checked):
//     it refuses a wrong proof of execution or worker signature.
//   - on_heartbeat runs in a heartbeat's transaction before the heartbeat is stored, with the
//     scheduler's offline threshold (heartbeat_interval × missed_heartbeats): it counts uptime.
//   - reputation_ppm gives a worker's reputation score (0..1,000,000), the tie-breaker
//     between otherwise equal workers (scheduler::ranks_before in placement.hpp).
#pragma once

#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace sihlicon::detail {

// A completed job as the completion stored it, the hub of the worker that ran it and when the
// completed attempt started (the time of its claim; a claim always records it, so it is
// missing only from a row that lacks it). Every completion among a write's events has one.
struct CompletedAttempt {
    JobRecord job;
    std::string worker_hub;
    std::optional<Timestamp> attempt_started_at;
};

struct JobSettlementHooks {
    std::function<void(store::Transaction& tx, const std::vector<JobEvent>& events,
                       const std::map<std::size_t, CompletedAttempt>& completed)>
        on_transitions;
    std::function<void(store::Transaction& tx, std::string_view job_id, std::string_view worker_id,
                       const JobCompletion& completion)>
        check_completion;
    std::function<void(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                       std::chrono::milliseconds offline_after)>
        on_heartbeat;
    std::function<std::int64_t(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                               std::chrono::milliseconds offline_after)>
        reputation_ppm;
};

struct SchedulerAccess {
    // Installs (or, with empty functions, removes) the hooks.
    // REQUIRES: no scheduler call runs concurrently (call it while the hub is being opened).
    static void set_settlement_hooks(Scheduler& scheduler, JobSettlementHooks hooks);
};

}  // namespace sihlicon::detail
