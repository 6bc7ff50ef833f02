// SPDX-License-Identifier: Apache-2.0
//
// A Hub is one sihlicon installation on disk: a directory holding `hub.db` (SQLite, WAL mode,
// foreign keys on) and `blobs/` (the content store's blocks). Opening a hub creates it if
// needed and brings its schema up to date; the services of later headers (scheduler, content
// store, heat ledger, settlement) all live inside one Hub and share its transactions, so a
// state change and its money and heat effects commit together or not at all.
//
// Thread safety: a Hub is safe to use from any number of threads at once. Several processes
// may open the same hub directory; they wait for each other's writes (up to busy_timeout)
// instead of failing.
//
// SQLite's process-wide settings: the first hub opened in a process turns SQLite's memory
// statistics off (SQLITE_CONFIG_MEMSTATUS), if the process has not initialised SQLite yet.
// They take a global mutex on every allocation SQLite makes (7-16% of scheduler throughput).
// A host that uses sqlite3_memory_used() or a soft heap limit calls sqlite3_initialize()
// before the first Hub::open, which keeps SQLite's defaults; a host that uses SQLite from
// other threads opens its first hub before they start (sqlite3_config is not thread-safe).
#pragma once

#include <sihlicon/content_store.hpp>
#include <sihlicon/durability.hpp>
#include <sihlicon/events.hpp>
#include <sihlicon/export.hpp>
#include <sihlicon/heat_ledger.hpp>
#include <sihlicon/scheduler.hpp>
#include <sihlicon/settings.hpp>
#include <sihlicon/settlement.hpp>
#include <sihlicon/time.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon {

namespace detail {
struct HubCore;  // what a hub's services share; defined inside the library
}

// What Hub::open verifies about the database before using it.
enum class IntegrityCheck {
    none,   // nothing beyond reading the header
    quick,  // PRAGMA quick_check: every page readable, O(database size) (the default)
    full,   // PRAGMA integrity_check: also indexes against tables, slower
};

struct HubOptions {
    // Create the directory and database when they do not exist. When false, opening a
    // directory without a hub fails with Error(not_found).
    bool create_if_missing = true;
    // How long a write waits for another process holding the hub's write lock before
    // Error(busy) reaches the caller.
    std::chrono::milliseconds busy_timeout{30'000};
    Durability durability = Durability::power_loss;
    IntegrityCheck integrity_check = IntegrityCheck::quick;
    // Most reader connections kept open at once (at least 1).
    int reader_connections = 4;
    // 0 (the default): every write is committed to hub.db before it returns. Above 0: a write
    // returns once the statements it ran are appended to the hub's write log (hub.db-log:
    // with Durability::process_crash a copy into the file, mapped in memory, 9 MiB on disk;
    // with power_loss one write and one fsync), and hub.db commits what the log holds
    // when its oldest record is this old, before any read of this Hub, and at close. A crash
    // keeps exactly what `durability` promises; the next open replays the log. Every read,
    // here or in another process, sees every acknowledged write. The price: another process
    // (or a second Hub on the directory) waits up to this long for those commits before its
    // own reads and writes of the hub. With process_crash, 3 to 4 times the scheduler's jobs/s
    // one call at a time (benchmarks/scheduler). Must not be negative.
    std::chrono::milliseconds commit_interval{0};
    // The source of time for every timestamp the hub records. Null: the system clock.
    // Tests pass a ManualClock.
    std::shared_ptr<const Clock> clock;
    // Per-process options of the services (Scheduler::set_options changes the scheduler's).
    // What decides money or routing for the whole hub is not here: it is stored in the hub
    // (Hub::settings, include/sihlicon/settings.hpp).
    SchedulerOptions scheduler;
    SettlementOptions settlement;
    // The settings a NEW hub starts with, written (and audited, by "initial_settings") in the
    // transaction that creates the hub — or that first opens a hub made by a version without
    // stored settings, so an upgraded hub keeps what its processes ran with. Ignored once any
    // setting is stored: change an existing hub's settings with Hub::update_settings.
    // Validated either way (invalid_argument naming the key). Empty: the defaults.
    std::optional<HubSettings> initial_settings;
};

// A snapshot of a hub's identity and size, as `sihlicon info` shows it.
struct SIHLICON_API HubInfo {
    std::string directory;
    std::string database_path;
    std::string blob_directory;
    int schema_version = 0;          // the version recorded in the database
    int latest_schema_version = 0;   // the version this library writes
    std::string library_version;     // the version of the library that produced this info
    std::string created_by_version;  // the version of sihlicon that created the hub
    std::string instance_id;         // "hub-…", fixed when the hub is created
    Timestamp created_at;
    std::int64_t database_bytes = 0;                           // hub.db plus its write-ahead log
    std::vector<std::pair<std::string, std::int64_t>> counts;  // rows per kind of record

    // The info as a JSON object with camelCase keys (schemaVersion, instanceId, createdAt as
    // ISO 8601, counts as an object, ...), the form the CLI, the C ABI and the bindings share.
    std::string to_json() const;
};

class SIHLICON_API Hub {
  public:
    // Opens the hub in `directory`, creating it when `options.create_if_missing`.
    // On success the database is in WAL mode, at the latest schema version, and `blobs/` exists.
    // Throws Error with:
    // - invalid_argument: an empty path, or an option out of range (named in the message);
    // - not_found: no hub there and create_if_missing is false;
    // - integrity: hub.db is not a healthy SQLite database or not a sihlicon hub — the file is
    //   left exactly as it was, never recreated;
    // - conflict: the hub was written by a newer sihlicon (schema version above ours);
    // - io: the directory or files cannot be created or opened;
    // - busy: another process kept the hub locked beyond options.busy_timeout.
    static Hub open(const std::filesystem::path& directory, const HubOptions& options = {});

    Hub(Hub&&) noexcept;
    Hub& operator=(Hub&&) noexcept;
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;
    // Closes the database connections. REQUIRES: no other thread is using the hub.
    ~Hub();

    const std::filesystem::path& directory() const;
    const std::filesystem::path& blob_directory() const;
    const Clock& clock() const;

    // The hub's services. Each lives as long as the Hub and is safe to use from many threads.
    // (services: one accessor per service, in the order of their schema migrations)
    Scheduler& scheduler() const;
    ContentStore& content_store() const;
    HeatLedger& heat_ledger() const;
    Settlement& settlement() const;

    // ---- settings (include/sihlicon/settings.hpp) ----
    // The hub's stored settings, as every process that opens the hub applies them.
    HubSettings settings() const;
    // Replaces the settings with `next`. Validates, writes every changed key and appends one
    // audit row per changed key (by, now, old and new value), all in one transaction; a
    // change applies to the next operation of every process on the hub. Returns the stored
    // settings. Throws Error with permission_denied unless `by` is kOperatorPrincipal
    // ("operator"; the hub has no roles yet), invalid_argument naming the key and the value
    // (nothing changed).
    HubSettings update_settings(const HubSettings& next, std::string_view by);
    // The same with a JSON patch: the keys given (HubSettings::from_json) over the stored ones.
    HubSettings patch_settings(std::string_view patch_json, std::string_view by);
    // The same with one key in its text form (HubSettings::with): the CLI's `settings set`.
    HubSettings set_setting(std::string_view key, std::string_view value_text, std::string_view by);
    // The audit trail, oldest first: changes with seq > after_seq, at most `limit` (1..10,000).
    std::vector<SettingsChange> settings_history(std::int64_t after_seq = 0,
                                                 std::int64_t limit = 1000) const;

    // ---- events (include/sihlicon/events.hpp) ----
    // Most events one read returns.
    static constexpr std::int64_t kMaxEventsPerRead = 1000;
    // The events with sequence > `after` that `reader` may see (EventReader), oldest first,
    // at most `limit` (1..kMaxEventsPerRead). Throws Error::invalid naming "after" (negative)
    // or "limit". A reader other than the operator is served by scanning the log from
    // `after` (no index per principal: it would cost every transition a second index write);
    // a follower that keeps up scans only what it has not read yet.
    std::vector<HubEvent> events_after(std::int64_t after, std::int64_t limit,
                                       const EventReader& reader) const;
    // events_after, waiting up to `timeout` (0..kMaxEventWait) for the first event `reader`
    // may see when there is none yet: returns as soon as one is committed, by this process
    // or any other that opened the hub, and an empty list when the time is up. While it
    // waits it reads the log's last sequence number every kEventPollInterval (one index
    // lookup on a reader connection); it sleeps in between. Throws Error::invalid naming
    // "timeout" out of range, and what events_after throws.
    static constexpr std::chrono::milliseconds kMaxEventWait{300'000};
    static constexpr std::chrono::milliseconds kEventPollInterval{20};
    std::vector<HubEvent> wait_for_events(std::int64_t after, std::int64_t limit,
                                          const EventReader& reader,
                                          std::chrono::milliseconds timeout) const;
    // The sequence number of the last event in the log (0 for none). For the operator and
    // tests; a remote reader is not told it (it would show activity it may not see).
    std::int64_t last_event_sequence() const;

    // Reads the hub's identity, schema version and record counts in one consistent snapshot.
    HubInfo info() const;

    // The schema version this library creates and migrates to.
    static int latest_schema_version();

  private:
    struct Impl;  // defined in src/hub/hub_internal.hpp
    explicit Hub(std::unique_ptr<Impl> impl);
    friend struct HubAccess;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sihlicon
