// SPDX-License-Identifier: Apache-2.0
#include "settlement/reputation.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace sihlicon::settlement {

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kOne = 1'000'000;

std::int64_t ratio_ppm(std::int64_t part, std::int64_t whole) {
    if (whole <= 0) {
        return 0;
    }
    const auto clamped = std::clamp<std::int64_t>(part, 0, whole);
    return static_cast<std::int64_t>(static_cast<Int128>(clamped) * kOne / whole);
}

// A worker's counters and the two instants its uptime is measured between.
struct WorkerRow {
    std::string id;
    std::string hub_id;
    std::int64_t attempts = 0;
    std::int64_t successes = 0;
    std::int64_t on_time = 0;
    std::int64_t registered_at = 0;
    std::int64_t last_heartbeat_at = 0;
    bool offline = false;
};

constexpr std::string_view kWorkerSelect =
    "SELECT w.id, w.hub_id, COALESCE(r.attempts, 0), COALESCE(r.successes, 0), "
    "COALESCE(r.on_time, 0), w.registered_at, w.last_heartbeat_at, "
    "w.status FROM workers w LEFT JOIN settlement_reputation r ON r.worker_id = w.id";

WorkerRow read_row(const store::Statement& row) {
    WorkerRow worker;
    worker.id = row.column_text(0);
    worker.hub_id = row.column_text(1);
    worker.attempts = row.column_int64(2);
    worker.successes = row.column_int64(3);
    worker.on_time = row.column_int64(4);
    worker.registered_at = row.column_int64(5);
    worker.last_heartbeat_at = row.column_int64(6);
    worker.offline = row.column_text(7) == "offline";
    return worker;
}

// The row's figures at `now`: uptime since its registration.
Reputation reputation_of(store::Transaction& tx, const WorkerRow& worker, Timestamp now,
                         std::chrono::milliseconds offline_after) {
    Reputation reputation;
    reputation.subject = ReputationSubject::worker;
    reputation.id = worker.id;
    reputation.attempts = worker.attempts;
    reputation.successes = worker.successes;
    reputation.on_time = worker.on_time;
    reputation.observed_ms = std::max<std::int64_t>(0, now.ms() - worker.registered_at);
    reputation.uptime_ms =
        uptime_within(tx, UptimeSubject{worker.id, worker.last_heartbeat_at, worker.offline},
                      worker.registered_at, now.ms(), offline_after);
    compute_rates(reputation);
    return reputation;
}

void add_into(Reputation& sum, const Reputation& part) {
    sum.attempts += part.attempts;
    sum.successes += part.successes;
    sum.on_time += part.on_time;
    sum.uptime_ms += part.uptime_ms;
    sum.observed_ms += part.observed_ms;
}

bool better(const Reputation& a, const Reputation& b) {
    return a.score_ppm != b.score_ppm ? a.score_ppm > b.score_ppm : a.id < b.id;
}

}  // namespace

void compute_rates(Reputation& reputation) {
    reputation.success_rate_ppm = ratio_ppm(reputation.successes, reputation.attempts);
    reputation.on_time_rate_ppm = ratio_ppm(reputation.on_time, reputation.successes);
    reputation.uptime_ppm = ratio_ppm(reputation.uptime_ms, reputation.observed_ms);
    reputation.score_ppm =
        (reputation.success_rate_ppm + reputation.on_time_rate_ppm + reputation.uptime_ppm) / 3;
}

void AttemptTally::add(store::Transaction& tx, const JobEvent& event,
                       const detail::CompletedAttempt* completed) {
    if (event.from != JobStatus::running || event.to == JobStatus::cancelled) {
        return;
    }
    const bool success = event.to == JobStatus::completed;
    std::string worker;
    std::int64_t started = 0;
    bool on_time = false;
    // Within the job's deadline, if it has one, and its timeout since the attempt started.
    const auto in_time = [&](std::optional<std::int64_t> deadline_ms, std::int64_t timeout_ms) {
        return (!deadline_ms || event.at.ms() <= *deadline_ms) &&
               event.at.ms() - started <= timeout_ms;
    };
    if (completed != nullptr && completed->attempt_started_at) {
        const auto& job = completed->job;
        worker = job.worker_id.value_or("");
        started = completed->attempt_started_at->ms();
        std::optional<std::int64_t> deadline_ms;
        if (job.spec.deadline) {
            deadline_ms = job.spec.deadline->ms();
        }
        on_time = in_time(deadline_ms, job.spec.workload.timeout_seconds * 1000);
    } else {
        {
            auto row = tx.prepare(
                "SELECT actor, at FROM job_events WHERE job_id = ? AND to_status = 'running' "
                "AND sequence < ? ORDER BY sequence DESC LIMIT 1");
            row.bind_all(event.job_id, event.sequence);
            if (!row.step()) {
                return;
            }
            worker = row.column_text(0);
            started = row.column_int64(1);
        }
        if (success) {
            auto row = tx.prepare("SELECT deadline, timeout_ms FROM jobs WHERE id = ?");
            row.bind_all(event.job_id);
            if (row.step()) {
                on_time = in_time(row.column_optional_int64(0), row.column_int64(1));
            }
        }
    }
    auto& counts = by_worker_[worker];
    counts.attempts += 1;
    counts.successes += success ? 1 : 0;
    counts.on_time += on_time ? 1 : 0;
}

void AttemptTally::store(store::Transaction& tx) const {
    for (const auto& [worker, counts] : by_worker_) {
        tx.prepare(
              "INSERT INTO settlement_reputation (worker_id, attempts, successes, on_time) "
              "SELECT id, ?, ?, ? FROM workers WHERE id = ? ON CONFLICT (worker_id) DO UPDATE "
              "SET attempts = settlement_reputation.attempts + excluded.attempts, "
              "successes = settlement_reputation.successes + excluded.successes, "
              "on_time = settlement_reputation.on_time + excluded.on_time")
            .bind_all(counts.attempts, counts.successes, counts.on_time, worker)
            .run();
    }
}

void record_heartbeat(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                      std::chrono::milliseconds offline_after) {
    std::int64_t gap = 0;
    {
        auto row = tx.prepare("SELECT last_heartbeat_at, status FROM workers WHERE id = ?");
        row.bind_all(worker_id);
        if (!row.step() || row.column_text(1) == "offline") {
            return;
        }
        gap = now.ms() - row.column_int64(0);
    }
    if (gap <= 0 || gap > offline_after.count()) {
        return;
    }
    const auto previous = now.ms() - gap;
    const auto extended = tx.prepare(
                                "UPDATE settlement_uptime SET end_at = ? WHERE worker_id = ? "
                                "AND end_at = ?")
                              .bind_all(now.ms(), worker_id, previous)
                              .run();
    if (extended == 0) {
        tx.prepare("INSERT INTO settlement_uptime (worker_id, start_at, end_at) VALUES (?, ?, ?)")
            .bind_all(worker_id, previous, now.ms())
            .run();
    }
}

std::int64_t uptime_within(store::Transaction& tx, const UptimeSubject& worker,
                           std::int64_t from_ms, std::int64_t to_ms,
                           std::chrono::milliseconds offline_after) {
    if (to_ms <= from_ms) {
        return 0;
    }
    std::int64_t uptime = 0;
    {
        auto row = tx.prepare(
            "SELECT COALESCE(SUM(MIN(end_at, ?2) - MAX(start_at, ?3)), 0) FROM settlement_uptime "
            "WHERE worker_id = ?1 AND end_at > ?3 AND start_at < ?2");
        row.bind_all(worker.worker_id, to_ms, from_ms);
        row.step();
        uptime = row.column_int64(0);
    }
    const auto since_beat = to_ms - worker.last_heartbeat_at;
    if (!worker.offline && since_beat > 0 && since_beat <= offline_after.count()) {
        uptime += to_ms - std::max(from_ms, worker.last_heartbeat_at);
    }
    return std::min(uptime, to_ms - from_ms);
}

Reputation load_worker_reputation(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                                  std::chrono::milliseconds offline_after) {
    auto row = tx.prepare(fmt::format("{} WHERE w.id = ?", kWorkerSelect));
    row.bind_all(worker_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no worker '{}'", worker_id), "workerId");
    }
    return reputation_of(tx, read_row(row), now, offline_after);
}

Reputation load_hub_reputation(store::Transaction& tx, std::string_view hub_id, Timestamp now,
                               std::chrono::milliseconds offline_after) {
    {
        auto hub = tx.prepare("SELECT 1 FROM hubs WHERE id = ?");
        hub.bind_all(hub_id);
        if (!hub.step()) {
            throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), "hubId");
        }
    }
    Reputation sum;
    sum.subject = ReputationSubject::hub;
    sum.id = std::string(hub_id);
    auto rows = tx.prepare(fmt::format("{} WHERE w.hub_id = ?", kWorkerSelect));
    rows.bind_all(hub_id);
    while (rows.step()) {
        add_into(sum, reputation_of(tx, read_row(rows), now, offline_after));
    }
    compute_rates(sum);
    return sum;
}

std::vector<Reputation> load_reputations(store::Transaction& tx, ReputationSubject subject,
                                         Timestamp now, std::chrono::milliseconds offline_after) {
    std::vector<Reputation> result;
    if (subject == ReputationSubject::worker) {
        auto rows = tx.prepare(fmt::format("{} ORDER BY w.id", kWorkerSelect));
        while (rows.step()) {
            result.push_back(reputation_of(tx, read_row(rows), now, offline_after));
        }
    } else {
        std::map<std::string, Reputation> hubs;
        auto ids = tx.prepare("SELECT id FROM hubs ORDER BY id");
        while (ids.step()) {
            auto& hub = hubs[ids.column_text(0)];
            hub.subject = ReputationSubject::hub;
            hub.id = ids.column_text(0);
        }
        auto rows = tx.prepare(fmt::format("{} ORDER BY w.id", kWorkerSelect));
        while (rows.step()) {
            const auto worker = read_row(rows);
            add_into(hubs[worker.hub_id], reputation_of(tx, worker, now, offline_after));
        }
        for (auto& [id, hub] : hubs) {
            compute_rates(hub);
            result.push_back(hub);
        }
    }
    std::sort(result.begin(), result.end(), better);
    return result;
}

}  // namespace sihlicon::settlement
