// SPDX-License-Identifier: Apache-2.0
//
// Reading the workers that compete for a hub's jobs (placement.hpp, "Routing among competing
// workers"), for claim() and explain().
#include "heat/heat_internal.hpp"
#include "scheduler/rows.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sihlicon::scheduler {

namespace {

// The hubs other than `hub` that want heat now (unmet demand in the heat ledger), are not
// curtailed and have a worker online: heat-demand-first leaves them the unpinned work.
std::vector<HubRecord> hubs_wanting_heat(store::Transaction& tx, const HubRecord& hub,
                                         Timestamp now) {
    auto others = tx.prepare(fmt::format(
        "SELECT {} FROM hubs h WHERE h.id <> ? AND h.grid_signal <> 'curtail' AND EXISTS "
        "(SELECT 1 FROM workers w WHERE w.hub_id = h.id AND w.status IN ('online', 'busy')) "
        "ORDER BY h.id",
        kHubColumns));
    others.bind_all(hub.spec.id);
    std::vector<HubRecord> candidates;
    while (others.step()) {
        candidates.push_back(read_hub(others));
    }
    std::erase_if(candidates, [&](const HubRecord& other) {
        return detail::unmet_heat_demand_w(tx, other.spec.id, now) <= 0;
    });
    return candidates;
}

// The live workers of hub `hubs[index]`, as contenders of that hub.
void add_workers(store::Transaction& tx, Competition& competition, std::size_t index, Timestamp now,
                 std::chrono::milliseconds offline_after, const WorkerRecord* claimant) {
    auto rows = tx.prepare(
        fmt::format("SELECT {}, COALESCE((SELECT round_robin_turn FROM worker_routing r WHERE "
                    "r.worker_id = workers.id), 0) FROM workers WHERE hub_id = ? AND status NOT IN "
                    "('offline', 'draining') AND last_heartbeat_at >= ? ORDER BY id",
                    kWorkerColumns));
    rows.bind_all(competition.hubs[index].spec.id, (now - offline_after).ms());
    while (rows.step()) {
        Contender contender;
        contender.worker = read_worker(rows);
        contender.hub = index;
        contender.turn = rows.column_int64(kWorkerColumnCount);
        if (claimant && contender.worker.spec.id == claimant->spec.id) {
            // The claiming worker as the claim holds it (with what it took so far), first.
            contender.worker = *claimant;
            competition.contenders.insert(competition.contenders.begin(), std::move(contender));
        } else {
            competition.contenders.push_back(std::move(contender));
        }
    }
}

}  // namespace

Competition load_competition(store::Transaction& tx, const HubRecord& hub,
                             const WorkerRecord* claimant, Timestamp now,
                             std::chrono::milliseconds offline_after,
                             const ReputationScore& reputation) {
    Competition competition;
    competition.policy = hub.spec.routing_policy;
    competition.hubs.push_back(hub);
    competition.wants_heat.push_back(false);
    if (competition.policy == RoutingPolicy::heat_demand_first) {
        competition.wants_heat[0] = detail::unmet_heat_demand_w(tx, hub.spec.id, now) > 0;
        if (!competition.wants_heat[0]) {
            for (auto& other : hubs_wanting_heat(tx, hub, now)) {
                competition.hubs.push_back(std::move(other));
                competition.wants_heat.push_back(true);
            }
        }
    }
    if (competition.policy == RoutingPolicy::round_robin) {
        auto turn = tx.prepare("SELECT round_robin_turn FROM hubs WHERE id = ?");
        turn.bind_all(hub.spec.id);
        if (turn.step()) {
            competition.turn = turn.column_int64(0);
        }
    }
    for (std::size_t i = 0; i < competition.hubs.size(); ++i) {
        add_workers(tx, competition, i, now, offline_after, claimant);
    }
    if (claimant && (competition.contenders.empty() ||
                     competition.contenders.front().worker.spec.id != claimant->spec.id)) {
        // A claimant whose own row did not match (its heartbeat is older than the window but
        // tick() has not marked it yet): it still asks, first.
        competition.contenders.insert(competition.contenders.begin(),
                                      Contender{*claimant, 0, 0, 0});
    }
    if (competition.contenders.size() > 1 && reputation) {
        for (auto& contender : competition.contenders) {
            contender.reputation_ppm = reputation(tx, contender.worker.spec.id, now, offline_after);
        }
    }
    return competition;
}

}  // namespace sihlicon::scheduler
