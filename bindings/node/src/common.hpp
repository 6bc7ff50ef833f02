// SPDX-License-Identifier: Apache-2.0
//
// What the files of the Node addon sihlicon.node share: the open hub that every handle holds
// (HubHandle), the type-tagged handle classes, the conversion of sihlicon::Error into the
// package's SihliconError, the records as plain objects parsed from their to_json(), the
// reading of JavaScript arguments into C++ values, and a Promise-returning AsyncWorker for
// the calls that block on disk.
//
// Threads: every JavaScript call runs on the main thread. Synchronous methods call the library
// there (its in-memory work and short transactions); asynchronous ones run it on libuv's
// thread pool and settle their Promise back on the main thread.
#pragma once

#include <sihlicon/content_store.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settlement.hpp>

#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon::node {

// ---- the open hub -------------------------------------------------------------------------

// The Hub that the JavaScript objects Hub, Scheduler, ContentStore, HeatLedger and Settlement
// share. Every call pins it for as long as it uses it; close() refuses new calls and waits
// until the pinned ones have left, so the hub is never destroyed under a call running on the
// thread pool (the C++ Hub's destructor requires that no other thread uses it).
class HubHandle {
  public:
    explicit HubHandle(Hub hub) : hub_(std::move(hub)) {}

    class Pin {
      public:
        // Throws Error(conflict) once the hub is closed or closing.
        explicit Pin(std::shared_ptr<HubHandle> handle);
        Pin(const Pin&) = delete;
        Pin& operator=(const Pin&) = delete;
        ~Pin();
        Hub& hub() const { return *handle_->hub_; }

      private:
        std::shared_ptr<HubHandle> handle_;
    };

    // Refuses new calls, waits for the pinned ones, then closes the hub. Closing twice does
    // nothing. Blocks: call it on the thread pool.
    void close();
    bool closed() const;

    // Registers `stop`, run by close() (on the thread pool) before it waits for the pinned
    // calls: a started worker agent pins the hub until it is stopped. Returns an id for
    // forget(). Throws Error(conflict) once the hub is closing.
    std::uint64_t on_close(std::function<void()> stop);
    void forget(std::uint64_t id);

  private:
    mutable std::mutex mutex_;
    std::condition_variable idle_;
    bool closing_ = false;                                                // GUARDED_BY(mutex_)
    int active_ = 0;                                                      // GUARDED_BY(mutex_)
    std::uint64_t next_hook_ = 1;                                         // GUARDED_BY(mutex_)
    std::vector<std::pair<std::uint64_t, std::function<void()>>> hooks_;  // GUARDED_BY(mutex_)
    std::optional<Hub> hub_;
};

// ---- per-addon state ------------------------------------------------------------------------

struct AddonData {
    Napi::FunctionReference json_parse;
    Napi::FunctionReference json_stringify;
    Napi::FunctionReference error_class;  // SihliconError of index.js, once registered
    Napi::FunctionReference hub_class;
    Napi::FunctionReference scheduler_class;
    Napi::FunctionReference content_store_class;
    Napi::FunctionReference heat_ledger_class;
    Napi::FunctionReference settlement_class;
    Napi::FunctionReference manual_clock_class;
    Napi::FunctionReference worker_agent_class;
    Napi::FunctionReference server_class;
};

AddonData& addon(Napi::Env env);

// ---- errors ---------------------------------------------------------------------------------

// A SihliconError (or a plain Error before index.js registered the class) with .code (the
// ErrorCode's name: "invalid_argument", "not_found", ...) and .field (absent when empty; a
// snake_case record field of the library is given in camelCase, as this API spells it).
Napi::Error to_js_error(Napi::Env env, const Error& error);
// The same for any exception caught by the addon (std::exception: code "internal").
Napi::Error to_js_error(Napi::Env env, const std::exception_ptr& error);

// Runs `work` and converts what it throws (sihlicon::Error and other C++ exceptions) into a
// JavaScript exception.
template <typename Work>
Napi::Value guarded(Napi::Env env, Work&& work) {
    try {
        return std::forward<Work>(work)();
    } catch (const Napi::Error&) {
        throw;
    } catch (...) {
        throw to_js_error(env, std::current_exception());
    }
}

// The same for a method that returns a Promise: what it throws before its work is queued
// (a bad argument, a closed hub) becomes a rejected Promise, never a synchronous throw.
template <typename Work>
Napi::Value guarded_async(Napi::Env env, Work&& work) {
    try {
        return std::forward<Work>(work)();
    } catch (const Napi::Error& error) {
        auto deferred = Napi::Promise::Deferred::New(env);
        deferred.Reject(error.Value());
        return deferred.Promise();
    } catch (...) {
        auto deferred = Napi::Promise::Deferred::New(env);
        deferred.Reject(to_js_error(env, std::current_exception()).Value());
        return deferred.Promise();
    }
}

// ---- type-tagged handles ----------------------------------------------------------------------

// A token only the addon can pass: the handle classes refuse `new` from JavaScript.
inline int construction_token = 0;

// The base of the addon's classes. Each instance is tagged with its class's napi_type_tag at
// construction, and every method first checks the tag of `this`, so calling a method on a
// foreign object (Scheduler.prototype.job.call(contentStore, ...)) throws a TypeError
// instead of reading the wrong C++ type.
template <typename T>
class Handle : public Napi::ObjectWrap<T> {
  public:
    explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {
        if (info.Length() < 1 || !info[0].IsExternal() ||
            info[0].As<Napi::External<int>>().Data() != &construction_token) {
            throw Napi::TypeError::New(info.Env(), std::string("sihlicon.") + T::kName +
                                                       " objects are made by the library");
        }
        const napi_status status = napi_type_tag_object(info.Env(), info.This(), &T::kTypeTag);
        NAPI_THROW_IF_FAILED_VOID(info.Env(), status);
    }

    // The C++ object behind `value`. Throws a TypeError unless `value` carries T's tag.
    static T& unwrap(Napi::Env env, Napi::Value value) {
        bool tagged = false;
        if (value.IsObject()) {
            const napi_status status =
                napi_check_object_type_tag(env, value, &T::kTypeTag, &tagged);
            NAPI_THROW_IF_FAILED(env, status, *static_cast<T*>(nullptr));
        }
        if (!tagged) {
            throw Napi::TypeError::New(env, std::string("not a sihlicon.") + T::kName);
        }
        return *T::Unwrap(value.As<Napi::Object>());
    }

    using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);

    // A method of the prototype: checks `this`, then runs the method guarded. (V8 class
    // templates hold only primitives and templates, so the methods are set on the prototype
    // after the class is defined: see define_class.)
    template <Method method>
    static Napi::PropertyDescriptor entry(Napi::Env env, const char* name) {
        auto function = Napi::Function::New(
            env,
            [](const Napi::CallbackInfo& info) -> Napi::Value {
                T& self = unwrap(info.Env(), info.This());
                return guarded(info.Env(), [&] { return (self.*method)(info); });
            },
            name);
        return Napi::PropertyDescriptor::Value(name, function, napi_default_method);
    }

    // The same for a method that returns a Promise: every failure is a rejection.
    template <Method method>
    static Napi::PropertyDescriptor async_entry(Napi::Env env, const char* name) {
        auto function = Napi::Function::New(
            env,
            [](const Napi::CallbackInfo& info) -> Napi::Value {
                return guarded_async(info.Env(), [&] {
                    T& self = unwrap(info.Env(), info.This());
                    return (self.*method)(info);
                });
            },
            name);
        return Napi::PropertyDescriptor::Value(name, function, napi_default_method);
    }

    // The class T with `methods` on its prototype.
    static Napi::Function define_class(Napi::Env env,
                                       const std::vector<Napi::PropertyDescriptor>& methods) {
        auto cls = Napi::ObjectWrap<T>::DefineClass(env, T::kName, {});
        auto prototype = cls.Get("prototype").template As<Napi::Object>();
        prototype.DefineProperties(methods);
        return cls;
    }

    // Makes an instance from C++: `new T(token, external)`.
    static Napi::Object make(const Napi::FunctionReference& constructor, Napi::Value external) {
        auto token = Napi::External<int>::New(constructor.Env(), &construction_token);
        return constructor.New({token, external});
    }
};

// What the service handles hold: the shared hub.
struct ServiceState {
    std::shared_ptr<HubHandle> handle;
};

// Runs `work(hub)` with the hub pinned.
template <typename Work>
auto with_hub(const std::shared_ptr<HubHandle>& handle, Work&& work) {
    HubHandle::Pin pin(handle);
    return std::forward<Work>(work)(pin.hub());
}

// ---- asynchronous work ----------------------------------------------------------------------

// Runs `work()` on the thread pool and settles a Promise with `convert(env, result)` on the main
// thread, or rejects it with the converted exception. `keep` holds JavaScript values (a Buffer
// being read) alive until then.
template <typename Result>
class Task : public Napi::AsyncWorker {
  public:
    using Work = std::function<Result()>;
    using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

    Task(Napi::Env env, Work work, Convert convert, std::vector<Napi::Value> keep = {})
        : Napi::AsyncWorker(env, "sihlicon"),
          deferred_(Napi::Promise::Deferred::New(env)),
          work_(std::move(work)),
          convert_(std::move(convert)) {
        for (auto& value : keep) {
            if (value.IsObject()) {  // strings are copied by the caller; only objects are held
                keep_.push_back(Napi::Persistent(value));
            }
        }
    }

    Napi::Promise promise() const { return deferred_.Promise(); }

  protected:
    void Execute() override {
        try {
            result_.emplace(work_());
        } catch (...) {
            error_ = std::current_exception();
        }
        work_ = nullptr;  // drops the pin (and whatever else the work held) on this thread
    }

    void OnOK() override {
        Napi::Env env = Env();
        Napi::HandleScope scope(env);
        if (error_) {
            deferred_.Reject(to_js_error(env, error_).Value());
            return;
        }
        try {
            deferred_.Resolve(convert_(env, *result_));
        } catch (const Napi::Error& error) {
            deferred_.Reject(error.Value());
        } catch (...) {
            deferred_.Reject(to_js_error(env, std::current_exception()).Value());
        }
    }

    void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    Work work_;
    Convert convert_;
    std::vector<Napi::Reference<Napi::Value>> keep_;
    std::optional<Result> result_;
    std::exception_ptr error_;
};

// Queues a Task and returns its Promise.
template <typename Result>
Napi::Promise run_async(Napi::Env env, std::function<Result()> work,
                        typename Task<Result>::Convert convert,
                        std::vector<Napi::Value> keep = {}) {
    auto* task = new Task<Result>(env, std::move(work), std::move(convert), std::move(keep));
    auto promise = task->promise();
    task->Queue();  // the worker deletes itself after OnOK / OnError
    return promise;
}

// Queues `work(hub)` with the hub pinned from now (so close() waits for it) until it ends.
template <typename Result>
Napi::Promise run_on_hub(Napi::Env env, const std::shared_ptr<HubHandle>& handle,
                         std::function<Result(Hub&)> work, typename Task<Result>::Convert convert,
                         std::vector<Napi::Value> keep = {}) {
    auto pin = std::make_shared<HubHandle::Pin>(handle);
    return run_async<Result>(
        env, [pin, work = std::move(work)] { return work(pin->hub()); }, std::move(convert),
        std::move(keep));
}

// ---- records to JavaScript ------------------------------------------------------------------

// JSON.parse(text).
Napi::Value parse_json(Napi::Env env, const std::string& text);
// JSON.stringify(value).
std::string stringify(Napi::Env env, Napi::Value value);

// A record as the plain object its to_json() describes.
template <typename Record>
Napi::Value record(Napi::Env env, const Record& value) {
    return parse_json(env, value.to_json());
}

// Records as an array of those objects (one JSON.parse for the whole list).
template <typename Record>
Napi::Value records(Napi::Env env, const std::vector<Record>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            text += ',';
        }
        text += values[i].to_json();
    }
    text += ']';
    return parse_json(env, text);
}

Napi::Value iso(Napi::Env env, Timestamp value);
Napi::Value optional_string(Napi::Env env, const std::optional<std::string>& value);
Napi::Array strings(Napi::Env env, const std::vector<std::string>& values);
Napi::Object lease_object(Napi::Env env, const Lease& lease);
Napi::Object receipt_check_object(Napi::Env env, const ReceiptCheck& check);
// The bytes as a Buffer that owns them (no copy where the runtime allows external buffers).
Napi::Value owned_buffer(Napi::Env env, std::vector<std::uint8_t>&& bytes);

// ---- JavaScript arguments to C++ ------------------------------------------------------------

// Each throws Error::invalid(field, ...) (a SihliconError with code "invalid_argument") for a
// value of the wrong type.
bool is_absent(const Napi::Value& value);  // undefined or null
std::string text(const Napi::Value& value, std::string_view field);
std::optional<std::string> optional_text(const Napi::Value& value, std::string_view field);
std::int64_t integer(const Napi::Value& value, std::string_view field);
std::optional<std::int64_t> optional_integer(const Napi::Value& value, std::string_view field);
bool boolean(const Napi::Value& value, std::string_view field, bool fallback);
std::vector<std::string> text_list(const Napi::Value& value, std::string_view field);
// An instant: milliseconds since the epoch, a Date, or an ISO 8601 string.
Timestamp timestamp(const Napi::Value& value, std::string_view field);
std::optional<Timestamp> optional_timestamp(const Napi::Value& value, std::string_view field);
// An object argument, or an empty object when absent.
Napi::Object options(const Napi::Value& value, std::string_view field);
// A JSON document: a string as it is, anything else through JSON.stringify.
std::string json_text(Napi::Env env, const Napi::Value& value, std::string_view field);
// An energy from `<base>Mwh` (integer milliwatt-hours) or `<base>Kwh` (an exact decimal, as a
// string or a number) of `object`; none when both are absent.
std::optional<Energy> optional_energy(const Napi::Object& object, std::string_view base);
// An amount: an exact decimal string ("10.50") in major units of `currency`.
Money money(const Napi::Value& value, const Currency& currency, std::string_view field);
// The bytes of a Buffer, TypedArray or DataView (not copied), or a string's UTF-8 bytes
// (copied into `storage`).
std::span<const std::uint8_t> bytes(const Napi::Value& value, std::string_view field,
                                    std::string& storage);

// Hub.open's `scheduler` and `settlement` options (camelCase keys; unknown keys are refused).
// Their hub-wide keys are hub settings (include/sihlicon/settings.hpp): they go to `settings`
// (the initial settings of a hub the open creates), or, with `settings_fixed`, must equal it
// (scheduler.setOptions changes this process's options only; hub.setSetting the settings).
void apply_scheduler_options(SchedulerOptions& options, HubSettings& settings,
                             const Napi::Object& values, bool settings_fixed);
Napi::Object scheduler_options_object(Napi::Env env, const SchedulerOptions& options,
                                      const HubSettings& settings);
void apply_settlement_options(HubSettings& settings, const Napi::Object& values);

// ---- the parts of the addon, each defined in its own file -----------------------------------

Napi::Function define_scheduler(Napi::Env env);
Napi::Function define_content_store(Napi::Env env);
Napi::Function define_heat_ledger(Napi::Env env);
Napi::Function define_settlement(Napi::Env env);
Napi::Function define_worker_agent(Napi::Env env);
Napi::Function define_server(Napi::Env env);

// The service handles of an open hub.
Napi::Object make_scheduler(Napi::Env env, const std::shared_ptr<HubHandle>& handle);
Napi::Object make_content_store(Napi::Env env, const std::shared_ptr<HubHandle>& handle);
Napi::Object make_heat_ledger(Napi::Env env, const std::shared_ptr<HubHandle>& handle);
Napi::Object make_settlement(Napi::Env env, const std::shared_ptr<HubHandle>& handle);
// hub.workerAgent(options): a stopped WorkerAgent (throws Error::invalid for a bad option).
Napi::Object make_worker_agent(Napi::Env env, const std::shared_ptr<HubHandle>& handle,
                               const Napi::Object& options);

// hub._server(optionsJson, accessLog): a Server, not yet started (server.js wraps it; throws
// Error::invalid for options ServerOptions::from_json refuses).
Napi::Object make_server(Napi::Env env, const std::shared_ptr<HubHandle>& handle,
                         const Napi::Value& options_json, const Napi::Value& access_log);
// hub.createToken(principal, role, {workerId?, by?}) -> {secret, record};
// hub.listTokens({by?}) -> [record]; hub.revokeToken(tokenId, {by?}) -> record.
Napi::Value create_token(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle);
Napi::Value list_tokens(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle);
Napi::Value revoke_token(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle);

}  // namespace sihlicon::node
