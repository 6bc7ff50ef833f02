// SPDX-License-Identifier: Apache-2.0
#include "agent/sandbox.hpp"
#include "agent/subprocess.hpp"

#include <sihlicon/worker_agent.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

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

ExecutionResult refused(std::string message) {
    ExecutionResult result;
    result.outcome = ExecutionOutcome::refused;
    result.message = std::move(message);
    return result;
}

// The job's own env, or why it cannot be used (defence in depth: submission refuses it too).
std::optional<std::string> reserved_env_of(const ExecutionRequest& request) {
    for (const auto& [name, value] : request.job.spec.workload.env) {
        if (is_reserved_env_name(name)) {
            return fmt::format("workloadConfig.env: '{}' is reserved and cannot be set by a job",
                               name);
        }
    }
    return std::nullopt;
}

// The environment of a native job: nothing of the agent's own.
std::map<std::string, std::string> job_environment(const ExecutionRequest& request) {
    std::map<std::string, std::string> environment = {
        {"PATH", std::string(kNativeJobPath)},
        {"HOME", request.work_dir.string()},
        {"LANG", "C.UTF-8"},
    };
    for (const auto& [name, value] : request.job.spec.workload.env) {
        environment[name] = value;
    }
    environment["SIHLICON_JOB_ID"] = request.job.id;
    environment["SIHLICON_ATTEMPT"] = std::to_string(request.attempt);
    environment["SIHLICON_INPUT_DIR"] = request.input_dir.string();
    environment["SIHLICON_OUTPUT_DIR"] = request.output_dir.string();
    environment["SIHLICON_INPUTS"] = joined_inputs(request.inputs);
    return environment;
}

// The environment of a container runtime's client: the operator's, never the job's (which
// goes into the container through --env).
std::map<std::string, std::string> client_environment() {
    std::map<std::string, std::string> environment = {
        {"PATH", agent::default_search_path()},
        {"LANG", "C.UTF-8"},
    };
    for (const char* name : {"HOME", "XDG_RUNTIME_DIR"}) {
        if (const char* value = std::getenv(name)) {
            environment[name] = value;
        }
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

ProcessExecutor::ProcessExecutor(ProcessLimits limits, SandboxOptions sandbox)
    : limits_(limits), sandbox_(std::move(sandbox)) {
    if (sandbox_.enabled) {
        problem_ = sandbox_problem(sandbox_.program);
    }
}

ExecutionResult ProcessExecutor::run(const ExecutionRequest& request, std::stop_token stop) {
    const auto& workload = request.job.spec.workload;
    if (problem_) {
        return refused(fmt::format(
            "native jobs run only in a sandbox, and this worker cannot make one: {} (install "
            "bubblewrap; an operator who trusts every job may run them unsandboxed with "
            "--unsandboxed-native)",
            *problem_));
    }
    if (workload.command.empty()) {
        return refused("workloadConfig.command is empty: a native job needs a command");
    }
    if (auto reserved = reserved_env_of(request)) {
        return refused(*reserved);
    }
    const auto environment = job_environment(request);
    const auto found = sandbox_.enabled
                           ? agent::resolve_native_program(workload.command.front())
                           : agent::find_program(workload.command.front(), kNativeJobPath);
    if (found.empty()) {
        return refused(
            fmt::format("workloadConfig.command: '{}' is not an executable program on PATH ({})",
                        workload.command.front(), kNativeJobPath));
    }
    std::filesystem::path program = found;
    std::vector<std::string> arguments(workload.command.begin() + 1, workload.command.end());
    std::map<std::string, std::string> child_environment = environment;
    if (sandbox_.enabled) {
        program = agent::find_program(
            sandbox_.program.empty() ? "bwrap" : sandbox_.program.string(), kNativeJobPath);
        arguments = agent::sandbox_arguments(request, environment, limits_.scratch_bytes);
        arguments.push_back(found.string());
        arguments.insert(arguments.end(), workload.command.begin() + 1, workload.command.end());
        // bubblewrap itself gets no more than it needs; the job's env is set inside.
        child_environment = {{"PATH", std::string(kNativeJobPath)}, {"LANG", "C.UTF-8"}};
    }

    agent::ChildSpec spec;
    spec.program = program;
    spec.arguments = std::move(arguments);
    spec.environment = std::move(child_environment);
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
    if (!is_container_image(workload.container_image)) {
        return refused(
            fmt::format("workloadConfig.containerImage '{}' is not a container image reference",
                        workload.container_image));
    }
    if (auto reserved = reserved_env_of(request)) {
        return refused(*reserved);
    }
    const auto container = fmt::format("sihlicon-{}-{}", request.job.id, request.attempt);
    std::vector<std::string> arguments = {
        "run",
        "--rm",
        "--name",
        container,
        "--network",
        "none",
        "--security-opt",
        "no-new-privileges",
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
    spec.environment = client_environment();
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
