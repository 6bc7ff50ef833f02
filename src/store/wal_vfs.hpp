// SPDX-License-Identifier: Apache-2.0
//
// The SQLite VFS every connection of the library opens its database through: the platform's
// default VFS, except that a write-ahead log's frames are written with one system call per
// transaction instead of two per page.
//
// Why: SQLite writes each log frame as two pwrite calls (its 24-byte header, then the page),
// so a scheduler step that changes 8 pages makes 16 calls, and a profile of the scheduler
// benchmark spent a third of its time in them. This VFS collects the consecutive writes of a
// transaction's frames in memory and hands them to the default VFS as one write when the
// transaction's commit frame has been written (a frame whose header carries the database size
// after the commit).
//
// Why it is safe:
// - Durability is unchanged. The commit frame's write returns only after the whole
//   transaction is in the file (in the kernel, which survives the process being killed), and
//   SQLite syncs the log, when the durability asks for it, through xSync, which writes what is
//   collected first. SQLite publishes new frames to other connections and processes (the
//   wal-index) only after the commit frame's write has returned.
// - Every other call on the log file (read, size, sync, truncate, file control, lock, close)
//   first writes what is collected, so SQLite never reads back a frame it wrote that is not yet
//   in the file. A write that does not continue the collected range does the same.
// - A failed write of the collected frames fails the call that triggered it (for the commit,
//   the commit frame's write), which SQLite treats as the failure of that write: the
//   transaction is not committed.
// - At most kMaxCollected bytes are held; beyond that they are written out early, as SQLite
//   would have done.
// Only log files are affected; the database file, journals and temporary files go straight to
// the default VFS.
#pragma once

#include <cstddef>

namespace sihlicon::store {

// The VFS's registered name, for sqlite3_open_v2. Registering happens once per process, on the
// first call; it never becomes SQLite's default VFS.
const char* wal_vfs_name();

// Most bytes of log frames held before they are written out early.
inline constexpr std::size_t kMaxCollected = 4 << 20;

}  // namespace sihlicon::store
