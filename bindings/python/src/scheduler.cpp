// SPDX-License-Identifier: Apache-2.0
//
// sihlicon._core.Scheduler: hubs, workers and jobs. Specs arrive as the JSON the C++ parsers
// read (the seed's camelCase bodies), so every field is validated by the library itself.
#include "common.hpp"
#include "handle.hpp"

namespace sihlicon::python {

void apply_scheduler_options(SchedulerOptions& options, HubSettings& settings,
                             const py::dict& values, bool settings_fixed) {
    const auto hub_wide = [&](const std::string& name, std::int64_t& field, std::int64_t number) {
        if (settings_fixed && field != number) {
            throw Error::invalid(name, std::to_string(number),
                                 "is a hub setting: change it with Hub.set_setting");
        }
        field = number;
    };
    const auto hub_wide_ms = [&](const std::string& name, std::chrono::milliseconds& field,
                                 std::int64_t number) {
        auto count = static_cast<std::int64_t>(field.count());
        hub_wide(name, count, number);
        field = std::chrono::milliseconds(count);
    };
    for (const auto& [key, value] : values) {
        const auto name = key.cast<std::string>();
        const auto number = value.cast<std::int64_t>();
        if (name == "lease_duration_ms") {
            options.lease_duration = std::chrono::milliseconds(number);
        } else if (name == "heartbeat_interval_ms") {
            hub_wide_ms(name, settings.heartbeat_interval, number);
        } else if (name == "missed_heartbeats") {
            hub_wide(name, settings.missed_heartbeats, number);
        } else if (name == "aging_interval_ms") {
            hub_wide_ms(name, settings.aging_interval, number);
        } else if (name == "submissions_per_hour") {
            hub_wide(name, settings.submissions_per_hour, number);
        } else if (name == "claim_scan_limit") {
            options.claim_scan_limit = number;
        } else {
            throw Error::invalid("scheduler", name, "is not a scheduler option");
        }
    }
}

py::dict scheduler_options_to_py(const SchedulerOptions& options, const HubSettings& settings) {
    py::dict d;
    d["lease_duration_ms"] = options.lease_duration.count();
    d["heartbeat_interval_ms"] = settings.heartbeat_interval.count();
    d["missed_heartbeats"] = settings.missed_heartbeats;
    d["aging_interval_ms"] = settings.aging_interval.count();
    d["submissions_per_hour"] = settings.submissions_per_hour;
    d["claim_scan_limit"] = options.claim_scan_limit;
    return d;
}

namespace {

struct SchedulerRef : ServiceRef {};

Scheduler& scheduler(Hub& hub) {
    return hub.scheduler();
}

JobCompletion completion(const std::vector<std::string>& output_refs,
                         const std::optional<std::int64_t>& energy_mwh,
                         const std::string& energy_source,
                         const std::optional<std::string>& result_hash,
                         const std::string& metrics_json,
                         const std::optional<std::string>& proof_of_execution,
                         const std::optional<std::string>& worker_signature) {
    JobCompletion result;
    result.output_refs = output_refs;
    result.energy = optional_energy(energy_mwh);
    result.energy_source = parse_energy_source(energy_source, "energy_source");
    result.result_hash = result_hash;
    result.metrics_json = metrics_json;
    result.proof_of_execution = proof_of_execution;
    result.worker_signature = worker_signature;
    return result;
}

}  // namespace

void bind_scheduler(py::module_& module) {
    using Ref = SchedulerRef;
    py::class_<Ref>(module, "Scheduler")
        .def(py::init([](const std::shared_ptr<HubHandle>& hub) { return Ref{{hub}}; }))
        .def("options",
             [](const Ref& s) {
                 const auto [options, settings] = with_hub(s, [](Hub& hub) {
                     return std::make_pair(scheduler(hub).options(), hub.settings());
                 });
                 return scheduler_options_to_py(options, settings);
             })
        .def("set_options",
             [](const Ref& s, const py::dict& values) {
                 auto [options, settings] = with_hub(s, [](Hub& hub) {
                     return std::make_pair(scheduler(hub).options(), hub.settings());
                 });
                 apply_scheduler_options(options, settings, values, true);
                 with_hub(s, [&](Hub& hub) { scheduler(hub).set_options(options); });
             })
        // ---- hubs ----
        .def("register_hub",
             [](const Ref& s, const std::string& json) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return scheduler(hub).register_hub(HubSpec::from_json(json));
                 }));
             })
        .def("update_hub",
             [](const Ref& s, const std::string& json) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return scheduler(hub).update_hub(HubSpec::from_json(json));
                 }));
             })
        .def("hub",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(s, [&](Hub& hub) { return scheduler(hub).hub(id); }));
             })
        .def("hubs",
             [](const Ref& s) {
                 return to_py_list(with_hub(s, [](Hub& hub) { return scheduler(hub).hubs(); }));
             })
        .def("set_grid_state",
             [](const Ref& s, const std::string& id, const std::string& signal,
                const std::optional<std::int64_t>& power_budget_w,
                const std::optional<std::int64_t>& valid_until_ms) {
                 GridState state;
                 state.signal = parse_grid_signal(signal);
                 state.power_budget_w = power_budget_w;
                 state.valid_until = optional_timestamp(valid_until_ms);
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).set_grid_state(id, state); }));
             })
        .def("set_heat_demand",
             [](const Ref& s, const std::string& id, std::int64_t watts,
                const std::optional<std::int64_t>& valid_until_ms) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return scheduler(hub).set_heat_demand(id, watts,
                                                           optional_timestamp(valid_until_ms));
                 }));
             })
        // ---- workers ----
        .def("register_worker",
             [](const Ref& s, const std::string& json) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return scheduler(hub).register_worker(WorkerSpec::from_json(json));
                 }));
             })
        .def("heartbeat",
             [](const Ref& s, const std::string& id, const std::string& json) {
                 const auto beat = Heartbeat::from_json(json);
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).heartbeat(id, beat); }));
             })
        .def("set_worker_status",
             [](const Ref& s, const std::string& id, const std::string& status) {
                 const auto parsed = parse_worker_status(status);
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).set_worker_status(id, parsed); }));
             })
        .def("worker",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(s, [&](Hub& hub) { return scheduler(hub).worker(id); }));
             })
        .def("workers",
             [](const Ref& s, const std::optional<std::string>& hub_id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).workers(hub_id); }));
             })
        // ---- jobs ----
        .def("submit_json",
             [](const Ref& s, const std::string& json, const std::string& owner) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).submit_json(json, owner); }));
             })
        .def("submit_many",
             [](const Ref& s, const std::vector<std::string>& jsons, const std::string& owner) {
                 return to_py_list(with_hub(s, [&](Hub& hub) {
                     std::vector<JobSpec> specs;
                     for (std::size_t i = 0; i < jsons.size(); ++i) {
                         specs.push_back(JobSpec::from_json(jsons[i], owner));
                     }
                     return scheduler(hub).submit_many(specs);
                 }));
             })
        .def("claim",
             [](const Ref& s, const std::string& worker_id, std::int64_t max) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).claim(worker_id, max); }));
             })
        .def("renew",
             [](const Ref& s, const std::string& job_id, const std::string& token) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).renew(job_id, token); }));
             })
        .def("complete",
             [](const Ref& s, const std::string& job_id, const std::string& token,
                const std::vector<std::string>& output_refs,
                const std::optional<std::int64_t>& energy_mwh, const std::string& energy_source,
                const std::optional<std::string>& result_hash, const std::string& metrics_json,
                const std::optional<std::string>& proof,
                const std::optional<std::string>& signature) {
                 const auto done = completion(output_refs, energy_mwh, energy_source, result_hash,
                                              metrics_json, proof, signature);
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).complete(job_id, token, done); }));
             })
        .def("complete_many",
             [](const Ref& s, const std::vector<py::tuple>& items) {
                 std::vector<std::pair<Lease, JobCompletion>> completions;
                 for (const auto& item : items) {
                     Lease lease;
                     lease.job_id = item[0].cast<std::string>();
                     lease.token = item[1].cast<std::string>();
                     completions.emplace_back(
                         lease, completion(item[2].cast<std::vector<std::string>>(),
                                           item[3].cast<std::optional<std::int64_t>>(),
                                           item[4].cast<std::string>(),
                                           item[5].cast<std::optional<std::string>>(),
                                           item[6].cast<std::string>(),
                                           item[7].cast<std::optional<std::string>>(),
                                           item[8].cast<std::optional<std::string>>()));
                 }
                 return to_py_list(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).complete_many(completions); }));
             })
        .def("fail",
             [](const Ref& s, const std::string& job_id, const std::string& token,
                const std::string& error, bool retryable) {
                 return to_py(with_hub(s, [&](Hub& hub) {
                     return scheduler(hub).fail(job_id, token, error, retryable);
                 }));
             })
        .def("cancel",
             [](const Ref& s, const std::string& job_id, const std::string& by,
                const std::string& reason) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).cancel(job_id, by, reason); }));
             })
        .def("requeue",
             [](const Ref& s, const std::string& job_id, const std::string& by,
                const std::string& reason) {
                 return to_py(with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).requeue(job_id, by, reason); }));
             })
        .def("tick",
             [](const Ref& s) {
                 return with_hub(s, [](Hub& hub) { return scheduler(hub).tick(); });
             })
        .def("job",
             [](const Ref& s, const std::string& id) {
                 return to_py(with_hub(s, [&](Hub& hub) { return scheduler(hub).job(id); }));
             })
        .def("jobs",
             [](const Ref& s, const std::optional<std::string>& hub_id,
                const std::optional<std::string>& status, const std::optional<std::string>& owner,
                std::int64_t limit, const std::string& after,
                const std::optional<std::string>& worker_id, std::optional<bool> dead_letter) {
                 JobFilter filter;
                 filter.hub_id = hub_id;
                 if (status) {
                     filter.status = parse_job_status(*status);
                 }
                 filter.owner = owner;
                 filter.worker_id = worker_id;
                 filter.dead_letter = dead_letter;
                 filter.limit = limit;
                 filter.after = after;
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).jobs(filter); }));
             })
        .def(
            "events",
            [](const Ref& s, const std::string& id) {
                return to_py_list(with_hub(s, [&](Hub& hub) { return scheduler(hub).events(id); }));
            })
        .def("queue_stats",
             [](const Ref& s, const std::string& hub_id) {
                 return to_py(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).queue_stats(hub_id); }));
             })
        .def("explain",
             [](const Ref& s, const std::string& id) {
                 return to_py_list(
                     with_hub(s, [&](Hub& hub) { return scheduler(hub).explain(id); }));
             })
        // ---- events ----
        .def("subscribe",
             [](const Ref& s, py::function listener) {
                 Callback callback(std::move(listener));
                 Scheduler::Listener forward = [callback](const JobEvent& event) {
                     py::gil_scoped_acquire acquire;
                     try {
                         callback(to_py(event));
                     } catch (py::error_already_set& error) {
                         // A listener must not throw (scheduler.hpp): report it as Python
                         // reports an exception nobody can catch, and go on.
                         error.discard_as_unraisable("sihlicon scheduler listener");
                     }
                 };
                 return with_hub(
                     s, [&](Hub& hub) { return scheduler(hub).subscribe(std::move(forward)); });
             })
        .def("unsubscribe", [](const Ref& s, std::int64_t id) {
            with_hub(s, [&](Hub& hub) { scheduler(hub).unsubscribe(id); });
        });
}

}  // namespace sihlicon::python
