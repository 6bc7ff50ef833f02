// SPDX-License-Identifier: Apache-2.0
//
// The clients and epochs API and the job receipt over real HTTP: a client reads only its own
// account and receipts (someone else's answer as absent), only an operator tops up (the body
// through the core's codec), every token reads epochs.
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/settlement.hpp>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

const std::string kTopUp = R"({"amount":"25.00","externalReference":"0xdeposit1"})";

// A job of `owner` run to completion on worker-a and sealed into epoch 1; returns its id.
std::string sealed_job(ContractFixture& f, std::string_view owner) {
    HubSpec pool;
    pool.id = "pool";
    pool.name = "Pool";
    pool.site = "baths";
    pool.region = "CH";
    pool.power_capacity_w = 100'000;
    f.hub.scheduler().register_hub(pool);
    f.hub.scheduler().register_worker(WorkerSpec::from_json(
        R"({"workerId":"worker-a","hubId":"pool","cpu":"4","memory":"8Gi"})"));
    const auto id = f.submit(owner);
    const auto claims = f.hub.scheduler().claim("worker-a");
    REQUIRE(claims.size() == 1);
    f.clock->advance(std::chrono::seconds(5));
    f.hub.scheduler().complete(id, claims[0].lease.token, JobCompletion{});
    f.hub.settlement().seal_epoch();
    return id;
}

}  // namespace

TEST_CASE("an operator tops up a client; the client reads its account, balance and history") {
    ContractFixture f;
    error_of(f.call("POST", "/api/v1/clients/ann/topup", f.ann, kTopUp), 403);
    error_of(f.call("POST", "/api/v1/clients/ann/topup", f.bee, kTopUp), 403);
    const auto topped = f.call("POST", "/api/v1/clients/ann/topup", f.op, kTopUp);
    REQUIRE(topped.status == 200);
    CHECK(json_of(topped).at("transfer").at("kind").is_string());
    // The same reference again is the same top-up, not a second one.
    CHECK(f.call("POST", "/api/v1/clients/ann/topup", f.op, kTopUp).status == 200);

    const auto account = json_of(f.call("GET", "/api/v1/clients/ann", f.ann));
    CHECK(account.at("account").at("owner").as_string() == "ann");
    CHECK(account.at("account").at("balance").as_string() == "25.000000");
    const auto balance = json_of(f.call("GET", "/api/v1/clients/ann/balance", f.ann));
    CHECK(balance.at("clientId").as_string() == "ann");
    CHECK(balance.at("currency").as_string() == "USD");
    CHECK(balance.at("balance").as_string() == "25.000000");
    CHECK(balance.at("available").as_string() == "25.000000");
    const auto history = json_of(f.call("GET", "/api/v1/clients/ann/history?limit=5", f.ann));
    REQUIRE(history.at("history").as_array().size() == 1);
    CHECK(history.at("history").as_array()[0].at("txType").as_string() == "deposit");
    // The operator reads any client.
    CHECK(f.call("GET", "/api/v1/clients/ann/balance", f.op).status == 200);
}

TEST_CASE("a client's request for another client's account is 404 worded as a never-used one") {
    ContractFixture f;
    REQUIRE(f.call("POST", "/api/v1/clients/ann/topup", f.op, kTopUp).status == 200);
    for (const std::string suffix : {"", "/balance", "/history"}) {
        CAPTURE(suffix);
        auto foreign = error_of(f.call("GET", "/api/v1/clients/ann" + suffix, f.bob), 404);
        if (suffix == "/history") {
            // A never-used account has an empty history; another client's is still 404.
            CHECK(f.call("GET", "/api/v1/clients/zed/history", f.op).status == 200);
        } else {
            const auto never = error_of(f.call("GET", "/api/v1/clients/zed" + suffix, f.op), 404);
            CHECK(foreign.replace(foreign.find("ann"), 3, "zed") == never);
        }
        error_of(f.call("GET", "/api/v1/clients/ann" + suffix, f.bee), 403);
        error_of(f.call("GET", "/api/v1/clients/ann" + suffix, f.revoked), 401);
    }
}

TEST_CASE("a malformed top-up or history query is 400 naming the field, and moves no money") {
    ContractFixture f;
    const auto post = [&](std::string_view body) {
        return f.call("POST", "/api/v1/clients/ann/topup", f.op, body);
    };
    CHECK(field_of(post(R"({"amount":25,"externalReference":"r"})")) == "amount");
    CHECK(field_of(post(R"({"amount":"25.0000001","externalReference":"r"})")) == "amount");
    CHECK(field_of(post(R"({"amount":"1e3","externalReference":"r"})")) == "amount");
    CHECK(field_of(post(R"({"amount":"25.00"})")) == "externalReference");
    CHECK(field_of(post(R"({"amount":"25.00","externalReference":"r","to":"bob"})")) == "to");
    CHECK(post("[]").status == 400);
    CHECK(post(R"({"amount":"-5.00","externalReference":"r"})").status == 400);
    CHECK(post(R"({"amount":"0","externalReference":"r"})").status == 400);
    error_of(f.call("GET", "/api/v1/clients/ann", f.ann), 404);  // no money moved
    CHECK(field_of(f.call("GET", "/api/v1/clients/ann/history?limit=lots", f.ann)) == "limit");
    CHECK(field_of(f.call("GET", "/api/v1/clients/ann/history?limit=0", f.ann)) == "limit");
    CHECK(field_of(f.call("GET", "/api/v1/clients/ann/history?page=2", f.ann)) == "page");
}

TEST_CASE("every token reads the epochs: list, current, one, its jobs and payouts") {
    ContractFixture f;
    const auto job = sealed_job(f, "ann");
    for (const auto* token : {&f.ann, &f.bee, &f.op}) {
        const auto list = json_of(f.call("GET", "/api/v1/epochs", *token));
        REQUIRE(list.at("epochs").as_array().size() == 2);  // the sealed one and the next
        CHECK(list.at("epochs").as_array()[0].at("status").as_string() == "finalized");
    }
    const auto current = json_of(f.call("GET", "/api/v1/epochs/current", f.ann));
    CHECK(current.at("epoch").at("status").as_string() == "active");
    const auto first = json_of(f.call("GET", "/api/v1/epochs/epoch-000001", f.bee));
    CHECK(first.at("epoch").at("jobs_count").as_int64() == 1);
    CHECK(first.at("epoch").at("signer").as_string() ==
          f.hub.settlement().operator_address().to_string());
    const auto jobs = json_of(f.call("GET", "/api/v1/epochs/epoch-000001/jobs", f.ann));
    REQUIRE(jobs.at("jobs").as_array().size() == 1);
    CHECK(jobs.at("jobs").as_array()[0].at("job_id").as_string() == job);
    const auto payouts = json_of(f.call("GET", "/api/v1/epochs/epoch-000001/payouts", f.op));
    CHECK(payouts.at("payouts").is_array());
    error_of(f.call("GET", "/api/v1/epochs/epoch-999999", f.ann), 404);
    error_of(f.call("GET", "/api/v1/epochs/epoch-999999/jobs", f.ann), 404);
    error_of(f.call("GET", "/api/v1/epochs/epoch-999999/payouts", f.ann), 404);
    error_of(f.call("GET", "/api/v1/epochs", f.revoked), 401);
    error_of(f.call("GET", "/api/v1/epochs"), 401);
    CHECK(field_of(f.call("GET", "/api/v1/epochs?limit=1", f.ann)) == "limit");
}

TEST_CASE("a job's receipt is its owner's and the operator's; it verifies against the signer") {
    ContractFixture f;
    const auto job = sealed_job(f, "ann");
    const auto answer = f.call("GET", "/api/v1/jobs/" + job + "/receipt", f.ann);
    REQUIRE(answer.status == 200);
    const auto receipt = boost::json::serialize(json_of(answer).at("receipt"));
    const auto check = verify_receipt(receipt, f.hub.settlement().operator_address());
    CHECK(check.valid);
    CHECK(f.call("GET", "/api/v1/jobs/" + job + "/receipt", f.op).status == 200);
    // Someone else's job reads as one that does not exist.
    auto foreign = error_of(f.call("GET", "/api/v1/jobs/" + job + "/receipt", f.bob), 404);
    const std::string missing = "job-01AAAAAAAAAAAAAAAAAAAAAAAA";
    const auto absent = error_of(f.call("GET", "/api/v1/jobs/" + missing + "/receipt", f.bob), 404);
    CHECK(foreign.replace(foreign.find(job), job.size(), missing) == absent);
    error_of(f.call("GET", "/api/v1/jobs/" + job + "/receipt", f.bee), 403);
    // A job not yet in a sealed epoch is a conflict or not found, never a receipt.
    const auto open = f.submit("ann");
    CHECK(f.call("GET", "/api/v1/jobs/" + open + "/receipt", f.ann).status >= 400);
}
