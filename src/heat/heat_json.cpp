// SPDX-License-Identifier: Apache-2.0
//
// Names of the heat ledger's enumerations and the JSON shapes of its values. Energies are
// written as exact decimal kWh numbers ("totalHeatKwh":1.5), never through a double.
#include "core/json.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <array>
#include <utility>

namespace sihlicon {

namespace {

constexpr std::array<std::pair<HeatKind, std::string_view>, 4> kKinds{{
    {HeatKind::job, "job"},
    {HeatKind::battery_losses, "battery-losses"},
    {HeatKind::standalone_heater, "standalone-heater"},
    {HeatKind::other, "other"},
}};

constexpr std::array<std::pair<SeriesResolution, std::string_view>, 2> kResolutions{{
    {SeriesResolution::hour, "hour"},
    {SeriesResolution::day, "day"},
}};

template <class Enum, std::size_t N>
Enum parse_name(const std::array<std::pair<Enum, std::string_view>, N>& names,
                std::string_view text, std::string_view field) {
    std::string expected;
    for (const auto& [value, name] : names) {
        if (name == text) {
            return value;
        }
        expected += expected.empty() ? "" : ", ";
        expected += name;
    }
    throw Error::invalid(field, text, "must be one of " + expected);
}

// A JSON object written key by key, in order.
class JsonObject {
  public:
    JsonObject& raw(std::string_view key, std::string_view json) {
        text_ += text_.size() > 1 ? "," : "";
        text_ += boost::json::serialize(boost::json::string_view(key.data(), key.size()));
        text_ += ':';
        text_ += json;
        return *this;
    }
    JsonObject& string(std::string_view key, std::string_view value) {
        return raw(key,
                   boost::json::serialize(boost::json::string_view(value.data(), value.size())));
    }
    JsonObject& number(std::string_view key, std::int64_t value) {
        return raw(key, std::to_string(value));
    }
    JsonObject& boolean(std::string_view key, bool value) {
        return raw(key, value ? "true" : "false");
    }
    JsonObject& kwh(std::string_view key, Energy energy) {
        return raw(key, energy.to_kwh_string());
    }
    JsonObject& instant(std::string_view key, Timestamp at) { return string(key, to_iso8601(at)); }
    template <class T, class Write>
    JsonObject& optional(std::string_view key, const std::optional<T>& value, Write write) {
        return value ? write(*this, key, *value) : raw(key, "null");
    }
    std::string finish() { return text_ + '}'; }

  private:
    std::string text_ = "{";
};

}  // namespace

std::string_view to_string(HeatKind kind) noexcept {
    for (const auto& [value, name] : kKinds) {
        if (value == kind) {
            return name;
        }
    }
    return "other";
}

HeatKind parse_heat_kind(std::string_view text, std::string_view field) {
    return parse_name(kKinds, text, field);
}

std::string_view to_string(SeriesResolution resolution) noexcept {
    return resolution == SeriesResolution::hour ? "hour" : "day";
}

SeriesResolution parse_series_resolution(std::string_view text, std::string_view field) {
    return parse_name(kResolutions, text, field);
}

std::string HeatRecord::to_json() const {
    JsonObject object;
    object.number("sequence", sequence)
        .string("hubId", hub_id)
        .string("kind", to_string(kind))
        .optional("jobId", job_id,
                  [](JsonObject& o, std::string_view k, const std::string& v) -> JsonObject& {
                      return o.string(k, v);
                  })
        .string("tag", tag)
        .instant("at", at)
        .instant("creditAt", credit_at)
        .optional(
            "electricalKwh", electrical,
            [](JsonObject& o, std::string_view k, Energy v) -> JsonObject& { return o.kwh(k, v); })
        .kwh("thermalKwh", thermal)
        .string("energySource", to_string(source))
        .optional("heatRecoveryPpm", heat_recovery_ppm,
                  [](JsonObject& o, std::string_view k, std::int64_t v) -> JsonObject& {
                      return o.number(k, v);
                  })
        .instant("recordedAt", recorded_at);
    return object.finish();
}

std::string CreditRate::to_json() const {
    JsonObject object;
    object.string("hubId", hub_id)
        .number("ratePerKwh", per_kwh.minor_units())
        .string("currency", per_kwh.currency().code())
        .instant("effectiveFrom", effective_from)
        .boolean("default", is_default);
    return object.finish();
}

std::string HeatCredit::to_json() const {
    JsonObject object;
    object.string("hubId", hub_id)
        .instant("periodStart", period_start)
        .instant("periodEnd", period_end)
        .kwh("totalHeatKwh", total_heat)
        .number("heatCreditChf", credit.minor_units())
        .boolean("settled", settled)
        .string("currency", credit.currency().code());
    return object.finish();
}

std::string HeatStats::to_json() const {
    JsonObject object;
    object.string("hubId", hub_id)
        .kwh("totalHeatKwh", total_heat)
        .number("totalCreditChf", total_credit.minor_units())
        .number("unsettledCreditChf", unsettled_credit.minor_units())
        .number("periodCount", period_count)
        .optional("lastPeriodEnd", last_period_end,
                  [](JsonObject& o, std::string_view k, Timestamp v) -> JsonObject& {
                      return o.instant(k, v);
                  })
        .string("currency", total_credit.currency().code());
    return object.finish();
}

HeatPeriod HeatPeriod::from_json(std::string_view text) {
    const auto value = json::parse(text);
    json::ObjectReader reader(value, "");
    HeatPeriod period;
    period.hub_id = reader.required_string("hubId", kMaxHubIdBytes);
    period.period_start = parse_iso8601(reader.required_string("periodStart", 64), "periodStart");
    period.period_end = parse_iso8601(reader.required_string("periodEnd", 64), "periodEnd");
    reader.finish();
    return period;
}

std::string HeatSettlement::to_json() const {
    JsonObject object;
    object.string("hubId", hub_id)
        .instant("periodStart", period_start)
        .instant("periodEnd", period_end)
        .kwh("totalHeatKwh", total_heat)
        .number("settledCreditChf", credit.minor_units())
        .string("currency", credit.currency().code())
        .number("recordCount", record_count)
        .instant("settledAt", settled_at);
    return object.finish();
}

namespace {

std::string points_json(const std::vector<HeatSeriesPoint>& points) {
    std::string json = "[";
    for (const auto& point : points) {
        JsonObject object;
        object.instant("start", point.start)
            .kwh("electricityKwh", point.electricity)
            .kwh("heatKwh", point.heat)
            .kwh("heatDemandKwh", point.heat_demand)
            .number("records", point.records);
        json += json.size() > 1 ? "," : "";
        json += object.finish();
    }
    return json + ']';
}

}  // namespace

std::string HeatSeries::to_json() const {
    JsonObject object;
    object.string("hubId", hub_id)
        .string("resolution", to_string(resolution))
        .raw("points", points_json(points));
    return object.finish();
}

std::string HeatGroupStats::to_json() const {
    JsonObject object;
    object.string("groupBy", to_string(group.kind))
        .string("group", group.name)
        .raw("hubIds", boost::json::serialize(json::string_array(hub_ids)))
        .kwh("totalHeatKwh", total_heat)
        .number("totalCreditChf", total_credit.minor_units())
        .number("unsettledCreditChf", unsettled_credit.minor_units())
        .number("periodCount", period_count)
        .optional("lastPeriodEnd", last_period_end,
                  [](JsonObject& o, std::string_view k, Timestamp v) -> JsonObject& {
                      return o.instant(k, v);
                  })
        .string("currency", total_credit.currency().code())
        .raw("hubs", json::join_array(hubs));
    return object.finish();
}

std::string HeatGroupSeries::to_json() const {
    JsonObject object;
    object.string("groupBy", to_string(group.kind))
        .string("group", group.name)
        .raw("hubIds", boost::json::serialize(json::string_array(hub_ids)))
        .string("resolution", to_string(resolution))
        .raw("points", points_json(points));
    return object.finish();
}

}  // namespace sihlicon
