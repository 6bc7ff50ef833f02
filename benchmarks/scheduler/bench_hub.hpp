// SPDX-License-Identifier: Apache-2.0
//
// The hub the scheduler benchmarks run on: a fresh folder, durability process_crash, no rate
// limit, optionally the write log, one hub "bench" with room for anything, big workers and
// small no-op jobs.
#pragma once

#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <chrono>
#include <filesystem>
#include <string>

namespace sihlicon::bench {

// An empty folder under the temporary directory, named after `name`.
inline std::filesystem::path fresh_folder(const std::string& name) {
    const auto path = std::filesystem::temp_directory_path() / ("sihlicon-bench-" + name);
    std::filesystem::remove_all(path);
    return path;
}

inline HubOptions hub_options() {
    HubOptions options;
    options.durability = Durability::process_crash;
    options.integrity_check = IntegrityCheck::none;
    options.initial_settings.emplace().submissions_per_hour = 0;
    return options;
}

// `commit_interval` above 0: the hub's write log (HubOptions::commit_interval).
inline Hub open_hub(const std::filesystem::path& path,
                    std::chrono::milliseconds commit_interval = std::chrono::milliseconds(0)) {
    auto options = hub_options();
    options.commit_interval = commit_interval;
    return Hub::open(path, options);
}

inline HubSpec big_hub() {
    HubSpec spec;
    spec.id = "bench";
    spec.name = "Benchmark hub";
    spec.site = "lab";
    spec.region = "CH";
    spec.heat_recovery_ppm = 900'000;
    spec.power_capacity_w = 1'000'000'000'000;
    return spec;
}

inline WorkerSpec big_worker(const std::string& id) {
    WorkerSpec spec;
    spec.id = id;
    spec.hub_id = "bench";
    spec.cpu_millicores = 1'000'000'000;
    spec.memory_bytes = 1LL << 50;
    spec.executors = {"native", "container"};  // the benchmark's jobs name a container image
    return spec;
}

inline JobSpec small_job() {
    JobSpec spec;
    spec.type = JobType::custom;
    spec.name = "bench";
    spec.owner = "client";
    spec.workload.container_image = "busybox";
    spec.workload.resources.cpu_millicores = 100;
    spec.workload.resources.memory_bytes = 1 << 20;
    return spec;
}

inline JobCompletion done() {
    JobCompletion completion;
    completion.energy = Energy::milliwatt_hours(1000);
    return completion;
}

}  // namespace sihlicon::bench
