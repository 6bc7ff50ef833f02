// SPDX-License-Identifier: Apache-2.0
//
// Heat totals over the hubs of a site or region: each hub's stats or series as the ledger
// computes them, summed exactly (checked int64), in the caller's transaction.
#include "heat/ledger_rows.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>

namespace sihlicon {

std::string_view to_string(HubGroupKind kind) noexcept {
    return kind == HubGroupKind::region ? "region" : "site";
}

HubGroupKind parse_hub_group_kind(std::string_view text, std::string_view field) {
    if (text == "site") {
        return HubGroupKind::site;
    }
    if (text == "region") {
        return HubGroupKind::region;
    }
    throw Error::invalid(field, text, "must be site or region");
}

namespace {

constexpr std::size_t kMaxGroupName = 256;

// The ids of the group's hubs, sorted. Throws as HeatLedger::group_stats says.
std::vector<std::string> hubs_of(store::Transaction& tx, const HubGroup& group) {
    const auto field = to_string(group.kind);
    if (group.name.empty() || group.name.size() > kMaxGroupName) {
        throw Error::invalid(field, group.name, "must be 1 to 256 bytes");
    }
    require_plain_text(field, group.name);
    // The column is chosen from the enum, never from the caller's text.
    auto statement = tx.prepare(group.kind == HubGroupKind::region
                                    ? "SELECT id FROM hubs WHERE region = ? ORDER BY id"
                                    : "SELECT id FROM hubs WHERE site = ? ORDER BY id");
    statement.bind_all(group.name);
    std::vector<std::string> ids;
    while (statement.step()) {
        ids.push_back(statement.column_text(0));
    }
    if (ids.empty()) {
        throw Error(ErrorCode::not_found, fmt::format("no hub at {} '{}'", field, group.name),
                    std::string(field));
    }
    return ids;
}

// Runs `sum`; an overflow (Error(invalid_argument) from checked arithmetic) is reported
// naming the group.
template <typename Sum>
void summing(const HubGroup& group, const Sum& sum) {
    try {
        sum();
    } catch (const Error& error) {
        if (error.code() != ErrorCode::invalid_argument) {
            throw;
        }
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("the heat totals of {} '{}' do not fit int64: {}",
                                to_string(group.kind), group.name, error.what()),
                    std::string(to_string(group.kind)));
    }
}

}  // namespace

HeatGroupStats heat::group_stats_in(store::Transaction& tx, const HubGroup& group) {
    HeatGroupStats totals;
    totals.group = group;
    totals.hub_ids = hubs_of(tx, group);
    for (const auto& hub_id : totals.hub_ids) {
        totals.hubs.push_back(stats_in(tx, hub_id));
    }
    const auto& first = totals.hubs.front();
    totals.total_credit = Money(0, first.total_credit.currency());
    totals.unsettled_credit = Money(0, first.total_credit.currency());
    for (const auto& stats : totals.hubs) {
        if (stats.total_credit.currency() != first.total_credit.currency()) {
            throw Error(ErrorCode::conflict,
                        fmt::format("hubs of {} '{}' credit heat in different currencies: '{}' in "
                                    "{}, '{}' in {}",
                                    to_string(group.kind), group.name, first.hub_id,
                                    first.total_credit.currency().code(), stats.hub_id,
                                    stats.total_credit.currency().code()),
                        "currency");
        }
        summing(group, [&] {
            totals.total_heat += stats.total_heat;
            totals.total_credit += stats.total_credit;
            totals.unsettled_credit += stats.unsettled_credit;
            totals.period_count =
                checked::add(totals.period_count, stats.period_count, "period count addition");
        });
        if (stats.last_period_end &&
            (!totals.last_period_end || *stats.last_period_end > *totals.last_period_end)) {
            totals.last_period_end = stats.last_period_end;
        }
    }
    return totals;
}

HeatGroupSeries heat::group_series_in(store::Transaction& tx, const HubGroup& group,
                                      SeriesResolution resolution, const SeriesSpan& buckets,
                                      Timestamp now) {
    HeatGroupSeries totals;
    totals.group = group;
    totals.hub_ids = hubs_of(tx, group);
    totals.resolution = resolution;
    for (const auto& hub_id : totals.hub_ids) {
        const auto series = series_in(tx, hub_id, resolution, buckets, now);
        if (totals.points.empty()) {
            totals.points = series.points;
            continue;
        }
        for (std::size_t i = 0; i < series.points.size(); ++i) {
            auto& point = totals.points[i];
            const auto& add = series.points[i];
            summing(group, [&] {
                point.electricity += add.electricity;
                point.heat += add.heat;
                point.heat_demand += add.heat_demand;
                point.records = checked::add(point.records, add.records, "record count addition");
            });
        }
    }
    return totals;
}

}  // namespace sihlicon
