// SPDX-License-Identifier: Apache-2.0
//
// The transaction layer every service shares: one SQLite database in WAL mode, one writer path
// with group commit, a pool of reader connections, and SQLITE_BUSY absorbed inside.
//
// Writes: Database::write(body) runs `body` inside a write transaction. Concurrent writers are
// batched (group commit, as LevelDB batches writers): the first caller to find the writer free
// becomes the leader, opens one BEGIN IMMEDIATE transaction, runs every queued body inside its
// own SAVEPOINT (a batch of one needs none), and commits once, so a batch costs one fsync.
// Waiting callers each sleep on their own signal: a finished batch wakes its members and the
// first caller still queued, and a running thread that finds the writer free leads at once
// instead of waiting for a sleeping one. A body that throws rolls back only its own savepoint
// and its caller gets the exception; the others commit. If the commit itself fails, every
// caller of the batch gets that error and nothing of the batch is stored.
// A body may run on another caller's thread; it must only touch the database through the
// Transaction it is given (and memory it owns). A write called from inside a write body runs
// inline, in a nested savepoint of the same transaction.
//
// Reads: Database::read(body) runs `body` in a read transaction on a pooled reader connection:
// a consistent snapshot of the last commit, concurrent with writes and other reads.
//
// Busy: another process holding the write lock is waited for (with back-off) up to
// DatabaseOptions::busy_timeout; only then does the caller see Error(busy).
//
// Checkpoints: a commit never copies the write-ahead log back into the database itself (that
// stalled one commit in a hundred for milliseconds). A background thread of this object runs
// a passive checkpoint on its own connection whenever the log has grown by
// DatabaseOptions::checkpoint_pages; writers keep appending meanwhile. Under a steady stream of
// commits such a checkpoint never catches up with the writer, and the log is rewound only
// after a checkpoint that copied all of it; so once the log reaches four times
// checkpoint_pages, the committing writer finishes the checkpoint itself (as SQLite's own
// autocheckpoint would) and the log stays bounded. Between checkpoints, with
// Durability::normal, the same thread starts the kernel writing the log out every
// DatabaseOptions::writeback_pages of growth, so that a checkpoint's sync of the log does not
// write it all in one burst.
//
// Log writes: every connection opens the database through the VFS of store/wal_vfs.hpp, which
// writes a transaction's log frames with one system call at its commit instead of two per page
// (in the scheduler benchmark, 42-47% more jobs/s one call at a time). What a commit has
// written when it returns, and so what a crash keeps, is unchanged.
//
// The write log (DatabaseOptions::commit_interval > 0; store/write_log.hpp for its format):
// the Database keeps its write transaction open and acknowledges a batch once the statements
// its bodies ran (with their bound values) are appended to `<database>-log` with one system
// call (and fdatasync with Durability::full), instead of committing it. It commits what the
// log holds when the oldest record is commit_interval old (a background thread), when the
// log holds kLogCommitBytes, before any read on a reader connection (so every read sees every
// acknowledged write), and when it is closed; then it empties the log. A batch that reads only
// commits at once, so the write lock is held only while records wait. A body that throws
// rolls the transaction back and the records since the last commit are run again from memory.
// After a crash, the next Database to write replays the records the log holds beyond the
// sequence its table sihlicon_write_log records as committed, in the same transaction as its
// own first write, then empties the log; the one that opens with commit_interval does so
// before its constructor returns.
// Only one Database on a file appends to its log (an flock); any other (another process, or a
// second open in this one) commits each write itself. While the log holds records, the owner
// holds SQLite's write lock, so another Database's write waits for the owner's commit; its
// reads wait the same way (an empty write first), so they too see every acknowledged write;
// an owner that died with records pending has its log adopted by that first write.
// What a crash keeps is what Durability promises. The price is latency elsewhere: another
// Database's reads and writes wait up to commit_interval for the owner (its busy_timeout
// applies).
//
// Temporary storage (statement journals, each grouped body's savepoint) is kept in memory.
//
// SQLite's process-wide configuration: see include/sihlicon/hub.hpp (the first connection
// turns SQLite's memory statistics off, in a process that has not initialised SQLite).
//
// Thread safety: a Database is safe to use from any number of threads.
#pragma once

#include "store/statement.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace sihlicon::store {

enum class Durability {
    normal,  // survives a crash of the process (kill -9); a power cut may lose the last commits
    full,    // every commit is fsynced before it is acknowledged
};

enum class IntegrityCheck { none, quick, full };

struct DatabaseOptions {
    bool create_if_missing = true;
    std::chrono::milliseconds busy_timeout{30'000};
    Durability durability = Durability::full;
    IntegrityCheck integrity_check = IntegrityCheck::quick;
    int reader_connections = 4;   // upper bound of the reader pool; at least 1
    int max_batch = 256;          // most write bodies committed by one transaction
    int checkpoint_pages = 1000;  // log size (pages) that wakes the background checkpointer
    // With Durability::normal: log growth (pages) after which the background thread asks the
    // kernel to start writing the log out, without waiting (Linux sync_file_range). A
    // checkpoint's sync of the log then finds little left to write; written in one burst, the
    // log stalled the committing thread (claim p99 in the scheduler benchmark 221-249 us, with
    // this 91-99 us). 0 turns it off. Durability is unchanged: it only starts early what the
    // checkpoint's sync does.
    int writeback_pages = 64;
    // The write log (see the file comment): 0 commits every batch to the database itself.
    std::chrono::milliseconds commit_interval{0};
};

// The log holds at most this many bytes of records before the Database commits them.
inline constexpr std::size_t kLogCommitBytes = 8 << 20;
// A batch whose record would be at least this large is committed instead of logged: its
// commit costs little more per change than appending it (the scheduler's batches of 1,000).
inline constexpr std::size_t kLogDirectBytes = 64 << 10;

// One open SQLite connection with its statement cache.
class Connection {
  public:
    Connection(const std::filesystem::path& path, const DatabaseOptions& options, bool writer);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    sqlite3* handle() const { return db_; }
    Statement prepare(std::string_view sql) { return cache_->prepare(sql); }
    // Where the changes of statements run from now on are captured (store/statement.hpp).
    void set_capture(WriteCapture* capture) { cache_->set_capture(capture); }
    WriteCapture* capture() const { return cache_->capture(); }
    // Runs one or more SQL statements that return no rows (schema scripts, pragmas).
    void exec(std::string_view sql);
    // Runs a pragma or query that returns a single text value.
    std::string query_text(std::string_view sql);

  private:
    sqlite3* db_ = nullptr;
    std::unique_ptr<StatementCache> cache_;
};

// What a read or write body is handed. It is only valid during the body.
class Transaction {
  public:
    Transaction(Connection& connection, bool writable)
        : connection_(connection), writable_(writable) {}

    // A prepared statement from the connection's cache, reset when the returned value dies.
    Statement prepare(std::string_view sql) { return connection_.prepare(sql); }
    void exec(std::string_view sql) { connection_.exec(sql); }
    bool writable() const { return writable_; }
    Connection& connection() { return connection_; }

  private:
    Connection& connection_;
    bool writable_;
};

class Database {
  public:
    // Opens (or, with create_if_missing, creates) the database at `path`, switches it to WAL,
    // turns foreign keys on and runs the configured integrity check. Throws Error(not_found)
    // for a missing file without create_if_missing, Error(integrity) for a file that is not a
    // healthy SQLite database, Error(io) when the file cannot be opened.
    Database(std::filesystem::path path, const DatabaseOptions& options);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    const std::filesystem::path& path() const { return path_; }
    const DatabaseOptions& options() const { return options_; }

    // Runs `body(Transaction&)` in a write transaction (see the file comment) and returns what
    // it returns once the transaction is durable. Rethrows what the body throws.
    template <class Body>
    auto write(Body&& body) -> std::invoke_result_t<Body&, Transaction&> {
        using Result = std::invoke_result_t<Body&, Transaction&>;
        if constexpr (std::is_void_v<Result>) {
            write_erased([&](Transaction& tx) { body(tx); });
        } else {
            std::optional<Result> result;
            write_erased([&](Transaction& tx) { result.emplace(body(tx)); });
            return std::move(*result);
        }
    }

    // Runs `body(Transaction&)` in a read-only snapshot and returns what it returns.
    template <class Body>
    auto read(Body&& body) -> std::invoke_result_t<Body&, Transaction&> {
        using Result = std::invoke_result_t<Body&, Transaction&>;
        if constexpr (std::is_void_v<Result>) {
            read_erased([&](Transaction& tx) { body(tx); });
        } else {
            std::optional<Result> result;
            read_erased([&](Transaction& tx) { result.emplace(body(tx)); });
            return std::move(*result);
        }
    }

    // Transactions committed so far by this object, and how many write bodies they carried:
    // their ratio is the group-commit batch size.
    struct WriteStats {
        std::int64_t commits = 0;
        std::int64_t bodies = 0;
    };
    WriteStats write_stats() const;

    // Write bodies waiting for the writer right now (not counting a batch being committed).
    std::size_t queued_writes() const;

    // How many times the background thread has started the log's writeback (see
    // DatabaseOptions::writeback_pages).
    std::int64_t log_writebacks() const;

    // Whether this Database appends to the write log (commit_interval set, and no other open
    // Database owns the log).
    bool owns_write_log() const { return log_owner_.load(); }
    // Commits what the write log holds (nothing to do without one). Throws what the commit
    // throws.
    void flush();

  private:
    using Body = std::function<void(Transaction&)>;
    struct WriteRequest;

    void write_erased(const Body& body, bool commit_now = false);
    // With a write log (see the file comment).
    void commit_batch_logged(const std::vector<WriteRequest*>& batch);
    void commit_logged();
    void restore_logged_transaction();
    void forget_pending_records();
    void begin_write();
    std::uint64_t replay_log();
    std::uint64_t committed_sequence();
    void record_committed(std::uint64_t sequence);
    bool foreign_records_pending();
    void release_adopted_log(bool committed);
    void run_log_flusher();
    void read_erased(const Body& body);
    void commit_batch(const std::vector<WriteRequest*>& batch);
    void begin_immediate();
    std::unique_ptr<Connection> acquire_reader();
    void release_reader(std::unique_ptr<Connection> reader);

    std::filesystem::path path_;
    DatabaseOptions options_;

    std::unique_ptr<Connection> writer_;  // used only by the current batch leader

    // The background checkpointer (see the file comment).
    static int on_commit(void* database, struct sqlite3* db, const char* name, int log_pages);
    enum class Background { checkpoint, writeback };
    void wake_background(Background work);
    void start_log_writeback();
    void run_checkpointer();
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_wanted_;
    bool checkpoint_due_ = false;
    bool writeback_due_ = false;
    int writeback_requested_at_ = 0;  // the log's size at the last writeback; writer only
    int log_fd_ = -1;                 // the log, opened by the background thread for writeback
    std::atomic<std::int64_t> log_writebacks_{0};
    int checkpoint_requested_at_ = 0;  // the log's size at the last request; writer only
    std::mutex checkpoint_run_mutex_;  // held while a checkpoint runs (background or catch-up)
    bool stopping_ = false;
    std::thread checkpointer_;
    mutable std::mutex queue_mutex_;
    std::deque<WriteRequest*> queue_;
    bool leader_active_ = false;
    WriteStats stats_;

    // The write log. log_ is open on every Database; log_owner_ says whether this one appends.
    std::unique_ptr<class WriteLog> log_;
    std::atomic<bool> log_owner_{false};
    bool log_open_ = false;                 // writer only: the transaction holding records is open
    bool log_adopted_ = false;              // writer only: clear the adopted log after this commit
    std::uint64_t log_sequence_ = 0;        // writer only: the last record appended
    std::vector<std::string> log_pending_;  // writer only: appended, not yet committed
    std::size_t log_pending_bytes_ = 0;     // writer only
    std::atomic<bool> log_dirty_{false};    // records wait for a commit
    std::mutex log_mutex_;
    std::condition_variable log_wake_;
    std::optional<std::chrono::steady_clock::time_point> log_dirty_since_;  // under log_mutex_
    bool log_stopping_ = false;                                             // under log_mutex_
    std::thread log_flusher_;

    std::mutex readers_mutex_;
    std::condition_variable reader_returned_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
    int open_readers_ = 0;
};

}  // namespace sihlicon::store
