// SPDX-License-Identifier: Apache-2.0
#include "settlement/demand.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace sihlicon::settlement {

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kOne = 1'000'000;

}  // namespace

DemandPrice demand_price(std::int64_t base_price, const DemandSignals& signals,
                         const HubSettings& options) {
    DemandPrice result;
    const auto depth =
        std::clamp<std::int64_t>(signals.queue_depth, 0, options.demand_full_queue_depth);
    result.queue_ppm = depth * kOne / options.demand_full_queue_depth;
    if (signals.offered_cpu_millicores <= 0) {
        result.utilisation_ppm = kOne;  // nothing offered: demand exceeds supply
    } else {
        const auto leased = std::clamp<std::int64_t>(signals.leased_cpu_millicores, 0,
                                                     signals.offered_cpu_millicores);
        result.utilisation_ppm = static_cast<std::int64_t>(static_cast<Int128>(leased) * kOne /
                                                           signals.offered_cpu_millicores);
    }
    result.demand_ppm = (result.queue_ppm + result.utilisation_ppm) / 2;
    result.multiplier_ppm =
        options.demand_min_ppm +
        (options.demand_max_ppm - options.demand_min_ppm) * result.demand_ppm / kOne;
    const Int128 scaled = static_cast<Int128>(base_price) * result.multiplier_ppm + kOne / 2;
    const Int128 price = scaled / kOne;
    if (price > std::numeric_limits<std::int64_t>::max()) {
        throw Error::invalid("price", std::to_string(base_price),
                             fmt::format("times the demand multiplier {} ppm overflows the signed "
                                         "64-bit range",
                                         result.multiplier_ppm));
    }
    result.price = static_cast<std::int64_t>(price);
    return result;
}

DemandSignals read_demand(store::Transaction& tx, std::string_view job_id,
                          const std::optional<std::string>& hub_id, const HubSettings& options) {
    DemandSignals signals;
    {
        // Counting stops at the depth where the queue's pressure is full, so a long queue
        // costs no more than a short one.
        auto row = tx.prepare(
            "SELECT COUNT(*) FROM (SELECT id FROM jobs WHERE status = 'queued' AND queue_hub = ? "
            "AND id <> ? LIMIT ?) ahead");
        row.bind_all(hub_id.value_or(""), job_id, options.demand_full_queue_depth);
        row.step();
        signals.queue_depth = row.column_int64(0);
    }
    auto row = tx.prepare(
        "SELECT COALESCE(SUM(used_cpu_millicores), 0), COALESCE(SUM(cpu_millicores), 0) "
        "FROM workers WHERE status IN ('online', 'busy') AND (? IS NULL OR hub_id = ?)");
    row.bind_all(hub_id, hub_id);
    row.step();
    signals.leased_cpu_millicores = row.column_int64(0);
    signals.offered_cpu_millicores = row.column_int64(1);
    return signals;
}

}  // namespace sihlicon::settlement
