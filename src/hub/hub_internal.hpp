// SPDX-License-Identifier: Apache-2.0
//
// What the services see of a Hub: its database, clock and id generator. Not installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/id.hpp>

#include <filesystem>
#include <memory>

namespace sihlicon {

struct Hub::Impl {
    std::filesystem::path directory;
    std::filesystem::path blob_directory;
    std::shared_ptr<const Clock> clock;
    std::unique_ptr<store::Database> database;
    std::unique_ptr<IdGenerator> ids;
};

// The one door from a Hub to its internals, for code inside the library (and its tests).
struct HubAccess {
    static Hub::Impl& impl(const Hub& hub) { return *hub.impl_; }
    static store::Database& database(const Hub& hub) { return *hub.impl_->database; }
};

}  // namespace sihlicon
