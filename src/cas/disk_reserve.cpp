// SPDX-License-Identifier: Apache-2.0
#include "cas/disk_reserve.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace sihlicon::cas {

namespace {
std::atomic<std::uint64_t> refill_counter{0};
}

DiskReserve::DiskReserve(std::filesystem::path path) : path_(std::move(path)) {
    refill();
}

bool DiskReserve::release() noexcept {
    return ::unlink(path_.c_str()) == 0;
}

bool DiskReserve::refill() noexcept {
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0) {
        return true;
    }
    try {
        const auto staged =
            path_.string() + fmt::format(".{}.{}.tmp", ::getpid(), refill_counter.fetch_add(1));
        const int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            return false;
        }
        const bool allocated = ::posix_fallocate(fd, 0, static_cast<off_t>(kBytes)) == 0;
        ::close(fd);
        if (!allocated || ::rename(staged.c_str(), path_.c_str()) != 0) {
            ::unlink(staged.c_str());
            return false;
        }
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace sihlicon::cas
