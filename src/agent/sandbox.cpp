// SPDX-License-Identifier: Apache-2.0
#include "agent/sandbox.hpp"

#include "agent/subprocess.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace sihlicon {

namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kProbeTimeout{10};
constexpr std::size_t kProbeErrorText = 400;

// The top-level folders of the system besides /usr: a symbolic link (usr-merged systems) is
// recreated, a real folder bound read-only.
constexpr std::string_view kSystemFolders[] = {"/bin",   "/sbin",  "/lib",
                                               "/lib32", "/lib64", "/libx32"};
// What of /etc a program needs to start and to name users; nothing with secrets in it.
constexpr std::string_view kEtcFiles[] = {
    "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",    "/etc/ld.so.conf.d",
    "/etc/passwd",       "/etc/group",       "/etc/nsswitch.conf", "/etc/localtime"};

// Whether `inner` is `outer` or inside it, both absolute and lexically normal.
bool within(const fs::path& inner, const fs::path& outer) {
    auto it = inner.begin();
    for (const auto& part : outer) {
        if (part.empty()) {
            continue;  // the trailing "" of a path ending in '/'
        }
        if (it == inner.end() || *it != part) {
            return false;
        }
        ++it;
    }
    return true;
}

fs::path normal_absolute(const fs::path& path) {
    std::error_code error;
    auto resolved = fs::weakly_canonical(fs::absolute(path), error);
    return (error ? fs::absolute(path) : resolved).lexically_normal();
}

}  // namespace

namespace agent {

fs::path resolve_native_program(std::string_view command) {
    if (command.find('/') != std::string_view::npos) {
        return fs::path(command).lexically_normal();
    }
    return find_program(command, kNativeJobPath);
}

fs::path prepare_work_root(const fs::path& requested, const fs::path& hub_directory,
                           bool& created) {
    created = false;
    fs::path root;
    if (!requested.empty()) {
        root = fs::absolute(requested);
    } else {
        const char* runtime = std::getenv("XDG_RUNTIME_DIR");
        std::error_code error;
        const fs::path base = runtime != nullptr && fs::path(runtime).is_absolute() &&
                                      fs::is_directory(runtime, error)
                                  ? fs::path(runtime)
                                  : fs::temp_directory_path();
        std::string pattern = (base / "sihlicon-agent-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw Error(ErrorCode::io,
                        fmt::format("cannot create a work folder {}: {}", pattern,
                                    std::generic_category().message(errno)),
                        "work_root");
        }
        root = pattern;
        created = true;
    }
    if (!hub_directory.empty() && within(normal_absolute(root), normal_absolute(hub_directory))) {
        if (created) {
            std::error_code ignored;
            fs::remove_all(root, ignored);
        }
        throw Error::invalid("work_root", root.string(),
                             fmt::format("is inside the hub folder {}: a job's folder must not be "
                                         "where hub.db and operator.key live",
                                         normal_absolute(hub_directory).string()));
    }
    return root;
}

JobPolicy job_policy(const AgentOptions& options) {
    JobPolicy policy;
    policy.native_jobs = options.native_jobs;
    policy.allowed_commands = options.allowed_commands;
    for (const auto& command : options.allowed_commands) {
        auto program = resolve_native_program(command);
        if (command.empty() || program.empty() || !program.is_absolute() ||
            ::access(program.c_str(), X_OK) != 0) {
            throw Error::invalid(
                "allowed_commands", command,
                fmt::format("is not an executable program (a name on {} or an absolute path)",
                            kNativeJobPath));
        }
        policy.allowed_programs.push_back(std::move(program));
    }
    return policy;
}

std::optional<std::string> refusal_of(const JobRecord& job, const JobPolicy& policy,
                                      std::string_view worker_id) {
    const auto& workload = job.spec.workload;
    for (const auto& [name, value] : workload.env) {
        if (is_reserved_env_name(name)) {
            return fmt::format(
                "workloadConfig.env: '{}' is reserved (the agent sets it, or it changes which "
                "code a program loads); worker {} refuses the job",
                name, worker_id);
        }
    }
    if (workload.container_image != kNativeImage) {
        return std::nullopt;
    }
    if (!policy.native_jobs) {
        return fmt::format("worker {} runs no native jobs (its operator turned them off)",
                           worker_id);
    }
    if (!policy.allowed_programs.empty() && !workload.command.empty()) {
        const auto program = resolve_native_program(workload.command.front());
        if (std::find(policy.allowed_programs.begin(), policy.allowed_programs.end(), program) ==
            policy.allowed_programs.end()) {
            std::string allowed;
            for (const auto& command : policy.allowed_commands) {
                allowed += (allowed.empty() ? "" : ", ") + command;
            }
            return fmt::format(
                "workloadConfig.command: '{}' is not a program worker {} allows (allowed: {})",
                workload.command.front(), worker_id, allowed);
        }
    }
    return std::nullopt;
}

std::vector<std::string> sandbox_arguments(const ExecutionRequest& request,
                                           const std::map<std::string, std::string>& environment,
                                           std::int64_t scratch_bytes) {
    std::vector<std::string> arguments = {
        // New namespaces of every kind, no capabilities even as root, no way back.
        "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--die-with-parent", "--new-session", "--hostname", "sihlicon-job",
        // A read-only system.
        "--ro-bind", "/usr", "/usr"};
    for (const auto folder : kSystemFolders) {
        std::error_code error;
        const auto status = fs::symlink_status(folder, error);
        if (error) {
            continue;
        }
        if (status.type() == fs::file_type::symlink) {
            const auto target = fs::read_symlink(folder, error);
            if (!error) {
                arguments.insert(arguments.end(),
                                 {"--symlink", target.string(), std::string(folder)});
            }
        } else if (status.type() == fs::file_type::directory) {
            arguments.insert(arguments.end(),
                             {"--ro-bind", std::string(folder), std::string(folder)});
        }
    }
    for (const auto file : kEtcFiles) {
        arguments.insert(arguments.end(), {"--ro-bind-try", std::string(file), std::string(file)});
    }
    const auto size = std::to_string(scratch_bytes);
    const auto work_dir = request.work_dir.string();
    arguments.insert(arguments.end(),
                     {"--proc", "/proc", "--dev", "/dev",
                      // Private scratch in memory: /tmp, and the working folder (HOME).
                      "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", work_dir,
                      // The job's own folders, at their host paths.
                      "--ro-bind", request.input_dir.string(), request.input_dir.string(), "--bind",
                      request.output_dir.string(), request.output_dir.string(), "--remount-ro", "/",
                      "--chdir", work_dir, "--clearenv"});
    for (const auto& [name, value] : environment) {
        arguments.insert(arguments.end(), {"--setenv", name, value});
    }
    arguments.emplace_back("--");
    return arguments;
}

}  // namespace agent

std::optional<std::string> sandbox_problem(const fs::path& bwrap) {
    try {
        const auto program =
            agent::find_program(bwrap.empty() ? "bwrap" : bwrap.string(), kNativeJobPath);
        if (program.empty()) {
            return fmt::format(
                "bubblewrap ({}) is not an executable program here",
                bwrap.empty() ? fmt::format("bwrap on {}", kNativeJobPath) : bwrap.string());
        }
        const auto shell = agent::find_program("sh", kNativeJobPath);
        std::string pattern = (fs::temp_directory_path() / "sihlicon-sandbox-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            return fmt::format("cannot create {} to try the sandbox", pattern);
        }
        const fs::path folder = pattern;
        struct RemoveFolder {
            fs::path path;
            ~RemoveFolder() {
                std::error_code ignored;
                fs::remove_all(path, ignored);
            }
        } cleanup{folder};
        ExecutionRequest request;
        request.work_dir = folder / "job";
        request.input_dir = request.work_dir / "input";
        request.output_dir = request.work_dir / "output";
        fs::create_directories(request.input_dir);
        fs::create_directories(request.output_dir);
        agent::ChildSpec spec;
        spec.program = program;
        spec.arguments = agent::sandbox_arguments(
            request, {{"PATH", std::string(kNativeJobPath)}, {"OUT", request.output_dir.string()}},
            1 << 20);
        // The probe writes its output, and cannot see the host's file next to its folder.
        spec.arguments.insert(spec.arguments.end(),
                              {shell.string(), "-c", "[ ! -e ../stderr.txt ] && : > \"$OUT/ok\""});
        spec.environment = {{"PATH", std::string(kNativeJobPath)}, {"LANG", "C.UTF-8"}};
        spec.working_dir = folder;
        spec.stderr_file = folder / "stderr.txt";
        spec.timeout = kProbeTimeout;
        const auto result = agent::run_child(spec, std::stop_token{});
        if (result.outcome == ExecutionOutcome::succeeded &&
            fs::exists(request.output_dir / "ok")) {
            return std::nullopt;
        }
        std::ifstream file(spec.stderr_file, std::ios::binary);
        std::string error(std::istreambuf_iterator<char>(file), {});
        if (error.size() > kProbeErrorText) {
            error.resize(kProbeErrorText);
        }
        while (!error.empty() && (error.back() == '\n' || error.back() == '\r')) {
            error.pop_back();
        }
        return fmt::format(
            "bubblewrap ({}) cannot make the sandbox here: {}{}", program.string(),
            result.message.empty() ? "the probe saw more than its own folders" : result.message,
            error.empty() ? "" : ": " + error);
    } catch (const std::exception& error) {
        return fmt::format("bubblewrap cannot be tried here: {}", error.what());
    }
}

}  // namespace sihlicon
