// SPDX-License-Identifier: Apache-2.0
//
// What every service of a hub shares: its database (one transaction layer), clock, id
// generator and folders. Each service is constructed with a reference to the HubCore of the
// Hub that owns it. Not installed.
#pragma once

#include "hub/settings_store.hpp"
#include "store/database.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/id.hpp>

#include <filesystem>
#include <memory>

namespace sihlicon::detail {

struct HubCore {
    std::filesystem::path directory;
    std::filesystem::path blob_directory;
    Durability durability = Durability::power_loss;  // HubOptions::durability
    std::shared_ptr<const Clock> clock;
    std::unique_ptr<store::Database> database;
    std::unique_ptr<IdGenerator> ids;
    mutable SettingsCache settings_cache;

    // The hub's settings as of `tx` (see SettingsCache): what every decision of money or
    // routing reads, in the transaction that makes it.
    std::shared_ptr<const HubSettings> settings(store::Transaction& tx) const {
        return settings_cache.get(tx);
    }

    Timestamp now() const { return clock->now(); }
};

}  // namespace sihlicon::detail
