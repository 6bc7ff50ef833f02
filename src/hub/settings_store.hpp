// SPDX-License-Identifier: Apache-2.0
//
// The hub's settings in hub.db (migration 14): reading them, writing a change with its audit
// rows, and the per-process cache that the scheduler's and settlement's transactions read
// through. Not installed.
#pragma once

#include "store/database.hpp"

#include <sihlicon/settings.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace sihlicon::detail {

// The stored settings, read fresh (the default quota from cas_quotas' row "*").
HubSettings read_settings(store::Transaction& tx);

// Validates `next` and writes every key that differs from the stored value, each with one
// settings_changes row (by, at). Returns the settings as stored. The caller checks `by`.
HubSettings write_settings(store::Transaction& tx, const HubSettings& next, std::string_view by,
                           Timestamp at);

// Audit rows with seq > after_seq, oldest first, at most `limit`.
std::vector<SettingsChange> read_settings_history(store::Transaction& tx, std::int64_t after_seq,
                                                  std::int64_t limit);

// The settings as of the transaction, re-read only when the audit trail's last seq (one
// indexed lookup) differs from the cached one: every change, from any process, appends a row.
// Safe from any thread. A transaction that changes settings must not read through the cache
// afterwards (it would cache what a rollback may undo): write_settings never does.
class SettingsCache {
  public:
    std::shared_ptr<const HubSettings> get(store::Transaction& tx);

  private:
    std::mutex mutex_;
    std::int64_t version_ = -1;                 // guarded by mutex_
    std::shared_ptr<const HubSettings> value_;  // guarded by mutex_
};

}  // namespace sihlicon::detail
