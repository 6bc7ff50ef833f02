// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/power_meter.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <system_error>

namespace sihlicon {

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kMicrojoulesPerMwh = 3'600'000;

// The first line of a sysfs file, or nothing if it cannot be opened or read.
std::optional<std::string> read_line(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    return line;
}

std::int64_t parse_counter(const std::string& text, const std::filesystem::path& path) {
    std::int64_t value = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    const bool trailing_blank =
        std::all_of(end, text.data() + text.size(), [](char c) { return c == ' ' || c == '\r'; });
    if (error != std::errc() || !trailing_blank || value < 0) {
        throw Error(ErrorCode::integrity,
                    fmt::format("{} holds '{}', not a non-negative integer", path.string(), text));
    }
    return value;
}

// A zone name "intel-rapl:N" with one colon: a top-level domain.
bool is_top_level_zone(const std::string& name) {
    constexpr std::string_view prefix = "intel-rapl:";
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) {
        return false;
    }
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

// The readable top-level zones under `root`, sorted by zone name; psys alone if present.
std::vector<RaplDomain> discover(const std::filesystem::path& root) {
    std::vector<RaplDomain> domains;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        const std::string zone = entry.path().filename().string();
        if (!is_top_level_zone(zone)) {
            continue;
        }
        const auto energy_file = entry.path() / "energy_uj";
        const auto energy = read_line(energy_file);
        const auto range = read_line(entry.path() / "max_energy_range_uj");
        if (!energy || !range) {
            continue;  // not readable by this user
        }
        parse_counter(*energy, energy_file);
        RaplDomain domain;
        domain.zone = zone;
        domain.name = read_line(entry.path() / "name").value_or(zone);
        domain.energy_file = energy_file;
        domain.max_energy_range_uj = parse_counter(*range, entry.path() / "max_energy_range_uj");
        domains.push_back(std::move(domain));
    }
    std::sort(domains.begin(), domains.end(),
              [](const RaplDomain& a, const RaplDomain& b) { return a.zone < b.zone; });
    const auto platform = std::find_if(domains.begin(), domains.end(),
                                       [](const RaplDomain& d) { return d.name == "psys"; });
    if (platform != domains.end()) {
        return {*platform};
    }
    return domains;
}

std::shared_ptr<const Clock> require_clock(std::shared_ptr<const Clock> clock) {
    if (!clock) {
        throw Error::invalid("clock", "null", "must be a clock");
    }
    return clock;
}

void require_order(const MeterSample& begin, const MeterSample& end) {
    if (end.at < begin.at) {
        throw Error::invalid("end", to_iso8601(end.at), "is earlier than the begin sample");
    }
}

}  // namespace

PowerMeter::~PowerMeter() = default;

RaplPowerMeter::RaplPowerMeter(std::shared_ptr<const Clock> clock, const RaplOptions& options)
    : clock_(require_clock(std::move(clock))), domains_(discover(options.root)) {
    if (domains_.empty()) {
        throw Error(ErrorCode::not_found,
                    fmt::format("no readable RAPL zone (intel-rapl:N/energy_uj) under {}",
                                options.root.string()),
                    "root");
    }
}

bool RaplPowerMeter::available(const RaplOptions& options) noexcept {
    try {
        return !discover(options.root).empty();
    } catch (...) {
        return false;
    }
}

MeterSample RaplPowerMeter::sample() const {
    MeterSample sample;
    sample.at = clock_->now();
    for (const auto& domain : domains_) {
        const auto line = read_line(domain.energy_file);
        if (!line) {
            throw Error(ErrorCode::io, fmt::format("cannot read {}", domain.energy_file.string()),
                        "root");
        }
        sample.counters_uj.push_back(parse_counter(*line, domain.energy_file));
    }
    return sample;
}

MeteredEnergy RaplPowerMeter::energy_between(const MeterSample& begin, const MeterSample& end,
                                             const PowerWorkload& /*workload*/) const {
    require_order(begin, end);
    if (begin.counters_uj.size() != domains_.size() || end.counters_uj.size() != domains_.size()) {
        throw Error::invalid(
            "end", std::to_string(end.counters_uj.size()) + " counters",
            fmt::format("must come from this meter ({} domains)", domains_.size()));
    }
    Int128 microjoules = 0;
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        const std::int64_t first = begin.counters_uj[i];
        const std::int64_t last = end.counters_uj[i];
        // The counter runs from 0 to max_energy_range_uj and starts again at 0.
        microjoules += last >= first ? Int128(last) - first
                                     : Int128(domains_[i].max_energy_range_uj) - first + last;
    }
    Int128 mwh = microjoules / kMicrojoulesPerMwh;
    const Int128 twice_remainder = (microjoules % kMicrojoulesPerMwh) * 2;
    if (twice_remainder > kMicrojoulesPerMwh ||
        (twice_remainder == kMicrojoulesPerMwh && mwh % 2 != 0)) {
        mwh += 1;
    }
    if (mwh > std::numeric_limits<std::int64_t>::max() ||
        mwh < std::numeric_limits<std::int64_t>::min()) {
        checked::throw_overflow("metered energy");
    }
    return {Energy::milliwatt_hours(static_cast<std::int64_t>(mwh)), EnergySource::measured};
}

ModelPowerMeter::ModelPowerMeter(std::shared_ptr<const Clock> clock, const PowerModel& model)
    : clock_(require_clock(std::move(clock))), model_(model) {
    if (model.watts_per_core < 0) {
        throw Error::invalid("wattsPerCore", std::to_string(model.watts_per_core),
                             "must not be negative");
    }
    if (model.watts_per_gpu < 0) {
        throw Error::invalid("wattsPerGpu", std::to_string(model.watts_per_gpu),
                             "must not be negative");
    }
}

std::int64_t ModelPowerMeter::watts(const PowerWorkload& workload) const {
    return model_watts(model_, workload);
}

std::int64_t model_watts(const PowerModel& model, const PowerWorkload& workload) {
    if (workload.cpu_millicores < 0) {
        throw Error::invalid("cpuMillicores", std::to_string(workload.cpu_millicores),
                             "must not be negative");
    }
    if (workload.gpus < 0) {
        throw Error::invalid("gpus", std::to_string(workload.gpus), "must not be negative");
    }
    const std::int64_t cpu_milliwatts =
        checked::multiply(workload.cpu_millicores, model.watts_per_core, "power model");
    const std::int64_t cpu_watts = cpu_milliwatts / 1000 + (cpu_milliwatts % 1000 != 0 ? 1 : 0);
    return checked::add(cpu_watts,
                        checked::multiply(workload.gpus, model.watts_per_gpu, "power model"),
                        "power model");
}

MeterSample ModelPowerMeter::sample() const {
    return MeterSample{clock_->now(), {}};
}

MeteredEnergy ModelPowerMeter::energy_between(const MeterSample& begin, const MeterSample& end,
                                              const PowerWorkload& workload) const {
    require_order(begin, end);
    return {Energy::from_power_and_duration(watts(workload), (end.at - begin.at).count()),
            EnergySource::modelled};
}

std::unique_ptr<PowerMeter> make_power_meter(std::shared_ptr<const Clock> clock,
                                             const PowerModel& model, const RaplOptions& rapl) {
    if (RaplPowerMeter::available(rapl)) {
        return std::make_unique<RaplPowerMeter>(std::move(clock), rapl);
    }
    return std::make_unique<ModelPowerMeter>(std::move(clock), model);
}

}  // namespace sihlicon
