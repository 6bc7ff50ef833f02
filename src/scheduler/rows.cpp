// SPDX-License-Identifier: Apache-2.0
#include "scheduler/rows.hpp"

#include "scheduler/job_spec.hpp"

#include "core/json.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <mutex>

namespace sihlicon::scheduler {

const std::string_view kHubColumns =
    "id, name, site, region, heat_recovery_ppm, power_capacity_w, routing_policy, "
    "watts_per_core, watts_per_gpu, throttle_min_priority, max_queue_depth, grid_signal, "
    "power_budget_w, grid_valid_until, heat_demand_w, heat_demand_valid_until, running_power_w, "
    "created_at, updated_at";

// 17 columns: kWorkerColumnCount (rows.hpp) must follow any change.
const std::string_view kWorkerColumns =
    "id, hub_id, cpu_millicores, memory_bytes, gpus, labels, status, used_cpu_millicores, "
    "used_memory_bytes, gpus_in_use, running_jobs, utilisation_ppm, power_draw_w, "
    "last_heartbeat_at, registered_at, "
    "(SELECT stats FROM worker_gpu_stats WHERE worker_id = workers.id), "
    "COALESCE((SELECT executors FROM worker_routing r WHERE r.worker_id = workers.id), "
    "'[\"native\"]')";

namespace {
constexpr std::string_view kJobColumnList =
    "id, spec, status, wait_reason, ready_at, attempts, dead_letter, worker_id, "
    "lease_expires_at, power_w, output_refs, actual_mwh, energy_source, heat_mwh, result_hash, "
    "error_message, created_at, updated_at, started_at, finished_at, lease_token, gpu_index, "
    "completion_digest, metrics, attempt_started_at, run_hub_id, prefer_until, jobs.queue_hub";
constexpr int column_count(std::string_view list) {
    return 1 + static_cast<int>(std::count(list.begin(), list.end(), ','));
}
static_assert(column_count(kJobColumnList) == kJobColumnCount);
}  // namespace

const std::string_view kJobColumns = kJobColumnList;

namespace {

std::optional<Timestamp> optional_time(const store::Statement& row, int column) {
    if (row.is_null(column)) {
        return std::nullopt;
    }
    return Timestamp::from_ms(row.column_int64(column));
}

std::optional<Energy> optional_energy(const store::Statement& row, int column) {
    if (row.is_null(column)) {
        return std::nullopt;
    }
    return Energy::milliwatt_hours(row.column_int64(column));
}

// Parsed job specs by their stored text. A job's stored spec never changes once inserted, and
// the same job is read back several times in its life (its reservation at submit, its claim,
// its completion and its charge), each time from the same text; parsing that JSON was the
// largest cost of reading a job. The key is the text itself, so an entry can never be stale,
// whichever process wrote the row and whatever rolled back. Direct-mapped and bounded: a slot
// holds the last spec whose text hashed to it.
class ParsedSpecs {
  public:
    JobSpec parse(std::string_view text) {
        const auto hash = std::hash<std::string_view>{}(text);
        auto& slot = slots_[hash % kSlots];
        {
            std::lock_guard lock(mutex_);
            if (slot.spec && slot.hash == hash && slot.text == text) {
                return *slot.spec;
            }
        }
        auto parsed = std::make_shared<const JobSpec>(stored_spec_from_json(text));
        std::lock_guard lock(mutex_);
        slot.hash = hash;
        slot.text.assign(text);
        slot.spec = parsed;
        return *parsed;
    }

  private:
    static constexpr std::size_t kSlots = 1024;
    struct Slot {
        std::size_t hash = 0;
        std::string text;
        std::shared_ptr<const JobSpec> spec;
    };
    std::mutex mutex_;
    std::array<Slot, kSlots> slots_;
};

ParsedSpecs& parsed_specs() {
    static ParsedSpecs specs;
    return specs;
}

}  // namespace

boost::json::array gpus_to_json(const std::vector<GpuSpec>& gpus) {
    boost::json::array array;
    for (const auto& gpu : gpus) {
        array.push_back(boost::json::object{{"model", gpu.model}, {"vramBytes", gpu.vram_bytes}});
    }
    return array;
}

boost::json::array gpu_stats_to_json(const std::vector<GpuStats>& stats) {
    boost::json::array array;
    for (const auto& gpu : stats) {
        array.push_back(boost::json::object{{"utilisationPpm", gpu.utilisation_ppm},
                                            {"vramUsed", gpu.vram_used_bytes}});
    }
    return array;
}

std::vector<GpuStats> gpu_stats_from_json(std::string_view text) {
    std::vector<GpuStats> stats;
    if (text.empty() || text == "[]") {
        return stats;
    }
    const auto parsed = json::parse(text, "stored gpu_stats");
    for (const auto& gpu : parsed.as_array()) {
        const auto& object = gpu.as_object();
        stats.push_back({object.at("utilisationPpm").as_int64(), object.at("vramUsed").as_int64()});
    }
    return stats;
}

boost::json::object to_json_object(const std::map<std::string, std::string>& map) {
    boost::json::object object;
    for (const auto& [key, value] : map) {
        object[key] = value;
    }
    return object;
}

std::map<std::string, std::string> string_map_from_json(std::string_view text) {
    std::map<std::string, std::string> map;
    if (text.empty() || text == "{}") {
        return map;
    }
    const auto parsed = json::parse(text, "stored labels");  // outlives the loop below
    for (const auto& [key, value] : parsed.as_object()) {
        map.emplace(std::string(key), std::string(value.as_string()));
    }
    return map;
}

std::vector<std::string> strings_from_json(std::string_view text) {
    std::vector<std::string> items;
    if (text.empty() || text == "[]") {
        return items;
    }
    const auto parsed = json::parse(text, "stored list");
    for (const auto& value : parsed.as_array()) {
        items.emplace_back(value.as_string());
    }
    return items;
}

HubRecord read_hub(const store::Statement& row) {
    HubRecord hub;
    hub.spec.id = row.column_text(0);
    hub.spec.name = row.column_text(1);
    hub.spec.site = row.column_text(2);
    hub.spec.region = row.column_text(3);
    hub.spec.heat_recovery_ppm = row.column_int64(4);
    hub.spec.power_capacity_w = row.column_int64(5);
    hub.spec.routing_policy = parse_routing_policy(row.column_text(6));
    hub.spec.watts_per_core = row.column_int64(7);
    hub.spec.watts_per_gpu = row.column_int64(8);
    hub.spec.throttle_min_priority = row.column_int64(9);
    hub.spec.max_queue_depth = row.column_int64(10);
    hub.grid.signal = parse_grid_signal(row.column_text(11));
    hub.grid.power_budget_w = row.column_optional_int64(12);
    hub.grid.valid_until = optional_time(row, 13);
    hub.heat_demand_w = row.column_int64(14);
    hub.heat_demand_valid_until = optional_time(row, 15);
    hub.running_power_w = row.column_int64(16);
    hub.created_at = Timestamp::from_ms(row.column_int64(17));
    hub.updated_at = Timestamp::from_ms(row.column_int64(18));
    return hub;
}

WorkerRecord read_worker(const store::Statement& row) {
    WorkerRecord worker;
    worker.spec.id = row.column_text(0);
    worker.spec.hub_id = row.column_text(1);
    worker.spec.cpu_millicores = row.column_int64(2);
    worker.spec.memory_bytes = row.column_int64(3);
    if (const auto gpus_text = row.column_text(4); gpus_text != "[]") {
        const auto gpus = json::parse(gpus_text, "stored gpus");
        for (const auto& gpu : gpus.as_array()) {
            const auto& object = gpu.as_object();
            worker.spec.gpus.push_back(
                {std::string(object.at("model").as_string()), object.at("vramBytes").as_int64()});
        }
    }
    worker.spec.labels = string_map_from_json(row.column_text(5));
    worker.used_cpu_millicores = row.column_int64(7);
    worker.used_memory_bytes = row.column_int64(8);
    worker.gpus_in_use = static_cast<std::uint64_t>(row.column_int64(9));
    worker.running_jobs = row.column_int64(10);
    // Busy is not stored: an online worker with running jobs is busy. Hubs written by earlier
    // versions may still hold 'busy', which means the same.
    worker.status = parse_worker_status(row.column_text(6));
    if (worker.status == WorkerStatus::online || worker.status == WorkerStatus::busy) {
        worker.status = worker.running_jobs > 0 ? WorkerStatus::busy : WorkerStatus::online;
    }
    worker.utilisation_ppm = row.column_int64(11);
    worker.power_draw_w = row.column_int64(12);
    worker.last_heartbeat_at = Timestamp::from_ms(row.column_int64(13));
    worker.registered_at = Timestamp::from_ms(row.column_int64(14));
    worker.gpu_stats = gpu_stats_from_json(row.column_optional_text(15).value_or(""));
    worker.spec.executors = strings_from_json(row.column_text(16));
    return worker;
}

JobRow read_job(const store::Statement& row) {
    JobRow result;
    JobRecord& job = result.record;
    job.id = row.column_text(0);
    job.spec = parsed_specs().parse(row.column_text_view(1));
    job.status = parse_job_status(row.column_text(2));
    job.wait_reason = row.column_optional_text(3).value_or("");
    job.ready_at = optional_time(row, 4);
    job.attempts = row.column_int64(5);
    job.dead_letter = row.column_int64(6) != 0;
    job.worker_id = row.column_optional_text(7);
    job.lease_expires_at = optional_time(row, 8);
    job.power_w = row.column_int64(9);
    job.output_refs = strings_from_json(row.column_optional_text(10).value_or(""));
    job.actual_energy = optional_energy(row, 11);
    if (auto source = row.column_optional_text(12)) {
        job.energy_source = parse_energy_source(*source);
    }
    job.heat_generated = optional_energy(row, 13);
    job.result_hash = row.column_optional_text(14);
    job.error_message = row.column_optional_text(15);
    job.created_at = Timestamp::from_ms(row.column_int64(16));
    job.updated_at = Timestamp::from_ms(row.column_int64(17));
    job.started_at = optional_time(row, 18);
    job.finished_at = optional_time(row, 19);
    result.lease_token = row.column_optional_text(20);
    if (!row.is_null(21)) {
        result.gpu_index = static_cast<int>(row.column_int64(21));
    }
    result.completion_digest = row.column_optional_text(22);
    result.metrics_json = row.column_optional_text(23).value_or("{}");
    result.attempt_started_at = optional_time(row, 24);
    job.run_hub_id = row.column_optional_text(25);
    job.prefer_until = optional_time(row, 26);
    result.queue_hub = row.column_text(27);
    return result;
}

HubRecord load_hub(store::Transaction& tx, std::string_view hub_id, std::string_view field) {
    static const std::string by_id_sql =
        fmt::format("SELECT {} FROM hubs WHERE id = ?", kHubColumns);
    auto row = tx.prepare(by_id_sql);
    row.bind_all(hub_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no hub '{}'", hub_id), std::string(field));
    }
    return read_hub(row);
}

WorkerRecord load_worker(store::Transaction& tx, std::string_view worker_id,
                         std::string_view field) {
    static const std::string by_id_sql =
        fmt::format("SELECT {} FROM workers WHERE id = ?", kWorkerColumns);
    auto row = tx.prepare(by_id_sql);
    row.bind_all(worker_id);
    if (!row.step()) {
        throw Error(ErrorCode::not_found, fmt::format("no worker '{}'", worker_id),
                    std::string(field));
    }
    return read_worker(row);
}

std::optional<JobRow> find_job(store::Transaction& tx, std::string_view job_id) {
    static const std::string by_id_sql =
        fmt::format("SELECT {} FROM jobs WHERE id = ?", kJobColumns);
    auto row = tx.prepare(by_id_sql);
    row.bind_all(job_id);
    if (!row.step()) {
        return std::nullopt;
    }
    return read_job(row);
}

JobRow load_job(store::Transaction& tx, std::string_view job_id, std::string_view field) {
    auto row = find_job(tx, job_id);
    if (!row) {
        throw Error(ErrorCode::not_found, fmt::format("no job '{}'", job_id), std::string(field));
    }
    return std::move(*row);
}

JobNeeds needs_of(const JobRow& row) {
    const JobRecord& job = row.record;
    JobNeeds needs;
    needs.id = job.id;
    // A preferred job whose preference ended waits in the queue of jobs pinned to no hub.
    if (job.spec.hub_id && (job.spec.pin_hub || job.status != JobStatus::queued ||
                            row.queue_hub == *job.spec.hub_id)) {
        needs.hub_id = job.spec.hub_id;
        needs.pinned = job.spec.pin_hub.has_value();
        needs.prefer_until = job.prefer_until;
    }
    needs.region = job.spec.region;
    needs.labels = job.spec.required_labels;
    needs.resources = job.spec.workload.resources;
    needs.priority = job.spec.priority;
    needs.timeout_ms = job.spec.workload.timeout_seconds * 1000;
    needs.deadline = job.spec.deadline;
    needs.estimated_energy = job.spec.estimated_energy;
    needs.needs_container = job.spec.workload.container_image != "native";
    return needs;
}

// ---- JSON forms of the records --------------------------------------------------------------

namespace {

boost::json::value time_or_null(const std::optional<Timestamp>& at) {
    return at ? boost::json::value(to_iso8601(*at)) : boost::json::value(nullptr);
}

boost::json::value kwh_or_null(const std::optional<Energy>& energy) {
    return energy ? boost::json::parse(energy->to_kwh_string()) : boost::json::value(nullptr);
}

}  // namespace

}  // namespace sihlicon::scheduler

namespace sihlicon {

using scheduler::kwh_or_null;
using scheduler::time_or_null;
using scheduler::to_json_object;

GridSignal HubRecord::signal_at(Timestamp now) const {
    if (grid.valid_until && now >= *grid.valid_until) {
        return GridSignal::normal;
    }
    return grid.signal;
}

std::int64_t HubRecord::power_budget_at(Timestamp now) const {
    if ((grid.valid_until && now >= *grid.valid_until) || !grid.power_budget_w) {
        return spec.power_capacity_w;
    }
    return std::min(*grid.power_budget_w, spec.power_capacity_w);
}

std::string HubRecord::to_json() const {
    const boost::json::object object{
        {"hubId", spec.id},
        {"name", spec.name},
        {"site", spec.site},
        {"region", spec.region},
        {"heatRecoveryPpm", spec.heat_recovery_ppm},
        {"powerCapacityW", spec.power_capacity_w},
        {"routingPolicy", to_string(spec.routing_policy)},
        {"wattsPerCore", spec.watts_per_core},
        {"wattsPerGpu", spec.watts_per_gpu},
        {"throttleMinPriority", spec.throttle_min_priority},
        {"maxQueueDepth", spec.max_queue_depth},
        {"gridSignal", to_string(grid.signal)},
        {"powerBudgetW", grid.power_budget_w ? boost::json::value(*grid.power_budget_w)
                                             : boost::json::value(nullptr)},
        {"gridValidUntil", time_or_null(grid.valid_until)},
        {"heatDemandW", heat_demand_w},
        {"heatDemandValidUntil", time_or_null(heat_demand_valid_until)},
        {"runningPowerW", running_power_w},
        {"createdAt", to_iso8601(created_at)},
        {"updatedAt", to_iso8601(updated_at)},
    };
    return json::serialize(object);
}

std::string WorkerRecord::to_json() const {
    boost::json::array gpus;
    for (const auto& gpu : spec.gpus) {
        gpus.push_back(boost::json::object{{"model", gpu.model}, {"vramBytes", gpu.vram_bytes}});
    }
    const boost::json::object object{
        {"workerId", spec.id},
        {"hubId", spec.hub_id},
        {"cpuMillicores", spec.cpu_millicores},
        {"memoryBytes", spec.memory_bytes},
        {"gpus", gpus},
        {"labels", to_json_object(spec.labels)},
        {"executors", json::string_array(spec.executors)},
        {"status", to_string(status)},
        {"usedCpuMillicores", used_cpu_millicores},
        {"usedMemoryBytes", used_memory_bytes},
        {"gpusInUse", gpus_in_use},
        {"runningJobs", running_jobs},
        {"utilisationPpm", utilisation_ppm},
        {"powerDrawW", power_draw_w},
        {"gpuStats", scheduler::gpu_stats_to_json(gpu_stats)},
        {"lastHeartbeatAt", to_iso8601(last_heartbeat_at)},
        {"registeredAt", to_iso8601(registered_at)},
    };
    return json::serialize(object);
}

// Written field by field (json::ObjectWriter): every submit, claim and completion returns one.
std::string JobRecord::to_json() const {
    return json::ObjectWriter()
        .field("jobId", id)
        .field("status", to_string(status))
        .field("outputDataRefs", output_refs)
        .field("actualComputeKwh", kwh_or_null(actual_energy))
        .field("heatGeneratedKwh", kwh_or_null(heat_generated))
        .field("errorMessage", error_message)
        .field("jobType", to_string(spec.type))
        .field("jobName", spec.name)
        .field("owner", spec.owner)
        .field("hubId", spec.hub_id)
        .field("pinHub", spec.pin_hub)
        .field("preferUntil", time_or_null(prefer_until))
        .field("priority", spec.priority)
        .field("waitReason", wait_reason)
        .field("readyAt", time_or_null(ready_at))
        .field("attempts", attempts)
        .field("maxAttempts", spec.max_attempts)
        .field("deadLetter", dead_letter)
        .field("workerId", worker_id)
        .field("runHubId", run_hub_id)
        .field("leaseExpiresAt", time_or_null(lease_expires_at))
        .field("energySource",
               energy_source ? std::optional<std::string>(to_string(*energy_source)) : std::nullopt)
        .field("estimatedComputeKwh", kwh_or_null(spec.estimated_energy))
        .field("resultHash", result_hash)
        .field("inputDataRefs", spec.input_refs)
        .field("dependsOn", spec.depends_on)
        .field("createdAt", to_iso8601(created_at))
        .field("updatedAt", to_iso8601(updated_at))
        .field("startedAt", time_or_null(started_at))
        .field("finishedAt", time_or_null(finished_at))
        .finish();
}

std::string JobEvent::to_json() const {
    const boost::json::object object{
        {"sequence", sequence},
        {"jobId", job_id},
        {"from", from ? boost::json::value(to_string(*from)) : boost::json::value(nullptr)},
        {"to", to_string(to)},
        {"at", to_iso8601(at)},
        {"actor", actor},
        {"reason", reason},
    };
    return json::serialize(object);
}

std::string QueueStats::to_json() const {
    boost::json::object counts;
    for (const auto& [status, count] : by_status) {
        counts[to_string(status)] = count;
    }
    const boost::json::object object{
        {"hubId", hub_id},
        {"byStatus", counts},
        {"oldestWaiting", time_or_null(oldest_waiting)},
    };
    return json::serialize(object);
}

}  // namespace sihlicon
