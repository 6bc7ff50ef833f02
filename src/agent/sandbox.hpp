// SPDX-License-Identifier: Apache-2.0
//
// What keeps a job away from the hub: where work folders may live, which jobs an agent
// refuses (native jobs off, programs off the allow-list, reserved env names), and the
// bubblewrap sandbox of native jobs. Not installed.
#pragma once

#include <sihlicon/worker_agent.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::agent {

// command[0] of a native job as a path: with a slash, the path itself (lexically normal; a
// relative one stays relative); without, the program of that name on kNativeJobPath (empty
// when there is none).
std::filesystem::path resolve_native_program(std::string_view command);

// The agent's work folder: `requested` made absolute, or a new private folder (then `created`
// is set) under $XDG_RUNTIME_DIR or the temp folder. Throws Error::invalid("work_root", ...)
// when it is the hub folder or inside it (an empty `hub_directory`: a remote hub, no such
// folder here).
std::filesystem::path prepare_work_root(const std::filesystem::path& requested,
                                        const std::filesystem::path& hub_directory, bool& created);

// The operator's rules on what an agent runs.
struct JobPolicy {
    bool native_jobs = true;
    std::vector<std::string> allowed_commands;            // as the operator gave them
    std::vector<std::filesystem::path> allowed_programs;  // resolved; empty: any
};

// The policy of `options`. Throws Error::invalid("allowed_commands", entry, ...) for an entry
// that is no executable program.
JobPolicy job_policy(const AgentOptions& options);

// Why `job` must not run on worker `worker_id` under `policy`, whatever the executor; none
// when it may.
std::optional<std::string> refusal_of(const JobRecord& job, const JobPolicy& policy,
                                      std::string_view worker_id);

// bubblewrap's arguments for one attempt, up to and including "--": the layout that
// ProcessExecutor documents, with `environment` as the whole environment inside.
std::vector<std::string> sandbox_arguments(const ExecutionRequest& request,
                                           const std::map<std::string, std::string>& environment,
                                           std::int64_t scratch_bytes);

}  // namespace sihlicon::agent
