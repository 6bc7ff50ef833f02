// SPDX-License-Identifier: Apache-2.0
//
// The scheduler: hubs (physical compute-as-heat sites with a grid signal and a heat demand),
// workers (the machines that run jobs), and the whole life of a compute job, from the seed's
// `POST /api/compute` request to an honest end.
//
// Job states (DESIGN.md): pending -> queued -> running -> completed | failed | cancelled.
//   pending   waiting for `scheduledAt`, for its dependencies, or for a retry's back-off;
//   queued    ready: any worker that fits it may claim it;
//   running   leased to one worker; the lease expires unless renewed;
//   completed / failed / cancelled are final. A job whose attempts are exhausted ends failed
//   with dead_letter = true; it is never dropped.
// Every transition is one transaction with its event-log row (from, to, when, who, why), so
// the log and the job never disagree; effects are exactly-once (idempotency keys at submit,
// lease tokens at completion).
//
// Time-driven changes (expired leases, silent workers, due jobs) happen in `tick()`, which a
// host calls periodically, and at the start of every `claim()`.
//
// Thread safety: a Scheduler is safe to use from any number of threads, and several processes
// may schedule on one hub: the database is the single source of truth for every decision.
#pragma once

#include <sihlicon/energy.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

namespace detail {
struct HubCore;
struct SchedulerAccess;  // the settlement seam, src/settlement/scheduler_seam.hpp
}  // namespace detail

// ---- enumerations, with the seed's names (to_string / parse_* throw invalid_argument) -----

enum class JobType { ocr, ai_inference, time_series, video_processing, scientific, custom };
enum class JobStatus { pending, queued, running, completed, failed, cancelled };
enum class GridSignal { surplus, normal, throttle, curtail };
enum class WorkerStatus { online, busy, offline, draining };
// A hub's routing policy decides which of the workers competing for the same jobs is handed
// each one, when they claim (see src/scheduler/placement.hpp for the rules). A claim takes a job
// only when the policy hands it to the claiming worker rather than to another online worker of
// the hub (heartbeat fresh, not draining) that can run it now; the claiming worker wins a tie on
// the policy's measure, so a lone worker, or one no other worker can stand in for, is never held
// back. explain() names the worker a held-back one gives way to.
//   least_loaded: the worker running the fewest jobs (then the better reputation, then the
//     smaller id): of two idle workers, the first to ask for 10 of 10 queued jobs gets 5.
//   round_robin: the worker whose last turn is the oldest; turns are stored in the hub, so every
//     process agrees. A worker that cannot run a job, or is not online, is passed over for it.
//   bin_packing: the worker where the job leaves the least free CPU and memory, keeping roomy
//     workers free for large jobs.
//   gpu_match: a job without a GPU goes to a worker without GPUs when one can take it; a GPU
//     worker is offered GPU jobs first.
//   heat_demand_first: while the hub has unmet heat demand (HeatLedger::unmet_heat_demand_w) it
//     offers the jobs with the largest estimatedComputeKwh first (no estimate counts as 0), then
//     by effective priority; while it has none and another hub wants heat, that hub's workers
//     are handed the jobs pinned to no hub first (the largest first), and this hub's workers
//     take what they cannot.
enum class RoutingPolicy { least_loaded, round_robin, gpu_match, bin_packing, heat_demand_first };

SIHLICON_API std::string_view to_string(JobType value) noexcept;        // "ai-inference"
SIHLICON_API std::string_view to_string(JobStatus value) noexcept;      // "queued"
SIHLICON_API std::string_view to_string(GridSignal value) noexcept;     // "curtail"
SIHLICON_API std::string_view to_string(WorkerStatus value) noexcept;   // "draining"
SIHLICON_API std::string_view to_string(RoutingPolicy value) noexcept;  // "bin-packing"
SIHLICON_API JobType parse_job_type(std::string_view text, std::string_view field = "jobType");
SIHLICON_API JobStatus parse_job_status(std::string_view text, std::string_view field = "status");
SIHLICON_API GridSignal parse_grid_signal(std::string_view text, std::string_view field = "signal");
SIHLICON_API WorkerStatus parse_worker_status(std::string_view text,
                                              std::string_view field = "status");
SIHLICON_API RoutingPolicy parse_routing_policy(std::string_view text,
                                                std::string_view field = "routingPolicy");

// Exact resource quantities as Kubernetes writes them. CPU: "2" = 2000 millicores, "500m" =
// 500, "1.5" = 1500 (at most 3 decimals). Memory: bytes, or with a suffix k M G T P E
// (powers of 1000) or Ki Mi Gi Ti Pi Ei (powers of 1024), integers only ("4Gi", "512M").
// Throw Error::invalid(field, text, ...) on anything else, zero included for CPU.
SIHLICON_API std::int64_t parse_cpu_millicores(std::string_view text,
                                               std::string_view field = "cpu");
SIHLICON_API std::int64_t parse_memory_bytes(std::string_view text,
                                             std::string_view field = "memory");

// ---- hubs -------------------------------------------------------------------------------

struct SIHLICON_API HubSpec {
    std::string id;  // [A-Za-z0-9._-]{1,64}
    std::string name;
    std::string site;                    // replicas and jobs spread over distinct sites
    std::string region;                  // e.g. "CH": data residency and job constraints
    std::int64_t heat_recovery_ppm = 0;  // share of electricity recovered as heat, ppm
    std::int64_t power_capacity_w = 0;
    RoutingPolicy routing_policy = RoutingPolicy::least_loaded;
    // The power model used to budget a job before it runs: watts per CPU core and per GPU.
    std::int64_t watts_per_core = 10;
    std::int64_t watts_per_gpu = 250;
    // Under a `throttle` signal only jobs of at least this priority are dispatched.
    std::int64_t throttle_min_priority = 10;
    // Most jobs pending or queued for this hub at once (backpressure); 0 = unlimited.
    std::int64_t max_queue_depth = 0;

    // Reads {hubId, name, site, region, heatRecoveryPpm, powerCapacityW, routingPolicy,
    // wattsPerCore, wattsPerGpu, throttleMinPriority, maxQueueDepth} (the names of
    // HubRecord::to_json). Throws Error::invalid naming a bad or unknown field.
    static HubSpec from_json(std::string_view json);
};

struct GridState {
    GridSignal signal = GridSignal::normal;
    std::optional<std::int64_t> power_budget_w;  // none: the hub's capacity
    std::optional<Timestamp> valid_until;        // after it: normal, full capacity
};

struct SIHLICON_API HubRecord {
    HubSpec spec;
    GridState grid;
    std::int64_t heat_demand_w = 0;
    std::optional<Timestamp> heat_demand_valid_until;
    std::int64_t running_power_w = 0;  // budgeted power of the jobs running now
    Timestamp created_at;
    Timestamp updated_at;

    // The grid state in force at `now` (an expired signal reads as normal at full capacity).
    GridSignal signal_at(Timestamp now) const;
    std::int64_t power_budget_at(Timestamp now) const;
    std::string to_json() const;
};

// ---- workers ----------------------------------------------------------------------------

struct GpuSpec {
    std::string model;
    std::int64_t vram_bytes = 0;
};

struct SIHLICON_API WorkerSpec {
    std::string id;  // empty: a "worker-…" id is generated
    std::string hub_id;
    std::int64_t cpu_millicores = 0;
    std::int64_t memory_bytes = 0;
    std::vector<GpuSpec> gpus;
    std::map<std::string, std::string> labels;
    // The executors the worker has, each at most once: "native" (it runs a job's command as a
    // process) and "container" (it has a container runtime). A job whose
    // workloadConfig.containerImage is "native" goes only to a worker with "native", any other
    // image only to one with "container"; a job no worker can run waits queued, and explain()
    // says why ("worker has no container runtime"). Default, and what a registration without
    // the field means: ["native"]. Any other name is refused naming "executors[i]".
    std::vector<std::string> executors{"native"};

    // Reads {workerId?, hubId, cpu ("4" or "4000m"), memory ("16Gi"), gpus: [{model, vram
    // ("80Gi")}], labels: {}, executors?: ["native", "container"]}. Throws Error::invalid
    // naming a bad or unknown field.
    static WorkerSpec from_json(std::string_view json);
    // The spec in that form (cpu in millicores "4000m", memory and vram in bytes), which
    // from_json reads back to an equal spec: what a remote agent registers with.
    std::string to_json() const;
};

// One GPU's state as a heartbeat reports it (SwarmOS's hardware stats).
struct GpuStats {
    std::int64_t utilisation_ppm = 0;  // 0..1,000,000
    std::int64_t vram_used_bytes = 0;  // 0..that GPU's registered vram_bytes
};

struct SIHLICON_API Heartbeat {
    std::int64_t utilisation_ppm = 0;  // CPU utilisation, 0..1,000,000
    std::int64_t power_draw_w = 0;     // 0..1,000,000,000
    // The worker's GPUs in registration order: gpus[i] is WorkerSpec::gpus[i]. At most as
    // many as the worker registered (fewer: no stats for the rest, empty: none). Scheduler::
    // heartbeat refuses more GPUs than registered ("gpus"), a utilisation out of range
    // ("gpus[i].utilisationPpm") or VRAM in use above the GPU's ("gpus[i].vramUsed"), naming
    // the value, and stores nothing then.
    std::vector<GpuStats> gpus;

    // Reads {utilisationPpm?, powerDrawW?, gpus?: [{utilisationPpm?, vramUsed? (bytes)}]}
    // (absent numbers are 0; at most 64 GPUs), the names of WorkerRecord::to_json. The one
    // codec of a heartbeat for the CLI, the C ABI and the bindings; ranges are checked by
    // Scheduler::heartbeat. Throws Error::invalid naming a bad or unknown field.
    static Heartbeat from_json(std::string_view json);
    // The heartbeat in that form, which from_json reads back to an equal heartbeat.
    std::string to_json() const;
};

struct SIHLICON_API WorkerRecord {
    WorkerSpec spec;
    WorkerStatus status = WorkerStatus::online;
    std::int64_t used_cpu_millicores = 0;
    std::int64_t used_memory_bytes = 0;
    std::uint64_t gpus_in_use = 0;  // bit i: GPU i is leased
    std::int64_t running_jobs = 0;
    std::int64_t utilisation_ppm = 0;
    std::int64_t power_draw_w = 0;
    // The last heartbeat's GPU stats (Heartbeat::gpus); registering again clears them.
    std::vector<GpuStats> gpu_stats;
    Timestamp last_heartbeat_at;
    Timestamp registered_at;

    // {workerId, hubId, ..., utilisationPpm, powerDrawW, gpuStats: [{utilisationPpm,
    // vramUsed}], lastHeartbeatAt, registeredAt}.
    std::string to_json() const;
};

// ---- jobs -------------------------------------------------------------------------------

struct Resources {
    std::int64_t cpu_millicores = 1000;  // seed default "1"
    std::int64_t memory_bytes = 0;
    bool gpu = false;
    std::int64_t gpu_vram_bytes = 0;  // minimum VRAM of the GPU, when gpu
};

// Whether a job's `env` may not set `name`: PATH and HOME (the agent sets them), SIHLICON_*
// (the agent's), and names that make the dynamic loader, the C library, a shell or a common
// interpreter load or run other code: LD_*, DYLD_*, BASH_FUNC_*, GCONV_PATH, GLIBC_TUNABLES,
// LOCPATH, NLSPATH, HOSTALIASES, IFS, ENV, BASH_ENV, SHELLOPTS, BASHOPTS, PS4, PYTHONPATH,
// PYTHONHOME, PYTHONSTARTUP, PERL5LIB, PERL5OPT, PERLLIB, RUBYLIB, RUBYOPT, NODE_OPTIONS,
// NODE_PATH, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS. Job submission refuses such a spec with
// invalid_argument naming the key; the agent refuses such a job again before running it.
SIHLICON_API bool is_reserved_env_name(std::string_view name) noexcept;

// Whether `image` is a plain container image reference: an ASCII letter or digit, then only
// letters, digits and . _ - / : @ (so that a runtime can never read it as an option). Job
// submission refuses any other workloadConfig.containerImage; the container executor refuses
// it again.
SIHLICON_API bool is_container_image(std::string_view image) noexcept;

struct WorkloadConfig {
    // "native" (a process on the worker), else an image reference (is_container_image).
    std::string container_image;
    std::vector<std::string> command;
    std::map<std::string, std::string> env;  // no reserved name (is_reserved_env_name)
    Resources resources;
    std::int64_t timeout_seconds = 3600;
};

struct SIHLICON_API JobSpec {
    // The seed's request fields.
    JobType type = JobType::custom;
    std::string name;
    std::string description;
    WorkloadConfig workload;
    // Content the job reads, as users write it: CIDv1 ("bafy…"), CIDv0 ("Qm…") or
    // "ipfs://<cid>". from_json and submit store each as the equivalent CIDv1 (base32 text);
    // any other text is refused naming "inputDataRefs[i]" and the text as given.
    std::vector<std::string> input_refs;
    // estimatedComputeKwh: the electricity the client expects the job to use, in kWh (exact to
    // the mWh). None: not estimated. 0 to kMaxEstimatedComputeKwh; submission refuses a
    // negative or larger value naming "estimatedComputeKwh". Shown in JobRecord::to_json,
    // turned into the expected heat on each hub (x its heat recovery) by explain(), and
    // ordering a heat-demand-first hub's queue while the hub wants heat.
    std::optional<Energy> estimated_energy;
    std::int64_t priority = 0;  // higher runs first; ages by one point per aging interval
    std::optional<Timestamp> scheduled_at;
    // hubId: the hub the job prefers (the seed's "prefer specific hub"); none: any hub. A
    // preferred job is offered only to its hub's workers while it waits there, from when it is
    // queued until the hub setting preferenceWindowMs (HubSettings::preference_window) has
    // passed; then (the hub had no
    // eligible worker, was curtailed or over budget) any hub's worker may take it, with a job
    // event saying so. Each time it is queued again (a retry, a requeue) it gets a fresh
    // window. Must name a registered hub (not_found, "hubId").
    std::optional<std::string> hub_id;
    // constraints.pinHub: the job runs on this hub only, however long it waits; it must name
    // a registered hub (not_found, "constraints.pinHub"). With no hubId, submit() sets hub_id
    // to it; a different hubId is refused (invalid_argument naming "constraints.pinHub").
    std::optional<std::string> pin_hub;
    // Beyond the seed.
    std::string owner;  // the client; rate limits and listings are per owner
    std::optional<std::string> idempotency_key;
    std::int64_t max_attempts = 3;
    std::int64_t backoff_ms = 1000;     // first retry delay; doubles each attempt, capped at 1 h
    std::optional<Timestamp> deadline;  // a deferrable job: waits for surplus power until it
                                        // must start to finish by its deadline
    std::map<std::string, std::string> required_labels;  // the worker must carry all of them
    std::optional<std::string> region;                   // the hub must be in this region
    std::vector<std::string> depends_on;                 // job ids that must complete first

    // The largest estimatedComputeKwh accepted: 100,000 kWh (100 MWh), more than a 500 kW rack
    // draws in the longest timeout a job may have (7 days); anything above is a typo or an
    // attempt to skew heat-demand routing.
    static constexpr std::int64_t kMaxEstimatedComputeKwh = 100'000;

    // The longest job spec JSON accepted: 1 MiB (1,048,576 bytes). Every entry that takes a
    // spec as JSON (from_json, Scheduler::submit_json, the C ABI, Python and Node) refuses a
    // longer one from its length, before parsing it.
    static constexpr std::size_t kMaxJsonBytes = 1u << 20;
    // The longest JSON array of specs accepted by array_from_json: 64 MiB.
    static constexpr std::size_t kMaxArrayJsonBytes = 64u << 20;

    // Parses the seed's POST /api/compute body (and the fields beyond it: idempotencyKey,
    // maxAttempts, backoffMs, deadline, constraints{labels, region, pinHub}, dependsOn; owner only
    // if `owner` is empty). Every field is validated; the first bad one throws Error::invalid
    // naming it ("workloadConfig.resources.memory"). A `json` longer than kMaxJsonBytes is refused
    // unparsed with Error::invalid naming "jobSpec", its size and the limit.
    static JobSpec from_json(std::string_view json, std::string_view owner = {});
    // Parses a JSON array of such bodies (for Scheduler::submit_many). Refuses a text longer
    // than kMaxArrayJsonBytes unparsed (field "specs"), then each element as from_json does,
    // its errors prefixed with its index ("specs[2].jobSpec", "specs[0].workloadConfig").
    static std::vector<JobSpec> array_from_json(std::string_view json, std::string_view owner = {});
};

struct SIHLICON_API Lease {
    std::string job_id;
    std::string worker_id;
    std::string token;  // secret: whoever holds it may renew, complete or fail the attempt
    Timestamp expires_at;
    std::int64_t attempt = 0;

    // {"jobId", "workerId", "token", "expiresAt" (ISO 8601), "attempt"}.
    std::string to_json() const;
};

struct SIHLICON_API JobRecord {
    std::string id;
    JobSpec spec;
    JobStatus status = JobStatus::pending;
    std::string wait_reason;  // for pending: "scheduled", "dependencies", "backoff", "inputs"
    std::optional<Timestamp> ready_at;
    std::int64_t attempts = 0;
    bool dead_letter = false;
    // The worker holding the running attempt, or that held the last one (kept when the job
    // ends; none again once a retry or requeue puts it back in the queue), and its hub.
    std::optional<std::string> worker_id;
    std::optional<std::string> run_hub_id;
    // For a queued job with a preferred hub: when the preference ends and any hub may take it.
    std::optional<Timestamp> prefer_until;
    std::optional<Timestamp> lease_expires_at;
    std::int64_t power_w = 0;  // budgeted while running
    std::vector<std::string> output_refs;
    std::optional<Energy> actual_energy;
    std::optional<EnergySource> energy_source;
    std::optional<Energy> heat_generated;
    std::optional<std::string> result_hash;
    std::optional<std::string> error_message;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<Timestamp> started_at;
    std::optional<Timestamp> finished_at;

    // The seed's job shape (jobId, status, outputDataRefs, actualComputeKwh,
    // heatGeneratedKwh, errorMessage) and the rest of the record in camelCase ("hubId",
    // "pinHub", "preferUntil", "workerId", "runHubId", ...).
    std::string to_json() const;
};

struct SIHLICON_API ClaimedJob {
    Lease lease;
    JobRecord job;

    // {"lease": the lease's JSON, "job": the record's JSON}: a claim as the C ABI and the
    // bindings return it.
    std::string to_json() const;
};

struct SIHLICON_API JobCompletion {
    std::vector<std::string> output_refs;  // CIDs
    // The electricity the job used, as the worker measured it. None: the scheduler models it
    // from the hub's power model (watts per core and GPU) and the attempt's run time, and
    // records the figure as modelled.
    std::optional<Energy> energy;
    EnergySource energy_source = EnergySource::measured;
    std::optional<std::string> result_hash;
    std::string metrics_json = "{}";  // free-form JSON object kept with the job
    // The seed's proof of execution, hex of sha256(job_id ‖ result_hash ‖ worker_id), and an
    // EIP-191 signature over that hex by the key of the worker's "address" label. When given
    // they are checked by the settlement service; a wrong one refuses the completion.
    std::optional<std::string> proof_of_execution;
    std::optional<std::string> worker_signature;

    // Reads {"outputDataRefs"?: [CID], "energyMwh"? (integer) | "energyKwh"? (exact decimal
    // string or number; not both), "energySource"? ("measured", "modelled", "estimated"),
    // "resultHash"?, "metrics"? (a JSON object), "proofOfExecution"?, "workerSignature"?}.
    // Without an energy and an energySource the source is "modelled" (the scheduler models
    // the figure). The one codec of a completion for the server and the C ABI. Throws
    // Error::invalid naming a bad or unknown field.
    static JobCompletion from_json(std::string_view json);
    // The completion in that form (energyMwh; energySource always; metrics as an object),
    // which from_json reads back to an equal completion: what a remote agent sends.
    std::string to_json() const;
};

struct SIHLICON_API JobEvent {
    std::int64_t sequence = 0;
    std::string job_id;
    std::optional<JobStatus> from;
    JobStatus to = JobStatus::pending;
    Timestamp at;
    std::string actor;
    std::string reason;

    std::string to_json() const;
};

// Which jobs Scheduler::jobs lists, one page at a time. Jobs come in id order (the order
// they were submitted), except queued jobs asked for by status, which come in the order
// claims take them: highest aged priority first (see JobSpec::priority), then oldest.
// Each state is read from an index of its own, so a page costs about the same however long
// the hub's history is (running jobs, which are at most what the workers hold, are sorted).
// With hub_id, the jobs of that hub are those that prefer it or are pinned to it (JobSpec::hub_id)
// and those whose running or last attempt ran on it (JobRecord::run_hub_id), each listed once;
// queued jobs whose preference ended are found by scanning the queue of jobs pinned to no hub,
// which is bounded by what waits, not by the history.
struct JobFilter {
    std::optional<std::string> hub_id;  // jobs preferring, pinned to or run on this hub
    std::optional<JobStatus> status;
    std::optional<std::string> owner;
    // Jobs whose running or last attempt was leased to this worker (a job put back in the
    // queue for a retry has none until claimed again).
    std::optional<std::string> worker_id;
    // true: only dead-lettered jobs (failed after their last attempt); false: only the others.
    std::optional<bool> dead_letter;
    std::int64_t limit = 50;  // the seed's default; at most 1000
    // Paging: the id of the last job of the prior page; the page continues after it in the
    // listing's order. For queued jobs it must name a job (one since claimed is fine).
    std::string after;
};

// The jobs that name one hub (preferred or pinned; for hub id "", none) by state. The counts are
// kept by every transition, so reading them costs the same however many jobs the hub has run;
// finding the oldest waiting job reads the index of queued jobs (a scan of that hub's queue,
// entries only) and of pending ones.
struct SIHLICON_API QueueStats {
    std::string hub_id;
    std::map<JobStatus, std::int64_t> by_status;  // every state, 0 when none
    // created_at of the oldest job pending for the hub or queued in its queue (a preferred job
    // whose preference ended waits in the queue of hub "").
    std::optional<Timestamp> oldest_waiting;

    std::string to_json() const;
};

// Why a job can or cannot run on each hub and worker, as explain() reports it.
struct SIHLICON_API Placement {
    std::string hub_id;
    std::string worker_id;  // empty: the line is about the hub as a whole
    bool eligible = false;
    std::vector<std::string> reasons;  // empty when eligible
    // The heat the job is expected to give this hub: its estimatedComputeKwh x the hub's
    // heat_recovery_ppm (Energy::scale_ppm). None when the job has no estimate.
    std::optional<Energy> expected_heat;

    // {"hubId", "workerId" (empty: the hub as a whole), "eligible", "reasons": [...],
    //  "expectedHeatKwh" (a number of kWh, or null)}.
    std::string to_json() const;
};

// The scheduler's per-process options. What decides routing or money for the whole hub (the
// rate limit submissionsPerHour, priority aging, the heartbeat interval and missed-heartbeat
// limit that decide when a worker is offline, the preference window) is a stored hub setting
// (include/sihlicon/settings.hpp, Hub::settings), read in each transaction that needs it.
struct SchedulerOptions {
    // How long a claim's lease lasts before the job may be handed out again (1 ms..7 days).
    std::chrono::milliseconds lease_duration{60'000};
    // Queued jobs a claim examines at most, or its `max` if that is larger: the jobs at the
    // head of the queue that do not fit the worker are skipped up to this many.
    std::int64_t claim_scan_limit = 256;
    // A job whose inputDataRefs are not all in the hub's content store waits as pending
    // ("inputs"); it is looked at again this often (by claims and tick()), and queued once
    // every input is stored, whichever process stored it.
    std::chrono::milliseconds input_recheck_interval{1'000};
};

class SIHLICON_API Scheduler {
  public:
    using Listener = std::function<void(const JobEvent&)>;

    // Constructed by the Hub; use Hub::scheduler().
    Scheduler(detail::HubCore& core, SchedulerOptions options);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // A copy of this process's options (a copy: another thread may replace them).
    SchedulerOptions options() const;
    // Replaces this process's options for later calls. Throws invalid_argument naming the
    // option out of range (nothing changed).
    void set_options(const SchedulerOptions& options);

    // ---- hubs ----
    // Registers a hub. Throws invalid_argument for a bad field, conflict if the id exists.
    HubRecord register_hub(const HubSpec& spec);
    // Replaces a hub's spec. Throws not_found for an unknown id.
    HubRecord update_hub(const HubSpec& spec);
    HubRecord hub(std::string_view hub_id) const;  // throws not_found
    std::vector<HubRecord> hubs() const;
    HubRecord set_grid_state(std::string_view hub_id, const GridState& state);
    HubRecord set_heat_demand(std::string_view hub_id, std::int64_t watts,
                              std::optional<Timestamp> valid_until = std::nullopt);

    // ---- workers ----
    // Registers (or re-registers, with the same id) a worker, online. Throws not_found for an
    // unknown hub, invalid_argument for a bad field; re-registering with running jobs keeps
    // them.
    WorkerRecord register_worker(const WorkerSpec& spec);
    // Records a heartbeat (its CPU and GPU stats, validated against the worker's registered
    // GPUs: see Heartbeat); brings an offline worker back online. Throws not_found, and
    // invalid_argument for a value out of range (nothing stored then).
    WorkerRecord heartbeat(std::string_view worker_id, const Heartbeat& beat);
    // Draining: the worker finishes its jobs but is given no new ones. set_worker_status
    // accepts online and draining; offline releases its leases at once.
    WorkerRecord set_worker_status(std::string_view worker_id, WorkerStatus status);
    WorkerRecord worker(std::string_view worker_id) const;
    std::vector<WorkerRecord> workers(std::optional<std::string> hub_id = std::nullopt) const;

    // ---- jobs ----
    // Submits a job; returns it pending or queued. With an idempotency key already used by the
    // same owner, returns the earlier job if the spec is the same, and throws conflict if not.
    // Throws invalid_argument (a bad field; nothing written), not_found (unknown hub or
    // dependency), quota_exceeded (rate limit, with the seconds to wait in the message;
    // queue depth).
    JobRecord submit(const JobSpec& spec);
    JobRecord submit_json(std::string_view json, std::string_view owner);
    // Submits many jobs in one transaction: all are accepted or none.
    std::vector<JobRecord> submit_many(const std::vector<JobSpec>& specs);

    // Leases up to `max` jobs the worker can run now and the hub's routing policy hands it
    // (RoutingPolicy; see the file comment of src/scheduler/placement.hpp for every rule).
    // Returns fewer (or none) when nothing else fits or the policy hands the rest to other
    // workers. Throws not_found for an unknown worker, conflict for an offline one.
    std::vector<ClaimedJob> claim(std::string_view worker_id, std::int64_t max = 1);
    // Lease checks (renew, check_lease, complete, complete_many, fail). `token` proves the
    // attempt. `acting_worker` is the worker a caller acts for (a remote worker's token: the
    // server passes the token's bound worker); empty for the host and the hub operator, who act
    // by the token alone. For an acting worker every job it does not hold under `token` (no such
    // job, another worker's attempt even with that attempt's token, an ended or requeued job, a
    // stale token) gets the same conflict, field "token" ("worker 'W' holds no lease on job 'J'
    // under this token"): a worker learns nothing of jobs that are not its own (no existence
    // oracle). Without one, an unknown job is not_found and a stale token a conflict naming the
    // job's status. Nothing changes on a refusal.
    //
    // Extends a lease by the lease duration.
    Lease renew(std::string_view job_id, std::string_view token,
                std::string_view acting_worker = {});
    // The job whose live lease `token` is, changing nothing: the job is running, `token` is its
    // current lease token (held by `acting_worker` when set) and the lease has not expired
    // (conflict, field "token", otherwise). For what acts under a lease without ending it (a
    // remote worker reading its job's inputs: hub_link.hpp's require_job_lease).
    JobRecord check_lease(std::string_view job_id, std::string_view token,
                          std::string_view acting_worker = {}) const;
    // Completes the attempt (nothing changes on a refusal); repeating an accepted completion
    // with the same token and payload (and the same acting worker) returns the job. One read of
    // the job's row per completion.
    JobRecord complete(std::string_view job_id, std::string_view token,
                       const JobCompletion& completion, std::string_view acting_worker = {});
    // Completes many attempts in one transaction; all or none. Each lease's worker_id is its
    // acting worker (a claim's lease names it; the server's batch completion sets the path's
    // worker): as for complete, a lease that worker does not hold, whether the job is absent,
    // another worker's or ended, refuses the whole batch with the same conflict. A lease with
    // an empty worker_id is checked by its token only. One read of each job's row.
    std::vector<JobRecord> complete_many(
        const std::vector<std::pair<Lease, JobCompletion>>& completions);
    // Fails the attempt: retried after back-off while attempts remain and `retryable`, else
    // final.
    JobRecord fail(std::string_view job_id, std::string_view token, std::string_view error,
                   bool retryable = true, std::string_view acting_worker = {});
    // Cancels a job that has not ended; its dependents fail. `by` is the acting principal: the
    // job's owner or the hub operator (kOperatorPrincipal, principal.hpp); for anyone else the
    // job is not_found, worded exactly as a job that does not exist (no existence oracle).
    // Throws conflict for a job that already ended, not_found for an unknown one.
    JobRecord cancel(std::string_view job_id, std::string_view by, std::string_view reason = {});
    // Puts a running or failed job back in the queue with a fresh attempt budget: the hub
    // operator's action (`by` must be kOperatorPrincipal, else permission_denied naming "by").
    // Throws conflict from any other state.
    JobRecord requeue(std::string_view job_id, std::string_view by, std::string_view reason = {});

    // Expires leases and silent workers, and promotes due jobs. Returns how many jobs changed.
    std::int64_t tick();

    // ---- queries ----
    // The host's unchecked reads (the hub's own process, the local CLI): any job.
    JobRecord job(std::string_view job_id) const;  // throws not_found
    std::vector<JobRecord> jobs(const JobFilter& filter) const;
    // The same reads for an acting principal (what every remote edge calls): the operator
    // (kOperatorPrincipal) sees every job; anyone else only the jobs it owns. Someone else's
    // job throws not_found worded exactly as a job that does not exist ("no job 'ID'", field
    // "jobId"). A listing of anyone but the operator is filtered to its own jobs; a filter
    // naming another owner throws permission_denied naming "owner".
    JobRecord job(std::string_view job_id, std::string_view principal) const;
    std::vector<JobRecord> jobs(const JobFilter& filter, std::string_view principal) const;
    std::vector<JobEvent> events(std::string_view job_id) const;
    QueueStats queue_stats(std::string_view hub_id) const;
    // For each hub and each of its workers, whether the job could be placed there now, and
    // why not (a worker the routing policy holds back is not eligible, with a reason such as
    // "least-loaded: worker-b (0 running) takes the next job"). A job with a hub says on every
    // other hub's lines which applies: "job is pinned to hub H", or "preferred hub H until
    // <time>, then any hub" (for a job not yet queued, "preferred hub H for <window> ms once
    // queued, then any hub").
    std::vector<Placement> explain(std::string_view job_id) const;

    // ---- events ----
    // Calls `listener` after every committed state change made through this Scheduler (not
    // other processes'), on the thread that made it. Returns an id for unsubscribe().
    // A listener must not throw; exceptions are swallowed.
    std::int64_t subscribe(Listener listener);
    void unsubscribe(std::int64_t subscription);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    friend struct detail::SchedulerAccess;
};

}  // namespace sihlicon
