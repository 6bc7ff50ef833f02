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
//     J's VRAM; W has the executor J needs: "native" for a containerImage of "native",
//     "container" (a container runtime) for any other image;
//  5. H's grid signal allows it: curtail dispatches nothing, throttle only jobs of at least
//     H's throttle_min_priority;
//  6. J's budgeted power fits H's remaining power budget (budget - power of running jobs);
//  7. a deferrable J (with a deadline) runs under a surplus signal, or once it must start to
//     finish in time: now >= deadline - timeout - one lease duration of slack.
// Jobs are offered in order of effective priority: priority + time waited / aging interval,
// which is the fixed key created_at - priority * aging_interval (smaller first).
//
// Routing among competing workers (claim() and explain() both apply it): a claim walks the jobs
// the claiming worker may take, in the order above (or the hub policy's, order_for_policy), and
// for each one asks which worker the hub's routing policy hands it to, among the claiming worker
// and its contenders: the other workers of its hub that are online or busy, whose heartbeat is
// fresh, and that can run that job now (rules 1-7 on their own free resources). The claiming
// worker takes the job only when the policy picks it, and wins a tie on the policy's measure
// (policy_compare); a job the policy gives a contender is
// booked to that contender for the rest of the claim (so the next job is decided on what each
// worker would then hold) and left queued for it. A lone worker, or one no contender can stand
// in for, is never held back. The policies (policy_compare, then ranks_before):
//  - least-loaded: the worker with the fewest running jobs, then (between contenders) the better
//    reputation, then the smaller id (ranks_before): of two idle workers, the first to ask for
//    10 of 10 queued jobs gets 5, the other the other 5.
//  - round-robin: the worker whose last turn (a counter stored in the hub row, each worker's
//    last one in worker_routing) is the oldest, then ranks_before: workers asking in turn
//    alternate. A worker that cannot run a job, or is not online, is not in the running for it, so
//    it never blocks the queue.
//  - bin-packing: the worker where the job leaves the least free capacity (leftover_ppm), so
//    roomier workers stay free for large jobs; then ranks_before.
//  - gpu-match: a job without a GPU goes to a worker without GPUs when one can take it, and a
//    GPU worker takes GPU jobs first (order_for_policy); then ranks_before.
//  - heat-demand-first: a hub with unmet heat demand offers the largest estimatedComputeKwh
//    first. On a hub without demand, the workers of the hubs that want heat (and can run the job)
//    are contenders too and take precedence for jobs pinned to no hub: they get the big jobs,
//    and the hub without demand takes what they cannot. Within a hub, ranks_before.
// Cost: one indexed read of the hub's workers (workers_by_hub) per claim, and for each job
// looked at one placement check per contender; hubs have few workers (tens), so this is small
// beside the job rows the claim reads. A claim reads no reputation (the claimant wins ties on
// the policy's measure, so reputation never decides whether it takes a job); explain() does.
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
    // Its containerImage is not "native": it needs a worker with the "container" executor.
    bool needs_container = false;
};

// The executor a job needs: "container" or "native".
std::string_view executor_needed(const JobNeeds& job);

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

// ---- routing among competing workers (see the file comment) ----------------------------------

// A worker in the running for the jobs of a claim, as it would be after the jobs handed out so
// far in that claim (book()).
struct Contender {
    WorkerRecord worker;
    std::size_t hub = 0;  // index into Competition::hubs
    std::int64_t reputation_ppm = 0;
    std::int64_t turn = 0;  // round-robin: the hub turn at which it last took a job; 0: never
};

struct Competition {
    RoutingPolicy policy = RoutingPolicy::least_loaded;
    // hubs[0] is the hub whose policy applies; others are hubs that want heat
    // (heat-demand-first), with their workers among the contenders.
    std::vector<HubRecord> hubs;
    std::vector<bool> wants_heat;  // per hub: unmet heat demand (heat-demand-first only)
    // In claim(), contenders[0] is the claiming worker.
    std::vector<Contender> contenders;
    std::int64_t turn = 0;  // round-robin: the hub's last turn
};

// How the policy ranks `a` and `b` for `job` (both able to run it) on its own measure: < 0 `a`
// first, > 0 `b` first, 0 a tie. least-loaded: running jobs; round-robin: last turn;
// bin-packing: leftover_ppm; gpu-match: no GPU first for a job without one, then running jobs;
// heat-demand-first: a hub that wants heat first, then running jobs.
int policy_compare(const Competition& competition, const JobNeeds& job, const Contender& a,
                   const Contender& b);

// The contender the policy hands `job` to among those that can run it now (placement_problems
// empty): the first by policy_compare, then ranks_before (reputation, id). The `claimant` (the
// worker asking, if any) wins a tie on policy_compare: holding it back would leave the job
// waiting for a worker no better placed. None when no contender can run the job.
std::optional<std::size_t> taker_of(const Competition& competition, const JobNeeds& job,
                                    Timestamp now, std::chrono::milliseconds slack,
                                    std::optional<std::size_t> claimant);

// Books `job` to a contender: its CPU, memory and GPU, one more running job, the budgeted power
// on its hub, and (round-robin) the next turn.
void book(Competition& competition, std::size_t contender, const JobNeeds& job);

// Why another worker takes `job` rather than the one asking, for explain(), e.g.
// "least-loaded: worker-b (0 running) takes the next job".
std::string held_back_reason(const Competition& competition, std::size_t taker,
                             const JobNeeds& job);

}  // namespace sihlicon::scheduler
