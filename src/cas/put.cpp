// SPDX-License-Identifier: Apache-2.0
//
// ContentStore puts: quotas checked from the declared size before any byte is read and again
// from the real size at commit; blocks journaled (put_journal.hpp) until the manifest commits,
// and what dead or failed puts left behind dropped; the same bytes put again keep or update
// the owner's manifest (record_in).
#include "cas/cas_internal.hpp"
#include "cas/pipelined_batch.hpp"
#include "cid/unixfs.hpp"
#include "core/json.hpp"
#include "hub/event_log.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>

namespace sihlicon {

namespace {

constexpr std::size_t kReadBuffer = 1 << 20;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::string_view kJournalFolder = ".puts";        // under the blob folder
constexpr std::string_view kReserveFile = "space.reserve";  // in the hub folder

std::int64_t uploaded_last_hour(store::Transaction& tx, std::string_view owner, Timestamp now) {
    auto row = tx.prepare(
        "SELECT COALESCE(SUM(bytes), 0) FROM cas_uploads WHERE owner = ? AND uploaded_at > ?");
    row.bind_all(owner, now.ms() - kHourMs);
    row.step();
    return row.column_int64(0);
}

// The declared size as a quota amount. Throws Error::invalid past int64.
std::optional<std::int64_t> declared_bytes(const PutOptions& options) {
    if (!options.declared_size) {
        return std::nullopt;
    }
    if (*options.declared_size >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        throw Error::invalid("declaredSize", std::to_string(*options.declared_size),
                             "must be at most 9223372036854775807");
    }
    return static_cast<std::int64_t>(*options.declared_size);
}

[[noreturn]] void throw_size_mismatch(std::uint64_t declared, std::string_view real) {
    throw Error::invalid("declaredSize", std::to_string(declared),
                         fmt::format("the source yielded {} bytes", real));
}

}  // namespace

namespace cas {

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

void check_quota(store::Transaction& tx, std::string_view owner, std::optional<std::int64_t> bytes,
                 Timestamp now) {
    const Quota quota = quota_in(tx, owner);
    const auto hourly = uploaded_last_hour(tx, owner, now);
    // Compared by subtraction: neither side may overflow, whatever size is declared.
    const auto over = [&](std::int64_t used, std::int64_t limit) {
        return bytes ? used > limit || *bytes > limit - used : used >= limit;
    };
    const std::string more = bytes ? std::to_string(*bytes) : std::string("any");
    if (over(hourly, quota.upload_bytes_per_hour)) {
        throw Error(ErrorCode::quota_exceeded,
                    fmt::format("owner '{}' has uploaded {} bytes in the last hour; {} more would "
                                "exceed the limit of {} bytes per hour",
                                owner, hourly, more, quota.upload_bytes_per_hour),
                    "owner");
    }
    if (quota.total_bytes) {
        auto row = tx.prepare(
            "SELECT COALESCE(SUM(file_size_bytes), 0) FROM cas_manifests WHERE owner = ?");
        row.bind_all(owner);
        row.step();
        const std::int64_t stored = row.column_int64(0);
        if (over(stored, *quota.total_bytes)) {
            throw Error(ErrorCode::quota_exceeded,
                        fmt::format("owner '{}' stores {} bytes; {} more would exceed the limit "
                                    "of {} bytes",
                                    owner, stored, more, *quota.total_bytes),
                        "owner");
        }
    }
}

}  // namespace cas

ContentStore::Impl::Impl(detail::HubCore& hub_core)
    : core(hub_core),
      blocks_mutex(hub_core.directory / "blobs.lock"),
      reserve(hub_core.directory / kReserveFile) {
    set_backend(make_local_blob_backend(hub_core.blob_directory, hub_core.durability));
    // A put in progress elsewhere holds the lock shared: its journal is not abandoned, so
    // recovery waits for the next open or collect_garbage instead of for that put.
    std::unique_lock exclusive(blocks_mutex, std::try_to_lock);
    if (exclusive.owns_lock()) {
        drop_abandoned_puts();
    }
}

void ContentStore::Impl::set_backend(std::shared_ptr<BlobBackend> inner) {
    journaled = std::make_shared<cas::JournaledBackend>(std::move(inner),
                                                        core.blob_directory / kJournalFolder);
    backend = journaled;
}

std::int64_t ContentStore::Impl::drop_abandoned_puts() {
    std::int64_t removed = 0;
    for (const auto& put : journaled->abandoned()) {
        std::vector<Cid> present;
        for (const auto& cid : put.blocks) {
            if (backend->contains(put.tier, cid)) {
                present.push_back(cid);
            }
        }
        drop_unreferenced(put.tier, present);
        for (const auto& cid : present) {
            removed += backend->contains(put.tier, cid) ? 0 : 1;
        }
        std::error_code ignored;
        std::filesystem::remove(put.journal, ignored);
    }
    return removed;
}

ContentStore::Impl::Recorded ContentStore::Impl::record(
    const Cid& root, std::uint64_t file_size,
    const std::vector<std::pair<Cid, std::uint64_t>>& blocks, std::string_view owner,
    const PutOptions& options) {
    return core.database->write([&](store::Transaction& tx) {
        return record_in(tx, root, file_size, blocks, owner, options);
    });
}

namespace {

// The metadata a put states, in a manifest's shape (regions sorted, as compared).
Manifest stated(const PutOptions& options) {
    Manifest manifest;
    manifest.file_name = options.file_name;
    manifest.mime_type = options.mime_type;
    manifest.storage_tier = options.storage_tier;
    manifest.access_level = options.access_level;
    manifest.min_replicas = options.min_replicas;
    manifest.source_hub_id = options.source_hub_id;
    manifest.metadata_json = options.metadata_json;
    manifest.allowed_regions = options.allowed_regions;
    return manifest;
}

bool same_metadata(const Manifest& stored, const Manifest& given) {
    auto sorted = [](std::vector<std::string> regions) {
        std::sort(regions.begin(), regions.end());
        return regions;
    };
    return stored.file_name == given.file_name && stored.mime_type == given.mime_type &&
           stored.storage_tier == given.storage_tier && stored.access_level == given.access_level &&
           stored.min_replicas == given.min_replicas &&
           stored.source_hub_id == given.source_hub_id &&
           sorted(stored.allowed_regions) == sorted(given.allowed_regions) &&
           // Compared as JSON values: {"a": 1} states what {"a":1} does.
           json::parse(stored.metadata_json, "metadata") ==
               json::parse(given.metadata_json, "metadata");
}

// Records wanted replicas of `content_id` for up to min_replicas hubs (existing ones stay).
void place_wanted(store::Transaction& tx, const std::string& content_id, const PutOptions& options,
                  Timestamp now) {
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
}

}  // namespace

ContentStore::Impl::Recorded ContentStore::Impl::record_in(
    store::Transaction& tx, const Cid& root, std::uint64_t file_size,
    const std::vector<std::pair<Cid, std::uint64_t>>& blocks, std::string_view owner,
    const PutOptions& options) {
    const std::string content_id = root.to_string();
    const Timestamp now = core.now();
    cas::check_source_hub(tx, options.source_hub_id);
    const auto owned = [&] {
        auto row = tx.prepare(
            fmt::format("SELECT {} FROM cas_manifests WHERE content_id = ? AND owner = ?",
                        cas::kManifestColumns));
        row.bind_all(content_id, owner);
        std::optional<Manifest> manifest;
        if (row.step()) {
            manifest = cas::read_manifest(row);
            cas::load_replica_hubs(tx, *manifest);
        }
        return manifest;
    };
    const auto existing = owned();
    Recorded recorded;
    if (existing && same_metadata(*existing, stated(options))) {
        recorded.manifest = *existing;  // the same put again: nothing changes
        return recorded;
    }
    if (existing) {
        // The same bytes with other metadata: the owner's manifest takes the put's metadata.
        // No byte is stored or counted anew; blocks left in the old tier are the caller's to
        // drop once this commits.
        tx.prepare(
              "UPDATE cas_manifests SET file_name = ?, mime_type = ?, storage_tier = ?, "
              "access_level = ?, min_replicas = ?, source_hub_id = ?, metadata = ?, "
              "allowed_regions = ? WHERE content_id = ? AND owner = ?")
            .bind_all(options.file_name, options.mime_type, to_string(options.storage_tier),
                      to_string(options.access_level), options.min_replicas, options.source_hub_id,
                      options.metadata_json, cas::join_regions(options.allowed_regions), content_id,
                      owner)
            .run();
        if (existing->storage_tier != options.storage_tier) {
            recorded.vacated = existing->storage_tier;
        }
    } else {
        const auto size = static_cast<std::int64_t>(file_size);
        cas::check_quota(tx, owner, size, now);
        tx.prepare(fmt::format("INSERT INTO cas_manifests ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?)",
                               cas::kManifestColumns))
            .bind_all(content_id, owner, options.file_name, size, options.mime_type,
                      to_string(options.storage_tier), to_string(options.access_level),
                      options.min_replicas, options.source_hub_id, options.metadata_json,
                      cas::join_regions(options.allowed_regions), now.ms())
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
    }
    events::append(
        tx, now, "content.stored", content_id, {owner, std::nullopt},
        json::serialize(boost::json::object{{"owner", owner},
                                            {"size", static_cast<std::int64_t>(file_size)},
                                            {"storageTier", to_string(options.storage_tier)}}));
    place_wanted(tx, content_id, options, now);
    recorded.manifest = *owned();
    return recorded;
}

void ContentStore::Impl::vacate(const Recorded& recorded,
                                const std::vector<std::pair<Cid, std::uint64_t>>& blocks) {
    if (!recorded.vacated) {
        return;
    }
    std::vector<Cid> candidates;
    for (const auto& block : blocks) {
        candidates.push_back(block.first);
    }
    std::unique_lock exclusive(blocks_mutex);
    drop_unreferenced(*recorded.vacated, candidates);
}

Manifest ContentStore::put_bytes(std::span<const std::uint8_t> bytes, std::string_view owner,
                                 const PutOptions& options) {
    PutOptions sized = options;
    if (!sized.declared_size) {
        sized.declared_size = bytes.size();
    }
    std::size_t offset = 0;
    return put_stream(
        [&](std::span<std::uint8_t> buffer) {
            const std::size_t take = std::min(buffer.size(), bytes.size() - offset);
            std::memcpy(buffer.data(), bytes.data() + offset, take);
            offset += take;
            return take;
        },
        owner, sized);
}

Manifest ContentStore::put_stream(const ByteSource& source, std::string_view owner,
                                  const PutOptions& options, const Progress& progress) {
    cas::validate_put(owner, options);
    const auto declared = declared_bytes(options);
    impl_->core.database->read([&](store::Transaction& tx) {
        cas::check_source_hub(tx, options.source_hub_id);  // before any byte is read
        cas::check_quota(tx, owner, declared, impl_->core.now());
    });
    const StorageTier tier = options.storage_tier;
    std::vector<std::pair<Cid, std::uint64_t>> blocks;
    bool journaled = false;  // a block reached the batch, so its journal exists
    ContentStore::Impl::Recorded recorded;
    try {
        std::shared_lock lock(impl_->blocks_mutex);
        // Blocks are written on a second thread while this one goes on hashing.
        auto batch = std::make_unique<cas::PipelinedBatch>(impl_->backend->begin_batch(tier));
        cid::DagBuilder builder(options.unixfs,
                                [&](const Cid& cid, std::span<const std::uint8_t> bytes) {
                                    journaled = true;
                                    batch->add(cid, bytes);
                                    blocks.emplace_back(cid, bytes.size());
                                });
        std::vector<std::uint8_t> buffer(kReadBuffer);
        for (;;) {
            const std::size_t got = source(buffer);
            if (got == 0) {
                break;
            }
            if (got > buffer.size()) {
                throw Error::invalid("source", std::to_string(got),
                                     "returned more bytes than the buffer holds");
            }
            // Refused before hashing a byte beyond the declared size.
            if (options.declared_size && got > *options.declared_size - builder.size()) {
                throw_size_mismatch(*options.declared_size,
                                    fmt::format("more than {}", builder.size() + got - 1));
            }
            builder.update(std::span<const std::uint8_t>(buffer).first(got));
            if (progress) {
                progress(builder.size());
            }
        }
        if (options.declared_size && builder.size() != *options.declared_size) {
            throw_size_mismatch(*options.declared_size, std::to_string(builder.size()));
        }
        const auto result = builder.finish();
        batch->commit();
        recorded = impl_->record(result.root, result.file_size, blocks, owner, options);
    } catch (...) {
        // The batch's journal names every block it may have written (put_journal.hpp).
        if (journaled) {
            std::unique_lock exclusive(impl_->blocks_mutex);
            impl_->drop_abandoned_puts();
        }
        throw;
    }
    // A manifest that moved to this tier leaves no copy behind in its old one.
    impl_->vacate(recorded, blocks);
    return std::move(recorded.manifest);
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
    struct stat info {};
    if (!with_name.declared_size && ::fstat(::fileno(file.get()), &info) == 0 &&
        S_ISREG(info.st_mode)) {
        with_name.declared_size = static_cast<std::uint64_t>(info.st_size);
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

}  // namespace sihlicon
