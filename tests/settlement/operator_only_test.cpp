// SPDX-License-Identifier: Apache-2.0
//
// The operator-only actions are checked in the core: every form that takes an acting
// principal refuses anyone but the hub operator with permission_denied (field "by") and
// changes nothing; the operator's call does what the in-process form does.
#include "settlement/fixture.hpp"

#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/heat_ledger.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace sihlicon;
using namespace sihlicon::testing;

namespace {

// `action` throws permission_denied naming field "by".
void check_refused(const std::function<void()>& action, const std::string& what) {
    CAPTURE(what);
    try {
        action();
        FAIL("accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::permission_denied);
        CHECK(error.field() == "by");
    }
}

ManualHeat heat_of(const std::string& hub_id, Timestamp at) {
    ManualHeat heat;
    heat.hub_id = hub_id;
    heat.tag = "pool heater";
    heat.at = at;
    heat.thermal = Energy::kilowatt_hours(10);
    return heat;
}

}  // namespace

TEST_CASE(
    "a client, a worker or an empty principal is refused every operator-only action, "
    "which then changes nothing") {
    SettlementFixture f;
    f.add_site();
    auto& ledger = f.hub->heat_ledger();
    auto& settlement = f.settlement();
    const auto start = f.clock->now();
    ledger.record(heat_of("zurich", start));
    f.clock->advance(std::chrono::hours(1));
    const auto end = f.clock->now();
    settlement.top_up(kOperatorPrincipal, "ann", usd("10"), "0xfund");
    MarketRequest market;
    market.id = "m-1";
    market.buyer_hub = "zurich";
    market.seller_hub = "zurich";
    const auto key = crypto::PrivateKey::generate();
    const auto epochs_before = settlement.epochs().size();
    const auto address_before = settlement.operator_address();

    for (const std::string by : {"ann", "worker-a", "", "Operator", "operator "}) {
        check_refused([&] { ledger.settle(by, "zurich", start, end); }, "settle " + by);
        check_refused(
            [&] {
                ledger.set_credit_rate(by, "zurich", Money::parse("0.10", Currency::of("CHF")),
                                       end);
            },
            "credit rate " + by);
        check_refused([&] { settlement.top_up(by, "ann", usd("5"), "0xmine"); }, "top_up " + by);
        check_refused(
            [&] {
                settlement.top_up(by, AccountRef{AccountKind::client, "ann", kUsd}, usd("5"),
                                  "0xmine2");
            },
            "top_up account " + by);
        check_refused([&] { settlement.withdraw(by, AccountKind::client, "ann", usd("1"), "w-1"); },
                      "withdraw " + by);
        check_refused([&] { settlement.seal_epoch(by); }, "seal " + by);
        check_refused([&] { settlement.seal_due_epoch(by); }, "seal due " + by);
        check_refused([&] { settlement.generate_operator_key(by, true); }, "generate key " + by);
        check_refused([&] { settlement.import_operator_key(by, key, true); }, "import key " + by);
        check_refused([&] { settlement.create_market_transaction(by, market); }, "market " + by);
        check_refused([&] { settlement.settle_market_transaction(by, "m-1"); }, "settle m " + by);
        check_refused([&] { settlement.cancel_market_transaction(by, "m-1"); }, "cancel m " + by);
    }
    // Nothing changed.
    CHECK(ledger.settlements("zurich").empty());
    CHECK(ledger.credit_rates("zurich").size() == 1);  // the implicit default only
    CHECK(settlement.account(AccountRef{AccountKind::client, "ann", kUsd}).balance == usd("10"));
    CHECK(settlement.epochs().size() == epochs_before);
    CHECK(settlement.operator_address() == address_before);
    CHECK(settlement.market_transactions().empty());
}

TEST_CASE("the operator's principal form does what the in-process form does") {
    SettlementFixture f;
    f.add_site();
    auto& ledger = f.hub->heat_ledger();
    auto& settlement = f.settlement();
    const auto start = f.clock->now();
    ledger.record(heat_of("zurich", start));
    f.clock->advance(std::chrono::hours(1));
    const auto end = f.clock->now();

    const auto settled = ledger.settle(kOperatorPrincipal, "zurich", start, end);
    CHECK(settled.credit.minor_units() == 50);
    CHECK(ledger.settlements("zurich").size() == 1);
    CHECK(ledger
              .set_credit_rate(kOperatorPrincipal, "zurich",
                               Money::parse("0.10", Currency::of("CHF")), end)
              .per_kwh == Money::parse("0.10", Currency::of("CHF")));
    settlement.top_up(kOperatorPrincipal, "ann", usd("10"), "0xfund");
    settlement.top_up(kOperatorPrincipal, AccountRef{AccountKind::client, "bob", kUsd}, usd("3"),
                      "0xfund2");
    CHECK(settlement.withdraw(kOperatorPrincipal, AccountKind::client, "ann", usd("4"), "w-1")
              .amount == usd("4"));
    CHECK(settlement.account(AccountRef{AccountKind::client, "ann", kUsd}).balance == usd("6"));
    const auto sealed = settlement.seal_epoch(kOperatorPrincipal);
    CHECK(sealed.status == EpochStatus::finalized);
    CHECK(!settlement.seal_due_epoch(kOperatorPrincipal));
    const auto key = crypto::PrivateKey::generate();
    CHECK(settlement.import_operator_key(kOperatorPrincipal, key, true) == key.address());
    CHECK(settlement.generate_operator_key(kOperatorPrincipal, true) != key.address());
}
