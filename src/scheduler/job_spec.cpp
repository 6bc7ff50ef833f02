// SPDX-License-Identifier: Apache-2.0
#include "scheduler/job_spec.hpp"

#include "core/json.hpp"
#include "scheduler/rows.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/id.hpp>
#include <sihlicon/power_meter.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace sihlicon {

namespace {

constexpr std::int64_t kMaxTimeoutSeconds = 7 * 24 * 3600;
constexpr int kKwhFractionDigits = 6;  // kWh with six decimals is exactly mWh
constexpr std::int64_t kMwhPerKwh = 1'000'000;

bool is_env_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
}

Resources read_resources(json::ObjectReader& reader) {
    Resources resources;
    if (auto cpu = reader.optional_string("cpu", 32)) {
        resources.cpu_millicores = parse_cpu_millicores(*cpu, reader.path_of("cpu"));
    }
    if (auto memory = reader.optional_string("memory", 32)) {
        resources.memory_bytes = parse_memory_bytes(*memory, reader.path_of("memory"));
    }
    resources.gpu = reader.optional_bool("gpu").value_or(false);
    if (auto vram = reader.optional_string("gpuMemory", 32)) {
        resources.gpu_vram_bytes = parse_memory_bytes(*vram, reader.path_of("gpuMemory"));
    }
    reader.finish();
    return resources;
}

WorkloadConfig read_workload(json::ObjectReader& reader) {
    WorkloadConfig workload;
    workload.container_image = reader.required_string("containerImage", 512);
    workload.command =
        reader.optional_string_array("command", 256, 4096).value_or(std::vector<std::string>{});
    workload.env =
        reader.optional_string_map("env", 256).value_or(std::map<std::string, std::string>{});
    if (const auto* resources = reader.optional_value("resources")) {
        json::ObjectReader inner(*resources, reader.path_of("resources"));
        workload.resources = read_resources(inner);
    }
    workload.timeout_seconds =
        reader.optional_int64("timeoutSeconds", 1, kMaxTimeoutSeconds).value_or(3600);
    reader.finish();
    return workload;
}

std::optional<Timestamp> read_time(json::ObjectReader& reader, std::string_view key) {
    if (auto text = reader.optional_string(key, 64)) {
        return parse_iso8601(*text, reader.path_of(key));
    }
    return std::nullopt;
}

}  // namespace

bool is_reserved_env_name(std::string_view name) noexcept {
    static constexpr std::string_view kPrefixes[] = {"LD_", "DYLD_", "BASH_FUNC_", "SIHLICON_"};
    static constexpr std::string_view kNames[] = {
        "PATH",         "HOME",         "GCONV_PATH",  "GLIBC_TUNABLES",
        "LOCPATH",      "NLSPATH",      "HOSTALIASES", "IFS",
        "ENV",          "BASH_ENV",     "SHELLOPTS",   "BASHOPTS",
        "PS4",          "PYTHONPATH",   "PYTHONHOME",  "PYTHONSTARTUP",
        "PERL5LIB",     "PERL5OPT",     "PERLLIB",     "RUBYLIB",
        "RUBYOPT",      "NODE_OPTIONS", "NODE_PATH",   "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS"};
    return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                       [&](std::string_view prefix) { return name.starts_with(prefix); }) ||
           std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool is_container_image(std::string_view image) noexcept {
    if (image.empty() || std::isalnum(static_cast<unsigned char>(image.front())) == 0) {
        return false;
    }
    return std::all_of(image.begin(), image.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
    });
}

JobSpec JobSpec::from_json(std::string_view text, std::string_view owner) {
    if (text.size() > kMaxJsonBytes) {
        throw Error::invalid("jobSpec", fmt::format("{} bytes", text.size()),
                             fmt::format("must be at most {} bytes of JSON", kMaxJsonBytes));
    }
    return scheduler::normalized(scheduler::stored_spec_from_json(text, owner));
}

std::vector<JobSpec> JobSpec::array_from_json(std::string_view text, std::string_view owner) {
    if (text.size() > kMaxArrayJsonBytes) {
        throw Error::invalid("specs", fmt::format("{} bytes", text.size()),
                             fmt::format("must be at most {} bytes of JSON", kMaxArrayJsonBytes));
    }
    const auto value = json::parse(text, "specs");
    if (!value.is_array()) {
        throw Error::invalid("specs", text.substr(0, 64), "must be a JSON array");
    }
    const auto& array = value.as_array();
    std::vector<JobSpec> specs;
    specs.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
        try {
            specs.push_back(from_json(boost::json::serialize(array[i]), owner));
        } catch (const Error& error) {
            const auto at = "specs[" + std::to_string(i) + "]";
            throw Error(error.code(), at + (error.field().empty() ? ": " : ".") + error.what(),
                        error.field().empty() ? at : at + "." + error.field());
        }
    }
    return specs;
}

namespace scheduler {

std::string normalize_input_ref(std::string_view text, std::string_view field) {
    constexpr std::string_view kIpfsScheme = "ipfs://";
    if (!text.starts_with(kIpfsScheme)) {
        return Cid::parse_any_version(text, field).to_v1().to_string();
    }
    try {
        return Cid::parse_any_version(text.substr(kIpfsScheme.size()), field).to_v1().to_string();
    } catch (const Error&) {
        throw Error::invalid(field, text, "is not ipfs://<cid> with a valid CID");
    }
}

JobSpec normalized(JobSpec spec) {
    for (std::size_t i = 0; i < spec.input_refs.size(); ++i) {
        spec.input_refs[i] =
            normalize_input_ref(spec.input_refs[i], "inputDataRefs[" + std::to_string(i) + "]");
    }
    if (spec.pin_hub && !spec.hub_id) {
        spec.hub_id = spec.pin_hub;
    }
    return spec;
}

JobSpec stored_spec_from_json(std::string_view text, std::string_view owner) {
    const auto value = json::parse(text);
    json::ObjectReader reader(value, "");
    JobSpec spec;
    spec.type = parse_job_type(reader.required_string("jobType", 64), "jobType");
    spec.name = reader.required_string("jobName", 256);
    spec.description = reader.optional_string("jobDescription", 4096).value_or("");
    if (const auto* workload = reader.optional_value("workloadConfig")) {
        json::ObjectReader inner(*workload, "workloadConfig");
        spec.workload = read_workload(inner);
    } else {
        throw Error::invalid("workloadConfig", "", "is required");
    }
    spec.input_refs = reader.optional_string_array("inputDataRefs", 1024, 128)
                          .value_or(std::vector<std::string>{});
    if (auto mwh = reader.optional_decimal("estimatedComputeKwh", kKwhFractionDigits)) {
        spec.estimated_energy = Energy::milliwatt_hours(*mwh);
    }
    spec.priority = reader.optional_int64("priority", -1000, 1000).value_or(0);
    spec.scheduled_at = read_time(reader, "scheduledAt");
    spec.hub_id = reader.optional_string("hubId", 64);
    const auto owner_field = reader.optional_string("owner", 256);
    spec.owner = owner.empty() ? owner_field.value_or("") : std::string(owner);
    spec.idempotency_key = reader.optional_string("idempotencyKey", 128);
    spec.max_attempts = reader.optional_int64("maxAttempts", 1, 100).value_or(3);
    spec.backoff_ms = reader.optional_int64("backoffMs", 0, 3'600'000).value_or(1000);
    spec.deadline = read_time(reader, "deadline");
    if (const auto* constraints = reader.optional_value("constraints")) {
        json::ObjectReader inner(*constraints, "constraints");
        spec.required_labels = inner.optional_string_map("labels", 64, 256)
                                   .value_or(std::map<std::string, std::string>{});
        spec.region = inner.optional_string("region", 64);
        spec.pin_hub = inner.optional_string("pinHub", 64);
        inner.finish();
    }
    spec.depends_on =
        reader.optional_string_array("dependsOn", 100, 64).value_or(std::vector<std::string>{});
    reader.finish();
    return spec;
}

void validate(const JobSpec& spec, Timestamp now) {
    auto require_length = [](std::string_view field, std::string_view text, std::size_t min,
                             std::size_t max) {
        if (text.size() < min || text.size() > max) {
            throw Error::invalid(field, text,
                                 min > 0 && text.empty()
                                     ? "is required"
                                     : "must be " + std::to_string(min) + " to " +
                                           std::to_string(max) + " bytes long");
        }
    };
    require_length("jobName", spec.name, 1, 256);
    require_plain_text("jobName", spec.name);
    require_length("jobDescription", spec.description, 0, 4096);
    require_length("owner", spec.owner, 1, 256);
    require_plain_text("owner", spec.owner);
    for (const auto& [key, value] : spec.required_labels) {
        require_plain_text("constraints.labels", key);
        require_plain_text("constraints.labels." + key, value);
    }
    require_length("workloadConfig.containerImage", spec.workload.container_image, 1, 512);
    if (!is_container_image(spec.workload.container_image)) {
        throw Error::invalid("workloadConfig.containerImage", spec.workload.container_image,
                             "is not a container image reference (a letter or digit, then "
                             "letters, digits and . _ - / : @)");
    }
    for (const auto& [name, value] : spec.workload.env) {
        if (!is_env_name(name)) {
            throw Error::invalid("workloadConfig.env", name, "is not an environment variable name");
        }
        if (is_reserved_env_name(name)) {
            throw Error::invalid("workloadConfig.env", name,
                                 "is reserved: the agent sets it, or it changes which code a "
                                 "program loads (PATH, HOME, LD_*, ...)");
        }
    }
    const auto& resources = spec.workload.resources;
    if (resources.cpu_millicores <= 0) {
        throw Error::invalid("workloadConfig.resources.cpu",
                             std::to_string(resources.cpu_millicores) + "m",
                             "must be more than zero");
    }
    if (resources.memory_bytes < 0 || resources.gpu_vram_bytes < 0) {
        throw Error::invalid("workloadConfig.resources.memory",
                             std::to_string(resources.memory_bytes), "must not be negative");
    }
    if (resources.gpu_vram_bytes > 0 && !resources.gpu) {
        throw Error::invalid("workloadConfig.resources.gpuMemory",
                             std::to_string(resources.gpu_vram_bytes), "needs gpu: true");
    }
    if (spec.workload.timeout_seconds < 1 || spec.workload.timeout_seconds > kMaxTimeoutSeconds) {
        throw Error::invalid("workloadConfig.timeoutSeconds",
                             std::to_string(spec.workload.timeout_seconds),
                             "must be between 1 and " + std::to_string(kMaxTimeoutSeconds));
    }
    for (std::size_t i = 0; i < spec.input_refs.size(); ++i) {
        Cid::parse(spec.input_refs[i], "inputDataRefs[" + std::to_string(i) + "]");
    }
    if (spec.estimated_energy && spec.estimated_energy->mwh() < 0) {
        throw Error::invalid("estimatedComputeKwh", spec.estimated_energy->to_kwh_string(),
                             "must not be negative");
    }
    if (spec.estimated_energy &&
        spec.estimated_energy->mwh() > JobSpec::kMaxEstimatedComputeKwh * kMwhPerKwh) {
        throw Error::invalid(
            "estimatedComputeKwh", spec.estimated_energy->to_kwh_string(),
            fmt::format("must be at most {} kWh", JobSpec::kMaxEstimatedComputeKwh));
    }
    if (spec.priority < -1000 || spec.priority > 1000) {
        throw Error::invalid("priority", std::to_string(spec.priority),
                             "must be between -1000 and 1000");
    }
    // The pin first: a pinned job's hub_id is its pin_hub (normalized()).
    if (spec.pin_hub) {
        require_length("constraints.pinHub", *spec.pin_hub, 1, 64);
        require_plain_text("constraints.pinHub", *spec.pin_hub);
        if (spec.hub_id && *spec.hub_id != *spec.pin_hub) {
            throw Error::invalid("constraints.pinHub", *spec.pin_hub,
                                 fmt::format("differs from hubId '{}': a job is pinned to the "
                                             "hub it names",
                                             *spec.hub_id));
        }
    }
    if (spec.hub_id) {
        require_length("hubId", *spec.hub_id, 1, 64);
        require_plain_text("hubId", *spec.hub_id);
    }
    if (spec.idempotency_key) {
        require_length("idempotencyKey", *spec.idempotency_key, 1, 128);
        require_plain_text("idempotencyKey", *spec.idempotency_key);
    }
    if (spec.max_attempts < 1 || spec.max_attempts > 100) {
        throw Error::invalid("maxAttempts", std::to_string(spec.max_attempts),
                             "must be between 1 and 100");
    }
    if (spec.backoff_ms < 0 || spec.backoff_ms > 3'600'000) {
        throw Error::invalid("backoffMs", std::to_string(spec.backoff_ms),
                             "must be between 0 and 3600000");
    }
    if (spec.deadline && *spec.deadline <= now) {
        throw Error::invalid("deadline", to_iso8601(*spec.deadline), "is already past");
    }
    for (const auto& dependency : spec.depends_on) {
        if (!is_valid_id(dependency, "job")) {
            throw Error::invalid("dependsOn", dependency, "is not a job id");
        }
    }
}

std::string to_stored_json(const JobSpec& spec) {
    const auto& workload = spec.workload;
    const auto& resources = workload.resources;
    json::ObjectWriter resources_json;
    resources_json.field("cpu", std::to_string(resources.cpu_millicores) + "m")
        .field("memory", std::to_string(resources.memory_bytes))
        .field("gpu", resources.gpu);
    if (resources.gpu_vram_bytes > 0) {
        resources_json.field("gpuMemory", std::to_string(resources.gpu_vram_bytes));
    }
    json::ObjectWriter workload_json;
    workload_json.field("containerImage", workload.container_image)
        .field("command", workload.command)
        .field("env", workload.env)
        .field("resources", std::move(resources_json))
        .field("timeoutSeconds", workload.timeout_seconds);
    json::ObjectWriter constraints;
    constraints.field("labels", spec.required_labels);
    if (spec.region) {
        constraints.field("region", *spec.region);
    }
    if (spec.pin_hub) {
        constraints.field("pinHub", *spec.pin_hub);
    }
    json::ObjectWriter object;
    object.field("jobType", to_string(spec.type))
        .field("jobName", spec.name)
        .field("jobDescription", spec.description)
        .field("workloadConfig", std::move(workload_json))
        .field("inputDataRefs", spec.input_refs)
        .field("priority", spec.priority)
        .field("owner", spec.owner)
        .field("maxAttempts", spec.max_attempts)
        .field("backoffMs", spec.backoff_ms)
        .field("constraints", std::move(constraints))
        .field("dependsOn", spec.depends_on);
    if (spec.estimated_energy) {
        // Exact kWh text as a JSON number; read back exactly by optional_decimal.
        object.field("estimatedComputeKwh",
                     boost::json::parse(spec.estimated_energy->to_kwh_string()));
    }
    if (spec.scheduled_at) {
        object.field("scheduledAt", to_iso8601(*spec.scheduled_at));
    }
    if (spec.hub_id) {
        object.field("hubId", *spec.hub_id);
    }
    if (spec.idempotency_key) {
        object.field("idempotencyKey", *spec.idempotency_key);
    }
    if (spec.deadline) {
        object.field("deadline", to_iso8601(*spec.deadline));
    }
    return object.finish();
}

std::int64_t budgeted_power_w(const Resources& resources, const HubSpec& hub) {
    return model_watts({hub.watts_per_core, hub.watts_per_gpu},
                       {resources.cpu_millicores, resources.gpu ? 1 : 0});
}

void check_executors(const std::vector<std::string>& executors) {
    for (std::size_t i = 0; i < executors.size(); ++i) {
        const auto field = fmt::format("executors[{}]", i);
        if (executors[i] != "native" && executors[i] != "container") {
            throw Error::invalid(field, executors[i], "must be \"native\" or \"container\"");
        }
        const auto before = executors.begin() + static_cast<std::ptrdiff_t>(i);
        if (std::find(executors.begin(), before, executors[i]) != before) {
            throw Error::invalid(field, executors[i], "is named twice");
        }
    }
}

}  // namespace scheduler
}  // namespace sihlicon
