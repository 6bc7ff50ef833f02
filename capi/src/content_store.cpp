// SPDX-License-Identifier: Apache-2.0
//
// The content store from C: put and get as streams through caller callbacks, manifests,
// references, replicas, CAR files, scrub and quotas.
#include "capi_internal.hpp"

#include <sihlicon/cid.hpp>

#include <cstdlib>
#include <cstring>

namespace sihlicon::capi {

namespace {

ContentStore& store(sih_hub* hub) {
    return required(hub, "hub").hub.content_store();
}

std::string_view principal_of(const char* principal) {
    return principal != nullptr ? std::string_view(principal) : std::string_view();
}

static_assert(static_cast<int>(StorageTier::hot) == SIH_TIER_HOT &&
              static_cast<int>(StorageTier::cold) == SIH_TIER_COLD &&
              static_cast<int>(StorageTier::glacier) == SIH_TIER_GLACIER);
static_assert(static_cast<int>(AccessLevel::private_) == SIH_ACCESS_PRIVATE &&
              static_cast<int>(AccessLevel::community) == SIH_ACCESS_COMMUNITY &&
              static_cast<int>(AccessLevel::public_) == SIH_ACCESS_PUBLIC);

StorageTier tier_of(const sih_storage_tier& tier, std::string_view field) {
    return enum_from_c<StorageTier>(tier, 3, field, "sih_storage_tier");
}

AccessLevel access_of(const sih_access_level& level) {
    return enum_from_c<AccessLevel>(level, 3, "options.access_level", "sih_access_level");
}

PutOptions put_options(const sih_put_options* given) {
    PutOptions options;
    if (given == nullptr) {
        return options;
    }
    check_version(given->version, SIH_PUT_OPTIONS_VERSION, "options.version");
    options.file_name = optional_text(given->file_name);
    options.mime_type = optional_text(given->mime_type);
    options.storage_tier = tier_of(given->storage_tier, "options.storage_tier");
    options.access_level = access_of(given->access_level);
    options.min_replicas = given->min_replicas;
    options.source_hub_id = optional_text(given->source_hub_id);
    if (given->metadata_json != nullptr) {
        options.metadata_json = given->metadata_json;
    }
    options.allowed_regions =
        text_list(given->allowed_regions, given->allowed_region_count, "options.allowed_regions");
    if (given->chunk_size != 0) {
        options.unixfs.chunk_size = given->chunk_size;
    }
    if (given->max_links != 0) {
        options.unixfs.max_links = given->max_links;
    }
    options.unixfs.validate();
    return options;
}

ContentStore::ByteSource source_of(sih_read_fn read, void* payload) {
    if (read == nullptr) {
        throw Error::invalid("read", "NULL", "is required");
    }
    return [read, payload](std::span<std::uint8_t> buffer) -> std::size_t {
        const auto got = read(payload, buffer.data(), buffer.size());
        if (got < 0) {
            throw CallbackAborted{"the read callback returned " + std::to_string(got)};
        }
        if (static_cast<std::uint64_t>(got) > buffer.size()) {
            throw Error::invalid("read", std::to_string(got),
                                 "returned more bytes than the buffer holds (" +
                                     std::to_string(buffer.size()) + ")");
        }
        return static_cast<std::size_t>(got);
    };
}

ContentStore::ByteSink sink_of(sih_write_fn write, void* payload) {
    if (write == nullptr) {
        throw Error::invalid("write", "NULL", "is required");
    }
    return [write, payload](std::span<const std::uint8_t> bytes) {
        const auto result = write(payload, bytes.data(), bytes.size());
        if (result != 0) {
            throw CallbackAborted{"the write callback returned " + std::to_string(result)};
        }
    };
}

std::optional<std::uint64_t> length_of(std::uint64_t length) {
    if (length == SIH_TO_END) {
        return std::nullopt;
    }
    return length;
}

sih_storage_tier c_tier(StorageTier tier) {
    return static_cast<sih_storage_tier>(static_cast<int>(tier));
}

// The error of a backend callback that returned `result`.
Error backend_failure(std::string_view operation, const Cid* cid, int result) {
    return Error(ErrorCode::io, "the blob backend's " + std::string(operation) +
                                    (cid != nullptr ? " of " + cid->to_string() : std::string()) +
                                    " failed (" + std::to_string(result) + ")");
}

// A BlobBackend whose blocks live wherever the host's C callbacks put them.
class CallbackBackend final : public BlobBackend {
  public:
    explicit CallbackBackend(const sih_blob_backend& callbacks) : c_(callbacks) {}

    class CallbackBatch final : public Batch {
      public:
        CallbackBatch(const CallbackBackend& owner, StorageTier tier)
            : owner_(owner), tier_(tier) {}
        ~CallbackBatch() override {
            if (!committed_) {
                for (const auto& cid : written_) {
                    const auto text = cid.to_string();
                    owner_.c_.remove(owner_.c_.payload, c_tier(tier_), text.c_str());
                }
            }
        }
        void add(const Cid& cid, std::span<const std::uint8_t> bytes) override {
            for (const auto& done : written_) {
                if (done == cid) {
                    return;
                }
            }
            if (owner_.holds(tier_, cid)) {
                return;
            }
            const auto text = cid.to_string();
            const int result = owner_.c_.write(owner_.c_.payload, c_tier(tier_), text.c_str(),
                                               bytes.data(), bytes.size());
            if (result != 0) {
                throw backend_failure("write", &cid, result);
            }
            written_.push_back(cid);
        }
        void commit() override {
            if (owner_.c_.commit != nullptr) {
                const int result = owner_.c_.commit(owner_.c_.payload, c_tier(tier_));
                if (result != 0) {
                    throw backend_failure("commit", nullptr, result);
                }
            }
            committed_ = true;
        }
        const std::vector<Cid>& written() const override { return written_; }

      private:
        const CallbackBackend& owner_;
        StorageTier tier_;
        std::vector<Cid> written_;
        bool committed_ = false;
    };

    std::unique_ptr<Batch> begin_batch(StorageTier tier) override {
        return std::make_unique<CallbackBatch>(*this, tier);
    }
    bool contains(StorageTier tier, const Cid& cid) override { return holds(tier, cid); }
    std::optional<std::vector<std::uint8_t>> read(StorageTier tier, const Cid& cid) override {
        std::vector<std::uint8_t> bytes;
        const auto text = cid.to_string();
        const int result = c_.read(
            c_.payload, c_tier(tier), text.c_str(),
            [](void* sink, const std::uint8_t* data, std::size_t size) -> int {
                auto* into = static_cast<std::vector<std::uint8_t>*>(sink);
                into->insert(into->end(), data, data + size);
                return 0;
            },
            &bytes);
        if (result == 1) {
            return std::nullopt;
        }
        if (result != 0) {
            throw backend_failure("read", &cid, result);
        }
        return bytes;
    }
    void remove(StorageTier tier, const Cid& cid) override {
        const auto text = cid.to_string();
        const int result = c_.remove(c_.payload, c_tier(tier), text.c_str());
        if (result != 0) {
            throw backend_failure("remove", &cid, result);
        }
    }
    void for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) override {
        std::vector<std::string> cids;
        const int result = c_.list(
            c_.payload, c_tier(tier),
            [](void* into, const char* cid) {
                static_cast<std::vector<std::string>*>(into)->emplace_back(cid);
            },
            &cids);
        if (result != 0) {
            throw backend_failure("list", nullptr, result);
        }
        for (const auto& cid : cids) {
            visit(Cid::parse(cid, "the blob backend's list"));
        }
    }

  private:
    bool holds(StorageTier tier, const Cid& cid) const {
        const auto text = cid.to_string();
        const int result = c_.contains(c_.payload, c_tier(tier), text.c_str());
        if (result < 0) {
            throw backend_failure("contains", &cid, result);
        }
        return result == 1;
    }

    sih_blob_backend c_;
};

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;
using capi::give;
using capi::guard;
using capi::principal_of;
using capi::store;
using capi::text;

extern "C" {

sih_status sih_put_options_init(sih_put_options* options, uint32_t version) {
    return guard([&] {
        auto& given = capi::required(options, "options");
        capi::check_version(version, SIH_PUT_OPTIONS_VERSION, "version");
        given = SIH_PUT_OPTIONS_INIT;
        given.version = version;
    });
}

sih_status sih_cas_use_backend(sih_hub* hub, const sih_blob_backend* backend) {
    return guard([&] {
        auto& service = store(hub);
        const auto& given = capi::required(backend, "backend");
        capi::check_version(given.version, SIH_BLOB_BACKEND_VERSION, "backend.version");
        const std::pair<bool, const char*> required[] = {
            {given.write != nullptr, "backend.write"},
            {given.contains != nullptr, "backend.contains"},
            {given.read != nullptr, "backend.read"},
            {given.remove != nullptr, "backend.remove"},
            {given.list != nullptr, "backend.list"}};
        for (const auto& [present, field] : required) {
            if (!present) {
                throw Error::invalid(field, "NULL", "is required");
            }
        }
        service.use_backend(std::make_shared<capi::CallbackBackend>(given));
    });
}

sih_status sih_cas_put_bytes(sih_hub* hub, const uint8_t* bytes, size_t size, const char* owner,
                             const sih_put_options* options, char** out_cid) {
    return guard([&] {
        auto& service = store(hub);
        if (size > 0) {
            capi::required(bytes, "bytes");
        }
        const auto manifest =
            service.put_bytes({bytes, size}, text(owner, "owner"), capi::put_options(options));
        give(out_cid, manifest.content_id);
    });
}

sih_status sih_cas_put_stream(sih_hub* hub, sih_read_fn read, void* payload, const char* owner,
                              const sih_put_options* options, char** out_cid) {
    return guard([&] {
        auto& service = store(hub);
        const auto source = capi::source_of(read, payload);
        const auto manifest =
            service.put_stream(source, text(owner, "owner"), capi::put_options(options));
        give(out_cid, manifest.content_id);
    });
}

sih_status sih_cas_put_stream_sized(sih_hub* hub, sih_read_fn read, void* payload,
                                    uint64_t declared_size, const char* owner,
                                    const sih_put_options* options, char** out_cid) {
    return guard([&] {
        auto& service = store(hub);
        const auto source = capi::source_of(read, payload);
        auto sized = capi::put_options(options);
        sized.declared_size = declared_size;
        give(out_cid, service.put_stream(source, text(owner, "owner"), sized).content_id);
    });
}

sih_status sih_cas_put_file(sih_hub* hub, const char* path, const char* owner,
                            const sih_put_options* options, char** out_cid) {
    return guard([&] {
        auto& service = store(hub);
        const auto manifest = service.put_file(std::string(text(path, "path")),
                                               text(owner, "owner"), capi::put_options(options));
        give(out_cid, manifest.content_id);
    });
}

sih_status sih_cas_get(sih_hub* hub, const char* content_id, const char* principal, uint64_t offset,
                       uint64_t length, sih_write_fn write, void* payload) {
    return guard([&] {
        auto& service = store(hub);
        const auto sink = capi::sink_of(write, payload);
        service.get(text(content_id, "content_id"), principal_of(principal), sink, offset,
                    capi::length_of(length));
    });
}

sih_status sih_cas_get_bytes(sih_hub* hub, const char* content_id, const char* principal,
                             uint64_t offset, uint64_t length, uint8_t** out_bytes,
                             size_t* out_size) {
    return guard([&] {
        const auto bytes =
            store(hub).get_bytes(text(content_id, "content_id"), principal_of(principal), offset,
                                 capi::length_of(length));
        std::uint8_t* copy = nullptr;
        if (out_bytes != nullptr && !bytes.empty()) {
            copy = static_cast<std::uint8_t*>(std::malloc(bytes.size()));
            if (copy == nullptr) {
                throw std::bad_alloc();
            }
            std::memcpy(copy, bytes.data(), bytes.size());
        }
        give(out_bytes, copy);
        give(out_size, bytes.size());
    });
}

sih_status sih_cas_stat(sih_hub* hub, const char* content_id, const char* principal,
                        char** out_json) {
    return guard([&] {
        give(out_json,
             store(hub).stat(text(content_id, "content_id"), principal_of(principal)).to_json());
    });
}

sih_status sih_cas_list(sih_hub* hub, const char* principal, const char* owner, int64_t limit,
                        char** out_json) {
    return guard([&] {
        auto& service = store(hub);
        if (limit < 1 || limit > 10'000) {
            throw Error::invalid("limit", std::to_string(limit), "must be 1..10000");
        }
        const auto owner_text = capi::optional_text(owner);
        give(out_json, json::join_array(service.list(
                           principal_of(principal),
                           owner_text ? std::optional<std::string_view>(*owner_text) : std::nullopt,
                           static_cast<std::size_t>(limit))));
    });
}

sih_status sih_cas_remove(sih_hub* hub, const char* content_id, const char* principal) {
    return guard(
        [&] { store(hub).remove(text(content_id, "content_id"), principal_of(principal)); });
}

sih_status sih_cas_move_to_tier(sih_hub* hub, const char* content_id, const char* principal,
                                sih_storage_tier tier, char** out_json) {
    return guard([&] {
        auto& service = store(hub);
        const auto target = capi::tier_of(tier, "tier");
        give(out_json,
             service.move_to_tier(text(content_id, "content_id"), principal_of(principal), target)
                 .to_json());
    });
}

sih_status sih_cas_add_community_member(sih_hub* hub, const char* community_id, const char* member,
                                        const char* principal) {
    return guard([&] {
        store(hub).add_community_member(text(community_id, "community_id"), text(member, "member"),
                                        principal_of(principal));
    });
}

sih_status sih_cas_remove_community_member(sih_hub* hub, const char* community_id,
                                           const char* member, const char* principal) {
    return guard([&] {
        store(hub).remove_community_member(text(community_id, "community_id"),
                                           text(member, "member"), principal_of(principal));
    });
}

sih_status sih_cas_communities_of(sih_hub* hub, const char* member, const char* principal,
                                  char** out_json) {
    return guard([&] {
        give(out_json, json::serialize(json::string_array(store(hub).communities_of(
                           text(member, "member"), principal_of(principal)))));
    });
}

sih_status sih_cas_set_reference(sih_hub* hub, const char* name, const char* version,
                                 const char* content_id, const char* principal, char** out_json) {
    return guard([&] {
        give(out_json,
             store(hub)
                 .set_reference(text(name, "name"), text(version, "version"),
                                text(content_id, "content_id"), text(principal, "principal"))
                 .to_json());
    });
}

sih_status sih_cas_resolve_reference(sih_hub* hub, const char* name, const char* version,
                                     const char* principal, char** out_json) {
    return guard([&] {
        const auto wanted =
            version != nullptr ? std::optional<std::string_view>(version) : std::nullopt;
        give(out_json, store(hub)
                           .resolve_reference(text(name, "name"), wanted, principal_of(principal))
                           .to_json());
    });
}

sih_status sih_cas_reference_versions(sih_hub* hub, const char* name, const char* principal,
                                      char** out_json) {
    return guard([&] {
        give(out_json, json::join_array(store(hub).reference_versions(text(name, "name"),
                                                                      principal_of(principal))));
    });
}

sih_status sih_cas_remove_reference(sih_hub* hub, const char* name, const char* version,
                                    const char* principal) {
    return guard([&] {
        store(hub).remove_reference(text(name, "name"), text(version, "version"),
                                    principal_of(principal));
    });
}

sih_status sih_cas_export_car(sih_hub* hub, const char* content_id, const char* principal,
                              sih_write_fn write, void* payload) {
    return guard([&] {
        auto& service = store(hub);
        const auto sink = capi::sink_of(write, payload);
        service.export_car(text(content_id, "content_id"), principal_of(principal), sink);
    });
}

sih_status sih_cas_import_car(sih_hub* hub, sih_read_fn read, void* payload, const char* owner,
                              const sih_put_options* options, char** out_json) {
    return guard([&] {
        auto& service = store(hub);
        const auto source = capi::source_of(read, payload);
        give(out_json, json::join_array(service.import_car(source, text(owner, "owner"),
                                                           capi::put_options(options))));
    });
}

sih_status sih_cas_replicas(sih_hub* hub, const char* content_id, const char* principal,
                            char** out_json) {
    return guard([&] {
        give(out_json, json::join_array(store(hub).replicas(text(content_id, "content_id"),
                                                            principal_of(principal))));
    });
}

sih_status sih_cas_repair_plan(sih_hub* hub, const char* const* offline_hub_ids,
                               size_t offline_hub_count, char** out_json) {
    return guard([&] {
        auto& service = store(hub);
        const auto offline = capi::text_list(offline_hub_ids, offline_hub_count, "offline_hub_ids");
        give(out_json, json::join_array(service.repair_plan(offline)));
    });
}

sih_status sih_cas_confirm_replica(sih_hub* hub, const char* content_id, const char* hub_id) {
    return guard([&] {
        store(hub).confirm_replica(text(content_id, "content_id"), text(hub_id, "hub_id"));
    });
}

sih_status sih_cas_fail_replica(sih_hub* hub, const char* content_id, const char* hub_id) {
    return guard(
        [&] { store(hub).fail_replica(text(content_id, "content_id"), text(hub_id, "hub_id")); });
}

sih_status sih_cas_scrub(sih_hub* hub, int64_t sample_blocks, char** out_json) {
    return guard([&] {
        auto& service = store(hub);
        ScrubOptions options;
        if (sample_blocks != SIH_NONE) {
            if (sample_blocks < 0) {
                throw Error::invalid("sample_blocks", std::to_string(sample_blocks),
                                     "must not be negative (SIH_NONE: every block)");
            }
            options.sample_blocks = static_cast<std::size_t>(sample_blocks);
        }
        give(out_json, service.scrub(options).to_json());
    });
}

sih_status sih_cas_collect_garbage(sih_hub* hub, int64_t* out_removed) {
    return guard([&] { give(out_removed, store(hub).collect_garbage()); });
}

sih_status sih_cas_set_quota(sih_hub* hub, const char* owner, int64_t upload_bytes_per_hour,
                             int64_t total_bytes) {
    return guard([&] {
        Quota quota;
        quota.upload_bytes_per_hour = upload_bytes_per_hour;
        quota.total_bytes = capi::optional_integer(total_bytes);
        store(hub).set_quota(text(owner, "owner"), quota);
    });
}

sih_status sih_cas_quota(sih_hub* hub, const char* owner, char** out_json) {
    return guard([&] { give(out_json, store(hub).quota(text(owner, "owner")).to_json()); });
}

sih_status sih_cid_of_bytes(const uint8_t* bytes, size_t size, const sih_put_options* options,
                            char** out_cid) {
    return guard([&] {
        if (size > 0) {
            capi::required(bytes, "bytes");
        }
        const auto parsed = capi::put_options(options);
        give(out_cid, compute_cid({bytes, size}, parsed.unixfs).to_string());
    });
}

}  // extern "C"
