// SPDX-License-Identifier: Apache-2.0
#include "store/database.hpp"

#include "store/wal_vfs.hpp"
#include "store/write_log.hpp"

#include <sqlite3.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace sihlicon::store {

namespace {

constexpr std::string_view kSavepoint = "SAVEPOINT sihlicon_body";
constexpr std::string_view kRelease = "RELEASE sihlicon_body";
constexpr std::string_view kRollbackTo = "ROLLBACK TO sihlicon_body";

// The write transaction this thread is currently running bodies in, if any: a write or read
// issued from inside a write body joins it instead of queueing behind itself.
struct ActiveWrite {
    const Database* database = nullptr;
    Transaction* transaction = nullptr;
};
thread_local ActiveWrite t_active_write;

// Before this process's first connection: SQLite's memory statistics off, as
// include/sihlicon/hub.hpp documents. Once SQLite is initialised, sqlite3_config refuses with
// SQLITE_MISUSE and changes nothing. Measured with benchmarks/scheduler: 7% more jobs/s one
// call at a time, 13-16% in batches.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// Runs `attempt` (an sqlite3 call returning its result code) until it stops reporting
// SQLITE_BUSY or SQLITE_LOCKED, backing off from 1 ms to 50 ms, for at most `timeout`. SQLite's
// own busy handler is not consulted on every path (BEGIN IMMEDIATE against a writer, switching
// the journal mode while another process creates the same file), so these paths wait here.
// Returns the last result code; SQLITE_BUSY after the deadline.
template <class Attempt>
int retry_while_busy(std::chrono::milliseconds timeout, Attempt attempt) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        const int rc = attempt();
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
            Clock::now() >= deadline) {
            return rc;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

class ActiveWriteScope {
  public:
    ActiveWriteScope(const Database* database, Transaction* transaction) : saved_(t_active_write) {
        t_active_write = {database, transaction};
    }
    ~ActiveWriteScope() { t_active_write = saved_; }
    ActiveWriteScope(const ActiveWriteScope&) = delete;
    ActiveWriteScope& operator=(const ActiveWriteScope&) = delete;

  private:
    ActiveWrite saved_;
};

bool in_transaction(Connection& connection) {
    return sqlite3_get_autocommit(connection.handle()) == 0;
}

void rollback_quietly(Connection& connection) {
    if (in_transaction(connection)) {
        sqlite3_exec(connection.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

// Runs `body` inside a savepoint of the open transaction. On failure, undoes the body's work
// (unless SQLite already rolled back the whole transaction) and rethrows.
// What the body captured for the write log is dropped with it.
void run_in_savepoint(Transaction& transaction, const std::function<void(Transaction&)>& body) {
    Connection& connection = transaction.connection();
    WriteCapture* capture = connection.capture();
    const std::size_t mark = capture != nullptr ? capture->bytes().size() : 0;
    connection.exec(kSavepoint);
    try {
        body(transaction);
    } catch (...) {
        if (capture != nullptr) {
            capture->truncate(mark);
        }
        if (in_transaction(connection)) {
            connection.exec(kRollbackTo);
            connection.exec(kRelease);
        }
        throw;
    }
    connection.exec(kRelease);
}

// What a caller sees when another writer held the database beyond the busy timeout.
Error stayed_locked(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    return Error(ErrorCode::busy,
                 fmt::format("{} stayed locked by another writer for more than {} ms",
                             path.string(), timeout.count()));
}

// A copy of the exception in `error`, for one more member of a batch. Each member's thread
// rethrows its own error: one exception object rethrown in several threads is shared, and the
// last thread to let go of it frees it while the others may still read it as far as
// ThreadSanitizer can tell (the reference count lives in uninstrumented libstdc++).
std::exception_ptr copy_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& failure) {
        return std::make_exception_ptr(failure);
    } catch (const std::bad_alloc&) {
        return std::make_exception_ptr(std::bad_alloc());
    } catch (...) {
        return error;  // no library code throws anything else
    }
}

// Gives `error` (each its own copy) to every member of the batch that has none of its own yet.
template <class Request>
void fail_members(const std::vector<Request*>& batch, const std::exception_ptr& error) {
    for (Request* member : batch) {
        if (!member->error) {
            member->error = copy_of(error);
        }
    }
}

// Runs each member's body in a savepoint of the open transaction: one that throws fails alone.
// Returns false when SQLite rolled back the whole transaction (I/O error, disk full): the
// bodies before are lost too, and every member of the batch has been given that error.
template <class Request>
bool run_each_in_savepoint(Transaction& transaction, const std::vector<Request*>& batch) {
    for (Request* member : batch) {
        try {
            run_in_savepoint(transaction, *member->body);
        } catch (...) {
            member->error = std::current_exception();
            if (!in_transaction(transaction.connection())) {
                fail_members(batch, member->error);
                return false;
            }
        }
    }
    return true;
}

// Captures the statements a batch's bodies run on `connection` while it lives.
class CaptureScope {
  public:
    CaptureScope(Connection& connection, WriteCapture* capture) : connection_(connection) {
        connection_.set_capture(capture);
    }
    ~CaptureScope() { connection_.set_capture(nullptr); }
    CaptureScope(const CaptureScope&) = delete;
    CaptureScope& operator=(const CaptureScope&) = delete;

  private:
    Connection& connection_;
};

constexpr std::string_view kLogTable =
    "CREATE TABLE IF NOT EXISTS sihlicon_write_log ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), committed INTEGER NOT NULL); "
    "INSERT OR IGNORE INTO sihlicon_write_log (id, committed) VALUES (1, 0)";

void validate(const DatabaseOptions& options) {
    if (options.reader_connections < 1) {
        throw Error::invalid("reader_connections", std::to_string(options.reader_connections),
                             "must be at least 1");
    }
    if (options.busy_timeout.count() < 0) {
        throw Error::invalid("busy_timeout", std::to_string(options.busy_timeout.count()),
                             "must not be negative");
    }
    if (options.checkpoint_pages < 1) {
        throw Error::invalid("checkpoint_pages", std::to_string(options.checkpoint_pages),
                             "must be at least 1");
    }
    if (options.writeback_pages < 0) {
        throw Error::invalid("writeback_pages", std::to_string(options.writeback_pages),
                             "must not be negative (0 turns the writeback off)");
    }
    if (options.max_batch < 1) {
        throw Error::invalid("max_batch", std::to_string(options.max_batch), "must be at least 1");
    }
    if (options.commit_interval.count() < 0) {
        throw Error::invalid("commit_interval", std::to_string(options.commit_interval.count()),
                             "must not be negative (0 commits every write)");
    }
}

}  // namespace

// ---- Connection ---------------------------------------------------------------------------

Connection::Connection(const std::filesystem::path& path, const DatabaseOptions& options,
                       bool writer) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (writer && options.create_if_missing) {
        flags |= SQLITE_OPEN_CREATE;
    }
    configure_sqlite_once();
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, wal_vfs_name());
    if (rc != SQLITE_OK) {
        const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw Error(ErrorCode::io, fmt::format("cannot open {}: {}", path.string(), detail));
    }
    cache_ = std::make_unique<StatementCache>(db_);
    try {
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, static_cast<int>(std::min<std::int64_t>(
                                      options.busy_timeout.count(), 1'000'000'000)));
        // The first statement reads the file header: a file that is not a database fails here.
        // Another process creating the same hub may hold the lock this switch needs.
        std::string mode;
        const int switched = retry_while_busy(options.busy_timeout, [&] {
            try {
                mode = query_text("PRAGMA journal_mode=WAL");
                return SQLITE_OK;
            } catch (const Error& error) {
                if (error.code() == ErrorCode::busy) {
                    return SQLITE_BUSY;
                }
                throw;
            }
        });
        if (switched != SQLITE_OK) {
            throw Error(ErrorCode::busy,
                        fmt::format("{} stayed locked by another process for more than {} ms",
                                    path.string(), options.busy_timeout.count()));
        }
        if (mode != "wal") {
            throw Error(ErrorCode::io,
                        fmt::format("{}: cannot switch the database to WAL mode", path.string()));
        }
        exec(options.durability == Durability::full ? "PRAGMA synchronous=FULL"
                                                    : "PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        // Statement journals and the savepoint of each grouped write body stay in memory:
        // otherwise SQLite creates, writes and unlinks a temporary file in every transaction.
        exec("PRAGMA temp_store=MEMORY");
        if (!writer) {
            exec("PRAGMA query_only=ON");
        }
    } catch (const Error& error) {
        cache_.reset();
        sqlite3_close_v2(db_);
        db_ = nullptr;
        if (error.code() == ErrorCode::integrity) {
            throw Error(ErrorCode::integrity, fmt::format("{} is not a healthy SQLite database: {}",
                                                          path.string(), error.what()));
        }
        throw;
    }
}

Connection::~Connection() {
    cache_.reset();
    sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
    // Single fixed statements go through the cache; scripts (several statements) do not.
    if (sql.find(';') == std::string_view::npos) {
        prepare(sql).run();
        return;
    }
    char* message = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        const std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        throw_sqlite_error(nullptr, rc, fmt::format("running a script: {}", detail));
    }
    if (cache_->capture() != nullptr) {
        cache_->capture()->script(sql);
    }
}

std::string Connection::query_text(std::string_view sql) {
    Statement statement = prepare(sql);
    if (!statement.step()) {
        return {};
    }
    return statement.column_text(0);
}

// ---- Database -----------------------------------------------------------------------------

struct Database::WriteRequest {
    const Body* body = nullptr;
    bool commit_now = false;  // with a write log: commit what it holds after this batch
    std::exception_ptr error;
    bool taken = false;  // in a leader's batch
    bool done = false;   // committed (or failed) in that batch
    // Signalled for this request alone, so a finished batch wakes its own members and the
    // first request still queued, not every thread waiting.
    std::condition_variable wake;
};

Database::Database(std::filesystem::path path, const DatabaseOptions& options)
    : path_(std::move(path)), options_(options) {
    validate(options_);
    std::error_code ignored;
    if (!options_.create_if_missing && !std::filesystem::exists(path_, ignored)) {
        throw Error(ErrorCode::not_found, fmt::format("no database at {}", path_.string()));
    }
    writer_ = std::make_unique<Connection>(path_, options_, true);
    // Replaces SQLite's own checkpoint-on-commit with the background checkpointer.
    sqlite3_wal_hook(writer_->handle(), &Database::on_commit, this);
    if (options_.integrity_check != IntegrityCheck::none) {
        const bool quick = options_.integrity_check == IntegrityCheck::quick;
        const std::string verdict =
            writer_->query_text(quick ? "PRAGMA quick_check" : "PRAGMA integrity_check");
        if (verdict != "ok") {
            throw Error(ErrorCode::integrity,
                        fmt::format("{} failed its {}: {}", path_.string(),
                                    quick ? "quick_check" : "integrity_check", verdict));
        }
    }
    log_ = std::make_unique<WriteLog>(path_.string() + "-log");
    if (options_.commit_interval.count() > 0 && log_->try_lock()) {
        // What a predecessor acknowledged and did not commit goes in before anything else.
        try {
            begin_immediate();
            log_sequence_ = replay_log();
            writer_->exec("COMMIT");
        } catch (...) {
            rollback_quietly(*writer_);
            throw;
        }
        log_->clear();
        if (options_.durability == Durability::normal) {
            log_->map();  // or, when the disk has no room for it, appends by system call
        }
        log_owner_ = true;
        log_flusher_ = std::thread([this] { run_log_flusher(); });
    }
}

// Inside the writer's open transaction, with the log's lock: runs the records the log holds
// beyond the sequence sihlicon_write_log records as committed, records the last, and returns
// it. Throws Error(integrity) when the records skip a sequence.
std::uint64_t Database::replay_log() {
    Connection& connection = *writer_;
    connection.exec(kLogTable);
    auto committed = committed_sequence();
    const auto before = committed;
    for (const auto& record : log_->read()) {
        if (record.sequence <= committed) {
            continue;  // committed before a crash stopped the log being emptied
        }
        if (record.sequence != committed + 1) {
            throw Error(ErrorCode::integrity,
                        fmt::format("the write log {} goes from record {} to record {}",
                                    log_->path().string(), committed, record.sequence));
        }
        replay_capture(connection.handle(), record.payload);
        committed = record.sequence;
    }
    if (committed != before) {
        record_committed(committed);
    }
    return committed;
}

// The sequence of the last record whose changes the database holds: 0 before any (and before
// its table exists). Inside the writer's open transaction.
std::uint64_t Database::committed_sequence() {
    const bool has_table = !writer_
                                ->query_text(
                                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "AND name = 'sihlicon_write_log'")
                                .empty();
    return has_table ? static_cast<std::uint64_t>(std::stoll(
                           writer_->query_text("SELECT committed FROM sihlicon_write_log")))
                     : 0;
}

void Database::record_committed(std::uint64_t sequence) {
    writer_->prepare("UPDATE sihlicon_write_log SET committed = ?")
        .bind(1, static_cast<std::int64_t>(sequence))
        .run();
}

// Whether the log holds records of another Database that are not committed. Inside the
// writer's open transaction.
bool Database::foreign_records_pending() {
    const std::uint64_t committed = committed_sequence();
    // The first record is the oldest of the log's current round: beyond the committed one,
    // the round waits. Otherwise (a crash came between a commit and the log's emptying) the
    // whole file is read.
    if (const auto first = log_->first_sequence(); !first || *first > committed) {
        return first.has_value();
    }
    const auto records = log_->read();
    return std::any_of(records.begin(), records.end(),
                       [&](const WriteLog::Record& record) { return record.sequence > committed; });
}

// Begins a write transaction of a Database that does not own the log. When the log holds
// records its owner did not commit: an owner that died left them, and they are replayed here
// first (the log is emptied after this transaction commits); an owner that lives is restoring
// its lost transaction, and this one waits for it as for any other writer.
void Database::begin_write() {
    const int rc = retry_while_busy(options_.busy_timeout, [&] {
        begin_immediate();
        if (log_->empty()) {
            return SQLITE_OK;
        }
        try {
            if (log_->try_lock()) {
                replay_log();
                log_adopted_ = true;
                return SQLITE_OK;
            }
            if (!foreign_records_pending()) {
                return SQLITE_OK;
            }
        } catch (...) {
            rollback_quietly(*writer_);
            log_->unlock();
            throw;
        }
        rollback_quietly(*writer_);
        return SQLITE_BUSY;  // its living owner is still restoring them
    });
    if (rc == SQLITE_BUSY) {
        throw stayed_locked(path_, options_.busy_timeout);
    }
}

// After the transaction that adopted a dead owner's log ended: committed, the log is emptied;
// either way it is given back.
void Database::release_adopted_log(bool committed) {
    if (!log_adopted_) {
        return;
    }
    if (committed) {
        log_->clear();
    }
    log_->unlock();
    log_adopted_ = false;
}

Database::~Database() {
    if (log_flusher_.joinable()) {
        {
            std::lock_guard lock(log_mutex_);
            log_stopping_ = true;
        }
        log_wake_.notify_all();
        log_flusher_.join();
        try {
            flush();
        } catch (const std::exception&) {
            // The records stay in the log; the next Database to write replays them.
        }
    }
    {
        std::lock_guard lock(checkpoint_mutex_);
        stopping_ = true;
    }
    checkpoint_wanted_.notify_all();
    if (checkpointer_.joinable()) {
        checkpointer_.join();
    }
    if (log_fd_ >= 0) {
        ::close(log_fd_);
    }
}

namespace {
// How many times checkpoint_pages the log may reach before the writer checkpoints itself.
constexpr int kCatchUpFactor = 4;
}  // namespace

int Database::on_commit(void* database, sqlite3* connection, const char*, int log_pages) {
    auto* self = static_cast<Database*>(database);
    const int threshold = self->options_.checkpoint_pages;
    // With Durability::full every commit has synced the log already.
    const int writeback =
        self->options_.durability == Durability::normal ? self->options_.writeback_pages : 0;
    bool writeback_due = false;
    if (writeback > 0) {
        if (log_pages < self->writeback_requested_at_) {
            self->writeback_requested_at_ = 0;  // the log was rewound
        }
        if (log_pages >= self->writeback_requested_at_ + writeback) {
            self->writeback_requested_at_ = log_pages;
            writeback_due = true;
        }
    }
    if (log_pages >= kCatchUpFactor * threshold) {
        // Under a steady stream of commits a background checkpoint never catches up with the
        // writer, so the log is never rewound and grows without bound. The writer itself (it
        // runs this hook after its commit, before the next write can start) copies the rest,
        // as SQLite's own autocheckpoint would; the next commit starts the log from its start.
        // It waits for a background checkpoint in progress, which would otherwise hold the
        // checkpoint lock and make this one give up.
        std::lock_guard running(self->checkpoint_run_mutex_);
        sqlite3_wal_checkpoint_v2(connection, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        self->checkpoint_requested_at_ = 0;
        return SQLITE_OK;
    }
    if (log_pages < threshold) {
        self->checkpoint_requested_at_ = 0;  // the log was rewound
    }
    // One request per half threshold of growth: each checkpoint costs two fsyncs. A
    // checkpoint syncs the log, so it takes the place of a writeback due with it.
    const bool checkpoint_due =
        log_pages >= threshold && (self->checkpoint_requested_at_ == 0 ||
                                   log_pages >= self->checkpoint_requested_at_ + threshold / 2);
    if (checkpoint_due) {
        self->checkpoint_requested_at_ = log_pages;
        self->wake_background(Background::checkpoint);
    } else if (writeback_due) {
        self->wake_background(Background::writeback);
    }
    return SQLITE_OK;
}

void Database::wake_background(Background work) {
    std::lock_guard lock(checkpoint_mutex_);
    if (stopping_) {
        return;
    }
    (work == Background::checkpoint ? checkpoint_due_ : writeback_due_) = true;
    if (!checkpointer_.joinable()) {
        checkpointer_ = std::thread([this] { run_checkpointer(); });
    }
    checkpoint_wanted_.notify_one();
}

// Asks the kernel to start writing out the log's dirty pages, without waiting (see
// DatabaseOptions::writeback_pages). Only Linux offers this; elsewhere it does nothing.
void Database::start_log_writeback() {
#ifdef __linux__
    if (log_fd_ < 0) {
        // The log exists while the writer connection is open, which outlives this thread.
        log_fd_ = ::open((path_.string() + "-wal").c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (log_fd_ >= 0 && ::sync_file_range(log_fd_, 0, 0, SYNC_FILE_RANGE_WRITE) == 0) {
        log_writebacks_.fetch_add(1, std::memory_order_relaxed);
    }
#endif
}

void Database::run_checkpointer() {
    std::unique_ptr<Connection> connection;
    std::unique_lock lock(checkpoint_mutex_);
    for (;;) {
        checkpoint_wanted_.wait(lock,
                                [&] { return checkpoint_due_ || writeback_due_ || stopping_; });
        if (stopping_) {
            return;
        }
        const bool checkpoint = checkpoint_due_;
        checkpoint_due_ = false;
        writeback_due_ = false;  // a checkpoint syncs the log anyway
        lock.unlock();
        if (!checkpoint) {
            start_log_writeback();
            lock.lock();
            continue;
        }
        try {
            if (!connection) {
                connection = std::make_unique<Connection>(path_, options_, true);
            }
            // Passive: copies what no reader still needs and never waits for anyone. A
            // failure is left for the next round; the log only grows meanwhile.
            std::lock_guard running(checkpoint_run_mutex_);
            sqlite3_wal_checkpoint_v2(connection->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                      nullptr, nullptr);
        } catch (const std::exception&) {
            connection.reset();
        }
        lock.lock();
    }
}

std::int64_t Database::log_writebacks() const {
    return log_writebacks_.load(std::memory_order_relaxed);
}

Database::WriteStats Database::write_stats() const {
    std::lock_guard lock(queue_mutex_);
    return stats_;
}

std::size_t Database::queued_writes() const {
    std::lock_guard lock(queue_mutex_);
    return queue_.size();
}

void Database::begin_immediate() {
    const int rc = retry_while_busy(options_.busy_timeout, [&] {
        return sqlite3_exec(writer_->handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    });
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        throw stayed_locked(path_, options_.busy_timeout);
    }
    if (rc != SQLITE_OK) {
        throw_sqlite_error(writer_->handle(), rc, "starting a write transaction");
    }
}

void Database::flush() {
    if (!log_owner_.load() || !log_dirty_.load() || t_active_write.database == this) {
        return;
    }
    write_erased([](Transaction&) {}, true);
}

void Database::run_log_flusher() {
    std::unique_lock lock(log_mutex_);
    for (;;) {
        log_wake_.wait(lock, [&] { return log_stopping_ || log_dirty_since_.has_value(); });
        if (log_stopping_) {
            return;
        }
        const auto due = *log_dirty_since_ + options_.commit_interval;
        if (log_wake_.wait_until(lock, due, [&] { return log_stopping_; })) {
            return;
        }
        if (!log_dirty_since_ || std::chrono::steady_clock::now() < due) {
            continue;  // committed meanwhile
        }
        lock.unlock();
        try {
            flush();
        } catch (const std::exception&) {
            // Tried again after the next interval; the records are safe in the log.
        }
        lock.lock();
        if (log_dirty_since_ && std::chrono::steady_clock::now() >= due) {
            log_dirty_since_ = std::chrono::steady_clock::now();  // failed: wait a whole interval
        }
    }
}

void Database::write_erased(const Body& body, bool commit_now) {
    if (t_active_write.database == this) {
        run_in_savepoint(*t_active_write.transaction, body);
        return;
    }
    WriteRequest request;
    request.body = &body;
    request.commit_now = commit_now;
    std::unique_lock lock(queue_mutex_);
    queue_.push_back(&request);
    // Whoever finds the writer free leads, a running thread before a sleeping one (no switch
    // on a busy machine). A leader's batch may end before its own request (max_batch): it then
    // waits or leads again until that request is done.
    while (!request.done) {
        request.wake.wait(lock,
                          [&] { return request.done || (!leader_active_ && !request.taken); });
        if (request.done) {
            break;
        }
        // This thread leads the next batch: everything queued so far, in arrival order.
        leader_active_ = true;
        const auto count =
            std::min<std::size_t>(queue_.size(), static_cast<std::size_t>(options_.max_batch));
        std::vector<WriteRequest*> batch(queue_.begin(),
                                         queue_.begin() + static_cast<std::ptrdiff_t>(count));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
        for (WriteRequest* member : batch) {
            member->taken = true;
        }
        lock.unlock();
        commit_batch(batch);
        lock.lock();
        // Each member's request lives on its thread's stack: signal it before unlocking.
        for (WriteRequest* member : batch) {
            member->done = true;
            if (member != &request) {
                member->wake.notify_one();
            }
        }
        stats_.commits += 1;
        stats_.bodies += static_cast<std::int64_t>(batch.size());
        leader_active_ = false;
        if (!queue_.empty()) {
            queue_.front()->wake.notify_one();  // leads next unless a running thread comes first
        }
    }
    lock.unlock();
    if (request.error) {
        std::rethrow_exception(request.error);
    }
}

void Database::commit_batch(const std::vector<WriteRequest*>& batch) {
    if (log_owner_.load()) {
        commit_batch_logged(batch);
        return;
    }
    Connection& connection = *writer_;
    auto fail_all = [&](std::exception_ptr error) {
        rollback_quietly(connection);
        release_adopted_log(false);
        fail_members(batch, error);
    };
    try {
        begin_write();
        Transaction transaction(connection, true);
        ActiveWriteScope scope(this, &transaction);
        if (batch.size() == 1) {
            // Alone in its transaction, a body needs no savepoint (which would copy every page
            // it changes aside): if it throws, the whole transaction rolls back below.
            (*batch.front()->body)(transaction);
            connection.exec("COMMIT");
            release_adopted_log(true);
            return;
        }
        if (!run_each_in_savepoint(transaction, batch)) {
            rollback_quietly(connection);
            release_adopted_log(false);
            return;
        }
        connection.exec("COMMIT");
        release_adopted_log(true);
    } catch (...) {
        fail_all(std::current_exception());
    }
}

// With the write log: the batch's changes join the open transaction and are acknowledged
// once their record is in the log (see the file comment).
void Database::commit_batch_logged(const std::vector<WriteRequest*>& batch) {
    Connection& connection = *writer_;
    bool commit_now = false;
    for (WriteRequest* member : batch) {
        commit_now = commit_now || member->commit_now;
    }
    try {
        if (!log_open_) {
            begin_immediate();
            log_open_ = true;
        }
    } catch (...) {
        fail_members(batch, std::current_exception());
        return;
    }
    WriteCapture capture(kLogDirectBytes);
    {
        CaptureScope capturing(connection, &capture);
        Transaction transaction(connection, true);
        ActiveWriteScope scope(this, &transaction);
        if (batch.size() == 1) {
            // No savepoint here either: a body that throws (rare: bodies validate before they
            // write) rolls back the transaction, and the records since the last commit run
            // again.
            try {
                (*batch.front()->body)(transaction);
            } catch (...) {
                batch.front()->error = std::current_exception();
                restore_logged_transaction();
                return;
            }
        } else if (!run_each_in_savepoint(transaction, batch)) {
            restore_logged_transaction();
            return;
        }
    }
    const bool direct = capture.full();
    if (direct) {
        commit_now = true;  // as cheap to commit as to log: the commit makes it durable
    } else if (!capture.bytes().empty()) {
        try {
            log_->append(log_sequence_ + 1, capture.bytes(),
                         options_.durability == Durability::full);
        } catch (...) {
            fail_members(batch, std::current_exception());
            restore_logged_transaction();
            return;
        }
        ++log_sequence_;
        log_pending_bytes_ += capture.bytes().size();
        log_pending_.push_back(capture.take());
        if (!log_dirty_.exchange(true)) {
            std::lock_guard lock(log_mutex_);
            log_dirty_since_ = std::chrono::steady_clock::now();
            log_wake_.notify_one();
        }
    }
    if (log_pending_.empty() || commit_now || log_pending_bytes_ >= kLogCommitBytes) {
        try {
            commit_logged();
        } catch (...) {
            const auto error = std::current_exception();
            restore_logged_transaction();
            for (WriteRequest* member : batch) {
                // The others' records are safe in the log: only a caller that asked for the
                // commit (a read, flush), or whose changes were not logged, learns it failed.
                if ((member->commit_now || direct) && !member->error) {
                    member->error = copy_of(error);
                }
            }
        }
    }
}

// Commits the open transaction with what the log holds, then empties the log.
void Database::commit_logged() {
    if (!log_pending_.empty()) {
        record_committed(log_sequence_);
    }
    writer_->exec("COMMIT");
    log_open_ = false;
    if (log_pending_.empty()) {
        return;
    }
    forget_pending_records();
    log_->clear();
}

// The records since the last commit are committed (or handed over): nothing waits.
void Database::forget_pending_records() {
    log_pending_.clear();
    log_pending_bytes_ = 0;
    {
        std::lock_guard lock(log_mutex_);
        log_dirty_since_.reset();
    }
    log_dirty_.store(false);
}

// After the open transaction was rolled back (a body threw, an append or a commit failed):
// begins it again with the records since the last commit. When that fails too, this Database
// stops owning the log and commits each write itself from now on; its next write (or any other
// process's) adopts the log and replays them.
void Database::restore_logged_transaction() {
    Connection& connection = *writer_;
    rollback_quietly(connection);
    log_open_ = false;
    if (log_pending_.empty()) {
        return;
    }
    try {
        begin_immediate();
        log_open_ = true;
        for (const auto& record : log_pending_) {
            replay_capture(connection.handle(), record);
        }
        return;
    } catch (const std::exception&) {
        rollback_quietly(connection);
        log_open_ = false;
    }
    forget_pending_records();
    log_owner_.store(false);
    log_->unlock();
}

std::unique_ptr<Connection> Database::acquire_reader() {
    std::unique_lock lock(readers_mutex_);
    reader_returned_.wait(lock, [&] {
        return !idle_readers_.empty() || open_readers_ < options_.reader_connections;
    });
    if (!idle_readers_.empty()) {
        auto reader = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return reader;
    }
    ++open_readers_;
    lock.unlock();
    try {
        return std::make_unique<Connection>(path_, options_, false);
    } catch (...) {
        lock.lock();
        --open_readers_;
        reader_returned_.notify_one();
        throw;
    }
}

void Database::release_reader(std::unique_ptr<Connection> reader) {
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(reader));
    reader_returned_.notify_one();
}

void Database::read_erased(const Body& body) {
    if (t_active_write.database == this) {
        body(*t_active_write.transaction);  // sees the enclosing write's own changes
        return;
    }
    // Every acknowledged write is visible to a reader connection: this Database's own are
    // committed first; another's (its log holds records) are waited for, or adopted when their
    // owner died, by an empty write (begin_write).
    flush();
    if (!log_owner_.load() && !log_->empty()) {
        write_erased([](Transaction&) {});
    }

    std::unique_ptr<Connection> reader = acquire_reader();
    try {
        reader->exec("BEGIN");
        Transaction transaction(*reader, false);
        body(transaction);
        reader->exec("COMMIT");
    } catch (...) {
        rollback_quietly(*reader);
        release_reader(std::move(reader));
        throw;
    }
    release_reader(std::move(reader));
}

}  // namespace sihlicon::store
