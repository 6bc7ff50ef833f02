// SPDX-License-Identifier: Apache-2.0
//
// The hub on the network from Node: the C++ Server (include/sihlicon/server.hpp) of an open
// hub, made by hub._server(optionsJson, accessLog) for the Server class of server.js, and the
// hub's API tokens (include/sihlicon/tokens.hpp). The options are the core's codec
// (ServerOptions::from_json). start() and stop() block (binding, draining), so they run on
// the thread pool and return Promises; access log lines reach JavaScript through a
// thread-safe function.
//
// Lifetime: a started server pins its hub, keeps its JavaScript object alive and keeps Node's
// event loop alive (as a net.Server does); stop() (or hub.close(), which stops the hub's
// servers first) releases all three. A stopped server cannot be started again.
#include "common.hpp"

#include <sihlicon/principal.hpp>
#include <sihlicon/server.hpp>
#include <sihlicon/tokens.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace sihlicon::node {
namespace {

// A running C++ server with the pin on its hub.
struct Running {
    std::unique_ptr<HubHandle::Pin> pin;
    std::unique_ptr<Server> server;
    std::optional<Napi::ThreadSafeFunction> access_log;
    std::uint64_t close_hook = 0;

    // Stops the server, then lets go of the hub and of the JavaScript callback.
    void stop() {
        if (server) {
            server->stop();
            server.reset();
        }
        if (access_log) {
            access_log->Release();
            access_log.reset();
        }
        pin.reset();
    }
};

class ServerObject : public Handle<ServerObject> {
  public:
    static constexpr const char* kName = "Server";
    static constexpr napi_type_tag kTypeTag = {0x5d1a0c0b0c10c4a8ULL, 0x9b05688c2b3e6c1fULL};

    explicit ServerObject(const Napi::CallbackInfo& info)
        : Handle<ServerObject>(info),
          handle_(*info[1].As<Napi::External<std::shared_ptr<HubHandle>>>().Data()),
          options_(ServerOptions::from_json(text(info[2], "options"))) {
        if (info[3].IsFunction()) {
            access_log_ = Napi::Persistent(info[3].As<Napi::Function>());
        } else if (!is_absent(info[3])) {
            throw Error::invalid("accessLog", "", "must be a function");
        }
    }

    ~ServerObject() override {
        // Only a stopped server can be collected: a started one holds a reference to itself.
        if (auto running = take(*state_)) {
            running->stop();
        }
    }

    static Napi::Function define(Napi::Env env) {
        auto cls = define_class(env, {async_entry<&ServerObject::start>(env, "start"),
                                      async_entry<&ServerObject::stop>(env, "stop"),
                                      entry<&ServerObject::port>(env, "port"),
                                      entry<&ServerObject::running>(env, "running")});
        return cls;
    }

  private:
    struct State {
        std::mutex mutex;  // guards `running`; never held while the server stops
        std::shared_ptr<Running> running;
        std::atomic<int> port = 0;  // while running, else 0
    };

    // The running server taken out of the state, so that exactly one caller stops it.
    static std::shared_ptr<Running> take(State& state) {
        std::lock_guard lock(state.mutex);
        state.port = 0;
        return std::exchange(state.running, nullptr);
    }

    // start() → Promise<port>: checks the options, listens and serves.
    Napi::Value start(const Napi::CallbackInfo& info) {
        Napi::Env env = info.Env();
        if (starting_ || started_) {
            throw Error(
                ErrorCode::conflict,
                started_ ? "the server was already started (a stopped server is not started again)"
                         : "the server is starting");
        }
        auto running = std::make_shared<Running>();
        running->pin = std::make_unique<HubHandle::Pin>(handle_);
        auto options = options_;
        // Always a thread-safe function: it keeps the event loop alive while serving.
        auto log = access_log_.IsEmpty()
                       ? Napi::Function::New(env, [](const Napi::CallbackInfo&) {})
                       : access_log_.Value();
        running->access_log = Napi::ThreadSafeFunction::New(env, log, "sihlicon access log", 0, 1);
        if (!access_log_.IsEmpty()) {
            options.access_log = [tsfn = *running->access_log](std::string_view line) mutable {
                auto copy = std::make_shared<std::string>(line);
                tsfn.NonBlockingCall([copy](Napi::Env e, Napi::Function callback) {
                    callback.Call({Napi::String::New(e, *copy)});
                });
            };
        }
        starting_ = true;
        Ref();  // a started server stays alive until stopped
        auto state = state_;
        auto handle = handle_;
        return run_async<std::exception_ptr>(
            env,
            [running, options, state, handle]() mutable -> std::exception_ptr {
                try {
                    running->server = std::make_unique<Server>(running->pin->hub(), options);
                    running->server->start();
                    {
                        std::lock_guard lock(state->mutex);
                        state->running = running;
                        state->port = running->server->port();
                    }
                    // hub.close() stops the server before it waits for the hub's calls.
                    std::weak_ptr<State> weak = state;
                    running->close_hook = handle->on_close([weak] {
                        if (auto alive = weak.lock()) {
                            if (auto taken = take(*alive)) {
                                taken->stop();
                            }
                        }
                    });
                    return nullptr;
                } catch (...) {
                    if (auto taken = take(*state)) {
                        taken->stop();
                    } else {
                        running->stop();
                    }
                    return std::current_exception();
                }
            },
            [this](Napi::Env e, std::exception_ptr& error) -> Napi::Value {
                starting_ = false;
                if (error) {
                    Unref();
                    throw to_js_error(e, error);
                }
                started_ = true;
                return Napi::Number::New(e, state_->port.load());
            },
            {info.This()});
    }

    // stop() → Promise<void>: lets the requests in flight finish, then closes everything.
    // Idempotent.
    Napi::Value stop(const Napi::CallbackInfo& info) {
        auto state = state_;
        auto handle = handle_;
        return run_async<bool>(
            info.Env(),
            [state, handle] {
                if (auto running = take(*state)) {
                    handle->forget(running->close_hook);
                    running->stop();
                }
                return true;
            },
            [this](Napi::Env e, bool&) -> Napi::Value {
                if (started_ && !released_) {
                    released_ = true;
                    Unref();
                }
                return e.Undefined();
            },
            {info.This()});
    }

    // port() → the port listened on; 0 when not running.
    Napi::Value port(const Napi::CallbackInfo& info) {
        return Napi::Number::New(info.Env(), state_->port.load());
    }

    Napi::Value running(const Napi::CallbackInfo& info) {
        return Napi::Boolean::New(info.Env(), state_->port.load() != 0);
    }

    std::shared_ptr<HubHandle> handle_;
    ServerOptions options_;
    Napi::FunctionReference access_log_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
    bool starting_ = false;  // main thread only
    bool started_ = false;   // main thread only: start() succeeded (Ref() held until stop)
    bool released_ = false;  // main thread only: stop() gave the Ref() back
};

Napi::Value token_object(Napi::Env env, const TokenRecord& record) {
    return parse_json(env, record.to_json());
}

}  // namespace

Napi::Function define_server(Napi::Env env) {
    return ServerObject::define(env);
}

Napi::Object make_server(Napi::Env env, const std::shared_ptr<HubHandle>& handle,
                         const Napi::Value& options_json, const Napi::Value& access_log) {
    auto copy = handle;
    auto external = Napi::External<std::shared_ptr<HubHandle>>::New(env, &copy);
    auto token = Napi::External<int>::New(env, &construction_token);
    return addon(env).server_class.New({token, external, options_json, access_log});
}

Napi::Value create_token(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle) {
    const auto principal = text(info[0], "principal");
    const auto role = parse_role(text(info[1], "role"));
    const auto given = options(info[2], "options");
    const auto worker_id = optional_text(given.Get("workerId"), "workerId").value_or("");
    const auto by = optional_text(given.Get("by"), "by").value_or(std::string(kOperatorPrincipal));
    const auto issued = with_hub(
        handle, [&](Hub& hub) { return ApiTokens(hub).create(by, principal, role, worker_id); });
    auto result = Napi::Object::New(info.Env());
    result.Set("secret", Napi::String::New(info.Env(), issued.secret));
    result.Set("record", token_object(info.Env(), issued.record));
    return result;
}

Napi::Value list_tokens(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle) {
    const auto given = options(info[0], "options");
    const auto by = optional_text(given.Get("by"), "by").value_or(std::string(kOperatorPrincipal));
    const auto list = with_hub(handle, [&](Hub& hub) { return ApiTokens(hub).list(by); });
    return records(info.Env(), list);
}

Napi::Value revoke_token(const Napi::CallbackInfo& info, const std::shared_ptr<HubHandle>& handle) {
    const auto token_id = text(info[0], "tokenId");
    const auto given = options(info[1], "options");
    const auto by = optional_text(given.Get("by"), "by").value_or(std::string(kOperatorPrincipal));
    const auto record =
        with_hub(handle, [&](Hub& hub) { return ApiTokens(hub).revoke(by, token_id); });
    return token_object(info.Env(), record);
}

}  // namespace sihlicon::node
