// SPDX-License-Identifier: Apache-2.0
//
// The workers API of sihlicon::Server over real sockets on 127.0.0.1: register, heartbeat,
// claim, renew, complete and fail; a worker token acts only for its own worker; stale lease
// tokens, malformed bodies and client tokens are refused and change nothing.
#include "server/http_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

using sihlicon::ApiTokens;
using sihlicon::Hub;
using sihlicon::JobStatus;
using sihlicon::kOperatorPrincipal;
using sihlicon::Role;
using sihlicon::Server;
using sihlicon::testing::HttpClient;
using sihlicon::testing::HttpResponse;
using sihlicon::testing::request;
using sihlicon::testing::TempDir;

namespace {

const std::string kSpec = R"({"jobType": "custom", "jobName": "frame",
  "workloadConfig": {"containerImage": "native", "resources": {"cpu": "1", "memory": "1Gi"}}})";
const std::string kWorkerA = R"({"hubId": "pool", "cpu": "4", "memory": "8Gi"})";
const std::string kWorkerB = R"({"workerId": "worker-b", "hubId": "pool", "cpu": "4",
  "memory": "8Gi"})";

struct WorkersFixture {
    TempDir dir;
    Hub hub = Hub::open(dir.path());
    std::string ann, bee, wasp, op;
    std::unique_ptr<Server> server;

    WorkersFixture() {
        ApiTokens tokens(hub);
        ann = tokens.create(kOperatorPrincipal, "ann", Role::client).secret;
        bee = tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-a").secret;
        wasp = tokens.create(kOperatorPrincipal, "wasp", Role::worker, "worker-b").secret;
        op = tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).secret;
        sihlicon::HubSpec pool;
        pool.id = "pool";
        pool.name = "Pool";
        pool.site = "plant room";
        pool.region = "CH";
        pool.power_capacity_w = 100'000;
        hub.scheduler().register_hub(pool);
        server = std::make_unique<Server>(hub, sihlicon::ServerOptions{});
        server->start();
    }

    HttpResponse post(std::string_view target, std::string_view token, std::string_view body) {
        HttpClient client(server->port());
        REQUIRE(client.send(request("POST", target, token, body)));
        auto response = client.read_response();
        REQUIRE(response);
        return *response;
    }

    std::string submit() { return hub.scheduler().submit_json(kSpec, "ann").id; }
};

boost::json::object json_of(const HttpResponse& response) {
    CHECK(response.header("content-type") == "application/json");
    return boost::json::parse(response.body).as_object();
}

// The response is `status` with the contract's error body; returns its message.
std::string error_of(const HttpResponse& response, int status) {
    CHECK(response.status == status);
    const auto body = json_of(response);
    return std::string(body.at("error").as_string());
}

// The field a 400 names.
std::string field_of(const HttpResponse& response) {
    CHECK(response.status == 400);
    const auto body = json_of(response);  // kept: `field` refers into it
    const auto& field = body.at("details").as_object().at("field");
    return field.is_string() ? std::string(field.as_string()) : std::string();
}

std::string lease_token(const boost::json::value& claim) {
    return std::string(claim.at("lease").at("token").as_string());
}

std::string job_id_of(const boost::json::value& claim) {
    return std::string(claim.at("lease").at("jobId").as_string());
}

std::string with_token(std::string_view token, std::string_view rest = {}) {
    return R"({"token":")" + std::string(token) + "\"" + std::string(rest) + "}";
}

}  // namespace

TEST_CASE(
    "a worker registers, heartbeats, claims a batch, renews, completes and fails its jobs over "
    "HTTP") {
    WorkersFixture f;
    auto response = f.post("/api/v1/workers/register", f.bee, kWorkerA);
    REQUIRE(response.status == 200);
    // The body named no workerId: the token's bound worker is registered.
    CHECK(json_of(response).at("worker").at("workerId").as_string() == "worker-a");
    CHECK(f.hub.scheduler().worker("worker-a").spec.cpu_millicores == 4000);

    response = f.post("/api/v1/workers/worker-a/heartbeat", f.bee, R"({"utilisationPpm":250000})");
    REQUIRE(response.status == 200);
    CHECK(f.hub.scheduler().worker("worker-a").utilisation_ppm == 250'000);

    const auto first = f.submit();
    const auto second = f.submit();
    response = f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"max":2})");
    REQUIRE(response.status == 200);
    const auto claimed = json_of(response);
    CHECK(claimed.at("success").as_bool());
    const auto& claims = claimed.at("claims").as_array();
    REQUIRE(claims.size() == 2);
    CHECK(claims[0].at("job").at("status").as_string() == "running");
    std::string token_of_first, token_of_second;
    for (const auto& claim : claims) {
        CHECK(claim.at("lease").at("workerId").as_string() == "worker-a");
        (job_id_of(claim) == first ? token_of_first : token_of_second) = lease_token(claim);
    }
    REQUIRE_FALSE(token_of_first.empty());
    REQUIRE_FALSE(token_of_second.empty());

    response = f.post("/api/v1/jobs/" + first + "/renew", f.bee, with_token(token_of_first));
    REQUIRE(response.status == 200);
    CHECK(json_of(response).at("lease").at("jobId").as_string() == first);

    response =
        f.post("/api/v1/jobs/" + first + "/complete", f.bee,
               with_token(token_of_first,
                          R"(,"energyKwh":"0.25","energySource":"measured","resultHash":"ab12",)"
                          R"("metrics":{"frames":1})"));
    REQUIRE(response.status == 200);
    CHECK(json_of(response).at("job").at("status").as_string() == "completed");
    const auto done = f.hub.scheduler().job(first);
    CHECK(done.status == JobStatus::completed);
    REQUIRE(done.actual_energy);
    CHECK(done.actual_energy->mwh() == 250'000);
    CHECK(done.result_hash == "ab12");

    response = f.post("/api/v1/jobs/" + second + "/fail", f.bee,
                      with_token(token_of_second, R"(,"error":"out of disk","retryable":false)"));
    REQUIRE(response.status == 200);
    const auto failed = f.hub.scheduler().job(second);
    CHECK(failed.status == JobStatus::failed);
    CHECK(failed.error_message == "out of disk");
}

TEST_CASE("an operator token acts for any worker") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.op, kWorkerB).status == 200);
    CHECK(f.post("/api/v1/workers/worker-b/heartbeat", f.op, "{}").status == 200);
    const auto job = f.submit();
    auto response = f.post("/api/v1/workers/worker-b/claim", f.op, "{}");
    REQUIRE(response.status == 200);
    const auto claims = json_of(response).at("claims").as_array();
    REQUIRE(claims.size() == 1);
    CHECK(f.post("/api/v1/jobs/" + job + "/complete", f.op, with_token(lease_token(claims[0])))
              .status == 200);
    CHECK(f.hub.scheduler().job(job).status == JobStatus::completed);
}

TEST_CASE(
    "a worker token cannot register, heartbeat or claim for another worker (403), nor renew, "
    "complete or fail another worker's attempt (409, as any job it does not hold): nothing "
    "changes") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.wasp, kWorkerB).status == 200);
    const auto held = f.submit();
    const auto waiting = f.submit();
    auto response = f.post("/api/v1/workers/worker-b/claim", f.wasp, "{}");
    REQUIRE(response.status == 200);
    const auto claims = json_of(response).at("claims").as_array();
    REQUIRE(claims.size() == 1);
    REQUIRE(job_id_of(claims[0]) == held);
    const auto token = lease_token(claims[0]);  // even the right lease token does not do
    const auto before = f.hub.scheduler().worker("worker-b");
    const auto held_before = f.hub.scheduler().job(held);

    error_of(f.post("/api/v1/workers/register", f.bee, kWorkerB), 403);
    error_of(f.post("/api/v1/workers/worker-b/heartbeat", f.bee, R"({"utilisationPpm":900000})"),
             403);
    error_of(f.post("/api/v1/workers/worker-b/claim", f.bee, R"({"max":1})"), 403);
    const auto not_held = "worker 'worker-a' holds no lease on job '" + held + "' under this token";
    for (const auto* action : {"renew", "complete"}) {
        CHECK(error_of(f.post("/api/v1/jobs/" + held + "/" + action, f.bee, with_token(token)),
                       409) == not_held);
    }
    CHECK(error_of(f.post("/api/v1/jobs/" + held + "/fail", f.bee,
                          with_token(token, R"(,"error":"no")")),
                   409) == not_held);

    const auto after = f.hub.scheduler().worker("worker-b");
    CHECK(after.utilisation_ppm == before.utilisation_ppm);
    CHECK(after.last_heartbeat_at == before.last_heartbeat_at);
    CHECK(after.spec.cpu_millicores == before.spec.cpu_millicores);
    const auto job = f.hub.scheduler().job(held);
    CHECK(job.status == JobStatus::running);
    CHECK(job.lease_expires_at == held_before.lease_expires_at);
    CHECK(job.updated_at == held_before.updated_at);
    CHECK(f.hub.scheduler().job(waiting).status == JobStatus::queued);
    CHECK_THROWS(f.hub.scheduler().worker("worker-a"));  // never registered
    // The lease still works for its own worker.
    CHECK(f.post("/api/v1/jobs/" + held + "/complete", f.wasp, with_token(token)).status == 200);
}

TEST_CASE("a stale or unknown lease token is 409 and changes nothing") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.bee, kWorkerA).status == 200);
    const auto job = f.submit();
    auto response = f.post("/api/v1/workers/worker-a/claim", f.bee, "{}");
    REQUIRE(response.status == 200);
    const auto token = lease_token(json_of(response).at("claims").as_array().at(0));

    error_of(f.post("/api/v1/jobs/" + job + "/renew", f.bee, with_token("lease-not-mine")), 409);
    error_of(f.post("/api/v1/jobs/" + job + "/complete", f.bee, with_token("lease-not-mine")), 409);
    CHECK(f.hub.scheduler().job(job).status == JobStatus::running);

    // The attempt fails and the job goes back for a retry: its token is stale now.
    REQUIRE(f.post("/api/v1/jobs/" + job + "/fail", f.bee, with_token(token, R"(,"error":"e")"))
                .status == 200);
    const auto retried = f.hub.scheduler().job(job);
    REQUIRE(retried.status != JobStatus::running);
    error_of(f.post("/api/v1/jobs/" + job + "/renew", f.bee, with_token(token)), 409);
    error_of(f.post("/api/v1/jobs/" + job + "/complete", f.bee, with_token(token)), 409);
    error_of(f.post("/api/v1/jobs/" + job + "/fail", f.bee, with_token(token, R"(,"error":"e")")),
             409);
    CHECK(f.hub.scheduler().job(job).status == retried.status);
    CHECK(f.hub.scheduler().job(job).attempts == retried.attempts);
}

TEST_CASE("malformed workers API bodies are 400 naming the field, and change nothing") {
    WorkersFixture f;
    CHECK(field_of(f.post("/api/v1/workers/register", f.bee, R"({"hubId":1})")) == "hubId");
    CHECK(field_of(f.post("/api/v1/workers/register", f.bee,
                          R"({"hubId":"pool","cpu":"4",)"
                          R"("memory":"8Gi","colour":1})")) == "colour");
    CHECK(f.post("/api/v1/workers/register", f.bee, "not json").status == 400);
    CHECK_THROWS(f.hub.scheduler().worker("worker-a"));

    REQUIRE(f.post("/api/v1/workers/register", f.bee, kWorkerA).status == 200);
    CHECK(field_of(f.post("/api/v1/workers/worker-a/heartbeat", f.bee, R"({"cpu":1})")) == "cpu");
    CHECK(field_of(f.post("/api/v1/workers/worker-a/heartbeat", f.bee,
                          R"({"utilisationPpm":2000000})")) == "utilisationPpm");
    CHECK(f.hub.scheduler().worker("worker-a").utilisation_ppm == 0);

    const auto job = f.submit();
    CHECK(field_of(f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"max":"two"})")) == "max");
    CHECK(field_of(f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"max":0})")) == "max");
    CHECK(field_of(f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"count":1})")) == "count");
    CHECK(f.hub.scheduler().job(job).status == JobStatus::queued);

    auto response = f.post("/api/v1/workers/worker-a/claim", f.bee, "{}");
    REQUIRE(response.status == 200);
    const auto token = lease_token(json_of(response).at("claims").as_array().at(0));
    const auto complete = "/api/v1/jobs/" + job + "/complete";
    CHECK(field_of(f.post(complete, f.bee, "{}")) == "token");
    CHECK(field_of(f.post(complete, f.bee, with_token(token, R"(,"energySource":"guessed")"))) ==
          "energySource");
    CHECK(field_of(f.post(complete, f.bee, with_token(token, R"(,"energyKwh":"-1")"))) ==
          "energyKwh");
    CHECK(field_of(f.post(complete, f.bee, with_token(token, R"(,"metrics":[1])"))) == "metrics");
    CHECK(field_of(f.post(complete, f.bee, with_token(token, R"(,"outputs":[])"))) == "outputs");
    CHECK(field_of(f.post("/api/v1/jobs/" + job + "/fail", f.bee, with_token(token))) == "error");
    CHECK(field_of(f.post("/api/v1/jobs/" + job + "/fail", f.bee,
                          with_token(token, R"(,"error":"e","retryable":"no")"))) == "retryable");
    CHECK(field_of(f.post("/api/v1/jobs/" + job + "/renew", f.bee, R"({"token":7})")) == "token");
    CHECK(f.hub.scheduler().job(job).status == JobStatus::running);
}

TEST_CASE("a client token is 403 on every workers route, and nothing changes") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.bee, kWorkerA).status == 200);
    const auto job = f.submit();
    auto response = f.post("/api/v1/workers/worker-a/claim", f.bee, "{}");
    REQUIRE(response.status == 200);
    const auto token = lease_token(json_of(response).at("claims").as_array().at(0));
    const std::vector<std::pair<std::string, std::string>> calls{
        {"/api/v1/workers/register", R"({"workerId":"ann-worker","hubId":"pool","cpu":"1",)"
                                     R"("memory":"1Gi"})"},
        {"/api/v1/workers/worker-a/heartbeat", "{}"},
        {"/api/v1/workers/worker-a/claim", "{}"},
        {"/api/v1/jobs/" + job + "/renew", with_token(token)},
        {"/api/v1/jobs/" + job + "/complete", with_token(token)},
        {"/api/v1/jobs/" + job + "/fail", with_token(token, R"(,"error":"e")")},
    };
    for (const auto& [target, body] : calls) {
        CAPTURE(target);
        error_of(f.post(target, f.ann, body), 403);
    }
    CHECK_THROWS(f.hub.scheduler().worker("ann-worker"));
    CHECK(f.hub.scheduler().job(job).status == JobStatus::running);
}

TEST_CASE("a workers route answers another method with 405 and Allow: POST") {
    WorkersFixture f;
    HttpClient client(f.server->port());
    REQUIRE(client.send(request("GET", "/api/v1/workers/worker-a/claim", f.bee)));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 405);
    CHECK(response->header("allow") == "POST");
}

TEST_CASE(
    "a batch completion ends the worker's attempts in one transaction; another worker's attempt, "
    "an absent job or a stale token refuses the whole batch with one 409") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.bee, kWorkerA).status == 200);
    REQUIRE(f.post("/api/v1/workers/register", f.wasp, kWorkerB).status == 200);
    for (int i = 0; i < 3; ++i) {
        f.submit();
    }
    auto response = f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"max":2})");
    REQUIRE(response.status == 200);
    const auto mine = json_of(response).at("claims").as_array();
    REQUIRE(mine.size() == 2);
    response = f.post("/api/v1/workers/worker-b/claim", f.wasp, R"({"max":1})");
    REQUIRE(response.status == 200);
    const auto theirs = json_of(response).at("claims").as_array();
    REQUIRE(theirs.size() == 1);
    const auto first = job_id_of(mine[0]);
    const auto second = job_id_of(mine[1]);
    const auto third = job_id_of(theirs[0]);

    const auto item = [](const boost::json::value& claim) {
        return R"({"jobId":")" + job_id_of(claim) + R"(","token":")" + lease_token(claim) +
               R"(","energyKwh":0.5})";
    };
    // worker-b's attempt in worker-a's batch: the core refuses it as a job worker-a does not
    // hold, and nothing of the batch happens, even with that attempt's own token.
    CHECK(error_of(f.post("/api/v1/workers/worker-a/complete", f.bee,
                          R"({"completions":[)" + item(mine[0]) + "," + item(theirs[0]) + "]}"),
                   409) ==
          "worker 'worker-a' holds no lease on job '" + third + "' under this token");
    CHECK(error_of(f.post("/api/v1/workers/worker-a/complete", f.bee,
                          R"({"completions":[)" + item(mine[0]) +
                              R"(,{"jobId":"no-such-job","token":"x"}]})"),
                   409) ==
          "worker 'worker-a' holds no lease on job 'no-such-job' under this token");
    // A stale token anywhere: 409 and nothing changes.
    CHECK(f.post("/api/v1/workers/worker-a/complete", f.bee,
                 R"({"completions":[)" + item(mine[0]) + R"(,{"jobId":")" + second +
                     R"(","token":"stale"}]})")
              .status == 409);
    CHECK(f.hub.scheduler().job(first).status == JobStatus::running);
    CHECK(f.hub.scheduler().job(second).status == JobStatus::running);
    // Malformed batches name the field.
    CHECK(field_of(f.post("/api/v1/workers/worker-a/complete", f.bee, "{}")) == "completions");
    CHECK(field_of(f.post("/api/v1/workers/worker-a/complete", f.bee, R"({"completions":[]})")) ==
          "completions");
    CHECK(field_of(f.post("/api/v1/workers/worker-a/complete", f.bee,
                          R"({"completions":[{"jobId":"x","token":"y","colour":1}]})")) ==
          "completions[0].colour");
    // The worker's own batch completes both; sending it again returns the same jobs.
    const auto batch = R"({"completions":[)" + item(mine[0]) + "," + item(mine[1]) + "]}";
    for (int round = 0; round < 2; ++round) {
        response = f.post("/api/v1/workers/worker-a/complete", f.bee, batch);
        REQUIRE(response.status == 200);
        const auto jobs = json_of(response).at("jobs").as_array();
        REQUIRE(jobs.size() == 2);
        CHECK(jobs[0].at("status").as_string() == "completed");
    }
    CHECK(f.hub.scheduler().job(first).status == JobStatus::completed);
    CHECK(f.hub.scheduler().job(second).status == JobStatus::completed);
    CHECK(f.hub.scheduler().job(third).status == JobStatus::running);
}

TEST_CASE(
    "a worker token cannot tell a job that does not exist from another worker's or an ended one "
    "on renew, complete and fail: one 409 for all; the operator still sees 404") {
    WorkersFixture f;
    REQUIRE(f.post("/api/v1/workers/register", f.bee, kWorkerA).status == 200);
    REQUIRE(f.post("/api/v1/workers/register", f.wasp, kWorkerB).status == 200);
    f.submit();
    f.submit();
    auto response = f.post("/api/v1/workers/worker-a/claim", f.bee, R"({"max":1})");
    REQUIRE(response.status == 200);
    const auto ended_claim = json_of(response).at("claims").as_array().at(0);
    const auto ended = job_id_of(ended_claim);
    const auto ended_token = lease_token(ended_claim);
    REQUIRE(f.post("/api/v1/jobs/" + ended + "/complete", f.bee, with_token(ended_token)).status ==
            200);
    response = f.post("/api/v1/workers/worker-b/claim", f.wasp, R"({"max":1})");
    REQUIRE(response.status == 200);
    const auto theirs = job_id_of(json_of(response).at("claims").as_array().at(0));

    // The answer's body, with the job id (the only thing the caller named) taken out.
    const auto answer = [&](const std::string& job, const std::string& action,
                            const std::string& token) {
        auto reply = f.post("/api/v1/jobs/" + job + "/" + action, f.bee,
                            with_token(token, action == "fail" ? R"(,"error":"e")" : ""));
        auto body = reply.body;
        for (auto at = body.find(job); at != std::string::npos; at = body.find(job)) {
            body.replace(at, job.size(), "JOB");
        }
        return std::to_string(reply.status) + " " + body;
    };
    for (const std::string action : {"renew", "complete", "fail"}) {
        CAPTURE(action);
        const auto absent = answer("no-such-job", action, ended_token);
        CHECK(absent.starts_with("409 "));
        CHECK(answer(theirs, action, ended_token) == absent);
        CHECK(answer(ended, action, "stale-token") == absent);
        if (action != "complete") {  // completing again with its token repeats the completion
            CHECK(answer(ended, action, ended_token) == absent);
        }
    }
    CHECK(f.hub.scheduler().job(theirs).status == JobStatus::running);
    // The operator, acting by the lease token alone, may know the difference.
    CHECK(f.post("/api/v1/jobs/no-such-job/renew", f.op, with_token("x")).status == 404);
    CHECK(f.post("/api/v1/jobs/" + theirs + "/renew", f.op, with_token("x")).status == 409);
}
