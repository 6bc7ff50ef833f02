// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.WorkerAgent: the C++ WorkerAgent over a hub, with an optional executor
// written in Python. The agent's threads call the Python executor with the GIL taken; every
// blocking call from Python (start, drain, stop, wait_idle) releases it. A started agent pins
// its hub: Hub.close() (the Python layer) stops the hub's agents first.
#include "common.hpp"
#include "handle.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/worker_agent.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sihlicon::python {
namespace {

using std::chrono::milliseconds;

// Runs each job through `execute(request: dict, stopped: Callable[[], bool]) -> dict` with
// {"outcome": "succeeded" | "failed" | "timed_out" | "cancelled" | "refused",
//  "exit_code": int | None, "message": str}. A Python exception fails the attempt (retried)
// with the exception's text as its reason.
class PythonExecutor final : public Executor {
  public:
    explicit PythonExecutor(py::function execute) : execute_(std::move(execute)) {}
    ~PythonExecutor() override {
        py::gil_scoped_acquire acquire;
        execute_ = py::function();
    }

    std::string name() const override { return "python"; }

    ExecutionResult run(const ExecutionRequest& request, std::stop_token stop) override {
        const auto started = std::chrono::steady_clock::now();
        ExecutionResult result;
        py::gil_scoped_acquire acquire;
        try {
            py::dict call;
            call["job"] = to_py(request.job);
            call["attempt"] = request.attempt;
            call["work_dir"] = request.work_dir.string();
            call["input_dir"] = request.input_dir.string();
            call["output_dir"] = request.output_dir.string();
            py::list inputs;
            for (const auto& input : request.inputs) {
                inputs.append(input.string());
            }
            call["inputs"] = inputs;
            call["stdout_file"] = request.stdout_file.string();
            call["stderr_file"] = request.stderr_file.string();
            const py::cpp_function stopped([stop] { return stop.stop_requested(); });
            const py::dict answer = execute_(call, stopped);
            const auto outcome = answer["outcome"].cast<std::string>();
            if (outcome == "succeeded") {
                result.outcome = ExecutionOutcome::succeeded;
            } else if (outcome == "failed") {
                result.outcome = ExecutionOutcome::failed;
            } else if (outcome == "timed_out") {
                result.outcome = ExecutionOutcome::timed_out;
            } else if (outcome == "cancelled") {
                result.outcome = ExecutionOutcome::cancelled;
            } else if (outcome == "refused") {
                result.outcome = ExecutionOutcome::refused;
            } else {
                result.outcome = ExecutionOutcome::failed;
                result.message =
                    "the Python executor returned an unknown outcome '" + outcome + "'";
            }
            if (answer.contains("exit_code") && !answer["exit_code"].is_none()) {
                result.exit_code = answer["exit_code"].cast<int>();
            }
            if (result.message.empty() && answer.contains("message")) {
                result.message = answer["message"].cast<std::string>();
            }
        } catch (py::error_already_set& error) {
            result.outcome = ExecutionOutcome::failed;
            result.message = std::string("the Python executor raised ") + error.what();
        } catch (const py::cast_error& error) {
            result.outcome = ExecutionOutcome::failed;
            result.message =
                std::string("the Python executor returned a malformed result: ") + error.what();
        }
        result.wall =
            std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        return result;
    }

  private:
    py::function execute_;
};

// The agent and what it needs alive: its hub's handle (pinned while started) and the Python
// callables, released with the GIL held after the agent's threads are gone.
class AgentHandle {
  public:
    AgentHandle(std::shared_ptr<HubHandle> hub, AgentOptions options,
                std::optional<py::function> execute, std::optional<py::function> on_event)
        : hub_(std::move(hub)), options_(std::move(options)) {
        if (execute) {
            auto executor = std::make_shared<PythonExecutor>(*execute);
            options_.process_executor = executor;
            options_.container_executor = executor;
        }
        if (on_event) {
            auto callback = std::make_shared<py::function>(*on_event);
            on_event_ = callback;
            options_.on_event = [callback](std::string_view line) {
                py::gil_scoped_acquire acquire;
                try {
                    (*callback)(std::string(line));
                } catch (py::error_already_set& error) {
                    error.discard_as_unraisable("sihlicon WorkerAgent on_event");
                }
            };
        }
    }

    ~AgentHandle() {
        {
            py::gil_scoped_release release;
            agent_.reset();  // joins the agent's threads, which may want the GIL
            pin_.reset();
        }
        options_ = AgentOptions{};
        on_event_.reset();
    }

    py::dict start() {
        py::gil_scoped_release release;
        if (agent_) {
            throw Error(ErrorCode::conflict, "the agent was already started", "agent");
        }
        pin_.emplace(*hub_);
        try {
            agent_ = std::make_unique<WorkerAgent>(pin_->hub(), options_);
            const auto worker = agent_->start();
            py::gil_scoped_acquire acquire;
            return to_py(worker);
        } catch (...) {
            agent_.reset();
            pin_.reset();
            throw;
        }
    }

    std::int64_t drain(std::int64_t grace_ms) {
        py::gil_scoped_release release;
        return started().drain(milliseconds(grace_ms));
    }

    void stop(std::int64_t grace_ms) {
        py::gil_scoped_release release;
        if (agent_) {
            agent_->stop(milliseconds(grace_ms));
            agent_.reset();
        }
        pin_.reset();
    }

    bool wait_idle(std::int64_t timeout_ms) {
        py::gil_scoped_release release;
        return started().wait_idle(milliseconds(timeout_ms));
    }

    bool running() const { return agent_ != nullptr; }

    py::dict status() const {
        AgentStatus status;
        {
            py::gil_scoped_release release;
            status = started().status();
        }
        py::dict d;
        d["state"] = std::string(to_string(status.state));
        d["worker_id"] = status.worker_id;
        d["slots"] = status.slots;
        py::list running;
        for (const auto& job : status.running) {
            py::dict entry;
            entry["job_id"] = job.job_id;
            entry["attempt"] = job.attempt;
            entry["executor"] = job.executor;
            entry["elapsed_ms"] = job.elapsed.count();
            running.append(entry);
        }
        d["running"] = running;
        d["completed"] = status.completed;
        d["failed"] = status.failed;
        d["handed_back"] = status.handed_back;
        d["energy_mwh"] = status.energy.mwh();
        d["energy_source"] =
            status.energy_source
                ? py::object(py::str(std::string(to_string(*status.energy_source))))
                : py::object(py::none());
        d["utilisation_ppm"] = status.utilisation_ppm;
        d["power_draw_w"] = status.power_draw_w;
        return d;
    }

  private:
    WorkerAgent& started() const {
        if (!agent_) {
            throw Error(ErrorCode::conflict, "the agent is not running: call start()", "agent");
        }
        return *agent_;
    }

    std::shared_ptr<HubHandle> hub_;
    AgentOptions options_;
    std::shared_ptr<py::function> on_event_;
    std::optional<HubHandle::Pin> pin_;
    std::unique_ptr<WorkerAgent> agent_;
};

}  // namespace

void bind_worker_agent(py::module_& module) {
    py::class_<AgentHandle>(module, "WorkerAgent")
        .def(py::init([](const std::shared_ptr<HubHandle>& hub, const std::string& worker_id,
                         const std::string& hub_id, std::int64_t slots,
                         const std::string& work_root, std::int64_t poll_interval_ms,
                         std::int64_t heartbeat_interval_ms, std::int64_t renew_interval_ms,
                         const std::map<std::string, std::string>& labels,
                         std::optional<py::function> execute, std::optional<py::function> on_event,
                         bool native_jobs, const std::vector<std::string>& allowed_commands,
                         const std::string& bwrap_program, bool unsandboxed_native,
                         const std::optional<std::string>& worker_key) {
                 AgentOptions options;
                 options.worker_id = worker_id;
                 options.hub_id = hub_id;
                 options.slots = slots;
                 options.work_root = work_root;
                 options.poll_interval = milliseconds(poll_interval_ms);
                 options.heartbeat_interval = milliseconds(heartbeat_interval_ms);
                 options.renew_interval = milliseconds(renew_interval_ms);
                 options.labels = labels;
                 options.native_jobs = native_jobs;
                 options.allowed_commands = allowed_commands;
                 options.bwrap_program = bwrap_program;
                 options.unsandboxed_native = unsandboxed_native;
                 if (worker_key) {
                     options.worker_key = crypto::PrivateKey::parse(*worker_key, "worker_key");
                 }
                 return std::make_unique<AgentHandle>(hub, std::move(options), std::move(execute),
                                                      std::move(on_event));
             }),
             py::arg("hub"), py::arg("worker_id"), py::arg("hub_id"), py::arg("slots"),
             py::arg("work_root"), py::arg("poll_interval_ms"), py::arg("heartbeat_interval_ms"),
             py::arg("renew_interval_ms"), py::arg("labels"), py::arg("execute"),
             py::arg("on_event"), py::arg("native_jobs"), py::arg("allowed_commands"),
             py::arg("bwrap_program"), py::arg("unsandboxed_native"), py::arg("worker_key"))
        .def("start", &AgentHandle::start)
        .def("drain", &AgentHandle::drain)
        .def("stop", &AgentHandle::stop)
        .def("wait_idle", &AgentHandle::wait_idle)
        .def("status", &AgentHandle::status)
        .def_property_readonly("running", &AgentHandle::running);
}

}  // namespace sihlicon::python
