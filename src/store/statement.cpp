// SPDX-License-Identifier: Apache-2.0
#include "store/statement.hpp"

#include <sqlite3.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <cstring>
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

template <class Integer>
void append_integer(std::string& out, Integer value) {
    char bytes[sizeof(Integer)];
    std::memcpy(bytes, &value, sizeof(Integer));
    out.append(bytes, sizeof(Integer));
}

// Reads the capture format back (see WriteCapture).
class CaptureReader {
  public:
    explicit CaptureReader(std::string_view bytes) : bytes_(bytes) {}
    bool done() const { return bytes_.empty(); }
    template <class Integer>
    Integer integer() {
        Integer value{};
        std::memcpy(&value, take(sizeof(Integer)).data(), sizeof(Integer));
        return value;
    }
    std::string_view text() { return take(integer<std::uint32_t>()); }
    std::string_view take(std::size_t size) {
        if (size > bytes_.size()) {
            throw Error(ErrorCode::integrity, "a captured write ends before its last statement");
        }
        const auto part = bytes_.substr(0, size);
        bytes_.remove_prefix(size);
        return part;
    }

  private:
    std::string_view bytes_;
};

// A cached statement keeps the buffers of its bound values up to this size for its next use.
constexpr std::size_t kKeptValueBytes = 4096;

constexpr char kStatementEntry = 'S';
constexpr char kScriptEntry = 'X';
constexpr char kInteger = 'i';
constexpr char kText = 't';
constexpr char kBlob = 'b';

}  // namespace

void WriteCapture::statement(std::string_view sql, const std::vector<std::string>& parameters) {
    bytes_.push_back(kStatementEntry);
    append_integer(bytes_, static_cast<std::uint32_t>(sql.size()));
    bytes_.append(sql);
    append_integer(bytes_, static_cast<std::uint32_t>(parameters.size()));
    for (const auto& parameter : parameters) {
        append_integer(bytes_, static_cast<std::uint32_t>(parameter.size()));
        bytes_.append(parameter);
    }
    note_size();
}

void WriteCapture::script(std::string_view sql) {
    bytes_.push_back(kScriptEntry);
    append_integer(bytes_, static_cast<std::uint32_t>(sql.size()));
    bytes_.append(sql);
    note_size();
}

void WriteCapture::encode_integer(std::int64_t value, std::string& out) {
    out.assign(1, kInteger);
    append_integer(out, value);
}

void WriteCapture::encode_text(std::string_view text, std::string& out) {
    out.assign(1, kText);
    out.append(text);
}

void WriteCapture::encode_blob(std::span<const std::byte> blob, std::string& out) {
    out.assign(1, kBlob);
    out.append(reinterpret_cast<const char*>(blob.data()), blob.size());
}

void replay_capture(sqlite3* db, std::string_view bytes) {
    CaptureReader reader(bytes);
    while (!reader.done()) {
        const char kind = reader.take(1).front();
        const std::string sql(reader.text());
        if (kind == kScriptEntry) {
            char* message = nullptr;
            const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
            if (rc != SQLITE_OK) {
                const std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
                sqlite3_free(message);
                throw_sqlite_error(nullptr, rc, fmt::format("replaying a script: {}", detail));
            }
            continue;
        }
        if (kind != kStatementEntry) {
            throw Error(ErrorCode::integrity,
                        fmt::format("a captured write holds an entry of unknown kind {}",
                                    static_cast<int>(static_cast<unsigned char>(kind))));
        }
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db, sql.data(), checked_length(sql.size()), &raw, nullptr);
        if (rc != SQLITE_OK) {
            throw_sqlite_error(db, rc, fmt::format("replaying '{}'", sql.substr(0, 80)));
        }
        Statement statement(db, raw, nullptr, nullptr);
        const auto count = reader.integer<std::uint32_t>();
        for (std::uint32_t index = 1; index <= count; ++index) {
            const auto value = reader.text();
            if (value.empty()) {
                continue;  // unbound: NULL
            }
            const auto data = value.substr(1);
            switch (value.front()) {
                case kInteger: {
                    if (data.size() != sizeof(std::int64_t)) {
                        throw Error(ErrorCode::integrity, "a captured integer is malformed");
                    }
                    std::int64_t number = 0;
                    std::memcpy(&number, data.data(), sizeof number);
                    statement.bind(static_cast<int>(index), number);
                    break;
                }
                case kText:
                    statement.bind(static_cast<int>(index), data);
                    break;
                case kBlob:
                    statement.bind(
                        static_cast<int>(index),
                        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()),
                                                   data.size()));
                    break;
                default:
                    throw Error(ErrorCode::integrity, "a captured value is of unknown type");
            }
        }
        statement.run();
    }
}

void throw_sqlite_error(sqlite3* db, int result_code, std::string_view context) {
    if ((result_code & 0xff) == SQLITE_NOMEM) {
        throw std::bad_alloc();
    }
    const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result_code);
    throw Error(error_code_for(result_code),
                fmt::format("{}: {} (sqlite {})", context, detail, result_code));
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* cache, Values* values)
    : db_(db), stmt_(stmt), cache_(cache), values_(values != nullptr ? values : &own_values_) {
    if (!cached()) {
        own_values_.resize(static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt)));
    }
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      cache_(other.cache_),
      values_(other.cached() ? other.values_ : &own_values_),
      captured_(other.captured_),
      own_values_(std::move(other.own_values_)) {
    other.stmt_ = nullptr;
}

Statement::~Statement() {
    if (stmt_ == nullptr) {
        return;
    }
    if (cached()) {
        cache_->give_back(stmt_);
    } else {
        sqlite3_finalize(stmt_);
    }
}

std::string& Statement::slot(int index) {
    if (index < 1 || static_cast<std::size_t>(index) > values_->size()) {
        throw Error(
            ErrorCode::internal,
            fmt::format("binding parameter {} of a statement that has {}: '{}'", index,
                        values_->size(), std::string_view(sqlite3_sql(stmt_)).substr(0, 80)));
    }
    return (*values_)[static_cast<std::size_t>(index) - 1];
}

// After a successful first step: a statement that changed the database joins the capture.
void Statement::capture_if_write() {
    if (captured_ || cache_ == nullptr || cache_->capture() == nullptr) {
        return;
    }
    captured_ = true;
    if (sqlite3_stmt_readonly(stmt_) != 0) {
        return;
    }
    cache_->capture()->statement(sqlite3_sql(stmt_), *values_);
    if (cache_->capture()->full()) {
        cache_->set_capture(nullptr);  // no use capturing the rest (see WriteCapture)
    }
}

Statement& Statement::bind(int index, std::int64_t value) {
    WriteCapture::encode_integer(value, slot(index));
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding an integer");
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    const auto length = checked_length(text.size());
    auto& encoded = slot(index);
    WriteCapture::encode_text(text, encoded);
    // Never a null pointer, which SQLite would store as NULL, not "".
    const int rc = sqlite3_bind_text(stmt_, index, encoded.data() + 1, length, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding text");
    }
    return *this;
}

Statement& Statement::bind(int index, std::span<const std::byte> blob) {
    const auto length = checked_length(blob.size());
    auto& encoded = slot(index);
    WriteCapture::encode_blob(blob, encoded);
    const int rc = sqlite3_bind_blob(stmt_, index, encoded.data() + 1, length, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding a blob");
    }
    return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
    slot(index).clear();
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, "binding NULL");
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        capture_if_write();
        return true;
    }
    if (rc == SQLITE_DONE) {
        capture_if_write();
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
    captured_ = false;  // a run after the reset is a change of its own
}

StatementCache::~StatementCache() {
    for (auto& [sql, entry] : entries_) {
        sqlite3_finalize(entry->stmt);
    }
}

StatementCache::Entry* StatementCache::find(std::string_view sql) {
    if (const auto known = by_address_.find(sql.data()); known != by_address_.end()) {
        if (known->second->sql == sql) {
            return known->second;
        }
    }
    const auto found = entries_.find(sql);
    if (found == entries_.end()) {
        return nullptr;
    }
    remember_address(sql.data(), found->second.get());
    return found->second.get();
}

void StatementCache::remember_address(const char* address, Entry* entry) {
    // SQL built at run time comes from ever new addresses: forget them all now and then, so
    // the map stays about as small as the cache.
    if (by_address_.size() >= 2 * entries_.size() + 64) {
        by_address_.clear();
    }
    by_address_.insert_or_assign(address, entry);
}

Statement StatementCache::prepare(std::string_view sql) {
    Entry* entry = find(sql);
    if (entry != nullptr && !entry->lent) {
        entry->lent = true;
        return Statement(db_, entry->stmt, this, &entry->values);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), checked_length(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        throw_sqlite_error(db_, rc, fmt::format("preparing '{}'", sql.substr(0, 80)));
    }
    if (entry != nullptr) {
        return Statement(db_, stmt, this, nullptr);  // the cached copy is in use: a private one
    }
    auto owned = std::make_unique<Entry>();
    owned->sql.assign(sql);
    owned->stmt = stmt;
    owned->lent = true;
    owned->values.resize(static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt)));
    entry = owned.get();
    entries_.emplace(entry->sql, std::move(owned));
    remember_address(sql.data(), entry);
    by_handle_.emplace(stmt, entry);
    return Statement(db_, stmt, this, &entry->values);
}

void StatementCache::give_back(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    Entry* entry = by_handle_.at(stmt);
    for (auto& value : entry->values) {
        // Unbound until the next borrower binds it. The buffer stays for the next value,
        // unless a large one left it large.
        if (value.capacity() > kKeptValueBytes) {
            std::string().swap(value);
        } else {
            value.clear();
        }
    }
    entry->lent = false;
}

}  // namespace sihlicon::store
