// SPDX-License-Identifier: Apache-2.0
//
// What other services call inside their own transactions. Not installed.
//
// The scheduler:
//   - record_job_heat(tx, core, hub_id, job_id, electrical, source, at) inside its completion
//     transaction, so the completion and its heat commit together or not at all; it returns
//     the record, whose `thermal` is the job's heatGeneratedKwh;
//   - record_heat_demand(tx, core, hub_id, watts, at, valid_until) inside the transaction that
//     changes a hub's heat demand;
//   - unmet_heat_demand_w(tx, hub_id, now, window) while routing (heat-demand-first).
// The settlement service (issue 6):
//   - set_settlement_posting(ledger, posting) once, at construction: `posting` then runs inside
//     every new settlement's transaction (not for an idempotent repeat), and a throw from it
//     undoes the settlement.
#pragma once

#include "store/database.hpp"

#include <sihlicon/heat_ledger.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace sihlicon::detail {

// Records the heat of a completed job: reads the hub's heat_recovery_ppm, stores
// thermal = electrical.scale_ppm(ppm) with the job's id, updates the hub's buckets, and returns
// the record. `at` is the completion instant.
// Throws Error::invalid for a negative electrical energy (or above 1 TWh), an `at` before
// 1970, or heat that would break a bound of heat_ledger.hpp (field "energy", from finish()
// for a batch); Error(not_found) for an unknown hub; Error(conflict) if the job already has a heat
// record. The caller's transaction is left to roll back on a throw.
// REQUIRES: `tx` is a write transaction.
HeatRecord record_job_heat(store::Transaction& tx, const HubCore& core, std::string_view hub_id,
                           std::string_view job_id, Energy electrical, EnergySource source,
                           Timestamp at);

// The heat records of several completions in one transaction (Scheduler::complete_many): the
// last record sequence and each hub's heat_recovery_ppm are read once, and the buckets are
// updated once, by finish(). record() checks and throws as record_job_heat does.
// REQUIRES: `tx` is a write transaction that outlives the batch; nothing else records heat in
// it until finish().
class JobHeatBatch {
  public:
    explicit JobHeatBatch(store::Transaction& tx);
    ~JobHeatBatch();
    JobHeatBatch(const JobHeatBatch&) = delete;
    JobHeatBatch& operator=(const JobHeatBatch&) = delete;

    HeatRecord record(const HubCore& core, std::string_view hub_id, std::string_view job_id,
                      Energy electrical, EnergySource source, Timestamp at);
    // Adds the batch's records to the buckets. Call once, after the last record.
    void finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Records that the hub's heat demand is `watts` from `at` on (until `valid_until`, if given;
// after it the demand reads as 0). Throws Error::invalid for negative watts or an `at` before
// 1970, Error(not_found) for an unknown hub. REQUIRES: `tx` is a write transaction.
void record_heat_demand(store::Transaction& tx, const HubCore& core, std::string_view hub_id,
                        std::int64_t watts, Timestamp at,
                        std::optional<Timestamp> valid_until = std::nullopt);

// HeatLedger::unmet_heat_demand_w inside the caller's transaction, at `now`.
// Throws Error(not_found) for an unknown hub, Error::invalid for a window not above zero.
std::int64_t unmet_heat_demand_w(store::Transaction& tx, std::string_view hub_id, Timestamp now,
                                 std::chrono::milliseconds window = std::chrono::minutes(15));

// Posts a new settlement elsewhere (the money journal) inside the settle transaction. It must
// only touch `tx`; throwing undoes the settlement.
using SettlementPosting = std::function<void(store::Transaction& tx, const HeatSettlement&)>;

struct HeatLedgerAccess {
    // Installs (or, with an empty function, removes) the posting run by every new settlement.
    // REQUIRES: no settle() runs concurrently (call it while the hub is being opened).
    static void set_settlement_posting(HeatLedger& ledger, SettlementPosting posting);
};

}  // namespace sihlicon::detail
