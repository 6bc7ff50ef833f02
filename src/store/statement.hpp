// SPDX-License-Identifier: Apache-2.0
//
// Prepared statements over one SQLite connection, and the per-connection statement cache.
//
// Every SQL statement in sihlicon is a prepared statement with bound parameters; no SQL text is
// ever built from input. A Statement borrowed from the cache is reset and its bindings cleared
// when it goes out of scope, so the next user always starts clean.
//
// Capture: while a connection has a WriteCapture set (Database does so for the write bodies of
// a hub with a write log, store/write_log.hpp), every statement that changes the database and
// runs successfully appends itself, with its bound values, to that capture, so the change can
// be run again after a crash.
//
// Thread safety: a Statement belongs to the transaction that prepared it and must not be used
// from another thread at the same time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace sihlicon::store {

// Throws the sihlicon::Error that corresponds to an SQLite result code: BUSY/LOCKED -> busy,
// CORRUPT/NOTADB -> integrity, IOERR/FULL/CANTOPEN/READONLY/PERM -> io, CONSTRAINT -> conflict,
// NOMEM -> std::bad_alloc, anything else -> internal. `context` says what was being done.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int result_code, std::string_view context);

class StatementCache;

// The changes a write body made, as the statements that made them with their bound values, in
// the order they ran (the record format of store/write_log.hpp).
class WriteCapture {
  public:
    // `limit`: once the bytes reach it, the capture is `full` and the connection stops
    // capturing (a write that large is committed instead of logged). It stays full when a
    // truncation shrinks it again: statements run after it filled were never captured.
    explicit WriteCapture(std::size_t limit = SIZE_MAX) : limit_(limit) {}
    bool full() const { return full_; }

    // One statement that changed the database, with its parameters' values in index order
    // (each encoded by encode_*; an empty string is NULL).
    void statement(std::string_view sql, const std::vector<std::string>& parameters);
    // A script of one or more statements that ran whole (sqlite3_exec).
    void script(std::string_view sql);

    // Encode one parameter's value into `out`, replacing what it held (and reusing its buffer).
    static void encode_integer(std::int64_t value, std::string& out);
    static void encode_text(std::string_view text, std::string& out);
    static void encode_blob(std::span<const std::byte> blob, std::string& out);

    const std::string& bytes() const { return bytes_; }
    void truncate(std::size_t size) { bytes_.resize(size); }
    void clear() { bytes_.clear(); }
    std::string take() { return std::move(bytes_); }

  private:
    void note_size() { full_ = full_ || bytes_.size() >= limit_; }

    std::size_t limit_;
    bool full_ = false;
    std::string bytes_;
};

// Runs the statements of a capture's bytes on `db`, in order. Throws Error(integrity) when the
// bytes are malformed, and the SQLite error of a statement that fails.
void replay_capture(sqlite3* db, std::string_view bytes);

class Statement {
  public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Binds parameter `index` (1-based). std::nullopt and nullptr bind NULL.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    Statement& bind(int index, std::span<const std::byte> blob);
    Statement& bind(int index, std::nullptr_t);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, nullptr);
    }

    // Binds every argument in order, starting at parameter 1.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // Advances to the next row. Returns true when a row is available, false when done.
    bool step();
    // Runs a statement that returns no rows to completion; returns the number of rows changed.
    std::int64_t run();
    // Runs an INSERT of one row to completion; returns the rowid it was given (cheaper than
    // RETURNING, which buffers its rows in a temporary table).
    std::int64_t insert();

    bool is_null(int column) const;
    std::int64_t column_int64(int column) const;
    std::string column_text(int column) const;
    // The text without copying it: valid until the next step(), reset() or column call that
    // converts this column.
    std::string_view column_text_view(int column) const;
    std::optional<std::string> column_optional_text(int column) const;
    std::optional<std::int64_t> column_optional_int64(int column) const;
    std::vector<std::byte> column_blob(int column) const;

    // Resets the statement so it can be stepped again; keeps the bindings.
    void reset();

    // The bound values, each encoded by WriteCapture::encode_* (an empty string is NULL or
    // unbound), in index order. Text and blobs are bound to SQLite without a copy
    // (SQLITE_STATIC) from these strings, which therefore live as long as the binding: in the
    // cache entry for a cached statement, so their buffers are reused by the next borrower.
    using Values = std::vector<std::string>;

  private:
    friend class StatementCache;
    friend void replay_capture(sqlite3* db, std::string_view bytes);
    Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* cache, Values* values);
    // Where the value of parameter `index` (1-based) is kept; throws for an index the
    // statement does not have.
    std::string& slot(int index);
    void capture_if_write();
    // In the cache (given back on destruction), or not (finalized on destruction).
    bool cached() const { return values_ != &own_values_; }

    sqlite3* db_;
    sqlite3_stmt* stmt_;
    StatementCache* cache_;  // null for a statement that is never captured (replay)
    Values* values_;         // the cache entry's values, or own_values_ when not cached
    bool captured_ = false;  // this run is already in the capture
    Values own_values_;
};

// Prepared statements of one connection, keyed by their SQL text. A statement that is already
// lent out (a query nested in the iteration of the same query) is prepared afresh instead.
class StatementCache {
  public:
    explicit StatementCache(sqlite3* db) : db_(db) {}
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;
    ~StatementCache();

    Statement prepare(std::string_view sql);
    std::size_t size() const { return entries_.size(); }

    // Where the changes of statements run from now on are captured; null stops capturing.
    void set_capture(WriteCapture* capture) { capture_ = capture; }
    WriteCapture* capture() const { return capture_; }

  private:
    friend class Statement;
    void give_back(sqlite3_stmt* stmt);

    struct Entry {
        std::string sql;
        sqlite3_stmt* stmt = nullptr;
        bool lent = false;
        Statement::Values values;  // one per parameter (see Statement::Values)
    };
    // Looked up by the caller's string_view without copying the SQL text.
    struct TextHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept {
            return std::hash<std::string_view>{}(text);
        }
    };
    Entry* find(std::string_view sql);
    void remember_address(const char* address, Entry* entry);

    sqlite3* db_;
    WriteCapture* capture_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<Entry>, TextHash, std::equal_to<>> entries_;
    // The SQL of almost every statement is a string literal, so the address of its text finds
    // its entry without hashing the text; the text is still compared, since a caller's buffer
    // may be reused for other SQL.
    std::unordered_map<const char*, Entry*> by_address_;
    std::unordered_map<sqlite3_stmt*, Entry*> by_handle_;
};

}  // namespace sihlicon::store
