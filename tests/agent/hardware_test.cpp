// SPDX-License-Identifier: Apache-2.0
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/worker_agent.hpp>

#include <filesystem>
#include <fstream>

namespace sihlicon::testing {

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

constexpr const char* kCpuinfo = R"(processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz

processor	: 1
vendor_id	: GenuineIntel

processor	: 2

processor	: 3
)";

constexpr const char* kMeminfo = R"(MemTotal:       65792116 kB
MemFree:        12345678 kB
MemAvailable:   40000000 kB
)";

constexpr const char* kNvidiaInformation = R"(Model: 		 NVIDIA A100-SXM4-80GB
IRQ:   		 183
GPU UUID: 	 GPU-4b1b0a28-2f57-3c5a-6d1e-0c6f3b0a2e11
Video BIOS: 	 92.00.36.00.10
Bus Type: 	 PCIe
DMA Size: 	 47 bits
DMA Mask: 	 0x7fffffffffff
Bus Location: 	 0000:3b:00.0
Device Minor: 	 0
GPU Excluded:	 No
)";

}  // namespace

TEST_CASE("the kernel's cpuinfo and meminfo give cores and memory") {
    CHECK(parse_cpuinfo_cores(kCpuinfo) == 4);
    CHECK(parse_cpuinfo_cores("") == 0);
    CHECK(parse_meminfo_total(kMeminfo) == 65792116LL * 1024);
    CHECK(error_of([] { parse_meminfo_total("MemFree: 1 kB\n"); }) == ErrorCode::invalid_argument);
}

TEST_CASE("the NVIDIA driver's information file and nvidia-smi's CSV give models and VRAM") {
    CHECK(parse_nvidia_gpu_model(kNvidiaInformation) == "NVIDIA A100-SXM4-80GB");
    CHECK_FALSE(parse_nvidia_gpu_model("IRQ: 183\n").has_value());
    const auto gpus = parse_nvidia_smi_csv("NVIDIA A100-SXM4-80GB, 81920\nNVIDIA L4, 23034\n");
    REQUIRE(gpus.size() == 2);
    CHECK(gpus[0].model == "NVIDIA A100-SXM4-80GB");
    CHECK(gpus[0].vram_bytes == 81920LL << 20);
    CHECK(gpus[1].vram_bytes == 23034LL << 20);
    CHECK(error_of([] { parse_nvidia_smi_csv("NVIDIA L4, lots\n"); }) ==
          ErrorCode::invalid_argument);
}

TEST_CASE("utilisation comes from the cpu line of /proc/stat") {
    const auto times = parse_proc_stat("cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 1 2 3 4\n");
    CHECK(times.busy == 160);
    CHECK(times.total == 980);
    CHECK(error_of([] { parse_proc_stat("intr 1 2 3\n"); }) == ErrorCode::invalid_argument);
}

TEST_CASE("hardware detection reads a proc folder and asks nvidia-smi for VRAM") {
    TempDir dir;
    const auto proc = dir / "proc";
    write_file(proc / "cpuinfo", kCpuinfo);
    write_file(proc / "meminfo", kMeminfo);
    write_file(proc / "driver/nvidia/gpus/0000:3b:00.0/information", kNvidiaInformation);
    const auto smi = dir / "nvidia-smi";
    write_file(smi, "#!/bin/sh\necho 'NVIDIA A100-SXM4-80GB, 81920'\n");
    std::filesystem::permissions(smi, std::filesystem::perms::owner_all);

    HardwareSources sources;
    sources.proc_root = proc;
    sources.nvidia_smi = smi;
    const auto info = detect_hardware(sources);
    CHECK(info.cpu_cores == 4);
    CHECK(info.memory_bytes == 65792116LL * 1024);
    REQUIRE(info.gpus.size() == 1);
    CHECK(info.gpus[0].model == "NVIDIA A100-SXM4-80GB");
    CHECK(info.gpus[0].vram_bytes == 81920LL << 20);

    SUBCASE("without nvidia-smi the driver's model is reported with unknown VRAM") {
        sources.nvidia_smi = dir / "missing-nvidia-smi";
        const auto bare = detect_hardware(sources);
        REQUIRE(bare.gpus.size() == 1);
        CHECK(bare.gpus[0].model == "NVIDIA A100-SXM4-80GB");
        CHECK(bare.gpus[0].vram_bytes == 0);
    }
}

TEST_CASE("this machine's hardware is detected without a GPU driver") {
    const auto info = detect_hardware();
    CHECK(info.cpu_cores >= 1);
    CHECK(info.memory_bytes > 0);
}

}  // namespace sihlicon::testing
