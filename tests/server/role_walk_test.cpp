// SPDX-License-Identifier: Apache-2.0
//
// The role table walk: every route of the server's RouteTable, for every kind of caller (no
// token, a revoked token, client, worker, operator), is admitted or refused (401 / 403)
// exactly as the one table below says. A route added without a row here fails this test, and
// so does a row whose route is gone. The README's endpoint table says the same.
#include "server/api.hpp"
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

// Who may call an endpoint. kPublic: anyone, no token needed. kAnonymous: a request without
// a credential too (Route::anonymous), but a presented token is checked as anywhere else.
enum Allowed : unsigned { kClient = 1, kWorker = 2, kOperator = 4, kPublic = 8, kAnonymous = 16 };

struct Row {
    std::string_view method;
    std::string_view pattern;
    unsigned allowed;
};

// THE role table (README "Endpoints"): one row per route.
constexpr Row kTable[] = {
    {"GET", "/.well-known/sihlicon.json", kPublic},
    {"GET", "/api/compute", kClient | kOperator},
    {"POST", "/api/compute", kClient | kOperator},
    {"GET", "/api/compute/{jobId}", kClient | kOperator},
    {"DELETE", "/api/compute/{jobId}", kClient | kOperator},
    {"POST", "/api/v1/workers/register", kWorker | kOperator},
    {"POST", "/api/v1/workers/{workerId}/heartbeat", kWorker | kOperator},
    {"POST", "/api/v1/workers/{workerId}/claim", kWorker | kOperator},
    {"POST", "/api/v1/jobs/{jobId}/renew", kWorker | kOperator},
    {"POST", "/api/v1/jobs/{jobId}/complete", kWorker | kOperator},
    {"POST", "/api/v1/jobs/{jobId}/fail", kWorker | kOperator},
    {"POST", "/api/v1/workers/{workerId}/complete", kWorker | kOperator},
    {"POST", "/api/v1/workers/{workerId}/status", kWorker | kOperator},
    {"GET", "/api/v1/jobs/{jobId}/inputs/{cid}", kWorker | kOperator},
    {"POST", "/api/v1/jobs/{jobId}/outputs", kWorker | kOperator},
    {"POST", "/api/storage", kClient | kOperator},
    {"GET", "/api/storage", kClient | kOperator},
    {"DELETE", "/api/storage", kClient | kOperator},
    {"GET", "/api/heat/credits", kClient | kOperator},
    {"GET", "/api/heat/stats", kClient | kOperator},
    {"POST", "/api/heat/settle", kOperator},
    {"GET", "/api/v1/clients/{clientId}", kClient | kOperator},
    {"GET", "/api/v1/clients/{clientId}/balance", kClient | kOperator},
    {"GET", "/api/v1/clients/{clientId}/history", kClient | kOperator},
    {"POST", "/api/v1/clients/{clientId}/topup", kOperator},
    {"GET", "/api/v1/epochs", kClient | kWorker | kOperator},
    {"GET", "/api/v1/epochs/current", kClient | kWorker | kOperator},
    {"GET", "/api/v1/epochs/{epochId}", kClient | kWorker | kOperator},
    {"GET", "/api/v1/epochs/{epochId}/jobs", kClient | kWorker | kOperator},
    {"GET", "/api/v1/epochs/{epochId}/payouts", kClient | kWorker | kOperator},
    {"GET", "/api/v1/events", kClient | kWorker | kOperator},
    {"GET", "/api/v1/jobs/{jobId}/receipt", kClient | kOperator},
    {"GET", "/ipfs/{cid}", kAnonymous | kClient | kOperator},
    {"HEAD", "/ipfs/{cid}", kAnonymous | kClient | kOperator},
    {"POST", "/api/v1/car", kClient | kOperator},
};

// A path of `pattern` with each {param} filled: the worker token's own worker for
// {workerId}, the client's own id for {clientId}, a plausible id otherwise.
std::string path_of(std::string_view pattern) {
    std::string path;
    while (!pattern.empty()) {
        const auto open = pattern.find('{');
        path += pattern.substr(0, open);
        if (open == std::string_view::npos) {
            break;
        }
        const auto close = pattern.find('}', open);
        const auto name = pattern.substr(open + 1, close - open - 1);
        path += name == "workerId" ? "worker-a" : name == "clientId" ? "ann" : "x-1";
        pattern.remove_prefix(close + 1);
    }
    return path;
}

// The status class a caller gets at admission: 0 when admitted.
int admitted_as(const server::Api& api, std::string_view method, const std::string& path,
                std::string_view token) {
    const auto authorization = token.empty() ? std::string() : "Bearer " + std::string(token);
    const auto admission = api.admit(method, path, authorization, {});
    return admission.refusal ? admission.refusal->status : 0;
}

}  // namespace

TEST_CASE("every route answers every kind of caller as the one role table says") {
    ContractFixture f;
    const server::Api api(f.hub);
    std::set<std::string> routes;
    for (const auto& route : api.routes().routes()) {
        const auto key = route.method + " " + route.pattern;
        CAPTURE(key);
        routes.insert(key);
        const Row* row = nullptr;
        for (const auto& candidate : kTable) {
            if (candidate.method == route.method && candidate.pattern == route.pattern) {
                row = &candidate;
            }
        }
        // A route without a row: add it to kTable and to the README's endpoint table.
        REQUIRE_MESSAGE(row != nullptr, "no row in the role table for " << key);
        CHECK(route.public_route == ((row->allowed & kPublic) != 0));
        CHECK(route.anonymous == ((row->allowed & kAnonymous) != 0));
        const auto path = path_of(route.pattern);
        const auto expect = [&](unsigned role) {
            return (row->allowed & (role | kPublic)) ? 0 : 403;
        };
        const int anonymous = (row->allowed & (kPublic | kAnonymous)) ? 0 : 401;
        CHECK(admitted_as(api, route.method, path, {}) == anonymous);
        CHECK(admitted_as(api, route.method, path, f.revoked) ==
              ((row->allowed & kPublic) ? 0 : 401));
        CHECK(admitted_as(api, route.method, path, f.ann) == expect(kClient));
        CHECK(admitted_as(api, route.method, path, f.bee) == expect(kWorker));
        CHECK(admitted_as(api, route.method, path, f.op) == expect(kOperator));
    }
    // Every row names a route that exists.
    for (const auto& row : kTable) {
        CAPTURE(row.pattern);
        CHECK(routes.count(std::string(row.method) + " " + std::string(row.pattern)) == 1);
    }
}
