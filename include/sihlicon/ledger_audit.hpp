// SPDX-License-Identifier: Apache-2.0
//
// The settlement ledger checked against its own invariants: what `sihlicon ledger audit`
// reports. An operator's tool, not served over HTTP (it names every account).
#pragma once

#include <sihlicon/export.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sihlicon {

class Hub;

// What audit_ledger() found, each broken invariant a problem naming the account, transfer or
// epoch.
struct SIHLICON_API LedgerAudit {
    struct Problem {
        // "balance" (an account's balance is not the sum of its entries, or not its last
        // entry's balance_after), "pending" (an account's pending debits or credits are not the
        // sums of its open reservations), "available" (a non-external account's pending debits
        // exceed its balance), "transfer" (a transfer's entries do not sum to zero: a split
        // that is not the whole; or entries name a transfer that does not exist), "total" (a
        // currency's balances do not sum to zero), "merkle_root" (a finalized epoch's root or
        // job count does not recompute from its jobs).
        std::string check;
        std::string subject;  // the account, transfer or epoch id; the currency for "total"
        std::string detail;   // what was found, e.g. "balance 100, its entries sum to 90"
    };
    std::int64_t accounts = 0;      // accounts checked
    std::int64_t transfers = 0;     // transfers checked
    std::int64_t entries = 0;       // entries read
    std::int64_t epochs = 0;        // finalized epochs whose Merkle tree was rebuilt
    std::vector<Problem> problems;  // in the order of the checks above, each by subject

    bool ok() const noexcept { return problems.empty(); }
    // {"ok", "accounts", "transfers", "entries", "epochs", "problems": [{"check", "subject",
    // "detail"}]}.
    std::string to_json() const;
};

// Checks the whole ledger of `hub` (Settlement's journal and epochs) against its invariants:
// every account's balance is the sum of its entries, its pending amounts the sums of its open
// reservations and (but for external accounts) its pending debits at most its balance; every
// transfer's entries sum to zero; each currency's balances sum to zero; every finalized
// epoch's Merkle root and job count recompute from its jobs. Reads only: one read transaction
// for the journal, then one per epoch tree. A broken ledger is reported, never thrown; throws
// only what reading the hub throws (Error(conflict) for a closed hub, Error(io)).
SIHLICON_API LedgerAudit audit_ledger(const Hub& hub);

}  // namespace sihlicon
