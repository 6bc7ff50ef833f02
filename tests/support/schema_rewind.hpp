// SPDX-License-Identifier: Apache-2.0
//
// For tests that take a hub back to an older schema and reopen it, so that the later
// migrations run again: most of them can (CREATE ... IF NOT EXISTS), but a migration that adds
// columns cannot, so what it added is dropped here first. Keep this list in step with
// src/store/schema.cpp.
#pragma once

#include "store/database.hpp"

namespace sihlicon::testing {

// Drops what the migrations that cannot run twice added: 20 (hub_event_log: job_events is a
// table again, holding the job events; hub_events stays, the rerun adds nothing twice), 18
// (scheduler_preferred_hubs).
// Undoes what migration 20 did to job_events: a table again, holding the job events (so a
// rerun of migration 20, or of migration 6 that reads that history, finds it).
inline void restore_job_events_table(store::Transaction& tx) {
    for (const char* sql :
         {"CREATE TABLE job_events_kept AS SELECT * FROM job_events", "DROP VIEW job_events",
          "ALTER TABLE job_events_kept RENAME TO job_events"}) {
        tx.prepare(sql).run();
    }
}

inline void drop_unrepeatable_migrations(store::Transaction& tx) {
    restore_job_events_table(tx);
    for (const char* sql :
         {"DROP INDEX jobs_preference", "DROP INDEX jobs_by_run_hub",
          "DROP INDEX jobs_ended_on_hub", "ALTER TABLE jobs DROP COLUMN pinned",
          "ALTER TABLE jobs DROP COLUMN prefer_until", "ALTER TABLE jobs DROP COLUMN run_hub_id"}) {
        tx.prepare(sql).run();
    }
}

}  // namespace sihlicon::testing
