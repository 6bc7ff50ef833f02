// SPDX-License-Identifier: Apache-2.0
//
// Marketplace transactions between hubs inside a write transaction: creating one reserves its
// total in the journal, settling posts it, cancelling voids it (see settlement.hpp). Not
// installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/settlement.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace sihlicon::settlement {

// REQUIRES: `tx` is a write transaction.
MarketTransaction create_market(store::Transaction& tx, const MarketRequest& request,
                                Timestamp now);
// Settles (`settle`) or cancels the pending transaction `id`. REQUIRES: a write transaction.
MarketTransaction resolve_market(store::Transaction& tx, std::string_view id, bool settle,
                                 Timestamp now);

std::optional<MarketTransaction> find_market(store::Transaction& tx, std::string_view id);
std::vector<MarketTransaction> list_market(store::Transaction& tx, const MarketFilter& filter);

}  // namespace sihlicon::settlement
