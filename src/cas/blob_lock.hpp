// SPDX-License-Identifier: Apache-2.0
//
// The lock between puts and block removals, for threads and processes alike. Not installed.
//
// Puts hold it shared from their first block write to their commit; removals, tier moves and
// garbage collection hold it exclusively from their commit to their last unlink, so a block
// that a put found present cannot be unlinked before the put records it — also when the put
// and the removal run in two processes on the same hub. Threads are ordered by a shared
// mutex; processes by flock(2) on `<hub>/blobs.lock`, taken shared by the first shared
// holder in this process and released by the last.
//
// Meets the SharedMutex requirements (std::shared_lock, std::unique_lock).
#pragma once

#include <filesystem>
#include <mutex>
#include <shared_mutex>

namespace sihlicon::cas {

class BlobLock {
  public:
    // Opens (creating) the lock file `path`. Throws Error(io) if it cannot.
    explicit BlobLock(const std::filesystem::path& path);
    BlobLock(const BlobLock&) = delete;
    BlobLock& operator=(const BlobLock&) = delete;
    ~BlobLock();

    void lock();
    // lock() if no thread or process holds the lock in any mode; false otherwise.
    bool try_lock();
    void unlock();
    void lock_shared();
    void unlock_shared();

  private:
    void file_lock(int operation);

    std::shared_mutex threads_;
    std::mutex holders_mutex_;
    int shared_holders_ = 0;
    int fd_ = -1;
};

}  // namespace sihlicon::cas
