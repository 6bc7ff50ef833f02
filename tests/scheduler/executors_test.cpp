// SPDX-License-Identifier: Apache-2.0
//
// A worker's executors (WorkerSpec::executors) are part of its registration and of placement:
// a job goes only to a worker that can run it.
#include "scheduler/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::SchedulerFixture;

namespace {

WorkerRecord add_with(SchedulerFixture& fixture, const std::string& id,
                      std::vector<std::string> executors) {
    WorkerSpec spec;
    spec.id = id;
    spec.hub_id = "zurich";
    spec.cpu_millicores = 4000;
    spec.memory_bytes = 8LL << 30;
    spec.executors = std::move(executors);
    return fixture.scheduler().register_worker(spec);
}

bool mentions(const std::vector<std::string>& reasons, const std::string& text) {
    return std::any_of(reasons.begin(), reasons.end(), [&](const std::string& reason) {
        return reason.find(text) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("a worker registered without executors runs native jobs only") {
    const auto spec = WorkerSpec::from_json(R"({"hubId":"zurich","cpu":"4"})");
    CHECK(spec.executors == std::vector<std::string>{"native"});
    const auto both =
        WorkerSpec::from_json(R"({"hubId":"zurich","cpu":"4","executors":["native","container"]})");
    CHECK(both.executors == std::vector<std::string>{"native", "container"});
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    const auto record = fixture.scheduler().register_worker(both);
    CHECK(record.spec.executors == std::vector<std::string>{"native", "container"});
    CHECK(record.to_json().find(R"("executors":["native","container"])") != std::string::npos);
    CHECK(fixture.scheduler().worker(record.spec.id).spec.executors == both.executors);
}

TEST_CASE("unknown or repeated executors are refused naming executors[i]") {
    using sihlicon::testing::error_from;
    const auto unknown = error_from([] {
        WorkerSpec::from_json(R"({"hubId":"zurich","cpu":"4","executors":["native","vm"]})");
    });
    CHECK(unknown.code() == ErrorCode::invalid_argument);
    CHECK(unknown.field() == "executors[1]");
    CHECK(std::string(unknown.what()).find("vm") != std::string::npos);
    CHECK(error_from([] {
              WorkerSpec::from_json(R"({"hubId":"zurich","cpu":"4","executors":"native"})");
          }).field() == "executors");
    CHECK(error_from([] {
              WorkerSpec::from_json(R"({"hubId":"zurich","cpu":"4","executors":[1]})");
          }).field() == "executors[0]");
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    const auto typed = error_from([&] { add_with(fixture, "bee", {"container", "container"}); });
    CHECK(typed.field() == "executors[1]");
    CHECK(fixture.scheduler().workers().empty());
}

TEST_CASE("a container job waits queued until a worker with a container runtime claims it") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    add_with(fixture, "plain", {"native"});
    const auto job = fixture.scheduler().submit(SchedulerFixture::job("ocr"));  // a container
    CHECK(fixture.scheduler().claim("plain", 10).empty());
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::queued);
    const auto lines = fixture.scheduler().explain(job.id);
    REQUIRE(lines.size() == 2);
    CHECK_FALSE(lines[1].eligible);
    CHECK(mentions(lines[1].reasons, "worker has no container runtime"));
    fixture.clock->advance(std::chrono::minutes(10));
    fixture.scheduler().heartbeat("plain", {});
    fixture.scheduler().tick();
    CHECK(fixture.scheduler().job(job.id).status == JobStatus::queued);
    add_with(fixture, "docker", {"native", "container"});
    const auto claimed = fixture.scheduler().claim("docker", 10);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].job.id == job.id);
}

TEST_CASE("a native job never goes to a worker that only runs containers") {
    SchedulerFixture fixture;
    fixture.add_hub("zurich");
    add_with(fixture, "containers-only", {"container"});
    auto spec = SchedulerFixture::job("native");
    spec.workload.container_image = "native";
    spec.workload.command = {"true"};
    const auto job = fixture.scheduler().submit(spec);
    CHECK(fixture.scheduler().claim("containers-only", 10).empty());
    CHECK(mentions(fixture.scheduler().explain(job.id)[1].reasons,
                   "worker does not run native jobs"));
    // A worker with no container runtime does not hold a container worker back either.
    add_with(fixture, "native-only", {"native"});
    fixture.scheduler().submit(SchedulerFixture::job("image"));
    CHECK(fixture.scheduler().claim("containers-only", 10).size() == 1);
    CHECK(fixture.scheduler().claim("native-only", 10).size() == 1);
}
