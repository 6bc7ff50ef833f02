// SPDX-License-Identifier: Apache-2.0
//
// replace_file: a temporary file beside the target, renamed over it only on success.
#include "cas/replace_file.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sihlicon::cas {

namespace {

[[noreturn]] void fail(std::string_view field, std::string_view what,
                       const std::filesystem::path& path, int error) {
    throw Error(ErrorCode::io,
                fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(error)),
                std::string(field));
}

// Closes the descriptor and, unless released, removes the temporary file.
struct TempFile {
    int fd = -1;
    std::filesystem::path path;
    bool keep = false;

    TempFile() = default;
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (fd >= 0) {
            ::close(fd);
        }
        if (!keep && !path.empty()) {
            ::unlink(path.c_str());
        }
    }
};

void write_all(int fd, std::span<const std::uint8_t> bytes, std::string_view field,
               const std::filesystem::path& shown) {
    while (!bytes.empty()) {
        const auto written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail(field, "write", shown, errno);
        }
        bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
}

// Writes straight into an existing special file (a device or a pipe): nothing to keep there.
std::uint64_t write_in_place(const std::filesystem::path& path, std::string_view field,
                             const std::function<void(const ContentStore::ByteSink&)>& produce) {
    TempFile file;  // only closes: its path stays empty
    file.fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (file.fd < 0) {
        fail(field, "write", path, errno);
    }
    std::uint64_t total = 0;
    produce([&](std::span<const std::uint8_t> bytes) {
        write_all(file.fd, bytes, field, path);
        total += bytes.size();
    });
    return total;
}

}  // namespace

std::uint64_t replace_file(const std::filesystem::path& path, std::string_view field,
                           const std::function<void(const ContentStore::ByteSink&)>& produce) {
    struct stat existing {};
    const bool exists = ::stat(path.c_str(), &existing) == 0;
    if (exists && S_ISDIR(existing.st_mode)) {
        fail(field, "write", path, EISDIR);
    }
    if (exists && !S_ISREG(existing.st_mode)) {
        return write_in_place(path, field, produce);
    }
    const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    TempFile temp;
    for (int attempt = 0; temp.fd < 0; ++attempt) {
        std::uint64_t nonce = 0;
        RAND_bytes(reinterpret_cast<unsigned char*>(&nonce), sizeof nonce);
        temp.path = folder / fmt::format(".{}.{:016x}.sihlicon-tmp",
                                         path.filename().string().substr(0, 64), nonce);
        // O_EXCL: never follow or reuse another file; 0666 so that the umask applies.
        temp.fd = ::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (temp.fd < 0) {
            const int error = errno;
            temp.path.clear();
            if (error != EEXIST || attempt >= 8) {
                fail(field, "write", path, error);
            }
        }
    }
    if (exists && ::fchmod(temp.fd, existing.st_mode & 07777) != 0) {
        fail(field, "write", path, errno);
    }
    std::uint64_t total = 0;
    produce([&](std::span<const std::uint8_t> bytes) {
        write_all(temp.fd, bytes, field, path);
        total += bytes.size();
    });
    if (::fsync(temp.fd) != 0) {
        fail(field, "write", path, errno);
    }
    const int fd = temp.fd;
    temp.fd = -1;
    if (::close(fd) != 0) {
        fail(field, "write", path, errno);
    }
    if (::rename(temp.path.c_str(), path.c_str()) != 0) {
        fail(field, "replace", path, errno);
    }
    temp.keep = true;
    return total;
}

}  // namespace sihlicon::cas
