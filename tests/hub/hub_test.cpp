// SPDX-License-Identifier: Apache-2.0
#include "hub/hub_internal.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/version.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <fstream>
#include <iterator>
#include <thread>

using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::Hub;
using sihlicon::HubAccess;
using sihlicon::HubOptions;
using sihlicon::store::Transaction;
using sihlicon::testing::TempDir;

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ErrorCode open_error(const std::filesystem::path& directory, const HubOptions& options = {}) {
    try {
        Hub::open(directory, options);
    } catch (const Error& error) {
        return error.code();
    }
    FAIL("the hub must not open");
    return ErrorCode::internal;
}

std::string pragma(const Hub& hub, std::string_view name) {
    return HubAccess::database(hub).read([&](Transaction& tx) {
        return tx.connection().query_text(std::string("PRAGMA ") + std::string(name));
    });
}

void exec_raw(const std::filesystem::path& database, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

void create_items_table(const Hub& hub) {
    HubAccess::database(hub).write([](Transaction& tx) {
        tx.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    });
}

std::int64_t count_items(const Hub& hub) {
    return HubAccess::database(hub).read([](Transaction& tx) {
        auto statement = tx.prepare("SELECT COUNT(*) FROM items");
        statement.step();
        return statement.column_int64(0);
    });
}

}  // namespace

TEST_CASE("opening a new directory creates the database, the blob folder and the identity") {
    TempDir dir;
    const auto clock = std::make_shared<sihlicon::ManualClock>(
        sihlicon::Timestamp::from_ms(1'767'225'600'000));  // 2026-01-01T00:00:00Z
    HubOptions options;
    options.clock = clock;
    const Hub hub = Hub::open(dir / "hub", options);
    CHECK(std::filesystem::is_regular_file(dir / "hub" / "hub.db"));
    CHECK(std::filesystem::is_directory(dir / "hub" / "blobs"));
    CHECK(hub.blob_directory() == dir / "hub" / "blobs");
    CHECK(pragma(hub, "journal_mode") == "wal");
    CHECK(pragma(hub, "foreign_keys") == "1");
    const auto info = hub.info();
    CHECK(info.schema_version == Hub::latest_schema_version());
    CHECK(info.latest_schema_version == Hub::latest_schema_version());
    CHECK(sihlicon::is_valid_id(info.instance_id, "hub"));
    CHECK(info.created_at.ms() == 1'767'225'600'000);
    CHECK(info.created_by_version == SIHLICON_VERSION_STRING);
    CHECK(info.database_bytes > 0);
}

TEST_CASE("reopening a hub keeps its identity") {
    TempDir dir;
    std::string instance;
    {
        const Hub hub = Hub::open(dir.path());
        instance = hub.info().instance_id;
    }
    const Hub again = Hub::open(dir.path());
    CHECK(again.info().instance_id == instance);
}

TEST_CASE("hub info serialises to JSON with the schema version") {
    TempDir dir;
    const Hub hub = Hub::open(dir.path());
    const auto json = boost::json::parse(hub.info().to_json()).as_object();
    CHECK(json.at("schemaVersion").as_int64() == Hub::latest_schema_version());
    CHECK(json.at("instanceId").as_string().starts_with("hub-"));
    CHECK(json.at("createdAt").as_string().ends_with("Z"));
    CHECK(json.at("counts").as_object().at("migrations").as_int64() ==
          Hub::latest_schema_version());
}

TEST_CASE("a directory without a hub is not created when create_if_missing is false") {
    TempDir dir;
    HubOptions options;
    options.create_if_missing = false;
    CHECK(open_error(dir / "absent", options) == ErrorCode::not_found);
    CHECK_FALSE(std::filesystem::exists(dir / "absent"));
    CHECK(open_error(dir.path(), options) == ErrorCode::not_found);  // exists, but holds no hub
    CHECK_FALSE(std::filesystem::exists(dir / "hub.db"));
}

TEST_CASE("bad arguments to open are refused naming the field") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(Hub::open(""), doctest::Contains("directory"), Error);
    std::ofstream(dir / "plain-file") << "x";
    CHECK_THROWS_WITH_AS(Hub::open(dir / "plain-file"), doctest::Contains("not a directory"),
                         Error);
    HubOptions options;
    options.reader_connections = 0;
    CHECK_THROWS_WITH_AS(Hub::open(dir / "h", options), doctest::Contains("reader_connections"),
                         Error);
    options.reader_connections = 1;
    options.busy_timeout = std::chrono::milliseconds(-1);
    CHECK_THROWS_WITH_AS(Hub::open(dir / "h", options), doctest::Contains("busy_timeout"), Error);
}

TEST_CASE("a corrupt database file is refused with integrity and never recreated") {
    TempDir dir;
    const auto database = dir / "hub.db";
    std::string garbage(8192, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) {
        garbage[i] = static_cast<char>((i * 7919) % 251);
    }
    std::ofstream(database, std::ios::binary) << garbage;
    CHECK(open_error(dir.path()) == ErrorCode::integrity);
    CHECK(read_file(database) == garbage);
}

TEST_CASE("a hub whose pages were damaged on disk is refused with integrity") {
    TempDir dir;
    {
        const Hub hub = Hub::open(dir.path());
        create_items_table(hub);
        HubAccess::database(hub).write([](Transaction& tx) {
            for (int i = 0; i < 2000; ++i) {
                tx.prepare("INSERT INTO items (name) VALUES (?)")
                    .bind_all("item-" + std::to_string(i) + std::string(40, 'x'))
                    .run();
            }
        });
    }
    // Scribble over the middle of the file, where the items' b-tree pages are.
    const auto database = dir / "hub.db";
    std::string bytes = read_file(database);
    REQUIRE(bytes.size() > 65536);
    for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 4096; ++i) {
        bytes[i] = static_cast<char>(0xA5);
    }
    std::ofstream(database, std::ios::binary | std::ios::trunc) << bytes;
    CHECK(open_error(dir.path()) == ErrorCode::integrity);
    CHECK(read_file(database) == bytes);
}

TEST_CASE("a foreign SQLite database in the hub's place is refused with integrity") {
    TempDir dir;
    exec_raw(dir / "hub.db", "CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
    CHECK(open_error(dir.path()) == ErrorCode::integrity);
}

TEST_CASE("a hub written by a newer sihlicon is refused with a clear error") {
    TempDir dir;
    { Hub::open(dir.path()); }
    exec_raw(
        dir / "hub.db",
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)");
    try {
        Hub::open(dir.path());
        FAIL("must refuse");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::conflict);
        CHECK(std::string(error.what()).find("upgrade sihlicon") != std::string::npos);
    }
}

TEST_CASE("two processes writing to one hub at once lose nothing") {
    TempDir dir;
    {
        const Hub hub = Hub::open(dir.path());
        create_items_table(hub);
    }
    constexpr int kProcesses = 2;
    constexpr int kWrites = 200;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int status = 0;
            try {
                HubOptions options;
                options.durability = sihlicon::Durability::process_crash;
                const Hub hub = Hub::open(dir.path(), options);
                for (int i = 0; i < kWrites; ++i) {
                    HubAccess::database(hub).write([&](Transaction& tx) {
                        tx.prepare("INSERT INTO items (name) VALUES (?)")
                            .bind_all(fmt::format("{}-{}", p, i))
                            .run();
                    });
                }
            } catch (...) {
                status = 1;
            }
            _exit(status);
        }
        children.push_back(pid);
    }
    // This process writes too, with eight threads, while the children run.
    const Hub hub = Hub::open(dir.path());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                HubAccess::database(hub).write([&](Transaction& tx) {
                    tx.prepare("INSERT INTO items (name) VALUES (?)")
                        .bind_all(fmt::format("t{}-{}", t, i))
                        .run();
                });
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const pid_t pid : children) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    CHECK(count_items(hub) == kProcesses * kWrites + 8 * 50);
}

TEST_CASE("a hub can be moved without invalidating it") {
    TempDir dir;
    Hub first = Hub::open(dir.path());
    Hub second = std::move(first);
    CHECK(second.info().schema_version == Hub::latest_schema_version());
}
