// SPDX-License-Identifier: Apache-2.0
//
// The server's operator-only routes pass the acting principal to the core, which refuses
// anyone but the operator: with the route's role gate removed (the same handler under a test
// path open to every role), a client or worker token is still 403 and nothing changes.
#include "server/api.hpp"
#include "server/contract_fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/settlement.hpp>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

// Adds the handler of `method pattern` again under "/test" + pattern, open to every role.
void open_to_every_role(Server& server, std::string_view method, std::string_view pattern) {
    auto& api = server::api_of(server);
    for (const auto& route : api.routes().routes()) {
        if (route.method == method && route.pattern == pattern) {
            auto open = route;
            open.pattern = "/test" + route.pattern;
            open.roles = {Role::client, Role::worker, Role::hub_operator};
            api.add_route(open);
            return;
        }
    }
    FAIL("no route " << method << ' ' << pattern);
}

}  // namespace

TEST_CASE(
    "heat settle and top-up refuse a client or worker in the core, whatever the route's "
    "roles; the operator's token still acts") {
    ContractFixture f;
    HubSpec pool;
    pool.id = "pool";
    pool.name = "Pool";
    pool.site = "baths";
    pool.region = "CH";
    pool.power_capacity_w = 100'000;
    f.hub.scheduler().register_hub(pool);
    ManualHeat heat;
    heat.hub_id = "pool";
    heat.tag = "pool heater";
    heat.at = Timestamp::from_ms(f.clock->now().ms() - 3'600'000);
    heat.thermal = Energy::kilowatt_hours(10);
    f.hub.heat_ledger().record(heat);
    open_to_every_role(*f.server, "POST", "/api/heat/settle");
    open_to_every_role(*f.server, "POST", "/api/v1/clients/{clientId}/topup");

    const std::string settle =
        R"({"hubId":"pool","periodStart":"2025-12-31T22:00:00Z","periodEnd":"2026-01-01T00:00:00Z"})";
    const std::string top_up = R"({"amount":"25.00","externalReference":"0xdeposit1"})";
    for (const auto* token : {&f.ann, &f.bee}) {
        const auto refused = f.call("POST", "/test/api/heat/settle", *token, settle);
        error_of(refused, 403);
        CHECK(json_of(refused).at("details").at("field").as_string() == "by");
        error_of(f.call("POST", "/test/api/v1/clients/ann/topup", *token, top_up), 403);
    }
    CHECK(f.hub.heat_ledger().settlements("pool").empty());
    CHECK(f.hub.settlement().accounts(AccountKind::client).empty());

    CHECK(f.call("POST", "/test/api/heat/settle", f.op, settle).status == 200);
    CHECK(f.call("POST", "/api/v1/clients/ann/topup", f.op, top_up).status == 200);
    CHECK(f.hub.heat_ledger().settlements("pool").size() == 1);
}
