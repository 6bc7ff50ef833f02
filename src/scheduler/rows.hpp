// SPDX-License-Identifier: Apache-2.0
//
// Reading scheduler rows into records, and the JSON forms of the records. Not installed.
#pragma once

#include "scheduler/placement.hpp"
#include "store/database.hpp"

#include <sihlicon/scheduler.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sihlicon::scheduler {

// Column lists to select, in the order the read_* functions expect.
extern const std::string_view kHubColumns;
extern const std::string_view kWorkerColumns;
extern const std::string_view kJobColumns;
// How many columns kWorkerColumns names: a query may select more after them.
inline constexpr int kWorkerColumnCount = 17;
// How many columns kJobColumns names: a query may select more after them.
inline constexpr int kJobColumnCount = 28;

HubRecord read_hub(const store::Statement& row);
WorkerRecord read_worker(const store::Statement& row);

// A job with the private parts of its row that the scheduler needs beside the record.
struct JobRow {
    JobRecord record;
    std::optional<std::string> lease_token;
    std::optional<int> gpu_index;
    std::optional<std::string> completion_digest;
    std::string metrics_json;
    std::optional<Timestamp> attempt_started_at;  // of the current or last attempt
    std::string queue_hub;  // the queue the job waits in: its hub's, or "" (any hub)
};
JobRow read_job(const store::Statement& row);

// Loaders by id inside a transaction; throw Error(not_found) naming the field.
HubRecord load_hub(store::Transaction& tx, std::string_view hub_id,
                   std::string_view field = "hubId");
WorkerRecord load_worker(store::Transaction& tx, std::string_view worker_id,
                         std::string_view field = "workerId");
JobRow load_job(store::Transaction& tx, std::string_view job_id, std::string_view field = "jobId");
// The same read, empty for a job that does not exist.
std::optional<JobRow> find_job(store::Transaction& tx, std::string_view job_id);

// What placement needs of a stored job: its hub while it is pinned or preferred there.
JobNeeds needs_of(const JobRow& row);

// A worker's reputation score (settlement's hook; may be empty: all 0).
using ReputationScore =
    std::function<std::int64_t(store::Transaction& tx, std::string_view worker_id, Timestamp now,
                               std::chrono::milliseconds offline_after)>;

// The workers competing for the jobs of `hub` (placement.hpp, "Routing among competing
// workers"): its workers that are online or busy with a heartbeat within `offline_after` of
// `now`, and on a heat-demand-first hub without unmet heat demand, the workers of the other hubs
// that want heat. `claimant`, when given, is contenders[0] as passed (with what it holds now).
// Reputation is read (competition.contenders.size() queries) only when there are several.
// Cost: one read of workers_by_hub per hub taking part.
Competition load_competition(store::Transaction& tx, const HubRecord& hub,
                             const WorkerRecord* claimant, Timestamp now,
                             std::chrono::milliseconds offline_after,
                             const ReputationScore& reputation);

// The stored form of a worker's GPUs, [{"model", "vramBytes"}], which read_worker reads
// back; also HardwareInfo::to_json's "gpus".
boost::json::array gpus_to_json(const std::vector<GpuSpec>& gpus);
// The stored form of a worker's last GPU stats, [{"utilisationPpm", "vramUsed"}] (table
// worker_gpu_stats, migration 17), which gpu_stats_from_json reads back; also WorkerRecord's
// "gpuStats".
boost::json::array gpu_stats_to_json(const std::vector<GpuStats>& stats);
std::vector<GpuStats> gpu_stats_from_json(std::string_view text);
boost::json::object to_json_object(const std::map<std::string, std::string>& map);
std::map<std::string, std::string> string_map_from_json(std::string_view text);
std::vector<std::string> strings_from_json(std::string_view text);

}  // namespace sihlicon::scheduler
