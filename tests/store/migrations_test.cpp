// SPDX-License-Identifier: Apache-2.0
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <array>
#include <thread>
#include <vector>

using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::store::Database;
using sihlicon::store::Migration;
using sihlicon::store::Transaction;
using sihlicon::testing::TempDir;

namespace {

constexpr std::array kThreeMigrations{
    Migration{1, "accounts", "CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER);"},
    Migration{2, "accounts_owner", "ALTER TABLE accounts ADD COLUMN owner TEXT;"},
    Migration{3, "transfers",
              "CREATE TABLE transfers (id TEXT PRIMARY KEY, amount INTEGER NOT NULL);"
              "CREATE INDEX transfers_amount ON transfers (amount);"},
};

int version_of(Database& database) {
    return database.read([](Transaction& tx) { return sihlicon::store::schema_version(tx); });
}

std::int64_t user_version_of(Database& database) {
    return database.read([](Transaction& tx) {
        auto statement = tx.prepare("PRAGMA user_version");
        statement.step();
        return statement.column_int64(0);
    });
}

bool table_exists(Database& database, std::string_view name) {
    return database.read([&](Transaction& tx) {
        auto statement = tx.prepare("SELECT 1 FROM sqlite_schema WHERE name = ?");
        statement.bind_all(name);
        return statement.step();
    });
}

}  // namespace

TEST_CASE("an empty database is migrated to the latest version and records each step") {
    TempDir dir;
    Database database(dir / "m.db", {});
    CHECK(version_of(database) == 0);
    CHECK(sihlicon::store::migrate(database, kThreeMigrations, 1234) == 3);
    CHECK(version_of(database) == 3);
    CHECK(user_version_of(database) == 3);
    CHECK(table_exists(database, "transfers"));
    const auto applied = database.read([](Transaction& tx) {
        std::vector<std::string> names;
        auto statement = tx.prepare(
            "SELECT name FROM schema_migrations WHERE applied_at = 1234 ORDER BY version");
        while (statement.step()) {
            names.push_back(statement.column_text(0));
        }
        return names;
    });
    CHECK(applied == std::vector<std::string>{"accounts", "accounts_owner", "transfers"});
}

TEST_CASE("a database at a previous version is migrated forward keeping its data") {
    TempDir dir;
    Database database(dir / "m.db", {});
    sihlicon::store::migrate(database, std::span(kThreeMigrations).first(2), 1);
    database.write([](Transaction& tx) {
        tx.exec("INSERT INTO accounts (id, balance, owner) VALUES ('a', 5, 'ann')");
    });
    CHECK(sihlicon::store::migrate(database, kThreeMigrations, 2) == 3);
    CHECK(table_exists(database, "transfers"));
    const auto balance = database.read([](Transaction& tx) {
        auto statement = tx.prepare("SELECT balance FROM accounts WHERE id = 'a'");
        statement.step();
        return statement.column_int64(0);
    });
    CHECK(balance == 5);
    CHECK(sihlicon::store::migrate(database, kThreeMigrations, 3) == 3);  // idempotent
}

TEST_CASE("a database of a newer schema is refused and left unchanged") {
    TempDir dir;
    Database database(dir / "m.db", {});
    sihlicon::store::migrate(database, kThreeMigrations, 1);
    try {
        sihlicon::store::migrate(database, std::span(kThreeMigrations).first(2), 2);
        FAIL("an older library must refuse a newer schema");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::conflict);
        CHECK(std::string(error.what()).find("schema version 3") != std::string::npos);
    }
    CHECK(version_of(database) == 3);
}

TEST_CASE("a failing migration leaves the database at its old version with nothing half done") {
    TempDir dir;
    Database database(dir / "m.db", {});
    sihlicon::store::migrate(database, std::span(kThreeMigrations).first(1), 1);
    const std::array broken{
        kThreeMigrations[0],
        Migration{2, "accounts_owner", "ALTER TABLE accounts ADD COLUMN owner TEXT;"},
        Migration{3, "transfers", "CREATE TABLE transfers (id TEXT); THIS IS NOT SQL;"},
    };
    CHECK_THROWS_AS(sihlicon::store::migrate(database, broken, 2), Error);
    CHECK(version_of(database) == 1);
    CHECK(user_version_of(database) == 1);
    CHECK_FALSE(table_exists(database, "transfers"));
    CHECK_NOTHROW(database.write([](Transaction& tx) {
        tx.exec("INSERT INTO accounts (id, balance) VALUES ('still', 1)");  // no owner column yet
    }));
}

TEST_CASE("a database whose history names other migrations is refused as another schema") {
    TempDir dir;
    Database database(dir / "m.db", {});
    sihlicon::store::migrate(database, kThreeMigrations, 1);
    std::array renamed = kThreeMigrations;
    renamed[1].name = "something_else";
    try {
        sihlicon::store::migrate(database, renamed, 2);
        FAIL("a different lineage must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::integrity);
    }
}

TEST_CASE("an SQLite database that is not a hub is refused, not adopted") {
    TempDir dir;
    Database database(dir / "m.db", {});
    database.write([](Transaction& tx) { tx.exec("CREATE TABLE someone_elses (x INTEGER)"); });
    try {
        sihlicon::store::migrate(database, kThreeMigrations, 1);
        FAIL("a foreign database must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::integrity);
        CHECK(std::string(error.what()).find("someone_elses") != std::string::npos);
    }
    CHECK_FALSE(table_exists(database, "schema_migrations"));
}

TEST_CASE("two connections migrating the same database at once apply each step once") {
    TempDir dir;
    Database first(dir / "m.db", {});
    Database second(dir / "m.db", {});
    std::thread a([&] { sihlicon::store::migrate(first, kThreeMigrations, 1); });
    std::thread b([&] { sihlicon::store::migrate(second, kThreeMigrations, 2); });
    a.join();
    b.join();
    const auto rows = first.read([](Transaction& tx) {
        auto statement = tx.prepare("SELECT COUNT(*) FROM schema_migrations");
        statement.step();
        return statement.column_int64(0);
    });
    CHECK(rows == 3);
}
