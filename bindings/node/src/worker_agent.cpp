// SPDX-License-Identifier: Apache-2.0
//
// WorkerAgent: the C++ WorkerAgent (include/sihlicon/worker_agent.hpp) of an open hub, made by
// hub.workerAgent(options). It runs the library's executors (native processes, containers) or
// an executor written in JavaScript: `executor(request, stopped)` returns (or resolves to)
// {outcome, exitCode?, message?}. The agent's threads reach JavaScript through thread-safe
// functions, so every blocking call (start, drain, stop, waitIdle) returns a Promise and the
// main thread stays free to run the executor.
//
// Lifetime: a started agent pins its hub and keeps its JavaScript object alive; stop() (or
// hub.close(), which stops the hub's agents first) releases both. A started agent keeps Node's
// event loop alive until it is stopped, as a server does.
#include "common.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/worker_agent.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace sihlicon::node {
namespace {

using std::chrono::milliseconds;

ExecutionOutcome parse_outcome(const std::string& text) {
    for (const auto outcome :
         {ExecutionOutcome::succeeded, ExecutionOutcome::failed, ExecutionOutcome::timed_out,
          ExecutionOutcome::cancelled, ExecutionOutcome::refused}) {
        if (to_string(outcome) == text) {
            return outcome;
        }
    }
    throw Error::invalid("outcome", text,
                         "must be succeeded, failed, timed_out, cancelled or refused");
}

// What a JavaScript executor answered, read on the main thread.
ExecutionResult result_of(const Napi::Value& answer) {
    ExecutionResult result;
    if (!answer.IsObject()) {
        result.outcome = ExecutionOutcome::failed;
        result.message = "the executor must return {outcome, exitCode?, message?}";
        return result;
    }
    const auto object = answer.As<Napi::Object>();
    result.outcome = parse_outcome(text(object.Get("outcome"), "outcome"));
    if (auto code = optional_integer(object.Get("exitCode"), "exitCode")) {
        result.exit_code = static_cast<int>(*code);
    }
    if (auto message = optional_text(object.Get("message"), "message")) {
        result.message = *message;
    }
    return result;
}

ExecutionResult failure(std::string message) {
    ExecutionResult result;
    result.outcome = ExecutionOutcome::failed;
    result.message = std::move(message);
    return result;
}

// The exception a JavaScript executor threw or rejected with, as a message.
std::string message_of(const Napi::Value& error) {
    if (error.IsObject()) {
        const auto message = error.As<Napi::Object>().Get("message");
        if (message.IsString()) {
            return message.As<Napi::String>().Utf8Value();
        }
    }
    return error.ToString().Utf8Value();
}

// Runs each attempt through a JavaScript function on the main thread. The agent's thread waits
// for the answer (a value or a Promise); once its stop token is set it waits at most
// kStopWait more, then reports the attempt cancelled and ignores a later answer.
class JsExecutor final : public Executor {
  public:
    static constexpr milliseconds kStopWait{2000};

    explicit JsExecutor(Napi::ThreadSafeFunction function) : function_(std::move(function)) {}
    ~JsExecutor() override { function_.Release(); }
    JsExecutor(const JsExecutor&) = delete;
    JsExecutor& operator=(const JsExecutor&) = delete;

    std::string name() const override { return "node"; }

    ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) override {
        const auto started = std::chrono::steady_clock::now();
        auto answer = std::make_shared<std::promise<ExecutionResult>>();
        auto future = answer->get_future();
        auto call = [request, stop, answer](Napi::Env env, Napi::Function execute) {
            try {
                auto object = Napi::Object::New(env);
                object.Set("job", record(env, request.job));
                object.Set("attempt", Napi::Number::New(env, static_cast<double>(request.attempt)));
                object.Set("workDir", request.work_dir.string());
                object.Set("inputDir", request.input_dir.string());
                object.Set("outputDir", request.output_dir.string());
                auto inputs = Napi::Array::New(env, request.inputs.size());
                for (std::size_t i = 0; i < request.inputs.size(); ++i) {
                    inputs.Set(static_cast<std::uint32_t>(i), request.inputs[i].string());
                }
                object.Set("inputs", inputs);
                object.Set("stdoutFile", request.stdout_file.string());
                object.Set("stderrFile", request.stderr_file.string());
                auto stopped = Napi::Function::New(
                    env,
                    [stop](const Napi::CallbackInfo& info) {
                        return Napi::Boolean::New(info.Env(), stop.stop_requested());
                    },
                    "stopped");
                const auto value = execute.Call({object, stopped});
                const auto then =
                    value.IsObject() ? value.As<Napi::Object>().Get("then") : env.Undefined();
                if (!then.IsFunction()) {
                    answer->set_value(result_of(value));
                    return;
                }
                auto resolved = Napi::Function::New(env, [answer](const Napi::CallbackInfo& info) {
                    try {
                        answer->set_value(result_of(info[0]));
                    } catch (const std::exception& error) {
                        answer->set_value(failure(error.what()));
                    }
                });
                auto rejected = Napi::Function::New(env, [answer](const Napi::CallbackInfo& info) {
                    answer->set_value(failure("the executor rejected: " + message_of(info[0])));
                });
                then.As<Napi::Function>().Call(value, {resolved, rejected});
            } catch (const Napi::Error& error) {
                answer->set_value(failure("the executor threw: " + error.Message()));
            } catch (const std::exception& error) {
                answer->set_value(failure(error.what()));
            }
        };
        if (function_.BlockingCall(call) != napi_ok) {
            return failure("the Node executor is no longer callable");
        }
        std::optional<std::chrono::steady_clock::time_point> stop_deadline;
        ExecutionResult result;
        for (;;) {
            if (future.wait_for(milliseconds(20)) == std::future_status::ready) {
                result = future.get();
                break;
            }
            if (stop.stop_requested()) {
                const auto now = std::chrono::steady_clock::now();
                if (!stop_deadline) {
                    stop_deadline = now + kStopWait;
                } else if (now >= *stop_deadline) {
                    result.outcome = ExecutionOutcome::cancelled;
                    result.message = "stopped; the executor did not return in time";
                    break;
                }
            }
        }
        result.wall =
            std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        return result;
    }

  private:
    Napi::ThreadSafeFunction function_;
};

AgentOptions agent_options(const Napi::Object& given) {
    static const std::vector<std::string> known = {"workerId",
                                                   "hubId",
                                                   "slots",
                                                   "labels",
                                                   "workRoot",
                                                   "hardware",
                                                   "heartbeatIntervalMs",
                                                   "renewIntervalMs",
                                                   "pollIntervalMs",
                                                   "containerSearchPath",
                                                   "nativeJobs",
                                                   "allowedCommands",
                                                   "bwrapProgram",
                                                   "unsandboxedNative",
                                                   "workerKey",
                                                   "executor",
                                                   "onEvent"};
    const auto keys = given.GetPropertyNames();
    for (std::uint32_t i = 0; i < keys.Length(); ++i) {
        const auto key = keys.Get(i).ToString().Utf8Value();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            throw Error::invalid(key, "", "is not an option of WorkerAgent");
        }
    }
    AgentOptions result;
    result.worker_id = optional_text(given.Get("workerId"), "workerId").value_or("");
    result.hub_id = text(given.Get("hubId"), "hubId");
    if (auto slots = optional_integer(given.Get("slots"), "slots")) {
        result.slots = *slots;
    }
    const auto labels = options(given.Get("labels"), "labels");
    const auto label_keys = labels.GetPropertyNames();
    for (std::uint32_t i = 0; i < label_keys.Length(); ++i) {
        const auto key = label_keys.Get(i).ToString().Utf8Value();
        result.labels[key] = text(labels.Get(key), "labels." + key);
    }
    if (auto root = optional_text(given.Get("workRoot"), "workRoot")) {
        result.work_root = *root;
    }
    if (!is_absent(given.Get("hardware"))) {
        const auto hardware = options(given.Get("hardware"), "hardware");
        HardwareInfo info;
        info.cpu_cores = integer(hardware.Get("cpuCores"), "hardware.cpuCores");
        info.memory_bytes = integer(hardware.Get("memoryBytes"), "hardware.memoryBytes");
        if (!is_absent(hardware.Get("gpus"))) {
            if (!hardware.Get("gpus").IsArray()) {
                throw Error::invalid("hardware.gpus", "", "must be an array of {model, vramBytes}");
            }
            const auto gpus = hardware.Get("gpus").As<Napi::Array>();
            for (std::uint32_t i = 0; i < gpus.Length(); ++i) {
                const auto gpu = options(gpus.Get(i), "hardware.gpus");
                info.gpus.push_back(
                    GpuSpec{text(gpu.Get("model"), "hardware.gpus.model"),
                            integer(gpu.Get("vramBytes"), "hardware.gpus.vramBytes")});
            }
        }
        result.hardware = std::move(info);
    }
    const auto interval = [&](const char* key, milliseconds& out) {
        if (auto ms = optional_integer(given.Get(key), key)) {
            out = milliseconds(*ms);
        }
    };
    interval("heartbeatIntervalMs", result.heartbeat_interval);
    interval("renewIntervalMs", result.renew_interval);
    interval("pollIntervalMs", result.poll_interval);
    if (auto path = optional_text(given.Get("containerSearchPath"), "containerSearchPath")) {
        result.container_search_path = *path;
    }
    result.native_jobs = boolean(given.Get("nativeJobs"), "nativeJobs", true);
    result.allowed_commands = text_list(given.Get("allowedCommands"), "allowedCommands");
    if (auto bwrap = optional_text(given.Get("bwrapProgram"), "bwrapProgram")) {
        result.bwrap_program = *bwrap;
    }
    result.unsandboxed_native = boolean(given.Get("unsandboxedNative"), "unsandboxedNative", false);
    // The worker's private key: 64 hex digits, or its 32 bytes. Never shown in an error.
    if (const auto key = given.Get("workerKey"); !is_absent(key)) {
        std::string digits;
        if (key.IsString()) {
            digits = key.As<Napi::String>().Utf8Value();
        } else {
            std::string storage;
            digits = crypto::to_hex(bytes(key, "workerKey", storage));
        }
        result.worker_key = crypto::PrivateKey::parse(digits, "workerKey");
    }
    for (const char* key : {"executor", "onEvent"}) {
        if (!is_absent(given.Get(key)) && !given.Get(key).IsFunction()) {
            throw Error::invalid(key, "", "must be a function");
        }
    }
    return result;
}

Napi::Object status_object(Napi::Env env, const AgentStatus& status) {
    auto object = Napi::Object::New(env);
    object.Set("state", std::string(to_string(status.state)));
    object.Set("workerId", status.worker_id);
    object.Set("slots", Napi::Number::New(env, static_cast<double>(status.slots)));
    auto running = Napi::Array::New(env, status.running.size());
    for (std::size_t i = 0; i < status.running.size(); ++i) {
        const auto& job = status.running[i];
        auto entry = Napi::Object::New(env);
        entry.Set("jobId", job.job_id);
        entry.Set("attempt", Napi::Number::New(env, static_cast<double>(job.attempt)));
        entry.Set("executor", job.executor);
        entry.Set("elapsedMs", Napi::Number::New(env, static_cast<double>(job.elapsed.count())));
        running.Set(static_cast<std::uint32_t>(i), entry);
    }
    object.Set("running", running);
    object.Set("completed", Napi::Number::New(env, static_cast<double>(status.completed)));
    object.Set("failed", Napi::Number::New(env, static_cast<double>(status.failed)));
    object.Set("handedBack", Napi::Number::New(env, static_cast<double>(status.handed_back)));
    object.Set("energyMwh", Napi::Number::New(env, static_cast<double>(status.energy.mwh())));
    object.Set("energySource", status.energy_source
                                   ? Napi::Value(Napi::String::New(
                                         env, std::string(to_string(*status.energy_source))))
                                   : env.Null());
    object.Set("utilisationPpm",
               Napi::Number::New(env, static_cast<double>(status.utilisation_ppm)));
    object.Set("powerDrawW", Napi::Number::New(env, static_cast<double>(status.power_draw_w)));
    return object;
}

// A running C++ agent with the pin on its hub; destroyed (after stopping) off the main thread.
struct Running {
    std::unique_ptr<HubHandle::Pin> pin;
    std::unique_ptr<WorkerAgent> agent;
    std::optional<Napi::ThreadSafeFunction> on_event;
    std::uint64_t close_hook = 0;

    // Stops the agent, then lets go of the hub and of the JavaScript callbacks.
    void stop(milliseconds grace) {
        agent->stop(grace);
        agent.reset();  // releases the executor's thread-safe function
        if (on_event) {
            on_event->Release();
        }
        pin.reset();
    }
};

class WorkerAgentObject : public Handle<WorkerAgentObject> {
  public:
    static constexpr const char* kName = "WorkerAgent";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a7ULL, 0x510e527fade682d1ULL};

    explicit WorkerAgentObject(const Napi::CallbackInfo& info)
        : Handle<WorkerAgentObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {
        const auto given = info[2].As<Napi::Object>();
        options_ = agent_options(given);
        if (given.Get("executor").IsFunction()) {
            executor_ = Napi::Persistent(given.Get("executor").As<Napi::Function>());
        }
        if (given.Get("onEvent").IsFunction()) {
            on_event_ = Napi::Persistent(given.Get("onEvent").As<Napi::Function>());
        }
    }

    ~WorkerAgentObject() override {
        // Only a stopped agent can be collected: a started one holds a reference to itself.
        std::lock_guard lock(state_->mutex);
        if (state_->running) {
            state_->running->stop(milliseconds(0));
        }
    }

    static Napi::Function define(Napi::Env env) {
        return define_class(env, {async_entry<&WorkerAgentObject::start>(env, "start"),
                                  async_entry<&WorkerAgentObject::drain>(env, "drain"),
                                  async_entry<&WorkerAgentObject::stop>(env, "stop"),
                                  async_entry<&WorkerAgentObject::wait_idle>(env, "waitIdle"),
                                  entry<&WorkerAgentObject::status>(env, "status")});
    }

  private:
    struct Started {
        std::string worker;  // the worker record's JSON
        std::exception_ptr error;
    };

    struct State {
        std::mutex mutex;  // guards `running`; never held while the agent stops
        std::shared_ptr<Running> running;
    };

    // The running agent taken out of the state, so that exactly one caller stops it.
    static std::shared_ptr<Running> take(State& state) {
        std::lock_guard lock(state.mutex);
        return std::exchange(state.running, nullptr);
    }

    // start() → Promise<worker record>: registers the worker and starts claiming.
    Napi::Value start(const Napi::CallbackInfo& info) {
        Napi::Env env = info.Env();
        {
            std::lock_guard lock(state_->mutex);
            if (state_->running || starting_) {
                throw Error(ErrorCode::conflict, "the agent is already started");
            }
        }
        auto running = std::make_shared<Running>();
        running->pin = std::make_unique<HubHandle::Pin>(handle_);
        auto options = options_;
        if (!executor_.IsEmpty()) {
            auto function =
                Napi::ThreadSafeFunction::New(env, executor_.Value(), "sihlicon executor", 0, 1);
            options.process_executor = std::make_shared<JsExecutor>(function);
            options.container_executor = options.process_executor;
        }
        if (!on_event_.IsEmpty()) {
            running->on_event =
                Napi::ThreadSafeFunction::New(env, on_event_.Value(), "sihlicon agent event", 0, 1);
            options.on_event = [tsfn = *running->on_event](std::string_view line) mutable {
                auto copy = std::make_shared<std::string>(line);
                tsfn.NonBlockingCall([copy](Napi::Env e, Napi::Function callback) {
                    callback.Call({Napi::String::New(e, *copy)});
                });
            };
        }
        starting_ = true;
        if (!referenced_) {
            Ref();  // a started agent stays alive until stopped
            referenced_ = true;
        }
        auto state = state_;
        auto handle = handle_;
        return run_async<Started>(
            env,
            [running, options, state, handle]() mutable {
                Started started;
                try {
                    running->agent = std::make_unique<WorkerAgent>(running->pin->hub(), options);
                    started.worker = running->agent->start().to_json();
                    {
                        std::lock_guard lock(state->mutex);
                        state->running = running;
                    }
                    // hub.close() stops the agent before it waits for the hub's calls.
                    std::weak_ptr<State> weak = state;
                    running->close_hook = handle->on_close([weak] {
                        if (auto alive = weak.lock()) {
                            if (auto taken = take(*alive)) {
                                taken->stop(milliseconds(0));
                            }
                        }
                    });
                } catch (...) {
                    started.error = std::current_exception();
                    if (running->agent) {
                        running->stop(milliseconds(0));
                    } else {
                        if (running->on_event) {
                            running->on_event->Release();
                        }
                        running->pin.reset();
                    }
                }
                return started;
            },
            [this](Napi::Env e, Started& started) -> Napi::Value {
                starting_ = false;
                if (started.error) {
                    release_reference();
                    throw to_js_error(e, started.error);
                }
                return parse_json(e, started.worker);
            },
            {info.This()});
    }

    void release_reference() {
        if (referenced_) {
            referenced_ = false;
            Unref();
        }
    }

    // The Promise of draining (the number of jobs handed back) or of stopping the agent.
    Napi::Value finish(const Napi::CallbackInfo& info, milliseconds grace, bool drain_only) {
        auto state = state_;
        auto handle = handle_;
        return run_async<std::int64_t>(
            info.Env(),
            [state, handle, grace, drain_only]() -> std::int64_t {
                if (drain_only) {
                    std::shared_ptr<Running> running;
                    {
                        std::lock_guard lock(state->mutex);
                        running = state->running;
                    }
                    return running ? running->agent->drain(grace) : 0;
                }
                if (auto running = take(*state)) {
                    handle->forget(running->close_hook);
                    running->stop(grace);
                }
                return 0;
            },
            [this, drain_only](Napi::Env e, std::int64_t& count) -> Napi::Value {
                if (drain_only) {
                    return Napi::Number::New(e, static_cast<double>(count));
                }
                if (!starting_) {
                    release_reference();
                }
                return e.Undefined();
            },
            {info.This()});
    }

    static milliseconds grace_of(const Napi::CallbackInfo& info) {
        const auto ms = optional_integer(info[0], "graceMs").value_or(0);
        if (ms < 0) {
            throw Error::invalid("graceMs", std::to_string(ms), "must not be negative");
        }
        return milliseconds(ms);
    }

    // drain(graceMs = 0) → Promise<number of jobs handed back>.
    Napi::Value drain(const Napi::CallbackInfo& info) { return finish(info, grace_of(info), true); }

    // stop(graceMs = 0) → Promise<void>; stopping a stopped agent does nothing.
    Napi::Value stop(const Napi::CallbackInfo& info) { return finish(info, grace_of(info), false); }

    // waitIdle(timeoutMs) → Promise<boolean>.
    Napi::Value wait_idle(const Napi::CallbackInfo& info) {
        const auto timeout = milliseconds(integer(info[0], "timeoutMs"));
        auto state = state_;
        return run_async<bool>(
            info.Env(),
            [state, timeout] {
                std::shared_ptr<Running> running;
                {
                    std::lock_guard lock(state->mutex);
                    running = state->running;
                }
                return running ? running->agent->wait_idle(timeout) : true;
            },
            [](Napi::Env e, bool& idle) -> Napi::Value { return Napi::Boolean::New(e, idle); });
    }

    // status() → {state, workerId, slots, running[], completed, failed, handedBack, ...}.
    Napi::Value status(const Napi::CallbackInfo& info) {
        std::shared_ptr<Running> running;
        {
            std::lock_guard lock(state_->mutex);
            running = state_->running;
        }
        if (running) {
            return status_object(info.Env(), running->agent->status());
        }
        AgentStatus status;
        status.state = starting_ ? AgentState::idle : AgentState::stopped;
        status.worker_id = options_.worker_id;
        status.slots = options_.slots;
        return status_object(info.Env(), status);
    }

    std::shared_ptr<HubHandle> handle_;
    AgentOptions options_;
    Napi::FunctionReference executor_;
    Napi::FunctionReference on_event_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
    bool starting_ = false;    // main thread only
    bool referenced_ = false;  // main thread only: Ref() taken by start()
};

}  // namespace

Napi::Function define_worker_agent(Napi::Env env) {
    return WorkerAgentObject::define(env);
}

Napi::Object make_worker_agent(Napi::Env env, const std::shared_ptr<HubHandle>& handle,
                               const Napi::Object& options) {
    auto copy = handle;
    auto external = Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy);
    auto token = Napi::External<int>::New(env, &construction_token);
    return addon(env).worker_agent_class.New({token, external, options});
}

}  // namespace sihlicon::node
