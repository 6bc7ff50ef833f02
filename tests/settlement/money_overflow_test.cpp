// SPDX-License-Identifier: Apache-2.0
//
// Money never overflows silently: every balance, pending amount, balance_after,
// market settlement, payout and total is computed with checked int64 arithmetic before it is
// written, and a result outside int64 is refused with invalid_argument naming the account.
#include "settlement/fixture.hpp"
#include "support/errors.hpp"

#include <doctest/doctest.h>

#include <sihlicon/error.hpp>
#include <sihlicon/settlement.hpp>

#include <limits>
#include <string>

using namespace sihlicon;
using sihlicon::testing::error_from;
using sihlicon::testing::error_of;
using sihlicon::testing::kUsd;
using sihlicon::testing::SettlementFixture;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// The Error `action` throws; fails the test if it throws nothing.

bool mentions(const Error& error, std::string_view text) {
    return std::string(error.what()).find(text) != std::string::npos;
}

AccountRef account(AccountKind kind, std::string owner) {
    return AccountRef{kind, std::move(owner), kUsd};
}

// Moves `amount` into `to` from an external account of its own, so that no two fundings share
// an external balance (each may reach -(2^63 - 1)).
void fund(SettlementFixture& f, const AccountRef& to, std::int64_t amount) {
    TransferRequest request;
    request.id = "fund-" + to.owner;
    request.debit = account(AccountKind::external, "source-" + to.owner);
    request.credit = to;
    request.amount = Money(amount, kUsd);
    f.settlement().transfer(request);
}

}  // namespace

TEST_CASE(
    "a top-up that would overflow a balance is refused naming the account; nothing "
    "changes") {
    SettlementFixture f;
    f.settlement().top_up("alice", Money(kMax, kUsd), "tx-1");
    const auto entries = f.count("SELECT COUNT(*) FROM settlement_entries");
    const auto transfers = f.count("SELECT COUNT(*) FROM settlement_transfers");

    const auto error = error_from([&] { f.settlement().top_up("alice", Money(1, kUsd), "tx-2"); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "amount");
    CHECK(mentions(error, "client/alice/USD"));
    CHECK(mentions(error, "overflows"));
    CHECK(f.balance(AccountKind::client, "alice") == Money(kMax, kUsd));
    CHECK(f.count("SELECT COUNT(*) FROM settlement_entries") == entries);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_transfers") == transfers);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_accounts WHERE typeof(balance) <> 'integer'") ==
          0);
}

TEST_CASE("a movement whose balance_after would pass the int64 minimum is refused") {
    SettlementFixture f;
    // The outside world may go below zero, but not below -2^63.
    f.settlement().top_up("alice", Money(kMax, kUsd), "tx-1");  // bank: -(2^63 - 1)
    f.settlement().top_up("bob", Money(1, kUsd), "tx-2");       // bank: -2^63
    const auto entries = f.count("SELECT COUNT(*) FROM settlement_entries");
    const auto error = error_from([&] { f.settlement().top_up("carol", Money(1, kUsd), "tx-3"); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(mentions(error, "external/"));
    CHECK(f.count("SELECT COUNT(*) FROM settlement_entries") == entries);
    CHECK(error_of([&] { f.settlement().account(account(AccountKind::client, "carol")); }) ==
          ErrorCode::not_found);
    CHECK(f.count("SELECT MIN(balance_after) FROM settlement_entries") ==
          std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("a reservation that would overflow pending credits is refused naming the account") {
    SettlementFixture f;
    fund(f, account(AccountKind::client, "alice"), kMax);
    fund(f, account(AccountKind::client, "bob"), 5);
    TransferRequest reserve;
    reserve.id = "reserve-1";
    reserve.debit = account(AccountKind::client, "alice");
    reserve.credit = account(AccountKind::worker, "bee-01");
    reserve.amount = Money(kMax, kUsd);
    reserve.pending = true;
    f.settlement().transfer(reserve);
    reserve.id = "reserve-2";
    reserve.debit = account(AccountKind::client, "bob");
    reserve.amount = Money(5, kUsd);
    const auto error = error_from([&] { f.settlement().transfer(reserve); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(mentions(error, "worker/bee-01/USD"));
    CHECK(mentions(error, "pending credits"));
    const auto bob = f.settlement().account(account(AccountKind::client, "bob"));
    CHECK(bob.pending_debits == Money(0, kUsd));
    CHECK(f.settlement().account(reserve.credit).pending_credits == Money(kMax, kUsd));
    CHECK(error_of([&] { f.settlement().transfer_by_id("reserve-2"); }) == ErrorCode::not_found);
}

TEST_CASE("settling a market transaction that would overflow the seller's balance is refused") {
    SettlementFixture f;
    f.add_site("zurich");
    f.add_site("basel");
    fund(f, account(AccountKind::hub_operator, "basel"), kMax);
    fund(f, account(AccountKind::hub_operator, "zurich"), 100);
    MarketRequest request;
    request.id = "m-1";
    request.buyer_hub = "zurich";
    request.seller_hub = "basel";
    request.quantity = 10;
    request.unit_price = Money(10, kUsd);
    const auto created = f.settlement().create_market_transaction(request);
    CHECK(created.total == Money(100, kUsd));

    const auto error = error_from([&] { f.settlement().settle_market_transaction("m-1"); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(mentions(error, "hub_operator/basel/USD"));
    CHECK(f.settlement().market_transaction("m-1").status == MarketStatus::pending);
    CHECK(f.balance(AccountKind::hub_operator, "basel") == Money(kMax, kUsd));
    CHECK(f.balance(AccountKind::hub_operator, "zurich") == Money(100, kUsd));
    // A total that does not fit int64 was refused before (quantity x unit price).
    request.id = "m-2";
    request.quantity = kMax;
    CHECK(error_of([&] { f.settlement().create_market_transaction(request); }) ==
          ErrorCode::invalid_argument);
}

TEST_CASE("an epoch whose payout would overflow a worker's balance is not sealed") {
    SettlementFixture f;
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", Money::parse("1", kUsd), "tx-1");
    fund(f, account(AccountKind::worker, "bee-01"), kMax);
    f.run_job("alice", "bee-01");
    const auto escrow = f.balance(AccountKind::escrow, "hub");
    REQUIRE(escrow.minor_units() > 0);

    const auto error = error_from([&] { f.settlement().seal_epoch(); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(mentions(error, "worker/bee-01/USD"));
    CHECK(f.balance(AccountKind::worker, "bee-01") == Money(kMax, kUsd));
    CHECK(f.balance(AccountKind::escrow, "hub") == escrow);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_payouts") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM settlement_epochs WHERE status = 'finalized'") == 0);
}

TEST_CASE("deposit totals beyond int64 are refused naming the currency, not summed in SQL") {
    SettlementFixture f;
    f.settlement().top_up("alice", Money(kMax, kUsd), "tx-1");
    f.settlement().withdraw(AccountKind::client, "alice", Money(kMax, kUsd), "w-1");
    f.settlement().top_up("alice", Money(1, kUsd), "tx-2");
    CHECK(f.settlement().withdrawals().at("USD") == kMax);
    const auto error = error_from([&] { f.settlement().deposits(); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(mentions(error, "USD"));
}
