// SPDX-License-Identifier: Apache-2.0
//
// Job fields as the seed's users write them: inputDataRefs in every IPFS form,
// estimatedComputeKwh, and a worker's completion (JobCompletion::from_json).
#include "scheduler/fixture.hpp"
#include "scheduler/job_spec.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

using namespace sihlicon;
using sihlicon::testing::kCidHelloWorld;
using sihlicon::testing::SchedulerFixture;

namespace {

// The CIDv0 of IPFS's documentation example and the same content as a CIDv1 (dag-pb).
constexpr const char* kCidV0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR";
constexpr const char* kCidV0AsV1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

std::string body_with(std::string_view field, std::string_view value) {
    return fmt::format(
        R"({{"jobType":"ocr","jobName":"refs","workloadConfig":{{"containerImage":"native",)"
        R"("resources":{{"cpu":"1","memory":"1Gi"}}}},"{}":{}}})",
        field, value);
}

Error submit_error(SchedulerFixture& fixture, const std::string& json) {
    try {
        fixture.scheduler().submit_json(json, "client-a");
    } catch (const Error& error) {
        return error;
    }
    FAIL("the request must be refused: " << json);
    return Error(ErrorCode::internal, "unreachable");
}

}  // namespace

TEST_CASE("inputDataRefs accept ipfs:// and CIDv0 and are stored as the equivalent CIDv1") {
    SchedulerFixture fixture;
    const auto refs = fmt::format(R"(["ipfs://{}", "{}", "ipfs://{}", "{}"])", kCidHelloWorld,
                                  kCidV0, kCidV0, kCidHelloWorld);
    const auto job = fixture.scheduler().submit_json(body_with("inputDataRefs", refs), "client-a");
    const std::vector<std::string> expected = {kCidHelloWorld, kCidV0AsV1, kCidV0AsV1,
                                               kCidHelloWorld};
    CHECK(job.spec.input_refs == expected);
    CHECK(fixture.scheduler().job(job.id).spec.input_refs == expected);
    const auto json = boost::json::parse(job.to_json()).as_object();
    CHECK(json.at("inputDataRefs").as_array().at(1).as_string() == kCidV0AsV1);
}

TEST_CASE("a typed spec's CIDv0 and ipfs:// inputs are stored as CIDv1 too") {
    SchedulerFixture fixture;
    auto spec = SchedulerFixture::job();
    spec.input_refs = {std::string("ipfs://") + kCidV0, kCidV0};
    const auto job = fixture.scheduler().submit(spec);
    CHECK(fixture.scheduler().job(job.id).spec.input_refs ==
          std::vector<std::string>{kCidV0AsV1, kCidV0AsV1});
}

TEST_CASE("an input written as ipfs:// or CIDv0 is the same input for idempotency") {
    SchedulerFixture fixture;
    const auto first = fixture.scheduler().submit_json(
        body_with("inputDataRefs", fmt::format(R"(["{}"], "idempotencyKey": "k1")", kCidV0)),
        "client-a");
    const auto again = fixture.scheduler().submit_json(
        body_with("inputDataRefs",
                  fmt::format(R"(["ipfs://{}"], "idempotencyKey": "k1")", kCidV0AsV1)),
        "client-a");
    CHECK(again.id == first.id);
}

TEST_CASE("a bad ipfs:// input is refused naming the field and the value as written") {
    SchedulerFixture fixture;
    for (const std::string& bad : std::vector<std::string>{
             "ipfs://", "ipfs://notacid", "ipfs://Qm123", "ipfs:///ipfs/QmbWqx", "IPFS://x",
             std::string("ipfs://") + kCidV0 + "/file.txt", std::string("ipfs://ipfs://") + kCidV0,
             "Qmshort"}) {
        CAPTURE(bad);
        const auto error =
            submit_error(fixture, body_with("inputDataRefs", fmt::format(R"(["{}"])", bad)));
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "inputDataRefs[0]");
        CHECK(std::string(error.what()).find(bad) != std::string::npos);
    }
    CHECK(fixture.count_jobs() == 0);
}

TEST_CASE("estimatedComputeKwh is shown in the job record, in kWh") {
    SchedulerFixture fixture;
    const auto estimated =
        fixture.scheduler().submit_json(body_with("estimatedComputeKwh", "12.5"), "client-a");
    CHECK(boost::json::parse(estimated.to_json()).at("estimatedComputeKwh") ==
          boost::json::parse("12.5"));
    CHECK(boost::json::parse(fixture.scheduler().job(estimated.id).to_json())
              .at("estimatedComputeKwh") == boost::json::parse("12.5"));
    const auto unestimated = fixture.scheduler().submit(SchedulerFixture::job());
    CHECK(boost::json::parse(unestimated.to_json()).at("estimatedComputeKwh").is_null());
}

TEST_CASE("estimatedComputeKwh must be between 0 and 100000 kWh, else it is refused by name") {
    SchedulerFixture fixture;
    CHECK(JobSpec::kMaxEstimatedComputeKwh == 100'000);
    for (const std::string bad : {"-0.5", "100000.000001", "1e30", "9223372036854775807"}) {
        CAPTURE(bad);
        const auto error = submit_error(fixture, body_with("estimatedComputeKwh", bad));
        CHECK(error.code() == ErrorCode::invalid_argument);
        CHECK(error.field() == "estimatedComputeKwh");
    }
    auto typed = SchedulerFixture::job();
    typed.estimated_energy = Energy::milliwatt_hours(100'000'000'001);
    try {
        fixture.scheduler().submit(typed);
        FAIL("an estimate above the bound must be refused");
    } catch (const Error& error) {
        CHECK(error.field() == "estimatedComputeKwh");
        CHECK(std::string(error.what()).find("100000 kWh") != std::string::npos);
    }
    CHECK(fixture.count_jobs() == 0);
    for (const std::string good : {"0", "100000", "0.000001"}) {
        CAPTURE(good);
        CHECK_NOTHROW(
            fixture.scheduler().submit_json(body_with("estimatedComputeKwh", good), "client-a"));
    }
}

TEST_CASE("explain gives each hub the heat a job is expected to give it") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");  // recovers 900,000 ppm of the electricity as heat
    fixture.add_worker("bee", "pool");
    const auto job =
        fixture.scheduler().submit_json(body_with("estimatedComputeKwh", "10"), "client-a");
    const auto lines = fixture.scheduler().explain(job.id);
    REQUIRE(lines.size() == 2);
    for (const auto& line : lines) {
        REQUIRE(line.expected_heat);
        CHECK(line.expected_heat->mwh() == 9'000'000);
        CHECK(boost::json::parse(line.to_json()).at("expectedHeatKwh") == boost::json::parse("9"));
    }
    const auto plain = fixture.scheduler().submit(SchedulerFixture::job());
    const auto plain_line = fixture.scheduler().explain(plain.id).front();
    CHECK_FALSE(plain_line.expected_heat);
    CHECK(boost::json::parse(plain_line.to_json()).at("expectedHeatKwh").is_null());
}

TEST_CASE("a heat-demand-first hub that wants heat hands out the largest expected heat first") {
    SchedulerFixture fixture;
    fixture.add_hub("pool", RoutingPolicy::heat_demand_first);
    fixture.add_worker("bee", "pool");
    auto job_with = [&](const std::string& name, std::optional<std::int64_t> mwh) {
        auto spec = SchedulerFixture::job(name);
        if (mwh) {
            spec.estimated_energy = Energy::milliwatt_hours(*mwh);
        }
        return fixture.scheduler().submit(spec);
    };
    job_with("unestimated", std::nullopt);
    job_with("small", 1'000'000);
    job_with("big", 50'000'000);
    auto next_name = [&] {
        const auto claimed = fixture.scheduler().claim("bee", 1);
        REQUIRE(claimed.size() == 1);
        return claimed.front().job.spec.name;
    };
    fixture.scheduler().set_heat_demand("pool", 5000);
    CHECK(next_name() == "big");
    CHECK(next_name() == "small");
    CHECK(next_name() == "unestimated");
}

TEST_CASE("a heat-demand-first hub without heat demand keeps the queue's priority order") {
    SchedulerFixture fixture;
    fixture.add_hub("pool", RoutingPolicy::heat_demand_first);
    fixture.add_worker("bee", "pool");
    fixture.scheduler().submit(SchedulerFixture::job("first"));
    auto big = SchedulerFixture::job("big");
    big.estimated_energy = Energy::milliwatt_hours(50'000'000);
    fixture.scheduler().submit(big);
    const auto claimed = fixture.scheduler().claim("bee", 1);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed.front().job.spec.name == "first");
}

TEST_CASE("job listings filter by the worker that ran a job and by dead letter, in every state") {
    SchedulerFixture fixture;
    fixture.add_hub("pool");
    fixture.add_worker("ann-bee", "pool");
    fixture.add_worker("bob-bee", "pool");
    auto submit = [&](const std::string& name) {
        auto spec = SchedulerFixture::job(name);
        spec.max_attempts = 1;
        return fixture.scheduler().submit(spec);
    };
    auto run_on = [&](const std::string& name, const std::string& worker) {
        submit(name);
        const auto claimed = fixture.scheduler().claim(worker, 1);
        REQUIRE(claimed.size() == 1);
        REQUIRE(claimed.front().job.spec.name == name);
        return claimed.front();
    };
    const auto done = run_on("done-by-ann", "ann-bee");
    fixture.scheduler().complete(done.lease.job_id, done.lease.token, fixture.completion());
    const auto dead = run_on("dead-on-ann", "ann-bee");
    fixture.scheduler().fail(dead.lease.job_id, dead.lease.token, "boom");
    const auto final_failure = run_on("refused-on-bob", "bob-bee");
    fixture.scheduler().fail(final_failure.lease.job_id, final_failure.lease.token, "bad input",
                             false);
    run_on("running-on-bob", "bob-bee");
    submit("still-queued");
    auto names = [&](JobFilter filter) {
        std::vector<std::string> result;
        for (const auto& job : fixture.scheduler().jobs(filter)) {
            result.push_back(job.spec.name);
        }
        std::sort(result.begin(), result.end());
        return result;
    };
    JobFilter by_ann;
    by_ann.worker_id = "ann-bee";
    CHECK(names(by_ann) == std::vector<std::string>{"dead-on-ann", "done-by-ann"});
    JobFilter by_bob;
    by_bob.worker_id = "bob-bee";
    CHECK(names(by_bob) == std::vector<std::string>{"refused-on-bob", "running-on-bob"});
    by_bob.status = JobStatus::running;
    CHECK(names(by_bob) == std::vector<std::string>{"running-on-bob"});
    by_ann.status = JobStatus::completed;
    CHECK(names(by_ann) == std::vector<std::string>{"done-by-ann"});
    JobFilter dead_letters;
    dead_letters.dead_letter = true;
    CHECK(names(dead_letters) == std::vector<std::string>{"dead-on-ann"});
    dead_letters.status = JobStatus::failed;
    CHECK(names(dead_letters) == std::vector<std::string>{"dead-on-ann"});
    JobFilter failed_alive;
    failed_alive.status = JobStatus::failed;
    failed_alive.dead_letter = false;
    CHECK(names(failed_alive) == std::vector<std::string>{"refused-on-bob"});
    JobFilter queued_by_ann;
    queued_by_ann.status = JobStatus::queued;
    queued_by_ann.worker_id = "ann-bee";
    CHECK(names(queued_by_ann).empty());
    queued_by_ann.worker_id.reset();
    CHECK(names(queued_by_ann) == std::vector<std::string>{"still-queued"});
}

TEST_CASE(
    "JobCompletion::from_json reads the seed's completion, modelled when it names no energy") {
    const auto full = JobCompletion::from_json(
        R"({"outputDataRefs":["bafy-out"],"energyKwh":"1.5","energySource":"estimated",)"
        R"("resultHash":"ab12","metrics":{"frames":3},"proofOfExecution":"0xproof",)"
        R"("workerSignature":"0xsig"})");
    CHECK(full.output_refs == std::vector<std::string>{"bafy-out"});
    REQUIRE(full.energy);
    CHECK(full.energy->mwh() == 1'500'000);
    CHECK(full.energy_source == EnergySource::estimated);
    CHECK(full.result_hash == "ab12");
    CHECK(boost::json::parse(full.metrics_json) == boost::json::parse(R"({"frames":3})"));
    CHECK(full.proof_of_execution == "0xproof");
    CHECK(full.worker_signature == "0xsig");

    CHECK(JobCompletion::from_json(R"({"energyMwh":7})").energy_source == EnergySource::measured);
    const auto bare = JobCompletion::from_json("{}");
    CHECK_FALSE(bare.energy);
    CHECK(bare.energy_source == EnergySource::modelled);

    using sihlicon::testing::error_from;
    CHECK(error_from([] {
              JobCompletion::from_json(R"({"energyMwh":1,"energyKwh":"1"})");
          }).field() == "energyKwh");
    CHECK(error_from([] { JobCompletion::from_json(R"({"energyMwh":-1})"); }).field() ==
          "energyMwh");
    CHECK(error_from([] { JobCompletion::from_json(R"({"energyKwh":"-0.5"})"); }).field() ==
          "energyKwh");
    CHECK(error_from([] { JobCompletion::from_json(R"({"energySource":"guessed"})"); }).field() ==
          "energySource");
    CHECK(error_from([] { JobCompletion::from_json(R"({"metrics":[1]})"); }).field() == "metrics");
    CHECK(error_from([] { JobCompletion::from_json(R"({"outputDataRefs":"x"})"); }).field() ==
          "outputDataRefs");
    CHECK(error_from([] { JobCompletion::from_json(R"({"token":"t"})"); }).field() == "token");
    CHECK(error_from([] { JobCompletion::from_json("[]"); }).code() == ErrorCode::invalid_argument);
}
