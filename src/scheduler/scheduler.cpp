// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's operations. Each public call is one read or one write transaction; the
// rules of placement live in placement.cpp and the state machine's moves in transitions.cpp.
#include "core/json.hpp"
#include "heat/heat_internal.hpp"
#include "hub/hub_core.hpp"
#include "scheduler/job_spec.hpp"
#include "scheduler/placement.hpp"
#include "scheduler/rows.hpp"
#include "scheduler/transitions.hpp"
#include "settlement/scheduler_seam.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace sihlicon {

using scheduler::Candidate;
using scheduler::Changes;
using scheduler::JobNeeds;
using scheduler::Moves;

namespace {

constexpr std::int64_t kMaxClaim = 1000;
constexpr std::int64_t kMaxListLimit = 1000;
constexpr std::chrono::hours kRateWindow{1};

void check_identifier(std::string_view field, std::string_view text) {
    const bool ok =
        !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                   c == '-';
        });
    if (!ok) {
        throw Error::invalid(field, text, "must be 1 to 64 letters, digits, '.', '_' or '-'");
    }
}

// Free text of 1..max bytes (a failure message may span lines; listings escape it).
void check_text(std::string_view field, std::string_view text, std::size_t max) {
    if (text.empty() || text.size() > max) {
        throw Error::invalid(
            field, text,
            text.empty() ? "is required" : "is longer than " + std::to_string(max) + " bytes");
    }
}

// A name shown to people or naming someone (a hub's name, site, region, a GPU model, a label,
// a principal): 1..max bytes of plain text, so it can never forge a line in a listing.
void check_name(std::string_view field, std::string_view text, std::size_t max) {
    check_text(field, text, max);
    require_plain_text(field, text);
}

void check_range(std::string_view field, std::int64_t value, std::int64_t min, std::int64_t max) {
    if (value < min || value > max) {
        throw Error::invalid(field, std::to_string(value),
                             fmt::format("must be between {} and {}", min, max));
    }
}

void validate_hub(const HubSpec& spec) {
    check_identifier("hubId", spec.id);
    check_name("name", spec.name, 256);
    check_name("site", spec.site, 128);
    check_name("region", spec.region, 64);
    check_range("heatRecoveryPpm", spec.heat_recovery_ppm, 0, 10'000'000);
    check_range("powerCapacityW", spec.power_capacity_w, 0, 1'000'000'000'000);
    check_range("wattsPerCore", spec.watts_per_core, 0, 100'000);
    check_range("wattsPerGpu", spec.watts_per_gpu, 0, 100'000);
    check_range("throttleMinPriority", spec.throttle_min_priority, -1000, 1001);
    check_range("maxQueueDepth", spec.max_queue_depth, 0, 1'000'000'000);
}

void validate_worker(const WorkerSpec& spec) {
    if (!spec.id.empty()) {
        check_identifier("workerId", spec.id);
    }
    check_identifier("hubId", spec.hub_id);
    check_range("cpuMillicores", spec.cpu_millicores, 1, 1'000'000'000);
    check_range("memoryBytes", spec.memory_bytes, 0, INT64_MAX);
    if (spec.gpus.size() > 64) {
        throw Error::invalid("gpus", std::to_string(spec.gpus.size()), "at most 64 GPUs");
    }
    for (std::size_t i = 0; i < spec.gpus.size(); ++i) {
        check_name(fmt::format("gpus[{}].model", i), spec.gpus[i].model, 128);
        check_range(fmt::format("gpus[{}].vramBytes", i), spec.gpus[i].vram_bytes, 0, INT64_MAX);
    }
    for (const auto& [key, value] : spec.labels) {
        check_name("labels", key, 128);
        if (value.size() > 256) {
            throw Error::invalid("labels." + key, value, "is longer than 256 bytes");
        }
        require_plain_text("labels." + key, value);
    }
    scheduler::check_executors(spec.executors);
}

std::string random_token() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw Error(ErrorCode::internal, "the system random generator failed");
    }
    return crypto::to_hex(bytes);
}

std::string completion_digest(const JobCompletion& completion) {
    boost::json::object object{
        {"outputs", json::string_array(completion.output_refs)},
        {"energyMwh", completion.energy ? boost::json::value(completion.energy->mwh())
                                        : boost::json::value(nullptr)},
        {"energySource", to_string(completion.energy_source)},
        {"resultHash", completion.result_hash ? boost::json::value(*completion.result_hash)
                                              : boost::json::value(nullptr)},
        {"metrics", boost::json::parse(completion.metrics_json)},
    };
    return boost::json::serialize(object);
}

void validate_completion(const JobCompletion& completion) {
    for (std::size_t i = 0; i < completion.output_refs.size(); ++i) {
        Cid::parse(completion.output_refs[i], fmt::format("outputDataRefs[{}]", i));
    }
    if (completion.energy && completion.energy->mwh() < 0) {
        throw Error::invalid("energy", completion.energy->to_kwh_string(), "must not be negative");
    }
    if (completion.result_hash) {
        check_name("resultHash", *completion.result_hash, 256);
    }
    if (!json::parse(completion.metrics_json, "metrics").is_object()) {
        throw Error::invalid("metrics", completion.metrics_json, "must be a JSON object");
    }
}

// What the lease checks need of a job, without reading its whole record.
struct LeaseState {
    JobStatus status = JobStatus::pending;
    std::optional<std::string> token;
    std::optional<std::string> completion_digest;
    std::string worker_id;
    std::optional<std::string> hub_id;
    std::int64_t attempts = 0;
    std::int64_t power_w = 0;
    std::optional<std::int64_t> attempt_started_at;
};

// The same state of a row already read whole.
LeaseState lease_state_of(const scheduler::JobRow& row) {
    const auto& job = row.record;
    std::optional<std::int64_t> started;
    if (row.attempt_started_at) {
        started = row.attempt_started_at->ms();
    }
    return {job.status,      row.lease_token, row.completion_digest, job.worker_id.value_or(""),
            job.spec.hub_id, job.attempts,    job.power_w,           started};
}

// Empty for a job that does not exist.
std::optional<LeaseState> lease_state(store::Transaction& tx, std::string_view job_id) {
    auto row = tx.prepare(
        "SELECT status, lease_token, completion_digest, worker_id, hub_id, attempts, power_w, "
        "attempt_started_at FROM jobs WHERE id = ?");
    row.bind_all(job_id);
    if (!row.step()) {
        return std::nullopt;
    }
    return LeaseState{parse_job_status(row.column_text(0)),
                      row.column_optional_text(1),
                      row.column_optional_text(2),
                      row.column_optional_text(3).value_or(""),
                      row.column_optional_text(4),
                      row.column_int64(5),
                      row.column_int64(6),
                      row.column_optional_int64(7)};
}

}  // namespace

struct Scheduler::Impl {
    explicit Impl(detail::HubCore& hub_core) : core(hub_core) {}

    detail::HubCore& core;
    mutable std::mutex options_mutex;
    SchedulerOptions options;
    std::mutex listeners_mutex;
    std::map<std::int64_t, Listener> listeners;
    std::int64_t next_subscription = 1;

    SchedulerOptions current_options() const {
        std::lock_guard lock(options_mutex);
        return options;
    }

    void notify(const Changes& changes) {
        if (changes.events.empty()) {
            return;
        }
        std::vector<Listener> targets;
        {
            std::lock_guard lock(listeners_mutex);
            for (const auto& [id, listener] : listeners) {
                targets.push_back(listener);
            }
        }
        for (const auto& event : changes.events) {
            for (const auto& listener : targets) {
                try {
                    listener(event);
                } catch (...) {
                    // A listener's failure must not undo or hide a committed change.
                }
            }
        }
    }

    // The settlement service's hooks (src/settlement/scheduler_seam.hpp); empty until the
    // hub installs them.
    detail::JobSettlementHooks settlement_hooks;

    // Lets settlement follow every transition of this write, inside its transaction.
    void settle(store::Transaction& tx, const Changes& changes) const {
        changes.store_counts(tx);
        if (settlement_hooks.on_transitions && !changes.events.empty()) {
            settlement_hooks.on_transitions(tx, changes.events, changes.completed);
        }
    }

    // Runs a write whose events are announced after it commits.
    template <class Body>
    auto write(Body&& body) {
        Changes changes;
        const auto options_now = current_options();
        auto run = [&](store::Transaction& tx) {
            changes.clear();
            // The hub's settings as of this transaction: a change by any process applies.
            const auto rules = scheduler::Rules::of(options_now, *core.settings(tx));
            Moves moves{tx, changes, core.now(), rules, std::nullopt};
            if constexpr (std::is_void_v<decltype(body(moves))>) {
                body(moves);
                settle(tx, changes);
            } else {
                auto result = body(moves);
                settle(tx, changes);
                return result;
            }
        };
        if constexpr (std::is_void_v<decltype(run(std::declval<store::Transaction&>()))>) {
            core.database->write(run);
            notify(changes);
        } else {
            auto result = core.database->write(run);
            notify(changes);
            return result;
        }
    }

    JobRecord insert_job(Moves& moves, const JobSpec& spec);
    void check_rate_limit(Moves& moves, const std::string& owner, std::int64_t adding);
    std::vector<ClaimedJob> claim(Moves& moves, std::string_view worker_id, std::int64_t max);
    // Leases the candidates the claiming worker (competition.contenders[0]) may run and its
    // hub's policy hands it, up to `max` claimed in all; books the others the policy hands a
    // contender to that contender (and into `handed_on`).
    void lease_candidates(Moves& moves, const std::vector<scheduler::Candidate>& candidates,
                          scheduler::Competition& competition, std::set<std::string>& handed_on,
                          std::int64_t max, std::vector<ClaimedJob>& claimed);
    // `acting_worker` as Scheduler::complete's; one read of the job's row.
    JobRecord complete(Moves& moves, std::string_view job_id, std::string_view token,
                       std::string_view acting_worker, const JobCompletion& completion,
                       const std::string& digest, detail::JobHeatBatch& heat_batch);
    LeaseState require_lease(Moves& moves, std::string_view job_id, std::string_view token,
                             std::string_view acting_worker);
    // The one lease check, of a state already read (empty: no such job): the job is running,
    // `token` is its current lease token and, when `acting_worker` is set, that worker holds
    // the attempt. For an acting worker every refusal is the same conflict (not_held), whatever
    // the job's state or existence; without one, an unknown job is not_found and any other
    // refusal a conflict naming the job's status (the host and the operator may know it).
    static LeaseState require_lease(const std::optional<LeaseState>& state, std::string_view job_id,
                                    std::string_view token, std::string_view acting_worker);
};

Scheduler::Scheduler(detail::HubCore& core, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(core)) {
    set_options(options);
}

Scheduler::~Scheduler() = default;

void detail::SchedulerAccess::set_settlement_hooks(Scheduler& scheduler, JobSettlementHooks hooks) {
    scheduler.impl_->settlement_hooks = std::move(hooks);
}

SchedulerOptions Scheduler::options() const {
    return impl_->current_options();
}

void Scheduler::set_options(const SchedulerOptions& options) {
    check_range("lease_duration", options.lease_duration.count(), 1, 7LL * 24 * 3600 * 1000);
    check_range("claim_scan_limit", options.claim_scan_limit, 1, 100'000);
    check_range("input_recheck_interval", options.input_recheck_interval.count(), 1,
                24LL * 3600 * 1000);
    std::lock_guard lock(impl_->options_mutex);
    impl_->options = options;
}

// ---- hubs ---------------------------------------------------------------------------------

HubRecord Scheduler::register_hub(const HubSpec& spec) {
    validate_hub(spec);
    return impl_->write([&](Moves& moves) {
        auto exists = moves.tx.prepare("SELECT 1 FROM hubs WHERE id = ?");
        exists.bind_all(spec.id);
        if (exists.step()) {
            throw Error(ErrorCode::conflict, fmt::format("hub '{}' already exists", spec.id),
                        "hubId");
        }
        moves.tx
            .prepare(
                "INSERT INTO hubs (id, name, site, region, heat_recovery_ppm, power_capacity_w, "
                "routing_policy, watts_per_core, watts_per_gpu, throttle_min_priority, "
                "max_queue_depth, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind_all(spec.id, spec.name, spec.site, spec.region, spec.heat_recovery_ppm,
                      spec.power_capacity_w, to_string(spec.routing_policy), spec.watts_per_core,
                      spec.watts_per_gpu, spec.throttle_min_priority, spec.max_queue_depth,
                      moves.now.ms(), moves.now.ms())
            .run();
        return scheduler::load_hub(moves.tx, spec.id);
    });
}

HubRecord Scheduler::update_hub(const HubSpec& spec) {
    validate_hub(spec);
    return impl_->write([&](Moves& moves) {
        const auto changed =
            moves.tx
                .prepare(
                    "UPDATE hubs SET name = ?, site = ?, region = ?, heat_recovery_ppm = ?, "
                    "power_capacity_w = ?, routing_policy = ?, watts_per_core = ?, "
                    "watts_per_gpu = ?, throttle_min_priority = ?, max_queue_depth = ?, "
                    "updated_at = ? WHERE id = ?")
                .bind_all(spec.name, spec.site, spec.region, spec.heat_recovery_ppm,
                          spec.power_capacity_w, to_string(spec.routing_policy),
                          spec.watts_per_core, spec.watts_per_gpu, spec.throttle_min_priority,
                          spec.max_queue_depth, moves.now.ms(), spec.id)
                .run();
        if (changed == 0) {
            throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", spec.id), "hubId");
        }
        return scheduler::load_hub(moves.tx, spec.id);
    });
}

HubRecord Scheduler::hub(std::string_view hub_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return scheduler::load_hub(tx, hub_id); });
}

std::vector<HubRecord> Scheduler::hubs() const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        std::vector<HubRecord> result;
        auto rows =
            tx.prepare(fmt::format("SELECT {} FROM hubs ORDER BY id", scheduler::kHubColumns));
        while (rows.step()) {
            result.push_back(scheduler::read_hub(rows));
        }
        return result;
    });
}

HubRecord Scheduler::set_grid_state(std::string_view hub_id, const GridState& state) {
    if (state.power_budget_w) {
        check_range("powerBudgetW", *state.power_budget_w, 0, 1'000'000'000'000);
    }
    return impl_->write([&](Moves& moves) {
        std::optional<std::int64_t> until;
        if (state.valid_until) {
            until = state.valid_until->ms();
        }
        const auto changed = moves.tx
                                 .prepare(
                                     "UPDATE hubs SET grid_signal = ?, power_budget_w = ?, "
                                     "grid_valid_until = ?, updated_at = ? WHERE id = ?")
                                 .bind_all(to_string(state.signal), state.power_budget_w, until,
                                           moves.now.ms(), hub_id)
                                 .run();
        if (changed == 0) {
            throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), "hubId");
        }
        return scheduler::load_hub(moves.tx, hub_id);
    });
}

HubRecord Scheduler::set_heat_demand(std::string_view hub_id, std::int64_t watts,
                                     std::optional<Timestamp> valid_until) {
    check_range("heatDemandW", watts, 0, 1'000'000'000'000);
    return impl_->write([&](Moves& moves) {
        std::optional<std::int64_t> until;
        if (valid_until) {
            until = valid_until->ms();
        }
        const auto changed = moves.tx
                                 .prepare(
                                     "UPDATE hubs SET heat_demand_w = ?, "
                                     "heat_demand_valid_until = ?, updated_at = ? WHERE id = ?")
                                 .bind_all(watts, until, moves.now.ms(), hub_id)
                                 .run();
        if (changed == 0) {
            throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), "hubId");
        }
        detail::record_heat_demand(moves.tx, impl_->core, hub_id, watts, moves.now, valid_until);
        return scheduler::load_hub(moves.tx, hub_id);
    });
}

// ---- workers ------------------------------------------------------------------------------

WorkerRecord Scheduler::register_worker(const WorkerSpec& requested) {
    validate_worker(requested);
    WorkerSpec spec = requested;
    return impl_->write([&](Moves& moves) {
        scheduler::load_hub(moves.tx, spec.hub_id);
        if (spec.id.empty()) {
            spec.id = impl_->core.ids->next("worker");
        }
        auto existing = moves.tx.prepare("SELECT hub_id, running_jobs FROM workers WHERE id = ?");
        existing.bind_all(spec.id);
        if (existing.step() && existing.column_int64(1) > 0 &&
            (existing.column_text(0) != spec.hub_id)) {
            throw Error(ErrorCode::conflict,
                        fmt::format("worker '{}' runs jobs on hub '{}' and cannot move", spec.id,
                                    existing.column_text(0)),
                        "hubId");
        }
        moves.tx
            .prepare(
                "INSERT INTO workers (id, hub_id, cpu_millicores, memory_bytes, gpus, labels, "
                "status, last_heartbeat_at, registered_at) VALUES (?, ?, ?, ?, ?, ?, 'online', "
                "?, ?) ON CONFLICT (id) DO UPDATE SET hub_id = excluded.hub_id, "
                "cpu_millicores = excluded.cpu_millicores, memory_bytes = "
                "excluded.memory_bytes, gpus = excluded.gpus, labels = excluded.labels, "
                "status = 'online', "
                "last_heartbeat_at = excluded.last_heartbeat_at")
            .bind_all(spec.id, spec.hub_id, spec.cpu_millicores, spec.memory_bytes,
                      boost::json::serialize(scheduler::gpus_to_json(spec.gpus)),
                      boost::json::serialize(scheduler::to_json_object(spec.labels)),
                      moves.now.ms(), moves.now.ms())
            .run();
        // Stats of the GPUs registered before are not stats of these.
        moves.tx.prepare("DELETE FROM worker_gpu_stats WHERE worker_id = ?")
            .bind_all(spec.id)
            .run();
        moves.tx
            .prepare(
                "INSERT INTO worker_routing (worker_id, executors) VALUES (?, ?) "
                "ON CONFLICT (worker_id) DO UPDATE SET executors = excluded.executors")
            .bind_all(spec.id, boost::json::serialize(json::string_array(spec.executors)))
            .run();
        return scheduler::load_worker(moves.tx, spec.id);
    });
}

WorkerRecord Scheduler::heartbeat(std::string_view worker_id, const Heartbeat& beat) {
    check_range("utilisationPpm", beat.utilisation_ppm, 0, 1'000'000);
    check_range("powerDrawW", beat.power_draw_w, 0, 1'000'000'000);
    if (beat.gpus.size() > 64) {
        throw Error::invalid("gpus", std::to_string(beat.gpus.size()), "at most 64 GPUs");
    }
    for (std::size_t i = 0; i < beat.gpus.size(); ++i) {
        check_range(fmt::format("gpus[{}].utilisationPpm", i), beat.gpus[i].utilisation_ppm, 0,
                    1'000'000);
    }
    return impl_->write([&](Moves& moves) {
        // The GPU stats against the GPUs the worker registered (an unknown worker: not_found).
        const auto registered = beat.gpus.empty()
                                    ? std::vector<GpuSpec>{}
                                    : scheduler::load_worker(moves.tx, worker_id).spec.gpus;
        if (beat.gpus.size() > registered.size()) {
            throw Error::invalid("gpus", std::to_string(beat.gpus.size()),
                                 fmt::format("names more GPUs than the {} worker '{}' registered",
                                             registered.size(), worker_id));
        }
        for (std::size_t i = 0; i < beat.gpus.size(); ++i) {
            check_range(fmt::format("gpus[{}].vramUsed", i), beat.gpus[i].vram_used_bytes, 0,
                        registered[i].vram_bytes);
        }
        if (impl_->settlement_hooks.on_heartbeat) {
            impl_->settlement_hooks.on_heartbeat(
                moves.tx, worker_id, moves.now,
                moves.options.heartbeat_interval * moves.options.missed_heartbeats);
        }
        const auto changed =
            moves.tx
                .prepare(
                    "UPDATE workers SET last_heartbeat_at = ?, utilisation_ppm = ?, "
                    "power_draw_w = ?, status = CASE WHEN status = 'offline' THEN 'online' "
                    "ELSE status END WHERE id = ?")
                .bind_all(moves.now.ms(), beat.utilisation_ppm, beat.power_draw_w, worker_id)
                .run();
        if (changed == 0) {
            throw Error(ErrorCode::not_found, fmt::format("no worker '{}'", worker_id), "workerId");
        }
        if (beat.gpus.empty()) {
            moves.tx.prepare("DELETE FROM worker_gpu_stats WHERE worker_id = ?")
                .bind_all(worker_id)
                .run();
        } else {
            moves.tx
                .prepare(
                    "INSERT INTO worker_gpu_stats (worker_id, stats) VALUES (?, ?) "
                    "ON CONFLICT (worker_id) DO UPDATE SET stats = excluded.stats")
                .bind_all(worker_id,
                          boost::json::serialize(scheduler::gpu_stats_to_json(beat.gpus)))
                .run();
        }
        return scheduler::load_worker(moves.tx, worker_id);
    });
}

WorkerRecord Scheduler::set_worker_status(std::string_view worker_id, WorkerStatus status) {
    if (status == WorkerStatus::busy) {
        throw Error::invalid("status", "busy", "is set by the scheduler, not by hand");
    }
    return impl_->write([&](Moves& moves) {
        const auto worker = scheduler::load_worker(moves.tx, worker_id);
        moves.tx.prepare("UPDATE workers SET status = ? WHERE id = ?")
            .bind_all(to_string(status), worker_id)
            .run();
        if (status == WorkerStatus::offline) {
            for (const auto& job_id : moves.running_jobs_of(worker_id)) {
                moves.end_attempt(job_id, std::string(worker_id), "worker went offline", true);
            }
        }
        return scheduler::load_worker(moves.tx, worker_id);
    });
}

WorkerRecord Scheduler::worker(std::string_view worker_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return scheduler::load_worker(tx, worker_id); });
}

std::vector<WorkerRecord> Scheduler::workers(std::optional<std::string> hub_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        std::vector<WorkerRecord> result;
        auto rows = tx.prepare(
            fmt::format("SELECT {} FROM workers WHERE (? IS NULL OR hub_id = ?) ORDER BY id",
                        scheduler::kWorkerColumns));
        rows.bind_all(hub_id, hub_id);
        while (rows.step()) {
            result.push_back(scheduler::read_worker(rows));
        }
        return result;
    });
}

// ---- submission ---------------------------------------------------------------------------

void Scheduler::Impl::check_rate_limit(Moves& moves, const std::string& owner,
                                       std::int64_t adding) {
    const auto limit = moves.options.submissions_per_hour;
    if (limit == 0) {
        return;
    }
    const auto window_start = moves.now.ms() - std::chrono::milliseconds(kRateWindow).count();
    auto recent = moves.tx.prepare(
        "SELECT COUNT(*), MIN(created_at) FROM jobs WHERE owner = ? AND created_at > ?");
    recent.bind_all(owner, window_start);
    recent.step();
    const auto count = recent.column_int64(0);
    if (count + adding <= limit) {
        return;
    }
    const auto oldest = recent.column_optional_int64(1).value_or(moves.now.ms());
    const auto retry_ms = oldest + std::chrono::milliseconds(kRateWindow).count() - moves.now.ms();
    throw Error(ErrorCode::quota_exceeded,
                fmt::format("owner '{}' submitted {} jobs in the last hour (limit {}); retry in "
                            "{} s",
                            owner, count, limit, (retry_ms + 999) / 1000),
                "owner");
}

JobRecord Scheduler::Impl::insert_job(Moves& moves, const JobSpec& spec) {
    auto& tx = moves.tx;
    const std::string stored = scheduler::to_stored_json(spec);
    if (spec.idempotency_key) {
        auto earlier =
            tx.prepare("SELECT id, spec FROM jobs WHERE owner = ? AND idempotency_key = ?");
        earlier.bind_all(spec.owner, *spec.idempotency_key);
        if (earlier.step()) {
            if (earlier.column_text(1) != stored) {
                throw Error(ErrorCode::conflict,
                            fmt::format("idempotency key '{}' was used for job {} with a "
                                        "different request",
                                        *spec.idempotency_key, earlier.column_text(0)),
                            "idempotencyKey");
            }
            return scheduler::load_job(tx, earlier.column_text(0)).record;
        }
    }
    if (spec.pin_hub) {
        scheduler::load_hub(tx, *spec.pin_hub, "constraints.pinHub");
    }
    if (spec.hub_id) {
        const auto hub = scheduler::load_hub(tx, *spec.hub_id);
        auto depth = tx.prepare("SELECT queue_depth FROM hubs WHERE id = ?");
        depth.bind_all(*spec.hub_id);
        depth.step();
        if (hub.spec.max_queue_depth > 0 && depth.column_int64(0) >= hub.spec.max_queue_depth) {
            throw Error(ErrorCode::quota_exceeded,
                        fmt::format("hub '{}' has {} jobs waiting, its limit", hub.spec.id,
                                    hub.spec.max_queue_depth),
                        "hubId");
        }
    }
    JobRecord job;
    job.id = core.ids->next("job");
    job.spec = spec;
    job.created_at = moves.now;
    job.updated_at = moves.now;
    job.status = JobStatus::queued;
    std::string reason = "submitted";
    for (const auto& dependency : spec.depends_on) {
        auto row = tx.prepare("SELECT status FROM jobs WHERE id = ?");
        row.bind_all(dependency);
        if (!row.step()) {
            throw Error(ErrorCode::not_found, fmt::format("no job '{}'", dependency), "dependsOn");
        }
        const auto status = parse_job_status(row.column_text(0));
        if (status == JobStatus::failed || status == JobStatus::cancelled) {
            job.status = JobStatus::failed;
            job.error_message = fmt::format("dependency {} {}", dependency, to_string(status));
            job.finished_at = moves.now;
            reason = *job.error_message;
        } else if (status != JobStatus::completed && job.status != JobStatus::failed) {
            job.status = JobStatus::pending;
            job.wait_reason = "dependencies";
        }
    }
    if (job.status == JobStatus::queued && spec.scheduled_at && *spec.scheduled_at > moves.now) {
        job.status = JobStatus::pending;
        job.wait_reason = "scheduled";
        job.ready_at = spec.scheduled_at;
    }
    if (job.status == JobStatus::queued && moves.inputs_missing(spec.input_refs, spec.owner)) {
        job.status = JobStatus::pending;
        job.wait_reason = "inputs";
        job.ready_at = moves.now + moves.options.input_recheck_interval;
    }
    if (job.status == JobStatus::queued && spec.hub_id && !spec.pin_hub) {
        job.prefer_until = Timestamp::from_ms(moves.prefer_until_ms());
    }
    const auto& resources = spec.workload.resources;
    const auto sort_key = moves.now.ms() - spec.priority * moves.options.aging_interval.count();
    auto ms_of = [](const std::optional<Timestamp>& at) -> std::optional<std::int64_t> {
        return at ? std::optional<std::int64_t>(at->ms()) : std::nullopt;
    };
    tx.prepare(
          "INSERT INTO jobs (id, owner, idempotency_key, spec, hub_id, queue_hub, "
          "cpu_millicores, memory_bytes, gpu, gpu_vram_bytes, region, required_labels, priority, "
          "sort_key, timeout_ms, scheduled_at, deadline, status, wait_reason, ready_at, "
          "max_attempts, backoff_ms, error_message, created_at, updated_at, finished_at, "
          "pinned, prefer_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(
            job.id, spec.owner, spec.idempotency_key, stored, spec.hub_id, spec.hub_id.value_or(""),
            resources.cpu_millicores, resources.memory_bytes, resources.gpu ? 1 : 0,
            resources.gpu_vram_bytes, spec.region,
            boost::json::serialize(scheduler::to_json_object(spec.required_labels)), spec.priority,
            sort_key, spec.workload.timeout_seconds * 1000, ms_of(spec.scheduled_at),
            ms_of(spec.deadline), to_string(job.status),
            job.wait_reason.empty() ? std::nullopt : std::optional<std::string>(job.wait_reason),
            ms_of(job.ready_at), spec.max_attempts, spec.backoff_ms, job.error_message,
            moves.now.ms(), moves.now.ms(), ms_of(job.finished_at), spec.pin_hub ? 1 : 0,
            ms_of(job.prefer_until))
        .run();
    for (const auto& dependency : spec.depends_on) {
        tx.prepare(
              "INSERT INTO job_dependencies (job_id, depends_on) VALUES (?, ?) "
              "ON CONFLICT DO NOTHING")
            .bind_all(job.id, dependency)
            .run();
    }
    if (job.status == JobStatus::pending) {
        reason = fmt::format("{}; waits for {}", reason, job.wait_reason);
    }
    moves.record(job.id, spec.hub_id, std::nullopt, job.status, spec.owner, reason);
    return job;
}

JobRecord Scheduler::submit(const JobSpec& spec) {
    return submit_many({spec}).front();
}

JobRecord Scheduler::submit_json(std::string_view json, std::string_view owner) {
    if (owner.empty()) {
        throw Error::invalid("owner", owner, "is required");
    }
    return submit(JobSpec::from_json(json, owner));
}

std::vector<JobRecord> Scheduler::submit_many(const std::vector<JobSpec>& specs) {
    const auto now = impl_->core.now();
    std::map<std::string, std::int64_t> per_owner;
    std::vector<JobSpec> prepared;
    prepared.reserve(specs.size());
    for (const auto& spec : specs) {
        prepared.push_back(scheduler::normalized(spec));
        scheduler::validate(prepared.back(), now);
        per_owner[spec.owner] += 1;
    }
    return impl_->write([&](Moves& moves) {
        for (const auto& [owner, count] : per_owner) {
            impl_->check_rate_limit(moves, owner, count);
        }
        std::vector<JobRecord> jobs;
        jobs.reserve(prepared.size());
        for (const auto& spec : prepared) {
            jobs.push_back(impl_->insert_job(moves, spec));
        }
        return jobs;
    });
}

// ---- claiming -----------------------------------------------------------------------------

namespace {

// The head of one queue. `with_estimate` also reads each job's estimatedComputeKwh (in mWh,
// from the stored spec), which only heat-demand-first ordering needs.
std::vector<Candidate> queued_candidates(store::Transaction& tx, std::string_view queue_hub,
                                         std::int64_t limit, bool with_estimate = false) {
    static constexpr std::string_view kSelect =
        "SELECT id, NULLIF(queue_hub, ''), region, required_labels, cpu_millicores, "
        "memory_bytes, gpu, gpu_vram_bytes, priority, sort_key, timeout_ms, deadline, hub_id, "
        "json_extract(spec, '$.workloadConfig.containerImage') <> 'native', {} FROM jobs "
        "WHERE status = 'queued' AND queue_hub = ? ORDER BY sort_key LIMIT ?";
    static const std::string plain_sql = fmt::format(kSelect, "NULL");
    // The stored spec writes the estimate as exact kWh text with at most six decimals, so
    // kWh x 10^6 rounded is its mWh exactly (the bound keeps it far below 2^53).
    static const std::string estimate_sql = fmt::format(
        kSelect, "CAST(round(json_extract(spec, '$.estimatedComputeKwh') * 1000000) AS INTEGER)");
    auto rows = tx.prepare(with_estimate ? estimate_sql : plain_sql);
    rows.bind_all(queue_hub, limit);
    std::vector<Candidate> result;
    while (rows.step()) {
        Candidate candidate;
        auto& needs = candidate.needs;
        needs.id = rows.column_text(0);
        needs.hub_id = rows.column_optional_text(1);
        needs.region = rows.column_optional_text(2);
        const auto labels = rows.column_text(3);
        if (labels != "{}") {
            needs.labels = scheduler::string_map_from_json(labels);
        }
        needs.resources.cpu_millicores = rows.column_int64(4);
        needs.resources.memory_bytes = rows.column_int64(5);
        needs.resources.gpu = rows.column_int64(6) != 0;
        needs.resources.gpu_vram_bytes = rows.column_int64(7);
        needs.priority = rows.column_int64(8);
        needs.sort_key = rows.column_int64(9);
        needs.timeout_ms = rows.column_int64(10);
        if (!rows.is_null(11)) {
            needs.deadline = Timestamp::from_ms(rows.column_int64(11));
        }
        candidate.named_hub = rows.column_optional_text(12);
        needs.needs_container = rows.column_int64(13) != 0;
        if (!rows.is_null(14)) {
            needs.estimated_energy = Energy::milliwatt_hours(rows.column_int64(14));
        }
        result.push_back(std::move(candidate));
    }
    return result;
}

// Orders the candidates as the hub's routing policy wants them offered to this worker.
// `wants_heat`: the hub is heat-demand-first and has unmet heat demand, so the jobs expected
// to give it the most heat go first (estimatedComputeKwh; no estimate counts as none).
void order_for_policy(std::vector<Candidate>& candidates, const HubRecord& hub,
                      const WorkerRecord& worker, bool wants_heat) {
    auto by_key = [](const Candidate& a, const Candidate& b) {
        return a.needs.sort_key < b.needs.sort_key ||
               (a.needs.sort_key == b.needs.sort_key && a.needs.id < b.needs.id);
    };
    switch (hub.spec.routing_policy) {
        case RoutingPolicy::gpu_match:
            if (!worker.spec.gpus.empty()) {
                std::stable_sort(candidates.begin(), candidates.end(),
                                 [&](const Candidate& a, const Candidate& b) {
                                     if (a.needs.resources.gpu != b.needs.resources.gpu) {
                                         return a.needs.resources.gpu;
                                     }
                                     return by_key(a, b);
                                 });
                return;
            }
            break;
        case RoutingPolicy::heat_demand_first:
            if (wants_heat) {
                auto heat_mwh = [](const Candidate& candidate) {
                    return candidate.needs.estimated_energy
                               ? candidate.needs.estimated_energy->mwh()
                               : std::int64_t{0};
                };
                std::stable_sort(candidates.begin(), candidates.end(),
                                 [&](const Candidate& a, const Candidate& b) {
                                     if (heat_mwh(a) != heat_mwh(b)) {
                                         return heat_mwh(a) > heat_mwh(b);
                                     }
                                     return by_key(a, b);
                                 });
                return;
            }
            break;
        case RoutingPolicy::bin_packing:
            for (auto& candidate : candidates) {
                candidate.leftover = scheduler::leftover_ppm(candidate.needs, worker);
            }
            std::stable_sort(candidates.begin(), candidates.end(),
                             [&](const Candidate& a, const Candidate& b) {
                                 if (a.leftover != b.leftover) {
                                     return a.leftover < b.leftover;
                                 }
                                 return by_key(a, b);
                             });
            return;
        default:
            break;
    }
    std::sort(candidates.begin(), candidates.end(), by_key);
}

// The queued jobs this worker may be offered, pinned to its hub or to none, in the order of
// the hub's routing policy: at most `window` of each kind. On a heat-demand-first hub, while
// any hub of the competition wants heat, the largest estimatedComputeKwh come first, so the
// hubs that want heat are handed the big jobs.
std::vector<Candidate> gather_candidates(store::Transaction& tx,
                                         const scheduler::Competition& competition,
                                         std::int64_t window) {
    const auto& hub = competition.hubs.front();
    const bool heat_order = hub.spec.routing_policy == RoutingPolicy::heat_demand_first &&
                            std::find(competition.wants_heat.begin(), competition.wants_heat.end(),
                                      true) != competition.wants_heat.end();
    auto candidates = queued_candidates(tx, hub.spec.id, window, heat_order);
    auto unpinned = queued_candidates(tx, "", window, heat_order);
    candidates.insert(candidates.end(), std::make_move_iterator(unpinned.begin()),
                      std::make_move_iterator(unpinned.end()));
    order_for_policy(candidates, hub, competition.contenders.front().worker, heat_order);
    return candidates;
}

}  // namespace

std::vector<ClaimedJob> Scheduler::Impl::claim(Moves& moves, std::string_view worker_id,
                                               std::int64_t max) {
    auto& tx = moves.tx;
    moves.expire_and_promote();
    WorkerRecord worker = scheduler::load_worker(tx, worker_id);
    if (worker.status == WorkerStatus::offline) {
        throw Error(ErrorCode::conflict,
                    fmt::format("worker '{}' is offline: send a heartbeat first", worker_id),
                    "workerId");
    }
    if (worker.status == WorkerStatus::draining) {
        return {};
    }
    HubRecord hub = scheduler::load_hub(tx, worker.spec.hub_id);
    if (hub.signal_at(moves.now) == GridSignal::curtail) {
        return {};
    }
    auto competition = scheduler::load_competition(
        tx, hub, &worker, moves.now,
        moves.options.heartbeat_interval * moves.options.missed_heartbeats,
        // No reputation: the claiming worker wins every tie on the policy's measure, so
        // reputation never decides whether it takes a job (it would only pick which of equally
        // placed contenders one is booked to; ids do that here). explain() reads it, to name
        // the worker a held-back one gives way to. A claim costs no settlement read per worker.
        {});
    // Look at a small window of the queue first; widen it to the scan limit only when the
    // jobs at the head do not fit this worker (or go to its contenders). Bin packing compares
    // the whole window. A claim for more jobs than the scan limit may look at as many as it
    // asks for.
    const auto scan_limit = std::max(moves.options.claim_scan_limit, max);
    std::int64_t window = hub.spec.routing_policy == RoutingPolicy::bin_packing
                              ? scan_limit
                              : std::min(scan_limit, 2 * max + 6);
    std::vector<ClaimedJob> claimed;
    std::set<std::string> handed_on;  // jobs the policy gives a contender in this claim
    for (;;) {
        auto candidates = gather_candidates(tx, competition, window);
        const auto examined = static_cast<std::int64_t>(candidates.size());
        lease_candidates(moves, candidates, competition, handed_on, max, claimed);
        if (static_cast<std::int64_t>(claimed.size()) >= max || window >= scan_limit ||
            examined < window) {
            return claimed;
        }
        window = scan_limit;
    }
}

void Scheduler::Impl::lease_candidates(Moves& moves,
                                       const std::vector<scheduler::Candidate>& candidates,
                                       scheduler::Competition& competition,
                                       std::set<std::string>& handed_on, std::int64_t max,
                                       std::vector<ClaimedJob>& claimed) {
    auto& tx = moves.tx;
    // The claiming worker and its hub, as the leases of this claim leave them.
    auto& worker = competition.contenders.front().worker;
    auto& hub = competition.hubs.front();
    // What the leases of this call take from the worker and the hub, stored once at the end.
    struct Taken {
        std::int64_t cpu_millicores = 0;
        std::int64_t memory_bytes = 0;
        std::int64_t gpu_mask = 0;
        std::int64_t jobs = 0;
        std::int64_t power_w = 0;
    } taken;
    for (const auto& candidate : candidates) {
        if (static_cast<std::int64_t>(claimed.size()) >= max) {
            break;
        }
        const auto& needs = candidate.needs;
        if (handed_on.contains(needs.id) ||
            !scheduler::placement_problems(needs, worker, hub, moves.now,
                                           moves.options.lease_duration)
                 .empty()) {
            continue;
        }
        if (competition.contenders.size() > 1) {
            const auto taker =
                scheduler::taker_of(competition, needs, moves.now, moves.options.lease_duration, 0);
            if (taker && *taker != 0) {
                // The policy gives it to a contender: booked to it, left queued for it.
                scheduler::book(competition, *taker, needs);
                handed_on.insert(needs.id);
                continue;
            }
        }
        // The GPU to lease, -1 for none (stored as NULL). Not a std::optional: binding one here
        // makes GCC 12 at -O2 warn that its value "may be used uninitialized", falsely.
        const int gpu_index =
            needs.resources.gpu
                ? scheduler::free_gpu(worker, needs.resources.gpu_vram_bytes).value_or(-1)
                : -1;
        const auto power = scheduler::budgeted_power_w(needs.resources, hub.spec);
        Lease lease{needs.id, worker.spec.id, random_token(),
                    moves.now + moves.options.lease_duration, 0};
        const auto leased =
            tx.prepare(
                  "UPDATE jobs SET status = 'running', wait_reason = NULL, ready_at = NULL, "
                  "prefer_until = NULL, attempts = attempts + 1, worker_id = ?, run_hub_id = ?, "
                  "lease_token = ?, lease_expires_at = ?, power_w = ?, gpu_index = NULLIF(?, -1), "
                  "started_at = COALESCE(started_at, ?), attempt_started_at = ?, updated_at = ? "
                  "WHERE id = ? AND status = 'queued'")
                .bind_all(worker.spec.id, hub.spec.id, lease.token, lease.expires_at.ms(), power,
                          gpu_index, moves.now.ms(), moves.now.ms(), moves.now.ms(), needs.id)
                .run();
        if (leased != 1) {
            continue;
        }
        const std::int64_t gpu_mask = gpu_index >= 0 ? (std::int64_t{1} << gpu_index) : 0;
        taken.cpu_millicores += needs.resources.cpu_millicores;
        taken.memory_bytes += needs.resources.memory_bytes;
        taken.gpu_mask |= gpu_mask;
        taken.jobs += 1;
        taken.power_w += power;
        scheduler::book(competition, 0, needs);
        moves.record(needs.id, candidate.named_hub, JobStatus::queued, JobStatus::running,
                     worker.spec.id, "claimed");
        auto job = scheduler::load_job(tx, needs.id).record;
        lease.attempt = job.attempts;
        claimed.push_back({std::move(lease), std::move(job)});
    }
    if (taken.jobs == 0) {
        return;
    }
    if (competition.policy == RoutingPolicy::round_robin) {
        const auto turn = competition.contenders.front().turn;
        tx.prepare("UPDATE hubs SET round_robin_turn = max(round_robin_turn, ?) WHERE id = ?")
            .bind_all(competition.turn, hub.spec.id)
            .run();
        tx.prepare(
              "INSERT INTO worker_routing (worker_id, round_robin_turn) VALUES (?, ?) "
              "ON CONFLICT (worker_id) DO UPDATE SET round_robin_turn = excluded.round_robin_turn")
            .bind_all(worker.spec.id, turn)
            .run();
    }
    // The stored status stays 'online': busy is read from running_jobs (see schema.hpp).
    worker.status = WorkerStatus::busy;
    tx.prepare(
          "UPDATE workers SET used_cpu_millicores = used_cpu_millicores + ?, "
          "used_memory_bytes = used_memory_bytes + ?, gpus_in_use = gpus_in_use | ?, "
          "running_jobs = running_jobs + ?, jobs_started = jobs_started + ? WHERE id = ?")
        .bind_all(taken.cpu_millicores, taken.memory_bytes, taken.gpu_mask, taken.jobs, taken.jobs,
                  worker.spec.id)
        .run();
    if (taken.power_w != 0) {
        tx.prepare("UPDATE hubs SET running_power_w = running_power_w + ? WHERE id = ?")
            .bind_all(taken.power_w, hub.spec.id)
            .run();
    }
}

std::vector<ClaimedJob> Scheduler::claim(std::string_view worker_id, std::int64_t max) {
    check_range("max", max, 1, kMaxClaim);
    return impl_->write([&](Moves& moves) { return impl_->claim(moves, worker_id, max); });
}

LeaseState Scheduler::Impl::require_lease(Moves& moves, std::string_view job_id,
                                          std::string_view token, std::string_view acting_worker) {
    return require_lease(lease_state(moves.tx, job_id), job_id, token, acting_worker);
}

namespace {

// The one answer to a worker about a job it does not hold under this token, whether the job
// does not exist, is someone else's attempt, has ended or has moved on to another attempt: it
// tells the worker nothing it did not know (no existence oracle).
Error lease_not_held(std::string_view job_id, std::string_view acting_worker) {
    return Error(ErrorCode::conflict,
                 fmt::format("worker '{}' holds no lease on job '{}' under this token",
                             printable(acting_worker, 64), printable(job_id, 64)),
                 "token");
}

}  // namespace

LeaseState Scheduler::Impl::require_lease(const std::optional<LeaseState>& state,
                                          std::string_view job_id, std::string_view token,
                                          std::string_view acting_worker) {
    if (!acting_worker.empty()) {
        if (!state || state->status != JobStatus::running || state->token != token ||
            state->worker_id != acting_worker) {
            throw lease_not_held(job_id, acting_worker);
        }
        return *state;
    }
    if (!state) {
        throw Error(ErrorCode::not_found, fmt::format("no job '{}'", job_id), "jobId");
    }
    if (state->status != JobStatus::running || state->token != token) {
        throw Error(ErrorCode::conflict,
                    fmt::format("job {} is {} and this lease token is not its current one", job_id,
                                to_string(state->status)),
                    "token");
    }
    return *state;
}

Lease Scheduler::renew(std::string_view job_id, std::string_view token,
                       std::string_view acting_worker) {
    return impl_->write([&](Moves& moves) {
        const auto state = impl_->require_lease(moves, job_id, token, acting_worker);
        const auto expires = moves.now + moves.options.lease_duration;
        moves.tx.prepare("UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ?")
            .bind_all(expires.ms(), moves.now.ms(), job_id)
            .run();
        return Lease{std::string(job_id), state.worker_id, std::string(token), expires,
                     state.attempts};
    });
}

JobRecord Scheduler::check_lease(std::string_view job_id, std::string_view token,
                                 std::string_view acting_worker) const {
    const auto now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto found = scheduler::find_job(tx, job_id);
        std::optional<LeaseState> state;
        if (found) {
            state = lease_state_of(*found);
        }
        Impl::require_lease(state, job_id, token, acting_worker);
        auto& row = *found;
        if (!row.record.lease_expires_at || *row.record.lease_expires_at <= now) {
            throw Error(ErrorCode::conflict,
                        fmt::format("job {}: the lease of this token has expired", job_id),
                        "token");
        }
        return std::move(row.record);
    });
}

// ---- ending attempts ----------------------------------------------------------------------

JobRecord Scheduler::Impl::complete(Moves& moves, std::string_view job_id, std::string_view token,
                                    std::string_view acting_worker, const JobCompletion& completion,
                                    const std::string& digest, detail::JobHeatBatch& heat_batch) {
    auto& tx = moves.tx;
    // The whole row is read once: the lease check (with its holder), the completed record built
    // below and the settlement hook all use it; nothing reads it back.
    auto found = scheduler::find_job(tx, job_id);
    std::optional<LeaseState> read_state;
    if (found) {
        read_state = lease_state_of(*found);
    }
    if (!found) {
        require_lease(read_state, job_id, token, acting_worker);  // throws
    }
    auto& row = *found;
    JobRecord& job = row.record;
    if (job.status == JobStatus::completed && row.lease_token == token &&
        (acting_worker.empty() || job.worker_id == acting_worker)) {
        if (row.completion_digest == digest) {
            return std::move(job);  // the same completion again
        }
        throw Error(ErrorCode::conflict,
                    fmt::format("job {} was already completed with a different result", job_id),
                    "completion");
    }
    const auto state = require_lease(read_state, job_id, token, acting_worker);
    if (settlement_hooks.check_completion) {
        settlement_hooks.check_completion(tx, job_id, state.worker_id, completion);
    }
    const auto worker_hub = moves.release_resources(job_id);
    // A worker that reports no figure gets the hub's power model over the attempt's run time.
    auto energy = completion.energy;
    auto source = completion.energy_source;
    if (!energy) {
        const auto ran_ms = moves.now.ms() - state.attempt_started_at.value_or(moves.now.ms());
        energy = Energy::from_power_and_duration(state.power_w, ran_ms);
        source = EnergySource::modelled;
    }
    // The heat record commits with the completion, or neither does.
    const auto heat =
        heat_batch.record(core, worker_hub.value_or(""), job_id, *energy, source, moves.now);
    const std::optional<std::int64_t> heat_mwh = heat.thermal.mwh();
    const std::optional<std::int64_t> energy_mwh = energy->mwh();
    tx.prepare(
          "UPDATE jobs SET status = 'completed', lease_expires_at = NULL, power_w = 0, "
          "gpu_index = NULL, output_refs = ?, actual_mwh = ?, energy_source = ?, heat_mwh = ?, "
          "result_hash = ?, metrics = ?, completion_digest = ?, error_message = NULL, "
          "finished_at = ?, updated_at = ? WHERE id = ?")
        .bind_all(boost::json::serialize(json::string_array(completion.output_refs)), energy_mwh,
                  to_string(source), heat_mwh, completion.result_hash, completion.metrics_json,
                  digest, moves.now.ms(), moves.now.ms(), job_id)
        .run();
    // The record as the statement above left the row (read_job's view of those columns).
    job.status = JobStatus::completed;
    job.lease_expires_at.reset();
    job.power_w = 0;
    job.output_refs = completion.output_refs;
    job.actual_energy = energy;
    job.energy_source = source;
    job.heat_generated = heat.thermal;
    job.result_hash = completion.result_hash;
    job.error_message.reset();
    job.finished_at = moves.now;
    job.updated_at = moves.now;
    moves.record(job_id, state.hub_id, JobStatus::running, JobStatus::completed, state.worker_id,
                 "completed");
    moves.changes.completed.emplace(
        moves.changes.events.size() - 1,
        detail::CompletedAttempt{job, worker_hub.value_or(""), row.attempt_started_at});
    moves.release_dependents(job_id);
    return std::move(job);
}

JobRecord Scheduler::complete(std::string_view job_id, std::string_view token,
                              const JobCompletion& completion, std::string_view acting_worker) {
    validate_completion(completion);
    const auto digest = completion_digest(completion);
    return impl_->write([&](Moves& moves) {
        detail::JobHeatBatch heat(moves.tx);
        auto job = impl_->complete(moves, job_id, token, acting_worker, completion, digest, heat);
        heat.finish();
        return job;
    });
}

std::vector<JobRecord> Scheduler::complete_many(
    const std::vector<std::pair<Lease, JobCompletion>>& completions) {
    std::vector<std::string> digests;
    for (const auto& [lease, completion] : completions) {
        validate_completion(completion);
        digests.push_back(completion_digest(completion));
    }
    return impl_->write([&](Moves& moves) {
        // The workers' and hubs' counters and the heat buckets are updated once per batch,
        // after the last completion; nothing in between reads them.
        moves.hold_counters();
        detail::JobHeatBatch heat(moves.tx);
        std::vector<JobRecord> jobs;
        for (std::size_t i = 0; i < completions.size(); ++i) {
            const auto& [lease, completion] = completions[i];
            jobs.push_back(impl_->complete(moves, lease.job_id, lease.token, lease.worker_id,
                                           completion, digests[i], heat));
        }
        heat.finish();
        moves.store_held_counters();
        return jobs;
    });
}

JobRecord Scheduler::fail(std::string_view job_id, std::string_view token, std::string_view error,
                          bool retryable, std::string_view acting_worker) {
    check_text("error", error, 4096);
    return impl_->write([&](Moves& moves) {
        const auto state = impl_->require_lease(moves, job_id, token, acting_worker);
        moves.end_attempt(job_id, state.worker_id, error, retryable);
        return scheduler::load_job(moves.tx, job_id).record;
    });
}

namespace {

// Whether `principal` may see and act on `job`: its owner, or the hub operator.
bool may_see(const JobRecord& job, std::string_view principal) {
    return principal == kOperatorPrincipal || job.spec.owner == principal;
}

// Someone else's job, answered exactly as a job that does not exist (load_job's error): no
// existence oracle.
Error absent_job(std::string_view job_id) {
    return Error(ErrorCode::not_found, fmt::format("no job '{}'", job_id), "jobId");
}

}  // namespace

JobRecord Scheduler::cancel(std::string_view job_id, std::string_view by, std::string_view reason) {
    check_name("by", by, 256);
    return impl_->write([&](Moves& moves) {
        const auto row = scheduler::load_job(moves.tx, job_id);
        if (!may_see(row.record, by)) {
            throw absent_job(job_id);
        }
        const auto from = row.record.status;
        if (from == JobStatus::completed || from == JobStatus::failed ||
            from == JobStatus::cancelled) {
            throw Error(ErrorCode::conflict,
                        fmt::format("job {} already ended ({})", job_id, to_string(from)), "jobId");
        }
        if (from == JobStatus::running) {
            moves.release_resources(job_id);
        }
        const std::string why = reason.empty() ? "cancelled" : std::string(reason);
        moves.tx
            .prepare(
                "UPDATE jobs SET status = 'cancelled', wait_reason = NULL, ready_at = NULL, "
                "lease_expires_at = NULL, power_w = 0, gpu_index = NULL, error_message = ?, "
                "finished_at = ?, updated_at = ? WHERE id = ?")
            .bind_all(why, moves.now.ms(), moves.now.ms(), job_id)
            .run();
        moves.record(job_id, row.record.spec.hub_id, from, JobStatus::cancelled, by, why);
        moves.fail_dependents(job_id, fmt::format("dependency {} cancelled", job_id));
        return scheduler::load_job(moves.tx, job_id).record;
    });
}

JobRecord Scheduler::requeue(std::string_view job_id, std::string_view by,
                             std::string_view reason) {
    check_name("by", by, 256);
    if (by != kOperatorPrincipal) {
        throw Error(ErrorCode::permission_denied,
                    fmt::format("only the hub operator requeues a job, not '{}'", by), "by");
    }
    return impl_->write([&](Moves& moves) {
        const auto row = scheduler::load_job(moves.tx, job_id);
        const auto from = row.record.status;
        if (from != JobStatus::running && from != JobStatus::failed) {
            throw Error(ErrorCode::conflict,
                        fmt::format("job {} is {}: only running or failed jobs are requeued",
                                    job_id, to_string(from)),
                        "jobId");
        }
        if (from == JobStatus::running) {
            moves.release_resources(job_id);
        }
        moves.tx
            .prepare(
                "UPDATE jobs SET attempts = 0, dead_letter = 0, worker_id = NULL, "
                "run_hub_id = NULL, lease_token = NULL, lease_expires_at = NULL, power_w = 0, "
                "gpu_index = NULL, "
                "error_message = NULL, finished_at = NULL, updated_at = ? WHERE id = ?")
            .bind_all(moves.now.ms(), job_id)
            .run();
        moves.make_ready_or_wait(job_id, row.record.spec.hub_id, from, by,
                                 reason.empty() ? "requeued" : reason);
        return scheduler::load_job(moves.tx, job_id).record;
    });
}

std::int64_t Scheduler::tick() {
    return impl_->write([&](Moves& moves) { return moves.expire_and_promote(); });
}

// ---- queries ------------------------------------------------------------------------------

JobRecord Scheduler::job(std::string_view job_id) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return scheduler::load_job(tx, job_id).record; });
}

JobRecord Scheduler::job(std::string_view job_id, std::string_view principal) const {
    auto record = job(job_id);
    if (!may_see(record, principal)) {
        throw absent_job(job_id);
    }
    return record;
}

namespace {

// The filter's worker and dead-letter conditions, the same in every listing; bound as
// (worker_id, worker_id, dead_letter, dead_letter).
constexpr std::string_view kWorkerAndDeadLetter =
    "(? IS NULL OR jobs.worker_id = ?) AND (? IS NULL OR jobs.dead_letter = ?)";

std::optional<std::int64_t> dead_letter_of(const JobFilter& filter) {
    return filter.dead_letter ? std::optional<std::int64_t>(*filter.dead_letter ? 1 : 0)
                              : std::nullopt;
}

// The hubs whose job_states a listing visits: the filter's hub, or every hub and "" (jobs
// naming none).
std::vector<std::string> queue_hubs_of(store::Transaction& tx, const JobFilter& filter) {
    if (filter.hub_id) {
        return {*filter.hub_id};
    }
    std::vector<std::string> hubs{""};
    auto rows = tx.prepare("SELECT id FROM hubs ORDER BY id");
    while (rows.step()) {
        hubs.push_back(rows.column_text(0));
    }
    return hubs;
}

// The jobs of two listings merged in id order, each once, at most `limit`: a hub's jobs are
// those naming it and those run on it, and a job may be both.
std::vector<JobRecord> merged_by_id(std::vector<JobRecord> result, std::int64_t limit) {
    std::sort(result.begin(), result.end(),
              [](const JobRecord& a, const JobRecord& b) { return a.id < b.id; });
    result.erase(std::unique(result.begin(), result.end(),
                             [](const JobRecord& a, const JobRecord& b) { return a.id == b.id; }),
                 result.end());
    if (result.size() > static_cast<std::size_t>(limit)) {
        result.resize(static_cast<std::size_t>(limit));
    }
    return result;
}

// Completed jobs, or jobs in any state: in id order from the primary key, or for one hub from
// jobs_by_hub (the jobs naming it) and jobs_by_run_hub (the jobs run on it), merged. Completed
// jobs are most of any history, so the walk finds them densely.
std::vector<JobRecord> jobs_in_id_order(store::Transaction& tx, const JobFilter& filter,
                                        std::optional<std::string_view> status) {
    static constexpr std::string_view kSelect =
        "SELECT {} FROM jobs {} (? IS NULL OR status = ?) AND (? IS NULL OR owner = ?) AND {} "
        "AND id > ? ORDER BY id LIMIT ?";
    static const std::string all_sql =
        fmt::format(kSelect, scheduler::kJobColumns, "WHERE", kWorkerAndDeadLetter);
    static const std::string named_sql =
        fmt::format(kSelect, scheduler::kJobColumns, "INDEXED BY jobs_by_hub WHERE hub_id = ? AND",
                    kWorkerAndDeadLetter);
    static const std::string run_sql =
        fmt::format(kSelect, scheduler::kJobColumns,
                    "INDEXED BY jobs_by_run_hub WHERE run_hub_id = ? AND", kWorkerAndDeadLetter);
    const auto dead_letter = dead_letter_of(filter);
    std::vector<JobRecord> result;
    if (!filter.hub_id) {
        auto rows = tx.prepare(all_sql);
        rows.bind_all(status, status, filter.owner, filter.owner, filter.worker_id,
                      filter.worker_id, dead_letter, dead_letter, filter.after, filter.limit);
        while (rows.step()) {
            result.push_back(scheduler::read_job(rows).record);
        }
        return result;
    }
    for (const auto* sql : {&named_sql, &run_sql}) {
        auto rows = tx.prepare(*sql);
        rows.bind_all(*filter.hub_id, status, status, filter.owner, filter.owner, filter.worker_id,
                      filter.worker_id, dead_letter, dead_letter, filter.after, filter.limit);
        while (rows.step()) {
            result.push_back(scheduler::read_job(rows).record);
        }
    }
    return merged_by_id(std::move(result), filter.limit);
}

// Running jobs, from jobs_leases: all of them are read and sorted, which is bounded by what
// the workers can hold.
std::vector<JobRecord> running_jobs(store::Transaction& tx, const JobFilter& filter) {
    static const std::string sql = fmt::format(
        "SELECT {} FROM jobs INDEXED BY jobs_leases WHERE status = 'running' AND (? IS NULL OR "
        "hub_id = ? OR run_hub_id = ?) AND (? IS NULL OR owner = ?) AND {} AND id > ? ORDER BY "
        "id LIMIT ?",
        scheduler::kJobColumns, kWorkerAndDeadLetter);
    auto rows = tx.prepare(sql);
    const auto dead_letter = dead_letter_of(filter);
    rows.bind_all(filter.hub_id, filter.hub_id, filter.hub_id, filter.owner, filter.owner,
                  filter.worker_id, filter.worker_id, dead_letter, dead_letter, filter.after,
                  filter.limit);
    std::vector<JobRecord> result;
    while (rows.step()) {
        result.push_back(scheduler::read_job(rows).record);
    }
    return result;
}

// Pending, failed or cancelled jobs, in id order from job_states (which lists them by the hub
// they name): the first `limit` of each hub, merged; for one hub, also the failed or cancelled
// jobs run on it (jobs_ended_on_hub; a pending job has run nowhere, see run_hub_id).
std::vector<JobRecord> jobs_in_state(store::Transaction& tx, const JobFilter& filter,
                                     std::string_view status) {
    static const std::string ended_sql = fmt::format(
        "SELECT {} FROM jobs INDEXED BY jobs_ended_on_hub WHERE run_hub_id = ? AND status = ? "
        "AND status IN ('failed', 'cancelled') AND id > ? AND (? IS NULL OR owner = ?) AND {} "
        "ORDER BY id LIMIT ?",
        scheduler::kJobColumns, kWorkerAndDeadLetter);
    static const std::string sql = fmt::format(
        "SELECT {} FROM job_states s JOIN jobs ON jobs.id = s.job_id WHERE s.queue_hub = ? AND "
        "s.state = ? AND s.job_id > ? AND (? IS NULL OR jobs.owner = ?) AND {} ORDER BY "
        "s.job_id LIMIT ?",
        scheduler::kJobColumns, kWorkerAndDeadLetter);
    std::vector<JobRecord> result;
    const auto dead_letter = dead_letter_of(filter);
    for (const auto& queue_hub : queue_hubs_of(tx, filter)) {
        auto rows = tx.prepare(sql);
        rows.bind_all(queue_hub, status, filter.after, filter.owner, filter.owner, filter.worker_id,
                      filter.worker_id, dead_letter, dead_letter, filter.limit);
        while (rows.step()) {
            result.push_back(scheduler::read_job(rows).record);
        }
    }
    if (filter.hub_id && status != to_string(JobStatus::pending)) {
        auto rows = tx.prepare(ended_sql);
        rows.bind_all(*filter.hub_id, status, filter.after, filter.owner, filter.owner,
                      filter.worker_id, filter.worker_id, dead_letter, dead_letter, filter.limit);
        while (rows.step()) {
            result.push_back(scheduler::read_job(rows).record);
        }
    }
    return merged_by_id(std::move(result), filter.limit);
}

// Queued jobs in the order claims take them (jobs_ready: sort key, then age, then insertion),
// continuing after the job named by `after`: the first `limit` of each queue hub, merged. For
// one hub: its queue, and the jobs preferring it whose preference ended (they wait in the
// queue of jobs pinned to no hub, which is scanned for them).
std::vector<JobRecord> queued_jobs(store::Transaction& tx, const JobFilter& filter) {
    using Place = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
    Place cursor{std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::min(),
                 std::numeric_limits<std::int64_t>::min()};
    if (!filter.after.empty()) {
        auto row = tx.prepare("SELECT sort_key, created_at, rowid FROM jobs WHERE id = ?");
        row.bind_all(filter.after);
        if (!row.step()) {
            throw Error::invalid("after", filter.after,
                                 "names no job (queued jobs page on from the last job listed)");
        }
        cursor = {row.column_int64(0), row.column_int64(1), row.column_int64(2)};
    }
    static const std::string sql = fmt::format(
        "SELECT {}, sort_key, created_at, rowid FROM jobs INDEXED BY jobs_ready WHERE queue_hub "
        "= ? AND status = 'queued' AND (sort_key, created_at, rowid) > (?, ?, ?) AND (? IS NULL "
        "OR hub_id = ?) AND (? IS NULL OR owner = ?) AND {} ORDER BY sort_key, created_at, "
        "rowid LIMIT ?",
        scheduler::kJobColumns, kWorkerAndDeadLetter);
    std::vector<std::pair<Place, JobRecord>> found;
    const auto dead_letter = dead_letter_of(filter);
    auto queues = queue_hubs_of(tx, filter);
    if (filter.hub_id) {
        queues.emplace_back();
    }
    for (const auto& queue_hub : queues) {
        auto rows = tx.prepare(sql);
        rows.bind_all(queue_hub, std::get<0>(cursor), std::get<1>(cursor), std::get<2>(cursor),
                      filter.hub_id, filter.hub_id, filter.owner, filter.owner, filter.worker_id,
                      filter.worker_id, dead_letter, dead_letter, filter.limit);
        while (rows.step()) {
            constexpr int at = scheduler::kJobColumnCount;  // the place follows the job
            Place place{rows.column_int64(at), rows.column_int64(at + 1),
                        rows.column_int64(at + 2)};
            found.emplace_back(place, scheduler::read_job(rows).record);
        }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<JobRecord> result;
    for (auto& [place, job] : found) {
        if (result.size() == static_cast<std::size_t>(filter.limit)) {
            break;
        }
        result.push_back(std::move(job));
    }
    return result;
}

}  // namespace

std::vector<JobRecord> Scheduler::jobs(const JobFilter& filter, std::string_view principal) const {
    if (principal == kOperatorPrincipal) {
        return jobs(filter);
    }
    if (filter.owner && *filter.owner != principal) {
        throw Error(ErrorCode::permission_denied,
                    fmt::format("'{}' lists only its own jobs, not those of '{}'",
                                printable(principal, 64), printable(*filter.owner, 64)),
                    "owner");
    }
    auto own = filter;
    own.owner = std::string(principal);
    return jobs(own);
}

std::vector<JobRecord> Scheduler::jobs(const JobFilter& filter) const {
    check_range("limit", filter.limit, 1, kMaxListLimit);
    return impl_->core.database->read([&](store::Transaction& tx) {
        // Each state is read from the index that holds it (schema.hpp, migration 10), so a
        // page costs about the same however many jobs the hub has finished.
        if (!filter.status) {
            return jobs_in_id_order(tx, filter, std::nullopt);
        }
        switch (*filter.status) {
            case JobStatus::completed:
                return jobs_in_id_order(tx, filter, to_string(*filter.status));
            case JobStatus::running:
                return running_jobs(tx, filter);
            case JobStatus::queued:
                return queued_jobs(tx, filter);
            case JobStatus::pending:
            case JobStatus::failed:
            case JobStatus::cancelled:
                break;
        }
        return jobs_in_state(tx, filter, to_string(*filter.status));
    });
}

std::vector<JobEvent> Scheduler::events(std::string_view job_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        scheduler::load_job(tx, job_id);
        auto rows = tx.prepare(
            "SELECT sequence, from_status, to_status, at, actor, reason FROM job_events "
            "WHERE job_id = ? ORDER BY sequence");
        rows.bind_all(job_id);
        std::vector<JobEvent> result;
        while (rows.step()) {
            JobEvent event;
            event.sequence = rows.column_int64(0);
            event.job_id = std::string(job_id);
            if (auto from = rows.column_optional_text(1)) {
                event.from = parse_job_status(*from);
            }
            event.to = parse_job_status(rows.column_text(2));
            event.at = Timestamp::from_ms(rows.column_int64(3));
            event.actor = rows.column_text(4);
            event.reason = rows.column_text(5);
            result.push_back(std::move(event));
        }
        return result;
    });
}

QueueStats Scheduler::queue_stats(std::string_view hub_id) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        QueueStats stats;
        stats.hub_id = std::string(hub_id);
        if (!hub_id.empty()) {
            scheduler::load_hub(tx, hub_id);
        }
        // Jobs pinned to the hub; an empty hub id means the jobs pinned to none. The counts
        // are kept by every transition (job_counts); the oldest waiting job is read from the
        // indexes of queued and pending jobs.
        for (int i = 0; i < 6; ++i) {
            stats.by_status[static_cast<JobStatus>(i)] = 0;
        }
        auto counts = tx.prepare("SELECT status, count FROM job_counts WHERE queue_hub = ?");
        counts.bind_all(hub_id);
        while (counts.step()) {
            stats.by_status[parse_job_status(counts.column_text(0))] = counts.column_int64(1);
        }
        static const std::array<std::string_view, 2> oldest_sql{
            "SELECT MIN(created_at) FROM jobs INDEXED BY jobs_ready WHERE queue_hub = ? AND "
            "status = 'queued'",
            "SELECT MIN(job_created_at) FROM job_states WHERE queue_hub = ? AND state = "
            "'pending'"};
        for (const auto& sql : oldest_sql) {
            auto oldest = tx.prepare(sql);
            oldest.bind_all(hub_id);
            oldest.step();
            if (!oldest.is_null(0)) {
                const auto at = Timestamp::from_ms(oldest.column_int64(0));
                if (!stats.oldest_waiting || at < *stats.oldest_waiting) {
                    stats.oldest_waiting = at;
                }
            }
        }
        return stats;
    });
}

std::vector<Placement> Scheduler::explain(std::string_view job_id) const {
    const auto process_options = impl_->current_options();
    const auto now = impl_->core.now();
    return impl_->core.database->read([&](store::Transaction& tx) {
        const auto options = scheduler::Rules::of(process_options, *impl_->core.settings(tx));
        const auto row = scheduler::load_job(tx, job_id);
        const auto& job = row.record;
        std::vector<Placement> lines;
        if (job.status != JobStatus::queued) {
            Placement line;
            line.reasons.push_back(
                job.status == JobStatus::pending
                    ? fmt::format("job is pending: waits for {}", job.wait_reason)
                    : fmt::format("job is {}", to_string(job.status)));
            lines.push_back(std::move(line));
        }
        auto needs = scheduler::needs_of(row);
        needs.preference_window = scheduler::preference_window(options);
        auto hubs =
            tx.prepare(fmt::format("SELECT {} FROM hubs ORDER BY id", scheduler::kHubColumns));
        while (hubs.step()) {
            const auto hub = scheduler::read_hub(hubs);
            const auto heat = scheduler::expected_heat(needs, hub.spec);
            Placement hub_line{hub.spec.id, "", false,
                               scheduler::hub_problems(needs, hub, now, options.lease_duration),
                               heat};
            hub_line.eligible = hub_line.reasons.empty();
            lines.push_back(hub_line);
            auto workers = tx.prepare(
                fmt::format("SELECT {} FROM workers WHERE hub_id = ?", scheduler::kWorkerColumns));
            workers.bind_all(hub.spec.id);
            std::vector<scheduler::RankedWorker> ranked;
            const auto& reputation = impl_->settlement_hooks.reputation_ppm;
            const auto offline_after = options.heartbeat_interval * options.missed_heartbeats;
            while (workers.step()) {
                auto worker = scheduler::read_worker(workers);
                const auto score =
                    reputation ? reputation(tx, worker.spec.id, now, offline_after) : 0;
                ranked.push_back({std::move(worker), score});
            }
            std::sort(ranked.begin(), ranked.end(), scheduler::ranks_before);
            // A worker that could take the job is held back when the hub's routing policy would
            // hand it to another worker were this one to ask now (as claim() decides).
            std::optional<scheduler::Competition> competition;
            if (job.status == JobStatus::queued && hub_line.eligible) {
                competition =
                    scheduler::load_competition(tx, hub, nullptr, now, offline_after, reputation);
            }
            for (const auto& [worker, score] : ranked) {
                Placement line{
                    hub.spec.id, worker.spec.id, false,
                    scheduler::placement_problems(needs, worker, hub, now, options.lease_duration),
                    heat};
                if (line.reasons.empty() && competition && competition->contenders.size() > 1) {
                    const auto& contenders = competition->contenders;
                    const auto self = std::find_if(
                        contenders.begin(), contenders.end(),
                        [&id = worker.spec.id](const auto& c) { return c.worker.spec.id == id; });
                    const auto taker = scheduler::taker_of(
                        *competition, needs, now, options.lease_duration,
                        self == contenders.end()
                            ? std::nullopt
                            : std::optional<std::size_t>(
                                  static_cast<std::size_t>(self - contenders.begin())));
                    if (taker && contenders[*taker].worker.spec.id != worker.spec.id) {
                        line.reasons.push_back(
                            scheduler::held_back_reason(*competition, *taker, needs));
                    }
                }
                line.eligible = line.reasons.empty();
                lines.push_back(std::move(line));
            }
        }
        return lines;
    });
}

// ---- events -------------------------------------------------------------------------------

std::int64_t Scheduler::subscribe(Listener listener) {
    if (!listener) {
        throw Error::invalid("listener", "", "must be callable");
    }
    std::lock_guard lock(impl_->listeners_mutex);
    const auto id = impl_->next_subscription++;
    impl_->listeners.emplace(id, std::move(listener));
    return id;
}

void Scheduler::unsubscribe(std::int64_t subscription) {
    std::lock_guard lock(impl_->listeners_mutex);
    impl_->listeners.erase(subscription);
}

}  // namespace sihlicon
