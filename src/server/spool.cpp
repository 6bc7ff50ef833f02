// SPDX-License-Identifier: Apache-2.0
//
// Spool files of the server (server/spool.hpp).
#include "server/spool.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace sihlicon::server {

namespace {

Error io_error(std::string_view what) {
    return Error(ErrorCode::io, fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

std::shared_ptr<SpoolFile> SpoolFile::create(const std::filesystem::path& directory) {
    const auto folder = directory.empty() ? std::filesystem::temp_directory_path() : directory;
    int fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // No O_TMPFILE on this file system: a named file, unlinked before it is used.
        std::string name = (folder / "sihlicon-spool-XXXXXX").string();
        fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd >= 0) {
            ::unlink(name.c_str());
        }
    }
    if (fd < 0) {
        throw io_error(fmt::format("cannot make a spool file in {}", folder.string()));
    }
    return std::shared_ptr<SpoolFile>(new SpoolFile(fd, 0));
}

std::shared_ptr<SpoolFile> SpoolFile::open(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw io_error(fmt::format("cannot open {}", path.string()));
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(fd);
        throw Error::invalid("file", path.string(), "is not a regular file");
    }
    return std::shared_ptr<SpoolFile>(
        new SpoolFile(fd, static_cast<std::uint64_t>(status.st_size)));
}

SpoolFile::~SpoolFile() {
    ::close(fd_);
}

void SpoolFile::append(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
        const auto written = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_));
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            throw io_error("cannot write a spool file");
        }
        size_ += static_cast<std::uint64_t>(written);
        bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
}

std::size_t SpoolFile::read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) const {
    std::size_t done = 0;
    while (done < buffer.size() && offset + done < size_) {
        const auto want = static_cast<std::size_t>(
            std::min<std::uint64_t>(buffer.size() - done, size_ - offset - done));
        const auto got =
            ::pread(fd_, buffer.data() + done, want, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw io_error("cannot read a spool file");
        }
        if (got == 0) {
            break;  // the file is shorter than recorded
        }
        done += static_cast<std::size_t>(got);
    }
    return done;
}

ContentStore::ByteSource SpoolFile::source(std::uint64_t offset, std::uint64_t length) const {
    const auto begin = std::min(offset, size_);
    const auto end = begin + std::min(length, size_ - begin);
    return [this, at = begin, end](std::span<std::uint8_t> buffer) mutable {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - at));
        const auto got = read_at(at, buffer.first(want));
        at += got;
        return got;
    };
}

}  // namespace sihlicon::server
