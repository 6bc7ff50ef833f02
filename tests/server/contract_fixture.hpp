// SPDX-License-Identifier: Apache-2.0
//
// A server over a fresh hub with a manual clock and a token of each role (two clients, a
// worker, an operator, and a revoked client token), for the REST contract's tests.
#pragma once

#include "server/http_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/hub.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/time.hpp>
#include <sihlicon/tokens.hpp>

#include <boost/json.hpp>

#include <memory>
#include <string>

namespace sihlicon::testing {

inline const std::string kContractSpec = R"({"jobType": "custom", "jobName": "frame",
  "workloadConfig": {"containerImage": "native", "resources": {"cpu": "1", "memory": "1Gi"}}})";

inline HubOptions contract_hub_options(std::shared_ptr<ManualClock> clock) {
    HubOptions options;
    options.clock = std::move(clock);
    return options;
}

struct ContractFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));  // 2026-01-01
    Hub hub = Hub::open(dir.path(), contract_hub_options(clock));
    std::string ann, bob, bee, op, revoked;
    std::unique_ptr<Server> server;

    ContractFixture() {
        ApiTokens tokens(hub);
        ann = tokens.create(kOperatorPrincipal, "ann", Role::client).secret;
        bob = tokens.create(kOperatorPrincipal, "bob", Role::client).secret;
        bee = tokens.create(kOperatorPrincipal, "bee", Role::worker, "worker-a").secret;
        op = tokens.create(kOperatorPrincipal, kOperatorPrincipal, Role::hub_operator).secret;
        const auto gone = tokens.create(kOperatorPrincipal, "cy", Role::client);
        tokens.revoke(kOperatorPrincipal, gone.record.id);
        revoked = gone.secret;
        server = std::make_unique<Server>(hub, ServerOptions{});
        server->start();
    }

    HttpResponse call(std::string_view method, std::string_view target, std::string_view token = {},
                      std::string_view body = {}) {
        HttpClient client(server->port());
        REQUIRE(client.send(request(method, target, token, body)));
        auto response = client.read_response();
        REQUIRE(response);
        return *response;
    }

    std::string submit(std::string_view owner) {
        return hub.scheduler().submit_json(kContractSpec, owner).id;
    }
};

inline boost::json::object json_of(const HttpResponse& response) {
    CHECK(response.header("content-type") == "application/json");
    return boost::json::parse(response.body).as_object();
}

// The response is `status` with the contract's error body; returns its message.
inline std::string error_of(const HttpResponse& response, int status) {
    CHECK(response.status == status);
    const auto body = json_of(response);
    CHECK(body.at("error").is_string());
    return std::string(body.at("error").as_string());
}

// The field a 400 names.
inline std::string field_of(const HttpResponse& response) {
    CHECK(response.status == 400);
    const auto body = json_of(response);  // kept: `field` refers into it
    const auto& field = body.at("details").as_object().at("field");
    return field.is_string() ? std::string(field.as_string()) : std::string();
}

}  // namespace sihlicon::testing
