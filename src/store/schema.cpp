// SPDX-License-Identifier: Apache-2.0
#include "store/schema.hpp"

#include "auth/schema.hpp"
#include "cas/schema.hpp"
#include "heat/schema.hpp"
#include "hub/event_log.hpp"
#include "hub/peers_schema.hpp"
#include "scheduler/schema.hpp"
#include "settlement/market_schema.hpp"
#include "settlement/schema.hpp"

#include <algorithm>
#include <array>

namespace sihlicon::store {

namespace {

// Version 1: facts about the hub itself (its instance id, when it was created, the version of
// sihlicon that created it), as key/value pairs.
constexpr std::string_view kHubMeta = R"sql(
CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql";

// Version 14: the hub's settings (include/sihlicon/settings.hpp), key -> JSON value text (a key
// never set has its default), and their audit trail. The default upload quota is not here: it
// is the content store's quota of owner "*" (cas_quotas). IF NOT EXISTS: a hub taken back to
// an older version (as the migration tests do) runs it again.
constexpr std::string_view kHubSettings = R"sql(
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at  INTEGER NOT NULL,
    by  TEXT NOT NULL,
    key TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL
);
)sql";

// The scripts of a migration that spans services, joined at compile time: each service keeps
// its own tables' SQL, the migration runs them in one script.
template <const std::string_view&... Scripts>
struct Joined {
    static constexpr auto text = [] {
        std::array<char, (Scripts.size() + ...)> joined{};
        auto at = joined.begin();
        ((at = std::copy(Scripts.begin(), Scripts.end(), at)), ...);
        return joined;
    }();
    static constexpr std::string_view value{text.data(), text.size()};
};

constexpr std::array kMigrations{
    Migration{1, "hub_meta", kHubMeta},
    Migration{2, "scheduler", scheduler::kSchema},
    Migration{3, "content_store", cas::kSchema},
    Migration{4, "heat_ledger", heat::kSchema},
    Migration{5, "settlement", settlement::kSchema},
    Migration{6, "settlement_market", settlement::market::kSchema},
    Migration{7, "scheduler_lighter_job_indexes", scheduler::kLighterJobIndexes},
    Migration{8, "settlement_epoch_jobs_in_epoch_order", settlement::kEpochJobsInEpochOrder},
    Migration{9, "scheduler_running_and_pinned_job_indexes",
              scheduler::kRunningAndPinnedJobIndexes},
    Migration{10, "scheduler_job_state_lists_and_counts", scheduler::kJobStateListsAndCounts},
    Migration{11, "settlement_integer_money", settlement::kIntegerMoney},
    Migration{12, "integer_energy_and_heat_totals",
              Joined<heat::kIntegerEnergy, scheduler::kIntegerJobEnergy>::value},
    Migration{13, "settlement_uptime_spans", settlement::market::kUptimeSpans},
    Migration{14, "scheduler_worker_gpu_stats", scheduler::kWorkerGpuStats},
    Migration{15, "api_tokens", auth::kSchema},
    Migration{16, "hub_settings", kHubSettings},
    Migration{17, "scheduler_routing_turns_and_executors", scheduler::kRoutingTurnsAndExecutors},
    Migration{18, "scheduler_preferred_hubs", scheduler::kPreferredHubs},
    Migration{19, "api_addresses", auth::kAddresses},
    Migration{20, "hub_event_log", events::kSchema},
    Migration{21, "hub_peers", hub::kPeersSchema},
};

constexpr std::array kCountedTables{
    CountedTable{"migrations", "schema_migrations"},
    CountedTable{"hubs", "hubs"},
    CountedTable{"workers", "workers"},
    CountedTable{"jobs", "jobs"},
    CountedTable{"contents", "cas_manifests"},
    CountedTable{"references", "cas_refs"},
    CountedTable{"heatRecords", "heat_records"},
    CountedTable{"heatSettlements", "heat_settlements"},
    CountedTable{"accounts", "settlement_accounts"},
    CountedTable{"transfers", "settlement_transfers"},
    CountedTable{"epochs", "settlement_epochs"},
    CountedTable{"marketTransactions", "settlement_market_transactions"},
};

}  // namespace

std::span<const Migration> hub_migrations() {
    return kMigrations;
}

std::span<const CountedTable> counted_tables() {
    return kCountedTables;
}

}  // namespace sihlicon::store
