// SPDX-License-Identifier: Apache-2.0
//
// The one door from a Hub to its internals, for code inside the library and its tests.
// Not installed.
#pragma once

#include "hub/hub_core.hpp"

#include <sihlicon/hub.hpp>

namespace sihlicon {

struct Hub::Impl {
    detail::HubCore core;
    // (services: one std::unique_ptr per service, constructed in Hub::open after migrations)
    std::unique_ptr<Scheduler> scheduler;
    std::unique_ptr<ContentStore> content_store;
    std::unique_ptr<HeatLedger> heat_ledger;
    std::unique_ptr<Settlement> settlement;
};

struct HubAccess {
    static detail::HubCore& core(const Hub& hub) { return hub.impl_->core; }
    static store::Database& database(const Hub& hub) { return *hub.impl_->core.database; }
};

}  // namespace sihlicon
