// SPDX-License-Identifier: Apache-2.0
//
// Hub and worker specs from JSON, and leases and placements to JSON, for the CLI, the C ABI
// and the bindings.
#include "core/json.hpp"
#include "scheduler/job_spec.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/scheduler.hpp>

#include <cstdint>

namespace sihlicon {

std::optional<Energy> scheduler::optional_kwh(json::ObjectReader& reader, std::string_view key) {
    const auto* value = reader.optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_string()) {
        return Energy::parse_kwh(value->get_string(), reader.path_of(key));
    }
    return Energy::milliwatt_hours(*reader.optional_decimal(key, 6));
}

JobCompletion scheduler::completion_from(json::ObjectReader& reader) {
    JobCompletion completion;
    completion.output_refs =
        reader.optional_string_array("outputDataRefs", 10'000).value_or(std::vector<std::string>{});
    auto mwh = reader.optional_int64("energyMwh", 0, INT64_MAX);
    if (auto kwh = optional_kwh(reader, "energyKwh")) {
        if (mwh) {
            throw Error::invalid(reader.path_of("energyKwh"), kwh->to_kwh_string(),
                                 "may not be given with energyMwh");
        }
        if (kwh->mwh() < 0) {
            throw Error::invalid(reader.path_of("energyKwh"), kwh->to_kwh_string(),
                                 "must not be negative");
        }
        mwh = kwh->mwh();
    }
    if (mwh) {
        completion.energy = Energy::milliwatt_hours(*mwh);
    }
    if (auto source = reader.optional_string("energySource", 32)) {
        completion.energy_source = parse_energy_source(*source, reader.path_of("energySource"));
    } else if (!mwh) {
        completion.energy_source = EnergySource::modelled;
    }
    completion.result_hash = reader.optional_string("resultHash", 256);
    if (const auto* metrics = reader.optional_value("metrics")) {
        if (!metrics->is_object()) {
            throw Error::invalid(reader.path_of("metrics"), json::serialize(*metrics),
                                 "must be a JSON object");
        }
        completion.metrics_json = json::serialize(*metrics);
    }
    completion.proof_of_execution = reader.optional_string("proofOfExecution", 256);
    completion.worker_signature = reader.optional_string("workerSignature", 256);
    return completion;
}

JobCompletion JobCompletion::from_json(std::string_view json) {
    const auto value = json::parse(json);
    json::ObjectReader reader(value, "");
    auto completion = scheduler::completion_from(reader);
    reader.finish();
    return completion;
}

std::string JobCompletion::to_json() const {
    boost::json::object object{{"outputDataRefs", json::string_array(output_refs)},
                               {"energySource", to_string(energy_source)},
                               {"metrics", json::parse(metrics_json)}};
    if (energy) {
        object["energyMwh"] = energy->mwh();
    }
    if (result_hash) {
        object["resultHash"] = *result_hash;
    }
    if (proof_of_execution) {
        object["proofOfExecution"] = *proof_of_execution;
    }
    if (worker_signature) {
        object["workerSignature"] = *worker_signature;
    }
    return json::serialize(object);
}

HubSpec HubSpec::from_json(std::string_view json) {
    const auto value = json::parse(json);
    json::ObjectReader reader(value, "");
    HubSpec spec;
    spec.id = reader.required_string("hubId", 64);
    spec.name = reader.required_string("name", 256);
    spec.site = reader.required_string("site", 128);
    spec.region = reader.required_string("region", 64);
    spec.heat_recovery_ppm = reader.optional_int64("heatRecoveryPpm", 0, 10'000'000).value_or(0);
    spec.power_capacity_w =
        reader.optional_int64("powerCapacityW", 0, 1'000'000'000'000).value_or(0);
    if (auto policy = reader.optional_string("routingPolicy", 64)) {
        spec.routing_policy = parse_routing_policy(*policy);
    }
    spec.watts_per_core = reader.optional_int64("wattsPerCore", 0, 100'000).value_or(10);
    spec.watts_per_gpu = reader.optional_int64("wattsPerGpu", 0, 100'000).value_or(250);
    spec.throttle_min_priority =
        reader.optional_int64("throttleMinPriority", -1000, 1001).value_or(10);
    spec.max_queue_depth = reader.optional_int64("maxQueueDepth", 0, 1'000'000'000).value_or(0);
    reader.finish();
    return spec;
}

WorkerSpec WorkerSpec::from_json(std::string_view json) {
    const auto value = json::parse(json);
    json::ObjectReader reader(value, "");
    WorkerSpec spec;
    spec.id = reader.optional_string("workerId", 64).value_or("");
    spec.hub_id = reader.required_string("hubId", 64);
    spec.cpu_millicores = parse_cpu_millicores(reader.required_string("cpu", 32), "cpu");
    if (auto memory = reader.optional_string("memory", 32)) {
        spec.memory_bytes = parse_memory_bytes(*memory, "memory");
    }
    if (const auto* gpus = reader.optional_value("gpus")) {
        if (!gpus->is_array()) {
            throw Error::invalid("gpus", boost::json::serialize(*gpus), "must be an array");
        }
        const auto& array = gpus->get_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            const auto path = "gpus[" + std::to_string(i) + "]";
            json::ObjectReader gpu(array[i], path);
            GpuSpec parsed;
            parsed.model = gpu.required_string("model", 128);
            parsed.vram_bytes = parse_memory_bytes(gpu.required_string("vram", 32), path + ".vram");
            gpu.finish();
            spec.gpus.push_back(std::move(parsed));
        }
    }
    spec.labels = reader.optional_string_map("labels", 64, 256)
                      .value_or(std::map<std::string, std::string>{});
    if (const auto* executors = reader.optional_value("executors")) {
        if (!executors->is_array()) {
            throw Error::invalid("executors", boost::json::serialize(*executors),
                                 "must be an array");
        }
        spec.executors.clear();
        const auto& array = executors->get_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            const auto field = "executors[" + std::to_string(i) + "]";
            if (!array[i].is_string()) {
                throw Error::invalid(field, boost::json::serialize(array[i]), "must be a string");
            }
            spec.executors.emplace_back(array[i].get_string());
        }
        scheduler::check_executors(spec.executors);
    }
    reader.finish();
    return spec;
}

Heartbeat Heartbeat::from_json(std::string_view json) {
    // Wide bounds, exact as doubles: the ranges are Scheduler::heartbeat's, in one place.
    constexpr std::int64_t kAny = std::int64_t{1} << 62;
    const auto value = json::parse(json);
    json::ObjectReader reader(value, "");
    Heartbeat beat;
    beat.utilisation_ppm = reader.optional_int64("utilisationPpm", -kAny, kAny).value_or(0);
    beat.power_draw_w = reader.optional_int64("powerDrawW", -kAny, kAny).value_or(0);
    if (const auto* gpus = reader.optional_value("gpus")) {
        if (!gpus->is_array()) {
            throw Error::invalid("gpus", boost::json::serialize(*gpus), "must be an array");
        }
        const auto& array = gpus->get_array();
        if (array.size() > 64) {
            throw Error::invalid("gpus", std::to_string(array.size()), "at most 64 GPUs");
        }
        for (std::size_t i = 0; i < array.size(); ++i) {
            json::ObjectReader gpu(array[i], "gpus[" + std::to_string(i) + "]");
            GpuStats stats;
            stats.utilisation_ppm = gpu.optional_int64("utilisationPpm", -kAny, kAny).value_or(0);
            stats.vram_used_bytes = gpu.optional_int64("vramUsed", -kAny, kAny).value_or(0);
            gpu.finish();
            beat.gpus.push_back(stats);
        }
    }
    reader.finish();
    return beat;
}

std::string WorkerSpec::to_json() const {
    boost::json::array gpu_array;
    for (const auto& gpu : gpus) {
        gpu_array.push_back(
            boost::json::object{{"model", gpu.model}, {"vram", std::to_string(gpu.vram_bytes)}});
    }
    boost::json::object labels_object;
    for (const auto& [name, value] : labels) {
        labels_object[name] = value;
    }
    boost::json::object object{{"hubId", hub_id},
                               {"cpu", std::to_string(cpu_millicores) + "m"},
                               {"memory", std::to_string(memory_bytes)},
                               {"gpus", std::move(gpu_array)},
                               {"labels", std::move(labels_object)},
                               {"executors", json::string_array(executors)}};
    if (!id.empty()) {
        object["workerId"] = id;
    }
    return json::serialize(object);
}

std::string Heartbeat::to_json() const {
    boost::json::array gpu_array;
    for (const auto& gpu : gpus) {
        gpu_array.push_back(boost::json::object{{"utilisationPpm", gpu.utilisation_ppm},
                                                {"vramUsed", gpu.vram_used_bytes}});
    }
    return json::serialize(boost::json::object{{"utilisationPpm", utilisation_ppm},
                                               {"powerDrawW", power_draw_w},
                                               {"gpus", std::move(gpu_array)}});
}

std::string Lease::to_json() const {
    return json::ObjectWriter()
        .field("jobId", job_id)
        .field("workerId", worker_id)
        .field("token", token)
        .field("expiresAt", to_iso8601(expires_at))
        .field("attempt", attempt)
        .finish();
}

std::string ClaimedJob::to_json() const {
    return R"({"lease":)" + lease.to_json() + R"(,"job":)" + job.to_json() + "}";
}

std::string Placement::to_json() const {
    // Exact kWh text as a JSON number, as JobRecord::to_json writes energies.
    const auto expected_heat_kwh = expected_heat
                                       ? boost::json::parse(expected_heat->to_kwh_string())
                                       : boost::json::value(nullptr);
    return json::serialize(boost::json::object{{"hubId", hub_id},
                                               {"workerId", worker_id},
                                               {"eligible", eligible},
                                               {"reasons", json::string_array(reasons)},
                                               {"expectedHeatKwh", expected_heat_kwh}});
}

}  // namespace sihlicon
