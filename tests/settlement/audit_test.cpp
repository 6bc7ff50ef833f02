// SPDX-License-Identifier: Apache-2.0
// audit_ledger: the ledger checked against its invariants, and a tampered ledger
// reported naming what broke.
#include "settlement/fixture.hpp"

#include <doctest/doctest.h>

#include <sihlicon/ledger_audit.hpp>

#include <boost/json.hpp>

#include <algorithm>

using namespace sihlicon;
using sihlicon::testing::SettlementFixture;
using sihlicon::testing::usd;

namespace {

// A ledger with top-ups, charged jobs, an open reservation, a withdrawal and a sealed epoch.
void busy_ledger(SettlementFixture& f) {
    f.add_site();
    f.add_worker("bee-01");
    f.settlement().top_up("alice", usd("10"), "tx-1");
    f.settlement().top_up("bob", usd("5"), "tx-2");
    f.run_job("alice", "bee-01");
    f.run_job("bob", "bee-01");
    f.settlement().seal_epoch();
    f.run_job("alice", "bee-01");
    f.scheduler().submit(SettlementFixture::job("bob", JobType::ocr));  // reserved, not run
    f.settlement().withdraw(AccountKind::worker, "bee-01", usd("0.05"), "payout-1");
}

std::string account_id(SettlementFixture& f, AccountKind kind, const std::string& owner) {
    return f.settlement().account(AccountRef{kind, owner, testing::kUsd}).ref.id();
}

bool names(const LedgerAudit& audit, std::string_view check, std::string_view subject) {
    return std::any_of(audit.problems.begin(), audit.problems.end(), [&](const auto& problem) {
        return problem.check == check && problem.subject == subject;
    });
}

}  // namespace

TEST_CASE("a ledger kept by the settlement service audits clean") {
    SettlementFixture f;
    busy_ledger(f);
    const auto audit = audit_ledger(*f.hub);
    for (const auto& problem : audit.problems) {
        FAIL_CHECK(problem.check << " " << problem.subject << ": " << problem.detail);
    }
    CHECK(audit.ok());
    CHECK(audit.accounts >= 5);
    CHECK(audit.transfers >= 6);
    CHECK(audit.entries >= 2 * 5);
    CHECK(audit.epochs == 1);
    const auto json = boost::json::parse(audit.to_json()).as_object();
    CHECK(json.at("ok").as_bool());
    CHECK(json.at("problems").as_array().empty());
    CHECK(json.at("epochs").as_int64() == 1);
}

TEST_CASE("an audit names the account whose balance was changed behind the journal's back") {
    SettlementFixture f;
    busy_ledger(f);
    const auto alice = account_id(f, AccountKind::client, "alice");
    f.database().write([&](store::Transaction& tx) {
        tx.prepare("UPDATE settlement_accounts SET balance = balance + 1000000 WHERE id = ?")
            .bind_all(alice)
            .step();
    });
    const auto audit = audit_ledger(*f.hub);
    CHECK_FALSE(audit.ok());
    CHECK(names(audit, "balance", alice));
    CHECK(names(audit, "total", "USD"));  // the whole no longer sums to zero
    const auto json = audit.to_json();
    CHECK(json.find(alice) != std::string::npos);
    CHECK(boost::json::parse(json).at("ok").as_bool() == false);
}

TEST_CASE("an audit reports a forged entry, a lost reservation and a rewritten epoch root") {
    SettlementFixture f;
    busy_ledger(f);
    const auto bob = account_id(f, AccountKind::client, "bob");
    std::string transfer;
    f.database().write([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT transfer_id FROM settlement_entries WHERE account_id = ? ORDER BY sequence "
            "LIMIT 1");
        row.bind_all(bob);
        REQUIRE(row.step());
        transfer = row.column_text(0);
        // One leg of a transfer made larger, its account's balance made to match: the account
        // still sums, the transfer no longer does.
        tx.prepare(
              "UPDATE settlement_entries SET amount = amount + 7 WHERE transfer_id = ? AND "
              "account_id = ?")
            .bind_all(transfer, bob)
            .step();
        tx.prepare(
              "UPDATE settlement_entries SET balance_after = balance_after + 7 WHERE "
              "account_id = ? AND sequence = (SELECT MAX(sequence) FROM settlement_entries "
              "WHERE account_id = ?)")
            .bind_all(bob, bob)
            .step();
        tx.prepare("UPDATE settlement_accounts SET balance = balance + 7 WHERE id = ?")
            .bind_all(bob)
            .step();
        // The open reservation forgotten.
        tx.prepare("UPDATE settlement_accounts SET pending_debits = 0 WHERE id = ?")
            .bind_all(bob)
            .step();
        tx.exec("UPDATE settlement_epochs SET merkle_root = '" + std::string(64, '0') +
                "' WHERE number = 1");
    });
    const auto audit = audit_ledger(*f.hub);
    CHECK_FALSE(audit.ok());
    CHECK_FALSE(names(audit, "balance", bob));
    CHECK(names(audit, "transfer", transfer));
    CHECK(names(audit, "pending", bob));
    CHECK(names(audit, "merkle_root", "epoch-000001"));
}
