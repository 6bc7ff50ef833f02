// SPDX-License-Identifier: Apache-2.0
//
// The worker agent from C, with the library's executors or a C executor callback.
#include "capi_internal.hpp"

#include <sihlicon/crypto.hpp>

#include <cstddef>
#include <cstring>
#include <stop_token>

namespace sihlicon::capi {

namespace {

// Runs attempts through the caller's sih_executor_fn.
class CallbackExecutor final : public Executor {
  public:
    CallbackExecutor(sih_executor_fn callback, void* payload) : run_(callback), payload_(payload) {}

    std::string name() const override { return "c"; }

    ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) override {
        ExecutionResult result;
        try {
            const auto job_json = request.job.to_json();
            const auto work_dir = request.work_dir.string();
            const auto input_dir = request.input_dir.string();
            const auto output_dir = request.output_dir.string();
            const auto stdout_file = request.stdout_file.string();
            const auto stderr_file = request.stderr_file.string();
            std::vector<std::string> inputs;
            std::vector<const char*> input_pointers;
            for (const auto& input : request.inputs) {
                inputs.push_back(input.string());
            }
            for (const auto& input : inputs) {
                input_pointers.push_back(input.c_str());
            }
            const sih_execution_request given{job_json.c_str(),
                                              request.job.id.c_str(),
                                              request.attempt,
                                              work_dir.c_str(),
                                              input_dir.c_str(),
                                              output_dir.c_str(),
                                              input_pointers.data(),
                                              input_pointers.size(),
                                              stdout_file.c_str(),
                                              stderr_file.c_str(),
                                              &stop};
            sih_execution_result outcome{};
            outcome.outcome = SIH_EXECUTION_FAILED;
            run_(payload_, &given, &outcome);
            outcome.message[sizeof outcome.message - 1] = '\0';
            result.message = outcome.message;
            if (outcome.has_exit_code != 0) {
                result.exit_code = outcome.exit_code;
            }
            switch (raw(outcome.outcome)) {
                case SIH_EXECUTION_SUCCEEDED:
                    result.outcome = ExecutionOutcome::succeeded;
                    break;
                case SIH_EXECUTION_FAILED:
                    result.outcome = ExecutionOutcome::failed;
                    break;
                case SIH_EXECUTION_TIMED_OUT:
                    result.outcome = ExecutionOutcome::timed_out;
                    break;
                case SIH_EXECUTION_CANCELLED:
                    result.outcome = ExecutionOutcome::cancelled;
                    break;
                case SIH_EXECUTION_REFUSED:
                    result.outcome = ExecutionOutcome::refused;
                    break;
                default:
                    result.outcome = ExecutionOutcome::refused;
                    result.message = "the C executor returned the unknown outcome " +
                                     std::to_string(raw(outcome.outcome));
            }
        } catch (const std::exception& error) {
            result.outcome = ExecutionOutcome::refused;
            result.message = error.what();
        }
        return result;
    }

  private:
    sih_executor_fn run_;
    void* payload_;
};

HardwareInfo hardware_from(const char* text) {
    const auto value = json::parse(text, "options.hardware_json");
    json::ObjectReader reader(value, "hardware");
    HardwareInfo hardware;
    hardware.cpu_cores = reader.optional_int64("cpuCores", 1, 1'000'000).value_or(1);
    hardware.memory_bytes = reader.optional_int64("memoryBytes", 0, INT64_MAX).value_or(0);
    if (const auto* gpus = reader.optional_value("gpus")) {
        if (!gpus->is_array()) {
            throw Error::invalid("hardware.gpus", json::serialize(*gpus), "must be an array");
        }
        for (std::size_t i = 0; i < gpus->get_array().size(); ++i) {
            json::ObjectReader gpu(gpus->get_array()[i],
                                   "hardware.gpus[" + std::to_string(i) + "]");
            GpuSpec spec;
            spec.model = gpu.required_string("model", 128);
            spec.vram_bytes = gpu.optional_int64("vramBytes", 0, INT64_MAX).value_or(0);
            gpu.finish();
            hardware.gpus.push_back(std::move(spec));
        }
    }
    reader.finish();
    return hardware;
}

// The agent, unless sih_hub_close already stopped it.
WorkerAgent& agent_of(sih_agent* agent) {
    auto& given = required(agent, "agent");
    if (!given.agent) {
        throw Error(ErrorCode::conflict, "the agent's hub was closed; destroy the agent");
    }
    return *given.agent;
}

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;
using capi::agent_of;
using capi::give;
using capi::guard;

extern "C" {

int sih_execution_stop_requested(const sih_execution_request* request) {
    if (request == nullptr || request->internal == nullptr) {
        return 0;
    }
    return static_cast<const std::stop_token*>(request->internal)->stop_requested() ? 1 : 0;
}

sih_status sih_agent_options_init(sih_agent_options* options, uint32_t version) {
    return guard([&] {
        auto& given = capi::required(options, "options");
        capi::check_version(version, SIH_AGENT_OPTIONS_VERSION, "version");
        // A version 1 struct ends before native_jobs, a version 2 one before worker_key_hex:
        // write only what it has.
        const sih_agent_options defaults = SIH_AGENT_OPTIONS_INIT;
        const auto size = version >= 3   ? sizeof defaults
                          : version == 2 ? offsetof(sih_agent_options, worker_key_hex)
                                         : offsetof(sih_agent_options, native_jobs);
        std::memcpy(&given, &defaults, size);
        given.version = version;
    });
}

sih_status sih_agent_new(sih_hub* hub, const sih_agent_options* options, sih_agent** out_agent) {
    return guard([&] {
        auto& owner = capi::required(hub, "hub");
        const auto& given = capi::required(options, "options");
        capi::required(out_agent, "out_agent");
        capi::check_version(given.version, SIH_AGENT_OPTIONS_VERSION, "options.version");
        AgentOptions agent_options;
        agent_options.worker_id = given.worker_id != nullptr ? given.worker_id : "";
        agent_options.hub_id = capi::text(given.hub_id, "options.hub_id");
        agent_options.slots = given.slots;
        if (given.hardware_json != nullptr) {
            agent_options.hardware = capi::hardware_from(given.hardware_json);
        }
        if (given.labels_json != nullptr) {
            const boost::json::value wrapped =
                boost::json::object{{"labels", json::parse(given.labels_json, "labels_json")}};
            json::ObjectReader reader(wrapped, "options");
            agent_options.labels = *reader.optional_string_map("labels", 64, 256);
            reader.finish();
        }
        if (given.work_root != nullptr) {
            agent_options.work_root = given.work_root;
        }
        agent_options.heartbeat_interval = std::chrono::milliseconds(given.heartbeat_interval_ms);
        agent_options.renew_interval = std::chrono::milliseconds(given.renew_interval_ms);
        agent_options.poll_interval = std::chrono::milliseconds(given.poll_interval_ms);
        if (given.executor != nullptr) {
            auto executor =
                std::make_shared<capi::CallbackExecutor>(given.executor, given.executor_payload);
            agent_options.process_executor = executor;
            agent_options.container_executor = executor;
        }
        if (given.version >= 2) {
            agent_options.native_jobs = given.native_jobs != 0;
            agent_options.allowed_commands = capi::text_list(
                given.allowed_commands, given.allowed_command_count, "options.allowed_commands");
            if (given.bwrap_program != nullptr) {
                agent_options.bwrap_program = given.bwrap_program;
            }
            agent_options.unsandboxed_native = given.unsandboxed_native != 0;
        }
        if (given.version >= 3 && given.worker_key_hex != nullptr) {
            agent_options.worker_key =
                crypto::PrivateKey::parse(given.worker_key_hex, "worker_key");
        }
        if (given.on_event != nullptr) {
            agent_options.on_event = [callback = given.on_event,
                                      payload = given.event_payload](std::string_view line) {
                const std::string text(line);
                callback(payload, text.c_str());
            };
        }
        auto agent = std::make_unique<sih_agent>();
        agent->agents = owner.agents;
        agent->agent = std::make_unique<WorkerAgent>(owner.hub, std::move(agent_options));
        std::lock_guard lock(owner.agents->mutex);
        owner.agents->live.insert(agent.get());
        *out_agent = agent.release();
    });
}

sih_status sih_agent_start(sih_agent* agent, char** out_json) {
    return guard([&] { give(out_json, agent_of(agent).start().to_json()); });
}

sih_status sih_agent_drain(sih_agent* agent, int64_t grace_ms, int64_t* out_handed_back) {
    return guard(
        [&] { give(out_handed_back, agent_of(agent).drain(std::chrono::milliseconds(grace_ms))); });
}

sih_status sih_agent_stop(sih_agent* agent, int64_t grace_ms) {
    return guard([&] { agent_of(agent).stop(std::chrono::milliseconds(grace_ms)); });
}

sih_status sih_agent_wait_idle(sih_agent* agent, int64_t timeout_ms, int* out_idle) {
    return guard([&] {
        give(out_idle, agent_of(agent).wait_idle(std::chrono::milliseconds(timeout_ms)) ? 1 : 0);
    });
}

sih_status sih_agent_status(sih_agent* agent, char** out_json) {
    return guard([&] { give(out_json, agent_of(agent).status().to_json()); });
}

sih_status sih_agent_worker_id(sih_agent* agent, char** out_worker_id) {
    return guard([&] { give(out_worker_id, agent_of(agent).worker_id()); });
}

sih_status sih_agent_hardware(sih_agent* agent, char** out_json) {
    return guard([&] { give(out_json, agent_of(agent).hardware().to_json()); });
}

void sih_agent_destroy(sih_agent** agent) {
    if (agent == nullptr || *agent == nullptr) {
        return;
    }
    {
        std::lock_guard lock((*agent)->agents->mutex);
        (*agent)->agents->live.erase(*agent);
    }
    (*agent)->agent.reset();
    delete *agent;
    *agent = nullptr;
}

sih_status sih_detect_hardware(char** out_json) {
    return guard([&] { give(out_json, detect_hardware().to_json()); });
}

}  // extern "C"
