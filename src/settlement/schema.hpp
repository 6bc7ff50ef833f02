// SPDX-License-Identifier: Apache-2.0
//
// The settlement tables (schema migration 5). Not installed.
//
// Balances are columns of the account row, updated in the transaction that writes the
// transfer and its entries, so a check of available funds is one indexed row read.
#pragma once

#include <string_view>

namespace sihlicon::settlement {

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE settlement_accounts (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    balance         INTEGER NOT NULL DEFAULT 0,
    pending_debits  INTEGER NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
    pending_credits INTEGER NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
    created_at      INTEGER NOT NULL
);
CREATE INDEX settlement_accounts_by_kind ON settlement_accounts (kind, owner);

CREATE TABLE settlement_transfers (
    id             TEXT PRIMARY KEY,
    debit_account  TEXT NOT NULL REFERENCES settlement_accounts (id),
    credit_account TEXT NOT NULL REFERENCES settlement_accounts (id),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    reference      TEXT NOT NULL,
    phase          TEXT NOT NULL,
    status         TEXT NOT NULL,
    pending_id     TEXT REFERENCES settlement_transfers (id),
    timeout_at     INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX settlement_deposit_refs ON settlement_transfers (reference)
    WHERE kind = 'deposit';
CREATE UNIQUE INDEX settlement_resolutions ON settlement_transfers (pending_id)
    WHERE pending_id IS NOT NULL;
CREATE INDEX settlement_pending_timeouts ON settlement_transfers (timeout_at)
    WHERE status = 'pending' AND timeout_at IS NOT NULL;

CREATE TABLE settlement_entries (
    sequence      INTEGER PRIMARY KEY,
    transfer_id   TEXT NOT NULL REFERENCES settlement_transfers (id),
    account_id    TEXT NOT NULL REFERENCES settlement_accounts (id),
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX settlement_entries_by_account ON settlement_entries (account_id, sequence);

CREATE TABLE settlement_job_charges (
    job_id      TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    job_type    TEXT NOT NULL,
    price       INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    transfer_id TEXT,
    reservation INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL
);

CREATE TABLE settlement_epochs (
    id             TEXT PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    start_at       INTEGER NOT NULL,
    end_at         INTEGER,
    jobs_count     INTEGER NOT NULL DEFAULT 0,
    merkle_root    TEXT,
    revenue        INTEGER NOT NULL DEFAULT 0,
    currency       TEXT NOT NULL,
    signer         TEXT,
    signature      TEXT,
    summary        TEXT,
    artifacts      TEXT
);
CREATE UNIQUE INDEX settlement_one_active ON settlement_epochs (status) WHERE status = 'active';

CREATE TABLE settlement_epoch_jobs (
    job_id       TEXT PRIMARY KEY,
    epoch_number INTEGER NOT NULL,
    client       TEXT NOT NULL,
    worker       TEXT NOT NULL,
    job_type     TEXT NOT NULL,
    hub          TEXT NOT NULL,
    fee          INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    result_hash  TEXT NOT NULL,
    poe_hash     TEXT NOT NULL,
    completed_at INTEGER NOT NULL
);
CREATE INDEX settlement_epoch_jobs_by_epoch ON settlement_epoch_jobs (epoch_number, job_id);

CREATE TABLE settlement_payouts (
    epoch_id        TEXT NOT NULL,
    worker_id       TEXT NOT NULL,
    work_share      INTEGER NOT NULL,
    readiness_share INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    jobs_completed  INTEGER NOT NULL,
    uptime_ms       INTEGER NOT NULL,
    PRIMARY KEY (epoch_id, worker_id)
);
)sql";

// Schema migration 8: an epoch's jobs stored in (epoch, job id) order. Migration 5 kept them
// in a rowid table with a text primary key and an (epoch_number, job_id) index, so that a
// completion wrote three b-trees and reading an epoch in job order looked every row up by
// rowid. Now the rows are the (epoch_number, job_id) b-tree itself: a seal reads its epoch
// front to back, a completion writes two b-trees (the rows and the job-id index a receipt
// looks jobs up by, which also keeps a job in one epoch only). Safe to run again.
inline constexpr std::string_view kEpochJobsInEpochOrder = R"sql(
CREATE TABLE settlement_epoch_jobs_in_epoch_order (
    job_id       TEXT NOT NULL,
    epoch_number INTEGER NOT NULL,
    client       TEXT NOT NULL,
    worker       TEXT NOT NULL,
    job_type     TEXT NOT NULL,
    hub          TEXT NOT NULL,
    fee          INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    result_hash  TEXT NOT NULL,
    poe_hash     TEXT NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (epoch_number, job_id)
) WITHOUT ROWID;
INSERT INTO settlement_epoch_jobs_in_epoch_order (job_id, epoch_number, client, worker, job_type,
    hub, fee, currency, result_hash, poe_hash, completed_at)
    SELECT job_id, epoch_number, client, worker, job_type, hub, fee, currency, result_hash,
           poe_hash, completed_at FROM settlement_epoch_jobs;
DROP TABLE settlement_epoch_jobs;
ALTER TABLE settlement_epoch_jobs_in_epoch_order RENAME TO settlement_epoch_jobs;
CREATE UNIQUE INDEX settlement_epoch_jobs_by_id ON settlement_epoch_jobs (job_id);
)sql";

// Schema migration 11: the money columns hold integers, always. SQLite stores whatever it is
// given in an INTEGER column (a REAL that is not a whole number, text that is not a number) and
// turns an integer sum that overflows into a REAL, so each money column gets
// CHECK (typeof(column) = 'integer'). typeof() is SQLite's; the CHECK belongs to the SQLite
// store only (a PostgreSQL BIGINT column refuses non-integers by its type) and domain SQL never
// relies on it: amounts are computed, with overflow checks, in C++ (journal.cpp).
// STRICT tables would do the same for every column at once, but they also refuse an integer
// bound to a TEXT column and are not in older SQLite builds; the CHECKs name the money.
// SQLite cannot add a CHECK to a table, so each table is rebuilt: copied aside, dropped,
// created anew and refilled, then its indexes recreated. The accounts and transfers are
// parents of foreign keys: dropping them with foreign keys on counts every child row as a
// violation, and refilling them uncounts it, so foreign keys are deferred meanwhile. Turning
// the deferral off again forgets that count (and a write-log batch may share this transaction
// with later writes), so the script proves with foreign_key_check that every child row still
// has its parent (a CHECK refuses a non-zero count) before it turns immediate checks back on. A row
// that is not an integer already fails its CHECK and the migration, so the hub stays at version 10
// and can be repaired. Safe to run again.
inline constexpr std::string_view kIntegerMoney = R"sql(
PRAGMA defer_foreign_keys = ON;

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_accounts;
DROP TABLE settlement_accounts;
CREATE TABLE settlement_accounts (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    balance         INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance) = 'integer'),
    pending_debits  INTEGER NOT NULL DEFAULT 0
                    CHECK (typeof(pending_debits) = 'integer' AND pending_debits >= 0),
    pending_credits INTEGER NOT NULL DEFAULT 0
                    CHECK (typeof(pending_credits) = 'integer' AND pending_credits >= 0),
    created_at      INTEGER NOT NULL
);
INSERT INTO settlement_accounts (id, kind, owner, currency, balance, pending_debits,
    pending_credits, created_at)
    SELECT id, kind, owner, currency, balance, pending_debits, pending_credits, created_at
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE INDEX settlement_accounts_by_kind ON settlement_accounts (kind, owner);

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_transfers;
DROP TABLE settlement_transfers;
CREATE TABLE settlement_transfers (
    id             TEXT PRIMARY KEY,
    debit_account  TEXT NOT NULL REFERENCES settlement_accounts (id),
    credit_account TEXT NOT NULL REFERENCES settlement_accounts (id),
    amount         INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
    currency       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    reference      TEXT NOT NULL,
    phase          TEXT NOT NULL,
    status         TEXT NOT NULL,
    pending_id     TEXT REFERENCES settlement_transfers (id),
    timeout_at     INTEGER,
    created_at     INTEGER NOT NULL
);
INSERT INTO settlement_transfers (id, debit_account, credit_account, amount, currency, kind,
    reference, phase, status, pending_id, timeout_at, created_at)
    SELECT id, debit_account, credit_account, amount, currency, kind, reference, phase, status,
           pending_id, timeout_at, created_at
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE UNIQUE INDEX settlement_deposit_refs ON settlement_transfers (reference)
    WHERE kind = 'deposit';
CREATE UNIQUE INDEX settlement_resolutions ON settlement_transfers (pending_id)
    WHERE pending_id IS NOT NULL;
CREATE INDEX settlement_pending_timeouts ON settlement_transfers (timeout_at)
    WHERE status = 'pending' AND timeout_at IS NOT NULL;

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_entries;
DROP TABLE settlement_entries;
CREATE TABLE settlement_entries (
    sequence      INTEGER PRIMARY KEY,
    transfer_id   TEXT NOT NULL REFERENCES settlement_transfers (id),
    account_id    TEXT NOT NULL REFERENCES settlement_accounts (id),
    amount        INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
    balance_after INTEGER NOT NULL CHECK (typeof(balance_after) = 'integer'),
    at            INTEGER NOT NULL
);
INSERT INTO settlement_entries (sequence, transfer_id, account_id, amount, balance_after, at)
    SELECT sequence, transfer_id, account_id, amount, balance_after, at
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE INDEX settlement_entries_by_account ON settlement_entries (account_id, sequence);

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_job_charges;
DROP TABLE settlement_job_charges;
CREATE TABLE settlement_job_charges (
    job_id          TEXT PRIMARY KEY,
    owner           TEXT NOT NULL,
    job_type        TEXT NOT NULL,
    price           INTEGER NOT NULL CHECK (typeof(price) = 'integer'),
    currency        TEXT NOT NULL,
    transfer_id     TEXT,
    reservation     INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    base_price      INTEGER CHECK (base_price IS NULL OR typeof(base_price) = 'integer'),
    multiplier_ppm  INTEGER NOT NULL DEFAULT 1000000,
    queue_depth     INTEGER NOT NULL DEFAULT 0,
    utilisation_ppm INTEGER NOT NULL DEFAULT 0
);
INSERT INTO settlement_job_charges (job_id, owner, job_type, price, currency, transfer_id,
    reservation, status, base_price, multiplier_ppm, queue_depth, utilisation_ppm)
    SELECT job_id, owner, job_type, price, currency, transfer_id, reservation, status,
           base_price, multiplier_ppm, queue_depth, utilisation_ppm
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_epochs;
DROP TABLE settlement_epochs;
CREATE TABLE settlement_epochs (
    id             TEXT PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    start_at       INTEGER NOT NULL,
    end_at         INTEGER,
    jobs_count     INTEGER NOT NULL DEFAULT 0,
    merkle_root    TEXT,
    revenue        INTEGER NOT NULL DEFAULT 0 CHECK (typeof(revenue) = 'integer'),
    currency       TEXT NOT NULL,
    signer         TEXT,
    signature      TEXT,
    summary        TEXT,
    artifacts      TEXT
);
INSERT INTO settlement_epochs (id, number, status, start_at, end_at, jobs_count, merkle_root,
    revenue, currency, signer, signature, summary, artifacts)
    SELECT id, number, status, start_at, end_at, jobs_count, merkle_root, revenue, currency,
           signer, signature, summary, artifacts
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE UNIQUE INDEX settlement_one_active ON settlement_epochs (status) WHERE status = 'active';

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_epoch_jobs;
DROP TABLE settlement_epoch_jobs;
CREATE TABLE settlement_epoch_jobs (
    job_id       TEXT NOT NULL,
    epoch_number INTEGER NOT NULL,
    client       TEXT NOT NULL,
    worker       TEXT NOT NULL,
    job_type     TEXT NOT NULL,
    hub          TEXT NOT NULL,
    fee          INTEGER NOT NULL CHECK (typeof(fee) = 'integer'),
    currency     TEXT NOT NULL,
    result_hash  TEXT NOT NULL,
    poe_hash     TEXT NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (epoch_number, job_id)
) WITHOUT ROWID;
INSERT INTO settlement_epoch_jobs (job_id, epoch_number, client, worker, job_type, hub, fee,
    currency, result_hash, poe_hash, completed_at)
    SELECT job_id, epoch_number, client, worker, job_type, hub, fee, currency, result_hash,
           poe_hash, completed_at
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE UNIQUE INDEX settlement_epoch_jobs_by_id ON settlement_epoch_jobs (job_id);

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_payouts;
DROP TABLE settlement_payouts;
CREATE TABLE settlement_payouts (
    epoch_id        TEXT NOT NULL,
    worker_id       TEXT NOT NULL,
    work_share      INTEGER NOT NULL CHECK (typeof(work_share) = 'integer'),
    readiness_share INTEGER NOT NULL CHECK (typeof(readiness_share) = 'integer'),
    currency        TEXT NOT NULL,
    jobs_completed  INTEGER NOT NULL,
    uptime_ms       INTEGER NOT NULL,
    PRIMARY KEY (epoch_id, worker_id)
);
INSERT INTO settlement_payouts (epoch_id, worker_id, work_share, readiness_share, currency,
    jobs_completed, uptime_ms)
    SELECT epoch_id, worker_id, work_share, readiness_share, currency, jobs_completed, uptime_ms
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;

CREATE TABLE settlement_money_copy AS SELECT * FROM settlement_market_transactions;
DROP TABLE settlement_market_transactions;
CREATE TABLE settlement_market_transactions (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    buyer_hub    TEXT NOT NULL,
    seller_hub   TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity > 0),
    unit         TEXT NOT NULL,
    unit_price   INTEGER NOT NULL CHECK (typeof(unit_price) = 'integer' AND unit_price > 0),
    total        INTEGER NOT NULL CHECK (typeof(total) = 'integer' AND total > 0),
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    transfer_id  TEXT NOT NULL REFERENCES settlement_transfers (id),
    resolution_id TEXT REFERENCES settlement_transfers (id),
    created_at   INTEGER NOT NULL,
    resolved_at  INTEGER
);
INSERT INTO settlement_market_transactions (id, type, buyer_hub, seller_hub, quantity, unit,
    unit_price, total, currency, status, reference, transfer_id, resolution_id, created_at,
    resolved_at)
    SELECT id, type, buyer_hub, seller_hub, quantity, unit, unit_price, total, currency, status,
           reference, transfer_id, resolution_id, created_at, resolved_at
    FROM settlement_money_copy;
DROP TABLE settlement_money_copy;
CREATE INDEX settlement_market_by_buyer ON settlement_market_transactions (buyer_hub, id);
CREATE INDEX settlement_market_by_seller ON settlement_market_transactions (seller_hub, id);

CREATE TABLE settlement_money_orphans (count INTEGER NOT NULL CHECK (count = 0));
INSERT INTO settlement_money_orphans (count)
    SELECT (SELECT COUNT(*) FROM pragma_foreign_key_check('settlement_transfers'))
         + (SELECT COUNT(*) FROM pragma_foreign_key_check('settlement_entries'))
         + (SELECT COUNT(*) FROM pragma_foreign_key_check('settlement_market_transactions'));
DROP TABLE settlement_money_orphans;
PRAGMA defer_foreign_keys = OFF;
)sql";

}  // namespace sihlicon::settlement
