// SPDX-License-Identifier: Apache-2.0
//
// Where a job may run: the rules claim() and explain() share, as pure functions over the job's
// needs, the worker's free resources and the hub's state. Not installed.
//
// A queued job J may be leased to worker W on hub H at time `now` when all of these hold:
//  1. W is online or busy (not draining, not offline);
//  2. J waits in H's queue (pinned to H, or preferring H while its preference lasts) or in
//     the queue of jobs pinned to no hub, and H is in J's region constraint, if any;
//  3. W carries every label J requires;
//  4. J fits W's free CPU and memory, and, if J needs a GPU, W has a free GPU with at least
//     J's VRAM;
//  5. H's grid signal allows it: curtail dispatches nothing, throttle only jobs of at least
//     H's throttle_min_priority;
//  6. J's budgeted power fits H's remaining power budget (budget - power of running jobs);
//  7. a deferrable J (with a deadline) runs under a surplus signal, or once it must start to
//     finish in time: now >= deadline - timeout - one lease duration of slack.
// Jobs are offered in order of effective priority: priority + time waited / aging interval,
// which is the fixed key created_at - priority * aging_interval (smaller first).
#pragma once

#include <sihlicon/scheduler.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sihlicon::scheduler {

struct JobNeeds {
    std::string id;
    // The hub whose queue holds the job (rule 2); none: any hub's.
    std::optional<std::string> hub_id;
    // For explain()'s words: whether hub_id is a pin, and when a preference ends (none for a
    // preferred job not queued yet).
    bool pinned = true;
    std::optional<Timestamp> prefer_until;
    std::chrono::milliseconds preference_window{0};
    std::optional<std::string> region;
    std::map<std::string, std::string> labels;
    Resources resources;
    std::int64_t priority = 0;
    std::int64_t sort_key = 0;
    std::int64_t timeout_ms = 0;
    std::optional<Timestamp> deadline;
    // estimatedComputeKwh; read for claims only on a heat-demand-first hub.
    std::optional<Energy> estimated_energy;
};

// The heat `job` is expected to give `hub`: its estimated energy x the hub's heat recovery.
// None when the job has no estimate.
std::optional<Energy> expected_heat(const JobNeeds& job, const HubSpec& hub);

// A queued job considered by claim(), with its bin-packing score.
struct Candidate {
    JobNeeds needs;
    std::optional<std::string> named_hub;  // the hub the job prefers or is pinned to
    std::int64_t leftover = 0;
};

// Why J cannot run on W/H now; empty when it can. Checks rules 1-7 in order and reports
// every rule that fails.
std::vector<std::string> placement_problems(const JobNeeds& job, const WorkerRecord& worker,
                                            const HubRecord& hub, Timestamp now,
                                            std::chrono::milliseconds slack);

// The hub-level rules only (2, 5, 6, 7), for explain() lines about a hub as a whole.
std::vector<std::string> hub_problems(const JobNeeds& job, const HubRecord& hub, Timestamp now,
                                      std::chrono::milliseconds slack);

// The index of a free GPU on `worker` with at least `vram_bytes`, smallest sufficient first.
std::optional<int> free_gpu(const WorkerRecord& worker, std::int64_t vram_bytes);

// A worker as explain() ranks it for a job, with its reputation score (settlement's, 0 when
// none is known).
struct RankedWorker {
    WorkerRecord worker;
    std::int64_t reputation_ppm = 0;
};

// The order of preference between two workers for a job: fewer running jobs first (least
// loaded), then the better reputation (the tie-breaker between otherwise equal workers), then
// the smaller id.
bool ranks_before(const RankedWorker& a, const RankedWorker& b);

// How much of the worker's free CPU and memory (in ppm of its capacity) would stay unused
// after leasing the job: smaller is a tighter fit (bin packing).
std::int64_t leftover_ppm(const JobNeeds& job, const WorkerRecord& worker);

}  // namespace sihlicon::scheduler
