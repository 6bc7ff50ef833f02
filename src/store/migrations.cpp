// SPDX-License-Identifier: Apache-2.0
#include "store/migrations.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

namespace sihlicon::store {

namespace {

constexpr std::string_view kCreateMigrationTable = R"sql(
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
))sql";

bool table_exists(Transaction& transaction, std::string_view table) {
    auto statement =
        transaction.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
    statement.bind_all(table);
    return statement.step();
}

void check_numbering(std::span<const Migration> migrations) {
    for (std::size_t i = 0; i < migrations.size(); ++i) {
        if (migrations[i].version != static_cast<int>(i) + 1) {
            throw Error(ErrorCode::internal,
                        fmt::format("migration '{}' is numbered {}, expected {}",
                                    migrations[i].name, migrations[i].version, i + 1));
        }
    }
}

// Refuses a database whose recorded history differs from the migrations this library knows.
void check_history(Transaction& transaction, std::span<const Migration> migrations) {
    auto statement =
        transaction.prepare("SELECT version, name FROM schema_migrations ORDER BY version");
    int expected = 1;
    while (statement.step()) {
        const auto version = statement.column_int64(0);
        const std::string name = statement.column_text(1);
        if (version != expected) {
            throw Error(ErrorCode::integrity,
                        fmt::format("schema_migrations is missing version {} (found {})", expected,
                                    version));
        }
        if (version <= static_cast<std::int64_t>(migrations.size()) &&
            migrations[static_cast<std::size_t>(version - 1)].name != name) {
            throw Error(
                ErrorCode::integrity,
                fmt::format("schema migration {} is recorded as '{}' but this library "
                            "knows it as '{}': not the same schema",
                            version, name, migrations[static_cast<std::size_t>(version - 1)].name));
        }
        ++expected;
    }
}

}  // namespace

int schema_version(Transaction& transaction) {
    if (!table_exists(transaction, "schema_migrations")) {
        auto statement = transaction.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'sihlicon_write_log' LIMIT 1");  // the store's own (database.hpp)
        if (statement.step()) {
            throw Error(ErrorCode::integrity,
                        fmt::format("the database holds table '{}' but no schema_migrations: "
                                    "it is not a sihlicon hub",
                                    statement.column_text(0)));
        }
        return 0;
    }
    auto statement = transaction.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    statement.step();
    return static_cast<int>(statement.column_int64(0));
}

int migrate(Database& database, std::span<const Migration> migrations, std::int64_t applied_at_ms) {
    check_numbering(migrations);
    const int latest = static_cast<int>(migrations.size());
    // A quick read first: an up-to-date hub (the common case) never takes the write lock.
    const int seen = database.read([](Transaction& tx) { return schema_version(tx); });
    if (seen == latest) {
        database.read([&](Transaction& tx) { check_history(tx, migrations); });
        return latest;
    }
    return database.write([&](Transaction& tx) {
        // Decided again under the write lock: another process may have migrated meanwhile.
        const int current = schema_version(tx);
        if (current > latest) {
            throw Error(ErrorCode::conflict,
                        fmt::format("{} has schema version {}, newer than the {} this version "
                                    "of sihlicon knows: upgrade sihlicon to open it",
                                    database.path().string(), current, latest));
        }
        if (current == 0) {
            tx.exec(kCreateMigrationTable);
        }
        check_history(tx, migrations);
        for (int version = current + 1; version <= latest; ++version) {
            const Migration& migration = migrations[static_cast<std::size_t>(version - 1)];
            tx.exec(migration.sql);
            tx.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
                .bind_all(version, migration.name, applied_at_ms)
                .run();
        }
        // PRAGMA takes no bound parameters; the value is our own integer, not input.
        tx.exec(fmt::format("PRAGMA user_version = {}", latest));
        return latest;
    });
}

}  // namespace sihlicon::store
