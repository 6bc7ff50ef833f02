// SPDX-License-Identifier: Apache-2.0
// GPU stats: nvidia-smi's utilisation and VRAM in use, parsed, probed and sent by the agent in
// its heartbeats (this machine has no GPU: a recorded output and a fake nvidia-smi).
#include "agent/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/worker_agent.hpp>

#include <algorithm>
#include <fstream>
#include <mutex>

namespace sihlicon::testing {

namespace {

constexpr std::int64_t kMiB = 1LL << 20;

// Recorded from `nvidia-smi --query-gpu=utilization.gpu,memory.used
// --format=csv,noheader,nounits` on a machine with an A100 and an L4.
constexpr const char* kRecorded = "87, 61432\n0, 4\n";

// A fake nvidia-smi that answers the stats query with `stats` and anything else with a
// model line.
std::filesystem::path fake_nvidia_smi(const std::filesystem::path& folder,
                                      const std::string& stats) {
    std::filesystem::create_directories(folder);
    const auto path = folder / "nvidia-smi";
    std::ofstream(path) << "#!/bin/sh\n"
                           "if [ \"$1\" = --query-gpu=utilization.gpu,memory.used ]; then\n"
                           "  printf '"
                        << stats << "'\nelse\n  echo 'NVIDIA A100-SXM4-80GB, 81920'\nfi\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
}

}  // namespace

TEST_CASE("nvidia-smi's utilization.gpu and memory.used give each GPU's stats") {
    const auto stats = parse_nvidia_smi_stats(kRecorded);
    REQUIRE(stats.size() == 2);
    CHECK(stats[0].utilisation_ppm == 870'000);
    CHECK(stats[0].vram_used_bytes == 61432 * kMiB);
    CHECK(stats[1].utilisation_ppm == 0);
    CHECK(stats[1].vram_used_bytes == 4 * kMiB);
    CHECK(parse_nvidia_smi_stats("").empty());
    for (const char* bad : {"[N/A], 12\n", "101, 12\n", "50, -1\n", "50\n", "50, 12, 3\n",
                            "50, 99999999999999999\n"}) {
        CAPTURE(bad);
        const auto error = error_from([&] { parse_nvidia_smi_stats(bad); });
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "nvidia-smi");
    }
}

TEST_CASE("the GPU probe asks nvidia-smi, and reports nothing when it is absent or garbled") {
    TempDir dir;
    HardwareSources sources;
    sources.nvidia_smi = fake_nvidia_smi(dir / "bin", "45, 2048\\n");
    const auto stats = probe_gpu_stats(sources);
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].utilisation_ppm == 450'000);
    CHECK(stats[0].vram_used_bytes == 2048 * kMiB);

    sources.nvidia_smi = dir / "missing" / "nvidia-smi";
    CHECK(probe_gpu_stats(sources).empty());
    sources.nvidia_smi = fake_nvidia_smi(dir / "garbled", "lots, lots\\n");
    CHECK(probe_gpu_stats(sources).empty());
}

TEST_CASE("an agent on a GPU machine sends its GPUs' stats in its heartbeats") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.hardware = HardwareInfo{4, 8LL << 30, {GpuSpec{"NVIDIA A100-SXM4-80GB", 81920 * kMiB}}};
    options.hardware_sources.nvidia_smi = fake_nvidia_smi(fixture.work / "bin", "87, 61432\\n");
    WorkerAgent agent(fixture.hub, options);
    agent.start();  // registers, then sends its first heartbeat
    const auto worker = fixture.scheduler().worker("bee-01");
    agent.stop();
    REQUIRE(worker.gpu_stats.size() == 1);
    CHECK(worker.gpu_stats[0].utilisation_ppm == 870'000);
    CHECK(worker.gpu_stats[0].vram_used_bytes == 61432 * kMiB);
}

TEST_CASE("GPU stats the hub refuses are left out, and the heartbeat still counts") {
    AgentFixture fixture;
    auto options = fixture.agent_options();
    options.hardware = HardwareInfo{4, 8LL << 30, {GpuSpec{"NVIDIA L4", 1024 * kMiB}}};
    // Two GPUs and more VRAM than the one registered: refused by the scheduler.
    options.hardware_sources.nvidia_smi =
        fake_nvidia_smi(fixture.work / "bin", "10, 2048\\n20, 1\\n");
    std::vector<std::string> events;
    std::mutex mutex;
    options.on_event = [&](std::string_view line) {
        std::lock_guard lock(mutex);
        events.emplace_back(line);
    };
    WorkerAgent agent(fixture.hub, options);
    agent.start();
    const auto worker = fixture.scheduler().worker("bee-01");
    agent.stop();
    CHECK(worker.gpu_stats.empty());
    CHECK(worker.status == WorkerStatus::online);
    std::lock_guard lock(mutex);
    CHECK(std::any_of(events.begin(), events.end(), [](const std::string& line) {
        return line.find("GPU stats left out") != std::string::npos;
    }));
    CHECK(std::none_of(events.begin(), events.end(), [](const std::string& line) {
        return line.find("heartbeat failed") != std::string::npos;
    }));
}

}  // namespace sihlicon::testing
