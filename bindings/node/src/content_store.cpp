// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.ContentStore: puts and gets of content run on the thread pool and return Promises
// (they hash and write or read whole files); a Buffer being put is read in place, not copied,
// and is kept alive until the Promise settles; a get resolves to a Buffer that owns the bytes
// the library produced (CAR import and export likewise). Manifest queries and the small
// writes are synchronous.
#include "common.hpp"
#include "core/json.hpp"

#include <algorithm>
#include <filesystem>

namespace sihlicon::node {
namespace {

// The seed's upload metadata, decoded by the one codec (PutOptions::from_json: its fields,
// defaults and refusals, an unknown field included), plus this binding's chunkSize and
// maxLinks. An object's other members go to the codec as JSON (undefined ones are absent); a
// string is the metadata's JSON text itself.
PutOptions put_options(Napi::Env env, const Napi::Value& value) {
    if (value.IsString()) {
        return PutOptions::from_json(value.As<Napi::String>().Utf8Value());
    }
    const auto given = options(value, "options");
    auto seed = Napi::Object::New(env);
    const auto names = given.GetPropertyNames();
    for (std::uint32_t i = 0; i < names.Length(); ++i) {
        const auto name = names.Get(i).ToString().Utf8Value();
        if (name == "metadata" && given.Get(name).IsString()) {
            // The metadata object given as its JSON text: read strictly, as the core reads it.
            const auto text = given.Get(name).As<Napi::String>().Utf8Value();
            seed.Set(name, parse_json(env, json::serialize(json::parse(text, "metadata"))));
        } else if (name != "chunkSize" && name != "maxLinks") {
            seed.Set(name, given.Get(name));
        }
    }
    PutOptions result = PutOptions::from_json(stringify(env, seed));
    if (auto size = optional_integer(given.Get("chunkSize"), "chunkSize")) {
        result.unixfs.chunk_size = static_cast<std::size_t>(std::max<std::int64_t>(*size, 0));
    }
    if (auto links = optional_integer(given.Get("maxLinks"), "maxLinks")) {
        result.unixfs.max_links = static_cast<std::size_t>(std::max<std::int64_t>(*links, 0));
    }
    result.unixfs.validate();
    return result;
}

// ContentStore.putOptionsFromJson(text): the seed's upload metadata decoded by the core, as
// the options object put takes (every field, the core's defaults filled in).
Napi::Value put_options_from_json(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        std::string storage;
        const auto raw = bytes(info[0], "text", storage);  // a string or a Buffer, unconverted
        const auto options = PutOptions::from_json(
            std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
        auto object = Napi::Object::New(env);
        const auto optional = [&](const std::optional<std::string>& value) -> Napi::Value {
            return value ? Napi::String::New(env, *value) : env.Null();
        };
        object.Set("fileName", optional(options.file_name));
        object.Set("mimeType", optional(options.mime_type));
        object.Set("storageTier", std::string(to_string(options.storage_tier)));
        object.Set("accessLevel", std::string(to_string(options.access_level)));
        object.Set("minReplicas", Napi::Number::New(env, options.min_replicas));
        object.Set("sourceHubId", optional(options.source_hub_id));
        object.Set("metadata", parse_json(env, options.metadata_json));
        auto regions = Napi::Array::New(env, options.allowed_regions.size());
        for (std::uint32_t i = 0; i < options.allowed_regions.size(); ++i) {
            regions.Set(i, options.allowed_regions[i]);
        }
        object.Set("allowedRegions", regions);
        return object;
    });
}

Napi::Value manifest(Napi::Env env, Manifest& value) {
    return record(env, value);
}

Napi::Object reference_object(Napi::Env env, const NamedReference& reference) {
    auto object = Napi::Object::New(env);
    object.Set("name", reference.name);
    object.Set("version", reference.version);
    object.Set("contentId", reference.content_id);
    object.Set("owner", reference.owner);
    object.Set("createdAt", iso(env, reference.created_at));
    return object;
}

Napi::Object quota_object(Napi::Env env, const Quota& quota) {
    auto object = Napi::Object::New(env);
    object.Set("uploadBytesPerHour",
               Napi::Number::New(env, static_cast<double>(quota.upload_bytes_per_hour)));
    object.Set("totalBytes", quota.total_bytes
                                 ? Napi::Number::New(env, static_cast<double>(*quota.total_bytes))
                                 : env.Null());
    return object;
}

class ContentStoreObject : public Handle<ContentStoreObject> {
  public:
    static constexpr const char* kName = "ContentStore";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a4ULL, 0x510e527fade682d1ULL};

    explicit ContentStoreObject(const Napi::CallbackInfo& info)
        : Handle<ContentStoreObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {}

    static Napi::Function define(Napi::Env env) {
        using C = ContentStoreObject;
        return define_class(
            env, {async_entry<&C::put>(env, "put"), async_entry<&C::put_file>(env, "putFile"),
                  async_entry<&C::get>(env, "get"), entry<&C::stat>(env, "stat"),
                  entry<&C::list>(env, "list"), entry<&C::remove>(env, "remove"),
                  async_entry<&C::move_to_tier>(env, "moveToTier"),
                  entry<&C::add_community_member>(env, "addCommunityMember"),
                  entry<&C::remove_community_member>(env, "removeCommunityMember"),
                  entry<&C::communities_of>(env, "communitiesOf"),
                  entry<&C::set_reference>(env, "setReference"),
                  entry<&C::resolve_reference>(env, "resolveReference"),
                  entry<&C::reference_versions>(env, "referenceVersions"),
                  entry<&C::remove_reference>(env, "removeReference"),
                  entry<&C::set_quota>(env, "setQuota"), entry<&C::quota>(env, "quota"),
                  async_entry<&C::collect_garbage>(env, "collectGarbage"),
                  async_entry<&C::import_car>(env, "importCar"),
                  async_entry<&C::export_car>(env, "exportCar")});
    }

  private:
    template <typename Work>
    auto on(Work&& work) {
        return with_hub(handle_, [&](Hub& hub) { return work(hub.content_store()); });
    }

    // put(data, owner, options?) → Promise<Manifest>.
    Napi::Value put(const Napi::CallbackInfo& info) {
        Napi::Env env = info.Env();
        auto storage = std::make_shared<std::string>();
        const auto data = bytes(info[0], "data", *storage);
        const auto owner = text(info[1], "owner");
        const auto put_with = put_options(env, info[2]);
        return run_on_hub<Manifest>(env, handle_,
                                    [data, owner, put_with, storage](Hub& hub) {
                                        return hub.content_store().put_bytes(data, owner, put_with);
                                    },
                                    manifest, {info[0]});
    }

    // putFile(path, owner, options?) → Promise<Manifest>: streamed, memory bounded.
    Napi::Value put_file(const Napi::CallbackInfo& info) {
        const auto path = text(info[0], "path");
        const auto owner = text(info[1], "owner");
        const auto put_with = put_options(info.Env(), info[2]);
        return run_on_hub<Manifest>(
            info.Env(), handle_,
            [path, owner, put_with](Hub& hub) {
                return hub.content_store().put_file(std::filesystem::path(path), owner, put_with);
            },
            manifest);
    }

    // get(contentId, principal = '', {offset, length}?) → Promise<Buffer>.
    Napi::Value get(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "contentId");
        const auto principal = optional_text(info[1], "principal").value_or("");
        const auto range = options(info[2], "range");
        const auto offset = optional_integer(range.Get("offset"), "offset").value_or(0);
        const auto length = optional_integer(range.Get("length"), "length");
        if (offset < 0 || (length && *length < 0)) {
            throw Error::invalid("range", std::to_string(offset), "offset and length must be >= 0");
        }
        std::optional<std::uint64_t> count;
        if (length) {
            count = static_cast<std::uint64_t>(*length);
        }
        return run_on_hub<std::vector<std::uint8_t>>(
            info.Env(), handle_,
            [id, principal, offset, count](Hub& hub) {
                return hub.content_store().get_bytes(id, principal,
                                                     static_cast<std::uint64_t>(offset), count);
            },
            [](Napi::Env env, std::vector<std::uint8_t>& data) {
                return owned_buffer(env, std::move(data));
            });
    }

    // importCar(data, owner, options?) → Promise<Manifest[]>: a CAR v1 read in place (the
    // Buffer is kept alive until the Promise settles); the core verifies every block and
    // records a manifest per root only for what `owner` proves to possess.
    Napi::Value import_car(const Napi::CallbackInfo& info) {
        Napi::Env env = info.Env();
        auto storage = std::make_shared<std::string>();
        const auto data = bytes(info[0], "data", *storage);
        const auto owner = text(info[1], "owner");
        const auto put_with = put_options(env, info[2]);
        return run_on_hub<std::vector<Manifest>>(
            env, handle_,
            [data, owner, put_with, storage](Hub& hub) {
                std::size_t offset = 0;
                const ContentStore::ByteSource source = [&](std::span<std::uint8_t> buffer) {
                    const auto count = std::min(buffer.size(), data.size() - offset);
                    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), count,
                                buffer.begin());
                    offset += count;
                    return count;
                };
                return hub.content_store().import_car(source, owner, put_with);
            },
            [](Napi::Env to, std::vector<Manifest>& manifests) { return records(to, manifests); },
            {info[0]});
    }

    // exportCar(contentId, principal = '') → Promise<Buffer>: the content's DAG as a CAR v1,
    // for a principal who may read it (else not_found, as get).
    Napi::Value export_car(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "contentId");
        const auto principal = optional_text(info[1], "principal").value_or("");
        return run_on_hub<std::vector<std::uint8_t>>(
            info.Env(), handle_,
            [id, principal](Hub& hub) {
                std::vector<std::uint8_t> car;
                hub.content_store().export_car(
                    id, principal, [&](std::span<const std::uint8_t> chunk) {
                        car.insert(car.end(), chunk.begin(), chunk.end());
                    });
                return car;
            },
            [](Napi::Env env, std::vector<std::uint8_t>& car) {
                return owned_buffer(env, std::move(car));
            });
    }

    Napi::Value stat(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "contentId");
        const auto principal = optional_text(info[1], "principal").value_or("");
        return record(info.Env(), on([&](ContentStore& c) { return c.stat(id, principal); }));
    }

    // list(principal, {owner?, limit?}?).
    Napi::Value list(const Napi::CallbackInfo& info) {
        const auto principal = optional_text(info[0], "principal").value_or("");
        const auto given = options(info[1], "options");
        const auto owner = optional_text(given.Get("owner"), "owner");
        const auto limit = optional_integer(given.Get("limit"), "limit").value_or(1000);
        if (limit < 1 || limit > 10'000) {
            throw Error::invalid("limit", std::to_string(limit), "must be 1 .. 10000");
        }
        return records(info.Env(), on([&](ContentStore& c) {
                           std::optional<std::string_view> of;
                           if (owner) {
                               of = *owner;
                           }
                           return c.list(principal, of, static_cast<std::size_t>(limit));
                       }));
    }

    Napi::Value remove(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "contentId");
        const auto principal = text(info[1], "principal");
        on([&](ContentStore& c) {
            c.remove(id, principal);
            return 0;
        });
        return info.Env().Undefined();
    }

    // moveToTier(contentId, principal, tier) → Promise<Manifest> (copies and verifies blocks).
    Napi::Value move_to_tier(const Napi::CallbackInfo& info) {
        const auto id = text(info[0], "contentId");
        const auto principal = text(info[1], "principal");
        const auto tier = parse_storage_tier(text(info[2], "tier"), "tier");
        return run_on_hub<Manifest>(
            info.Env(), handle_,
            [id, principal, tier](Hub& hub) {
                return hub.content_store().move_to_tier(id, principal, tier);
            },
            manifest);
    }

    // addCommunityMember(communityId, member, principal): `principal` acts (a member, the
    // founder of an empty community adding itself, or the operator).
    Napi::Value add_community_member(const Napi::CallbackInfo& info) {
        const auto community = text(info[0], "communityId");
        const auto member = text(info[1], "member");
        const auto principal = optional_text(info[2], "principal").value_or("");
        on([&](ContentStore& c) {
            c.add_community_member(community, member, principal);
            return 0;
        });
        return info.Env().Undefined();
    }
    Napi::Value remove_community_member(const Napi::CallbackInfo& info) {
        const auto community = text(info[0], "communityId");
        const auto member = text(info[1], "member");
        const auto principal = optional_text(info[2], "principal").value_or("");
        on([&](ContentStore& c) {
            c.remove_community_member(community, member, principal);
            return 0;
        });
        return info.Env().Undefined();
    }
    // communitiesOf(member, principal): those of member's communities principal may see.
    Napi::Value communities_of(const Napi::CallbackInfo& info) {
        const auto member = text(info[0], "member");
        const auto principal = optional_text(info[1], "principal").value_or("");
        return strings(info.Env(),
                       on([&](ContentStore& c) { return c.communities_of(member, principal); }));
    }

    // setReference(name, version, contentId, principal) → {name, version, contentId, ...}.
    Napi::Value set_reference(const Napi::CallbackInfo& info) {
        const auto name = text(info[0], "name");
        const auto version = text(info[1], "version");
        const auto id = text(info[2], "contentId");
        const auto principal = text(info[3], "principal");
        return reference_object(info.Env(), on([&](ContentStore& c) {
                                    return c.set_reference(name, version, id, principal);
                                }));
    }
    // resolveReference("name@version" or "name", principal = '') → the reference (without
    // version: the latest whose content principal may read).
    Napi::Value resolve_reference(const Napi::CallbackInfo& info) {
        const auto [name, version] = parse_reference(text(info[0], "reference"));
        const auto principal = optional_text(info[1], "principal").value_or("");
        return reference_object(info.Env(), on([&](ContentStore& c) {
                                    std::optional<std::string_view> wanted;
                                    if (version) {
                                        wanted = *version;
                                    }
                                    return c.resolve_reference(name, wanted, principal);
                                }));
    }
    // referenceVersions(name, principal = '') → the versions principal may see, oldest first.
    Napi::Value reference_versions(const Napi::CallbackInfo& info) {
        const auto name = text(info[0], "name");
        const auto principal = optional_text(info[1], "principal").value_or("");
        const auto references =
            on([&](ContentStore& c) { return c.reference_versions(name, principal); });
        auto array = Napi::Array::New(info.Env(), references.size());
        for (std::size_t i = 0; i < references.size(); ++i) {
            array.Set(static_cast<std::uint32_t>(i), reference_object(info.Env(), references[i]));
        }
        return array;
    }
    // removeReference("name@version", principal): only the name's owner.
    Napi::Value remove_reference(const Napi::CallbackInfo& info) {
        const auto [name, version] = parse_reference(text(info[0], "reference"));
        if (!version) {
            throw Error::invalid("reference", name, "must be name@version");
        }
        const auto principal = optional_text(info[1], "principal").value_or("");
        on([&](ContentStore& c) {
            c.remove_reference(name, *version, principal);
            return 0;
        });
        return info.Env().Undefined();
    }

    // setQuota(owner, {uploadBytesPerHour, totalBytes?}).
    Napi::Value set_quota(const Napi::CallbackInfo& info) {
        const auto owner = text(info[0], "owner");
        const auto given = options(info[1], "quota");
        Quota quota;
        quota.upload_bytes_per_hour =
            optional_integer(given.Get("uploadBytesPerHour"), "uploadBytesPerHour")
                .value_or(quota.upload_bytes_per_hour);
        quota.total_bytes = optional_integer(given.Get("totalBytes"), "totalBytes");
        on([&](ContentStore& c) {
            c.set_quota(owner, quota);
            return 0;
        });
        return quota_object(info.Env(), quota);
    }
    Napi::Value quota(const Napi::CallbackInfo& info) {
        const auto owner = text(info[0], "owner");
        return quota_object(info.Env(), on([&](ContentStore& c) { return c.quota(owner); }));
    }

    // collectGarbage() → Promise<number> of blocks removed.
    Napi::Value collect_garbage(const Napi::CallbackInfo& info) {
        return run_on_hub<std::int64_t>(
            info.Env(), handle_, [](Hub& hub) { return hub.content_store().collect_garbage(); },
            [](Napi::Env env, std::int64_t& removed) -> Napi::Value {
                return Napi::Number::New(env, static_cast<double>(removed));
            });
    }

    std::shared_ptr<HubHandle> handle_;
};

}  // namespace

Napi::Function define_content_store(Napi::Env env) {
    auto cls = ContentStoreObject::define(env);
    cls.Set("putOptionsFromJson",
            Napi::Function::New(env, put_options_from_json, "putOptionsFromJson"));
    return cls;
}

Napi::Object make_content_store(Napi::Env env, const std::shared_ptr<HubHandle>& handle) {
    auto copy = handle;
    return ContentStoreObject::make(addon(env).content_store_class,
                                    Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy));
}

}  // namespace sihlicon::node
