// SPDX-License-Identifier: Apache-2.0
//
// The scheduler from C: hubs, workers, jobs; typed submit, claim and complete.
#include "capi_internal.hpp"

#include <cstring>

namespace sihlicon::capi {

namespace {

Scheduler& scheduler(sih_hub* hub) {
    return required(hub, "hub").hub.scheduler();
}

// Copies `value` into a fixed array of a C struct; every id the library makes fits.
template <std::size_t N>
void copy_into(char (&target)[N], std::string_view value) {
    if (value.size() >= N) {
        throw Error(ErrorCode::internal, "a value of " + std::to_string(value.size()) +
                                             " bytes does not fit a field of " +
                                             std::to_string(N - 1));
    }
    std::memcpy(target, value.data(), value.size());
    target[value.size()] = '\0';
}

sih_lease typed(const Lease& lease) {
    sih_lease result{};
    copy_into(result.job_id, lease.job_id);
    copy_into(result.worker_id, lease.worker_id);
    copy_into(result.token, lease.token);
    result.expires_at_ms = lease.expires_at.ms();
    result.attempt = lease.attempt;
    return result;
}

static_assert(static_cast<int>(EnergySource::measured) == SIH_ENERGY_MEASURED &&
              static_cast<int>(EnergySource::modelled) == SIH_ENERGY_MODELLED &&
              static_cast<int>(EnergySource::estimated) == SIH_ENERGY_ESTIMATED);

JobCompletion typed_completion(const sih_completion* given) {
    JobCompletion completion;
    if (given == nullptr) {
        completion.energy_source = EnergySource::modelled;
        return completion;
    }
    check_version(given->version, SIH_COMPLETION_VERSION, "completion.version");
    completion.output_refs =
        text_list(given->output_refs, given->output_ref_count, "completion.output_refs");
    if (given->energy_mwh != SIH_NONE) {
        if (given->energy_mwh < 0) {
            throw Error::invalid("completion.energy_mwh", std::to_string(given->energy_mwh),
                                 "must not be negative");
        }
        completion.energy = Energy::milliwatt_hours(given->energy_mwh);
    }
    completion.energy_source = enum_from_c<EnergySource>(
        given->energy_source, 3, "completion.energy_source", "sih_energy_source");
    completion.result_hash = optional_text(given->result_hash);
    if (given->metrics_json != nullptr) {
        completion.metrics_json = given->metrics_json;
    }
    completion.proof_of_execution = optional_text(given->proof_of_execution);
    completion.worker_signature = optional_text(given->worker_signature);
    return completion;
}

std::string claimed_json(const std::vector<ClaimedJob>& claimed) {
    return json::join_array(claimed, [](const ClaimedJob& item) { return item.to_json(); });
}

std::vector<JobSpec> specs_from(const char* specs_json, const char* owner) {
    return JobSpec::array_from_json(text(specs_json, "specs_json"), owner ? owner : "");
}

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;
using capi::give;
using capi::guard;
using capi::scheduler;
using capi::text;

extern "C" {

sih_status sih_scheduler_options(sih_hub* hub, char** out_json) {
    return guard([&] {
        const auto options = scheduler(hub).options();
        give(out_json, json::serialize(boost::json::object{
                           {"leaseDurationMs", options.lease_duration.count()},
                           {"claimScanLimit", options.claim_scan_limit},
                           {"inputRecheckIntervalMs", options.input_recheck_interval.count()}}));
    });
}

sih_status sih_scheduler_set_options(sih_hub* hub, const char* options_json) {
    return guard([&] {
        auto options = scheduler(hub).options();
        capi::apply_scheduler_options(options, &capi::required(options_json, "options_json"),
                                      "options_json");
        scheduler(hub).set_options(options);
    });
}

sih_status sih_scheduler_register_hub(sih_hub* hub, const char* spec_json, char** out_json) {
    return guard([&] {
        const auto spec = HubSpec::from_json(text(spec_json, "spec_json"));
        give(out_json, scheduler(hub).register_hub(spec).to_json());
    });
}

sih_status sih_scheduler_update_hub(sih_hub* hub, const char* spec_json, char** out_json) {
    return guard([&] {
        const auto spec = HubSpec::from_json(text(spec_json, "spec_json"));
        give(out_json, scheduler(hub).update_hub(spec).to_json());
    });
}

sih_status sih_scheduler_hub(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard([&] { give(out_json, scheduler(hub).hub(text(hub_id, "hub_id")).to_json()); });
}

sih_status sih_scheduler_hubs(sih_hub* hub, char** out_json) {
    return guard([&] { give(out_json, json::join_array(scheduler(hub).hubs())); });
}

sih_status sih_scheduler_set_grid_state(sih_hub* hub, const char* hub_id, const char* state_json,
                                        char** out_json) {
    return guard([&] {
        const auto id = text(hub_id, "hub_id");
        const auto value = json::parse(text(state_json, "state_json"), "state_json");
        json::ObjectReader reader(value, "");
        GridState state;
        state.signal = parse_grid_signal(reader.required_string("signal", 32));
        state.power_budget_w = reader.optional_int64("powerBudgetW", 0, 1'000'000'000'000);
        if (auto until = reader.optional_int64("validUntil", 0, INT64_MAX)) {
            state.valid_until = Timestamp::from_ms(*until);
        }
        reader.finish();
        give(out_json, scheduler(hub).set_grid_state(id, state).to_json());
    });
}

sih_status sih_scheduler_set_heat_demand(sih_hub* hub, const char* hub_id, int64_t watts,
                                         int64_t valid_until_ms, char** out_json) {
    return guard([&] {
        std::optional<Timestamp> until;
        if (valid_until_ms != SIH_NONE) {
            until = Timestamp::from_ms(valid_until_ms);
        }
        give(out_json,
             scheduler(hub).set_heat_demand(text(hub_id, "hub_id"), watts, until).to_json());
    });
}

sih_status sih_scheduler_register_worker(sih_hub* hub, const char* spec_json, char** out_json) {
    return guard([&] {
        const auto spec = WorkerSpec::from_json(text(spec_json, "spec_json"));
        give(out_json, scheduler(hub).register_worker(spec).to_json());
    });
}

sih_status sih_scheduler_heartbeat(sih_hub* hub, const char* worker_id, int64_t utilisation_ppm,
                                   int64_t power_draw_w, char** out_json) {
    return guard([&] {
        Heartbeat beat;
        beat.utilisation_ppm = utilisation_ppm;
        beat.power_draw_w = power_draw_w;
        give(out_json, scheduler(hub).heartbeat(text(worker_id, "worker_id"), beat).to_json());
    });
}

sih_status sih_scheduler_heartbeat_json(sih_hub* hub, const char* worker_id, const char* beat_json,
                                        char** out_json) {
    return guard([&] {
        const auto beat = Heartbeat::from_json(text(beat_json, "beat_json"));
        give(out_json, scheduler(hub).heartbeat(text(worker_id, "worker_id"), beat).to_json());
    });
}

sih_status sih_scheduler_set_worker_status(sih_hub* hub, const char* worker_id, const char* status,
                                           char** out_json) {
    return guard([&] {
        const auto parsed = parse_worker_status(text(status, "status"));
        give(out_json,
             scheduler(hub).set_worker_status(text(worker_id, "worker_id"), parsed).to_json());
    });
}

sih_status sih_scheduler_worker(sih_hub* hub, const char* worker_id, char** out_json) {
    return guard(
        [&] { give(out_json, scheduler(hub).worker(text(worker_id, "worker_id")).to_json()); });
}

sih_status sih_scheduler_workers(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard([&] {
        give(out_json, json::join_array(scheduler(hub).workers(capi::optional_text(hub_id))));
    });
}

sih_status sih_scheduler_submit(sih_hub* hub, const char* spec_json, const char* owner,
                                char** out_job_id) {
    return guard([&] {
        const auto record =
            scheduler(hub).submit_json(text(spec_json, "spec_json"), owner != nullptr ? owner : "");
        give(out_job_id, record.id);
    });
}

sih_status sih_scheduler_submit_json(sih_hub* hub, const char* spec_json, const char* owner,
                                     char** out_json) {
    return guard([&] {
        const auto record =
            scheduler(hub).submit_json(text(spec_json, "spec_json"), owner != nullptr ? owner : "");
        give(out_json, record.to_json());
    });
}

sih_status sih_scheduler_submit_many(sih_hub* hub, const char* specs_json, const char* owner,
                                     char** out_json) {
    return guard([&] {
        auto& service = scheduler(hub);
        give(out_json, json::join_array(service.submit_many(capi::specs_from(specs_json, owner))));
    });
}

sih_status sih_scheduler_claim(sih_hub* hub, const char* worker_id, sih_lease* out_leases,
                               size_t capacity, size_t* out_count) {
    return guard([&] {
        auto& service = scheduler(hub);
        const auto worker = text(worker_id, "worker_id");
        capi::required(out_count, "out_count");
        if (capacity > 0) {
            capi::required(out_leases, "out_leases");
        }
        if (capacity > 1'000'000) {
            throw Error::invalid("capacity", std::to_string(capacity), "must be at most 1000000");
        }
        if (capacity == 0) {
            *out_count = 0;
            return;
        }
        const auto claimed = service.claim(worker, static_cast<std::int64_t>(capacity));
        std::vector<sih_lease> leases;
        leases.reserve(claimed.size());
        for (const auto& item : claimed) {
            leases.push_back(capi::typed(item.lease));
        }
        std::copy(leases.begin(), leases.end(), out_leases);
        *out_count = leases.size();
    });
}

sih_status sih_scheduler_claim_json(sih_hub* hub, const char* worker_id, int64_t max,
                                    char** out_json) {
    return guard([&] {
        give(out_json, capi::claimed_json(scheduler(hub).claim(text(worker_id, "worker_id"), max)));
    });
}

sih_status sih_scheduler_renew(sih_hub* hub, const char* job_id, const char* token,
                               sih_lease* out_lease) {
    return guard([&] {
        const auto lease = scheduler(hub).renew(text(job_id, "job_id"), text(token, "token"));
        give(out_lease, capi::typed(lease));
    });
}

sih_status sih_completion_init(sih_completion* completion, uint32_t version) {
    return guard([&] {
        auto& given = capi::required(completion, "completion");
        capi::check_version(version, SIH_COMPLETION_VERSION, "version");
        given = SIH_COMPLETION_INIT;
        given.version = version;
    });
}

sih_status sih_scheduler_complete(sih_hub* hub, const char* job_id, const char* token,
                                  const sih_completion* completion) {
    return guard([&] {
        auto& service = scheduler(hub);
        const auto parsed = capi::typed_completion(completion);
        service.complete(text(job_id, "job_id"), text(token, "token"), parsed);
    });
}

sih_status sih_scheduler_complete_json(sih_hub* hub, const char* job_id, const char* token,
                                       const char* completion_json, char** out_json) {
    return guard([&] {
        auto& service = scheduler(hub);
        const auto value = capi::json_argument(completion_json, "completion_json");
        json::ObjectReader reader(value, "");
        const auto completion = capi::completion_from(reader);
        reader.finish();
        give(out_json,
             service.complete(text(job_id, "job_id"), text(token, "token"), completion).to_json());
    });
}

sih_status sih_scheduler_complete_many(sih_hub* hub, const char* completions_json,
                                       char** out_json) {
    return guard([&] {
        auto& service = scheduler(hub);
        const auto array = capi::json_array_argument(completions_json, "completions_json");
        std::vector<std::pair<Lease, JobCompletion>> completions;
        for (std::size_t i = 0; i < array.size(); ++i) {
            json::ObjectReader reader(array[i], "[" + std::to_string(i) + "]");
            Lease lease;
            lease.job_id = reader.required_string("jobId", 128);
            lease.token = reader.required_string("token", 128);
            auto completion = capi::completion_from(reader);
            reader.finish();
            completions.emplace_back(std::move(lease), std::move(completion));
        }
        give(out_json, json::join_array(service.complete_many(completions)));
    });
}

sih_status sih_scheduler_fail(sih_hub* hub, const char* job_id, const char* token,
                              const char* error, int retryable, char** out_json) {
    return guard([&] {
        const auto record = scheduler(hub).fail(text(job_id, "job_id"), text(token, "token"),
                                                text(error, "error"), retryable != 0);
        give(out_json, record.to_json());
    });
}

sih_status sih_scheduler_cancel(sih_hub* hub, const char* job_id, const char* by,
                                const char* reason, char** out_json) {
    return guard([&] {
        const auto record = scheduler(hub).cancel(text(job_id, "job_id"), text(by, "by"),
                                                  reason != nullptr ? reason : "");
        give(out_json, record.to_json());
    });
}

sih_status sih_scheduler_requeue(sih_hub* hub, const char* job_id, const char* by,
                                 const char* reason, char** out_json) {
    return guard([&] {
        const auto record = scheduler(hub).requeue(text(job_id, "job_id"), text(by, "by"),
                                                   reason != nullptr ? reason : "");
        give(out_json, record.to_json());
    });
}

sih_status sih_scheduler_tick(sih_hub* hub, int64_t* out_changed) {
    return guard([&] { give(out_changed, scheduler(hub).tick()); });
}

sih_status sih_scheduler_job(sih_hub* hub, const char* job_id, char** out_json) {
    return guard([&] { give(out_json, scheduler(hub).job(text(job_id, "job_id")).to_json()); });
}

sih_status sih_scheduler_jobs(sih_hub* hub, const char* filter_json, char** out_json) {
    return guard([&] {
        auto& service = scheduler(hub);
        const auto value = capi::json_argument(filter_json, "filter_json");
        json::ObjectReader reader(value, "");
        JobFilter filter;
        filter.hub_id = reader.optional_string("hubId", 64);
        if (auto status = reader.optional_string("status", 32)) {
            filter.status = parse_job_status(*status);
        }
        filter.owner = reader.optional_string("owner", 256);
        filter.worker_id = reader.optional_string("workerId", 64);
        filter.dead_letter = reader.optional_bool("deadLetter");
        filter.limit = reader.optional_int64("limit", 1, 1000).value_or(filter.limit);
        filter.after = reader.optional_string("after", 128).value_or("");
        reader.finish();
        give(out_json, json::join_array(service.jobs(filter)));
    });
}

sih_status sih_scheduler_events(sih_hub* hub, const char* job_id, char** out_json) {
    return guard(
        [&] { give(out_json, json::join_array(scheduler(hub).events(text(job_id, "job_id")))); });
}

sih_status sih_scheduler_queue_stats(sih_hub* hub, const char* hub_id, char** out_json) {
    return guard(
        [&] { give(out_json, scheduler(hub).queue_stats(text(hub_id, "hub_id")).to_json()); });
}

sih_status sih_scheduler_explain(sih_hub* hub, const char* job_id, char** out_json) {
    return guard(
        [&] { give(out_json, json::join_array(scheduler(hub).explain(text(job_id, "job_id")))); });
}

sih_status sih_scheduler_subscribe(sih_hub* hub, sih_job_event_fn callback, void* payload,
                                   int64_t* out_subscription) {
    return guard([&] {
        auto& service = scheduler(hub);
        if (callback == nullptr) {
            throw Error::invalid("callback", "NULL", "is required");
        }
        const auto id = service.subscribe([callback, payload](const JobEvent& event) {
            const auto text = event.to_json();
            callback(payload, text.c_str());
        });
        give(out_subscription, id);
    });
}

sih_status sih_scheduler_unsubscribe(sih_hub* hub, int64_t subscription) {
    return guard([&] { scheduler(hub).unsubscribe(subscription); });
}

}  // extern "C"
