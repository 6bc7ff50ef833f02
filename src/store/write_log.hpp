// SPDX-License-Identifier: Apache-2.0
//
// The write log of a database (`<database>-log`, beside SQLite's `-wal` and `-shm`): what a
// Database with DatabaseOptions::commit_interval has acknowledged but not yet committed to
// SQLite. Not installed.
//
// Why: a commit in SQLite's write-ahead log writes every page the transaction changed, 4 KiB
// each; a scheduler step changes 7 to 15 pages, so one commit per call caps the scheduler at
// a fraction of SQLite's one-row commit rate (issue 3's benchmark, figure (f)). A record of
// this log holds the statements a write ran with their bound values (store/statement.hpp,
// WriteCapture), a few hundred bytes, and is appended with one system call or none (see
// "Mapped appends"). The database keeps
// its transaction open and commits many records' changes at once.
//
// Format: records one after another, each
//   magic "SIHW" (4 bytes) | payload length (u32) | sequence (u64) | XXH3-64 of the payload
//   seeded with the sequence (u64) | payload
// in the machine's byte order (the log is replayed on the machine that wrote it, and is empty
// once its writer has committed). A record that ends early or whose hash does not match is the
// torn tail of an append a crash interrupted: reading stops there. Its write was never
// acknowledged.
//
// Sequences: each database records in its table sihlicon_write_log the sequence of the last
// record whose changes it has committed. Records at or below it are already in the database
// (the log is emptied after each commit, but a crash may come between the two).
//
// Emptying: the first record's header is zeroed and appends start again at the beginning,
// overwriting the blocks the file already has (allocating them anew after a truncation cost
// the scheduler benchmark ~10% of its time in the file system). Whole records of earlier rounds
// may follow the new ones; their sequences are at or below the committed one, so they are
// skipped. A file grown beyond kKeepBytes is truncated instead.
//
// Mapped appends: an owner whose appends need not reach the device (Durability::normal) maps
// the first kMapBytes of the file into memory (`map`), after writing them once so that every
// block is allocated, and appends a record there by copying it: no system call. The copy is in
// the kernel's page cache as soon as it is made, as a write(2) would be, so it survives kill -9
// of the process just the same (not a power cut, as with write(2) without a sync). A record
// that does not fit in the mapped part is appended with pwritev(2).
//
// Ownership: the Database that appends holds an exclusive flock on the file for as long as it
// is open. Every other Database on the same file (another process, or a second open in this
// one) commits each write itself and, before each, adopts a log whose owner died with records
// not yet committed (see Database).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::store {

class WriteLog {
  public:
    struct Record {
        std::uint64_t sequence = 0;
        std::string payload;
    };

    // Opens `path`, creating an empty log when there is none. Throws Error(io) when it cannot.
    explicit WriteLog(std::filesystem::path path);
    WriteLog(const WriteLog&) = delete;
    WriteLog& operator=(const WriteLog&) = delete;
    ~WriteLog();

    const std::filesystem::path& path() const { return path_; }

    // Takes the owner lock without waiting: false when another open log holds it.
    bool try_lock();
    void unlock();
    bool locked() const { return locked_; }

    // Whether the file holds no record (one read of its first bytes).
    bool empty() const;

    // A log larger than this is truncated when emptied rather than rewound.
    static constexpr std::uint64_t kKeepBytes = 64 << 20;

    // The sequence of the first record, if the file starts with a whole one.
    std::optional<std::uint64_t> first_sequence() const;

    // The whole records of the file in order, up to the first torn or damaged one.
    std::vector<Record> read() const;

    // Appends one record (into the mapping when there is room and no `sync`, otherwise with one
    // system call) and, with `sync`, waits until it is on the
    // device. On failure cuts the file back to where it was and throws Error(io): nothing of
    // the record remains.
    void append(std::uint64_t sequence, std::string_view payload, bool sync);

    // Maps the first kMapBytes of the file for the appends without `sync` (see "Mapped
    // appends"), growing the file to that size with zeros first. Returns false, and appends
    // keep using pwritev(2), when the disk has no room or the mapping fails. For the owner.
    static constexpr std::uint64_t kMapBytes = 9 << 20;
    bool map();
    bool mapped() const { return map_ != nullptr; }

    // Empties the log (see "Emptying"). Returns false when that failed (the records stay;
    // they are skipped by sequence when read).
    bool clear();

  private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool locked_ = false;
    std::uint64_t end_ = 0;  // where the next record goes, for the owner
    char* map_ = nullptr;    // the first kMapBytes of the file, when mapped
    void unmap();
};

}  // namespace sihlicon::store
