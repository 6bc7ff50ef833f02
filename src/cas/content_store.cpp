// SPDX-License-Identifier: Apache-2.0
//
// ContentStore: putting, reading, listing and removing content; access control; tiers;
// communities; quotas; named references.
#include <sihlicon/crypto.hpp>
#include "cas/cas_internal.hpp"
#include "cas/pipelined_batch.hpp"
#include "cid/unixfs.hpp"
#include "core/json.hpp"

#include <sihlicon/error.hpp>
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

constexpr std::size_t kReadBuffer = 1 << 20;
constexpr std::size_t kMaxMetadataBytes = 64 * 1024;
constexpr std::size_t kMaxFileName = 255;
constexpr int kMaxReplicas = 64;
constexpr std::int64_t kHourMs = 3'600'000;

constexpr std::string_view kManifestColumns =
    "content_id, owner, file_name, file_size_bytes, mime_type, storage_tier, access_level, "
    "min_replicas, source_hub_id, metadata, allowed_regions, created_at";

// Who may read a manifest row named m: the SQL twin of cas::can_read, bound to the principal
// twice (?1).
constexpr std::string_view kVisibleTo =
    "(m.access_level = 'public' OR (?1 <> '' AND (m.owner = ?1 OR (m.access_level = "
    "'community' AND EXISTS (SELECT 1 FROM cas_community_members a JOIN cas_community_members b "
    "ON a.community_id = b.community_id WHERE a.principal = m.owner AND b.principal = ?1)))))";

std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts) {
        text += (text.empty() ? "" : ",") + part;
    }
    return text;
}

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
    if (options.file_name &&
        (options.file_name->empty() || options.file_name->size() > kMaxFileName ||
         options.file_name->find('\0') != std::string::npos)) {
        throw Error::invalid("fileName", *options.file_name, "must be 1 to 255 bytes without NUL");
    }
    if (options.mime_type) {
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

Quota quota_in(store::Transaction& tx, std::string_view owner) {
    for (const std::string_view key : {owner, std::string_view("*")}) {
        auto row =
            tx.prepare("SELECT upload_bytes_per_hour, total_bytes FROM cas_quotas WHERE owner = ?");
        row.bind_all(key);
        if (row.step()) {
            return Quota{row.column_int64(0), row.column_optional_int64(1)};
        }
    }
    return Quota{};
}

std::int64_t uploaded_last_hour(store::Transaction& tx, std::string_view owner, Timestamp now) {
    auto row = tx.prepare(
        "SELECT COALESCE(SUM(bytes), 0) FROM cas_uploads WHERE owner = ? AND uploaded_at > ?");
    row.bind_all(owner, now.ms() - kHourMs);
    row.step();
    return row.column_int64(0);
}

// Throws quota_exceeded when `owner` may not upload `bytes` more now.
// `before_upload`: the size is not known yet; refuse only when the hour's volume is used up.
void check_quota(store::Transaction& tx, std::string_view owner, std::int64_t bytes, Timestamp now,
                 bool before_upload = false) {
    const Quota quota = quota_in(tx, owner);
    const auto hourly = uploaded_last_hour(tx, owner, now);
    if (before_upload ? hourly >= quota.upload_bytes_per_hour
                      : hourly + bytes > quota.upload_bytes_per_hour) {
        throw Error(ErrorCode::quota_exceeded,
                    fmt::format("owner '{}' has uploaded {} bytes in the last hour; {} more would "
                                "exceed the limit of {} bytes per hour",
                                owner, hourly, bytes, quota.upload_bytes_per_hour),
                    "owner");
    }
    if (quota.total_bytes) {
        auto row = tx.prepare(
            "SELECT COALESCE(SUM(file_size_bytes), 0) FROM cas_manifests WHERE owner = ?");
        row.bind_all(owner);
        row.step();
        if (row.column_int64(0) + bytes > *quota.total_bytes) {
            throw Error(ErrorCode::quota_exceeded,
                        fmt::format("owner '{}' stores {} bytes; {} more would exceed the limit "
                                    "of {} bytes",
                                    owner, row.column_int64(0), bytes, *quota.total_bytes),
                        "owner");
        }
    }
}

void validate_name(std::string_view name) {
    const bool ok =
        !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '/' || c == '-';
        });
    if (!ok) {
        throw Error::invalid("name", name,
                             "must be 1 to 128 lower-case letters, digits, '.', '_', '/' or '-'");
    }
}

void validate_version(std::string_view version) {
    const bool ok = !version.empty() && version.size() <= 64 &&
                    std::all_of(version.begin(), version.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                               c == '_' || c == '+' || c == '-';
                    });
    if (!ok) {
        throw Error::invalid("version", version,
                             "must be 1 to 64 letters, digits, '.', '_', '+' or '-'");
    }
}

NamedReference read_reference(store::Statement& row) {
    return NamedReference{row.column_text(0), row.column_text(1), row.column_text(2),
                          row.column_text(3), Timestamp::from_ms(row.column_int64(4))};
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
// and, per its parent, holds `expected` bytes.
void read_range(BlobBackend& backend, StorageTier tier, const Cid& cid, std::uint64_t start,
                std::optional<std::uint64_t> expected, std::uint64_t from, std::uint64_t to,
                const ContentStore::ByteSink& sink) {
    const auto block = cas::read_verified(backend, tier, cid);
    if (cid.codec() == CidCodec::raw) {
        if (expected && *expected != block.size()) {
            throw Error(ErrorCode::integrity,
                        fmt::format("block {} holds {} bytes; its parent says {}", cid.to_string(),
                                    block.size(), *expected));
        }
        emit_overlap(block, start, from, to, sink);
        return;
    }
    const auto node = cid::decode_file_node(block, cid.to_string());
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

bool manifest_exists(store::Transaction& tx, std::string_view content_id) {
    auto row = tx.prepare("SELECT 1 FROM cas_manifests WHERE content_id = ? LIMIT 1");
    row.bind_all(content_id);
    return row.step();
}

std::vector<Manifest> manifests_of(store::Transaction& tx, std::string_view content_id) {
    auto row = tx.prepare(
        fmt::format("SELECT {} FROM cas_manifests WHERE content_id = ? ORDER BY created_at, owner",
                    kManifestColumns));
    row.bind_all(content_id);
    std::vector<Manifest> manifests;
    while (row.step()) {
        manifests.push_back(read_manifest(row));
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

ContentStore::Impl::Impl(detail::HubCore& hub_core)
    : core(hub_core),
      backend(make_local_blob_backend(hub_core.blob_directory, hub_core.durability)),
      blocks_mutex(hub_core.directory / "blobs.lock") {}

Manifest ContentStore::Impl::visible_manifest(store::Transaction& tx, const std::string& content_id,
                                              std::string_view principal) const {
    auto manifests = cas::manifests_of(tx, content_id);
    if (manifests.empty()) {
        throw Error(ErrorCode::not_found, fmt::format("no content {}", content_id), "contentId");
    }
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
        throw Error(ErrorCode::permission_denied,
                    fmt::format("'{}' may not read content {}", principal, content_id),
                    "contentId");
    }
    cas::load_replica_hubs(tx, *visible);
    return std::move(*visible);
}

Manifest ContentStore::Impl::record(const Cid& root, std::uint64_t file_size,
                                    const std::vector<std::pair<Cid, std::uint64_t>>& blocks,
                                    std::string_view owner, const PutOptions& options) {
    const std::string content_id = root.to_string();
    const Timestamp now = core.now();
    return core.database->write([&](store::Transaction& tx) {
        {
            auto row = tx.prepare(
                fmt::format("SELECT {} FROM cas_manifests WHERE content_id = ? AND owner = ?",
                            kManifestColumns));
            row.bind_all(content_id, owner);
            if (row.step()) {
                Manifest existing = read_manifest(row);
                cas::load_replica_hubs(tx, existing);
                return existing;
            }
        }
        const auto size = static_cast<std::int64_t>(file_size);
        check_quota(tx, owner, size, now);
        tx.prepare(fmt::format("INSERT INTO cas_manifests ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?)",
                               kManifestColumns))
            .bind_all(content_id, owner, options.file_name, size, options.mime_type,
                      to_string(options.storage_tier), to_string(options.access_level),
                      options.min_replicas, options.source_hub_id, options.metadata_json,
                      join(options.allowed_regions), now.ms())
            .run();
        for (const auto& [block, block_size] : blocks) {
            tx.prepare(
                  "INSERT INTO cas_dag_blocks (root_cid, block_cid, size) VALUES (?, ?, ?) "
                  "ON CONFLICT (root_cid, block_cid) DO NOTHING")
                .bind_all(content_id, block.to_v1().to_string(),
                          static_cast<std::int64_t>(block_size))
                .run();
        }
        tx.prepare("INSERT INTO cas_uploads (owner, uploaded_at, bytes) VALUES (?, ?, ?)")
            .bind_all(owner, now.ms(), size)
            .run();
        const auto targets = cas::place_replicas(content_id, cas::all_hubs(tx),
                                                 static_cast<std::size_t>(options.min_replicas),
                                                 options.allowed_regions, {}, {});
        for (const auto& hub : targets) {
            tx.prepare(
                  "INSERT INTO cas_replicas (content_id, hub_id, state, updated_at) "
                  "VALUES (?, ?, 'wanted', ?) ON CONFLICT (content_id, hub_id) DO NOTHING")
                .bind_all(content_id, hub, now.ms())
                .run();
        }
        auto row = tx.prepare(fmt::format(
            "SELECT {} FROM cas_manifests WHERE content_id = ? AND owner = ?", kManifestColumns));
        row.bind_all(content_id, owner);
        row.step();
        Manifest manifest = read_manifest(row);
        cas::load_replica_hubs(tx, manifest);
        return manifest;
    });
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
    impl_->backend = std::move(backend);
}

Manifest ContentStore::put_bytes(std::span<const std::uint8_t> bytes, std::string_view owner,
                                 const PutOptions& options) {
    std::size_t offset = 0;
    return put_stream(
        [&](std::span<std::uint8_t> buffer) {
            const std::size_t take = std::min(buffer.size(), bytes.size() - offset);
            std::memcpy(buffer.data(), bytes.data() + offset, take);
            offset += take;
            return take;
        },
        owner, options);
}

Manifest ContentStore::put_stream(const ByteSource& source, std::string_view owner,
                                  const PutOptions& options, const Progress& progress) {
    validate(owner, options);
    impl_->core.database->read(
        [&](store::Transaction& tx) { check_quota(tx, owner, 0, impl_->core.now(), true); });
    const StorageTier tier = options.storage_tier;
    std::vector<std::pair<Cid, std::uint64_t>> blocks;
    std::vector<Cid> written;
    try {
        std::shared_lock lock(impl_->blocks_mutex);
        // Blocks are written on a second thread while this one goes on hashing.
        auto batch = std::make_unique<cas::PipelinedBatch>(impl_->backend->begin_batch(tier));
        try {
            cid::DagBuilder builder(options.unixfs,
                                    [&](const Cid& cid, std::span<const std::uint8_t> bytes) {
                                        batch->add(cid, bytes);
                                        blocks.emplace_back(cid, bytes.size());
                                    });
            std::vector<std::uint8_t> buffer(kReadBuffer);
            for (;;) {
                const std::size_t got = source(buffer);
                if (got == 0) {
                    break;
                }
                builder.update(std::span<const std::uint8_t>(buffer).first(got));
                if (progress) {
                    progress(builder.size());
                }
            }
            const auto result = builder.finish();
            batch->commit();
            written = batch->written();
            return impl_->record(result.root, result.file_size, blocks, owner, options);
        } catch (...) {
            written = batch->written();
            throw;
        }
    } catch (...) {
        if (!written.empty()) {
            std::unique_lock exclusive(impl_->blocks_mutex);
            impl_->drop_unreferenced(tier, written);
        }
        throw;
    }
}

Manifest ContentStore::put_file(const std::filesystem::path& path, std::string_view owner,
                                const PutOptions& options, const Progress& progress) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)), "file");
    }
    PutOptions with_name = options;
    if (!with_name.file_name && path.has_filename()) {
        with_name.file_name = path.filename().string();
    }
    return put_stream(
        [&](std::span<std::uint8_t> buffer) {
            const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), file.get());
            if (got == 0 && std::ferror(file.get()) != 0) {
                throw Error(ErrorCode::io, fmt::format("cannot read {}", path.string()), "file");
            }
            return got;
        },
        owner, with_name, progress);
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
                        kManifestColumns, kVisibleTo));
        row.bind(1, principal);
        row.bind(2, owner ? std::optional<std::string>(*owner) : std::nullopt);
        row.bind(3, static_cast<std::int64_t>(limit));
        std::vector<Manifest> manifests;
        while (row.step()) {
            manifests.push_back(read_manifest(row));
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
    const StorageTier tier = impl_->core.database->write([&](store::Transaction& tx) {
        const auto manifests = cas::manifests_of(tx, id);
        if (manifests.empty()) {
            throw Error(ErrorCode::not_found, fmt::format("no content {}", id), "contentId");
        }
        const auto own = std::find_if(manifests.begin(), manifests.end(),
                                      [&](const Manifest& m) { return m.owner == principal; });
        if (principal.empty() || own == manifests.end()) {
            throw Error(ErrorCode::permission_denied,
                        fmt::format("'{}' does not own content {}", principal, id), "contentId");
        }
        if (manifests.size() == 1) {
            auto ref =
                tx.prepare("SELECT name, version FROM cas_refs WHERE content_id = ? LIMIT 1");
            ref.bind_all(id);
            if (ref.step()) {
                throw Error(ErrorCode::conflict,
                            fmt::format("content {} is referenced by {}@{}", id, ref.column_text(0),
                                        ref.column_text(1)),
                            "contentId");
            }
        }
        tx.prepare("DELETE FROM cas_manifests WHERE content_id = ? AND owner = ?")
            .bind_all(id, principal)
            .run();
        auto blocks = tx.prepare("SELECT block_cid FROM cas_dag_blocks WHERE root_cid = ?");
        blocks.bind_all(id);
        while (blocks.step()) {
            candidates.push_back(Cid::parse(blocks.column_text(0)));
        }
        if (manifests.size() == 1) {
            tx.prepare("DELETE FROM cas_dag_blocks WHERE root_cid = ?").bind_all(id).run();
            tx.prepare("DELETE FROM cas_replicas WHERE content_id = ?").bind_all(id).run();
        }
        return own->storage_tier;
    });
    impl_->drop_unreferenced(tier, candidates);
}

Manifest ContentStore::move_to_tier(std::string_view content_id, std::string_view principal,
                                    StorageTier tier) {
    const Cid root = Cid::parse(content_id, "contentId");
    const std::string id = root.to_string();
    std::unique_lock exclusive(impl_->blocks_mutex);
    const Manifest current = impl_->core.database->read([&](store::Transaction& tx) {
        const auto manifests = cas::manifests_of(tx, id);
        if (manifests.empty()) {
            throw Error(ErrorCode::not_found, fmt::format("no content {}", id), "contentId");
        }
        for (const auto& manifest : manifests) {
            if (!principal.empty() && manifest.owner == principal) {
                return manifest;
            }
        }
        throw Error(ErrorCode::permission_denied,
                    fmt::format("'{}' does not own content {}", principal, id), "contentId");
    });
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

void ContentStore::add_community_member(std::string_view community_id, std::string_view principal) {
    validate_principal(community_id, "communityId");
    validate_principal(principal, "principal");
    impl_->core.database->write([&](store::Transaction& tx) {
        tx.prepare(
              "INSERT INTO cas_community_members (community_id, principal, added_at) "
              "VALUES (?, ?, ?) ON CONFLICT (community_id, principal) DO NOTHING")
            .bind_all(community_id, principal, impl_->core.now().ms())
            .run();
    });
}

void ContentStore::remove_community_member(std::string_view community_id,
                                           std::string_view principal) {
    validate_principal(community_id, "communityId");
    validate_principal(principal, "principal");
    impl_->core.database->write([&](store::Transaction& tx) {
        tx.prepare("DELETE FROM cas_community_members WHERE community_id = ? AND principal = ?")
            .bind_all(community_id, principal)
            .run();
    });
}

std::vector<std::string> ContentStore::communities_of(std::string_view principal) const {
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT community_id FROM cas_community_members WHERE principal = ? "
            "ORDER BY community_id");
        row.bind_all(principal);
        std::vector<std::string> communities;
        while (row.step()) {
            communities.push_back(row.column_text(0));
        }
        return communities;
    });
}

NamedReference ContentStore::set_reference(std::string_view name, std::string_view version,
                                           std::string_view content_id,
                                           std::string_view principal) {
    validate_name(name);
    validate_version(version);
    validate_principal(principal, "principal");
    const std::string id = Cid::parse(content_id, "contentId").to_string();
    return impl_->core.database->write([&](store::Transaction& tx) {
        impl_->visible_manifest(tx, id, principal);
        {
            auto owner = tx.prepare("SELECT owner FROM cas_refs WHERE name = ? LIMIT 1");
            owner.bind_all(name);
            if (owner.step() && owner.column_text(0) != principal) {
                throw Error(
                    ErrorCode::permission_denied,
                    fmt::format("the name '{}' belongs to '{}'", name, owner.column_text(0)),
                    "name");
            }
        }
        auto existing = tx.prepare(
            "SELECT name, version, content_id, owner, created_at FROM cas_refs "
            "WHERE name = ? AND version = ?");
        existing.bind_all(name, version);
        if (existing.step()) {
            auto reference = read_reference(existing);
            if (reference.content_id != id) {
                throw Error(
                    ErrorCode::conflict,
                    fmt::format("{}@{} already points to {}", name, version, reference.content_id),
                    "version");
            }
            return reference;
        }
        const auto now = impl_->core.now();
        tx.prepare(
              "INSERT INTO cas_refs (name, version, content_id, owner, ordinal, created_at) "
              "VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM cas_refs "
              "WHERE name = ?1), ?5)")
            .bind_all(name, version, id, principal, now.ms())
            .run();
        return NamedReference{std::string(name), std::string(version), id, std::string(principal),
                              now};
    });
}

NamedReference ContentStore::resolve_reference(std::string_view name,
                                               std::optional<std::string_view> version) const {
    validate_name(name);
    if (version) {
        validate_version(*version);
    }
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT name, version, content_id, owner, created_at FROM cas_refs "
            "WHERE name = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY ordinal DESC LIMIT 1");
        row.bind(1, name);
        row.bind(2, version ? std::optional<std::string>(*version) : std::nullopt);
        if (!row.step()) {
            throw Error(ErrorCode::not_found,
                        version ? fmt::format("no reference {}@{}", name, *version)
                                : fmt::format("no reference named {}", name),
                        "name");
        }
        return read_reference(row);
    });
}

std::vector<NamedReference> ContentStore::reference_versions(std::string_view name) const {
    validate_name(name);
    return impl_->core.database->read([&](store::Transaction& tx) {
        auto row = tx.prepare(
            "SELECT name, version, content_id, owner, created_at FROM cas_refs WHERE name = ? "
            "ORDER BY ordinal");
        row.bind_all(name);
        std::vector<NamedReference> references;
        while (row.step()) {
            references.push_back(read_reference(row));
        }
        return references;
    });
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
    return impl_->core.database->read([&](store::Transaction& tx) { return quota_in(tx, owner); });
}

}  // namespace sihlicon
