// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.HeatLedger: heat records, credit rates, credits, statistics, settlements
// and series.
#include "common.hpp"
#include "handle.hpp"

namespace sihlicon::python {

namespace {

struct HeatLedgerRef : ServiceRef {};

HeatLedger& ledger(Hub& hub) {
    return hub.heat_ledger();
}

ManualHeat manual_heat(const py::dict& values) {
    ManualHeat heat;
    for (const auto& [key, value] : values) {
        const auto name = key.cast<std::string>();
        if (value.is_none()) {
            continue;
        }
        if (name == "hub_id") {
            heat.hub_id = value.cast<std::string>();
        } else if (name == "kind") {
            heat.kind = parse_heat_kind(value.cast<std::string>());
        } else if (name == "tag") {
            heat.tag = value.cast<std::string>();
        } else if (name == "at_ms") {
            heat.at = Timestamp::from_ms(value.cast<std::int64_t>());
        } else if (name == "thermal_mwh") {
            heat.thermal = Energy::milliwatt_hours(value.cast<std::int64_t>());
        } else if (name == "electrical_mwh") {
            heat.electrical = Energy::milliwatt_hours(value.cast<std::int64_t>());
        } else if (name == "energy_source") {
            heat.source = parse_energy_source(value.cast<std::string>(), "energy_source");
        } else {
            throw Error::invalid("heat", name, "is not a field of a manual heat record");
        }
    }
    return heat;
}

}  // namespace

void bind_heat_ledger(py::module_& module) {
    // The body of POST /api/heat/settle decoded by the core (HeatPeriod::from_json):
    // (hubId, periodStart ms, periodEnd ms).
    module.def("heat_period_from_json", [](std::string_view text) {
        const auto period = HeatPeriod::from_json(text);
        return py::make_tuple(period.hub_id, period.period_start.ms(), period.period_end.ms());
    });
    using Ref = HeatLedgerRef;
    py::class_<Ref>(module, "HeatLedger")
        .def(py::init([](const std::shared_ptr<HubHandle>& hub) { return Ref{{hub}}; }))
        .def("record",
             [](const Ref& s, const py::dict& values) {
                 const auto heat = manual_heat(values);
                 return to_py(with_hub(s, [&](Hub& hub) { return ledger(hub).record(heat); }));
             })
        .def("record_many",
             [](const Ref& s, const std::vector<py::dict>& values) {
                 std::vector<ManualHeat> heat;
                 for (const auto& value : values) {
                     heat.push_back(manual_heat(value));
                 }
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return ledger(hub).record_many(heat); }));
             })
        .def("set_credit_rate",
             [](const Ref& s, const std::string& hub_id, std::int64_t minor_units,
                const std::string& currency, std::int64_t effective_from_ms) {
                 const auto rate = make_money(minor_units, currency);
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return ledger(hub).set_credit_rate(hub_id, rate,
                                                        Timestamp::from_ms(effective_from_ms));
                 }));
             })
        .def("credit_rates",
             [](const Ref& s, const std::string& hub_id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return ledger(hub).credit_rates(hub_id); }));
             })
        .def("credits",
             [](const Ref& s, const std::string& hub_id, const std::optional<std::int64_t>& start,
                const std::optional<std::int64_t>& end) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return ledger(hub).credits(hub_id, optional_timestamp(start),
                                                optional_timestamp(end));
                 }));
             })
        .def("stats",
             [](const Ref& s, const std::string& hub_id) {
                 return to_py(with_hub(s, [&](Hub& hub) { return ledger(hub).stats(hub_id); }));
             })
        .def("settle",
             [](const Ref& s, const std::string& hub_id, std::int64_t start, std::int64_t end) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return ledger(hub).settle(hub_id, Timestamp::from_ms(start),
                                               Timestamp::from_ms(end));
                 }));
             })
        .def("settlements",
             [](const Ref& s, const std::string& hub_id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return ledger(hub).settlements(hub_id); }));
             })
        .def("series",
             [](const Ref& s, const std::string& hub_id, const std::string& resolution,
                std::int64_t from, std::int64_t to) {
                 const auto parsed = parse_series_resolution(resolution);
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return ledger(hub).series(hub_id, parsed, Timestamp::from_ms(from),
                                               Timestamp::from_ms(to));
                 }));
             })
        .def("group_stats",
             [](const Ref& s, const std::string& group_by, const std::string& group) {
                 const HubGroup parsed{parse_hub_group_kind(group_by), group};
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return ledger(hub).group_stats(parsed); }));
             })
        .def("group_series",
             [](const Ref& s, const std::string& group_by, const std::string& group,
                const std::string& resolution, std::int64_t from, std::int64_t to) {
                 const HubGroup parsed{parse_hub_group_kind(group_by), group};
                 const auto parsed_resolution = parse_series_resolution(resolution);
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return ledger(hub).group_series(parsed, parsed_resolution,
                                                     Timestamp::from_ms(from),
                                                     Timestamp::from_ms(to));
                 }));
             })
        .def("unmet_heat_demand_w",
             [](const Ref& s, const std::string& hub_id, std::int64_t window_ms) {
                 return with_hub(s, [&](Hub& hub) {
                     return ledger(hub).unmet_heat_demand_w(hub_id,
                                                            std::chrono::milliseconds(window_ms));
                 });
             });
}

}  // namespace sihlicon::python
