// SPDX-License-Identifier: Apache-2.0
//
// The job state machine's moves inside one write transaction: each records its event row,
// keeps the counters (hub queue depth, worker resources, hub running power) in step, and
// cascades to dependent jobs. Not installed.
#pragma once

#include "hub/hub_core.hpp"
#include "settlement/scheduler_seam.hpp"
#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::scheduler {

// How long a queued job waits for the hub it prefers before any hub may take it. The one
// place the preference window is read (JobSpec::hub_id).
struct Rules;
std::chrono::milliseconds preference_window(const Rules& options);

// The SET clause that puts a job back in its hub's queue as it waits again (after a retry, a
// requeue, its dependencies or its scheduled time): queue_hub is its hub's again, and a
// preferred job that becomes queued gets a fresh preference window. It takes two parameters:
// the status the job enters, then Moves::prefer_until_ms().
inline constexpr std::string_view kBackInItsQueue =
    "queue_hub = COALESCE(hub_id, ''), prefer_until = CASE WHEN ? = 'queued' AND hub_id IS NOT "
    "NULL AND pinned = 0 THEN ? END";

// What one write produced that must be announced once it commits.
struct Changes {
    std::vector<JobEvent> events;
    // For each completion among `events`, by its index there: what the settlement hook is
    // handed instead of reading it back.
    std::map<std::size_t, detail::CompletedAttempt> completed;
    // How each (queue hub, status) count in job_counts changes: gathered by Moves::record,
    // stored once per write by store_counts().
    std::map<std::pair<std::string, JobStatus>, std::int64_t, std::less<>> counts;

    void clear() {
        events.clear();
        completed.clear();
        counts.clear();
    }
    // Adds the gathered count changes to job_counts.
    void store_counts(store::Transaction& tx) const;
};

// Resources given back by ended attempts, not yet stored (see Moves::hold_counters).
struct HeldCounters {
    struct Worker {
        std::int64_t cpu_millicores = 0;
        std::int64_t memory_bytes = 0;
        std::int64_t gpu_mask = 0;
        std::int64_t jobs = 0;
    };
    std::map<std::string, Worker, std::less<>> workers;
    std::map<std::string, std::int64_t, std::less<>> hub_power_w;
};

// What a write decides by: this process's SchedulerOptions and the hub's settings as of the
// write's transaction (include/sihlicon/settings.hpp), under the names the rules use.
struct Rules {
    std::chrono::milliseconds lease_duration{60'000};
    std::chrono::milliseconds heartbeat_interval{30'000};
    std::int64_t missed_heartbeats = 3;
    std::chrono::milliseconds aging_interval{60'000};
    std::int64_t submissions_per_hour = 10;
    std::int64_t claim_scan_limit = 256;
    std::chrono::milliseconds input_recheck_interval{1'000};
    std::chrono::milliseconds preference_window{60'000};

    static Rules of(const SchedulerOptions& options, const HubSettings& settings) {
        return Rules{options.lease_duration,         settings.heartbeat_interval,
                     settings.missed_heartbeats,     settings.aging_interval,
                     settings.submissions_per_hour,  options.claim_scan_limit,
                     options.input_recheck_interval, settings.preference_window};
    }
};

struct Moves {
    store::Transaction& tx;
    Changes& changes;
    Timestamp now;
    const Rules& options;
    // While set, release_resources gathers here instead of updating the worker and hub rows
    // at once; store_held_counters() writes one update per worker and per hub. A batch of
    // completions holds them, and reads none of those counters until it stores them.
    std::optional<HeldCounters> held_counters;

    void hold_counters() { held_counters.emplace(); }
    void store_held_counters();

    // Appends the event row and adjusts the pinned hub's queue depth. The caller has already
    // updated the job row itself.
    void record(std::string_view job_id, const std::optional<std::string>& hub_id,
                std::optional<JobStatus> from, JobStatus to, std::string_view actor,
                std::string_view reason);

    // Ends the running attempt of `job_id`: frees the worker's resources and the hub's power,
    // then retries after back-off while attempts remain and `retryable`, else fails the job
    // (dead-lettered when its attempts are exhausted) and fails its dependents.
    void end_attempt(std::string_view job_id, std::string_view actor, std::string_view reason,
                     bool retryable);

    // Gives back what a running job holds on its worker and hub. Returns the hub of the job's
    // worker, or nothing when the job has no worker.
    std::optional<std::string> release_resources(std::string_view job_id);

    // Moves a pending or queued job to its next waiting state: pending for dependencies, for
    // scheduledAt or for inputs not yet in the content store, else queued. Returns the state
    // it ends in.
    JobStatus make_ready_or_wait(std::string_view job_id, const std::optional<std::string>& hub_id,
                                 std::optional<JobStatus> from, std::string_view actor,
                                 std::string_view reason);

    // Whether some of `input_refs` (CIDs) are not yet readable by `owner` in the content store
    // (absent, or stored only by others as content `owner` may not read).
    bool inputs_missing(const std::vector<std::string>& input_refs, std::string_view owner);
    // inputs_missing() for a stored job's inputDataRefs and owner.
    bool stored_inputs_missing(std::string_view job_id);

    // After `job_id` completed: dependents whose dependencies are all complete move on.
    void release_dependents(std::string_view job_id);
    // After `job_id` ended without completing: its waiting dependents fail, recursively.
    void fail_dependents(std::string_view job_id, std::string_view why);

    // The jobs running on `worker_id`, read from the lease index (running jobs only).
    std::vector<std::string> running_jobs_of(std::string_view worker_id);

    // When a preferred job entering the queue now stops waiting for its hub.
    std::int64_t prefer_until_ms() const { return now.ms() + preference_window(options).count(); }

    // Time-driven moves: silent workers go offline, expired leases end, due jobs are queued,
    // queued jobs whose preference for a hub ended move to the queue of jobs pinned to no hub
    // (with the event "preference for hub H elapsed"). Returns how many jobs changed.
    std::int64_t expire_and_promote();
};

}  // namespace sihlicon::scheduler
