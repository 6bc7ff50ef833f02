// SPDX-License-Identifier: Apache-2.0
//
// The hub's routing policy decides which of the workers competing for the same jobs gets each
// (src/scheduler/placement.hpp, "Routing among competing workers"): for every policy, two
// workers ask for the same queue, in turns and in one big claim, and the distribution is the
// policy's.
#include "scheduler/fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::SchedulerFixture;

namespace {

std::vector<std::string> claimed_names(SchedulerFixture& fixture, const std::string& worker,
                                       std::int64_t max = 10) {
    std::vector<std::string> names;
    for (const auto& claimed : fixture.scheduler().claim(worker, max)) {
        names.push_back(claimed.job.spec.name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

void submit_named(SchedulerFixture& fixture, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        fixture.scheduler().submit(SchedulerFixture::job(name));
    }
}

JobSpec sized(std::string name, std::int64_t millicores, std::int64_t memory) {
    auto spec = SchedulerFixture::job(std::move(name));
    spec.workload.resources.cpu_millicores = millicores;
    spec.workload.resources.memory_bytes = memory;
    return spec;
}

std::int64_t stored_turn(SchedulerFixture& fixture, const std::string& sql) {
    return HubAccess::database(fixture.hub).read([&](store::Transaction& tx) {
        auto row = tx.prepare(sql);
        row.step();
        return row.column_int64(0);
    });
}

}  // namespace

TEST_CASE("least-loaded: of two idle workers the first to ask for ten of ten jobs gets five") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::least_loaded, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30);
    for (int i = 0; i < 10; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job());
    }
    CHECK(fixture.scheduler().claim("bee-b", 10).size() == 5);
    CHECK(fixture.scheduler().claim("bee-b", 10).empty());  // bee-a runs fewer
    CHECK(fixture.scheduler().claim("bee-a", 10).size() == 5);
    CHECK(fixture.scheduler().worker("bee-a").running_jobs == 5);
    CHECK(fixture.scheduler().worker("bee-b").running_jobs == 5);
}

TEST_CASE("least-loaded: workers asking in turns take the jobs in turns") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::least_loaded, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30);
    for (int i = 0; i < 4; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job());
    }
    // bee-a asks for two: it takes one, one is bee-b's, then (loads equal) the next.
    CHECK(fixture.scheduler().claim("bee-a", 2).size() == 2);
    // Asking again it runs more than bee-b, which is handed the rest.
    CHECK(fixture.scheduler().claim("bee-a", 2).empty());
    CHECK(fixture.scheduler().claim("bee-b", 2).size() == 2);
}

TEST_CASE(
    "least-loaded: a lone worker, or one no other worker can stand in for, is not held "
    "back") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::least_loaded, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30, {}, {{"tier", "secure"}});
    for (int i = 0; i < 4; ++i) {
        fixture.scheduler().submit(SchedulerFixture::job());
    }
    CHECK(fixture.scheduler().claim("bee-a", 10).size() == 4);
    // bee-b lacks the label these jobs need, bee-c is draining, bee-d is too small, bee-e went
    // silent: none of them holds bee-a back.
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-c", "zurich", 16'000, 64LL << 30, {}, {{"tier", "secure"}});
    fixture.scheduler().set_worker_status("bee-c", WorkerStatus::draining);
    fixture.add_worker("bee-d", "zurich", 500, 64LL << 30, {}, {{"tier", "secure"}});
    fixture.add_worker("bee-e", "zurich", 16'000, 64LL << 30, {}, {{"tier", "secure"}});
    HubAccess::database(fixture.hub).write([&](store::Transaction& tx) {
        tx.prepare("UPDATE workers SET last_heartbeat_at = ? WHERE id = 'bee-e'")
            .bind_all(fixture.clock->now().ms() - 3'600'000)
            .run();
    });
    for (int i = 0; i < 4; ++i) {
        auto spec = SchedulerFixture::job();
        spec.required_labels = {{"tier", "secure"}};
        fixture.scheduler().submit(spec);
    }
    CHECK(fixture.scheduler().claim("bee-a", 10).size() == 4);
}

TEST_CASE("least-loaded: explain says which worker takes the job instead") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::least_loaded, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30);
    fixture.scheduler().submit(SchedulerFixture::job());
    REQUIRE(fixture.scheduler().claim("bee-a", 1).size() == 1);
    const auto waiting = fixture.scheduler().submit(SchedulerFixture::job());
    const auto lines = fixture.scheduler().explain(waiting.id);
    REQUIRE(lines.size() == 3);
    const auto& a = lines[1].worker_id == "bee-a" ? lines[1] : lines[2];
    const auto& b = lines[1].worker_id == "bee-b" ? lines[1] : lines[2];
    CHECK(b.eligible);
    CHECK_FALSE(a.eligible);
    CHECK(a.reasons ==
          std::vector<std::string>{"least-loaded: bee-b (0 running) takes the next job"});
}

TEST_CASE("round-robin: workers of a hub take jobs in turns, stored in the hub") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::round_robin, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30);
    submit_named(fixture, {"j1", "j2", "j3", "j4", "j5", "j6"});
    CHECK(claimed_names(fixture, "bee-a", 1) == std::vector<std::string>{"j1"});
    // Asking again before bee-b had its turn: j2 is left for bee-b, bee-a gets the next.
    CHECK(claimed_names(fixture, "bee-a", 1) == std::vector<std::string>{"j3"});
    CHECK(claimed_names(fixture, "bee-b", 1) == std::vector<std::string>{"j2"});
    // The turns are in the database: a reopened hub (or another process) agrees.
    CHECK(stored_turn(fixture, "SELECT round_robin_turn FROM hubs WHERE id = 'zurich'") >= 3);
    fixture.hub = fixture.open_hub();
    // One big claim takes every other job: bee-a (its turn is older), bee-b, bee-a.
    CHECK(claimed_names(fixture, "bee-a") == std::vector<std::string>{"j4", "j6"});
    CHECK(claimed_names(fixture, "bee-b") == std::vector<std::string>{"j5"});
}

TEST_CASE("round-robin: a worker that cannot run the head job loses its turn, not the queue") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::round_robin, 1'000'000);
    fixture.add_worker("bee-a", "zurich", 16'000, 64LL << 30);
    fixture.add_worker("bee-b", "zurich", 16'000, 64LL << 30, {}, {{"tier", "secure"}});
    auto secure = SchedulerFixture::job("secure", 5);
    secure.required_labels = {{"tier", "secure"}};
    fixture.scheduler().submit(secure);
    fixture.scheduler().submit(SchedulerFixture::job("plain"));
    // bee-a cannot run the head job; it takes the next one.
    CHECK(claimed_names(fixture, "bee-a", 1) == std::vector<std::string>{"plain"});
    CHECK(claimed_names(fixture, "bee-b", 1) == std::vector<std::string>{"secure"});
    // An offline worker's turn does not block the queue either.
    fixture.scheduler().set_worker_status("bee-b", WorkerStatus::offline);
    submit_named(fixture, {"x", "y"});
    CHECK(claimed_names(fixture, "bee-a", 10) == std::vector<std::string>{"x", "y"});
}

TEST_CASE("bin-packing: a job goes to the worker it fits tightest, the roomy one stays free") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::bin_packing, 1'000'000);
    fixture.add_worker("small", "zurich", 2000, 4LL << 30);
    fixture.add_worker("large", "zurich", 16'000, 32LL << 30);
    fixture.scheduler().submit(sized("a", 1000, 2LL << 30));
    fixture.scheduler().submit(sized("b", 1000, 2LL << 30));
    fixture.scheduler().submit(sized("c", 1000, 2LL << 30));
    // The large worker asks first: "a" and "b" fill the small one exactly, so only "c" is its.
    CHECK(claimed_names(fixture, "large") == std::vector<std::string>{"c"});
    CHECK(claimed_names(fixture, "small") == std::vector<std::string>{"a", "b"});
    // A job only the large worker can hold finds it free.
    fixture.scheduler().submit(sized("big", 15'000, 30LL << 30));
    CHECK(claimed_names(fixture, "large") == std::vector<std::string>{"big"});
}

TEST_CASE("gpu-match: GPU workers get GPU jobs, jobs without a GPU go to CPU-only workers") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::gpu_match, 1'000'000);
    fixture.add_worker("gpu", "zurich", 8000, 32LL << 30, {{"A100", 80LL << 30}});
    fixture.add_worker("cpu", "zurich", 2000, 32LL << 30);
    auto vision = SchedulerFixture::job("vision");
    vision.workload.resources.gpu = true;
    fixture.scheduler().submit(vision);
    submit_named(fixture, {"ocr-1", "ocr-2", "ocr-3"});
    // The CPU-only worker has room for two: the GPU worker takes the GPU job and the third.
    CHECK(claimed_names(fixture, "gpu") == std::vector<std::string>{"ocr-3", "vision"});
    CHECK(claimed_names(fixture, "cpu") == std::vector<std::string>{"ocr-1", "ocr-2"});
}

TEST_CASE("gpu-match: workers asking one job at a time still split by GPU") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich", RoutingPolicy::gpu_match, 1'000'000);
    fixture.add_worker("gpu", "zurich", 8000, 32LL << 30, {{"A100", 80LL << 30}});
    fixture.add_worker("cpu", "zurich", 8000, 32LL << 30);
    submit_named(fixture, {"ocr-1", "ocr-2"});
    auto vision = SchedulerFixture::job("vision");
    vision.workload.resources.gpu = true;
    fixture.scheduler().submit(vision);
    CHECK(claimed_names(fixture, "gpu", 1) == std::vector<std::string>{"vision"});
    CHECK(claimed_names(fixture, "gpu", 1).empty());
    CHECK(claimed_names(fixture, "cpu", 1) == std::vector<std::string>{"ocr-1"});
    CHECK(claimed_names(fixture, "cpu", 1) == std::vector<std::string>{"ocr-2"});
}

TEST_CASE("heat-demand-first: the hub that wants heat gets the biggest jobs, the other the rest") {
    SchedulerFixture fixture;
    fixture.add_hub("pool", RoutingPolicy::heat_demand_first, 1'000'000);
    fixture.add_hub("office", RoutingPolicy::heat_demand_first, 1'000'000);
    fixture.add_worker("pool-bee", "pool", 2000, 8LL << 30);  // room for two jobs
    fixture.add_worker("office-bee", "office", 8000, 32LL << 30);
    fixture.scheduler().set_heat_demand("pool", 5000);
    auto with_kwh = [&](const std::string& name, std::int64_t kwh) {
        auto spec = SchedulerFixture::job(name);
        spec.estimated_energy = Energy::kilowatt_hours(kwh);
        fixture.scheduler().submit(spec);
    };
    with_kwh("small", 1);
    with_kwh("big", 50);
    fixture.scheduler().submit(SchedulerFixture::job("unknown"));
    with_kwh("medium", 20);
    // The office asks first, in turns of one job, and is left what the pool cannot hold.
    CHECK(claimed_names(fixture, "office-bee", 1) == std::vector<std::string>{"small"});
    CHECK(claimed_names(fixture, "pool-bee", 1) == std::vector<std::string>{"big"});
    CHECK(claimed_names(fixture, "office-bee", 10) == std::vector<std::string>{"unknown"});
    CHECK(claimed_names(fixture, "pool-bee", 10) == std::vector<std::string>{"medium"});
}
