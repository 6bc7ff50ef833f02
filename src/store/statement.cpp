// SPDX-License-Identifier: Apache-2.0
#include "store/statement.hpp"

#include <sqlite3.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <limits>
#include <new>

namespace sihlicon::store {

namespace {

ErrorCode error_code_for(int result_code) {
    switch (result_code & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return ErrorCode::busy;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return ErrorCode::integrity;
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
            return ErrorCode::io;
        case SQLITE_CONSTRAINT:
            return ErrorCode::conflict;
        default:
            return ErrorCode::internal;
    }
}

int checked_length(std::size_t size) {
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("value of {} bytes is too large to store", size));
    }
    return static_cast<int>(size);
}

}  // namespace

void throw_sqlite_error(sqlite3* db, int result_code, std::string_view context) {
    if ((result_code & 0xff) == SQLITE_NOMEM) {
        throw std::bad_alloc();
    }
    const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result_code);
    throw Error(error_code_for(result_code),
                fmt::format("{}: {} (sqlite {})", context, detail, result_code));
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* owner)
    : db_(db), stmt_(stmt), owner_(owner) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), owner_(other.owner_) {
    other.stmt_ = nullptr;
}

Statement::~Statement() {
    if (stmt_ == nullptr) {
        return;
    }
    if (owner_ != nullptr) {
        owner_->give_back(stmt_);
    } else {
        sqlite3_finalize(stmt_);
    }
}

Statement& Statement::bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding an integer");
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    // An empty view may carry a null pointer, which SQLite would store as NULL, not "".
    const char* data = text.data() != nullptr ? text.data() : "";
    const int rc =
        sqlite3_bind_text(stmt_, index, data, checked_length(text.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding text");
    }
    return *this;
}

Statement& Statement::bind(int index, std::span<const std::byte> blob) {
    static const std::byte kEmpty{};
    const void* data = blob.data() != nullptr ? blob.data() : &kEmpty;
    const int rc =
        sqlite3_bind_blob(stmt_, index, data, checked_length(blob.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding a blob");
    }
    return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding NULL");
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    const std::string sql = sqlite3_sql(stmt_) != nullptr ? sqlite3_sql(stmt_) : "";
    sqlite3_reset(stmt_);
    throw_sqlite_error(db_, rc, fmt::format("running '{}'", sql.substr(0, 80)));
}

std::int64_t Statement::run() {
    while (step()) {
    }
    return sqlite3_changes64(db_);
}

std::int64_t Statement::insert() {
    run();
    return sqlite3_last_insert_rowid(db_);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string Statement::column_text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string_view Statement::column_text_view(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::optional<std::string> Statement::column_optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_text(column);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_int64(column);
}

std::vector<std::byte> Statement::column_blob(int column) const {
    const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr) {
        return {};
    }
    return std::vector<std::byte>(data, data + size);
}

void Statement::reset() {
    sqlite3_reset(stmt_);
}

StatementCache::~StatementCache() {
    for (auto& [sql, entry] : entries_) {
        sqlite3_finalize(entry.stmt);
    }
}

Statement StatementCache::prepare(std::string_view sql) {
    auto found = entries_.find(sql);
    if (found != entries_.end() && !found->second.lent) {
        found->second.lent = true;
        return Statement(db_, found->second.stmt, this);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), checked_length(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, fmt::format("preparing '{}'", sql.substr(0, 80)));
    }
    if (found != entries_.end()) {
        return Statement(db_, stmt, nullptr);  // the cached copy is in use: lend a private one
    }
    auto [inserted, ok] = entries_.emplace(std::string(sql), Entry{stmt, true});
    by_handle_.emplace(stmt, &inserted->second);
    return Statement(db_, stmt, this);
}

void StatementCache::give_back(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    by_handle_.at(stmt)->lent = false;
}

}  // namespace sihlicon::store
