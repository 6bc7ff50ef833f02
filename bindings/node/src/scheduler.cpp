// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.Scheduler: hubs, workers and jobs, all synchronous (short transactions). Specs
// arrive as objects (or their JSON text) that the C++ parsers read — the seed's camelCase
// bodies — so every field is validated by the library itself.
#include "common.hpp"

namespace sihlicon::node {

void apply_scheduler_options(SchedulerOptions& options, HubSettings& settings,
                             const Napi::Object& values, bool settings_fixed) {
    const auto hub_wide = [&](const std::string& field, std::int64_t& target, std::int64_t number) {
        if (settings_fixed && target != number) {
            throw Error::invalid(field, std::to_string(number),
                                 "is a hub setting: change it with hub.setSetting");
        }
        target = number;
    };
    const auto hub_wide_ms = [&](const std::string& field, std::chrono::milliseconds& target,
                                 std::int64_t number) {
        auto count = static_cast<std::int64_t>(target.count());
        hub_wide(field, count, number);
        target = std::chrono::milliseconds(count);
    };
    const auto names = values.GetPropertyNames();
    for (std::uint32_t i = 0; i < names.Length(); ++i) {
        const auto name = names.Get(i).As<Napi::String>().Utf8Value();
        const auto field = "scheduler." + name;
        const auto value = values.Get(name);
        if (name == "leaseDurationMs") {
            options.lease_duration = std::chrono::milliseconds(integer(value, field));
        } else if (name == "heartbeatIntervalMs") {
            hub_wide_ms(field, settings.heartbeat_interval, integer(value, field));
        } else if (name == "missedHeartbeats") {
            hub_wide(field, settings.missed_heartbeats, integer(value, field));
        } else if (name == "agingIntervalMs") {
            hub_wide_ms(field, settings.aging_interval, integer(value, field));
        } else if (name == "submissionsPerHour") {
            hub_wide(field, settings.submissions_per_hour, integer(value, field));
        } else if (name == "claimScanLimit") {
            options.claim_scan_limit = integer(value, field);
        } else if (name == "inputRecheckIntervalMs") {
            options.input_recheck_interval = std::chrono::milliseconds(integer(value, field));
        } else {
            throw Error::invalid(field, name, "is not a scheduler option");
        }
    }
}

Napi::Object scheduler_options_object(Napi::Env env, const SchedulerOptions& options,
                                      const HubSettings& settings) {
    auto object = Napi::Object::New(env);
    const auto number = [&](const char* name, std::int64_t value) {
        object.Set(name, Napi::Number::New(env, static_cast<double>(value)));
    };
    number("leaseDurationMs", options.lease_duration.count());
    number("heartbeatIntervalMs", settings.heartbeat_interval.count());
    number("missedHeartbeats", settings.missed_heartbeats);
    number("agingIntervalMs", settings.aging_interval.count());
    number("submissionsPerHour", settings.submissions_per_hour);
    number("claimScanLimit", options.claim_scan_limit);
    number("inputRecheckIntervalMs", options.input_recheck_interval.count());
    return object;
}

namespace {

// A completion from {outputDataRefs, energyMwh | energyKwh, energySource, resultHash, metrics,
// proofOfExecution, workerSignature}, all optional.
JobCompletion completion(Napi::Env env, const Napi::Value& value, const std::string& field) {
    const auto given = options(value, field);
    JobCompletion result;
    result.output_refs = text_list(given.Get("outputDataRefs"), field + ".outputDataRefs");
    result.energy = optional_energy(given, "energy");
    if (auto source = optional_text(given.Get("energySource"), field + ".energySource")) {
        result.energy_source = parse_energy_source(*source, field + ".energySource");
    }
    result.result_hash = optional_text(given.Get("resultHash"), field + ".resultHash");
    if (!is_absent(given.Get("metrics"))) {
        result.metrics_json = json_text(env, given.Get("metrics"), field + ".metrics");
    }
    result.proof_of_execution =
        optional_text(given.Get("proofOfExecution"), field + ".proofOfExecution");
    result.worker_signature =
        optional_text(given.Get("workerSignature"), field + ".workerSignature");
    return result;
}

class SchedulerObject : public Handle<SchedulerObject> {
  public:
    static constexpr const char* kName = "Scheduler";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a3ULL, 0xa54ff53a5f1d36f1ULL};

    explicit SchedulerObject(const Napi::CallbackInfo& info)
        : Handle<SchedulerObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {}

    static Napi::Function define(Napi::Env env) {
        using S = SchedulerObject;
        return define_class(env, {entry<&S::options_>(env, "options"),
                                  entry<&S::set_options>(env, "setOptions"),
                                  entry<&S::register_hub>(env, "registerHub"),
                                  entry<&S::update_hub>(env, "updateHub"),
                                  entry<&S::hub>(env, "hub"),
                                  entry<&S::hubs>(env, "hubs"),
                                  entry<&S::set_grid_state>(env, "setGridState"),
                                  entry<&S::set_heat_demand>(env, "setHeatDemand"),
                                  entry<&S::register_worker>(env, "registerWorker"),
                                  entry<&S::heartbeat>(env, "heartbeat"),
                                  entry<&S::set_worker_status>(env, "setWorkerStatus"),
                                  entry<&S::worker>(env, "worker"),
                                  entry<&S::workers>(env, "workers"),
                                  entry<&S::submit>(env, "submit"),
                                  entry<&S::submit_many>(env, "submitMany"),
                                  entry<&S::claim>(env, "claim"),
                                  entry<&S::renew>(env, "renew"),
                                  entry<&S::complete>(env, "complete"),
                                  entry<&S::complete_many>(env, "completeMany"),
                                  entry<&S::fail>(env, "fail"),
                                  entry<&S::cancel>(env, "cancel"),
                                  entry<&S::requeue>(env, "requeue"),
                                  entry<&S::tick>(env, "tick"),
                                  entry<&S::job>(env, "job"),
                                  entry<&S::jobs>(env, "jobs"),
                                  entry<&S::events>(env, "events"),
                                  entry<&S::queue_stats>(env, "queueStats"),
                                  entry<&S::explain>(env, "explain")});
    }

  private:
    template <typename Work>
    auto on(Work&& work) {
        return with_hub(handle_, [&](Hub& hub) { return work(hub.scheduler()); });
    }

    Napi::Value options_(const Napi::CallbackInfo& info) {
        const auto [options, settings] = with_hub(handle_, [](Hub& hub) {
            return std::make_pair(hub.scheduler().options(), hub.settings());
        });
        return scheduler_options_object(info.Env(), options, settings);
    }

    Napi::Value set_options(const Napi::CallbackInfo& info) {
        auto [updated, settings] = with_hub(handle_, [](Hub& hub) {
            return std::make_pair(hub.scheduler().options(), hub.settings());
        });
        apply_scheduler_options(updated, settings, options(info[0], "options"), true);
        on([&](Scheduler& s) {
            s.set_options(updated);
            return 0;
        });
        return scheduler_options_object(info.Env(), updated, settings);
    }

    // ---- hubs ----
    Napi::Value register_hub(const Napi::CallbackInfo& info) {
        const auto spec = HubSpec::from_json(json_text(info.Env(), info[0], "spec"));
        return record(info.Env(), on([&](Scheduler& s) { return s.register_hub(spec); }));
    }
    Napi::Value update_hub(const Napi::CallbackInfo& info) {
        const auto spec = HubSpec::from_json(json_text(info.Env(), info[0], "spec"));
        return record(info.Env(), on([&](Scheduler& s) { return s.update_hub(spec); }));
    }
    Napi::Value hub(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "hubId");
        return record(info.Env(), on([&](Scheduler& s) { return s.hub(id); }));
    }
    Napi::Value hubs(const Napi::CallbackInfo& info) {
        return records(info.Env(), on([](Scheduler& s) { return s.hubs(); }));
    }
    // setGridState(hubId, {signal, powerBudgetW?, validUntil?}).
    Napi::Value set_grid_state(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "hubId");
        const auto given = options(info[1], "state");
        GridState state;
        state.signal = parse_grid_signal(text(given.Get("signal"), "signal"));
        state.power_budget_w = optional_integer(given.Get("powerBudgetW"), "powerBudgetW");
        state.valid_until = optional_timestamp(given.Get("validUntil"), "validUntil");
        return record(info.Env(), on([&](Scheduler& s) { return s.set_grid_state(id, state); }));
    }
    // setHeatDemand(hubId, watts, validUntil?).
    Napi::Value set_heat_demand(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "hubId");
        const auto watts = integer(info[1], "watts");
        const auto until = optional_timestamp(info[2], "validUntil");
        return record(info.Env(),
                      on([&](Scheduler& s) { return s.set_heat_demand(id, watts, until); }));
    }

    // ---- workers ----
    Napi::Value register_worker(const Napi::CallbackInfo& info) {
        const auto spec = WorkerSpec::from_json(json_text(info.Env(), info[0], "spec"));
        return record(info.Env(), on([&](Scheduler& s) { return s.register_worker(spec); }));
    }
    // heartbeat(workerId, {utilisationPpm?, powerDrawW?, gpus?: [{utilisationPpm?, vramUsed?}]}),
    // read by Heartbeat::from_json.
    Napi::Value heartbeat(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "workerId");
        const auto beat =
            Heartbeat::from_json(json_text(info.Env(), options(info[1], "heartbeat"), "heartbeat"));
        return record(info.Env(), on([&](Scheduler& s) { return s.heartbeat(id, beat); }));
    }
    Napi::Value set_worker_status(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "workerId");
        const auto status = parse_worker_status(text(info[1], "status"));
        return record(info.Env(),
                      on([&](Scheduler& s) { return s.set_worker_status(id, status); }));
    }
    Napi::Value worker(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "workerId");
        return record(info.Env(), on([&](Scheduler& s) { return s.worker(id); }));
    }
    Napi::Value workers(const Napi::CallbackInfo& info) {
        const auto hub_id = optional_text(info[0], "hubId");
        return records(info.Env(), on([&](Scheduler& s) { return s.workers(hub_id); }));
    }

    // ---- jobs ----
    // submit(request, owner?): the seed's POST /api/compute body.
    Napi::Value submit(const Napi::CallbackInfo& info) {
        const auto json = json_text(info.Env(), info[0], "request");
        const auto owner = optional_text(info[1], "owner").value_or("");
        return record(info.Env(), on([&](Scheduler& s) { return s.submit_json(json, owner); }));
    }
    Napi::Value submit_many(const Napi::CallbackInfo& info) {
        if (!info[0].IsArray()) {
            throw Error::invalid("requests", "", "must be an array of job requests");
        }
        const auto owner = optional_text(info[1], "owner").value_or("");
        auto array = info[0].As<Napi::Array>();
        std::vector<JobSpec> specs;
        for (std::uint32_t i = 0; i < array.Length(); ++i) {
            const auto field = "requests[" + std::to_string(i) + "]";
            specs.push_back(JobSpec::from_json(json_text(info.Env(), array.Get(i), field), owner));
        }
        return records(info.Env(), on([&](Scheduler& s) { return s.submit_many(specs); }));
    }
    // claim(workerId, max = 1) → [{lease, job}].
    Napi::Value claim(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "workerId");
        const auto max = optional_integer(info[1], "max").value_or(1);
        // [{lease, job}], parsed from one JSON text (ClaimedJob::to_json).
        return records(info.Env(), on([&](Scheduler& s) { return s.claim(id, max); }));
    }
    Napi::Value renew(const Napi::CallbackInfo& info) {
        const auto job_id = text(info[0], "jobId");
        const auto token = text(info[1], "token");
        return lease_object(info.Env(), on([&](Scheduler& s) { return s.renew(job_id, token); }));
    }
    // complete(jobId, token, completion?).
    Napi::Value complete(const Napi::CallbackInfo& info) {
        const auto job_id = text(info[0], "jobId");
        const auto token = text(info[1], "token");
        const auto done = completion(info.Env(), info[2], "completion");
        return record(info.Env(),
                      on([&](Scheduler& s) { return s.complete(job_id, token, done); }));
    }
    // completeMany([{jobId, token, ...completion}]): all or none.
    Napi::Value complete_many(const Napi::CallbackInfo& info) {
        if (!info[0].IsArray()) {
            throw Error::invalid("completions", "", "must be an array");
        }
        auto array = info[0].As<Napi::Array>();
        std::vector<std::pair<Lease, JobCompletion>> items;
        for (std::uint32_t i = 0; i < array.Length(); ++i) {
            const auto field = "completions[" + std::to_string(i) + "]";
            const auto given = options(array.Get(i), field);
            Lease lease;
            lease.job_id = text(given.Get("jobId"), field + ".jobId");
            lease.token = text(given.Get("token"), field + ".token");
            items.emplace_back(std::move(lease), completion(info.Env(), given, field));
        }
        return records(info.Env(), on([&](Scheduler& s) { return s.complete_many(items); }));
    }
    // fail(jobId, token, error, retryable = true).
    Napi::Value fail(const Napi::CallbackInfo& info) {
        const auto job_id = text(info[0], "jobId");
        const auto token = text(info[1], "token");
        const auto error = text(info[2], "error");
        const bool retryable = boolean(info[3], "retryable", true);
        return record(info.Env(),
                      on([&](Scheduler& s) { return s.fail(job_id, token, error, retryable); }));
    }
    // cancel(jobId, by, reason?).
    Napi::Value cancel(const Napi::CallbackInfo& info) {
        const auto job_id = text(info[0], "jobId");
        const auto by = text(info[1], "by");
        const auto reason = optional_text(info[2], "reason").value_or("");
        return record(info.Env(), on([&](Scheduler& s) { return s.cancel(job_id, by, reason); }));
    }
    Napi::Value requeue(const Napi::CallbackInfo& info) {
        const auto job_id = text(info[0], "jobId");
        const auto by = text(info[1], "by");
        const auto reason = optional_text(info[2], "reason").value_or("");
        return record(info.Env(), on([&](Scheduler& s) { return s.requeue(job_id, by, reason); }));
    }
    Napi::Value tick(const Napi::CallbackInfo& info) {
        const auto changed = on([](Scheduler& s) { return s.tick(); });
        return Napi::Number::New(info.Env(), static_cast<double>(changed));
    }

    // ---- queries ----
    Napi::Value job(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        return record(info.Env(), on([&](Scheduler& s) { return s.job(id); }));
    }
    // jobs({hubId?, status?, owner?, workerId?, deadLetter?, limit?, after?}).
    Napi::Value jobs(const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "filter");
        JobFilter filter;
        filter.hub_id = optional_text(given.Get("hubId"), "hubId");
        if (auto status = optional_text(given.Get("status"), "status")) {
            filter.status = parse_job_status(*status);
        }
        filter.owner = optional_text(given.Get("owner"), "owner");
        filter.worker_id = optional_text(given.Get("workerId"), "workerId");
        if (!is_absent(given.Get("deadLetter"))) {
            filter.dead_letter = boolean(given.Get("deadLetter"), "deadLetter", false);
        }
        filter.limit = optional_integer(given.Get("limit"), "limit").value_or(50);
        filter.after = optional_text(given.Get("after"), "after").value_or("");
        return records(info.Env(), on([&](Scheduler& s) { return s.jobs(filter); }));
    }
    Napi::Value events(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        return records(info.Env(), on([&](Scheduler& s) { return s.events(id); }));
    }
    Napi::Value queue_stats(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "hubId");
        return record(info.Env(), on([&](Scheduler& s) { return s.queue_stats(id); }));
    }
    // explain(jobId) → [{hubId, workerId, eligible, reasons, expectedHeatKwh}]
    // (Placement::to_json).
    Napi::Value explain(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "jobId");
        return records(info.Env(), on([&](Scheduler& s) { return s.explain(id); }));
    }

    std::shared_ptr<HubHandle> handle_;
};

}  // namespace

Napi::Function define_scheduler(Napi::Env env) {
    return SchedulerObject::define(env);
}

Napi::Object make_scheduler(Napi::Env env, const std::shared_ptr<HubHandle>& handle) {
    auto copy = handle;
    return SchedulerObject::make(addon(env).scheduler_class,
                                 Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy));
}

}  // namespace sihlicon::node
