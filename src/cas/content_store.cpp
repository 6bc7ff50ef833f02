// SPDX-License-Identifier: Apache-2.0
//
// ContentStore: putting, reading, listing and removing content; access control; tiers;
// quotas. Named references and communities are in names.cpp.
#include <sihlicon/crypto.hpp>
#include "cas/cas_internal.hpp"
#include "cas/pipelined_batch.hpp"
#include "cas/replace_file.hpp"
#include "cid/unixfs.hpp"
#include "core/json.hpp"
#include "hub/event_log.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/principal.hpp>
#include <sihlicon/text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

namespace sihlicon {

namespace {

constexpr std::size_t kMaxMetadataBytes = 64 * 1024;
constexpr std::size_t kMaxFileName = 255;
constexpr int kMaxReplicas = 64;

void validate_principal(std::string_view principal, std::string_view field) {
    if (principal.empty()) {
        throw Error::invalid(field, principal, "must not be empty");
    }
    if (principal.size() > 256) {
        throw Error::invalid(field, principal, "must be at most 256 bytes");
    }
    require_plain_text(field, principal);
}

void validate(std::string_view owner, const PutOptions& options) {
    validate_principal(owner, "owner");
    options.unixfs.validate();
    if (options.file_name) {
        if (options.file_name->empty() || options.file_name->size() > kMaxFileName) {
            throw Error::invalid("fileName", *options.file_name, "must be 1 to 255 bytes");
        }
        require_plain_text("fileName", *options.file_name);  // no control character, no NUL
    }
    if (options.mime_type) {
        require_plain_text("mimeType", *options.mime_type);
        const auto slash = options.mime_type->find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == options.mime_type->size() ||
            options.mime_type->size() > 255) {
            throw Error::invalid("mimeType", *options.mime_type, "must look like type/subtype");
        }
    }
    if (options.min_replicas < 0 || options.min_replicas > kMaxReplicas) {
        throw Error::invalid("minReplicas", std::to_string(options.min_replicas),
                             "must be between 0 and 64");
    }
    if (options.source_hub_id && options.source_hub_id->empty()) {
        throw Error::invalid("sourceHubId", "", "must not be empty when given");
    }
    if (options.source_hub_id) {
        require_plain_text("sourceHubId", *options.source_hub_id);
    }
    if (options.metadata_json.size() > kMaxMetadataBytes) {
        throw Error::invalid("metadata", options.metadata_json.substr(0, 64),
                             "must be at most 64 KiB");
    }
    if (!json::parse(options.metadata_json, "metadata").is_object()) {
        throw Error::invalid("metadata", options.metadata_json, "must be a JSON object");
    }
    for (const auto& region : options.allowed_regions) {
        if (region.empty() || region.find(',') != std::string::npos) {
            throw Error::invalid("allowedRegions", region, "must be non-empty without commas");
        }
    }
}

// Emits the part of [node_start, node_start + bytes.size()) inside [from, to).
void emit_overlap(std::span<const std::uint8_t> bytes, std::uint64_t node_start, std::uint64_t from,
                  std::uint64_t to, const ContentStore::ByteSink& sink) {
    const std::uint64_t node_end = node_start + bytes.size();
    const std::uint64_t begin = std::max(from, node_start);
    const std::uint64_t end = std::min(to, node_end);
    if (begin < end) {
        sink(bytes.subspan(static_cast<std::size_t>(begin - node_start),
                           static_cast<std::size_t>(end - begin)));
    }
}

// Streams the file bytes of [from, to) of the node `cid`, which starts at file offset `start`
// and, per its parent (or the manifest), holds `expected` bytes. Every block read is checked
// against that: a raw leaf by its length, a node by its inline bytes plus its declared
// blocksizes (and its filesize), each of which its child is checked against in turn. Children
// outside the range are skipped by their declared sizes, which import verified
// (cid::check_file_dag).
void read_range(BlobBackend& backend, StorageTier tier, const Cid& cid, std::uint64_t start,
                std::uint64_t expected, std::uint64_t from, std::uint64_t to,
                const ContentStore::ByteSink& sink) {
    const auto block = cas::read_verified(backend, tier, cid);
    if (cid.codec() == CidCodec::raw) {
        if (expected != block.size()) {
            throw Error(ErrorCode::integrity,
                        fmt::format("block {} holds {} bytes; its parent says {}", cid.to_string(),
                                    block.size(), expected));
        }
        emit_overlap(block, start, from, to, sink);
        return;
    }
    const auto node = cid::decode_file_node(block, cid.to_string());
    std::uint64_t declared = node.data.size();
    for (const auto size : node.block_sizes) {
        if (__builtin_add_overflow(declared, size, &declared)) {
            declared = UINT64_MAX;  // cannot equal `expected`, which fits int64
            break;
        }
    }
    const std::uint64_t declared_file_size = node.has_file_size ? node.file_size : declared;
    if (declared != expected || declared_file_size != expected) {
        throw Error(ErrorCode::integrity,
                    fmt::format("node {} declares {} file bytes (blocksizes) and {} (filesize); "
                                "its parent says {}",
                                cid.to_string(), declared, declared_file_size, expected));
    }
    emit_overlap(node.data, start, from, to, sink);
    std::uint64_t position = start + node.data.size();
    for (std::size_t i = 0; i < node.links.size() && position < to; ++i) {
        const std::uint64_t child_size = node.block_sizes[i];
        if (position + child_size > from) {
            read_range(backend, tier, node.links[i], position, child_size, from, to, sink);
        }
        position += child_size;
    }
}

}  // namespace

std::string_view to_string(StorageTier tier) noexcept {
    switch (tier) {
        case StorageTier::hot:
            return "hot";
        case StorageTier::cold:
            return "cold";
        case StorageTier::glacier:
            return "glacier";
    }
    return "hot";
}

std::string_view to_string(AccessLevel level) noexcept {
    switch (level) {
        case AccessLevel::private_:
            return "private";
        case AccessLevel::community:
            return "community";
        case AccessLevel::public_:
            return "public";
    }
    return "private";
}

std::string_view to_string(ReplicaState state) noexcept {
    switch (state) {
        case ReplicaState::wanted:
            return "wanted";
        case ReplicaState::pinned:
            return "pinned";
        case ReplicaState::failed:
            return "failed";
    }
    return "wanted";
}

StorageTier parse_storage_tier(std::string_view text, std::string_view field) {
    for (const auto tier : {StorageTier::hot, StorageTier::cold, StorageTier::glacier}) {
        if (text == to_string(tier)) {
            return tier;
        }
    }
    throw Error::invalid(field, text, "must be hot, cold or glacier");
}

AccessLevel parse_access_level(std::string_view text, std::string_view field) {
    for (const auto level : {AccessLevel::private_, AccessLevel::community, AccessLevel::public_}) {
        if (text == to_string(level)) {
            return level;
        }
    }
    throw Error::invalid(field, text, "must be private, community or public");
}

std::pair<std::string, std::optional<std::string>> parse_reference(std::string_view text,
                                                                   std::string_view field) {
    const auto at = text.rfind('@');
    if (at == std::string_view::npos) {
        if (text.empty()) {
            throw Error::invalid(field, text, "must be name or name@version");
        }
        return {std::string(text), std::nullopt};
    }
    if (at == 0 || at + 1 == text.size()) {
        throw Error::invalid(field, text, "must be name or name@version");
    }
    return {std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
}

std::string Manifest::to_json() const {
    boost::json::object object{
        {"contentId", content_id},
        {"fileSizeBytes", file_size_bytes},
        {"storageTier", to_string(storage_tier)},
        {"accessLevel", to_string(access_level)},
        {"replicaHubs", json::string_array(replica_hubs)},
        {"createdAt", to_iso8601(created_at)},
        {"owner", owner},
        {"minReplicas", min_replicas},
        {"metadata", boost::json::parse(metadata_json)},
        {"allowedRegions", json::string_array(allowed_regions)},
    };
    if (file_name) {
        object["fileName"] = *file_name;
    }
    if (mime_type) {
        object["mimeType"] = *mime_type;
    }
    if (source_hub_id) {
        object["sourceHubId"] = *source_hub_id;
    }
    return boost::json::serialize(object);
}

namespace cas {

std::string join_regions(const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts) {
        text += (text.empty() ? "" : ",") + part;
    }
    return text;
}

namespace {

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto comma = text.find(',', start);
        const auto end = comma == std::string::npos ? text.size() : comma;
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

}  // namespace

Manifest read_manifest(store::Statement& row) {
    Manifest manifest;
    manifest.content_id = row.column_text(0);
    manifest.owner = row.column_text(1);
    manifest.file_name = row.column_optional_text(2);
    manifest.file_size_bytes = row.column_int64(3);
    manifest.mime_type = row.column_optional_text(4);
    manifest.storage_tier = parse_storage_tier(row.column_text(5));
    manifest.access_level = parse_access_level(row.column_text(6));
    manifest.min_replicas = static_cast<int>(row.column_int64(7));
    manifest.source_hub_id = row.column_optional_text(8);
    manifest.metadata_json = row.column_text(9);
    manifest.allowed_regions = split(row.column_text(10));
    manifest.created_at = Timestamp::from_ms(row.column_int64(11));
    return manifest;
}

void check_principal(std::string_view principal, std::string_view field) {
    validate_principal(principal, field);
}

Error no_content(std::string_view content_id) {
    return Error(ErrorCode::not_found, fmt::format("no content {}", content_id), "contentId");
}

bool readable(store::Transaction& tx, std::string_view content_id, std::string_view principal) {
    const auto manifests = manifests_of(tx, content_id);
    return std::any_of(manifests.begin(), manifests.end(),
                       [&](const Manifest& manifest) { return can_read(tx, manifest, principal); });
}

void validate_put(std::string_view owner, const PutOptions& options) {
    validate(owner, options);
}

bool manifest_exists(store::Transaction& tx, std::string_view content_id) {
    auto row = tx.prepare("SELECT 1 FROM cas_manifests WHERE content_id = ? LIMIT 1");
    row.bind_all(content_id);
    return row.step();
}

std::vector<Manifest> manifests_of(store::Transaction& tx, std::string_view content_id) {
    auto row = tx.prepare(
        fmt::format("SELECT {} FROM cas_manifests WHERE content_id = ? ORDER BY created_at, owner",
                    cas::kManifestColumns));
    row.bind_all(content_id);
    std::vector<Manifest> manifests;
    while (row.step()) {
        manifests.push_back(cas::read_manifest(row));
    }
    return manifests;
}

bool can_read(store::Transaction& tx, const Manifest& manifest, std::string_view principal) {
    if (manifest.access_level == AccessLevel::public_) {
        return true;
    }
    if (principal.empty()) {
        return false;
    }
    if (manifest.owner == principal) {
        return true;
    }
    if (manifest.access_level != AccessLevel::community) {
        return false;
    }
    auto row = tx.prepare(
        "SELECT 1 FROM cas_community_members a JOIN cas_community_members b "
        "ON a.community_id = b.community_id WHERE a.principal = ? AND b.principal = ? LIMIT 1");
    row.bind_all(manifest.owner, principal);
    return row.step();
}

void load_replica_hubs(store::Transaction& tx, Manifest& manifest) {
    auto row = tx.prepare(
        "SELECT hub_id FROM cas_replicas WHERE content_id = ? AND state IN ('wanted', 'pinned') "
        "ORDER BY hub_id");
    row.bind_all(manifest.content_id);
    manifest.replica_hubs.clear();
    while (row.step()) {
        manifest.replica_hubs.push_back(row.column_text(0));
    }
}

void verify_block(const Cid& cid, std::span<const std::uint8_t> bytes) {
    if (crypto::sha256(bytes) != cid.digest()) {
        throw Error(
            ErrorCode::integrity,
            fmt::format("block {} is corrupt: its bytes do not hash to its CID", cid.to_string()));
    }
}

std::vector<std::uint8_t> read_verified(BlobBackend& backend, StorageTier tier, const Cid& cid) {
    auto bytes = backend.read(tier, cid);
    if (!bytes) {
        throw Error(ErrorCode::integrity, fmt::format("block {} is missing from the {} tier",
                                                      cid.to_string(), to_string(tier)));
    }
    verify_block(cid, *bytes);
    return std::move(*bytes);
}

void walk_dag(BlobBackend& backend, StorageTier tier, const Cid& root,
              const std::function<void(const Cid&, std::span<const std::uint8_t>)>& visit) {
    std::set<Cid> seen;
    std::function<void(const Cid&)> walk = [&](const Cid& cid) {
        if (!seen.insert(cid).second) {
            return;
        }
        const auto block = read_verified(backend, tier, cid);
        visit(cid, block);
        if (cid.codec() == CidCodec::dag_pb) {
            const auto links = cid::decode_file_node(block, cid.to_string()).links;
            for (const auto& link : links) {
                walk(link);
            }
        }
    };
    walk(root);
}

}  // namespace cas

Manifest ContentStore::Impl::visible_manifest(store::Transaction& tx, const std::string& content_id,
                                              std::string_view principal) const {
    auto manifests = cas::manifests_of(tx, content_id);
    std::optional<Manifest> visible;
    for (auto& manifest : manifests) {
        if (!principal.empty() && manifest.owner == principal) {
            visible = std::move(manifest);
            break;
        }
        if (!visible && cas::can_read(tx, manifest, principal)) {
            visible = manifest;
        }
    }
    if (!visible) {
        throw cas::no_content(content_id);  // unknown and unreadable look the same
    }
    cas::load_replica_hubs(tx, *visible);
    return std::move(*visible);
}

Manifest ContentStore::Impl::owned_manifest(store::Transaction& tx, const std::string& content_id,
                                            std::string_view principal) const {
    const auto visible = visible_manifest(tx, content_id, principal);
    if (principal.empty() || visible.owner != principal) {
        throw Error(ErrorCode::permission_denied,
                    fmt::format("'{}' does not own content {}", principal, content_id),
                    "contentId");
    }
    return visible;
}

void ContentStore::Impl::drop_unreferenced(StorageTier tier, const std::vector<Cid>& candidates) {
    std::vector<Cid> unreferenced;
    core.database->read([&](store::Transaction& tx) {
        for (const auto& cid : candidates) {
            auto row = tx.prepare(
                "SELECT 1 FROM cas_dag_blocks d JOIN cas_manifests m ON m.content_id = "
                "d.root_cid WHERE d.block_cid = ? AND m.storage_tier = ? LIMIT 1");
            row.bind_all(cid.to_string(), to_string(tier));
            if (!row.step()) {
                unreferenced.push_back(cid);
            }
        }
    });
    for (const auto& cid : unreferenced) {
        backend->remove(tier, cid);
    }
}

ContentStore::ContentStore(detail::HubCore& core) : impl_(std::make_unique<Impl>(core)) {}
ContentStore::~ContentStore() = default;

void ContentStore::use_backend(std::shared_ptr<BlobBackend> backend) {
    if (!backend) {
        throw Error::invalid("backend", "null", "must not be null");
    }
    impl_->set_backend(std::move(backend));
}

void ContentStore::get(std::string_view content_id, std::string_view principal,
                       const ByteSink& sink, std::uint64_t offset,
                       std::optional<std::uint64_t> length, const Progress& progress) const {
    const Cid root = Cid::parse(content_id, "contentId");
    const Manifest manifest = impl_->core.database->read([&](store::Transaction& tx) {
        return impl_->visible_manifest(tx, root.to_string(), principal);
    });
    const auto size = static_cast<std::uint64_t>(manifest.file_size_bytes);
    const std::uint64_t from = std::min(offset, size);
    const std::uint64_t to = length ? std::min(size, from + std::min(*length, size - from)) : size;
    if (from >= to) {
        return;
    }
    std::uint64_t done = 0;
    const ByteSink counted = [&](std::span<const std::uint8_t> bytes) {
        sink(bytes);
        done += bytes.size();
        if (progress) {
            progress(done);
        }
    };
    read_range(*impl_->backend, manifest.storage_tier, root, 0, size, from, to, counted);
}

std::vector<std::uint8_t> ContentStore::get_bytes(std::string_view content_id,
                                                  std::string_view principal, std::uint64_t offset,
                                                  std::optional<std::uint64_t> length) const {
    std::vector<std::uint8_t> bytes;
    get(
        content_id, principal,
        [&](std::span<const std::uint8_t> part) {
            bytes.insert(bytes.end(), part.begin(), part.end());
        },
        offset, length);
    return bytes;
}

std::uint64_t ContentStore::get_to_file(std::string_view content_id, std::string_view principal,
                                        const std::filesystem::path& path, std::uint64_t offset,
                                        std::optional<std::uint64_t> length,
                                        const Progress& progress) const {
    return cas::replace_file(path, "output", [&](const ByteSink& sink) {
        get(content_id, principal, sink, offset, length, progress);
    });
}

std::uint64_t ContentStore::export_car_to_file(std::string_view content_id,
                                               std::string_view principal,
                                               const std::filesystem::path& path) const {
    return cas::replace_file(
        path, "file", [&](const ByteSink& sink) { export_car(content_id, principal, sink); });
}

Manifest ContentStore::stat(std::string_view content_id, std::string_view principal) const {
    const Cid root = Cid::parse(content_id, "contentId");
    return impl_->core.database->read([&](store::Transaction& tx) {
        return impl_->visible_manifest(tx, root.to_string(), principal);
    });
}

std::vector<Manifest> ContentStore::list(std::string_view principal,
                                         std::optional<std::string_view> owner,
                                         std::size_t limit) const {
    if (limit < 1 || limit > 10'000) {
        throw Error::invalid("limit", std::to_string(limit), "must be between 1 and 10000");
    }
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            fmt::format("SELECT {} FROM cas_manifests m WHERE {} AND (?2 IS NULL OR m.owner = ?2) "
                        "ORDER BY m.created_at DESC, m.content_id LIMIT ?3",
                        cas::kManifestColumns, cas::kVisibleTo));
        row.bind(1, principal);
        row.bind(2, owner ? std::optional<std::string>(*owner) : std::nullopt);
        row.bind(3, static_cast<std::int64_t>(limit));
        std::vector<Manifest> manifests;
        while (row.step()) {
            manifests.push_back(cas::read_manifest(row));
        }
        for (auto& manifest : manifests) {
            cas::load_replica_hubs(tx, manifest);
        }
        return manifests;
    });
}

void ContentStore::remove(std::string_view content_id, std::string_view principal) {
    const std::string id = Cid::parse(content_id, "contentId").to_string();
    std::unique_lock exclusive(impl_->blocks_mutex);
    std::vector<Cid> candidates;
    // On a full disk too (cas_internal.hpp).
    const StorageTier tier = impl_->write_freeing_space([&](store::Transaction& tx) {
        const auto own = impl_->owned_manifest(tx, id, principal);
        const auto manifests = cas::manifests_of(tx, id);
        tx.prepare("DELETE FROM cas_manifests WHERE content_id = ? AND owner = ?")
            .bind_all(id, principal)
            .run();
        events::append(tx, impl_->core.now(), "content.removed", id, {principal, std::nullopt},
                       json::serialize(boost::json::object{{"owner", principal}}));
        auto blocks = tx.prepare("SELECT block_cid FROM cas_dag_blocks WHERE root_cid = ?");
        blocks.bind_all(id);
        while (blocks.step()) {
            candidates.push_back(Cid::parse(blocks.column_text(0)));
        }
        if (manifests.size() == 1) {
            tx.prepare("DELETE FROM cas_dag_blocks WHERE root_cid = ?").bind_all(id).run();
            tx.prepare("DELETE FROM cas_replicas WHERE content_id = ?").bind_all(id).run();
        }
        return own.storage_tier;
    });
    impl_->drop_unreferenced(tier, candidates);
    impl_->reserve.refill();
}

Manifest ContentStore::move_to_tier(std::string_view content_id, std::string_view principal,
                                    StorageTier tier) {
    const Cid root = Cid::parse(content_id, "contentId");
    const std::string id = root.to_string();
    std::unique_lock exclusive(impl_->blocks_mutex);
    const Manifest current = impl_->core.database->read(
        [&](store::Transaction& tx) { return impl_->owned_manifest(tx, id, principal); });
    if (current.storage_tier != tier) {
        auto batch = impl_->backend->begin_batch(tier);
        std::vector<Cid> blocks;
        cas::walk_dag(*impl_->backend, current.storage_tier, root,
                      [&](const Cid& cid, std::span<const std::uint8_t> bytes) {
                          batch->add(cid, bytes);
                          blocks.push_back(cid);
                      });
        batch->commit();
        impl_->core.database->write([&](store::Transaction& tx) {
            tx.prepare(
                  "UPDATE cas_manifests SET storage_tier = ? WHERE content_id = ? AND owner = ?")
                .bind_all(to_string(tier), id, principal)
                .run();
        });
        impl_->drop_unreferenced(current.storage_tier, blocks);
    }
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return impl_->visible_manifest(tx, id, principal); });
}

void ContentStore::set_quota(std::string_view owner, const Quota& quota) {
    validate_principal(owner, "owner");
    if (quota.upload_bytes_per_hour < 0) {
        throw Error::invalid("uploadBytesPerHour", std::to_string(quota.upload_bytes_per_hour),
                             "must not be negative");
    }
    if (quota.total_bytes && *quota.total_bytes < 0) {
        throw Error::invalid("totalBytes", std::to_string(*quota.total_bytes),
                             "must not be negative");
    }
    impl_->core.database->write([&](store::Transaction& tx) {
        if (owner == "*") {
            // The default quota is a hub setting: changed, and audited, as the settings are.
            auto next = detail::read_settings(tx);
            next.default_upload_bytes_per_hour = quota.upload_bytes_per_hour;
            next.default_total_bytes = quota.total_bytes;
            detail::write_settings(tx, next, kOperatorPrincipal, impl_->core.now());
            return;
        }
        tx.prepare(
              "INSERT INTO cas_quotas (owner, upload_bytes_per_hour, total_bytes) VALUES (?, ?, ?) "
              "ON CONFLICT (owner) DO UPDATE SET upload_bytes_per_hour = "
              "excluded.upload_bytes_per_hour, "
              "total_bytes = excluded.total_bytes")
            .bind_all(owner, quota.upload_bytes_per_hour, quota.total_bytes)
            .run();
    });
}

Quota ContentStore::quota(std::string_view owner) const {
    return impl_->core.database->read(
        [&](store::Transaction& tx) { return cas::quota_in(tx, owner); });
}

}  // namespace sihlicon
