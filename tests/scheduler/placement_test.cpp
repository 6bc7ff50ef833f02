// SPDX-License-Identifier: Apache-2.0
#include "scheduler/fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

using namespace sihlicon;
using sihlicon::testing::SchedulerFixture;

namespace {

std::vector<std::string> claimed_names(SchedulerFixture& fixture, const std::string& worker,
                                       std::int64_t max = 10) {
    std::vector<std::string> names;
    for (const auto& claimed : fixture.scheduler().claim(worker, max)) {
        names.push_back(claimed.job.spec.name);
    }
    return names;
}

bool mentions(const std::vector<std::string>& reasons, const std::string& text) {
    for (const auto& reason : reasons) {
        if (reason.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("a worker is handed only jobs that fit its free CPU, memory and GPUs") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("small", "zurich", 2000, 2LL << 30);
    fixture.add_worker("gpu", "zurich", 8000, 32LL << 30,
                       {{"A100", 80LL << 30}, {"T4", 16LL << 30}});
    auto big = SchedulerFixture::job("big");
    big.workload.resources.memory_bytes = 16LL << 30;
    auto vision = SchedulerFixture::job("vision");
    vision.workload.resources.gpu = true;
    vision.workload.resources.gpu_vram_bytes = 40LL << 30;
    auto small = SchedulerFixture::job("small");
    fixture.scheduler().submit(big);
    fixture.scheduler().submit(vision);
    fixture.scheduler().submit(small);
    CHECK(claimed_names(fixture, "small") == std::vector<std::string>{"small"});
    const auto on_gpu = fixture.scheduler().claim("gpu", 10);
    REQUIRE(on_gpu.size() == 2);
    const auto gpu_worker = fixture.scheduler().worker("gpu");
    CHECK(gpu_worker.gpus_in_use == 1);  // the A100: the only one with 40 GiB
    CHECK(gpu_worker.used_memory_bytes == 17LL << 30);
}

TEST_CASE("curtail dispatches nothing and throttle only high priority") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich", 16000, 64LL << 30);
    fixture.scheduler().submit(SchedulerFixture::job("low", 0));
    fixture.scheduler().submit(SchedulerFixture::job("high", 50));
    fixture.scheduler().set_grid_state("zurich", {GridSignal::curtail, std::nullopt, std::nullopt});
    CHECK(fixture.scheduler().claim("bee-01", 10).empty());
    fixture.scheduler().set_grid_state("zurich",
                                       {GridSignal::throttle, std::nullopt, std::nullopt});
    CHECK(claimed_names(fixture, "bee-01") == std::vector<std::string>{"high"});
    fixture.scheduler().set_grid_state("zurich", {GridSignal::curtail, std::nullopt,
                                                  fixture.clock->now() + std::chrono::minutes(5)});
    CHECK(fixture.scheduler().claim("bee-01", 10).empty());
    fixture.advance(std::chrono::minutes(5));  // the signal lapses: normal again
    CHECK(claimed_names(fixture, "bee-01") == std::vector<std::string>{"low"});
}

TEST_CASE("jobs are dispatched only within the hub's power budget") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");  // 10 W per core: a 1-core job budgets 10 W
    fixture.add_worker("bee-01", "zurich", 16000, 64LL << 30);
    for (int i = 0; i < 5; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job(fmt::format("j{}", i)));
    }
    fixture.scheduler().set_grid_state("zurich", {GridSignal::normal, 25, std::nullopt});
    CHECK(fixture.scheduler().claim("bee-01", 10).size() == 2);
    CHECK(fixture.scheduler().hub("zurich").running_power_w == 20);
    fixture.scheduler().set_grid_state("zurich", {GridSignal::surplus, 1000, std::nullopt});
    CHECK(fixture.scheduler().claim("bee-01", 10).size() == 3);
}

TEST_CASE("a deferrable job waits for surplus power but never past the point it must start") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job("flexible");
    spec.workload.timeout_seconds = 3600;
    spec.deadline = fixture.clock->now() + std::chrono::hours(3);
    const auto job = fixture.scheduler().submit(spec);
    CHECK(fixture.scheduler().claim("bee-01").empty());  // normal power: wait
    fixture.advance(std::chrono::minutes(30));
    fixture.scheduler().set_grid_state("zurich", {GridSignal::surplus, std::nullopt,
                                                  fixture.clock->now() + std::chrono::minutes(10)});
    const auto claimed = fixture.scheduler().claim("bee-01");
    REQUIRE(claimed.size() == 1);
    fixture.scheduler().fail(job.id, claimed[0].lease.token, "preempted");
    // No more surplus. It must start by deadline - timeout - one lease (slack) = +1h59m.
    fixture.advance(std::chrono::minutes(60));
    CHECK(fixture.scheduler().claim("bee-01").empty());
    fixture.advance(std::chrono::minutes(29));  // now 1h59m after submission
    const auto urgent = fixture.scheduler().claim("bee-01");
    REQUIRE(urgent.size() == 1);
    CHECK(urgent[0].job.id == job.id);
    CHECK(fixture.clock->now() + std::chrono::seconds(3600) < *spec.deadline);
}

TEST_CASE("a job scheduled for later waits until its time") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    auto spec = SchedulerFixture::job();
    spec.scheduled_at = fixture.clock->now() + std::chrono::minutes(10);
    const auto job = fixture.scheduler().submit(spec);
    CHECK(job.status == JobStatus::pending);
    CHECK(job.wait_reason == "scheduled");
    CHECK(fixture.scheduler().claim("bee-01").empty());
    fixture.advance(std::chrono::minutes(10));
    CHECK(fixture.scheduler().claim("bee-01").size() == 1);
}

TEST_CASE("priority ages, so a long-waiting job overtakes newer urgent ones") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("bee-01", "zurich");
    fixture.scheduler().submit(SchedulerFixture::job("patient", 0));
    fixture.advance(std::chrono::minutes(5));
    fixture.scheduler().submit(SchedulerFixture::job("urgent", 3));  // +3 but 5 minutes younger
    fixture.scheduler().submit(SchedulerFixture::job("very-urgent", 10));
    CHECK(claimed_names(fixture, "bee-01", 1) == std::vector<std::string>{"very-urgent"});
    fixture.scheduler().set_worker_status("bee-01", WorkerStatus::draining);
    CHECK(fixture.scheduler().claim("bee-01").empty());
    fixture.scheduler().set_worker_status("bee-01", WorkerStatus::online);
    fixture.add_worker("bee-02", "zurich");
    CHECK(claimed_names(fixture, "bee-02", 1) == std::vector<std::string>{"patient"});
}

TEST_CASE("label and region constraints are respected") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    HubSpec berlin = fixture.add_hub("berlin").spec;
    berlin.region = "DE";
    fixture.scheduler().update_hub(berlin);
    fixture.add_worker("plain", "zurich");
    fixture.add_worker("secure", "zurich", 4000, 8LL << 30, {}, {{"tier", "secure"}});
    fixture.add_worker("german", "berlin");
    auto sensitive = SchedulerFixture::job("sensitive");
    sensitive.required_labels = {{"tier", "secure"}};
    sensitive.region = "CH";
    fixture.scheduler().submit(sensitive);
    CHECK(fixture.scheduler().claim("german").empty());
    CHECK(fixture.scheduler().claim("plain").empty());
    CHECK(claimed_names(fixture, "secure") == std::vector<std::string>{"sensitive"});
}

TEST_CASE("gpu-match gives GPU workers GPU jobs first") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::gpu_match);
    fixture.add_worker("gpu", "zurich", 4000, 8LL << 30, {{"A100", 80LL << 30}});
    fixture.scheduler().submit(SchedulerFixture::job("cpu-job", 5));
    auto vision = SchedulerFixture::job("gpu-job", 0);
    vision.workload.resources.gpu = true;
    fixture.scheduler().submit(vision);
    CHECK(claimed_names(fixture, "gpu", 1) == std::vector<std::string>{"gpu-job"});
}

TEST_CASE("bin-packing hands out the job that fills the worker best") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::bin_packing);
    fixture.add_worker("bee-01", "zurich", 4000, 8LL << 30);
    auto small = SchedulerFixture::job("small", 5);
    auto snug = SchedulerFixture::job("snug", 0);
    snug.workload.resources.cpu_millicores = 4000;
    snug.workload.resources.memory_bytes = 8LL << 30;
    fixture.scheduler().submit(small);
    fixture.scheduler().submit(snug);
    CHECK(claimed_names(fixture, "bee-01", 1) == std::vector<std::string>{"snug"});
}

TEST_CASE("a claim for more jobs than the scan limit gets every job that fits") {
    // Regression: the scan limit (256 by default) capped what claim(worker, 1000) returned,
    // though every queued job fitted.
    SchedulerFixture fixture;
    fixture.hub =
        fixture.open_hub([](HubOptions& options) { options.scheduler.claim_scan_limit = 4; });
    fixture.add_hub("zurich", RoutingPolicy::least_loaded, 1'000'000);
    fixture.add_worker("bee-01", "zurich", 100'000, 1LL << 40);
    fixture.scheduler().submit_many(std::vector<JobSpec>(10, SchedulerFixture::job()));
    CHECK(fixture.scheduler().claim("bee-01", 10).size() == 10);
}

TEST_CASE("round-robin holds no lone worker back: it takes every job it asks for") {
    // Turns are between competing workers (routing_competition_test.cpp); this pinned one job
    // per claim before.
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::round_robin);
    fixture.add_worker("bee-01", "zurich");
    for (int i = 0; i < 3; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job());
    }
    CHECK(fixture.scheduler().claim("bee-01", 3).size() == 3);
}

TEST_CASE("heat-demand-first sends unpinned work to the hub that wants heat") {
    SchedulerFixture fixture;
    fixture.add_hub("pool", RoutingPolicy::heat_demand_first);
    fixture.add_hub("office", RoutingPolicy::heat_demand_first);
    fixture.add_worker("pool-bee", "pool");
    fixture.add_worker("office-bee", "office");
    fixture.scheduler().set_heat_demand("pool", 5000);
    fixture.scheduler().submit(SchedulerFixture::job("warm-the-pool"));
    CHECK(fixture.scheduler().claim("office-bee").empty());
    CHECK(claimed_names(fixture, "pool-bee") == std::vector<std::string>{"warm-the-pool"});
}

TEST_CASE("explain says for each hub and worker why a job can or cannot run there") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    fixture.add_worker("small", "zurich", 1000, 1LL << 30);
    fixture.add_worker("roomy", "zurich", 8000, 16LL << 30);
    auto spec = SchedulerFixture::job("needs-room");
    spec.workload.resources.cpu_millicores = 4000;
    const auto job = fixture.scheduler().submit(spec);
    const auto lines = fixture.scheduler().explain(job.id);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].worker_id.empty());
    CHECK(lines[0].eligible);
    const auto& small = lines[1].worker_id == "small" ? lines[1] : lines[2];
    const auto& roomy = lines[1].worker_id == "roomy" ? lines[1] : lines[2];
    CHECK_FALSE(small.eligible);
    CHECK(mentions(small.reasons, "needs 4000m CPU, worker has 1000m free"));
    CHECK(roomy.eligible);
    fixture.scheduler().set_grid_state("zurich", {GridSignal::curtail, std::nullopt, std::nullopt});
    CHECK(mentions(fixture.scheduler().explain(job.id)[0].reasons, "curtailed"));
}
