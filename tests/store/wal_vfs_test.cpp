// SPDX-License-Identifier: Apache-2.0
//
// The log-collecting VFS (src/store/wal_vfs.hpp): a transaction's log frames reach the file in
// one write, and never later than SQLite counts on them being there.
#include "store/wal_vfs.hpp"
#include "support/crash_copy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>

using sihlicon::store::wal_vfs_name;
using sihlicon::testing::copy_as_after_a_crash;
using sihlicon::testing::TempDir;

namespace {

class Db {
  public:
    // Through our VFS (`vfs` null: SQLite's default VFS, as another program would open it).
    Db(const std::filesystem::path& path, const char* vfs) {
        const int rc =
            sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
        REQUIRE(rc == SQLITE_OK);
        exec("PRAGMA journal_mode=WAL");
    }
    ~Db() { sqlite3_close_v2(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        INFO(sql << ": " << (message != nullptr ? message : ""));
        sqlite3_free(message);
        REQUIRE(rc == SQLITE_OK);
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
        std::string value;
        const int rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
            value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        }
        const int finished = sqlite3_finalize(statement);
        INFO(sql << ": " << sqlite3_errstr(finished));
        REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
        return value;
    }
    std::int64_t number(const std::string& sql) { return std::stoll(text(sql)); }

  private:
    sqlite3* db_ = nullptr;
};

// What a kill -9 right now would leave: the database and its log as they are in the file
// system (the shared-memory index is rebuilt from the log, checksums checked, on opening).
void check_recovered(const std::filesystem::path& copy, std::int64_t rows, std::int64_t bytes) {
    Db recovered(copy, nullptr);
    CHECK(recovered.text("PRAGMA integrity_check") == "ok");
    CHECK(recovered.number("SELECT COUNT(*) FROM items") == rows);
    CHECK(recovered.number("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM items") == bytes);
}

// A connection through our VFS with a fresh `items` table, checkpoints left to the test.
void create_items(Db& writer, const std::string& pragmas = "") {
    writer.exec("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0" + pragmas);
    writer.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
}

}  // namespace

TEST_CASE("every commit through the VFS is in the log when it returns, for other connections") {
    TempDir dir;
    const auto path = dir / "hub.db";
    Db writer(path, wal_vfs_name());
    create_items(writer);
    writer.exec("CREATE INDEX items_by_payload ON items (payload)");
    Db other(path, nullptr);  // reads the log's frames from the file, as another process does
    std::int64_t bytes = 0;
    for (int i = 1; i <= 300; ++i) {
        // One to a few dozen pages a transaction.
        const int length = 100 + (i * 7919) % 60'000;
        writer.exec("INSERT INTO items (payload) VALUES (printf('%0" + std::to_string(length) +
                    "d', " + std::to_string(i) + "))");
        bytes += length;
        REQUIRE(other.number("SELECT COUNT(*) FROM items") == i);
        REQUIRE(other.number("SELECT SUM(LENGTH(payload)) FROM items") == bytes);
    }
    CHECK(other.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("the files as a crash leaves them after a commit recover every committed transaction") {
    TempDir dir;
    const auto path = dir / "hub.db";
    Db writer(path, wal_vfs_name());
    create_items(writer);
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    // Small transactions, then ones larger than the default VFS's largest write (128 KiB) and
    // than what the VFS holds before writing early (kMaxCollected).
    const int sizes[] = {10, 5'000, 200'000, 1'000'000, 6'000'000, 30};
    int crash = 0;
    for (const int size : sizes) {
        writer.exec("INSERT INTO items (payload) VALUES (zeroblob(" + std::to_string(size) + "))");
        ++rows;
        bytes += size;
        check_recovered(copy_as_after_a_crash(path, dir, ++crash), rows, bytes);
    }
    // After a checkpoint the log starts over from its beginning.
    writer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    writer.exec("INSERT INTO items (payload) VALUES (zeroblob(777))");
    check_recovered(copy_as_after_a_crash(path, dir, ++crash), rows + 1, bytes + 777);
}

TEST_CASE("a transaction larger than the page cache, whose log frames SQLite rewrites, recovers") {
    // With a cache of a few pages SQLite spills pages to the log before the commit; changing a
    // spilled page again overwrites its frame in place, and the commit then rewrites the
    // checksums of the frames from there on, down to the commit frame's header.
    TempDir dir;
    const auto path = dir / "hub.db";
    Db writer(path, wal_vfs_name());
    create_items(writer, "; PRAGMA cache_size=2");
    int crash = 0;
    for (int round = 1; round <= 3; ++round) {
        writer.exec("BEGIN");
        writer.exec(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
            "INSERT INTO items (payload) SELECT zeroblob(900) FROM n");
        writer.exec("UPDATE items SET payload = zeroblob(1000) WHERE id % 3 = 0");
        writer.exec("UPDATE items SET payload = zeroblob(1100) WHERE id % 3 = 0");
        writer.exec("COMMIT");
        // Copied before anything else touches the log (a read would write what is held).
        const auto copy = copy_as_after_a_crash(path, dir, ++crash);
        const std::int64_t rows = round * 400;
        const std::int64_t bytes = writer.number("SELECT SUM(LENGTH(payload)) FROM items");
        check_recovered(copy, rows, bytes);
    }
}

TEST_CASE("a rolled-back transaction that spilled to the log leaves the committed ones intact") {
    TempDir dir;
    const auto path = dir / "hub.db";
    Db writer(path, wal_vfs_name());
    create_items(writer, "; PRAGMA cache_size=2");
    writer.exec("INSERT INTO items (payload) VALUES (zeroblob(10))");
    writer.exec("BEGIN");
    writer.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
        "INSERT INTO items (payload) SELECT zeroblob(2000) FROM n");
    writer.exec("ROLLBACK");
    writer.exec("INSERT INTO items (payload) VALUES (zeroblob(20))");
    check_recovered(copy_as_after_a_crash(path, dir, 1), 2, 30);
    Db other(path, nullptr);
    CHECK(other.number("SELECT SUM(LENGTH(payload)) FROM items") == 30);
}

TEST_CASE("the VFS is registered once, under its own name, without becoming the default") {
    const char* name = wal_vfs_name();
    CHECK(std::string(name) == "sihlicon-log");
    CHECK(wal_vfs_name() == name);
    REQUIRE(sqlite3_vfs_find(name) != nullptr);
    CHECK(sqlite3_vfs_find(nullptr) != sqlite3_vfs_find(name));
}
