// SPDX-License-Identifier: Apache-2.0
#include "agent/subprocess.hpp"

#include <sihlicon/worker_agent.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon {

namespace {

constexpr std::chrono::seconds kRuntimeProbeTimeout{5};
constexpr std::int64_t kMillicoresPerCore = 1000;

std::string joined_inputs(const std::vector<std::filesystem::path>& inputs) {
    std::string text;
    for (const auto& input : inputs) {
        text += input.string() + "\n";
    }
    return text;
}

std::map<std::string, std::string> base_environment(const ExecutionRequest& request) {
    std::map<std::string, std::string> environment = {
        {"PATH", agent::default_search_path()},
        {"HOME", request.work_dir.string()},
        {"LANG", "C.UTF-8"},
    };
    for (const auto& [name, value] : request.job.spec.workload.env) {
        environment[name] = value;
    }
    return environment;
}

}  // namespace

std::string_view to_string(ExecutionOutcome outcome) noexcept {
    switch (outcome) {
        case ExecutionOutcome::succeeded:
            return "succeeded";
        case ExecutionOutcome::failed:
            return "failed";
        case ExecutionOutcome::timed_out:
            return "timed-out";
        case ExecutionOutcome::cancelled:
            return "cancelled";
        case ExecutionOutcome::refused:
            return "refused";
    }
    return "failed";
}

Executor::~Executor() = default;

ProcessExecutor::ProcessExecutor(ProcessLimits limits) : limits_(limits) {}

ExecutionResult ProcessExecutor::run(const ExecutionRequest& request, std::stop_token stop) {
    const auto& workload = request.job.spec.workload;
    if (workload.command.empty()) {
        ExecutionResult refused;
        refused.outcome = ExecutionOutcome::refused;
        refused.message = "workloadConfig.command is empty: a native job needs a command";
        return refused;
    }
    auto environment = base_environment(request);
    const auto program = agent::find_program(workload.command.front(), environment["PATH"]);
    if (program.empty()) {
        ExecutionResult refused;
        refused.outcome = ExecutionOutcome::refused;
        refused.message =
            fmt::format("workloadConfig.command: '{}' is not an executable program on PATH",
                        workload.command.front());
        return refused;
    }
    environment["SIHLICON_JOB_ID"] = request.job.id;
    environment["SIHLICON_ATTEMPT"] = std::to_string(request.attempt);
    environment["SIHLICON_INPUT_DIR"] = request.input_dir.string();
    environment["SIHLICON_OUTPUT_DIR"] = request.output_dir.string();
    environment["SIHLICON_INPUTS"] = joined_inputs(request.inputs);

    agent::ChildSpec spec;
    spec.program = program;
    spec.arguments.assign(workload.command.begin() + 1, workload.command.end());
    spec.environment = std::move(environment);
    spec.working_dir = request.work_dir;
    spec.stdout_file = request.stdout_file;
    spec.stderr_file = request.stderr_file;
    spec.timeout = std::chrono::seconds(workload.timeout_seconds);
    // A job cannot use more CPU time than its cores over its whole wall-clock budget.
    const auto cores = std::max<std::int64_t>(
        1, (workload.resources.cpu_millicores + kMillicoresPerCore - 1) / kMillicoresPerCore);
    spec.cpu_seconds = cores * workload.timeout_seconds + limits_.cpu_seconds_margin;
    if (limits_.limit_address_space && workload.resources.memory_bytes > 0) {
        spec.address_space_bytes = workload.resources.memory_bytes;
    }
    spec.stop_grace = limits_.stop_grace;
    return agent::run_child(spec, stop);
}

std::optional<ContainerRuntime> find_container_runtime(std::string_view search_path,
                                                       std::string* problem) {
    std::string why;
    for (const std::string_view name : {"podman", "docker"}) {
        const auto program = agent::find_program(name, search_path);
        if (program.empty()) {
            continue;
        }
        if (agent::capture_output(program, {"info"}, kRuntimeProbeTimeout)) {
            return ContainerRuntime{std::string(name), program};
        }
        why += fmt::format("{}{} is on PATH but `{} info` failed (is its daemon running?)",
                           why.empty() ? "" : "; ", program.string(), name);
    }
    if (problem != nullptr) {
        *problem = why.empty() ? "no container runtime (podman or docker) on PATH" : why;
    }
    return std::nullopt;
}

ContainerExecutor::ContainerExecutor(ContainerRuntime runtime) : runtime_(std::move(runtime)) {}

ExecutionResult ContainerExecutor::run(const ExecutionRequest& request, std::stop_token stop) {
    const auto& workload = request.job.spec.workload;
    const auto container = fmt::format("sihlicon-{}-{}", request.job.id, request.attempt);
    std::vector<std::string> arguments = {
        "run",
        "--rm",
        "--name",
        container,
        "--network",
        "none",
        "--volume",
        request.input_dir.string() + ":/input:ro",
        "--volume",
        request.output_dir.string() + ":/output",
        "--cpus",
        fmt::format("{}.{:03}", workload.resources.cpu_millicores / kMillicoresPerCore,
                    workload.resources.cpu_millicores % kMillicoresPerCore),
        "--env",
        "SIHLICON_JOB_ID=" + request.job.id,
        "--env",
        "SIHLICON_INPUT_DIR=/input",
        "--env",
        "SIHLICON_OUTPUT_DIR=/output",
    };
    if (workload.resources.memory_bytes > 0) {
        arguments.insert(arguments.end(),
                         {"--memory", std::to_string(workload.resources.memory_bytes)});
    }
    for (const auto& [name, value] : workload.env) {
        arguments.insert(arguments.end(), {"--env", name + "=" + value});
    }
    arguments.push_back(workload.container_image);
    arguments.insert(arguments.end(), workload.command.begin(), workload.command.end());

    agent::ChildSpec spec;
    spec.program = runtime_.program;
    spec.arguments = std::move(arguments);
    spec.environment = base_environment(request);
    spec.working_dir = request.work_dir;
    spec.stdout_file = request.stdout_file;
    spec.stderr_file = request.stderr_file;
    spec.timeout = std::chrono::seconds(workload.timeout_seconds);
    // Killing the client leaves the container running: kill it by name as well.
    const auto program = runtime_.program;
    spec.after_kill = [program, container] {
        agent::capture_output(program, {"kill", container}, std::chrono::seconds(10));
    };
    return agent::run_child(spec, stop);
}

}  // namespace sihlicon
