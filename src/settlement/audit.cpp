// SPDX-License-Identifier: Apache-2.0
//
// audit_ledger (include/sihlicon/ledger_audit.hpp): every invariant of the journal (balances,
// pending amounts, transfers, totals) recomputed from the entries and transfers in one read
// transaction, then every finalized epoch's Merkle tree rebuilt from its jobs. Sums are taken in
// 128 bits by SQLite's integer arithmetic where they cannot overflow int64 (amounts are int64,
// their count bounded by the table); a sum that would overflow is itself reported (SQLite raises
// "integer overflow").
#include "core/json.hpp"
#include "hub/hub_internal.hpp"
#include "settlement/epochs.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/ledger_audit.hpp>

#include <fmt/format.h>

namespace sihlicon {

namespace settlement {

namespace {

void journal_checks(store::Transaction& tx, LedgerAudit& audit) {
    auto& problems = audit.problems;
    // An account's balance against its entries: their sum, and the last one's balance_after.
    auto accounts = tx.prepare(
        "SELECT a.id, a.kind, a.balance, a.pending_debits, a.pending_credits,"
        " (SELECT COALESCE(SUM(e.amount), 0) FROM settlement_entries e WHERE e.account_id = a.id),"
        " (SELECT COUNT(*) FROM settlement_entries e WHERE e.account_id = a.id),"
        " (SELECT e.balance_after FROM settlement_entries e WHERE e.account_id = a.id"
        "  ORDER BY e.sequence DESC LIMIT 1),"
        " (SELECT COALESCE(SUM(t.amount), 0) FROM settlement_transfers t WHERE t.phase = 'pending'"
        "  AND t.status = 'pending' AND t.debit_account = a.id),"
        " (SELECT COALESCE(SUM(t.amount), 0) FROM settlement_transfers t WHERE t.phase = 'pending'"
        "  AND t.status = 'pending' AND t.credit_account = a.id)"
        " FROM settlement_accounts a ORDER BY a.id");
    std::vector<LedgerAudit::Problem> pending;
    std::vector<LedgerAudit::Problem> available;
    while (accounts.step()) {
        ++audit.accounts;
        const auto id = accounts.column_text(0);
        const auto kind = accounts.column_text(1);
        const auto balance = accounts.column_int64(2);
        const auto debits = accounts.column_int64(3);
        const auto credits = accounts.column_int64(4);
        const auto entries_sum = accounts.column_int64(5);
        audit.entries += accounts.column_int64(6);
        if (balance != entries_sum) {
            problems.push_back(
                {"balance", id,
                 fmt::format("balance {}, its entries sum to {}", balance, entries_sum)});
        } else if (accounts.column_int64(6) > 0 && accounts.column_int64(7) != balance) {
            problems.push_back({"balance", id,
                                fmt::format("balance {}, its last entry's balance_after {}",
                                            balance, accounts.column_int64(7))});
        }
        const auto open_debits = accounts.column_int64(8);
        const auto open_credits = accounts.column_int64(9);
        if (debits != open_debits || credits != open_credits) {
            pending.push_back(
                {"pending", id,
                 fmt::format("pending debits {} and credits {}, its open reservations {} and {}",
                             debits, credits, open_debits, open_credits)});
        }
        if (kind != "external" && debits > balance) {
            available.push_back(
                {"available", id,
                 fmt::format("pending debits {} exceed its balance {}", debits, balance)});
        }
    }
    problems.insert(problems.end(), pending.begin(), pending.end());
    problems.insert(problems.end(), available.begin(), available.end());

    // Double entry: each transfer's entries sum to zero (posted ones have two, reservations
    // none).
    auto transfers = tx.prepare(
        "SELECT t.id, (SELECT COALESCE(SUM(e.amount), 0) FROM settlement_entries e"
        " WHERE e.transfer_id = t.id) FROM settlement_transfers t ORDER BY t.id");
    while (transfers.step()) {
        ++audit.transfers;
        if (const auto sum = transfers.column_int64(1); sum != 0) {
            problems.push_back({"transfer", transfers.column_text(0),
                                fmt::format("its entries sum to {}, not 0", sum)});
        }
    }
    auto orphans = tx.prepare(
        "SELECT e.transfer_id, SUM(e.amount) FROM settlement_entries e WHERE NOT EXISTS"
        " (SELECT 1 FROM settlement_transfers t WHERE t.id = e.transfer_id)"
        " GROUP BY e.transfer_id ORDER BY e.transfer_id");
    while (orphans.step()) {
        problems.push_back(
            {"transfer", orphans.column_text(0),
             fmt::format("entries summing to {} name no transfer", orphans.column_int64(1))});
    }

    // The whole: every currency's balances sum to zero (external accounts hold the outside).
    auto totals = tx.prepare(
        "SELECT currency, SUM(balance) FROM settlement_accounts GROUP BY currency"
        " HAVING SUM(balance) != 0 ORDER BY currency");
    while (totals.step()) {
        problems.push_back({"total", totals.column_text(0),
                            fmt::format("the balances sum to {}, not 0", totals.column_int64(1))});
    }
}

}  // namespace

LedgerAudit audit(store::Database& database) {
    LedgerAudit audit;
    const auto epochs = database.read([&](store::Transaction& tx) {
        journal_checks(tx, audit);
        return load_epochs(tx);
    });
    for (const auto& epoch : epochs) {
        if (epoch.status != EpochStatus::finalized) {
            continue;
        }
        ++audit.epochs;
        const auto tree = epoch_tree(database, epoch.number);
        const auto root = crypto::to_hex(tree.tree.root());
        if (root != epoch.jobs_merkle_root ||
            static_cast<std::int64_t>(tree.tree.size()) != epoch.jobs_count) {
            audit.problems.push_back(
                {"merkle_root", epoch.id,
                 fmt::format("root {} over {} jobs, its jobs recompute {} over {}",
                             epoch.jobs_merkle_root, epoch.jobs_count, root, tree.tree.size())});
        }
    }
    return audit;
}

}  // namespace settlement

LedgerAudit audit_ledger(const Hub& hub) {
    return settlement::audit(HubAccess::database(hub));
}

std::string LedgerAudit::to_json() const {
    boost::json::array list;
    for (const auto& problem : problems) {
        list.push_back(boost::json::object{
            {"check", problem.check}, {"subject", problem.subject}, {"detail", problem.detail}});
    }
    json::ObjectWriter writer;
    writer.field("ok", ok())
        .field("accounts", accounts)
        .field("transfers", transfers)
        .field("entries", entries)
        .field("epochs", epochs)
        .field("problems", boost::json::value(std::move(list)));
    return writer.finish();
}

}  // namespace sihlicon
