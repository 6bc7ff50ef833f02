// SPDX-License-Identifier: Apache-2.0
//
// The hub on the network from C: sihlicon::Server with its options read by the core's codec
// (ServerOptions::from_json). A server is registered with its hub's handle, so that
// sih_hub_close stops it before the hub goes.
#include "capi_internal.hpp"

#include <utility>

namespace sihlicon::capi {

namespace {

// Takes the server out of its handle (under the hub's lock, which sih_hub_close holds while
// it stops servers), so that it is stopped and destroyed once, outside the lock.
std::unique_ptr<Server> take(sih_server& server) {
    std::lock_guard lock(server.agents->mutex);
    return std::move(server.server);
}

}  // namespace

}  // namespace sihlicon::capi

using namespace sihlicon;

extern "C" {

sih_status sih_server_start(sih_hub* hub, const char* options_json, sih_access_log_fn access_log,
                            void* access_log_payload, sih_server** out_server) {
    return capi::guard([&] {
        auto& owner = capi::required(hub, "hub");
        capi::required(out_server, "out_server");
        auto options = ServerOptions::from_json(options_json != nullptr ? options_json
                                                                        : std::string_view("{}"));
        if (access_log != nullptr) {
            options.access_log = [access_log, access_log_payload](std::string_view line) {
                const std::string text(line);
                access_log(access_log_payload, text.c_str());
            };
        }
        auto server = std::make_unique<sih_server>();
        server->agents = owner.agents;
        server->server = std::make_unique<Server>(owner.hub, std::move(options));
        server->server->start();
        std::lock_guard lock(owner.agents->mutex);
        owner.agents->servers.insert(server.get());
        *out_server = server.release();
    });
}

sih_status sih_server_port(const sih_server* server, int* out_port) {
    return capi::guard([&] {
        const auto& given = capi::required(server, "server");
        // Under the hub's lock: sih_server_stop and sih_hub_close take the server out under it.
        std::lock_guard lock(given.agents->mutex);
        if (!given.server) {
            throw Error(ErrorCode::conflict, "the server was stopped or its hub closed");
        }
        capi::give(out_port, static_cast<int>(given.server->port()));
    });
}

sih_status sih_server_stop(sih_server* server) {
    return capi::guard([&] {
        auto stopping = capi::take(capi::required(server, "server"));
        if (stopping) {
            stopping->stop();
        }
    });
}

void sih_server_free(sih_server** server) {
    if (server == nullptr || *server == nullptr) {
        return;
    }
    auto stopping = capi::take(**server);
    {
        std::lock_guard lock((*server)->agents->mutex);
        (*server)->agents->servers.erase(*server);
    }
    stopping.reset();
    delete *server;
    *server = nullptr;
}

}  // extern "C"
