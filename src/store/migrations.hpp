// SPDX-License-Identifier: Apache-2.0
//
// Numbered schema migrations. Each migration has a version (1, 2, 3, ... without gaps), a
// name, and an SQL script. Applied migrations are recorded in the table `schema_migrations`
// (version, name, applied_at) and mirrored in `PRAGMA user_version`, so `sqlite3 hub.db
// 'PRAGMA user_version'` tells an operator the schema version without sihlicon.
//
// All pending migrations are applied in one write transaction: a hub is either at its old
// version or at the new one, never in between, also if the process is killed.
#pragma once

#include "store/database.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace sihlicon::store {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// The schema version recorded in the database: 0 for an empty database. Throws
// Error(integrity) for a database that holds tables but no migration record (not a hub).
int schema_version(Transaction& transaction);

// Brings the database up to the last of `migrations` (which must be numbered 1..N in order).
// Returns the version the database is at afterwards. Throws:
// - Error(conflict) when the database is at a newer version than the last known migration
//   (it was written by a newer sihlicon) — nothing is changed;
// - Error(integrity) when the database is not a sihlicon database, or its recorded migrations
//   carry other names than `migrations` (a different schema lineage);
// - whatever a failing migration script raises; the database then stays at its old version.
int migrate(Database& database, std::span<const Migration> migrations, std::int64_t applied_at_ms);

}  // namespace sihlicon::store
