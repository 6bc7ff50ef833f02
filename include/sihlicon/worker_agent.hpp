// SPDX-License-Identifier: Apache-2.0
//
// WorkerAgent: the runtime of one machine of a hub, in the manner of the seeds' agents
// (ComputeHive's core agent, SwarmOS's Bee-2 workers). It registers the machine as a worker
// with the hardware it detects, sends heartbeats with its utilisation and power draw (and,
// when it registered GPUs, their utilisation and VRAM in use: probe_gpu_stats; stats the hub
// refuses are left out of that heartbeat, with an event), claims jobs into N slots, runs each
// through an Executor, renews the job's lease while it runs, measures its energy and reports
// the outcome: completion (outputs ingested into the content store as CIDs, energy with its
// source) or failure (retried by the scheduler, then dead-lettered).
//
// Which executor runs a job: a job whose workloadConfig.containerImage is "native"
// (kNativeImage) runs as a child process of this machine (ProcessExecutor); any other image
// runs in a container (ContainerExecutor) when docker or podman is usable here, and fails with
// a clear reason, not retried, when neither is.
//
// The hub: a Hub open in this process, or a `sihlicon serve` elsewhere; the agent asks it
// everything through one HubLink (include/sihlicon/hub_link.hpp). A remote link verifies each
// input's blocks against their CIDs; an input that does not verify, or that cannot be fetched
// for a reason that may pass (the hub out of reach: Error io, busy), fails the attempt
// retryably, so it goes to a retry; an input that is missing or unreadable fails it for good.
//
// A job's private working folder holds `input/` (its inputDataRefs, fetched through the
// link) and `output/` (every regular file the job leaves there becomes an output CID, in
// path order). The child sees SIHLICON_JOB_ID, SIHLICON_ATTEMPT, SIHLICON_INPUT_DIR,
// SIHLICON_OUTPUT_DIR and SIHLICON_INPUTS (the input paths, one per line), plus its own `env`;
// a container sees the folders at /input and /output. Its stdout and stderr are stored in the
// content store; their CIDs, the exit status and the run time go into the job's metrics.
//
// Security: a job is hostile. Work folders live outside the hub folder (hub.db and
// operator.key are never in reach of a job). A native job runs in a bubblewrap sandbox (see
// ProcessExecutor) that sees a read-only system, its own input (read-only) and output folders,
// private /tmp and scratch home, no network, no other process; where no sandbox can be made,
// native jobs are refused unless the operator opts out (AgentOptions::unsandboxed_native). A
// job's `env` never replaces PATH, HOME, LD_* and the like (is_reserved_env_name), and the
// agent's own environment is not inherited. The operator can turn native jobs off and
// allow-list their programs (AgentOptions::native_jobs, allowed_commands); a job refused by
// any of these rules fails with the reason, not retried.
//
// Time: records carry the hub's Clock; the runtime's pacing (heartbeats, lease renewal, job
// timeouts, polling) is real time on a steady clock, since real processes take real time.
//
// Crash safety: the agent keeps no state of its own between runs. A job it held when it died
// comes back through the scheduler's lease expiry and runs again under a new lease token; the
// dead attempt's token is refused, so a job completes once. A job's child process dies with
// the agent (PR_SET_PDEATHSIG).
//
// Thread safety: start(), drain(), stop() and status() may be called from any thread; an
// agent runs its own threads (one control thread, one per running job) until stop().
#pragma once

#include <sihlicon/crypto.hpp>
#include <sihlicon/energy.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/power_meter.hpp>
#include <sihlicon/scheduler.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon {

class Hub;
class HubLink;

// The containerImage of a job that runs as a plain process on the worker.
inline constexpr std::string_view kNativeImage = "native";

// The PATH of every native job, fixed (the agent's own PATH is not inherited): where its
// command is looked up, on the host and inside the sandbox alike.
inline constexpr std::string_view kNativeJobPath = "/usr/local/bin:/usr/bin:/bin";

// ---- hardware ----------------------------------------------------------------------------

struct SIHLICON_API HardwareInfo {
    std::int64_t cpu_cores = 0;
    std::int64_t memory_bytes = 0;
    std::vector<GpuSpec> gpus;  // model and VRAM

    // {"cpuCores", "memoryBytes", "gpus": [{"model", "vramBytes"}]}.
    std::string to_json() const;
};

struct HardwareSources {
    std::filesystem::path proc_root = "/proc";  // cpuinfo, meminfo, driver/nvidia/gpus/*
    // The nvidia-smi to ask for models and VRAM, and for GPU stats at each heartbeat
    // (probe_gpu_stats); empty: look it up on PATH. Not run when the driver's folder lists no
    // GPU, nor at heartbeats when the worker registered none.
    std::filesystem::path nvidia_smi;
};

// Detects the machine: cores from cpuinfo (else the scheduler affinity), memory from
// meminfo, GPUs from /proc/driver/nvidia/gpus/*/information with their VRAM from
// `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` when it runs.
// Never throws for missing sources: what cannot be read is reported as zero / none.
SIHLICON_API HardwareInfo detect_hardware(const HardwareSources& sources = {});

// Parsers of the kernel's and the driver's text, exposed for tests and hosts.
// The number of "processor" lines of /proc/cpuinfo.
SIHLICON_API std::int64_t parse_cpuinfo_cores(std::string_view cpuinfo);
// MemTotal of /proc/meminfo, in bytes. Throws Error::invalid("meminfo", ...) when absent.
SIHLICON_API std::int64_t parse_meminfo_total(std::string_view meminfo);
// The "Model:" of one /proc/driver/nvidia/gpus/<bus>/information file; none without one.
SIHLICON_API std::optional<std::string> parse_nvidia_gpu_model(std::string_view information);
// The lines "NVIDIA A100-SXM4-80GB, 81920" (MiB) of nvidia-smi's CSV query. Throws
// Error::invalid("nvidia-smi", line, ...) for a malformed line.
SIHLICON_API std::vector<GpuSpec> parse_nvidia_smi_csv(std::string_view csv);

// The lines "75, 12288" (utilization.gpu in %, memory.used in MiB) of `nvidia-smi
// --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits`, one per GPU in
// nvidia-smi's order, as GpuStats (ppm, bytes). Throws Error::invalid("nvidia-smi", line, ...)
// for a malformed line or a value out of range ("[N/A]", 101 %, a negative MiB).
SIHLICON_API std::vector<GpuStats> parse_nvidia_smi_stats(std::string_view csv);
// The GPUs' utilisation and VRAM in use now, from that query of `sources.nvidia_smi` (empty:
// nvidia-smi on PATH) with a 2-second timeout. Empty when the tool is absent, fails, times out
// or prints what parse_nvidia_smi_stats refuses. Never throws. The agent sends these in its
// heartbeats when the worker registered GPUs.
SIHLICON_API std::vector<GpuStats> probe_gpu_stats(const HardwareSources& sources = {});

// Busy and total jiffies of the "cpu" line of /proc/stat; utilisation over an interval is
// delta busy / delta total. Throws Error::invalid("stat", ...) when the line is absent.
struct CpuTimes {
    std::int64_t busy = 0;
    std::int64_t total = 0;
};
SIHLICON_API CpuTimes parse_proc_stat(std::string_view stat);

// ---- executors ---------------------------------------------------------------------------

// One attempt of a job, as an executor sees it.
struct ExecutionRequest {
    JobRecord job;
    std::int64_t attempt = 0;
    std::filesystem::path work_dir;    // private to this attempt; the child's working folder
    std::filesystem::path input_dir;   // work_dir/input, inputs already fetched
    std::filesystem::path output_dir;  // work_dir/output, empty
    std::vector<std::filesystem::path> inputs;  // in inputDataRefs order
    std::filesystem::path stdout_file;          // where the child's stdout goes
    std::filesystem::path stderr_file;
};

enum class ExecutionOutcome {
    succeeded,  // exit status 0
    failed,     // non-zero exit status or killed by a signal: retried
    timed_out,  // ran past timeoutSeconds; its process group was killed: retried
    cancelled,  // stopped through the stop token (drain, lost lease); its group was killed
    refused,    // could not start (no such program, no runtime): not retried
};

SIHLICON_API std::string_view to_string(ExecutionOutcome outcome) noexcept;

struct ExecutionResult {
    ExecutionOutcome outcome = ExecutionOutcome::failed;
    std::optional<int> exit_code;    // when it exited
    std::optional<int> term_signal;  // when a signal ended it
    std::string message;             // why, for anything but success
    std::chrono::milliseconds wall{0};
};

// Runs one attempt to its end. Implementations must be safe to call from several threads at
// once (one attempt each) and must return promptly once `stop` is requested, leaving no
// process of the attempt behind.
class SIHLICON_API Executor {
  public:
    virtual ~Executor();
    // "process", "docker", ...
    virtual std::string name() const = 0;
    // Never throws: a failure to start is ExecutionOutcome::refused with the reason.
    virtual ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) = 0;
};

struct ProcessLimits {
    // RLIMIT_CPU: cores x timeoutSeconds of CPU time plus this margin; RLIMIT_AS: the job's
    // workloadConfig.resources.memory when it names one, else none.
    std::int64_t cpu_seconds_margin = 1;
    bool limit_address_space = true;
    // Grace between SIGTERM and SIGKILL of the process group when stopping; a timeout kills
    // at once.
    std::chrono::milliseconds stop_grace{200};
    // Sandboxed: the size of each of the job's in-memory folders (/tmp, and its working folder
    // = HOME), so that a job cannot fill the machine's memory through them.
    std::int64_t scratch_bytes = 256LL << 20;
};

struct SandboxOptions {
    // DANGER: false runs native jobs unsandboxed, as the agent's user, with everything that
    // user may read and write in reach (operator.key, hub.db, $HOME, the network). Only for a
    // machine whose every job submitter is trusted as much as its operator.
    bool enabled = true;
    // bubblewrap; empty: `bwrap` on kNativeJobPath.
    std::filesystem::path program;
};

// Whether `bwrap` (empty: `bwrap` on kNativeJobPath) can make the sandbox of native jobs on
// this machine: runs `true` in one, on a scratch folder. None when it can, else why not (the
// program is missing, or its error). Takes a fraction of a second. Never throws.
SIHLICON_API std::optional<std::string> sandbox_problem(const std::filesystem::path& bwrap = {});

// Runs workloadConfig.command as a child process in a process group of its own, with a
// minimal environment (PATH = kNativeJobPath, HOME = work_dir, LANG=C.UTF-8) plus the job's
// env (reserved names refused: is_reserved_env_name) and the SIHLICON_* variables; nothing of
// the agent's own environment. command[0] without a slash is looked up on kNativeJobPath.
// Enforces timeoutSeconds on the wall clock by killing the process group, and kills what is
// left of the group after the child exits.
//
// Sandboxed (the default), the command runs under bubblewrap in new user, mount, pid, ipc,
// uts, network and cgroup namespaces, with no capabilities, no new user namespaces, a session
// of its own, and dies with the agent. It sees: /usr and the /bin, /lib* links read-only; of
// /etc only alternatives, ld.so.*, passwd, group, nsswitch.conf and localtime, read-only; a
// new /proc and a minimal /dev; a private /tmp and its working folder (HOME) in memory
// (scratch_bytes each); its input folder read-only and its output folder writable, at their
// host paths; no network but its own loopback. Nothing else of the host: not the hub folder,
// not the agent's $HOME, not other jobs. The constructor checks the sandbox (sandbox_problem);
// when it cannot be made, every run is refused (not retried) with the reason.
class SIHLICON_API ProcessExecutor final : public Executor {
  public:
    explicit ProcessExecutor(ProcessLimits limits = {}, SandboxOptions sandbox = {});
    std::string name() const override { return "process"; }
    ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) override;
    // Whether runs are sandboxed, and why none can run when the sandbox cannot be made.
    bool sandboxed() const { return sandbox_.enabled; }
    const std::optional<std::string>& problem() const { return problem_; }

  private:
    ProcessLimits limits_;
    SandboxOptions sandbox_;
    std::optional<std::string> problem_;
};

// A usable container runtime on this machine.
struct ContainerRuntime {
    std::string name;  // "podman" or "docker"
    std::filesystem::path program;
};

// Looks for podman, then docker, in `search_path` (a PATH-style list; empty: $PATH) and
// returns the first whose `info` command succeeds within a few seconds. `problem` (when
// given) receives why none was usable. Never throws.
SIHLICON_API std::optional<ContainerRuntime> find_container_runtime(
    std::string_view search_path = {}, std::string* problem = nullptr);

// Runs containerImage with workloadConfig.command (the image's own when empty) through
// `<runtime> run --rm`, with the input folder at /input (read-only), the output folder at
// /output (no other host folder), the job's env (inside the container only), --cpus and
// --memory from its resources, no network, no new privileges. The runtime's client gets PATH,
// LANG, and the agent's HOME and XDG_RUNTIME_DIR (a rootless runtime needs them), never the
// job's env. An image name that is not a plain image reference (one starting with '-' would
// be read as an option) is refused. A timeout or stop kills the container by name and the
// client's process group.
class SIHLICON_API ContainerExecutor final : public Executor {
  public:
    explicit ContainerExecutor(ContainerRuntime runtime);
    std::string name() const override { return runtime_.name; }
    ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) override;

  private:
    ContainerRuntime runtime_;
};

// ---- the agent ---------------------------------------------------------------------------

struct AgentOptions {
    // The worker's id (empty: "agent-" and the host name) and its hub, which must exist.
    std::string worker_id;
    std::string hub_id;
    // Job slots; bounded by the detected cores (at least 1).
    std::int64_t slots = 1;
    // The hardware reported at registration; none: detect_hardware(hardware_sources).
    std::optional<HardwareInfo> hardware;
    HardwareSources hardware_sources;
    std::map<std::string, std::string> labels;  // added to the worker's labels
    // The worker's key. Each completion carries the proof of execution, hex of
    // sha256(job_id ‖ result_hash ‖ worker_id) over the attempt's real outputs (result_hash is
    // the first output's CID, else stdout's); with a key the agent also signs it (EIP-191) and
    // registers the worker with the key's "address" label, so a hub with
    // requireWorkerSignatures takes its completions. None: unsigned completions.
    std::optional<crypto::PrivateKey> worker_key;
    // Where attempts get their private folders (created; each attempt's folder is removed
    // when it ends). Refused (invalid_argument) when inside the hub folder, where hub.db and
    // operator.key live. Empty: a new folder sihlicon-agent-XXXXXX (mode 0700) under
    // $XDG_RUNTIME_DIR, else the temp folder, removed when the agent is destroyed.
    std::filesystem::path work_root;
    // Pacing, in real time. Zero heartbeat / renewal intervals mean: the hub setting
    // heartbeatIntervalMs when the agent starts; a third of the lease duration the hub
    // announces then (LinkTerms).
    std::chrono::milliseconds heartbeat_interval{0};
    std::chrono::milliseconds renew_interval{0};
    std::chrono::milliseconds poll_interval{1000};  // how often idle slots ask for work
    // Energy: RAPL under `rapl.root` when readable, else the hub's power model.
    RaplOptions rapl;
    // Native jobs (containerImage "native"). false: none runs here: the worker registers
    // without the "native" executor (WorkerSpec::executors), so the scheduler hands it none;
    // one that reaches it anyway fails, not retried, with the reason (`agent run --no-native`).
    bool native_jobs = true;
    // Not empty: a native job's command[0] must be one of these programs (`agent run
    // --allow-command CMD`). An entry is a name, looked up on kNativeJobPath, or an absolute
    // path; a job's command[0] is resolved the same way and must give the same path. Any
    // other job fails, not retried, naming its command. An entry that is no executable
    // program is refused (invalid_argument). The programs allowed run with arguments chosen by
    // the job: allow only programs that run no code or configuration taken from their inputs.
    std::vector<std::string> allowed_commands;
    // The bubblewrap of the built-in ProcessExecutor (SandboxOptions::program); empty: `bwrap`
    // on kNativeJobPath. When it cannot make the sandbox, native jobs fail, not retried,
    // with the reason.
    std::filesystem::path bwrap_program;
    // DANGER: true runs native jobs WITHOUT A SANDBOX, as the agent's user: a job can then read
    // operator.key (and sign as the hub), rewrite hub.db, read $HOME and use the network.
    // Only for a machine whose every job submitter is trusted as much as its operator
    // (`agent run --unsandboxed-native`). The agent says so in an event when it starts.
    bool unsandboxed_native = false;
    // Executors; null: the built-in ones (a ProcessExecutor, sandboxed unless
    // unsandboxed_native; a ContainerExecutor when find_container_runtime(
    // container_search_path) finds a runtime). A host's own process_executor is responsible
    // for its own confinement; native_jobs, allowed_commands and the env rule still apply.
    std::shared_ptr<Executor> process_executor;
    std::shared_ptr<Executor> container_executor;
    std::string container_search_path;  // empty: $PATH
    // Told every time a job ends or the agent's state changes (from the agent's threads).
    std::function<void(std::string_view line)> on_event;
};

enum class AgentState { idle, running, draining, stopped };
SIHLICON_API std::string_view to_string(AgentState state) noexcept;

struct RunningJob {
    std::string job_id;
    std::int64_t attempt = 0;
    std::string executor;
    std::chrono::milliseconds elapsed{0};
};

struct SIHLICON_API AgentStatus {
    AgentState state = AgentState::idle;
    std::string worker_id;
    std::int64_t slots = 0;
    std::vector<RunningJob> running;
    std::int64_t completed = 0;
    std::int64_t failed = 0;  // attempts reported as failed (retried or final)
    std::int64_t handed_back = 0;
    Energy energy;                              // reported for completed jobs
    std::optional<EnergySource> energy_source;  // of the meter in use
    std::int64_t utilisation_ppm = 0;
    std::int64_t power_draw_w = 0;

    // {"state", "workerId", "slots", "running": [{"jobId", "attempt", "executor",
    // "elapsedMs"}], "completed", "failed", "handedBack", "energyMwh", "energySource" (or
    // null), "utilisationPpm", "powerDrawW"}.
    std::string to_json() const;
};

class SIHLICON_API WorkerAgent {
  public:
    // Prepares an agent for `hub` (which must outlive it): the agent of a local hub, through
    // make_local_hub_link(hub). Detects the hardware and the executors, checks the sandbox and
    // creates the work folder; registers nothing yet. Throws Error::invalid for bad options
    // (slots < 1, negative intervals, a work_root inside the hub folder, an allowed command
    // that is no program).
    WorkerAgent(Hub& hub, AgentOptions options);
    // The same agent over any HubLink (include/sihlicon/hub_link.hpp): a remote hub through
    // make_remote_hub_link (`agent run --server`), whose calls may fail for a while (the agent
    // keeps renewing its leases and retrying; a link's Error(io) is a failed call like any
    // other). Nothing is asked of the hub before start(). Throws Error::invalid("link") for a
    // null link, and as above.
    WorkerAgent(std::shared_ptr<HubLink> link, AgentOptions options);
    // Stops the agent (as stop() with no grace) if it still runs.
    ~WorkerAgent();
    WorkerAgent(const WorkerAgent&) = delete;
    WorkerAgent& operator=(const WorkerAgent&) = delete;

    // Registers (or re-registers) the worker through its link (LinkTerms: the hub's power
    // model, heartbeat interval and lease duration, which pace the agent until its next start)
    // with its hardware, labels and the executors it
    // really has (WorkerSpec::executors: "native" unless native_jobs is false, "container" when
    // a container executor was given or find_container_runtime found one), online, and starts
    // heartbeats, lease renewal and claiming. Throws what register_worker throws (not_found
    // for an unknown hub) and conflict if already started.
    WorkerRecord start();

    // Stops claiming (the worker is marked draining) and waits for the running jobs to end
    // until `grace` has passed; then stops those still running and hands them back (failed,
    // retryable: the scheduler retries them elsewhere). Returns how many were handed back.
    std::int64_t drain(std::chrono::milliseconds grace);

    // Drains with `grace`, stops the agent's threads and marks the worker offline.
    // Idempotent. Never throws.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{0}) noexcept;

    // Blocks until no job runs and no slot is claiming (for tests and one-shot hosts), or
    // until `timeout` passes (real time). Returns whether it became idle.
    bool wait_idle(std::chrono::milliseconds timeout);

    AgentStatus status() const;
    const std::string& worker_id() const;
    std::int64_t slots() const;
    const HardwareInfo& hardware() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon
