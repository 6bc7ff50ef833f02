// SPDX-License-Identifier: Apache-2.0
//
// What the content store's source files share, and what other services of the library may
// ask of it inside their own transactions. Not installed.
#pragma once

#include "cas/blob_lock.hpp"
#include "hub/hub_core.hpp"
#include "store/database.hpp"

#include <sihlicon/content_store.hpp>

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::cas {

// True if at least one manifest (of any owner) exists for `content_id`, inside the caller's
// transaction. For the scheduler's input checks. Never throws on an unknown CID.
bool manifest_exists(store::Transaction& tx, std::string_view content_id);

// Reads a manifest row set: every manifest of `content_id` (all owners), oldest first.
std::vector<Manifest> manifests_of(store::Transaction& tx, std::string_view content_id);

// True if `principal` may read `manifest` (see content_store.hpp).
bool can_read(store::Transaction& tx, const Manifest& manifest, std::string_view principal);

// Fills manifest.replica_hubs from cas_replicas.
void load_replica_hubs(store::Transaction& tx, Manifest& manifest);

// Rendezvous placement: up to `count` hub ids from `hubs` (id, site, region), by descending
// xxh3(cid "/" hub id), one per site first, only in `allowed_regions` (empty: any), skipping
// `excluded` hubs and, in the first pass, `used_sites`.
struct HubPlace {
    std::string id;
    std::string site;
    std::string region;
};
std::vector<std::string> place_replicas(std::string_view content_id,
                                        const std::vector<HubPlace>& hubs, std::size_t count,
                                        const std::vector<std::string>& allowed_regions,
                                        const std::vector<std::string>& excluded,
                                        const std::vector<std::string>& used_sites);
std::vector<HubPlace> all_hubs(store::Transaction& tx);

// Throws Error(invalid_argument) naming the field for an owner or PutOptions that put_stream
// would refuse.
void validate_put(std::string_view owner, const PutOptions& options);

// Verifies `bytes` hash to `cid`; throws Error(integrity) naming the block otherwise.
void verify_block(const Cid& cid, std::span<const std::uint8_t> bytes);

// Reads and verifies one block, or throws Error(integrity) (missing or corrupt).
std::vector<std::uint8_t> read_verified(BlobBackend& backend, StorageTier tier, const Cid& cid);

// Visits every block of the DAG under `root` once, depth-first, verified.
void walk_dag(BlobBackend& backend, StorageTier tier, const Cid& root,
              const std::function<void(const Cid&, std::span<const std::uint8_t>)>& visit);

}  // namespace sihlicon::cas

namespace sihlicon {

struct ContentStore::Impl {
    detail::HubCore& core;
    std::shared_ptr<BlobBackend> backend;
    // Between puts and removals, in this process and across processes (see blob_lock.hpp).
    mutable cas::BlobLock blocks_mutex;

    explicit Impl(detail::HubCore& hub_core);

    // The manifest of `content_id` that `principal` may read (their own first), checked in
    // the caller's transaction; throws not_found / permission_denied.
    Manifest visible_manifest(store::Transaction& tx, const std::string& content_id,
                              std::string_view principal) const;

    // Records a manifest for an already stored DAG (blocks durable in `options.storage_tier`)
    // in one transaction: quota checks, block list, upload volume, replica placement.
    Manifest record(const Cid& root, std::uint64_t file_size,
                    const std::vector<std::pair<Cid, std::uint64_t>>& blocks,
                    std::string_view owner, const PutOptions& options);
    // The same inside the caller's write transaction, so that several roots are recorded (and
    // counted against the quota) all or none.
    Manifest record_in(store::Transaction& tx, const Cid& root, std::uint64_t file_size,
                       const std::vector<std::pair<Cid, std::uint64_t>>& blocks,
                       std::string_view owner, const PutOptions& options);

    // Removes, under the exclusive lock, blocks among `candidates` of `tier` that no manifest
    // of that tier references.
    void drop_unreferenced(StorageTier tier, const std::vector<Cid>& candidates);
};

}  // namespace sihlicon
