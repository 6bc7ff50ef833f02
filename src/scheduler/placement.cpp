// SPDX-License-Identifier: Apache-2.0
#include "scheduler/placement.hpp"

#include "scheduler/job_spec.hpp"

#include <fmt/format.h>

#include <algorithm>

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

void check_executor(const JobNeeds& job, const WorkerRecord& worker,
                    std::vector<std::string>& problems) {
    const auto& executors = worker.spec.executors;
    if (std::find(executors.begin(), executors.end(), executor_needed(job)) != executors.end()) {
        return;
    }
    problems.push_back(job.needs_container ? "worker has no container runtime"
                                           : "worker does not run native jobs");
}

}  // namespace

std::string_view executor_needed(const JobNeeds& job) {
    return job.needs_container ? "container" : "native";
}

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
    check_executor(job, worker, problems);
    return problems;
}

namespace {

bool ranks_before(const WorkerRecord& a, std::int64_t a_reputation, const WorkerRecord& b,
                  std::int64_t b_reputation) {
    if (a.running_jobs != b.running_jobs) {
        return a.running_jobs < b.running_jobs;
    }
    if (a_reputation != b_reputation) {
        return a_reputation > b_reputation;
    }
    return a.spec.id < b.spec.id;
}

}  // namespace

bool ranks_before(const RankedWorker& a, const RankedWorker& b) {
    return ranks_before(a.worker, a.reputation_ppm, b.worker, b.reputation_ppm);
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

int policy_compare(const Competition& competition, const JobNeeds& job, const Contender& a,
                   const Contender& b) {
    auto compare = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    switch (competition.policy) {
        case RoutingPolicy::round_robin:
            return compare(a.turn, b.turn);
        case RoutingPolicy::bin_packing:
            return compare(leftover_ppm(job, a.worker), leftover_ppm(job, b.worker));
        case RoutingPolicy::gpu_match: {
            const bool a_gpus = !a.worker.spec.gpus.empty();
            const bool b_gpus = !b.worker.spec.gpus.empty();
            if (!job.resources.gpu && a_gpus != b_gpus) {
                return a_gpus ? 1 : -1;
            }
            break;
        }
        case RoutingPolicy::heat_demand_first: {
            const bool a_heat = competition.wants_heat.at(a.hub);
            const bool b_heat = competition.wants_heat.at(b.hub);
            if (a_heat != b_heat) {
                return a_heat ? -1 : 1;
            }
            break;
        }
        case RoutingPolicy::least_loaded:
            break;
    }
    return compare(a.worker.running_jobs, b.worker.running_jobs);
}

std::optional<std::size_t> taker_of(const Competition& competition, const JobNeeds& job,
                                    Timestamp now, std::chrono::milliseconds slack,
                                    std::optional<std::size_t> claimant) {
    auto can_run = [&](const Contender& contender) {
        return placement_problems(job, contender.worker, competition.hubs.at(contender.hub), now,
                                  slack)
            .empty();
    };
    auto before = [&](const Contender& a, const Contender& b) {
        const auto order = policy_compare(competition, job, a, b);
        return order != 0 ? order < 0
                          : ranks_before(a.worker, a.reputation_ppm, b.worker, b.reputation_ppm);
    };
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < competition.contenders.size(); ++i) {
        const auto& contender = competition.contenders[i];
        if ((!best || before(contender, competition.contenders[*best])) && can_run(contender)) {
            best = i;
        }
    }
    if (best && claimant && *best != *claimant) {
        // The worker asking wins a tie on the policy's own measure: holding it back then would
        // leave the job waiting for a worker no better placed.
        const auto& asking = competition.contenders.at(*claimant);
        if (policy_compare(competition, job, competition.contenders[*best], asking) == 0 &&
            can_run(asking)) {
            return claimant;
        }
    }
    return best;
}

void book(Competition& competition, std::size_t contender, const JobNeeds& job) {
    auto& booked = competition.contenders.at(contender);
    auto& worker = booked.worker;
    if (job.resources.gpu) {
        if (const auto gpu = free_gpu(worker, job.resources.gpu_vram_bytes)) {
            worker.gpus_in_use |= std::uint64_t{1} << *gpu;
        }
    }
    worker.used_cpu_millicores += job.resources.cpu_millicores;
    worker.used_memory_bytes += job.resources.memory_bytes;
    worker.running_jobs += 1;
    if (worker.status == WorkerStatus::online) {
        worker.status = WorkerStatus::busy;
    }
    auto& hub = competition.hubs.at(booked.hub);
    hub.running_power_w += budgeted_power_w(job.resources, hub.spec);
    if (competition.policy == RoutingPolicy::round_robin) {
        booked.turn = ++competition.turn;
    }
}

std::string held_back_reason(const Competition& competition, std::size_t taker,
                             const JobNeeds& job) {
    const auto& other = competition.contenders.at(taker);
    const auto& id = other.worker.spec.id;
    const auto policy = to_string(competition.policy);
    switch (competition.policy) {
        case RoutingPolicy::round_robin:
            return fmt::format("{}: it is {}'s turn", policy, id);
        case RoutingPolicy::bin_packing:
            return fmt::format("{}: the job fits {} tighter ({} ppm left)", policy, id,
                               leftover_ppm(job, other.worker));
        case RoutingPolicy::gpu_match:
            if (!job.resources.gpu && other.worker.spec.gpus.empty()) {
                return fmt::format("{}: {} has no GPU and takes jobs without one", policy, id);
            }
            break;
        case RoutingPolicy::heat_demand_first:
            if (competition.wants_heat.at(other.hub)) {
                return fmt::format("{}: {} on hub {}, which wants heat, takes the job", policy, id,
                                   competition.hubs.at(other.hub).spec.id);
            }
            break;
        case RoutingPolicy::least_loaded:
            break;
    }
    return fmt::format("{}: {} ({} running) takes the next job", policy, id,
                       other.worker.running_jobs);
}

}  // namespace sihlicon::scheduler
