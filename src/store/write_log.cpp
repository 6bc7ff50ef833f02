// SPDX-License-Identifier: Apache-2.0
#include "store/write_log.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace sihlicon::store {

namespace {

constexpr char kMagic[4] = {'S', 'I', 'H', 'W'};

struct Header {
    char magic[4];
    std::uint32_t length;
    std::uint64_t sequence;
    std::uint64_t hash;
};
static_assert(sizeof(Header) == 24);

std::uint64_t hash_of(std::uint64_t sequence, std::string_view payload) {
    return XXH3_64bits_withSeed(payload.data(), payload.size(), sequence);
}

[[noreturn]] void throw_io(const std::filesystem::path& path, std::string_view what, int error) {
    throw Error(ErrorCode::io, fmt::format("{} the write log {}: {}", what, path.string(),
                                           std::generic_category().message(error)));
}

}  // namespace

WriteLog::WriteLog(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw_io(path_, "cannot open", errno);
    }
}

WriteLog::~WriteLog() {
    unlock();
    ::close(fd_);
}

bool WriteLog::map() {
    if (map_ != nullptr) {
        return true;
    }
    struct stat status {};
    if (::fstat(fd_, &status) != 0) {
        return false;
    }
    // Zeroes written, not a sparse file or fallocate(2)'s unwritten extents: a store into a
    // mapped page whose block the file system cannot allocate kills the process with SIGBUS.
    const auto had = static_cast<std::uint64_t>(status.st_size);
    static const char zeros[1 << 16] = {};
    for (std::uint64_t at = had; at < kMapBytes;) {
        const auto size = std::min<std::uint64_t>(sizeof zeros, kMapBytes - at);
        const auto got = ::pwrite(fd_, zeros, size, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            [[maybe_unused]] const int ignored = ::ftruncate(fd_, static_cast<off_t>(had));
            return false;
        }
        at += static_cast<std::uint64_t>(got);
    }
    void* address = ::mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (address == MAP_FAILED) {
        return false;
    }
    map_ = static_cast<char*>(address);
    return true;
}

void WriteLog::unmap() {
    if (map_ != nullptr) {
        ::munmap(map_, kMapBytes);
        map_ = nullptr;
    }
}

bool WriteLog::try_lock() {
    if (!locked_) {
        locked_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
        if (locked_) {
            struct stat status {};
            end_ = ::fstat(fd_, &status) == 0 ? static_cast<std::uint64_t>(status.st_size) : 0;
        }
    }
    return locked_;
}

void WriteLog::unlock() {
    unmap();
    if (locked_) {
        ::flock(fd_, LOCK_UN);
        locked_ = false;
    }
}

bool WriteLog::empty() const {
    char magic[sizeof kMagic] = {};
    const auto got = ::pread(fd_, magic, sizeof magic, 0);
    return got != static_cast<ssize_t>(sizeof magic) ||
           std::memcmp(magic, kMagic, sizeof magic) != 0;
}

std::optional<std::uint64_t> WriteLog::first_sequence() const {
    Header header{};
    if (::pread(fd_, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
        std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) {
        return std::nullopt;
    }
    std::string payload(header.length, '\0');
    if (::pread(fd_, payload.data(), payload.size(), sizeof header) !=
            static_cast<ssize_t>(payload.size()) ||
        hash_of(header.sequence, payload) != header.hash) {
        return std::nullopt;  // torn: never acknowledged
    }
    return header.sequence;
}

std::vector<WriteLog::Record> WriteLog::read() const {
    struct stat status {};
    if (::fstat(fd_, &status) != 0) {
        throw_io(path_, "cannot read", errno);
    }
    std::string bytes(static_cast<std::size_t>(status.st_size), '\0');
    std::size_t have = 0;
    while (have < bytes.size()) {
        const auto got =
            ::pread(fd_, bytes.data() + have, bytes.size() - have, static_cast<off_t>(have));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw_io(path_, "cannot read", errno);
        }
        if (got == 0) {
            break;  // cut short meanwhile: what was read is all there is
        }
        have += static_cast<std::size_t>(got);
    }
    bytes.resize(have);
    std::vector<Record> records;
    std::string_view rest = bytes;
    while (rest.size() >= sizeof(Header)) {
        Header header{};
        std::memcpy(&header, rest.data(), sizeof header);
        if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 ||
            rest.size() - sizeof header < header.length) {
            break;
        }
        const auto payload = rest.substr(sizeof header, header.length);
        if (hash_of(header.sequence, payload) != header.hash) {
            break;
        }
        records.push_back({header.sequence, std::string(payload)});
        rest.remove_prefix(sizeof header + header.length);
    }
    return records;
}

void WriteLog::append(std::uint64_t sequence, std::string_view payload, bool sync) {
    if (payload.size() > UINT32_MAX) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("a write of {} bytes is too large for the write log", payload.size()));
    }
    Header header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.length = static_cast<std::uint32_t>(payload.size());
    header.sequence = sequence;
    header.hash = hash_of(sequence, payload);
    iovec parts[2] = {{&header, sizeof header},
                      {const_cast<char*>(payload.data()), payload.size()}};
    const std::size_t total = sizeof header + payload.size();
    std::size_t written = 0;
    auto fail = [&](int error) {
        // Cut back what a partial write left, so the next record follows the last whole one.
        if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0) {
            // The torn bytes stay; a reader stops at them, and so would every later record:
            // refuse appends until the file is emptied.
            end_ = UINT64_MAX;
        }
        throw_io(path_, "cannot append to", error);
    };
    if (end_ == UINT64_MAX) {
        fail(EIO);
    }
    if (map_ != nullptr && !sync && end_ + total <= kMapBytes) {
        // The payload before the header: a reader that finds the header finds the payload.
        std::memcpy(map_ + end_ + sizeof header, payload.data(), payload.size());
        std::memcpy(map_ + end_, &header, sizeof header);
        end_ += total;
        return;
    }
    while (written < total) {
        iovec* first = parts;
        int count = 2;
        std::size_t skip = written;
        if (skip >= parts[0].iov_len) {
            skip -= parts[0].iov_len;
            first = parts + 1;
            count = 1;
        }
        iovec current[2] = {first[0], count == 2 ? first[1] : iovec{}};
        current[0].iov_base = static_cast<char*>(current[0].iov_base) + skip;
        current[0].iov_len -= skip;
        const auto got = ::pwritev(fd_, current, count, static_cast<off_t>(end_ + written));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            fail(got < 0 ? errno : EIO);
        }
        written += static_cast<std::size_t>(got);
    }
    if (sync && ::fdatasync(fd_) != 0) {
        fail(errno);
    }
    end_ += total;
}

bool WriteLog::clear() {
    struct stat status {};
    const bool grown =
        ::fstat(fd_, &status) != 0 || static_cast<std::uint64_t>(status.st_size) > kKeepBytes;
    // A file grown that large is cut back, to the mapped part if there is one (a store into a
    // mapped page beyond the end of the file is SIGBUS).
    if (grown && ::ftruncate(fd_, map_ != nullptr ? static_cast<off_t>(kMapBytes) : 0) != 0) {
        return false;
    }
    // Zeroes the first record's header: a reader stops there. The file keeps its blocks, so
    // the next appends overwrite them instead of allocating new ones.
    const Header nothing{};
    if (::pwrite(fd_, &nothing, sizeof nothing, 0) != static_cast<ssize_t>(sizeof nothing)) {
        return false;
    }
    end_ = 0;
    return true;
}

}  // namespace sihlicon::store
