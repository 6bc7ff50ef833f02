// SPDX-License-Identifier: Apache-2.0
#include "store/wal_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace sihlicon::store {

namespace {

// The log's layout (https://www.sqlite.org/fileformat2.html#walformat): a 32-byte header, then
// frames of a 24-byte header and a page. A frame header's bytes 4-7 hold, for a commit frame,
// the database's size in pages after the commit, and zero otherwise.
constexpr int kLogHeaderBytes = 32;
constexpr int kFrameHeaderBytes = 24;

// The largest write the default VFS takes at once: the unix VFS keeps only the low 17 bits of
// a write's size (below 128 KiB); whole pages of 4 KiB below that.
constexpr std::size_t kLargestWrite = 0x1ffff & ~std::size_t{0xfff};

sqlite3_vfs* g_base = nullptr;  // the platform's default VFS, set once before registering

// A log file: our methods in front of the default VFS's file, which lives just after it in the
// block SQLite allocates (szOsFile covers both).
struct LogFile {
    sqlite3_file base;  // must come first: SQLite sees this
    sqlite3_file* real = nullptr;
    std::vector<unsigned char> collected;  // consecutive bytes not yet written...
    sqlite3_int64 collected_at = 0;        // ...starting at this offset
    // Where the page of the last commit frame header will be written, or -1: the write that
    // completes a commit frame.
    sqlite3_int64 commit_page_at = -1;
    // Where the last commit frame header was written since the log started over, or -1.
    // SQLite writes a commit frame's header a second time, without its page, when it
    // recomputes the checksums of a transaction whose frames it changed in place; that header
    // completes the commit by itself. (A new frame never reuses a committed frame's place
    // until the log starts over.)
    sqlite3_int64 last_commit_header_at = -1;
};

constexpr std::size_t real_offset() {
    return (sizeof(LogFile) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
           alignof(std::max_align_t);
}

LogFile* as_log(sqlite3_file* file) {
    return reinterpret_cast<LogFile*>(file);
}

int write_collected(LogFile* log) {
    if (log->collected.empty()) {
        return SQLITE_OK;
    }
    int rc = SQLITE_OK;
    for (std::size_t done = 0; done < log->collected.size() && rc == SQLITE_OK;) {
        const std::size_t piece = std::min(log->collected.size() - done, kLargestWrite);
        rc = log->real->pMethods->xWrite(log->real, log->collected.data() + done,
                                         static_cast<int>(piece),
                                         log->collected_at + static_cast<sqlite3_int64>(done));
        done += piece;
    }
    // Written or not, the bytes are given up: on failure SQLite abandons the transaction, and a
    // retry of the same bytes comes through xWrite again.
    log->collected.clear();
    log->commit_page_at = -1;
    return rc;
}

bool is_commit_frame_header(const void* data, int amount, sqlite3_int64 offset) {
    if (amount != kFrameHeaderBytes || offset < kLogHeaderBytes) {
        return false;
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    return (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
}

int log_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    LogFile* log = as_log(file);
    if (offset == 0) {
        log->last_commit_header_at = -1;  // a new log header: the log starts over
    }
    if (!log->collected.empty() &&
        offset != log->collected_at + static_cast<sqlite3_int64>(log->collected.size())) {
        if (const int rc = write_collected(log); rc != SQLITE_OK) {
            return rc;
        }
    }
    if (log->collected.empty()) {
        log->collected_at = offset;
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    log->collected.insert(log->collected.end(), bytes, bytes + amount);

    bool write_now = log->collected.size() >= kMaxCollected;
    if (is_commit_frame_header(data, amount, offset)) {
        // A new commit frame is complete once its page follows; a rewritten one (its page is
        // already in the file) completes the transaction by itself. If an abandoned commit
        // left a header here, writing now is merely early.
        write_now = write_now || offset == log->last_commit_header_at;
        log->last_commit_header_at = offset;
        const int rc = write_now ? write_collected(log) : SQLITE_OK;
        log->commit_page_at = offset + kFrameHeaderBytes;  // after writing, which clears it
        return rc;
    }
    if (offset == log->commit_page_at) {
        write_now = true;
    }
    return write_now ? write_collected(log) : SQLITE_OK;
}

int log_close(sqlite3_file* file) {
    LogFile* log = as_log(file);
    const int written = write_collected(log);
    const int closed = log->real->pMethods->xClose(log->real);
    log->~LogFile();
    return written != SQLITE_OK ? written : closed;
}

// A method of the default VFS's file, called on the file behind ours; with WriteFirst, after
// writing what is collected (every call that could read, size, sync or cut the log).
template <auto Member, bool WriteFirst,
          class Method =
              std::remove_reference_t<decltype(std::declval<sqlite3_io_methods&>().*Member)>>
struct Forward;

template <auto Member, bool WriteFirst, class Result, class... Args>
struct Forward<Member, WriteFirst, Result (*)(sqlite3_file*, Args...)> {
    static Result call(sqlite3_file* file, Args... args) {
        LogFile* log = as_log(file);
        if constexpr (WriteFirst) {
            if (const int rc = write_collected(log); rc != SQLITE_OK) {
                return rc;
            }
        }
        return (log->real->pMethods->*Member)(log->real, args...);
    }
};

using Methods = sqlite3_io_methods;

// SQLite maps and locks shared memory through the database file, never the log: those
// methods only forward, for a complete version-3 table.
const sqlite3_io_methods kLogMethods = {
    3,
    log_close,
    Forward<&Methods::xRead, true>::call,
    log_write,
    Forward<&Methods::xTruncate, true>::call,
    Forward<&Methods::xSync, true>::call,
    Forward<&Methods::xFileSize, true>::call,
    Forward<&Methods::xLock, true>::call,
    Forward<&Methods::xUnlock, true>::call,
    Forward<&Methods::xCheckReservedLock, false>::call,
    Forward<&Methods::xFileControl, true>::call,
    Forward<&Methods::xSectorSize, false>::call,
    Forward<&Methods::xDeviceCharacteristics, false>::call,
    Forward<&Methods::xShmMap, false>::call,
    Forward<&Methods::xShmLock, false>::call,
    Forward<&Methods::xShmBarrier, false>::call,
    Forward<&Methods::xShmUnmap, false>::call,
    Forward<&Methods::xFetch, true>::call,
    Forward<&Methods::xUnfetch, false>::call,
};

// Our methods, offering no more than the default VFS's file does (SQLite only calls the
// shared-memory and mapping methods of a table of version 2 or 3).
sqlite3_io_methods log_methods_of_version(int version) {
    sqlite3_io_methods table = kLogMethods;
    table.iVersion = version;
    return table;
}

const sqlite3_io_methods* methods_like(const sqlite3_io_methods& real) {
    static const sqlite3_io_methods tables[3] = {
        log_methods_of_version(1), log_methods_of_version(2), log_methods_of_version(3)};
    return &tables[std::clamp(real.iVersion, 1, 3) - 1];
}

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    if ((flags & SQLITE_OPEN_WAL) == 0) {
        // Not a log: the default VFS's own file, in the same block.
        return g_base->xOpen(g_base, name, file, flags, out_flags);
    }
    auto* real =
        reinterpret_cast<sqlite3_file*>(reinterpret_cast<unsigned char*>(file) + real_offset());
    const int rc = g_base->xOpen(g_base, name, real, flags, out_flags);
    if (rc != SQLITE_OK) {
        file->pMethods = nullptr;
        return rc;
    }
    auto* log = new (file) LogFile();
    log->base.pMethods = methods_like(*real->pMethods);
    log->real = real;
    return SQLITE_OK;
}

// The rest forwards to the default VFS, passing it its own object (it keeps state there).
template <auto Member,
          class Method = std::remove_reference_t<decltype(std::declval<sqlite3_vfs&>().*Member)>>
struct ForwardVfs;

template <auto Member, class Result, class... Args>
struct ForwardVfs<Member, Result (*)(sqlite3_vfs*, Args...)> {
    static Result call(sqlite3_vfs*, Args... args) { return (g_base->*Member)(g_base, args...); }
};

sqlite3_vfs g_vfs{};

}  // namespace

const char* wal_vfs_name() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_base = sqlite3_vfs_find(nullptr);
        g_vfs.iVersion = 2;
        g_vfs.szOsFile = static_cast<int>(real_offset()) + g_base->szOsFile;
        g_vfs.mxPathname = g_base->mxPathname;
        g_vfs.zName = "sihlicon-log";
        g_vfs.xOpen = vfs_open;
        g_vfs.xDelete = ForwardVfs<&sqlite3_vfs::xDelete>::call;
        g_vfs.xAccess = ForwardVfs<&sqlite3_vfs::xAccess>::call;
        g_vfs.xFullPathname = ForwardVfs<&sqlite3_vfs::xFullPathname>::call;
        g_vfs.xDlOpen = ForwardVfs<&sqlite3_vfs::xDlOpen>::call;
        g_vfs.xDlError = ForwardVfs<&sqlite3_vfs::xDlError>::call;
        g_vfs.xDlSym = ForwardVfs<&sqlite3_vfs::xDlSym>::call;
        g_vfs.xDlClose = ForwardVfs<&sqlite3_vfs::xDlClose>::call;
        g_vfs.xRandomness = ForwardVfs<&sqlite3_vfs::xRandomness>::call;
        g_vfs.xSleep = ForwardVfs<&sqlite3_vfs::xSleep>::call;
        g_vfs.xCurrentTime = ForwardVfs<&sqlite3_vfs::xCurrentTime>::call;
        if (g_base->xGetLastError != nullptr) {
            g_vfs.xGetLastError = ForwardVfs<&sqlite3_vfs::xGetLastError>::call;
        }
        if (g_base->iVersion >= 2 && g_base->xCurrentTimeInt64 != nullptr) {
            g_vfs.xCurrentTimeInt64 = ForwardVfs<&sqlite3_vfs::xCurrentTimeInt64>::call;
        }
        if (g_base->iVersion >= 3 && g_base->xSetSystemCall != nullptr) {
            g_vfs.iVersion = 3;
            g_vfs.xSetSystemCall = ForwardVfs<&sqlite3_vfs::xSetSystemCall>::call;
            g_vfs.xGetSystemCall = ForwardVfs<&sqlite3_vfs::xGetSystemCall>::call;
            g_vfs.xNextSystemCall = ForwardVfs<&sqlite3_vfs::xNextSystemCall>::call;
        }
        sqlite3_vfs_register(&g_vfs, 0);
    });
    return g_vfs.zName;
}

}  // namespace sihlicon::store
