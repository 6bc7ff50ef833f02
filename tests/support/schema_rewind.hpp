// SPDX-License-Identifier: Apache-2.0
//
// For tests that take a hub back to an older schema and reopen it, so that the later
// migrations run again: most of them can (CREATE ... IF NOT EXISTS), but a migration that adds
// columns cannot, so what it added is dropped here first. Keep this list in step with
// src/store/schema.cpp.
#pragma once

#include "store/database.hpp"

namespace sihlicon::testing {

// Drops what the migrations that cannot run twice added: 18 (scheduler_preferred_hubs).
inline void drop_unrepeatable_migrations(store::Transaction& tx) {
    for (const char* sql :
         {"DROP INDEX jobs_preference", "DROP INDEX jobs_by_run_hub",
          "DROP INDEX jobs_ended_on_hub", "ALTER TABLE jobs DROP COLUMN pinned",
          "ALTER TABLE jobs DROP COLUMN prefer_until", "ALTER TABLE jobs DROP COLUMN run_hub_id"}) {
        tx.prepare(sql).run();
    }
}

}  // namespace sihlicon::testing
