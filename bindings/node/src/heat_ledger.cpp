// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.HeatLedger: heat records, credit rates, the seed's credits, stats and settlement,
// all synchronous (each is one short transaction). Energies are given as `<name>Mwh` integers
// or exact `<name>Kwh` decimals; records come back as their to_json() objects (kWh as exact
// decimal numbers, credits in minor units).
#include "common.hpp"

namespace sihlicon::node {
namespace {

// {hubId, kind, tag?, at?, thermalMwh | thermalKwh, electricalMwh | electricalKwh?, source?}.
ManualHeat manual_heat(const Napi::Value& value, const std::string& field) {
    const auto given = options(value, field);
    ManualHeat heat;
    heat.hub_id = text(given.Get("hubId"), field + ".hubId");
    heat.kind = parse_heat_kind(optional_text(given.Get("kind"), field + ".kind").value_or("other"),
                                field + ".kind");
    heat.tag = optional_text(given.Get("tag"), field + ".tag").value_or("");
    heat.at = optional_timestamp(given.Get("at"), field + ".at");
    auto thermal = optional_energy(given, "thermal");
    if (!thermal) {
        throw Error::invalid(field + ".thermalKwh", "", "is required (or thermalMwh)");
    }
    heat.thermal = *thermal;
    heat.electrical = optional_energy(given, "electrical");
    if (auto source = optional_text(given.Get("source"), field + ".source")) {
        heat.source = parse_energy_source(*source, field + ".source");
    }
    return heat;
}

class HeatLedgerObject : public Handle<HeatLedgerObject> {
  public:
    static constexpr const char* kName = "HeatLedger";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a5ULL, 0x9b05688c2b3e6c1fULL};

    explicit HeatLedgerObject(const Napi::CallbackInfo& info)
        : Handle<HeatLedgerObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {}

    static Napi::Function define(Napi::Env env) {
        using H = HeatLedgerObject;
        return define_class(
            env,
            {entry<&H::record_>(env, "record"), entry<&H::record_many>(env, "recordMany"),
             entry<&H::set_credit_rate>(env, "setCreditRate"),
             entry<&H::credit_rates>(env, "creditRates"), entry<&H::credits>(env, "credits"),
             entry<&H::stats>(env, "stats"), entry<&H::settle>(env, "settle"),
             entry<&H::settlements>(env, "settlements"), entry<&H::series>(env, "series"),
             entry<&H::group_stats>(env, "groupStats"), entry<&H::group_series>(env, "groupSeries"),
             entry<&H::unmet_heat_demand_w>(env, "unmetHeatDemandW")});
    }

  private:
    template <typename Work>
    auto on(Work&& work) {
        return with_hub(handle_, [&](Hub& hub) { return work(hub.heat_ledger()); });
    }

    Napi::Value record_(const Napi::CallbackInfo& info) {
        const auto heat = manual_heat(info[0], "heat");
        return record(info.Env(), on([&](HeatLedger& h) { return h.record(heat); }));
    }
    Napi::Value record_many(const Napi::CallbackInfo& info) {
        if (!info[0].IsArray()) {
            throw Error::invalid("records", "", "must be an array");
        }
        auto array = info[0].As<Napi::Array>();
        std::vector<ManualHeat> heat;
        for (std::uint32_t i = 0; i < array.Length(); ++i) {
            heat.push_back(manual_heat(array.Get(i), "records[" + std::to_string(i) + "]"));
        }
        return records(info.Env(), on([&](HeatLedger& h) { return h.record_many(heat); }));
    }
    // setCreditRate(hubId, ratePerKwh ("0.05"), currency = "CHF", effectiveFrom = 0).
    Napi::Value set_credit_rate(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto currency = Currency::of(optional_text(info[2], "currency").value_or("CHF"));
        const auto rate = money(info[1], currency, "ratePerKwh");
        const auto from = optional_timestamp(info[3], "effectiveFrom").value_or(Timestamp{});
        return record(info.Env(),
                      on([&](HeatLedger& h) { return h.set_credit_rate(hub_id, rate, from); }));
    }
    Napi::Value credit_rates(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        return records(info.Env(), on([&](HeatLedger& h) { return h.credit_rates(hub_id); }));
    }
    // credits(hubId, start?, end?): the seed's GET /api/heat/credits.
    Napi::Value credits(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto start = optional_timestamp(info[1], "start");
        const auto end = optional_timestamp(info[2], "end");
        return record(info.Env(), on([&](HeatLedger& h) { return h.credits(hub_id, start, end); }));
    }
    Napi::Value stats(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        return record(info.Env(), on([&](HeatLedger& h) { return h.stats(hub_id); }));
    }
    // settle(hubId, periodStart, periodEnd): the seed's POST /api/heat/settle.
    Napi::Value settle(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto start = timestamp(info[1], "periodStart");
        const auto end = timestamp(info[2], "periodEnd");
        return record(info.Env(), on([&](HeatLedger& h) { return h.settle(hub_id, start, end); }));
    }
    Napi::Value settlements(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        return records(info.Env(), on([&](HeatLedger& h) { return h.settlements(hub_id); }));
    }
    // series(hubId, resolution ("hour" | "day"), from, to).
    Napi::Value series(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto resolution = parse_series_resolution(text(info[1], "resolution"));
        const auto from = timestamp(info[2], "from");
        const auto to = timestamp(info[3], "to");
        return record(info.Env(),
                      on([&](HeatLedger& h) { return h.series(hub_id, resolution, from, to); }));
    }
    // groupStats(groupBy ("site" | "region"), group): stats summed over the group's hubs.
    Napi::Value group_stats(const Napi::CallbackInfo& info) {
        const HubGroup group{parse_hub_group_kind(text(info[0], "groupBy")),
                             std::string(text(info[1], "group"))};
        return record(info.Env(), on([&](HeatLedger& h) { return h.group_stats(group); }));
    }
    // groupSeries(groupBy, group, resolution, from, to): series summed bucket by bucket.
    Napi::Value group_series(const Napi::CallbackInfo& info) {
        const HubGroup group{parse_hub_group_kind(text(info[0], "groupBy")),
                             std::string(text(info[1], "group"))};
        const auto resolution = parse_series_resolution(text(info[2], "resolution"));
        const auto from = timestamp(info[3], "from");
        const auto to = timestamp(info[4], "to");
        return record(info.Env(), on([&](HeatLedger& h) {
                          return h.group_series(group, resolution, from, to);
                      }));
    }
    // unmetHeatDemandW(hubId, windowMs = 15 minutes).
    Napi::Value unmet_heat_demand_w(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto window = optional_integer(info[1], "windowMs").value_or(15 * 60 * 1000);
        const auto watts = on([&](HeatLedger& h) {
            return h.unmet_heat_demand_w(hub_id, std::chrono::milliseconds(window));
        });
        return Napi::Number::New(info.Env(), static_cast<double>(watts));
    }

    std::shared_ptr<HubHandle> handle_;
};

}  // namespace

// HeatLedger.periodFromJson(text): the body of POST /api/heat/settle decoded by the core
// (HeatPeriod::from_json) -> {hubId, periodStart, periodEnd} (ISO 8601 strings, which settle
// takes).
static Napi::Value period_from_json(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        std::string storage;
        const auto raw = bytes(info[0], "text", storage);  // a string or a Buffer, unconverted
        const auto period = HeatPeriod::from_json(
            std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
        auto object = Napi::Object::New(env);
        object.Set("hubId", period.hub_id);
        object.Set("periodStart", to_iso8601(period.period_start));
        object.Set("periodEnd", to_iso8601(period.period_end));
        return object;
    });
}

Napi::Function define_heat_ledger(Napi::Env env) {
    auto cls = HeatLedgerObject::define(env);
    cls.Set("periodFromJson", Napi::Function::New(env, period_from_json, "periodFromJson"));
    return cls;
}

Napi::Object make_heat_ledger(Napi::Env env, const std::shared_ptr<HubHandle>& handle) {
    auto copy = handle;
    return HeatLedgerObject::make(addon(env).heat_ledger_class,
                                  Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy));
}

}  // namespace sihlicon::node
