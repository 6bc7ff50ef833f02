// SPDX-License-Identifier: Apache-2.0
//
// Inputs that many tests need: reproducible bytes, a heat-recovering hub and a small job.
#pragma once

#include <sihlicon/scheduler.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sihlicon::testing {

// `size` bytes from a Mersenne Twister seeded with `seed`: the same bytes on every run.
inline std::vector<std::uint8_t> random_bytes(std::size_t size, std::uint32_t seed) {
    std::mt19937 engine(seed);
    std::vector<std::uint8_t> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::uint8_t>(engine());
    }
    return bytes;
}

// A pool's heat-recovering site in Switzerland (90 % of the electricity comes back as heat).
inline HubSpec pool_hub(std::string id = "pool") {
    HubSpec spec;
    spec.id = std::move(id);
    spec.name = "Pool";
    spec.site = "enge";
    spec.region = "CH";
    spec.heat_recovery_ppm = 900'000;
    spec.power_capacity_w = 20'000;
    return spec;
}

// A small custom container job of `owner`.
inline JobSpec small_job(std::string owner = "ann") {
    JobSpec spec;
    spec.type = JobType::custom;
    spec.name = "small";
    spec.owner = std::move(owner);
    spec.workload.container_image = "busybox";
    return spec;
}

}  // namespace sihlicon::testing
