// SPDX-License-Identifier: Apache-2.0
//
// Hubs: options, open, close, info; the service options read from JSON; the hub's peers.
#include "capi_internal.hpp"

#include <sihlicon/peers.hpp>

#include <cstddef>
#include <cstring>

namespace sihlicon::capi {

namespace {

std::chrono::milliseconds duration(json::ObjectReader& reader, std::string_view key,
                                   std::chrono::milliseconds current) {
    return std::chrono::milliseconds(
        reader.optional_int64(key, 0, 365LL * 24 * 3600 * 1000).value_or(current.count()));
}

}  // namespace

void apply_scheduler_options(SchedulerOptions& options, const char* json, std::string_view field) {
    const auto value = json_argument(json, field);
    json::ObjectReader reader(value, std::string(field));
    auto next = options;
    next.lease_duration = duration(reader, "leaseDurationMs", next.lease_duration);
    next.claim_scan_limit =
        reader.optional_int64("claimScanLimit", 1, 1'000'000).value_or(next.claim_scan_limit);
    next.input_recheck_interval =
        duration(reader, "inputRecheckIntervalMs", next.input_recheck_interval);
    reader.finish();
    options = next;
}

}  // namespace sihlicon::capi

using namespace sihlicon;

static_assert(static_cast<int>(IntegrityCheck::none) == SIH_INTEGRITY_CHECK_NONE &&
              static_cast<int>(IntegrityCheck::quick) == SIH_INTEGRITY_CHECK_QUICK &&
              static_cast<int>(IntegrityCheck::full) == SIH_INTEGRITY_CHECK_FULL);

extern "C" {

sih_status sih_hub_options_init(sih_hub_options* options, uint32_t version) {
    return capi::guard([&] {
        auto& given = capi::required(options, "options");
        capi::check_version(version, SIH_HUB_OPTIONS_VERSION, "version");
        // A version 1 struct ends before commit_interval_ms: write only what it has.
        const sih_hub_options defaults = SIH_HUB_OPTIONS_INIT;
        std::memcpy(&given, &defaults,
                    version >= 2 ? sizeof defaults : offsetof(sih_hub_options, commit_interval_ms));
        given.version = version;
    });
}

sih_status sih_hub_open(const char* directory, const sih_hub_options* options, sih_hub** out_hub) {
    return capi::guard([&] {
        const auto path = capi::text(directory, "directory");
        capi::required(out_hub, "out_hub");
        HubOptions hub_options;
        if (options != nullptr) {
            capi::check_version(options->version, SIH_HUB_OPTIONS_VERSION, "options.version");
            hub_options.create_if_missing = options->create_if_missing != 0;
            hub_options.busy_timeout = std::chrono::milliseconds(options->busy_timeout_ms);
            // The C values are not the C++ ordinals here (power loss is the C default, 0).
            hub_options.durability =
                capi::enum_from_c<int>(options->durability, 2, "options.durability",
                                       "sih_durability") == SIH_DURABILITY_POWER_LOSS
                    ? Durability::power_loss
                    : Durability::process_crash;
            hub_options.integrity_check = capi::enum_from_c<IntegrityCheck>(
                options->integrity_check, 3, "options.integrity_check", "sih_integrity_check");
            hub_options.reader_connections = options->reader_connections;
            if (options->version >= 2) {
                hub_options.commit_interval =
                    std::chrono::milliseconds(options->commit_interval_ms);
            }
            if (options->clock != nullptr) {
                hub_options.clock = options->clock->clock;
            }
            capi::apply_scheduler_options(hub_options.scheduler, options->scheduler_options_json,
                                          "options.scheduler_options_json");
            if (options->settlement_options_json != nullptr) {
                hub_options.initial_settings =
                    HubSettings::from_json(options->settlement_options_json);
            }
        }
        auto hub = std::unique_ptr<sih_hub>(new sih_hub{Hub::open(path, hub_options)});
        *out_hub = hub.release();
    });
}

void sih_hub_close(sih_hub** hub) {
    if (hub == nullptr || *hub == nullptr) {
        return;
    }
    {
        // Stop the agents and servers first: they use the hub from their own threads.
        std::lock_guard lock((*hub)->agents->mutex);
        for (auto* agent : (*hub)->agents->live) {
            agent->agent.reset();
        }
        (*hub)->agents->live.clear();
        for (auto* server : (*hub)->agents->servers) {
            server->server.reset();
        }
        (*hub)->agents->servers.clear();
        (*hub)->agents->closed = true;
    }
    delete *hub;
    *hub = nullptr;
}

sih_status sih_hub_info(sih_hub* hub, char** out_json) {
    return capi::guard(
        [&] { capi::give(out_json, capi::required(hub, "hub").hub.info().to_json()); });
}

sih_status sih_hub_settings(sih_hub* hub, char** out_json) {
    return capi::guard(
        [&] { capi::give(out_json, capi::required(hub, "hub").hub.settings().to_json()); });
}

sih_status sih_hub_update_settings(sih_hub* hub, const char* patch_json, const char* by,
                                   char** out_json) {
    return capi::guard([&] {
        auto& target = capi::required(hub, "hub").hub;
        const auto patch = capi::text(patch_json, "patch_json");
        const auto principal = capi::text(by, "by");
        capi::required(out_json, "out_json");
        capi::give(out_json, target.patch_settings(patch, principal).to_json());
    });
}

sih_status sih_hub_set_setting(sih_hub* hub, const char* key, const char* value, const char* by,
                               char** out_json) {
    return capi::guard([&] {
        auto& target = capi::required(hub, "hub").hub;
        const auto name = capi::text(key, "key");
        const auto text = capi::text(value, "value");
        const auto principal = capi::text(by, "by");
        capi::required(out_json, "out_json");
        capi::give(out_json, target.set_setting(name, text, principal).to_json());
    });
}

sih_status sih_hub_settings_history(sih_hub* hub, int64_t after_seq, int64_t limit,
                                    char** out_json) {
    return capi::guard([&] {
        const auto changes = capi::required(hub, "hub").hub.settings_history(after_seq, limit);
        capi::give(out_json, json::join_array(changes));
    });
}

sih_status sih_peer_add(sih_hub* hub, const char* by, const char* hub_id, const char* url,
                        const char* token, char** out_json) {
    return capi::guard([&] {
        auto& target = capi::required(hub, "hub").hub;
        const auto principal = capi::text(by, "by");
        const auto id = capi::text(hub_id, "hub_id");
        const auto address = capi::text(url, "url");
        const auto secret = capi::text(token, "token");
        capi::required(out_json, "out_json");
        capi::give(out_json, Peers(target).add(principal, id, address, secret).to_json());
    });
}

sih_status sih_peer_list(sih_hub* hub, const char* by, char** out_json) {
    return capi::guard([&] {
        auto& target = capi::required(hub, "hub").hub;
        const auto principal = capi::text(by, "by");
        capi::required(out_json, "out_json");
        capi::give(out_json, json::join_array(Peers(target).list(principal)));
    });
}

sih_status sih_peer_remove(sih_hub* hub, const char* by, const char* hub_id, char** out_json) {
    return capi::guard([&] {
        auto& target = capi::required(hub, "hub").hub;
        const auto principal = capi::text(by, "by");
        const auto id = capi::text(hub_id, "hub_id");
        capi::required(out_json, "out_json");
        capi::give(out_json, Peers(target).remove(principal, id).to_json());
    });
}

sih_status sih_hub_events_after(sih_hub* hub, int64_t after, int64_t limit, const char* principal,
                                const char* worker_id, char** out_json) {
    return sih_hub_wait_for_events(hub, after, limit, principal, worker_id, 0, out_json);
}

sih_status sih_hub_wait_for_events(sih_hub* hub, int64_t after, int64_t limit,
                                   const char* principal, const char* worker_id, int64_t timeout_ms,
                                   char** out_json) {
    return capi::guard([&] {
        auto& the_hub = capi::required(hub, "hub").hub;
        const EventReader reader{std::string(capi::text(principal, "principal")),
                                 capi::optional_text(worker_id).value_or("")};
        const auto events = timeout_ms == 0
                                ? the_hub.events_after(after, limit, reader)
                                : the_hub.wait_for_events(after, limit, reader,
                                                          std::chrono::milliseconds(timeout_ms));
        capi::give(out_json, json::join_array(events));
    });
}

int sih_hub_latest_schema_version(void) {
    return Hub::latest_schema_version();
}

}  // extern "C"
