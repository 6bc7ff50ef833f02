// SPDX-License-Identifier: Apache-2.0
//
// What the content store's source files share, and what other services of the library may
// ask of it inside their own transactions. Not installed.
#pragma once

#include "cas/blob_lock.hpp"
#include "cas/disk_reserve.hpp"
#include "cas/put_journal.hpp"
#include "hub/hub_core.hpp"
#include "store/database.hpp"

#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::cas {

// Validates a principal (or an id of the same shape: a community id): non-empty, at most 256
// bytes. Throws Error::invalid naming `field`.
void check_principal(std::string_view principal, std::string_view field);

// The one error for content that does not exist or that the caller may not read (no existence
// oracle): not_found, "no content <CID>", field contentId.
Error no_content(std::string_view content_id);

// Who may read a manifest row named m: the SQL twin of can_read, bound to the principal as ?1.
inline constexpr std::string_view kVisibleTo =
    "(m.access_level = 'public' OR (?1 <> '' AND (m.owner = ?1 OR (m.access_level = "
    "'community' AND EXISTS (SELECT 1 FROM cas_community_members a JOIN cas_community_members b "
    "ON a.community_id = b.community_id WHERE a.principal = m.owner AND b.principal = ?1)))))";

// True if `principal` may read at least one manifest of `content_id` (false when none exists).
bool readable(store::Transaction& tx, std::string_view content_id, std::string_view principal);

// The columns of cas_manifests in the order read_manifest() reads them.
inline constexpr std::string_view kManifestColumns =
    "content_id, owner, file_name, file_size_bytes, mime_type, storage_tier, access_level, "
    "min_replicas, source_hub_id, metadata, allowed_regions, created_at";
// A manifest from a row of kManifestColumns (replica_hubs left empty).
Manifest read_manifest(store::Statement& row);
// allowed_regions as stored: joined by commas (regions hold none).
std::string join_regions(const std::vector<std::string>& regions);

// Validates a put's owner and options; throws Error::invalid naming the field.
void validate_put(std::string_view owner, const PutOptions& options);

// The limits that apply to `owner` (its own row, else "*", else the defaults).
Quota quota_in(store::Transaction& tx, std::string_view owner);

// Throws quota_exceeded (field "owner") when `owner` may not upload `bytes` more now: the
// hour's upload volume or the total would be exceeded. std::nullopt: the size is not known
// yet; refuse only when the hour's volume or the total is already used up.
void check_quota(store::Transaction& tx, std::string_view owner, std::optional<std::int64_t> bytes,
                 Timestamp now);

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

// Throws Error(not_found, field "sourceHubId") when `source_hub_id` is given and names no hub
// of the hubs table (read through all_hubs).
void check_source_hub(store::Transaction& tx, const std::optional<std::string>& source_hub_id);

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
    // `journaled` wrapping the local folders or a host's backend (see put_journal.hpp).
    std::shared_ptr<cas::JournaledBackend> journaled;
    std::shared_ptr<BlobBackend> backend;  // == journaled
    // Between puts and removals, in this process and across processes (see blob_lock.hpp).
    mutable cas::BlobLock blocks_mutex;
    // Room for a removal to commit on a full disk (see disk_reserve.hpp).
    cas::DiskReserve reserve;

    // Also removes what puts that died left behind, unless another put is in progress.
    explicit Impl(detail::HubCore& hub_core);

    // Wraps `inner` in a journal under the blob folder and makes it the backend.
    void set_backend(std::shared_ptr<BlobBackend> inner);

    // Removes the blocks that abandoned put journals name and no manifest of their tier
    // references, then the journals. Returns how many blocks it removed.
    // REQUIRES: blocks_mutex held exclusively.
    std::int64_t drop_abandoned_puts();

    // Runs `action` (a removal's transaction, or a whole collection); when it fails with
    // Error(io) -- a full disk refuses the log's append -- releases the reserve and runs it
    // once more. The caller refills the reserve once it has unlinked its blocks (refilling
    // earlier would take back the room the blocks' unlinks still need the log for).
    template <typename Action>
    decltype(auto) freeing_space(const Action& action) {
        try {
            return action();
        } catch (const Error& error) {
            if (error.code() != ErrorCode::io || !reserve.release()) {
                throw;
            }
        }
        return action();
    }

    // core.database->write(body) under freeing_space.
    template <typename Body>
    decltype(auto) write_freeing_space(const Body& body) {
        return freeing_space([&]() -> decltype(auto) { return core.database->write(body); });
    }

    // The manifest of `content_id` that `principal` may read (their own first), checked in
    // the caller's transaction; throws cas::no_content when there is none.
    Manifest visible_manifest(store::Transaction& tx, const std::string& content_id,
                              std::string_view principal) const;
    // The principal's own manifest of `content_id`; throws cas::no_content when the principal
    // may read none, permission_denied when it may read one but owns none.
    Manifest owned_manifest(store::Transaction& tx, const std::string& content_id,
                            std::string_view principal) const;

    // What record() did: the owner's manifest as it now is, and the tier its blocks left
    // when an existing manifest moved to options.storage_tier (the caller then drops the
    // blocks no manifest of that tier references any more, see vacate()).
    struct Recorded {
        Manifest manifest;
        std::optional<StorageTier> vacated;
    };
    // Records a manifest for an already stored DAG (blocks durable in `options.storage_tier`)
    // in one transaction: quota checks, block list, upload volume, replica placement. When
    // the owner already has a manifest of the root, it is returned unchanged if `options`
    // states the same metadata, else updated to them (see put_stream in content_store.hpp);
    // no bytes are counted either way.
    Recorded record(const Cid& root, std::uint64_t file_size,
                    const std::vector<std::pair<Cid, std::uint64_t>>& blocks,
                    std::string_view owner, const PutOptions& options);
    // The same inside the caller's write transaction, so that several roots are recorded (and
    // counted against the quota) all or none.
    Recorded record_in(store::Transaction& tx, const Cid& root, std::uint64_t file_size,
                       const std::vector<std::pair<Cid, std::uint64_t>>& blocks,
                       std::string_view owner, const PutOptions& options);
    // After a committed record() whose manifest left `recorded.vacated`: removes, under the
    // exclusive lock, the DAG's `blocks` that no manifest of that tier references any more.
    // REQUIRES: blocks_mutex not held by the caller.
    void vacate(const Recorded& recorded, const std::vector<std::pair<Cid, std::uint64_t>>& blocks);

    // Removes, under the exclusive lock, blocks among `candidates` of `tier` that no manifest
    // of that tier references.
    void drop_unreferenced(StorageTier tier, const std::vector<Cid>& candidates);
};

}  // namespace sihlicon
