// SPDX-License-Identifier: Apache-2.0
#include "agent/subprocess.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/worker_agent.hpp>

#include <fmt/format.h>

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace sihlicon {

namespace {

constexpr std::int64_t kKibibyte = 1024;
constexpr std::int64_t kMebibyte = 1024 * 1024;

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> to_int64(std::string_view text) {
    text = trim(text);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

template <class Visit>
void for_each_line(std::string_view text, Visit visit) {
    while (!text.empty()) {
        const auto end = text.find('\n');
        visit(text.substr(0, end));
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return std::nullopt;
    }
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::int64_t affinity_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
        return 1;
    }
    return std::max(1, CPU_COUNT(&set));
}

}  // namespace

std::int64_t parse_cpuinfo_cores(std::string_view cpuinfo) {
    std::int64_t cores = 0;
    for_each_line(cpuinfo, [&](std::string_view line) {
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor") {
            ++cores;
        }
    });
    return cores;
}

std::int64_t parse_meminfo_total(std::string_view meminfo) {
    std::optional<std::int64_t> total;
    for_each_line(meminfo, [&](std::string_view line) {
        if (total || !line.starts_with("MemTotal:")) {
            return;
        }
        auto rest = trim(line.substr(9));
        std::int64_t unit = 1;
        if (rest.ends_with("kB")) {
            unit = kKibibyte;
            rest = trim(rest.substr(0, rest.size() - 2));
        }
        if (auto value = to_int64(rest); value && *value >= 0) {
            total = *value * unit;
        }
    });
    if (!total) {
        throw Error::invalid("meminfo", std::string(meminfo.substr(0, 64)), "has no MemTotal line");
    }
    return *total;
}

std::optional<std::string> parse_nvidia_gpu_model(std::string_view information) {
    std::optional<std::string> model;
    for_each_line(information, [&](std::string_view line) {
        const auto colon = line.find(':');
        if (!model && colon != std::string_view::npos && trim(line.substr(0, colon)) == "Model") {
            const auto value = trim(line.substr(colon + 1));
            if (!value.empty()) {
                model = std::string(value);
            }
        }
    });
    return model;
}

std::vector<GpuSpec> parse_nvidia_smi_csv(std::string_view csv) {
    std::vector<GpuSpec> gpus;
    for_each_line(csv, [&](std::string_view raw) {
        const auto line = trim(raw);
        if (line.empty()) {
            return;
        }
        const auto comma = line.rfind(',');
        const auto mebibytes =
            comma == std::string_view::npos ? std::nullopt : to_int64(line.substr(comma + 1));
        if (!mebibytes || *mebibytes < 0 || trim(line.substr(0, comma)).empty()) {
            throw Error::invalid("nvidia-smi", std::string(line),
                                 "is not 'name, memory.total' in MiB");
        }
        gpus.push_back({std::string(trim(line.substr(0, comma))), *mebibytes * kMebibyte});
    });
    return gpus;
}

std::vector<GpuStats> parse_nvidia_smi_stats(std::string_view csv) {
    std::vector<GpuStats> stats;
    for_each_line(csv, [&](std::string_view raw) {
        const auto line = trim(raw);
        if (line.empty()) {
            return;
        }
        const auto comma = line.find(',');
        const auto percent =
            comma == std::string_view::npos ? std::nullopt : to_int64(line.substr(0, comma));
        const auto mebibytes =
            comma == std::string_view::npos ? std::nullopt : to_int64(line.substr(comma + 1));
        if (!percent || *percent < 0 || *percent > 100 || !mebibytes || *mebibytes < 0 ||
            *mebibytes > std::numeric_limits<std::int64_t>::max() / kMebibyte) {
            throw Error::invalid("nvidia-smi", std::string(line),
                                 "is not 'utilization.gpu, memory.used' in % and MiB");
        }
        stats.push_back({*percent * 10'000, *mebibytes * kMebibyte});
    });
    return stats;
}

std::vector<GpuStats> probe_gpu_stats(const HardwareSources& sources) {
    const auto program =
        sources.nvidia_smi.empty() ? agent::find_program("nvidia-smi", {}) : sources.nvidia_smi;
    if (program.empty()) {
        return {};
    }
    const auto output = agent::capture_output(
        program, {"--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"},
        std::chrono::seconds(2));
    if (!output) {
        return {};
    }
    try {
        return parse_nvidia_smi_stats(*output);
    } catch (const Error&) {
        return {};
    }
}

CpuTimes parse_proc_stat(std::string_view stat) {
    std::optional<CpuTimes> times;
    for_each_line(stat, [&](std::string_view line) {
        if (times || !line.starts_with("cpu ")) {
            return;
        }
        std::istringstream fields{std::string(line.substr(4))};
        CpuTimes result;
        std::int64_t value = 0;
        // user nice system idle iowait irq softirq steal (guest times are inside user).
        for (int index = 0; index < 8 && fields >> value; ++index) {
            result.total += value;
            if (index != 3 && index != 4) {
                result.busy += value;
            }
        }
        times = result;
    });
    if (!times) {
        throw Error::invalid("stat", std::string(stat.substr(0, 64)), "has no 'cpu' line");
    }
    return *times;
}

HardwareInfo detect_hardware(const HardwareSources& sources) {
    HardwareInfo info;
    if (auto cpuinfo = read_text(sources.proc_root / "cpuinfo")) {
        info.cpu_cores = parse_cpuinfo_cores(*cpuinfo);
    }
    if (info.cpu_cores == 0) {
        info.cpu_cores = affinity_cores();
    }
    if (auto meminfo = read_text(sources.proc_root / "meminfo")) {
        try {
            info.memory_bytes = parse_meminfo_total(*meminfo);
        } catch (const Error&) {
            info.memory_bytes = 0;
        }
    }
    // The driver's folder says which GPUs exist; nvidia-smi knows their memory.
    std::vector<std::string> models;
    std::error_code error;
    const auto gpu_folder = sources.proc_root / "driver" / "nvidia" / "gpus";
    std::vector<std::filesystem::path> buses;
    for (std::filesystem::directory_iterator it(gpu_folder, error), end; !error && it != end;
         it.increment(error)) {
        buses.push_back(it->path());
    }
    std::sort(buses.begin(), buses.end());
    for (const auto& bus : buses) {
        if (auto text = read_text(bus / "information")) {
            models.push_back(parse_nvidia_gpu_model(*text).value_or("NVIDIA GPU"));
        }
    }
    if (models.empty()) {
        return info;
    }
    std::vector<GpuSpec> queried;
    const auto program =
        sources.nvidia_smi.empty() ? agent::find_program("nvidia-smi", {}) : sources.nvidia_smi;
    if (!program.empty()) {
        const auto output = agent::capture_output(
            program, {"--query-gpu=name,memory.total", "--format=csv,noheader,nounits"},
            std::chrono::seconds(5));
        if (output) {
            try {
                queried = parse_nvidia_smi_csv(*output);
            } catch (const Error&) {
                queried.clear();
            }
        }
    }
    for (std::size_t i = 0; i < models.size(); ++i) {
        info.gpus.push_back(i < queried.size() ? queried[i] : GpuSpec{models[i], 0});
    }
    return info;
}

}  // namespace sihlicon
