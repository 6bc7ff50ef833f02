// SPDX-License-Identifier: Apache-2.0
#include "scheduler/placement.hpp"

#include "scheduler/job_spec.hpp"

#include <fmt/format.h>

namespace sihlicon::scheduler {

namespace {

__extension__ typedef __int128 Int128;

std::string bytes(std::int64_t value) {
    return fmt::format("{} bytes", value);
}

void check_worker_status(const WorkerRecord& worker, std::vector<std::string>& problems) {
    if (worker.status == WorkerStatus::offline) {
        problems.push_back("worker is offline");
    } else if (worker.status == WorkerStatus::draining) {
        problems.push_back("worker is draining");
    }
}

void check_labels(const JobNeeds& job, const WorkerRecord& worker,
                  std::vector<std::string>& problems) {
    for (const auto& [key, value] : job.labels) {
        const auto found = worker.spec.labels.find(key);
        if (found == worker.spec.labels.end() || found->second != value) {
            problems.push_back(fmt::format("worker lacks label {}={}", key, value));
        }
    }
}

void check_resources(const JobNeeds& job, const WorkerRecord& worker,
                     std::vector<std::string>& problems) {
    const auto free_cpu = worker.spec.cpu_millicores - worker.used_cpu_millicores;
    if (job.resources.cpu_millicores > free_cpu) {
        problems.push_back(fmt::format("needs {}m CPU, worker has {}m free",
                                       job.resources.cpu_millicores, free_cpu));
    }
    const auto free_memory = worker.spec.memory_bytes - worker.used_memory_bytes;
    if (job.resources.memory_bytes > free_memory) {
        problems.push_back(fmt::format("needs {} of memory, worker has {} free",
                                       bytes(job.resources.memory_bytes), bytes(free_memory)));
    }
    if (job.resources.gpu && !free_gpu(worker, job.resources.gpu_vram_bytes)) {
        problems.push_back(job.resources.gpu_vram_bytes > 0
                               ? fmt::format("needs a free GPU with {} of VRAM",
                                             bytes(job.resources.gpu_vram_bytes))
                               : std::string("needs a free GPU"));
    }
}

}  // namespace

std::optional<Energy> expected_heat(const JobNeeds& job, const HubSpec& hub) {
    if (!job.estimated_energy) {
        return std::nullopt;
    }
    return job.estimated_energy->scale_ppm(hub.heat_recovery_ppm);
}

std::optional<int> free_gpu(const WorkerRecord& worker, std::int64_t vram_bytes) {
    std::optional<int> best;
    for (std::size_t i = 0; i < worker.spec.gpus.size() && i < 64; ++i) {
        const bool in_use = (worker.gpus_in_use >> i) & 1U;
        const auto vram = worker.spec.gpus[i].vram_bytes;
        if (!in_use && vram >= vram_bytes &&
            (!best || vram < worker.spec.gpus[static_cast<std::size_t>(*best)].vram_bytes)) {
            best = static_cast<int>(i);
        }
    }
    return best;
}

std::vector<std::string> hub_problems(const JobNeeds& job, const HubRecord& hub, Timestamp now,
                                      std::chrono::milliseconds slack) {
    std::vector<std::string> problems;
    if (job.hub_id && *job.hub_id != hub.spec.id) {
        if (job.pinned) {
            problems.push_back(fmt::format("job is pinned to hub {}", *job.hub_id));
        } else if (job.prefer_until) {
            problems.push_back(fmt::format("job has preferred hub {} until {}, then any hub",
                                           *job.hub_id, to_iso8601(*job.prefer_until)));
        } else {
            problems.push_back(
                fmt::format("job has preferred hub {} for {} ms once queued, "
                            "then any hub",
                            *job.hub_id, job.preference_window.count()));
        }
    }
    if (job.region && *job.region != hub.spec.region) {
        problems.push_back(
            fmt::format("job needs region {}, hub is in {}", *job.region, hub.spec.region));
    }
    const auto signal = hub.signal_at(now);
    if (signal == GridSignal::curtail) {
        problems.push_back("hub is curtailed by the grid");
    } else if (signal == GridSignal::throttle && job.priority < hub.spec.throttle_min_priority) {
        problems.push_back(fmt::format("hub is throttled: only priority >= {} runs",
                                       hub.spec.throttle_min_priority));
    }
    const auto power = budgeted_power_w(job.resources, hub.spec);
    const auto remaining = hub.power_budget_at(now) - hub.running_power_w;
    if (power > remaining) {
        problems.push_back(
            fmt::format("needs {} W of power budget, hub has {} W left", power, remaining));
    }
    if (job.deadline && signal != GridSignal::surplus) {
        const Timestamp must_start =
            *job.deadline - std::chrono::milliseconds(job.timeout_ms) - slack;
        if (now < must_start) {
            problems.push_back(fmt::format("deferrable: waits for a surplus window until {}",
                                           to_iso8601(must_start)));
        }
    }
    return problems;
}

std::vector<std::string> placement_problems(const JobNeeds& job, const WorkerRecord& worker,
                                            const HubRecord& hub, Timestamp now,
                                            std::chrono::milliseconds slack) {
    std::vector<std::string> problems;
    check_worker_status(worker, problems);
    auto at_hub = hub_problems(job, hub, now, slack);
    problems.insert(problems.end(), at_hub.begin(), at_hub.end());
    check_labels(job, worker, problems);
    check_resources(job, worker, problems);
    return problems;
}

bool ranks_before(const RankedWorker& a, const RankedWorker& b) {
    if (a.worker.running_jobs != b.worker.running_jobs) {
        return a.worker.running_jobs < b.worker.running_jobs;
    }
    if (a.reputation_ppm != b.reputation_ppm) {
        return a.reputation_ppm > b.reputation_ppm;
    }
    return a.worker.spec.id < b.worker.spec.id;
}

std::int64_t leftover_ppm(const JobNeeds& job, const WorkerRecord& worker) {
    auto share = [](std::int64_t left, std::int64_t capacity) -> std::int64_t {
        return capacity <= 0
                   ? 0
                   : static_cast<std::int64_t>(static_cast<Int128>(left) * 1'000'000 / capacity);
    };
    const auto cpu_left =
        worker.spec.cpu_millicores - worker.used_cpu_millicores - job.resources.cpu_millicores;
    const auto memory_left =
        worker.spec.memory_bytes - worker.used_memory_bytes - job.resources.memory_bytes;
    return share(cpu_left, worker.spec.cpu_millicores) +
           share(memory_left, worker.spec.memory_bytes);
}

}  // namespace sihlicon::scheduler
