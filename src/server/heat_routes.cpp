// SPDX-License-Identifier: Apache-2.0
//
// The REST contract's Heat Services API (seed-api-contracts.md; server.hpp lists the
// endpoints) over the hub's HeatLedger: credits and stats for clients and operators (a hub's
// heat figures are the hub's public accounting, as the REST examples serve them), settlement
// for operators only. The settle body is decoded by the core's codec (HeatPeriod::from_json).
#include "server/api.hpp"

#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/time.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <optional>

namespace sihlicon::server {

namespace {

const std::vector<Role> kClientsAndOperators{Role::client, Role::hub_operator};
const std::vector<Role> kOperators{Role::hub_operator};

const std::string& required_parameter(const std::map<std::string, std::string>& query,
                                      std::string_view name) {
    const auto it = query.find(std::string(name));
    if (it == query.end() || it->second.empty()) {
        throw Error::invalid(name, "", "is required");
    }
    return it->second;
}

std::optional<Timestamp> instant_parameter(const std::map<std::string, std::string>& query,
                                           std::string_view name) {
    const auto it = query.find(std::string(name));
    if (it == query.end()) {
        return std::nullopt;
    }
    return parse_iso8601(it->second, name);
}

// GET /api/heat/credits?hubId=&start=&end= -> {"success", "credit": HeatCredit}
Response credits(const Request& request) {
    const auto query = query_of(request.target, {"hubId", "start", "end"});
    const auto credit = request.hub->heat_ledger().credits(required_parameter(query, "hubId"),
                                                           instant_parameter(query, "start"),
                                                           instant_parameter(query, "end"));
    return {200, success_with("credit", credit.to_json()), {}};
}

// GET /api/heat/stats?hubId= -> {"success", "stats": HeatStats}; ?site= or ?region= (exactly
// one of the three) -> {"success", "stats": HeatGroupStats}, summed over the group's hubs.
Response stats(const Request& request) {
    const auto query = query_of(request.target, {"hubId", "site", "region"});
    if (query.size() > 1) {
        const auto& second = *std::next(query.begin());
        throw Error::invalid(second.first, second.second,
                             "may not be combined with another of hubId, site and region");
    }
    for (const auto kind : {HubGroupKind::site, HubGroupKind::region}) {
        if (const auto it = query.find(std::string(to_string(kind))); it != query.end()) {
            const auto group = request.hub->heat_ledger().group_stats({kind, it->second});
            return {200, success_with("stats", group.to_json()), {}};
        }
    }
    const auto hub_stats = request.hub->heat_ledger().stats(required_parameter(query, "hubId"));
    return {200, success_with("stats", hub_stats.to_json()), {}};
}

// POST /api/heat/settle {hubId, periodStart, periodEnd} -> {"success", "settledCreditChf"
// (minor units), "currency", "settlement": HeatSettlement}
Response settle(const Request& request) {
    query_of(request.target, {});
    const auto period = HeatPeriod::from_json(request.body);
    const auto settled =
        request.hub->heat_ledger().settle(request.identity->acting_principal(), period.hub_id,
                                          period.period_start, period.period_end);
    const boost::json::object answer{
        {"success", true},
        {"settledCreditChf", settled.credit.minor_units()},
        {"currency", settled.credit.currency().code()},
        {"settlement", boost::json::parse(settled.to_json())},
    };
    return {200, boost::json::serialize(answer), {}};
}

}  // namespace

void add_heat_routes(RouteTable& table, Hub& /*hub*/) {
    table.add({"GET", "/api/heat/credits", false, kClientsAndOperators, credits});
    table.add({"GET", "/api/heat/stats", false, kClientsAndOperators, stats});
    table.add({"POST", "/api/heat/settle", false, kOperators, settle});
}

}  // namespace sihlicon::server
