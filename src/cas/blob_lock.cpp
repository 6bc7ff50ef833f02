// SPDX-License-Identifier: Apache-2.0
#include "cas/blob_lock.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace sihlicon::cas {

BlobLock::BlobLock(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    }
}

BlobLock::~BlobLock() {
    ::close(fd_);
}

void BlobLock::file_lock(int operation) {
    while (::flock(fd_, operation) != 0) {
        if (errno != EINTR) {
            throw Error(ErrorCode::io,
                        fmt::format("cannot lock the blob folder: {}", std::strerror(errno)));
        }
    }
}

void BlobLock::lock() {
    threads_.lock();
    try {
        file_lock(LOCK_EX);
    } catch (...) {
        threads_.unlock();
        throw;
    }
}

bool BlobLock::try_lock() {
    if (!threads_.try_lock()) {
        return false;
    }
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        if (error != EINTR) {
            threads_.unlock();
            if (error == EWOULDBLOCK) {
                return false;
            }
            throw Error(ErrorCode::io,
                        fmt::format("cannot lock the blob folder: {}", std::strerror(error)));
        }
    }
    return true;
}

void BlobLock::unlock() {
    ::flock(fd_, LOCK_UN);
    threads_.unlock();
}

void BlobLock::lock_shared() {
    threads_.lock_shared();
    std::lock_guard holders(holders_mutex_);
    if (shared_holders_ == 0) {
        try {
            file_lock(LOCK_SH);
        } catch (...) {
            threads_.unlock_shared();
            throw;
        }
    }
    ++shared_holders_;
}

void BlobLock::unlock_shared() {
    {
        std::lock_guard holders(holders_mutex_);
        if (--shared_holders_ == 0) {
            ::flock(fd_, LOCK_UN);
        }
    }
    threads_.unlock_shared();
}

}  // namespace sihlicon::cas
