// SPDX-License-Identifier: Apache-2.0
//
// Child processes for the agent, on Boost.Process: each child leads a process group of its
// own (so a kill reaches its grandchildren), dies with the thread that started it
// (PR_SET_PDEATHSIG), runs under the resource limits given, and is waited for with a wall-clock
// deadline and a stop token. Not installed.
#pragma once

#include <sihlicon/worker_agent.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::agent {

struct ChildSpec {
    std::filesystem::path program;  // an absolute path
    std::vector<std::string> arguments;
    std::map<std::string, std::string> environment;  // the whole environment of the child
    std::filesystem::path working_dir;
    std::filesystem::path stdout_file;  // empty: /dev/null
    std::filesystem::path stderr_file;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::int64_t> cpu_seconds;          // RLIMIT_CPU
    std::optional<std::int64_t> address_space_bytes;  // RLIMIT_AS
    std::chrono::milliseconds stop_grace{200};        // SIGTERM .. SIGKILL on a stop
    // Called once the group was killed for a timeout or a stop (e.g. to kill a container).
    std::function<void()> after_kill;
};

// Starts the child and waits for its end, a timeout or a stop. Never throws.
ExecutionResult run_child(const ChildSpec& spec, std::stop_token stop);

// The executable `name` in a PATH-style list (empty: $PATH); empty when there is none. A name
// with a slash is returned as it is when it is executable.
std::filesystem::path find_program(std::string_view name, std::string_view search_path);

// Runs a program and returns its stdout when it exits 0 within `timeout`; else none.
std::optional<std::string> capture_output(const std::filesystem::path& program,
                                          const std::vector<std::string>& arguments,
                                          std::chrono::milliseconds timeout);

// The environment's PATH, or a usual default.
std::string default_search_path();

}  // namespace sihlicon::agent
