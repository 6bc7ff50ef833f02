// SPDX-License-Identifier: Apache-2.0
//
// Room kept for freeing room: a file of kBytes allocated in the hub folder while the disk has
// space, released when a removal cannot write its transaction (SQLite, and the write log,
// must append before anything is deleted, and a full disk refuses that), then allocated again
// once the removal has deleted its blocks. Not installed.
//
// Thread safety: safe to use from many threads, and from many processes on one hub (each
// allocates under a name of its own and renames it into place).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>

namespace sihlicon::cas {

class DiskReserve {
  public:
    static constexpr std::uint64_t kBytes = 8u << 20;

    // Allocates the reserve at `path` if it is missing (see refill()). Never throws.
    explicit DiskReserve(std::filesystem::path path);

    // Deletes the reserve, giving its space back to the file system. Returns false when there
    // was none to give (already released, or never allocated).
    bool release() noexcept;

    // Allocates the reserve again if it is missing: fully (posix_fallocate) or not at all.
    // Returns whether it exists afterwards; a disk still full leaves it missing, for the next
    // refill(). Never throws.
    bool refill() noexcept;

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace sihlicon::cas
