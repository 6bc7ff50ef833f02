// SPDX-License-Identifier: Apache-2.0
#define BOOST_PROCESS_USE_STD_FS 1
#include "agent/subprocess.hpp"

#include <fmt/format.h>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/start_dir.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

namespace bp = boost::process;

namespace sihlicon::agent {

namespace {

constexpr std::chrono::milliseconds kPollStep{5};

// Runs in the child between fork and exec (async-signal-safe calls only), and in the parent
// once the child exists.
struct ChildSetup : bp::extend::handler {
    std::optional<std::int64_t> cpu_seconds;
    std::optional<std::int64_t> address_space_bytes;
    pid_t parent = 0;

    template <class Executor>
    void on_exec_setup(Executor& /*executor*/) const {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);  // the agent died before the child could ask to die with it
        }
        if (cpu_seconds) {
            const auto seconds = static_cast<rlim_t>(*cpu_seconds);
            const rlimit limit{seconds, seconds + 1};
            ::setrlimit(RLIMIT_CPU, &limit);
        }
        if (address_space_bytes) {
            const auto bytes = static_cast<rlim_t>(*address_space_bytes);
            const rlimit limit{bytes, bytes};
            ::setrlimit(RLIMIT_AS, &limit);
        }
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
    }

    template <class Executor>
    void on_success(Executor& executor) const {
        ::setpgid(executor.pid, executor.pid);  // closes the race with an early kill
    }
};

void kill_group(pid_t group, int signal_number) {
    if (group > 0) {
        ::kill(-group, signal_number);
    }
}

}  // namespace

std::string default_search_path() {
    const char* path = std::getenv("PATH");
    return path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
}

std::filesystem::path find_program(std::string_view name, std::string_view search_path) {
    if (name.empty()) {
        return {};
    }
    if (name.find('/') != std::string_view::npos) {
        return ::access(std::string(name).c_str(), X_OK) == 0 ? std::filesystem::path(name)
                                                              : std::filesystem::path{};
    }
    const std::string list = search_path.empty() ? default_search_path() : std::string(search_path);
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto end = std::min(list.find(':', start), list.size());
        const auto folder = list.substr(start, end - start);
        if (!folder.empty()) {
            const auto candidate = std::filesystem::path(folder) / std::string(name);
            std::error_code error;
            if (std::filesystem::is_regular_file(candidate, error) &&
                ::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
        }
        start = end + 1;
    }
    return {};
}

ExecutionResult run_child(const ChildSpec& spec, std::stop_token stop) {
    using Clock = std::chrono::steady_clock;
    ExecutionResult result;
    const auto started = Clock::now();
    auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    };
    bp::environment environment;
    environment.clear();
    for (const auto& [name, value] : spec.environment) {
        environment[name] = value;
    }
    ChildSetup setup;
    setup.cpu_seconds = spec.cpu_seconds;
    setup.address_space_bytes = spec.address_space_bytes;
    setup.parent = ::getpid();
    const std::filesystem::path null_device = "/dev/null";
    std::error_code launch_error;
    bp::child child(bp::exe = spec.program, bp::args = spec.arguments,
                    bp::start_dir = spec.working_dir, environment,
                    bp::std_in<null_device, bp::std_out>(
                        spec.stdout_file.empty() ? null_device : spec.stdout_file),
                    bp::std_err > (spec.stderr_file.empty() ? null_device : spec.stderr_file),
                    setup, launch_error);
    if (launch_error || !child.valid()) {
        result.outcome = ExecutionOutcome::refused;
        result.message = fmt::format("cannot start {}: {}", spec.program.string(),
                                     launch_error ? launch_error.message() : "unknown error");
        return result;
    }
    const pid_t group = child.id();
    // Points in time as time_point::max() for "never": with std::optional here GCC 12 at -O2
    // warns, falsely, that the value "may be used uninitialized".
    constexpr auto kNever = Clock::time_point::max();
    const auto deadline = spec.timeout ? started + *spec.timeout : kNever;
    auto kill_at = kNever;  // after a stop: SIGKILL when the grace ends
    bool timed_out = false;
    bool stopped = false;
    for (;;) {
        std::error_code error;
        if (!child.running(error) || error) {
            break;
        }
        const auto now = Clock::now();
        if (!timed_out && now >= deadline) {
            timed_out = true;
            kill_group(group, SIGKILL);
            if (spec.after_kill) {
                spec.after_kill();
            }
        } else if (!stopped && !timed_out && stop.stop_requested()) {
            stopped = true;
            kill_group(group, SIGTERM);
            kill_at = now + spec.stop_grace;
        } else if (now >= kill_at) {
            kill_at = kNever;
            kill_group(group, SIGKILL);
            if (spec.after_kill) {
                spec.after_kill();
            }
        }
        std::this_thread::sleep_for(kPollStep);
    }
    // Whatever the child left in its group (daemons, background jobs) ends with it.
    kill_group(group, SIGKILL);
    result.wall = elapsed();
    const int status = child.native_exit_code();
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.term_signal = WTERMSIG(status);
    }
    if (timed_out) {
        result.outcome = ExecutionOutcome::timed_out;
        result.message = fmt::format("timed out after {} s: its process group was killed",
                                     spec.timeout->count() / 1000);
    } else if (stopped) {
        result.outcome = ExecutionOutcome::cancelled;
        result.message = "stopped by the agent: its process group was killed";
    } else if (result.exit_code == 0) {
        result.outcome = ExecutionOutcome::succeeded;
    } else if (result.exit_code) {
        result.outcome = ExecutionOutcome::failed;
        result.message = fmt::format("exited with status {}", *result.exit_code);
    } else {
        result.outcome = ExecutionOutcome::failed;
        result.message = fmt::format("killed by signal {} ({})", result.term_signal.value_or(0),
                                     ::strsignal(result.term_signal.value_or(0)));
    }
    return result;
}

std::optional<std::string> capture_output(const std::filesystem::path& program,
                                          const std::vector<std::string>& arguments,
                                          std::chrono::milliseconds timeout) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sihlicon-capture-XXXXXX").string();
    const int descriptor = ::mkstemp(pattern.data());
    if (descriptor < 0) {
        return std::nullopt;
    }
    ::close(descriptor);
    ChildSpec spec;
    spec.program = program;
    spec.arguments = arguments;
    spec.environment = {{"PATH", default_search_path()}, {"LANG", "C.UTF-8"}};
    if (const char* home = std::getenv("HOME")) {
        spec.environment["HOME"] = home;
    }
    spec.working_dir = std::filesystem::temp_directory_path();
    spec.stdout_file = pattern;
    spec.timeout = timeout;
    const auto result = run_child(spec, std::stop_token{});
    std::optional<std::string> output;
    if (result.outcome == ExecutionOutcome::succeeded) {
        std::ifstream file(pattern, std::ios::binary);
        output.emplace(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    std::error_code ignored;
    std::filesystem::remove(pattern, ignored);
    return output;
}

}  // namespace sihlicon::agent
