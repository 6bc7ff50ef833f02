// SPDX-License-Identifier: Apache-2.0
//
// The compute endpoints' per-principal checks over real HTTP: the scheduler decides that a
// client reads, lists and cancels only its own jobs (DELETE /api/compute/{jobId}).
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>

using namespace sihlicon;
using namespace sihlicon::testing;

TEST_CASE("DELETE /api/compute/{jobId} cancels the client's own job with the contract's answer") {
    ContractFixture f;
    const auto job = f.submit("ann");
    const auto answer = f.call("DELETE", "/api/compute/" + job, f.ann);
    REQUIRE(answer.status == 200);
    const auto body = json_of(answer);
    CHECK(body.at("success").as_bool());
    CHECK(body.at("message").as_string() == "Job cancelled");
    CHECK(f.hub.scheduler().job(job).status == JobStatus::cancelled);
    // Again: the job already ended.
    error_of(f.call("DELETE", "/api/compute/" + job, f.ann), 409);
    // The operator cancels anyone's job.
    const auto other = f.submit("bob");
    CHECK(f.call("DELETE", "/api/compute/" + other, f.op).status == 200);
    CHECK(f.hub.scheduler().job(other).status == JobStatus::cancelled);
}

TEST_CASE("a client's cancel of someone else's job is 404 worded as absent, and changes nothing") {
    ContractFixture f;
    const auto job = f.submit("ann");
    auto foreign = error_of(f.call("DELETE", "/api/compute/" + job, f.bob), 404);
    const std::string missing_id = "job-01AAAAAAAAAAAAAAAAAAAAAAAA";
    const auto missing = error_of(f.call("DELETE", "/api/compute/" + missing_id, f.bob), 404);
    CHECK(foreign.replace(foreign.find(job), job.size(), missing_id) == missing);
    CHECK(f.hub.scheduler().job(job).status == JobStatus::queued);
    // Workers and a revoked token may not cancel at all.
    error_of(f.call("DELETE", "/api/compute/" + job, f.bee), 403);
    error_of(f.call("DELETE", "/api/compute/" + job, f.revoked), 401);
    error_of(f.call("DELETE", "/api/compute/" + job), 401);
    CHECK(f.hub.scheduler().job(job).status == JobStatus::queued);
    // A query parameter the endpoint does not take is 400 naming it.
    CHECK(field_of(f.call("DELETE", "/api/compute/" + job + "?force=1", f.ann)) == "force");
}

TEST_CASE("the compute reads go through the scheduler's per-principal checks") {
    ContractFixture f;
    const auto mine = f.submit("ann");
    f.submit("bob");
    const auto listed = json_of(f.call("GET", "/api/compute", f.ann)).at("jobs").as_array();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].at("jobId").as_string() == mine);
    CHECK(json_of(f.call("GET", "/api/compute", f.op)).at("jobs").as_array().size() == 2);
    error_of(f.call("GET", "/api/compute/" + mine, f.bob), 404);
    CHECK(f.call("GET", "/api/compute/" + mine, f.op).status == 200);
}
