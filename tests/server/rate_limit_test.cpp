// SPDX-License-Identifier: Apache-2.0
//
// The contract's rate limit over real HTTP: X-RateLimit-* headers on every response to a
// client token, 429 with Retry-After beyond the hub setting apiRequestsPerHour, a new window
// at the top of the hub clock's hour; worker and operator tokens are not limited.
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/settings.hpp>

using namespace sihlicon;
using namespace sihlicon::testing;

TEST_CASE("a client's responses carry X-RateLimit-* and the request beyond the limit is 429") {
    ContractFixture f;
    f.hub.set_setting("apiRequestsPerHour", "3", kOperatorPrincipal);
    // 2026-01-01T00:00:00Z: the window ends an hour later.
    const auto reset = std::to_string(f.clock->now().ms() / 1000 + 3600);
    for (int i = 0; i < 3; ++i) {
        // Refusals count and carry the headers too (here a 404 of someone else's job).
        const auto answer =
            i == 1 ? f.call("GET", "/api/compute/job-01AAAAAAAAAAAAAAAAAAAAAAAA", f.ann)
                   : f.call("GET", "/api/compute", f.ann);
        CHECK(answer.status == (i == 1 ? 404 : 200));
        CHECK(answer.header("x-ratelimit-limit") == "3");
        CHECK(answer.header("x-ratelimit-remaining") == std::to_string(2 - i));
        CHECK(answer.header("x-ratelimit-reset") == reset);
    }
    f.clock->advance(std::chrono::minutes(15));
    const auto refused = f.call("POST", "/api/compute", f.ann, kContractSpec);
    CHECK(error_of(refused, 429).find("rate limit") != std::string::npos);
    CHECK(refused.header("retry-after") == "2700");
    CHECK(refused.header("x-ratelimit-remaining") == "0");
    CHECK(json_of(refused).at("details").at("field").as_string() == "apiRequestsPerHour");
    CHECK(f.hub.scheduler().jobs(JobFilter{}).empty());  // the refused submission changed nothing
    // Another client has its own counter.
    CHECK(f.call("GET", "/api/compute", f.bob).header("x-ratelimit-remaining") == "2");
    // The next hour of the hub's clock starts a new window.
    f.clock->advance(std::chrono::minutes(45));
    const auto next = f.call("GET", "/api/compute", f.ann);
    CHECK(next.status == 200);
    CHECK(next.header("x-ratelimit-remaining") == "2");
}

TEST_CASE("worker and operator tokens are not rate limited, and 0 means unlimited") {
    ContractFixture f;
    f.hub.set_setting("apiRequestsPerHour", "1", kOperatorPrincipal);
    for (int i = 0; i < 3; ++i) {
        const auto operator_answer = f.call("GET", "/api/v1/epochs", f.op);
        CHECK(operator_answer.status == 200);
        CHECK(operator_answer.header("x-ratelimit-limit").empty());
        CHECK(f.call("GET", "/api/v1/epochs", f.bee).status == 200);
    }
    CHECK(f.call("GET", "/api/v1/epochs", f.ann).status == 200);
    CHECK(f.call("GET", "/api/v1/epochs", f.ann).status == 429);
    f.hub.set_setting("apiRequestsPerHour", "0", kOperatorPrincipal);
    const auto unlimited = f.call("GET", "/api/v1/epochs", f.ann);
    CHECK(unlimited.status == 200);
    CHECK(unlimited.header("x-ratelimit-limit").empty());
}

TEST_CASE("the apiRequestsPerHour setting is 0 to 1,000,000,000, default 1000") {
    CHECK(HubSettings{}.api_requests_per_hour == 1000);
    CHECK(HubSettings{}.with("apiRequestsPerHour", "5").api_requests_per_hour == 5);
    CHECK_THROWS_AS(HubSettings{}.with("apiRequestsPerHour", "-1"), Error);
    CHECK_THROWS_AS(HubSettings{}.with("apiRequestsPerHour", "1000000001"), Error);
    CHECK(HubSettings::from_json(R"({"apiRequestsPerHour":7})").api_requests_per_hour == 7);
    CHECK(HubSettings{}.to_json().find(R"("apiRequestsPerHour":1000)") != std::string::npos);
}
