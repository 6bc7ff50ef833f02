// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.PowerMeter: a job's electrical energy from the machine's RAPL counters
// (measured) or from the declared power model (modelled), with no hub needed.
#include "common.hpp"

#include <sihlicon/power_meter.hpp>

namespace sihlicon::python {

namespace {

struct PowerMeterRef {
    std::shared_ptr<PowerMeter> meter;
    bool rapl = false;
    std::vector<RaplDomain> domains;
};

MeterSample sample_of(std::int64_t at_ms, const std::vector<std::int64_t>& counters) {
    return MeterSample{Timestamp::from_ms(at_ms), counters};
}

}  // namespace

void bind_power_meter(py::module_& module) {
    py::class_<PowerMeterRef>(module, "PowerMeter")
        .def(py::init([](std::int64_t watts_per_core, std::int64_t watts_per_gpu,
                         const std::shared_ptr<ManualClock>& manual, bool use_rapl,
                         const std::string& rapl_root) {
                 std::shared_ptr<const Clock> clock =
                     manual ? std::shared_ptr<const Clock>(manual) : system_clock();
                 const PowerModel model{watts_per_core, watts_per_gpu};
                 RaplOptions options;
                 options.root = rapl_root;
                 return without_gil([&] {
                     PowerMeterRef ref;
                     if (use_rapl && RaplPowerMeter::available(options)) {
                         auto rapl = std::make_shared<RaplPowerMeter>(clock, options);
                         ref.domains = rapl->domains();
                         ref.meter = std::move(rapl);
                         ref.rapl = true;
                     } else {
                         ref.meter = std::make_shared<ModelPowerMeter>(clock, model);
                     }
                     return ref;
                 });
             }),
             py::arg("watts_per_core"), py::arg("watts_per_gpu"), py::arg("clock"),
             py::arg("use_rapl"), py::arg("rapl_root"))
        .def_property_readonly("rapl", [](const PowerMeterRef& ref) { return ref.rapl; })
        .def("domains",
             [](const PowerMeterRef& ref) {
                 py::list domains;
                 for (const auto& domain : ref.domains) {
                     domains.append(py::make_tuple(domain.zone, domain.name,
                                                   domain.energy_file.string(),
                                                   domain.max_energy_range_uj));
                 }
                 return domains;
             })
        .def("sample",
             [](const PowerMeterRef& ref) {
                 const auto sample = without_gil([&] { return ref.meter->sample(); });
                 return py::make_tuple(sample.at.ms(), sample.counters_uj);
             })
        .def(
            "energy_between", [](const PowerMeterRef& ref, std::int64_t begin_ms,
                                 const std::vector<std::int64_t>& begin_counters,
                                 std::int64_t end_ms, const std::vector<std::int64_t>& end_counters,
                                 std::int64_t cpu_millicores, std::int64_t gpus) {
                const auto metered = ref.meter->energy_between(sample_of(begin_ms, begin_counters),
                                                               sample_of(end_ms, end_counters),
                                                               PowerWorkload{cpu_millicores, gpus});
                const auto source = to_string(metered.source);
                return py::make_tuple(metered.energy.mwh(), py::str(source.data(), source.size()));
            });
    module.def(
        "model_watts",
        [](std::int64_t watts_per_core, std::int64_t watts_per_gpu, std::int64_t cpu_millicores,
           std::int64_t gpus) {
            return model_watts(PowerModel{watts_per_core, watts_per_gpu},
                               PowerWorkload{cpu_millicores, gpus});
        },
        py::arg("watts_per_core"), py::arg("watts_per_gpu"), py::arg("cpu_millicores"),
        py::arg("gpus"));
}

}  // namespace sihlicon::python
