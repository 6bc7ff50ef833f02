// SPDX-License-Identifier: Apache-2.0
//
// The write log (DatabaseOptions::commit_interval, src/store/write_log.hpp): a write is
// acknowledged once its statements are in the log; every read sees it; a crash loses none of
// it, whoever opens the files next.
#include "store/write_log.hpp"
#include "store/database.hpp"
#include "support/crash_copy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::store::Database;
using sihlicon::store::DatabaseOptions;
using sihlicon::store::Transaction;
using sihlicon::store::WriteCapture;
using sihlicon::store::WriteLog;
using sihlicon::testing::copy_as_after_a_crash;
using sihlicon::testing::TempDir;
using namespace std::chrono_literals;

namespace {

DatabaseOptions logged(std::chrono::milliseconds interval = 1h) {
    DatabaseOptions options;
    options.durability = sihlicon::store::Durability::normal;
    options.commit_interval = interval;
    return options;
}

DatabaseOptions unlogged() {
    DatabaseOptions options;
    options.durability = sihlicon::store::Durability::normal;
    return options;
}

void create_items(Database& database) {
    database.write([](Transaction& tx) {
        tx.exec(
            "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, "
            "number INTEGER, data BLOB)");
    });
}

void insert(Database& database, std::string_view name) {
    database.write([&](Transaction& tx) {
        tx.prepare("INSERT INTO items (name) VALUES (?)").bind_all(name).run();
    });
}

std::vector<std::string> names(Database& database) {
    return database.read([](Transaction& tx) {
        std::vector<std::string> result;
        auto statement = tx.prepare("SELECT name FROM items ORDER BY id");
        while (statement.step()) {
            result.push_back(statement.column_text(0));
        }
        return result;
    });
}

// Whether the database's write log holds records (whole or torn) not yet emptied.
bool log_waiting(const std::filesystem::path& db) {
    return !WriteLog(db.string() + "-log").empty();
}

// Where the whole records of a write log end (its format: store/write_log.hpp).
std::uint64_t records_end(const std::filesystem::path& log) {
    std::ifstream file(log, std::ios::binary);
    std::uint64_t end = 0;
    char header[24];
    while (file.seekg(static_cast<std::streamoff>(end)) && file.read(header, sizeof header) &&
           std::string_view(header, 4) == "SIHW") {
        std::uint32_t length = 0;
        std::memcpy(&length, header + 4, sizeof length);
        end += sizeof header + length;
    }
    return end;
}

using Names = std::vector<std::string>;

// A database with a write log that commits only when read, flushed or closed, whose first
// record creates the items table.
struct Owner {
    TempDir dir;
    std::filesystem::path path = dir / "t.db";
    Database owner{path, logged()};
    Owner() { create_items(owner); }
};

// A write log on its own, locked and mapped by its owner (see "Mapped appends").
struct MappedLog {
    TempDir dir;
    std::filesystem::path path = dir / "t.log";
    WriteLog log{path};
    MappedLog() {
        REQUIRE(log.try_lock());
        REQUIRE(log.map());
    }
};

}  // namespace

TEST_CASE_FIXTURE(Owner,
                  "with a write log, a write returns before it is committed and this database "
                  "reads it") {
    REQUIRE(owner.owns_write_log());
    insert(owner, "a");
    CHECK(log_waiting(path));  // acknowledged from the log
    // A reader connection of the owner sees it: the read commits first.
    CHECK(names(owner) == Names{"a"});
    CHECK_FALSE(log_waiting(path));  // committed, the log is emptied
    insert(owner, "b");
    // Another database on the file (a second process) owns no log: its reads wait for the
    // owner's commit (here never, within its busy timeout), so they never miss "b".
    auto impatient = unlogged();
    impatient.busy_timeout = 100ms;
    Database other(path, impatient);
    CHECK_FALSE(other.owns_write_log());
    try {
        names(other);
        FAIL("a read must not see the database without the acknowledged \"b\"");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::busy);
    }
    owner.flush();
    CHECK(names(other) == Names{"a", "b"});
}

TEST_CASE("the log's records are committed once the oldest is commit_interval old") {
    TempDir dir;
    const auto path = dir / "t.db";
    Database owner(path, logged(30ms));
    Database other(path, unlogged());
    create_items(owner);
    insert(owner, "a");
    // Nothing reads: the background thread commits.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (log_waiting(path) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    CHECK_FALSE(log_waiting(path));
    CHECK(names(other) == Names{"a"});
    // Writes of the other database wait for the owner's commits instead of failing.
    insert(owner, "b");
    insert(other, "c");
    CHECK(names(owner) == Names{"a", "b", "c"});
}

TEST_CASE_FIXTURE(Owner,
                  "after a crash, opening with a write log replays what the log acknowledged") {
    insert(owner, "a");
    owner.flush();
    insert(owner, "b");
    insert(owner, "c");
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    REQUIRE(log_waiting(crashed));
    {
        Database reopened(crashed, logged());
        CHECK(reopened.owns_write_log());
        CHECK_FALSE(log_waiting(crashed));  // replayed and committed before the open returned
        CHECK(names(reopened) == Names{"a", "b", "c"});
        insert(reopened, "d");
    }
    // Closing commits: the next open finds nothing to replay.
    CHECK_FALSE(log_waiting(crashed));
    Database again(crashed, unlogged());
    CHECK(names(again) == Names{"a", "b", "c", "d"});
}

TEST_CASE_FIXTURE(Owner,
                  "after a crash, a database without a write log adopts the dead owner's records") {
    insert(owner, "a");
    insert(owner, "b");
    SUBCASE("on its first read") {
        const auto crashed = copy_as_after_a_crash(path, dir, 1);
        Database reader(crashed, unlogged());
        CHECK(names(reader) == Names{"a", "b"});
        CHECK_FALSE(log_waiting(crashed));
    }
    SUBCASE("on its first write, in the same transaction") {
        const auto crashed = copy_as_after_a_crash(path, dir, 2);
        Database writer(crashed, unlogged());
        insert(writer, "c");
        CHECK_FALSE(log_waiting(crashed));
        CHECK(names(writer) == Names{"a", "b", "c"});
    }
}

TEST_CASE_FIXTURE(Owner, "records a crash left after their commit are not run twice") {
    insert(owner, "a");
    const auto log = std::filesystem::path(path.string() + "-log");
    const auto saved = dir / "saved-log";
    std::filesystem::copy_file(log, saved);
    owner.flush();  // committed; the crash comes before the log is emptied
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    std::filesystem::copy_file(saved, crashed.string() + "-log",
                               std::filesystem::copy_options::overwrite_existing);
    Database reopened(crashed, logged());
    CHECK(names(reopened) == Names{"a"});  // "a" once: the UNIQUE name would refuse a second
}

TEST_CASE_FIXTURE(Owner, "a body that throws under a write log loses only itself") {
    insert(owner, "a");
    insert(owner, "b");
    CHECK_THROWS_AS(owner.write([](Transaction& tx) {
        tx.prepare("INSERT INTO items (name) VALUES ('half')").run();
        throw Error(ErrorCode::conflict, "changed my mind");
    }),
                    Error);
    try {
        insert(owner, "a");
        FAIL("a duplicate name must be refused");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::conflict);
    }
    insert(owner, "c");
    // The records before the failures were run again, in the transaction that is still open.
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    CHECK(names(owner) == Names{"a", "b", "c"});
    Database reopened(crashed, unlogged());
    CHECK(names(reopened) == Names{"a", "b", "c"});
}

TEST_CASE_FIXTURE(Owner,
                  "values replay exactly: extreme integers, text with NUL bytes, blobs and NULL") {
    const std::string text("nul\0inside 'quoted' \xc3\xa9", 20);
    const std::vector<std::byte> blob = {std::byte{0}, std::byte{0xff}, std::byte{'\''}};
    const auto minimum = std::numeric_limits<std::int64_t>::min();
    const auto maximum = std::numeric_limits<std::int64_t>::max();
    owner.write([&](Transaction& tx) {
        tx.prepare("INSERT INTO items (name, number, data) VALUES (?, ?, ?)")
            .bind(1, text)
            .bind(2, minimum)
            .bind(3, std::span<const std::byte>(blob))
            .run();
        tx.prepare("INSERT INTO items (name, number, data) VALUES (?, ?, ?)")
            .bind(1, nullptr)
            .bind(2, maximum)
            .run();  // parameter 3 left unbound: NULL
    });
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    Database reopened(crashed, unlogged());
    reopened.read([&](Transaction& tx) {
        auto rows = tx.prepare("SELECT name, number, data FROM items ORDER BY id");
        REQUIRE(rows.step());
        CHECK(rows.column_text(0) == text);
        CHECK(rows.column_int64(1) == minimum);
        CHECK(rows.column_blob(2) == blob);
        REQUIRE(rows.step());
        CHECK(rows.is_null(0));
        CHECK(rows.column_int64(1) == maximum);
        CHECK(rows.is_null(2));
        CHECK_FALSE(rows.step());
    });
}

TEST_CASE_FIXTURE(Owner, "a torn last record is ignored and the whole ones before it replayed") {
    // never committed: the log holds exactly three records
    insert(owner, "a");
    insert(owner, "b");
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    const auto log = std::filesystem::path(crashed.string() + "-log");
    const auto end = records_end(log);
    std::fstream file(log, std::ios::in | std::ios::out | std::ios::binary);
    SUBCASE("cut short by a crash during the append") {
        // The log is mapped: the bytes the copy did not reach are what the file held before.
        file.seekp(static_cast<std::streamoff>(end) - 3);
        file.write("\0\0\0", 3);
    }
    SUBCASE("its last byte damaged") {
        file.seekp(static_cast<std::streamoff>(end) - 1);
        file.put('\x7f');
    }
    file.close();
    Database reopened(crashed, logged());
    CHECK(names(reopened) == Names{"a"});
}

TEST_CASE_FIXTURE(Owner,
                  "a write that outgrew the log is committed whole, even after the part that "
                  "filled its capture failed") {
    // The nested write fills the capture (a write of 64 KiB or more is committed, not logged)
    // and is rolled back; "after" runs uncaptured. Once a capture shrank back under its limit
    // with the failed part, the write was logged without "after", and a crash lost it.
    const std::vector<std::byte> big(sihlicon::store::kLogDirectBytes + 1, std::byte{7});
    owner.write([&](Transaction& tx) {
        try {
            owner.write([&](Transaction& inner) {
                inner.prepare("INSERT INTO items (name, data) VALUES ('big', ?)")
                    .bind(1, std::span<const std::byte>(big))
                    .run();
                throw Error(ErrorCode::conflict, "changed my mind");
            });
        } catch (const Error&) {
        }
        tx.prepare("INSERT INTO items (name) VALUES ('after')").run();
    });
    const auto crashed = copy_as_after_a_crash(path, dir, 1);
    Database reopened(crashed, unlogged());
    CHECK(names(reopened) == Names{"after"});
}

TEST_CASE("records that skip a sequence are refused with integrity and change nothing") {
    TempDir dir;
    const auto path = dir / "t.db";
    {
        Database database(path, unlogged());
        create_items(database);
    }
    {
        WriteLog log(std::filesystem::path(path.string() + "-log"));
        WriteCapture capture;
        std::string value;
        WriteCapture::encode_text("from the log", value);
        capture.statement("INSERT INTO items (name) VALUES (?)", {value});
        log.append(1, capture.bytes(), false);
        log.append(3, capture.bytes(), false);  // record 2 is missing
    }
    CHECK_THROWS_WITH_AS(Database(path, logged()), doctest::Contains("record 1 to record 3"),
                         Error);
    Database plain(path, unlogged());
    CHECK_THROWS_AS(names(plain), Error);  // adopting fails the same way, and keeps the log
    CHECK(log_waiting(path));
}

TEST_CASE("only one database on a file owns its write log") {
    TempDir dir;
    const auto path = dir / "t.db";
    Database first(path, logged(20ms));
    Database second(path, logged(20ms));
    CHECK(first.owns_write_log());
    CHECK_FALSE(second.owns_write_log());
    create_items(first);
    insert(first, "a");
    insert(second, "b");  // commits itself, after waiting for the owner's commit
    CHECK(names(second) == Names{"a", "b"});
    insert(first, "c");
    first.flush();
    CHECK(names(second) == Names{"a", "b", "c"});
}

TEST_CASE("a negative commit_interval is refused naming the option") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(Database(dir / "t.db", logged(-1ms)), doctest::Contains("commit_interval"),
                         Error);
    CHECK_FALSE(std::filesystem::exists(dir / "t.db"));
}

TEST_CASE_FIXTURE(MappedLog,
                  "an owner that need not sync appends into the mapped file, where any reader "
                  "sees it") {
    CHECK(std::filesystem::file_size(path) == WriteLog::kMapBytes);  // every block written
    WriteLog reader(path);
    CHECK(reader.empty());
    log.append(1, "one", false);
    log.append(2, "two", true);  // a synced append is a system call, after the mapped one
    const std::string megabyte(1 << 20, 'm');
    std::uint64_t sequence = 2;
    while (std::filesystem::file_size(path) == WriteLog::kMapBytes) {
        log.append(++sequence, megabyte, false);  // the last one does not fit: pwritev
    }
    auto records = reader.read();
    REQUIRE(records.size() == sequence);
    CHECK(records[0].payload == "one");
    CHECK(records[1].payload == "two");
    CHECK(records.back().sequence == sequence);
    CHECK(records.back().payload == megabyte);

    REQUIRE(log.clear());
    CHECK(reader.empty());
    log.append(sequence + 1, "after", false);
    records = reader.read();
    REQUIRE_FALSE(records.empty());
    CHECK(records[0].payload == "after");
}

TEST_CASE_FIXTURE(MappedLog,
                  "a mapped log that grew very large is cut back to its mapped part, which stays "
                  "usable") {
    const std::string megabytes(8 << 20, 'm');
    std::uint64_t sequence = 0;
    while (std::filesystem::file_size(path) <= WriteLog::kKeepBytes) {
        log.append(++sequence, megabytes, false);
    }
    REQUIRE(log.clear());
    CHECK(std::filesystem::file_size(path) == WriteLog::kMapBytes);
    log.append(sequence + 1, "after", false);  // into the mapping: no SIGBUS
    const auto records = WriteLog(path).read();
    REQUIRE_FALSE(records.empty());
    CHECK(records[0].payload == "after");
}

TEST_CASE("a database maps its write log only when its appends need not reach the device") {
    TempDir dir;
    {
        Database normal(dir / "normal.db", logged());
        CHECK(std::filesystem::file_size(dir / "normal.db-log") == WriteLog::kMapBytes);
    }
    auto options = logged();
    options.durability = sihlicon::store::Durability::full;  // each append is fdatasync'ed
    Database full(dir / "full.db", options);
    CHECK(std::filesystem::file_size(dir / "full.db-log") < WriteLog::kMapBytes);
}
