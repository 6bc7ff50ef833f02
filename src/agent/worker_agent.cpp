// SPDX-License-Identifier: Apache-2.0
#include "agent/sandbox.hpp"
#include "agent/subprocess.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/hub_link.hpp>
#include <sihlicon/settlement.hpp>
#include <sihlicon/worker_agent.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <list>
#include <mutex>
#include <thread>

namespace sihlicon {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::int64_t kMillicoresPerCore = 1000;
constexpr std::size_t kStderrTail = 600;
constexpr std::size_t kMaxErrorText = 4000;
constexpr std::int64_t kPpm = 1'000'000;

std::optional<std::string> read_text(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return std::nullopt;
    }
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    std::string text(name);
    for (auto& c : text) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.')) {
            c = '-';
        }
    }
    return text;
}

// A file name a manifest may lend to an input: a plain name, no folders.
bool plain_file_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\0') == std::string::npos && name.size() <= 255;
}

std::string tail_of(const std::filesystem::path& path) {
    auto text = read_text(path).value_or("");
    if (text.size() > kStderrTail) {
        text = "..." + text.substr(text.size() - kStderrTail);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

milliseconds since(SteadyClock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

}  // namespace

std::string_view to_string(AgentState state) noexcept {
    switch (state) {
        case AgentState::idle:
            return "idle";
        case AgentState::running:
            return "running";
        case AgentState::draining:
            return "draining";
        case AgentState::stopped:
            return "stopped";
    }
    return "idle";
}

// One running attempt.
struct Slot {
    ClaimedJob claimed;
    std::string executor_name;
    SteadyClock::time_point started = SteadyClock::now();
    SteadyClock::time_point renewed = SteadyClock::now();
    std::stop_source stop;
    std::thread thread;
    bool finished = false;   // the thread has reported; join it
    bool lost = false;       // the lease was lost: report nothing
    bool hand_back = false;  // stopped by a drain: give it back
    bool shared = false;     // another job ran at the same time (RAPL cannot tell them apart)
};

struct WorkerAgent::Impl {
    std::shared_ptr<HubLink> link;
    AgentOptions options;
    HardwareInfo hardware;
    std::string worker_id;
    std::int64_t slots = 1;
    std::filesystem::path work_root;
    bool owns_work_root = false;  // made by the agent: removed with it
    agent::JobPolicy policy;
    std::optional<std::string> native_problem;  // why native jobs cannot run here
    std::unique_ptr<PowerMeter> rapl;           // null: the hub's power model
    PowerModel model;
    std::shared_ptr<Executor> process_executor;
    std::shared_ptr<Executor> container_executor;
    std::string container_problem;
    milliseconds heartbeat_interval{0};
    milliseconds renew_interval{0};

    mutable std::mutex mutex;
    std::condition_variable changed;
    AgentState state = AgentState::idle;
    std::list<std::unique_ptr<Slot>> running;
    bool wake = false;
    std::int64_t claim_round = 0;
    std::int64_t last_empty_round = -1;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t handed_back = 0;
    Energy energy;
    std::int64_t utilisation_ppm = 0;
    std::int64_t power_draw_w = 0;
    std::jthread control;

    // Heartbeat measurements between beats.
    std::optional<CpuTimes> last_cpu;
    std::optional<MeterSample> last_sample;

    Impl(std::shared_ptr<HubLink> link_, AgentOptions options_)
        : link(std::move(link_)), options(std::move(options_)) {}
    ~Impl() {
        if (owns_work_root) {
            std::error_code ignored;
            std::filesystem::remove_all(work_root, ignored);
        }
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void event(const std::string& line) const {
        if (options.on_event) {
            try {
                options.on_event(line);
            } catch (...) {
                // A listener's failure must not stop the agent.
            }
        }
    }

    // ---- the control thread ----

    void control_loop(std::stop_token stop) {
        auto next_heartbeat = SteadyClock::now() + heartbeat_interval;
        while (!stop.stop_requested()) {
            if (SteadyClock::now() >= next_heartbeat) {
                send_heartbeat();
                next_heartbeat = SteadyClock::now() + heartbeat_interval;
            }
            renew_leases();
            reap();
            claim_more();
            std::unique_lock lock(mutex);
            changed.wait_for(lock, options.poll_interval,
                             [&] { return wake || stop.stop_requested(); });
            wake = false;
        }
    }

    void send_heartbeat() {
        Heartbeat beat;
        if (auto stat = read_text(options.hardware_sources.proc_root / "stat")) {
            try {
                const auto now = parse_proc_stat(*stat);
                if (last_cpu && now.total > last_cpu->total) {
                    beat.utilisation_ppm = std::clamp<std::int64_t>(
                        (now.busy - last_cpu->busy) * kPpm / (now.total - last_cpu->total), 0,
                        kPpm);
                }
                last_cpu = now;
            } catch (const Error&) {
                last_cpu.reset();
            }
        }
        beat.power_draw_w = current_power_w();
        if (!hardware.gpus.empty()) {
            beat.gpus = probe_gpu_stats(options.hardware_sources);
        }
        try {
            try {
                link->heartbeat(worker_id, beat);
            } catch (const Error& error) {
                // GPU stats that do not fit the registered GPUs must not cost the heartbeat.
                if (error.code() != ErrorCode::invalid_argument || beat.gpus.empty()) {
                    throw;
                }
                event(fmt::format("GPU stats left out of a heartbeat: {}", error.what()));
                beat.gpus.clear();
                link->heartbeat(worker_id, beat);
            }
        } catch (const Error& error) {
            event(fmt::format("heartbeat failed: {}", error.what()));
        }
        std::lock_guard lock(mutex);
        utilisation_ppm = beat.utilisation_ppm;
        power_draw_w = beat.power_draw_w;
    }

    // RAPL: the machine's average power since the last beat; else the model's power of the
    // jobs running now.
    std::int64_t current_power_w() {
        if (rapl) {
            try {
                auto sample = rapl->sample();
                std::int64_t watts = 0;
                if (last_sample && sample.at > last_sample->at) {
                    const auto drawn = rapl->energy_between(*last_sample, sample, {});
                    watts = drawn.energy.mwh() * 3600 / (sample.at.ms() - last_sample->at.ms());
                }
                last_sample = std::move(sample);
                return std::max<std::int64_t>(0, watts);
            } catch (const Error&) {
                last_sample.reset();
            }
        }
        PowerWorkload workload;
        std::lock_guard lock(mutex);
        for (const auto& slot : running) {
            workload.cpu_millicores += slot->claimed.job.spec.workload.resources.cpu_millicores;
            workload.gpus += slot->claimed.job.spec.workload.resources.gpu ? 1 : 0;
        }
        return model_watts(model, workload);
    }

    void renew_leases() {
        std::vector<std::pair<Slot*, Lease>> due;
        {
            std::lock_guard lock(mutex);
            for (auto& slot : running) {
                if (!slot->finished && !slot->lost && since(slot->renewed) >= renew_interval) {
                    due.emplace_back(slot.get(), slot->claimed.lease);
                }
            }
        }
        for (auto& [slot, lease] : due) {
            try {
                link->renew(lease.job_id, lease.token);
                std::lock_guard lock(mutex);
                slot->renewed = SteadyClock::now();
            } catch (const Error& error) {
                if (error.code() == ErrorCode::conflict) {
                    event(fmt::format("job {} attempt {}: lease lost ({}); stopping it",
                                      lease.job_id, lease.attempt, error.what()));
                    std::lock_guard lock(mutex);
                    slot->lost = true;
                    slot->stop.request_stop();
                }
            }
        }
    }

    void reap() {
        std::list<std::unique_ptr<Slot>> done;
        {
            std::lock_guard lock(mutex);
            for (auto it = running.begin(); it != running.end();) {
                if ((*it)->finished) {
                    done.splice(done.end(), running, it++);
                } else {
                    ++it;
                }
            }
        }
        for (auto& slot : done) {
            slot->thread.join();
        }
        if (!done.empty()) {
            changed.notify_all();
        }
    }

    void claim_more() {
        std::int64_t free = 0;
        {
            std::lock_guard lock(mutex);
            if (state != AgentState::running) {
                return;
            }
            free = slots - static_cast<std::int64_t>(running.size());
        }
        std::vector<ClaimedJob> claimed;
        if (free > 0) {
            try {
                claimed = link->claim(worker_id, free);
            } catch (const Error& error) {
                event(fmt::format("claim failed: {}", error.what()));
                if (error.code() == ErrorCode::conflict) {
                    send_heartbeat();  // an offline worker comes back with a heartbeat
                }
                return;
            }
        }
        std::lock_guard lock(mutex);
        ++claim_round;
        if (claimed.empty() && running.empty()) {
            last_empty_round = claim_round;
        }
        for (auto& job : claimed) {
            auto slot = std::make_unique<Slot>();
            slot->claimed = std::move(job);
            if (!running.empty()) {
                slot->shared = true;
                for (auto& other : running) {
                    other->shared = true;
                }
            }
            Slot* raw = slot.get();
            event(fmt::format("job {} attempt {} claimed", raw->claimed.lease.job_id,
                              raw->claimed.lease.attempt));
            running.push_back(std::move(slot));
            raw->thread = std::thread([this, raw] { run_slot(*raw); });
        }
        changed.notify_all();  // wait_idle() watches the rounds
    }

    // ---- one attempt ----

    void run_slot(Slot& slot) {
        try {
            run_attempt(slot);
        } catch (const std::exception& error) {
            // The attempt ends here rather than holding its lease until it expires.
            const auto& lease = slot.claimed.lease;
            event(fmt::format("job {}: agent error: {}", lease.job_id, error.what()));
            try {
                link->fail(lease.job_id, lease.token, fmt::format("agent error: {}", error.what()),
                           true);
            } catch (const std::exception&) {
                // The lease was lost meanwhile: the scheduler already moved the job on.
            }
        }
        {
            std::lock_guard lock(mutex);
            slot.finished = true;
            wake = true;
        }
        changed.notify_all();
    }

    std::shared_ptr<Executor> executor_for(const JobRecord& job, std::string& problem) const {
        if (auto refusal = agent::refusal_of(job, policy, worker_id)) {
            problem = std::move(*refusal);
            return nullptr;
        }
        if (job.spec.workload.container_image == kNativeImage) {
            return process_executor;
        }
        if (!container_executor) {
            problem = fmt::format(
                "workloadConfig.containerImage '{}' needs a container runtime, and worker {} has "
                "none: {}",
                job.spec.workload.container_image, worker_id, container_problem);
        }
        return container_executor;
    }

    // Fetches the inputs into input/ through the link (a file named as its manifest names it
    // when that is a plain name not yet taken, else its CID). Returns the error of the first
    // that cannot be fetched, and whether the attempt may be retried (an input that does not
    // verify, or a hub out of reach: yes; content that is missing or unreadable: no).
    std::optional<std::pair<std::string, bool>> materialise_inputs(
        const ClaimedJob& claimed, const std::filesystem::path& folder,
        std::vector<std::filesystem::path>& paths) {
        for (const auto& cid : claimed.job.spec.input_refs) {
            const auto fetching = folder / (".fetch-" + cid);
            try {
                const auto lent = link->fetch_input(claimed, cid, fetching);
                std::string name = cid;
                if (lent && plain_file_name(*lent) && !std::filesystem::exists(folder / *lent)) {
                    name = *lent;
                }
                const auto path = folder / name;
                std::filesystem::rename(fetching, path);
                paths.push_back(path);
            } catch (const Error& error) {
                std::error_code ignored;
                std::filesystem::remove(fetching, ignored);
                const bool retryable = error.code() == ErrorCode::integrity ||
                                       error.code() == ErrorCode::io ||
                                       error.code() == ErrorCode::busy;
                return std::pair{fmt::format("input {} cannot be fetched from the content store: "
                                             "{}: {}",
                                             cid, to_string(error.code()), error.what()),
                                 retryable};
            } catch (const std::filesystem::filesystem_error& error) {
                return std::pair{fmt::format("input {}: {}", cid, error.what()), true};
            }
        }
        return std::nullopt;
    }

    Manifest store_file(const Slot& slot, const std::filesystem::path& path,
                        const std::string& name) {
        return link->store_output(slot.claimed, path, name);
    }

    void run_attempt(Slot& slot) {
        const auto lease = slot.claimed.lease;
        const auto& job = slot.claimed.job;
        const auto folder = work_root / fmt::format("{}-{}", job.id, lease.attempt);
        std::error_code ignored;
        std::filesystem::remove_all(folder, ignored);
        ExecutionRequest request;
        request.job = job;
        request.attempt = lease.attempt;
        request.work_dir = folder;
        request.input_dir = folder / "input";
        request.output_dir = folder / "output";
        request.stdout_file = folder / "stdout.txt";
        request.stderr_file = folder / "stderr.txt";
        std::filesystem::create_directories(request.input_dir);
        std::filesystem::create_directories(request.output_dir);
        // Only the agent's user (and the job, in its sandbox) may look into an attempt.
        std::filesystem::permissions(folder, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace);
        // An executor that writes no logs (one written in Python, say) leaves them empty.
        std::ofstream(request.stdout_file).flush();
        std::ofstream(request.stderr_file).flush();
        struct RemoveFolder {
            std::filesystem::path path;
            ~RemoveFolder() {
                std::error_code error;
                std::filesystem::remove_all(path, error);
            }
        } cleanup{folder};

        std::string problem;
        auto executor = executor_for(job, problem);
        if (!executor) {
            report_failure(slot, problem, false);
            return;
        }
        {
            std::lock_guard lock(mutex);
            slot.executor_name = executor->name();
        }
        if (auto missing = materialise_inputs(slot.claimed, request.input_dir, request.inputs)) {
            report_failure(slot, missing->first, missing->second);
            return;
        }

        std::optional<MeterSample> begin;
        if (rapl) {
            try {
                begin = rapl->sample();
            } catch (const Error&) {
                begin.reset();
            }
        }
        const auto result = executor->run(request, slot.stop.get_token());
        std::optional<MeterSample> end;
        if (begin) {
            try {
                end = rapl->sample();
            } catch (const Error&) {
                end.reset();
            }
        }

        bool lost = false;
        bool hand_back = false;
        bool shared = false;
        {
            std::lock_guard lock(mutex);
            lost = slot.lost;
            hand_back = slot.hand_back;
            shared = slot.shared;
        }
        if (lost) {
            event(fmt::format("job {} attempt {}: dropped (its lease is no longer ours)", job.id,
                              lease.attempt));
            return;
        }
        if (result.outcome == ExecutionOutcome::cancelled && hand_back) {
            hand_back_attempt(slot);
            return;
        }

        boost::json::object metrics{
            {"executor", executor->name()},
            {"outcome", to_string(result.outcome)},
            {"wallMs", result.wall.count()},
            {"workerId", worker_id},
        };
        if (result.exit_code) {
            metrics["exitCode"] = *result.exit_code;
        }
        if (result.term_signal) {
            metrics["signal"] = *result.term_signal;
        }
        const auto out = store_file(slot, request.stdout_file, "stdout.txt");
        const auto err = store_file(slot, request.stderr_file, "stderr.txt");
        metrics["stdout"] = out.content_id;
        metrics["stderr"] = err.content_id;

        if (result.outcome != ExecutionOutcome::succeeded) {
            auto message = result.message;
            if (const auto tail = tail_of(request.stderr_file); !tail.empty()) {
                message += "; stderr: " + tail;
            }
            message += fmt::format(" (stderr {})", err.content_id);
            report_failure(slot, message, result.outcome != ExecutionOutcome::refused);
            return;
        }

        JobCompletion done;
        boost::json::object outputs;
        for (const auto& [relative, path] : output_files(request.output_dir)) {
            const auto manifest = store_file(slot, path, path.filename().string());
            done.output_refs.push_back(manifest.content_id);
            outputs[relative] = manifest.content_id;
        }
        metrics["outputs"] = std::move(outputs);
        if (begin && end && !shared) {
            const auto measured = rapl->energy_between(*begin, *end, {});
            done.energy = measured.energy;
            done.energy_source = measured.source;
        } else {
            const PowerWorkload workload{job.spec.workload.resources.cpu_millicores,
                                         job.spec.workload.resources.gpu ? 1 : 0};
            done.energy =
                Energy::from_power_and_duration(model_watts(model, workload), result.wall.count());
            done.energy_source = EnergySource::modelled;
        }
        metrics["energySource"] = to_string(done.energy_source);
        done.result_hash = done.output_refs.empty() ? out.content_id : done.output_refs.front();
        done.proof_of_execution = proof_of_execution(job.id, *done.result_hash, worker_id);
        if (options.worker_key) {
            done.worker_signature =
                options.worker_key->sign_message(std::string_view(*done.proof_of_execution))
                    .to_hex();
        }
        done.metrics_json = boost::json::serialize(metrics);
        try {
            const auto record = link->complete(lease.job_id, lease.token, done);
            {
                std::lock_guard lock(mutex);
                ++completed;
                energy += *done.energy;
            }
            event(fmt::format("job {} attempt {} completed in {} ms ({}): {} output(s), {} kWh {}",
                              job.id, lease.attempt, result.wall.count(), executor->name(),
                              record.output_refs.size(), done.energy->to_kwh_string(),
                              to_string(done.energy_source)));
        } catch (const Error& error) {
            if (error.code() == ErrorCode::conflict) {
                event(fmt::format("job {} attempt {}: completion refused: {}", job.id,
                                  lease.attempt, error.what()));
                return;
            }
            report_failure(slot, fmt::format("completion failed: {}", error.what()), true);
        }
    }

    // The regular files under `folder` (symbolic links are not followed), by relative path.
    static std::vector<std::pair<std::string, std::filesystem::path>> output_files(
        const std::filesystem::path& folder) {
        std::vector<std::pair<std::string, std::filesystem::path>> files;
        std::error_code error;
        for (std::filesystem::recursive_directory_iterator it(folder, error), end;
             !error && it != end; it.increment(error)) {
            if (it->symlink_status().type() == std::filesystem::file_type::regular) {
                files.emplace_back(std::filesystem::relative(it->path(), folder).string(),
                                   it->path());
            }
        }
        std::sort(files.begin(), files.end());
        return files;
    }

    void report_failure(Slot& slot, std::string message, bool retryable) {
        const auto& lease = slot.claimed.lease;
        if (message.size() > kMaxErrorText) {
            message.resize(kMaxErrorText);
        }
        try {
            const auto record = link->fail(lease.job_id, lease.token, message, retryable);
            {
                std::lock_guard lock(mutex);
                ++failed;
            }
            event(fmt::format("job {} attempt {} failed ({}): {}", lease.job_id, lease.attempt,
                              record.dead_letter                   ? "dead-lettered"
                              : record.status == JobStatus::failed ? "final"
                                                                   : "will retry",
                              message));
        } catch (const Error& error) {
            event(fmt::format("job {} attempt {}: failure not recorded: {}", lease.job_id,
                              lease.attempt, error.what()));
        }
    }

    void hand_back_attempt(Slot& slot) {
        const auto& lease = slot.claimed.lease;
        try {
            link->fail(lease.job_id, lease.token,
                       fmt::format("handed back by worker {}: draining", worker_id), true);
            std::lock_guard lock(mutex);
            ++handed_back;
        } catch (const Error& error) {
            event(fmt::format("job {}: hand-back not recorded: {}", lease.job_id, error.what()));
            return;
        }
        event(fmt::format("job {} attempt {} handed back", lease.job_id, lease.attempt));
    }

    void set_state(AgentState next) {
        {
            std::lock_guard lock(mutex);
            state = next;
        }
        event(fmt::format("agent {} {}", worker_id, to_string(next)));
    }
};

WorkerAgent::WorkerAgent(Hub& hub, AgentOptions options)
    : WorkerAgent(std::shared_ptr<HubLink>(make_local_hub_link(hub)), std::move(options)) {}

WorkerAgent::WorkerAgent(std::shared_ptr<HubLink> link, AgentOptions options) {
    if (!link) {
        throw Error::invalid("link", "null", "an agent needs a hub link");
    }
    impl_ = std::make_unique<Impl>(std::move(link), std::move(options));
    auto& impl = *impl_;
    const auto& opts = impl.options;
    if (opts.slots < 1) {
        throw Error::invalid("slots", std::to_string(opts.slots), "must be at least 1");
    }
    if (opts.heartbeat_interval.count() < 0 || opts.renew_interval.count() < 0 ||
        opts.poll_interval.count() <= 0) {
        throw Error::invalid("interval", std::to_string(opts.poll_interval.count()),
                             "intervals must not be negative, and polling must be above zero");
    }
    if (opts.hub_id.empty()) {
        throw Error::invalid("hubId", "", "is required");
    }
    impl.hardware = opts.hardware ? *opts.hardware : detect_hardware(opts.hardware_sources);
    impl.worker_id = opts.worker_id.empty() ? "agent-" + host_name() : opts.worker_id;
    impl.slots = std::min(opts.slots, std::max<std::int64_t>(1, impl.hardware.cpu_cores));
    impl.policy = agent::job_policy(opts);
    // Absolute: the job's command runs with its own folder as the working directory, so a
    // relative path (a work folder given as "work") would not resolve from inside it.
    impl.work_root = agent::prepare_work_root(
        opts.work_root, impl.link->hub_directory().value_or(std::filesystem::path{}),
        impl.owns_work_root);
    if (opts.process_executor) {
        impl.process_executor = opts.process_executor;
    } else {
        auto process = std::make_shared<ProcessExecutor>(
            ProcessLimits{}, SandboxOptions{!opts.unsandboxed_native, opts.bwrap_program});
        impl.native_problem = process->problem();
        impl.process_executor = std::move(process);
    }
    if (!opts.native_jobs) {
        impl.native_problem = "turned off by the operator";
    }
    if (opts.container_executor) {
        impl.container_executor = opts.container_executor;
    } else if (auto runtime =
                   find_container_runtime(opts.container_search_path, &impl.container_problem)) {
        impl.container_executor = std::make_shared<ContainerExecutor>(*runtime);
    }
    if (RaplPowerMeter::available(opts.rapl)) {
        try {
            impl.rapl = std::make_unique<RaplPowerMeter>(impl.link->clock(), opts.rapl);
        } catch (const Error&) {
            impl.rapl.reset();
        }
    }
}

WorkerAgent::~WorkerAgent() {
    stop();
}

WorkerRecord WorkerAgent::start() {
    auto& impl = *impl_;
    {
        std::lock_guard lock(impl.mutex);
        if (impl.state != AgentState::idle) {
            throw Error(ErrorCode::conflict,
                        fmt::format("agent {} is {}", impl.worker_id, to_string(impl.state)),
                        "state");
        }
    }
    WorkerSpec spec;
    spec.id = impl.worker_id;
    spec.hub_id = impl.options.hub_id;
    spec.cpu_millicores = std::max<std::int64_t>(1, impl.hardware.cpu_cores) * kMillicoresPerCore;
    spec.memory_bytes = impl.hardware.memory_bytes;
    spec.gpus = impl.hardware.gpus;
    spec.labels = impl.options.labels;
    spec.labels["agent"] = "sihlicon";
    if (impl.options.worker_key) {
        spec.labels["address"] = impl.options.worker_key->address().to_string();
    }
    std::string executors = impl.native_problem ? "" : "process";
    if (impl.container_executor) {
        executors += (executors.empty() ? "" : ",") + impl.container_executor->name();
    }
    spec.labels["executors"] = executors.empty() ? "none" : executors;
    // What the scheduler places by: a container job never comes to an agent without a runtime.
    spec.executors.clear();
    if (impl.options.native_jobs) {
        spec.executors.emplace_back("native");
    }
    if (impl.container_executor) {
        spec.executors.emplace_back("container");
    }
    const auto terms = impl.link->register_worker(spec);
    impl.model = terms.power_model;
    // The hub's terms when the agent starts (a later change applies at its next start).
    impl.heartbeat_interval = impl.options.heartbeat_interval.count() > 0
                                  ? impl.options.heartbeat_interval
                                  : terms.heartbeat_interval;
    impl.renew_interval = impl.options.renew_interval.count() > 0
                              ? impl.options.renew_interval
                              : std::max(milliseconds{1}, terms.lease_duration / 3);
    std::filesystem::create_directories(impl.work_root);
    if (impl.native_problem) {
        impl.event(fmt::format("agent {}: native jobs will be refused: {}", impl.worker_id,
                               *impl.native_problem));
    } else if (impl.options.unsandboxed_native && !impl.options.process_executor) {
        impl.event(fmt::format(
            "WARNING: agent {} runs native jobs UNSANDBOXED: a job can read operator.key and "
            "hub.db, $HOME and the network as this user",
            impl.worker_id));
    }
    impl.set_state(AgentState::running);
    impl.send_heartbeat();
    impl.control = std::jthread([&impl](std::stop_token stop) { impl.control_loop(stop); });
    return terms.worker;
}

std::int64_t WorkerAgent::drain(std::chrono::milliseconds grace) {
    auto& impl = *impl_;
    {
        std::lock_guard lock(impl.mutex);
        if (impl.state != AgentState::running) {
            return 0;
        }
    }
    impl.set_state(AgentState::draining);
    try {
        impl.link->set_worker_status(impl.worker_id, WorkerStatus::draining);
    } catch (const Error& error) {
        impl.event(fmt::format("cannot mark {} draining: {}", impl.worker_id, error.what()));
    }
    std::unique_lock lock(impl.mutex);
    impl.changed.wait_for(lock, grace, [&] { return impl.running.empty(); });
    std::int64_t stopping = 0;
    for (auto& slot : impl.running) {
        if (!slot->finished) {
            slot->hand_back = true;
            slot->stop.request_stop();
            ++stopping;
        }
    }
    const auto before = impl.handed_back;
    impl.changed.wait(lock, [&] { return impl.running.empty(); });
    return stopping > 0 ? impl.handed_back - before : 0;
}

void WorkerAgent::stop(std::chrono::milliseconds grace) noexcept {
    auto& impl = *impl_;
    try {
        {
            std::lock_guard lock(impl.mutex);
            if (impl.state == AgentState::stopped || impl.state == AgentState::idle) {
                impl.state = AgentState::stopped;
                return;
            }
        }
        drain(grace);
        impl.control.request_stop();
        impl.changed.notify_all();
        if (impl.control.joinable()) {
            impl.control.join();
        }
        impl.reap();
        impl.link->set_worker_status(impl.worker_id, WorkerStatus::offline);
    } catch (const std::exception& error) {
        impl.event(fmt::format("stopping {}: {}", impl.worker_id, error.what()));
    }
    impl.set_state(AgentState::stopped);
}

bool WorkerAgent::wait_idle(std::chrono::milliseconds timeout) {
    auto& impl = *impl_;
    std::unique_lock lock(impl.mutex);
    const auto round = impl.claim_round;
    impl.wake = true;
    impl.changed.notify_all();
    return impl.changed.wait_for(lock, timeout, [&] {
        return impl.running.empty() &&
               (impl.last_empty_round > round || impl.state != AgentState::running);
    });
}

AgentStatus WorkerAgent::status() const {
    const auto& impl = *impl_;
    std::lock_guard lock(impl.mutex);
    AgentStatus status;
    status.state = impl.state;
    status.worker_id = impl.worker_id;
    status.slots = impl.slots;
    for (const auto& slot : impl.running) {
        status.running.push_back({slot->claimed.lease.job_id, slot->claimed.lease.attempt,
                                  slot->executor_name, since(slot->started)});
    }
    status.completed = impl.completed;
    status.failed = impl.failed;
    status.handed_back = impl.handed_back;
    status.energy = impl.energy;
    status.energy_source = impl.rapl ? EnergySource::measured : EnergySource::modelled;
    status.utilisation_ppm = impl.utilisation_ppm;
    status.power_draw_w = impl.power_draw_w;
    return status;
}

const std::string& WorkerAgent::worker_id() const {
    return impl_->worker_id;
}

std::int64_t WorkerAgent::slots() const {
    return impl_->slots;
}

const HardwareInfo& WorkerAgent::hardware() const {
    return impl_->hardware;
}

}  // namespace sihlicon
