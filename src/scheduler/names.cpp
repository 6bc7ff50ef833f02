// SPDX-License-Identifier: Apache-2.0
//
// The scheduler's enumerations as the seeds spell them, and exact resource quantities.
#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/scheduler.hpp>

#include <array>
#include <cctype>
#include <utility>

namespace sihlicon {

namespace {

template <class Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

constexpr NameTable<JobType, 6> kJobTypes{{
    {JobType::ocr, "ocr"},
    {JobType::ai_inference, "ai-inference"},
    {JobType::time_series, "time-series"},
    {JobType::video_processing, "video-processing"},
    {JobType::scientific, "scientific"},
    {JobType::custom, "custom"},
}};
constexpr NameTable<JobStatus, 6> kJobStatuses{{
    {JobStatus::pending, "pending"},
    {JobStatus::queued, "queued"},
    {JobStatus::running, "running"},
    {JobStatus::completed, "completed"},
    {JobStatus::failed, "failed"},
    {JobStatus::cancelled, "cancelled"},
}};
constexpr NameTable<GridSignal, 4> kGridSignals{{
    {GridSignal::surplus, "surplus"},
    {GridSignal::normal, "normal"},
    {GridSignal::throttle, "throttle"},
    {GridSignal::curtail, "curtail"},
}};
constexpr NameTable<WorkerStatus, 4> kWorkerStatuses{{
    {WorkerStatus::online, "online"},
    {WorkerStatus::busy, "busy"},
    {WorkerStatus::offline, "offline"},
    {WorkerStatus::draining, "draining"},
}};
constexpr NameTable<RoutingPolicy, 5> kRoutingPolicies{{
    {RoutingPolicy::least_loaded, "least-loaded"},
    {RoutingPolicy::round_robin, "round-robin"},
    {RoutingPolicy::gpu_match, "gpu-match"},
    {RoutingPolicy::bin_packing, "bin-packing"},
    {RoutingPolicy::heat_demand_first, "heat-demand-first"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) noexcept {
    for (const auto& [known, name] : table) {
        if (known == value) {
            return name;
        }
    }
    return "unknown";
}

template <class Enum, std::size_t N>
Enum parse_name(const NameTable<Enum, N>& table, std::string_view text, std::string_view field) {
    for (const auto& [value, name] : table) {
        if (name == text) {
            return value;
        }
    }
    std::string choices;
    for (const auto& [value, name] : table) {
        choices.append(choices.empty() ? "" : " | ").append(name);
    }
    throw Error::invalid(field, text, "must be one of " + choices);
}

bool all_digits(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

struct MemorySuffix {
    std::string_view suffix;
    std::int64_t factor;
};

constexpr std::array<MemorySuffix, 12> kMemorySuffixes{{
    {"Ki", 1LL << 10},
    {"Mi", 1LL << 20},
    {"Gi", 1LL << 30},
    {"Ti", 1LL << 40},
    {"Pi", 1LL << 50},
    {"Ei", 1LL << 60},
    {"k", 1'000LL},
    {"M", 1'000'000LL},
    {"G", 1'000'000'000LL},
    {"T", 1'000'000'000'000LL},
    {"P", 1'000'000'000'000'000LL},
    {"E", 1'000'000'000'000'000'000LL},
}};

}  // namespace

std::string_view to_string(JobType value) noexcept {
    return name_of(kJobTypes, value);
}
std::string_view to_string(JobStatus value) noexcept {
    return name_of(kJobStatuses, value);
}
std::string_view to_string(GridSignal value) noexcept {
    return name_of(kGridSignals, value);
}
std::string_view to_string(WorkerStatus value) noexcept {
    return name_of(kWorkerStatuses, value);
}
std::string_view to_string(RoutingPolicy value) noexcept {
    return name_of(kRoutingPolicies, value);
}

JobType parse_job_type(std::string_view text, std::string_view field) {
    return parse_name(kJobTypes, text, field);
}
JobStatus parse_job_status(std::string_view text, std::string_view field) {
    return parse_name(kJobStatuses, text, field);
}
GridSignal parse_grid_signal(std::string_view text, std::string_view field) {
    return parse_name(kGridSignals, text, field);
}
WorkerStatus parse_worker_status(std::string_view text, std::string_view field) {
    return parse_name(kWorkerStatuses, text, field);
}
RoutingPolicy parse_routing_policy(std::string_view text, std::string_view field) {
    return parse_name(kRoutingPolicies, text, field);
}

std::int64_t parse_cpu_millicores(std::string_view text, std::string_view field) {
    std::int64_t millicores = 0;
    if (text.size() > 1 && text.back() == 'm' && all_digits(text.substr(0, text.size() - 1))) {
        millicores = checked::parse_decimal(text.substr(0, text.size() - 1), 0, field);
    } else {
        // Whole or fractional cores with at most three decimals: "2", "0.5", "1.125".
        const auto point = text.find('.');
        const auto digits = point == std::string_view::npos ? 0 : text.size() - point - 1;
        if (digits > 3 || !all_digits(text.substr(0, point)) ||
            (point != std::string_view::npos && !all_digits(text.substr(point + 1)))) {
            throw Error::invalid(field, text,
                                 "must be cores (\"2\", \"0.5\") or millicores (\"500m\")");
        }
        millicores = checked::parse_decimal(text, 3, field);
    }
    if (millicores <= 0) {
        throw Error::invalid(field, text, "must be more than zero");
    }
    return millicores;
}

std::int64_t parse_memory_bytes(std::string_view text, std::string_view field) {
    for (const auto& [suffix, factor] : kMemorySuffixes) {
        if (text.size() > suffix.size() && text.ends_with(suffix)) {
            const auto number = text.substr(0, text.size() - suffix.size());
            if (!all_digits(number)) {
                break;
            }
            const auto value = checked::parse_decimal(number, 0, field);
            if (value > INT64_MAX / factor) {
                throw Error::invalid(field, text, "is too large");
            }
            return value * factor;
        }
    }
    if (!all_digits(text)) {
        throw Error::invalid(field, text,
                             "must be bytes, optionally with a suffix (k M G T P E, Ki Mi Gi Ti "
                             "Pi Ei), e.g. \"4Gi\"");
    }
    return checked::parse_decimal(text, 0, field);
}

}  // namespace sihlicon
