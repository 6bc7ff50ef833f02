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

}  // namespace sihlicon::settlement
