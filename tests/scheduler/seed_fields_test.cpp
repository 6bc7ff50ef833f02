// SPDX-License-Identifier: Apache-2.0
//
// Job fields as the seed's users write them: inputDataRefs in every IPFS form, and
// estimatedComputeKwh.
#include "scheduler/fixture.hpp"
#include "scheduler/job_spec.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>
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
