// SPDX-License-Identifier: Apache-2.0
#include "scheduler/transitions.hpp"

#include "cas/cas_internal.hpp"
#include "hub/event_log.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon::scheduler {

namespace {

constexpr std::int64_t kMaxBackoffMs = 3'600'000;

// The states listed in job_states (schema.hpp, migration 10).
bool has_state_list(JobStatus status) {
    return status == JobStatus::pending || status == JobStatus::failed ||
           status == JobStatus::cancelled;
}

bool is_waiting(std::optional<JobStatus> status) {
    return status == JobStatus::pending || status == JobStatus::queued;
}

std::int64_t backoff_after(std::int64_t base_ms, std::int64_t attempts) {
    std::int64_t delay = base_ms;
    for (std::int64_t i = 1; i < attempts && delay < kMaxBackoffMs; ++i) {
        delay *= 2;
    }
    return std::min(delay, kMaxBackoffMs);
}

std::vector<std::string> ids_of(store::Statement& rows) {
    std::vector<std::string> ids;
    while (rows.step()) {
        ids.push_back(rows.column_text(0));
    }
    return ids;
}

}  // namespace

std::chrono::milliseconds preference_window(const Rules& options) {
    return options.preference_window;
}

void Moves::record(std::string_view job_id, const std::optional<std::string>& hub_id,
                   std::optional<JobStatus> from, JobStatus to, std::string_view actor,
                   std::string_view reason) {
    // The hub's event log holds job transitions (events.hpp): one insert, as before.
    const auto sequence = events::append_job_transition(tx, now, job_id, from, to, actor, reason);
    const int depth_change = (is_waiting(to) ? 1 : 0) - (is_waiting(from) ? 1 : 0);
    if (hub_id && depth_change != 0) {
        tx.prepare("UPDATE hubs SET queue_depth = queue_depth + ? WHERE id = ?")
            .bind_all(depth_change, *hub_id)
            .run();
    }
    const std::string queue_hub = hub_id.value_or("");
    if (from) {
        changes.counts[{queue_hub, *from}] -= 1;
    }
    changes.counts[{queue_hub, to}] += 1;
    if (from && has_state_list(*from)) {
        tx.prepare("DELETE FROM job_states WHERE queue_hub = ? AND state = ? AND job_id = ?")
            .bind_all(queue_hub, to_string(*from), job_id)
            .run();
    }
    if (has_state_list(to)) {
        tx.prepare(
              "INSERT INTO job_states (queue_hub, state, job_id, job_created_at) "
              "SELECT COALESCE(hub_id, ''), status, id, created_at FROM jobs WHERE id = ?")
            .bind_all(job_id)
            .run();
    }
    changes.events.push_back(JobEvent{sequence, std::string(job_id), from, to, now,
                                      std::string(actor), std::string(reason)});
}

void Changes::store_counts(store::Transaction& tx) const {
    // Two counts per statement where there are two (a transition moves a job out of one state
    // and into another): half the statements.
    static constexpr const char* kUpsert[] = {
        "INSERT INTO job_counts (queue_hub, status, count) VALUES (?, ?, ?) "
        "ON CONFLICT (queue_hub, status) DO UPDATE SET count = count + excluded.count",
        "INSERT INTO job_counts (queue_hub, status, count) VALUES (?, ?, ?), (?, ?, ?) "
        "ON CONFLICT (queue_hub, status) DO UPDATE SET count = count + excluded.count",
    };
    std::vector<const decltype(counts)::value_type*> changed;
    for (const auto& entry : counts) {
        if (entry.second != 0) {
            changed.push_back(&entry);
        }
    }
    for (std::size_t next = 0; next < changed.size(); next += 2) {
        const std::size_t rows = std::min<std::size_t>(2, changed.size() - next);
        auto upsert = tx.prepare(kUpsert[rows - 1]);
        for (std::size_t row = 0; row < rows; ++row) {
            const auto& [key, change] = *changed[next + row];
            const int first = 3 * static_cast<int>(row);
            upsert.bind(first + 1, key.first)
                .bind(first + 2, to_string(key.second))
                .bind(first + 3, change);
        }
        upsert.run();
    }
}

namespace {

// Stores what ended attempts gave back: one update per worker and one per hub.
void store_counters(store::Transaction& tx, const HeldCounters& counters) {
    // The stored status is not touched: busy is read from running_jobs (see schema.hpp).
    for (const auto& [worker_id, freed] : counters.workers) {
        tx.prepare(
              "UPDATE workers SET used_cpu_millicores = used_cpu_millicores - ?, "
              "used_memory_bytes = used_memory_bytes - ?, gpus_in_use = gpus_in_use & ~?, "
              "running_jobs = running_jobs - ? WHERE id = ?")
            .bind_all(freed.cpu_millicores, freed.memory_bytes, freed.gpu_mask, freed.jobs,
                      worker_id)
            .run();
    }
    for (const auto& [hub_id, power_w] : counters.hub_power_w) {
        if (power_w != 0) {
            tx.prepare("UPDATE hubs SET running_power_w = running_power_w - ? WHERE id = ?")
                .bind_all(power_w, hub_id)
                .run();
        }
    }
}

}  // namespace

void Moves::store_held_counters() {
    if (held_counters) {
        store_counters(tx, *held_counters);
        held_counters.reset();
    }
}

std::optional<std::string> Moves::release_resources(std::string_view job_id) {
    auto row = tx.prepare(
        "SELECT j.worker_id, j.cpu_millicores, j.memory_bytes, j.gpu_index, j.power_w, w.hub_id "
        "FROM jobs j JOIN workers w ON w.id = j.worker_id WHERE j.id = ?");
    row.bind_all(job_id);
    if (!row.step()) {
        return std::nullopt;
    }
    std::string hub_id = row.column_text(5);
    HeldCounters now_counters;
    HeldCounters& counters = held_counters ? *held_counters : now_counters;
    auto& freed = counters.workers[row.column_text(0)];
    freed.cpu_millicores += row.column_int64(1);
    freed.memory_bytes += row.column_int64(2);
    // A GPU is leased to one running job at a time, so the masks of a batch never overlap.
    freed.gpu_mask |= row.is_null(3) ? std::int64_t{0} : (std::int64_t{1} << row.column_int64(3));
    freed.jobs += 1;
    counters.hub_power_w[hub_id] += row.column_int64(4);
    if (!held_counters) {
        store_counters(tx, now_counters);
    }
    return hub_id;
}

void Moves::end_attempt(std::string_view job_id, std::string_view actor, std::string_view reason,
                        bool retryable) {
    release_resources(job_id);
    auto row =
        tx.prepare("SELECT hub_id, attempts, max_attempts, backoff_ms FROM jobs WHERE id = ?");
    row.bind_all(job_id);
    row.step();
    const auto hub_id = row.column_optional_text(0);
    const auto attempts = row.column_int64(1);
    const auto max_attempts = row.column_int64(2);
    const auto backoff_ms = row.column_int64(3);
    if (retryable && attempts < max_attempts) {
        const auto delay = backoff_after(backoff_ms, attempts);
        const bool wait = delay > 0;
        static const std::string retry_sql = fmt::format(
            "UPDATE jobs SET status = ?, wait_reason = ?, ready_at = ?, worker_id = NULL, "
            "run_hub_id = NULL, lease_token = NULL, lease_expires_at = NULL, power_w = 0, "
            "gpu_index = NULL, error_message = ?, updated_at = ?, {} WHERE id = ?",
            kBackInItsQueue);
        const char* status = wait ? "pending" : "queued";
        tx.prepare(retry_sql)
            .bind_all(status, wait ? std::optional<std::string_view>("backoff") : std::nullopt,
                      wait ? std::optional<std::int64_t>(now.ms() + delay) : std::nullopt, reason,
                      now.ms(), status, prefer_until_ms(), job_id)
            .run();
        record(job_id, hub_id, JobStatus::running, wait ? JobStatus::pending : JobStatus::queued,
               actor,
               fmt::format("{}; retry {} of {} after {} ms", reason, attempts + 1, max_attempts,
                           delay));
        return;
    }
    const bool exhausted = retryable;  // retryable but out of attempts: dead letter
    tx.prepare(
          "UPDATE jobs SET status = 'failed', dead_letter = ?, lease_expires_at = NULL, "
          "power_w = 0, gpu_index = NULL, error_message = ?, finished_at = ?, updated_at = ? "
          "WHERE id = ?")
        .bind_all(exhausted ? 1 : 0, reason, now.ms(), now.ms(), job_id)
        .run();
    record(job_id, hub_id, JobStatus::running, JobStatus::failed, actor,
           exhausted ? fmt::format("{}; dead-lettered after {} attempts", reason, attempts)
                     : std::string(reason));
    fail_dependents(job_id, fmt::format("dependency {} failed", job_id));
}

JobStatus Moves::make_ready_or_wait(std::string_view job_id,
                                    const std::optional<std::string>& hub_id,
                                    std::optional<JobStatus> from, std::string_view actor,
                                    std::string_view reason) {
    auto open = tx.prepare(
        "SELECT COUNT(*) FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on "
        "WHERE d.job_id = ? AND j.status <> 'completed'");
    open.bind_all(job_id);
    open.step();
    const bool waits_for_dependencies = open.column_int64(0) > 0;
    auto scheduled = tx.prepare("SELECT scheduled_at FROM jobs WHERE id = ?");
    scheduled.bind_all(job_id);
    scheduled.step();
    const auto scheduled_at = scheduled.column_optional_int64(0);
    JobStatus to = JobStatus::queued;
    std::optional<std::string_view> wait_reason;
    std::optional<std::int64_t> ready_at;
    if (waits_for_dependencies) {
        to = JobStatus::pending;
        wait_reason = "dependencies";
    } else if (scheduled_at && *scheduled_at > now.ms()) {
        to = JobStatus::pending;
        wait_reason = "scheduled";
        ready_at = scheduled_at;
    } else if (stored_inputs_missing(job_id)) {
        to = JobStatus::pending;
        wait_reason = "inputs";
        ready_at = now.ms() + options.input_recheck_interval.count();
    }
    static const std::string wait_sql = fmt::format(
        "UPDATE jobs SET status = ?, wait_reason = ?, ready_at = ?, updated_at = ?, {} "
        "WHERE id = ?",
        kBackInItsQueue);
    tx.prepare(wait_sql)
        .bind_all(to_string(to), wait_reason, ready_at, now.ms(), to_string(to), prefer_until_ms(),
                  job_id)
        .run();
    if (from != to) {
        record(job_id, hub_id, from, to, actor,
               wait_reason ? fmt::format("{}; waits for {}", reason, *wait_reason)
                           : std::string(reason));
    }
    return to;
}

bool Moves::inputs_missing(const std::vector<std::string>& input_refs, std::string_view owner) {
    // Readable by the job's owner, not merely present: a job must not learn whether content it
    // may not read exists (it waits exactly as for content nobody stored).
    return std::any_of(input_refs.begin(), input_refs.end(), [&](const std::string& content_id) {
        return !cas::readable(tx, content_id, owner);
    });
}

bool Moves::stored_inputs_missing(std::string_view job_id) {
    auto row = tx.prepare("SELECT spec, owner FROM jobs WHERE id = ?");
    row.bind_all(job_id);
    if (!row.step()) {
        return false;
    }
    std::vector<std::string> refs;
    // The stored spec is our own JSON: only its inputDataRefs are needed here.
    const auto spec = boost::json::parse(row.column_text(0));
    if (const auto* inputs = spec.as_object().if_contains("inputDataRefs");
        inputs != nullptr && inputs->is_array()) {
        for (const auto& input : inputs->as_array()) {
            refs.emplace_back(input.as_string());
        }
    }
    return !refs.empty() && inputs_missing(refs, row.column_text(1));
}

void Moves::release_dependents(std::string_view job_id) {
    auto rows = tx.prepare(
        "SELECT d.job_id, j.hub_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id "
        "WHERE d.depends_on = ? AND j.status = 'pending' AND j.wait_reason = 'dependencies'");
    rows.bind_all(job_id);
    std::vector<std::pair<std::string, std::optional<std::string>>> dependents;
    while (rows.step()) {
        dependents.emplace_back(rows.column_text(0), rows.column_optional_text(1));
    }
    for (const auto& [dependent, hub_id] : dependents) {
        make_ready_or_wait(dependent, hub_id, JobStatus::pending, "scheduler",
                           fmt::format("dependency {} completed", job_id));
    }
}

void Moves::fail_dependents(std::string_view job_id, std::string_view why) {
    auto rows = tx.prepare(
        "SELECT d.job_id, j.hub_id, j.status FROM job_dependencies d "
        "JOIN jobs j ON j.id = d.job_id WHERE d.depends_on = ? AND j.status IN "
        "('pending', 'queued')");
    rows.bind_all(job_id);
    std::vector<std::tuple<std::string, std::optional<std::string>, JobStatus>> dependents;
    while (rows.step()) {
        dependents.emplace_back(rows.column_text(0), rows.column_optional_text(1),
                                parse_job_status(rows.column_text(2)));
    }
    for (const auto& [dependent, hub_id, status] : dependents) {
        tx.prepare(
              "UPDATE jobs SET status = 'failed', wait_reason = NULL, ready_at = NULL, "
              "error_message = ?, finished_at = ?, updated_at = ? WHERE id = ?")
            .bind_all(why, now.ms(), now.ms(), dependent)
            .run();
        record(dependent, hub_id, status, JobStatus::failed, "scheduler", why);
        fail_dependents(dependent, fmt::format("dependency {} failed", dependent));
    }
}

std::vector<std::string> Moves::running_jobs_of(std::string_view worker_id) {
    // Schema migration 9: no index by worker; the lease index holds each running job's worker.
    auto held = tx.prepare(
        "SELECT id FROM jobs INDEXED BY jobs_leases WHERE status = 'running' AND worker_id = ?");
    held.bind_all(worker_id);
    return ids_of(held);
}

std::int64_t Moves::expire_and_promote() {
    std::int64_t changed = 0;
    const auto silent_since =
        now.ms() - options.heartbeat_interval.count() * options.missed_heartbeats;
    {
        // Usually nothing is due: one statement says so (each EXISTS reads one index entry)
        // where the three lookups below would be three.
        auto any = tx.prepare(
            "SELECT EXISTS (SELECT 1 FROM workers WHERE status <> 'offline' "
            "AND last_heartbeat_at < ?1) "
            "OR EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_expires_at <= ?2) "
            "OR EXISTS (SELECT 1 FROM jobs WHERE status = 'pending' AND ready_at <= ?2) "
            "OR EXISTS (SELECT 1 FROM jobs WHERE status = 'queued' AND prefer_until IS NOT NULL "
            "AND prefer_until <= ?2)");
        any.bind_all(silent_since, now.ms());
        if (!any.step() || any.column_int64(0) == 0) {
            return 0;
        }
    }
    auto silent =
        tx.prepare("SELECT id FROM workers WHERE status <> 'offline' AND last_heartbeat_at < ?");
    silent.bind_all(silent_since);
    for (const auto& worker_id : ids_of(silent)) {
        tx.prepare("UPDATE workers SET status = 'offline' WHERE id = ?").bind_all(worker_id).run();
        for (const auto& job_id : running_jobs_of(worker_id)) {
            end_attempt(
                job_id, "scheduler",
                fmt::format("worker {} missed {} heartbeats", worker_id, options.missed_heartbeats),
                true);
            ++changed;
        }
    }
    auto expired =
        tx.prepare("SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= ?");
    expired.bind_all(now.ms());
    for (const auto& job_id : ids_of(expired)) {
        end_attempt(job_id, "scheduler", "lease expired", true);
        ++changed;
    }
    auto due = tx.prepare(
        "SELECT id, hub_id, wait_reason FROM jobs WHERE status = 'pending' AND ready_at <= ?");
    due.bind_all(now.ms());
    std::vector<std::pair<std::string, std::optional<std::string>>> ready;
    while (due.step()) {
        ready.emplace_back(due.column_text(0), due.column_optional_text(1));
    }
    for (const auto& [job_id, hub_id] : ready) {
        tx.prepare("UPDATE jobs SET scheduled_at = NULL WHERE id = ? AND scheduled_at <= ?")
            .bind_all(job_id, now.ms())
            .run();
        make_ready_or_wait(job_id, hub_id, JobStatus::pending, "scheduler", "due");
        ++changed;
    }
    // Preferred jobs whose hub did not take them in time: any hub's workers may now. Their
    // counts stay with the hub they name (schema.hpp, migration 16).
    auto elapsed = tx.prepare(
        "SELECT id, hub_id FROM jobs INDEXED BY jobs_preference WHERE status = 'queued' AND "
        "prefer_until IS NOT NULL AND prefer_until <= ?");
    elapsed.bind_all(now.ms());
    std::vector<std::pair<std::string, std::optional<std::string>>> moved;
    while (elapsed.step()) {
        moved.emplace_back(elapsed.column_text(0), elapsed.column_optional_text(1));
    }
    for (const auto& [job_id, hub_id] : moved) {
        tx.prepare(
              "UPDATE jobs SET queue_hub = '', prefer_until = NULL, updated_at = ? WHERE id = ?")
            .bind_all(now.ms(), job_id)
            .run();
        record(
            job_id, hub_id, JobStatus::queued, JobStatus::queued, "scheduler",
            fmt::format("preference for hub {} elapsed; any hub may run it", hub_id.value_or("")));
        ++changed;
    }
    return changed;
}

}  // namespace sihlicon::scheduler
