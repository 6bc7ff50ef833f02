// SPDX-License-Identifier: Apache-2.0
//
// Lease-checked content of a job (hub_link.hpp: require_job_lease, export_job_input,
// store_job_output) in the core, and the routes a remote agent needs over real HTTP: a worker's
// status, a leased job's inputs as a CAR and its outputs stored as the job's owner. A worker
// token of another worker is refused on every one of them.
#include "server/http_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/hub_link.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace sihlicon::testing {

namespace {

using namespace std::chrono_literals;

const std::string kOwner = "ann";

struct ContentFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp::from_ms(1'700'000'000'000));
    Hub hub = open();
    std::string bee, wasp, op;
    std::string input_cid, other_cid;
    ClaimedJob claimed;

    Hub open() {
        HubOptions options;
        options.clock = clock;
        return Hub::open(dir.path(), options);
    }

    ContentFixture() {
        ApiTokens tokens(hub);
        bee = tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-a").secret;
        wasp = tokens.create(kOperatorPrincipal, "wasp", Role::worker, "worker-b").secret;
        op = tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).secret;
        HubSpec pool;
        pool.id = "pool";
        pool.name = "Pool";
        pool.site = "plant room";
        pool.region = "CH";
        pool.power_capacity_w = 100'000;
        hub.scheduler().register_hub(pool);
        for (const auto* id : {"worker-a", "worker-b"}) {
            WorkerSpec worker;
            worker.id = id;
            worker.hub_id = "pool";
            worker.cpu_millicores = 4000;
            worker.memory_bytes = 8LL << 30;
            hub.scheduler().register_worker(worker);
        }
        input_cid = put("the input", "page.txt", kOwner);
        other_cid = put("someone else's", "secret.txt", kOwner);
        JobSpec spec;
        spec.name = "job";
        spec.owner = kOwner;
        spec.workload.container_image = "native";
        spec.workload.command = {"true"};
        spec.input_refs = {input_cid};
        hub.scheduler().submit(spec);
        auto claims = hub.scheduler().claim("worker-a", 1);
        REQUIRE(claims.size() == 1);
        claimed = claims.front();
    }

    std::string put(const std::string& text, const std::string& name, const std::string& owner) {
        PutOptions options;
        options.file_name = name;
        return hub.content_store()
            .put_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, owner,
                       options)
            .content_id;
    }

    JobContentAccess access(std::optional<std::string> worker = "worker-a") const {
        return {claimed.lease.job_id, claimed.lease.token, std::move(worker)};
    }
};

ErrorCode code_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.code();
    }
    FAIL("no error");
    return ErrorCode::internal;
}

std::string export_of(Hub& hub, const JobContentAccess& access, const std::string& cid) {
    std::string car;
    export_job_input(hub, access, cid, [&](std::span<const std::uint8_t> bytes) {
        car.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    return car;
}

// store_job_output of `text`, read through a ByteSource as the server's spooled body is.
Manifest store_text(Hub& hub, const JobContentAccess& access, const std::string& text,
                    std::string_view file_name) {
    std::size_t offset = 0;
    const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
        const auto n = std::min(buffer.size(), text.size() - offset);
        std::copy_n(text.data() + offset, n, buffer.data());
        offset += n;
        return n;
    };
    return store_job_output(hub, access, source, text.size(), file_name);
}

}  // namespace

TEST_CASE("a job's content is reached only under its live lease, by the worker holding it") {
    ContentFixture f;
    // The worker holding the lease reads an input (as the job's owner) and stores an output.
    CHECK_FALSE(export_of(f.hub, f.access(), f.input_cid).empty());
    const auto stored = store_text(f.hub, f.access(), "result", "out.txt");
    CHECK(stored.owner == kOwner);
    CHECK(stored.file_name == "out.txt");
    // An operator (no acting worker) may too.
    CHECK_FALSE(export_of(f.hub, f.access(std::nullopt), f.input_cid).empty());

    // Content the owner can read but the job does not name: as if it did not exist.
    CHECK(code_of([&] { export_of(f.hub, f.access(), f.other_cid); }) == ErrorCode::not_found);
    CHECK(code_of([&] { export_of(f.hub, f.access(), "not-a-cid"); }) == ErrorCode::not_found);
    // Another worker, even with the token: refused as a lease it does not hold (conflict).
    CHECK(code_of([&] { export_of(f.hub, f.access("worker-b"), f.input_cid); }) ==
          ErrorCode::conflict);
    CHECK(code_of([&] { store_text(f.hub, f.access("worker-b"), "x", "x.txt"); }) ==
          ErrorCode::conflict);
    // A token that is not the job's: conflict; an unknown job: the same conflict for a worker
    // (no existence oracle), not_found for an operator.
    auto stale = f.access();
    stale.lease_token = "lease-not-this-one";
    CHECK(code_of([&] { export_of(f.hub, stale, f.input_cid); }) == ErrorCode::conflict);
    CHECK(code_of([&] { store_text(f.hub, stale, "x", "x.txt"); }) == ErrorCode::conflict);
    auto unknown = f.access();
    unknown.job_id = "job-unknown";
    CHECK(code_of([&] { export_of(f.hub, unknown, f.input_cid); }) == ErrorCode::conflict);
    unknown.acting_worker.reset();
    CHECK(code_of([&] { export_of(f.hub, unknown, f.input_cid); }) == ErrorCode::not_found);

    // An expired lease (not yet reaped by a tick) no longer reaches anything.
    f.clock->advance(f.hub.scheduler().options().lease_duration + 1ms);
    CHECK(code_of([&] { export_of(f.hub, f.access(), f.input_cid); }) == ErrorCode::conflict);
    CHECK(code_of([&] { store_text(f.hub, f.access(), "late", "late.txt"); }) ==
          ErrorCode::conflict);
}

TEST_CASE("an ended attempt's token reads no input and writes no output") {
    ContentFixture f;
    f.hub.scheduler().fail(f.claimed.lease.job_id, f.claimed.lease.token, "boom", true);
    CHECK(code_of([&] { export_of(f.hub, f.access(), f.input_cid); }) == ErrorCode::conflict);
    CHECK(code_of([&] { store_text(f.hub, f.access(), "x", "x.txt"); }) == ErrorCode::conflict);
}

TEST_CASE(
    "the status, input and output routes over HTTP, and another worker's token refused on "
    "each") {
    ContentFixture f;
    Server server(f.hub, ServerOptions{});
    server.start();
    const auto send = [&](std::string_view method, const std::string& target,
                          const std::string& token, const std::string& body = {},
                          const std::string& headers = {}) {
        HttpClient client(server.port());
        REQUIRE(client.send(request(method, target, token, body, headers)));
        auto response = client.read_response();
        REQUIRE(response);
        return *response;
    };
    const auto lease = std::string(kLeaseTokenHeader) + ": " + f.claimed.lease.token + "\r\n";
    const auto job = f.claimed.lease.job_id;

    // Status: the worker's own.
    auto response =
        send("POST", "/api/v1/workers/worker-a/status", f.bee, R"({"status":"draining"})");
    CHECK(response.status == 200);
    CHECK(f.hub.scheduler().worker("worker-a").status == WorkerStatus::draining);
    CHECK(send("POST", "/api/v1/workers/worker-a/status", f.bee, R"({"status":"busy"})").status ==
          400);
    CHECK(send("POST", "/api/v1/workers/worker-a/status", f.bee, R"({"status":"online","x":1})")
              .status == 400);
    CHECK(send("POST", "/api/v1/workers/worker-a/status", f.op, R"({"status":"online"})").status ==
          200);

    // The input as a CAR, with the lease token in its header (never in the URL).
    response = send("GET", "/api/v1/jobs/" + job + "/inputs/" + f.input_cid, f.bee, {}, lease);
    CHECK(response.status == 200);
    CHECK(response.header("content-type") == "application/vnd.ipld.car");
    CHECK(response.header("sihlicon-file-name") == "page.txt");
    CHECK(response.body == export_of(f.hub, f.access(), f.input_cid));
    CHECK(send("GET", "/api/v1/jobs/" + job + "/inputs/" + f.input_cid, f.bee).status == 400);
    CHECK(send("GET", "/api/v1/jobs/" + job + "/inputs/" + f.other_cid, f.bee, {}, lease).status ==
          404);
    CHECK(send("GET", "/api/v1/jobs/" + job + "/inputs/" + f.input_cid, f.bee, {},
               std::string(kLeaseTokenHeader) + ": stale\r\n")
              .status == 409);

    // An output, stored as the job's owner.
    response = send("POST", "/api/v1/jobs/" + job + "/outputs?fileName=r%C3%A9sultat.txt", f.bee,
                    "42\n", lease);
    REQUIRE(response.status == 200);
    const auto manifest = boost::json::parse(response.body).at("manifest");
    const auto cid = std::string(manifest.at("contentId").as_string());
    CHECK(manifest.at("owner").as_string() == kOwner);
    CHECK(f.hub.content_store().stat(cid, kOwner).file_name == "r\xC3\xA9sultat.txt");
    CHECK(send("POST", "/api/v1/jobs/" + job + "/outputs", f.bee, "42\n", lease).status == 400);

    // Another worker's token: 403 on its status route; on the job's content routes 409, the
    // answer to any lease it does not hold (an unknown job too); nothing changes.
    CHECK(
        send("POST", "/api/v1/workers/worker-a/status", f.wasp, R"({"status":"offline"})").status ==
        403);
    CHECK(f.hub.scheduler().worker("worker-a").status != WorkerStatus::offline);
    CHECK(send("GET", "/api/v1/jobs/" + job + "/inputs/" + f.input_cid, f.wasp, {}, lease).status ==
          409);
    CHECK(send("POST", "/api/v1/jobs/" + job + "/outputs?fileName=x.txt", f.wasp, "x", lease)
              .status == 409);
    CHECK(send("GET", "/api/v1/jobs/no-such-job/inputs/" + f.input_cid, f.wasp, {}, lease).status ==
          409);
    CHECK(f.hub.content_store().list(kOwner).size() == 3);  // input, other, résultat

    // Registration tells the agent its terms.
    response = send("POST", "/api/v1/workers/register", f.bee,
                    R"({"hubId":"pool","cpu":"4","memory":"8Gi"})");
    REQUIRE(response.status == 200);
    const auto terms =
        LinkTerms::from_json(boost::json::serialize(boost::json::parse(response.body).at("terms")));
    CHECK(terms.heartbeat_interval == f.hub.settings().heartbeat_interval);
    CHECK(terms.lease_duration == f.hub.scheduler().options().lease_duration);
    server.stop();
}

}  // namespace sihlicon::testing
