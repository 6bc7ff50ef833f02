// SPDX-License-Identifier: Apache-2.0
//
// Epochs inside transactions: the active epoch, the two steps of a seal, and the queries.
// A seal is begin_seal (one write: the active epoch becomes `sealing` with its end fixed, the
// next one opens) then finish_seal (read the jobs, build and sign the bundle, store its files
// in the content store, then one write that posts the payouts under ids derived from the
// epoch id and marks it `finalized`). Every step after the first is deterministic and
// idempotent, so a seal interrupted anywhere is finished by the next seal_epoch(). Not
// installed.
#pragma once

#include "hub/hub_core.hpp"
#include "settlement/leaves.hpp"
#include "store/database.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/settlement.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::settlement {

// The number of the active epoch, opening epoch 1 (starting `now`) or the one after the last
// when none is active. REQUIRES: `tx` is a write transaction.
std::int64_t ensure_active_epoch(store::Transaction& tx, const Currency& currency, Timestamp now);

// The number of the epoch being sealed: one already `sealing`, else the active one, which
// becomes `sealing` with end `now` while the next opens at `now`.
std::int64_t begin_seal(store::Transaction& tx, const Currency& currency, Timestamp now);

// Test-only: called at named points of finish_seal, so a test can kill the process there:
// "stored:<file>" after each bundle file is in the content store, "commit:begin" and
// "commit:end" inside the final write (before and after its payouts, before it commits), and
// "committed" after it. Empty in production.
using SealFaultPoint = std::function<void(std::string_view point)>;

// Finishes the seal of epoch `number` (see the file comment); returns it finalized. The
// readiness pool is shared by each worker's uptime within the epoch (uptime_within, with the
// scheduler's missed-heartbeat limit `offline_after`).
EpochRecord finish_seal(detail::HubCore& core, ContentStore& content_store,
                        const crypto::Signer& signer, const HubSettings& options,
                        std::chrono::milliseconds offline_after, std::int64_t number,
                        const SealFaultPoint& fault = {});

// True if an epoch is sealing, or the active one started at least `duration_ms` before `now`.
bool seal_is_due(store::Transaction& tx, Timestamp now, std::int64_t duration_ms);

EpochRecord load_epoch(store::Transaction& tx, std::string_view epoch_id);
EpochRecord load_epoch_by_number(store::Transaction& tx, std::int64_t number);
std::vector<EpochRecord> load_epochs(store::Transaction& tx);
std::vector<EpochJob> load_epoch_jobs(store::Transaction& tx, std::int64_t number);
std::vector<Payout> load_payouts(store::Transaction& tx, std::string_view epoch_id);
// What receipts of a finalized epoch need: its Merkle tree, and the marks (see LeafMark) by
// which a job's place is found counting at most kMarkEvery ids.
struct EpochTree {
    crypto::MerkleTree tree;
    std::vector<LeafMark> marks;
};
// The EpochTree of epoch `number` (finalized: its jobs no longer change), rebuilt from its
// leaves read on several read transactions at once.
EpochTree epoch_tree(store::Database& database, std::int64_t number);
// Gives the EpochTree of a finalized epoch by number, for example from a cache.
using EpochTreeSource = std::function<std::shared_ptr<const EpochTree>(std::int64_t)>;
// The receipt of a job in a finalized epoch (Settlement::receipt). Its tree comes from
// `tree_of`, or is rebuilt (epoch_tree) when that is empty.
std::string receipt_of(store::Database& database, std::string_view job_id,
                       const EpochTreeSource& tree_of = {});

// The receipt document of leaf `index` of a finalized epoch whose leaves built `tree`.
std::string make_receipt(const EpochRecord& epoch, const std::vector<std::string>& leaves,
                         const crypto::MerkleTree& tree, std::size_t index);
std::string make_receipt(const EpochRecord& epoch, std::string_view leaf, std::size_t tree_size,
                         const crypto::MerkleTree& tree, std::size_t index);

// "epoch-000042".
std::string epoch_id_of(std::int64_t number);

}  // namespace sihlicon::settlement
