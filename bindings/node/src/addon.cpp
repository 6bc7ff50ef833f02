// SPDX-License-Identifier: Apache-2.0
//
// sihlicon.node: the native half of the npm package `sihlicon`. It binds the C++ API directly
// (not the C ABI): Hub.open and the blocking calls return Promises (AsyncWorker on libuv's
// thread pool), the in-memory and short calls are synchronous, errors become SihliconError
// with .code and .field, records become plain objects parsed from their to_json(), and every
// handle is type-tagged. The JavaScript layer (index.js) adds the SDK-shaped client.
#include "common.hpp"

#include <sihlicon/principal.hpp>
#include "core/json.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/crypto.hpp>
#include <sihlicon/peers.hpp>
#include <sihlicon/version.hpp>

#include <tuple>

namespace sihlicon::node {
namespace {

// ---- ManualClock: a clock tests and simulations move by hand ----------------------------------

class ManualClockObject : public Napi::ObjectWrap<ManualClockObject> {
  public:
    static constexpr const char* kName = "ManualClock";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a1ULL, 0x9e3779b97f4a7c15ULL};

    explicit ManualClockObject(const Napi::CallbackInfo& info)
        : Napi::ObjectWrap<ManualClockObject>(info) {
        guarded(info.Env(), [&]() -> Napi::Value {
            const auto start = info.Length() > 0 ? timestamp(info[0], "startMs") : Timestamp{};
            clock_ = std::make_shared<ManualClock>(start);
            return info.Env().Undefined();
        });
        const napi_status status = napi_type_tag_object(info.Env(), info.This(), &kTypeTag);
        NAPI_THROW_IF_FAILED_VOID(info.Env(), status);
    }

    static Napi::Function define(Napi::Env env) {
        const auto method = [&](const char* name,
                                Napi::Value (*function)(const Napi::CallbackInfo&)) {
            return Napi::PropertyDescriptor::Value(name, Napi::Function::New(env, function, name),
                                                   napi_default_method);
        };
        auto cls = DefineClass(env, kName, {});
        cls.Get("prototype")
            .As<Napi::Object>()
            .DefineProperties({method("nowMs", now_ms), method("setMs", set_ms),
                               method("advanceMs", advance_ms)});
        return cls;
    }

    // The clock behind `value`, which must be a ManualClock (tag checked).
    static std::shared_ptr<ManualClock> clock_of(Napi::Env env, const Napi::Value& value) {
        bool tagged = false;
        if (value.IsObject()) {
            const napi_status status = napi_check_object_type_tag(env, value, &kTypeTag, &tagged);
            NAPI_THROW_IF_FAILED(env, status, nullptr);
        }
        if (!tagged) {
            throw Napi::TypeError::New(env, "clock: not a sihlicon.ManualClock");
        }
        return Unwrap(value.As<Napi::Object>())->clock_;
    }

  private:
    // Methods are static: `this` is checked by its tag before it is unwrapped.
    static Napi::Value now_ms(const Napi::CallbackInfo& info) {
        const auto now = clock_of(info.Env(), info.This())->now();
        return Napi::Number::New(info.Env(), static_cast<double>(now.ms()));
    }
    static Napi::Value set_ms(const Napi::CallbackInfo& info) {
        auto clock = clock_of(info.Env(), info.This());
        return guarded(info.Env(), [&]() -> Napi::Value {
            clock->set(timestamp(info[0], "ms"));
            return info.Env().Undefined();
        });
    }
    static Napi::Value advance_ms(const Napi::CallbackInfo& info) {
        auto clock = clock_of(info.Env(), info.This());
        return guarded(info.Env(), [&]() -> Napi::Value {
            clock->advance(std::chrono::milliseconds(integer(info[0], "ms")));
            return info.Env().Undefined();
        });
    }

    std::shared_ptr<ManualClock> clock_;
};

// ---- Hub ------------------------------------------------------------------------------------

class HubObject : public Handle<HubObject> {
  public:
    static constexpr const char* kName = "Hub";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a2ULL, 0x3c6ef372fe94f82bULL};

    explicit HubObject(const Napi::CallbackInfo& info)
        : Handle<HubObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()) {
        Napi::Env env = info.Env();
        auto self = info.This().As<Napi::Object>();
        const auto constant = [&](const char* name, Napi::Value value) {
            self.DefineProperty(Napi::PropertyDescriptor::Value(name, value, napi_enumerable));
        };
        constant("directory", Napi::String::New(env, with_hub(handle_, [](Hub& hub) {
                                                    return hub.directory().string();
                                                })));
        constant("scheduler", make_scheduler(env, handle_));
        constant("contentStore", make_content_store(env, handle_));
        constant("heatLedger", make_heat_ledger(env, handle_));
        constant("settlement", make_settlement(env, handle_));
    }

    static Napi::Function define(Napi::Env env) {
        auto cls = define_class(
            env,
            {entry<&HubObject::info>(env, "info"), entry<&HubObject::now_ms>(env, "nowMs"),
             async_entry<&HubObject::close>(env, "close"),
             entry<&HubObject::is_closed>(env, "isClosed"),
             entry<&HubObject::worker_agent>(env, "workerAgent"),
             entry<&HubObject::server>(env, "_server"),
             entry<&HubObject::create_token>(env, "createToken"),
             entry<&HubObject::list_tokens>(env, "listTokens"),
             entry<&HubObject::revoke_token>(env, "revokeToken"),
             entry<&HubObject::settings>(env, "settings"),
             entry<&HubObject::set_setting>(env, "setSetting"),
             entry<&HubObject::update_settings>(env, "updateSettings"),
             entry<&HubObject::settings_history>(env, "settingsHistory"),
             entry<&HubObject::add_peer>(env, "addPeer"), entry<&HubObject::peers>(env, "peers"),
             entry<&HubObject::remove_peer>(env, "removePeer"),
             entry<&HubObject::events_after>(env, "eventsAfter"),
             async_entry<&HubObject::wait_for_events>(env, "waitForEvents"),
             entry<&HubObject::last_event_sequence>(env, "lastEventSequence")});
        cls.DefineProperty(Napi::PropertyDescriptor::Function(env, cls, "open", open));
        cls.DefineProperty(Napi::PropertyDescriptor::Value(
            "latestSchemaVersion", Napi::Number::New(env, Hub::latest_schema_version())));
        return cls;
    }

  private:
    // Hub.open(directory, options?) → Promise<Hub>.
    static Napi::Value open(const Napi::CallbackInfo& info) {
        Napi::Env env = info.Env();
        return guarded_async(env, [&]() -> Napi::Value {
            const auto directory = text(info[0], "directory");
            const auto given = options(info[1], "options");
            HubOptions hub_options;
            hub_options.create_if_missing =
                boolean(given.Get("createIfMissing"), "createIfMissing", true);
            if (auto ms = optional_integer(given.Get("busyTimeoutMs"), "busyTimeoutMs")) {
                hub_options.busy_timeout = std::chrono::milliseconds(*ms);
            }
            if (auto durability = optional_text(given.Get("durability"), "durability")) {
                if (*durability == "power_loss") {
                    hub_options.durability = Durability::power_loss;
                } else if (*durability == "process_crash") {
                    hub_options.durability = Durability::process_crash;
                } else {
                    throw Error::invalid("durability", *durability,
                                         "must be power_loss or process_crash");
                }
            }
            if (auto check = optional_text(given.Get("integrityCheck"), "integrityCheck")) {
                if (*check == "none") {
                    hub_options.integrity_check = IntegrityCheck::none;
                } else if (*check == "quick") {
                    hub_options.integrity_check = IntegrityCheck::quick;
                } else if (*check == "full") {
                    hub_options.integrity_check = IntegrityCheck::full;
                } else {
                    throw Error::invalid("integrityCheck", *check, "must be none, quick or full");
                }
            }
            if (auto readers =
                    optional_integer(given.Get("readerConnections"), "readerConnections")) {
                if (*readers < 1 || *readers > 64) {
                    throw Error::invalid("readerConnections", std::to_string(*readers),
                                         "must be 1 .. 64");
                }
                hub_options.reader_connections = static_cast<int>(*readers);
            }
            if (auto ms = optional_integer(given.Get("commitIntervalMs"), "commitIntervalMs")) {
                if (*ms < 0) {
                    throw Error::invalid("commitIntervalMs", std::to_string(*ms),
                                         "must not be negative (0 commits every write)");
                }
                hub_options.commit_interval = std::chrono::milliseconds(*ms);
            }
            if (!is_absent(given.Get("clock"))) {
                hub_options.clock = ManualClockObject::clock_of(env, given.Get("clock"));
            }
            // The hub-wide keys are the initial settings of a hub this open creates.
            HubSettings initial;
            apply_scheduler_options(hub_options.scheduler, initial,
                                    options(given.Get("scheduler"), "scheduler"), false);
            apply_settlement_options(initial, options(given.Get("settlement"), "settlement"));
            hub_options.initial_settings = initial;
            return run_async<std::shared_ptr<HubHandle>>(
                env,
                [directory, hub_options] {
                    return std::make_shared<HubHandle>(Hub::open(directory, hub_options));
                },
                [](Napi::Env e, std::shared_ptr<HubHandle>& handle) -> Napi::Value {
                    auto external = Napi::External<std::shared_ptr<HubHandle>>::New(e, &handle);
                    return make(addon(e).hub_class, external);
                });
        });
    }

    Napi::Value info(const Napi::CallbackInfo& info) {
        return record(info.Env(), with_hub(handle_, [](Hub& hub) { return hub.info(); }));
    }

    // ---- settings (the one JSON codec of HubSettings) ----
    Napi::Value settings(const Napi::CallbackInfo& info) {
        return record(info.Env(), with_hub(handle_, [](Hub& hub) { return hub.settings(); }));
    }
    // setSetting(key, value, by = 'operator'): one key from its text ("0.05", "60s", "true").
    Napi::Value set_setting(const Napi::CallbackInfo& info) {
        const auto key = text(info[0], "key");
        const auto value = text(info[1], "value");
        const auto by = optional_text(info[2], "by").value_or(std::string(kOperatorPrincipal));
        return record(info.Env(),
                      with_hub(handle_, [&](Hub& hub) { return hub.set_setting(key, value, by); }));
    }
    // updateSettings(patch, by = 'operator'): the keys of `patch` (an object or its JSON).
    Napi::Value update_settings(const Napi::CallbackInfo& info) {
        const auto patch = json_text(info.Env(), info[0], "patch");
        const auto by = optional_text(info[1], "by").value_or(std::string(kOperatorPrincipal));
        return record(info.Env(),
                      with_hub(handle_, [&](Hub& hub) { return hub.patch_settings(patch, by); }));
    }
    // settingsHistory({afterSeq = 0, limit = 1000}?) → [{seq, at, by, key, old, new}].
    Napi::Value settings_history(const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "options");
        const auto after = optional_integer(given.Get("afterSeq"), "afterSeq").value_or(0);
        const auto limit = optional_integer(given.Get("limit"), "limit").value_or(1000);
        return records(info.Env(), with_hub(handle_, [&](Hub& hub) {
                           return hub.settings_history(after, limit);
                       }));
    }

    // ---- peers (peers.hpp): {hubId, url, addedAt}, never a token ----
    // addPeer(hubId, url, token, {by = 'operator'}?).
    Napi::Value add_peer(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto url = text(info[1], "url");
        const auto token = text(info[2], "token");
        const auto by = optional_text(options(info[3], "options").Get("by"), "by")
                            .value_or(std::string(kOperatorPrincipal));
        return record(info.Env(), with_hub(handle_, [&](Hub& hub) {
                          return Peers(hub).add(by, hub_id, url, token);
                      }));
    }
    // peers({by = 'operator'}?).
    Napi::Value peers(const Napi::CallbackInfo& info) {
        const auto by = optional_text(options(info[0], "options").Get("by"), "by")
                            .value_or(std::string(kOperatorPrincipal));
        return records(info.Env(),
                       with_hub(handle_, [&](Hub& hub) { return Peers(hub).list(by); }));
    }
    // removePeer(hubId, {by = 'operator'}?).
    Napi::Value remove_peer(const Napi::CallbackInfo& info) {
        const auto hub_id = text(info[0], "hubId");
        const auto by = optional_text(options(info[1], "options").Get("by"), "by")
                            .value_or(std::string(kOperatorPrincipal));
        return record(info.Env(),
                      with_hub(handle_, [&](Hub& hub) { return Peers(hub).remove(by, hub_id); }));
    }

    // eventsAfter({after = 0, limit = 100, principal = 'operator', workerId?}?) → the hub's
    // events after `after` that the reader may see (include/sihlicon/events.hpp).
    Napi::Value events_after(const Napi::CallbackInfo& info) {
        const auto [after, limit, reader] = event_read(info);
        return records(info.Env(), with_hub(handle_, [&](Hub& hub) {
                           return hub.events_after(after, limit, reader);
                       }));
    }
    // waitForEvents({..., timeoutMs = 1000}?) → Promise of the same, once there is one (from
    // any process) or the time is up (then []). Waits on the thread pool.
    Napi::Value wait_for_events(const Napi::CallbackInfo& info) {
        const auto [after, limit, reader] = event_read(info);
        const auto timeout = std::chrono::milliseconds(
            optional_integer(options(info[0], "options").Get("timeoutMs"), "timeoutMs")
                .value_or(1000));
        return run_on_hub<std::vector<HubEvent>>(
            info.Env(), handle_,
            [after = after, limit = limit, reader = reader, timeout](Hub& hub) {
                return hub.wait_for_events(after, limit, reader, timeout);
            },
            [](Napi::Env e, std::vector<HubEvent>& events) { return records(e, events); });
    }

    // lastEventSequence() → the sequence of the last event in the log (0: none).
    Napi::Value last_event_sequence(const Napi::CallbackInfo& info) {
        const auto last = with_hub(handle_, [](Hub& hub) { return hub.last_event_sequence(); });
        return Napi::Number::New(info.Env(), static_cast<double>(last));
    }

    static std::tuple<std::int64_t, std::int64_t, EventReader> event_read(
        const Napi::CallbackInfo& info) {
        const auto given = options(info[0], "options");
        return {optional_integer(given.Get("after"), "after").value_or(0),
                optional_integer(given.Get("limit"), "limit").value_or(100),
                EventReader{optional_text(given.Get("principal"), "principal")
                                .value_or(std::string(kOperatorPrincipal)),
                            optional_text(given.Get("workerId"), "workerId").value_or("")}};
    }

    Napi::Value now_ms(const Napi::CallbackInfo& info) {
        const auto now = with_hub(handle_, [](Hub& hub) { return hub.clock().now(); });
        return Napi::Number::New(info.Env(), static_cast<double>(now.ms()));
    }

    // close() → Promise<void>: waits on the thread pool for the calls in progress.
    Napi::Value close(const Napi::CallbackInfo& info) {
        auto handle = handle_;
        return run_async<bool>(
            info.Env(),
            [handle] {
                handle->close();
                return true;
            },
            [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
    }

    // workerAgent(options) → a WorkerAgent for this hub, not yet started.
    Napi::Value worker_agent(const Napi::CallbackInfo& info) {
        HubHandle::Pin pin(handle_);  // refuses a closed hub
        return make_worker_agent(info.Env(), handle_, options(info[0], "options"));
    }

    // _server(optionsJson, accessLog) → a Server for this hub, not yet started (server.js).
    Napi::Value server(const Napi::CallbackInfo& info) {
        HubHandle::Pin pin(handle_);  // refuses a closed hub
        return make_server(info.Env(), handle_, info[0], info[1]);
    }

    Napi::Value create_token(const Napi::CallbackInfo& info) {
        return node::create_token(info, handle_);
    }
    Napi::Value list_tokens(const Napi::CallbackInfo& info) {
        return node::list_tokens(info, handle_);
    }
    Napi::Value revoke_token(const Napi::CallbackInfo& info) {
        return node::revoke_token(info, handle_);
    }

    Napi::Value is_closed(const Napi::CallbackInfo& info) {
        return Napi::Boolean::New(info.Env(), handle_->closed());
    }

    std::shared_ptr<HubHandle> handle_;
};

// ---- no hub needed --------------------------------------------------------------------------

// An address or an array of addresses (undefined or null: none) to trust.
std::vector<crypto::Address> trusted_signers(const Napi::Value& value) {
    std::vector<crypto::Address> addresses;
    if (value.IsArray()) {
        const auto array = value.As<Napi::Array>();
        for (std::uint32_t i = 0; i < array.Length(); ++i) {
            const auto field = "trustedSigners[" + std::to_string(i) + "]";
            addresses.push_back(crypto::Address::parse(text(array.Get(i), field), field));
        }
    } else if (auto one = optional_text(value, "trustedSigners")) {
        addresses.push_back(crypto::Address::parse(*one, "trustedSigners"));
    }
    return addresses;
}

// verifyReceipt(receipt, trustedSigners?) → {status, valid, signerTrusted, problem, jobId,
// epochId, signer}.
Napi::Value verify_receipt_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        const auto receipt = json_text(env, info[0], "receipt");
        return receipt_check_object(env, verify_receipt(receipt, trusted_signers(info[1])));
    });
}

// parseJson(text | Buffer) → value: JSON read by the library's one strict parser (a repeated
// member name, bytes that are not UTF-8 or a lone surrogate escape: invalid_argument), for
// hosts such as the REST example that read request bodies.
Napi::Value parse_json_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        std::string storage;
        const auto raw = bytes(info[0], "text", storage);
        const std::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
        return parse_json(env, json::serialize(json::parse(text, "body")));
    });
}

// computeCid(data, {chunkSize, maxLinks}?) → Promise<string>.
Napi::Value compute_cid_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded_async(env, [&]() -> Napi::Value {
        auto storage = std::make_shared<std::string>();
        const auto data = bytes(info[0], "data", *storage);
        const auto given = options(info[1], "options");
        UnixfsOptions unixfs;
        if (auto size = optional_integer(given.Get("chunkSize"), "chunkSize")) {
            unixfs.chunk_size = static_cast<std::size_t>(std::max<std::int64_t>(*size, 0));
        }
        if (auto links = optional_integer(given.Get("maxLinks"), "maxLinks")) {
            unixfs.max_links = static_cast<std::size_t>(std::max<std::int64_t>(*links, 0));
        }
        unixfs.validate();
        return run_async<std::string>(
            env, [data, unixfs, storage] { return compute_cid(data, unixfs).to_string(); },
            [](Napi::Env e, std::string& cid) -> Napi::Value { return Napi::String::New(e, cid); },
            {info[0]});
    });
}

Napi::Value proof_of_execution_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        return Napi::String::New(
            env, proof_of_execution(text(info[0], "jobId"), text(info[1], "resultHash"),
                                    text(info[2], "workerId")));
    });
}

// eip191Sign(privateKey, message) → "0x" + 130 hex digits; message a string (UTF-8) or bytes.
Napi::Value eip191_sign_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        const auto key = crypto::PrivateKey::parse(text(info[0], "privateKey"), "privateKey");
        std::string storage;
        return Napi::String::New(env,
                                 key.sign_message(bytes(info[1], "message", storage)).to_hex());
    });
}

// eip191Verify(message, signature, address) → whether the address's key signed the message.
Napi::Value eip191_verify_function(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
        std::string storage;
        const auto message = bytes(info[0], "message", storage);
        const auto signature = crypto::Signature::parse(text(info[1], "signature"), "signature");
        const auto address = crypto::Address::parse(text(info[2], "address"), "address");
        return Napi::Boolean::New(env, crypto::verify_message(message, signature, address));
    });
}

// The package's SihliconError class, registered by index.js at load.
Napi::Value set_error_class(const Napi::CallbackInfo& info) {
    if (!info[0].IsFunction()) {
        throw Napi::TypeError::New(info.Env(), "an error class is required");
    }
    addon(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
    return info.Env().Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
    auto* data = new AddonData();
    env.SetInstanceData(data);
    auto json = env.Global().Get("JSON").As<Napi::Object>();
    data->json_parse = Napi::Persistent(json.Get("parse").As<Napi::Function>());
    data->json_stringify = Napi::Persistent(json.Get("stringify").As<Napi::Function>());

    auto hub = HubObject::define(env);
    data->hub_class = Napi::Persistent(hub);
    auto clock = ManualClockObject::define(env);
    data->manual_clock_class = Napi::Persistent(clock);
    auto scheduler = define_scheduler(env);
    data->scheduler_class = Napi::Persistent(scheduler);
    auto content_store = define_content_store(env);
    data->content_store_class = Napi::Persistent(content_store);
    auto heat_ledger = define_heat_ledger(env);
    data->heat_ledger_class = Napi::Persistent(heat_ledger);
    auto settlement = define_settlement(env);
    data->settlement_class = Napi::Persistent(settlement);
    auto worker_agent = define_worker_agent(env);
    data->worker_agent_class = Napi::Persistent(worker_agent);
    data->server_class = Napi::Persistent(define_server(env));

    exports.Set("Hub", hub);
    exports.Set("ManualClock", clock);
    exports.Set("Scheduler", scheduler);
    exports.Set("ContentStore", content_store);
    exports.Set("HeatLedger", heat_ledger);
    exports.Set("Settlement", settlement);
    exports.Set("WorkerAgent", worker_agent);
    exports.Set("verifyReceipt",
                Napi::Function::New(env, verify_receipt_function, "verifyReceipt"));
    exports.Set("parseJson", Napi::Function::New(env, parse_json_function, "parseJson"));
    exports.Set("computeCid", Napi::Function::New(env, compute_cid_function, "computeCid"));
    exports.Set("proofOfExecution",
                Napi::Function::New(env, proof_of_execution_function, "proofOfExecution"));
    exports.Set("eip191Sign", Napi::Function::New(env, eip191_sign_function, "eip191Sign"));
    exports.Set("eip191Verify", Napi::Function::New(env, eip191_verify_function, "eip191Verify"));
    exports.Set("_setErrorClass", Napi::Function::New(env, set_error_class, "_setErrorClass"));
    exports.Set("version", Napi::String::New(env, std::string(library_version())));
    return exports;
}

}  // namespace
}  // namespace sihlicon::node

namespace {
Napi::Object init_sihlicon(Napi::Env env, Napi::Object exports) {
    return sihlicon::node::init(env, exports);
}
}  // namespace

NODE_API_MODULE(sihlicon, init_sihlicon)
