// SPDX-License-Identifier: Apache-2.0
//
// Demand pricing (the hub settings demand_*, HubSettings): the signals read inside a submission's
// transaction and the exact integer rule that turns them and a table price into a price.
// Not installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/settings.hpp>
#include <sihlicon/settlement.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace sihlicon::settlement {

struct DemandSignals {
    std::int64_t queue_depth = 0;  // queued jobs ahead, at most options.demand_full_queue_depth
    std::int64_t leased_cpu_millicores = 0;
    std::int64_t offered_cpu_millicores = 0;  // of online and busy workers
};

struct DemandPrice {
    std::int64_t queue_ppm = 0;
    std::int64_t utilisation_ppm = 0;
    std::int64_t demand_ppm = 0;
    std::int64_t multiplier_ppm = 1'000'000;
    std::int64_t price = 0;  // minor units
};

// The price of `base_price` minor units under `signals` (the rule of settlement.hpp's file comment;
// the bounds are hub settings, validated by HubSettings::validate). Throws Error::invalid("price",
// ...) if the price does not fit int64.
DemandPrice demand_price(std::int64_t base_price, const DemandSignals& signals,
                         const HubSettings& options);

// Reads the signals for job `job_id` whose queue is `queue_hub` ("" for jobs pinned to no hub)
// and whose hub is `hub_id` (none: every hub's workers). REQUIRES: `tx` is open.
DemandSignals read_demand(store::Transaction& tx, std::string_view job_id,
                          const std::optional<std::string>& hub_id, const HubSettings& options);

}  // namespace sihlicon::settlement
