// SPDX-License-Identifier: Apache-2.0
//
// A file that holds a streamed request or response body outside memory: created unlinked
// (O_TMPFILE, or a named file removed at once where the file system lacks it) in the server's
// spool folder, so it disappears with its last descriptor whatever happens to the process.
// Not installed.
#pragma once

#include <sihlicon/content_store.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace sihlicon::server {

class SpoolFile {
  public:
    // An empty unlinked file in `directory` (the system temp folder when empty). Throws
    // Error(io) when it cannot be made.
    static std::shared_ptr<SpoolFile> create(const std::filesystem::path& directory);
    // An existing regular file, read only (its size as it is now). Throws Error(io) when it
    // cannot be opened, Error::invalid naming "file" when it is not a regular file.
    static std::shared_ptr<SpoolFile> open(const std::filesystem::path& path);

    SpoolFile(const SpoolFile&) = delete;
    SpoolFile& operator=(const SpoolFile&) = delete;
    ~SpoolFile();

    // Appends the bytes. Throws Error(io) (a full disk).
    void append(std::span<const std::uint8_t> bytes);
    // The bytes appended (or the opened file's size).
    std::uint64_t size() const { return size_; }
    // Reads up to buffer.size() bytes from `offset` (fewer only at the end). Throws Error(io).
    std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) const;
    // A reader of [offset, offset + length), in order, for ContentStore::put_stream and the
    // like. Several may read the same file at once. The file must outlive the reader.
    ContentStore::ByteSource source(std::uint64_t offset, std::uint64_t length) const;

  private:
    SpoolFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    int fd_;
    std::uint64_t size_;
};

}  // namespace sihlicon::server
