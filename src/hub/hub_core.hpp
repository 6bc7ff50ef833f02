// SPDX-License-Identifier: Apache-2.0
//
// What every service of a hub shares: its database (one transaction layer), clock, id
// generator and folders. Each service is constructed with a reference to the HubCore of the
// Hub that owns it. Not installed.
#pragma once

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

    Timestamp now() const { return clock->now(); }
};

}  // namespace sihlicon::detail
