// SPDX-License-Identifier: Apache-2.0
#include "fault/fault_injection.hpp"

#include <dlfcn.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <mutex>
#include <string>

namespace sihlicon::testing {
namespace {

struct Fault {
    bool armed = false;
    std::string path_part;
    FaultCall call = FaultCall::write;
    int error = 0;
    int pass = 0;
    int injected = 0;
    std::string full_while;  // if not empty: fail only while this file exists
};

std::mutex& fault_mutex() {
    static std::mutex mutex;
    return mutex;
}

Fault& fault() {
    static Fault instance;
    return instance;
}

std::atomic<bool> any_armed{false};

std::string path_of(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[PATH_MAX];
    const ssize_t length = ::readlink(link, target, sizeof target - 1);
    return length > 0 ? std::string(target, static_cast<std::size_t>(length)) : std::string();
}

// Whether this call must fail; sets errno when it must.
bool inject(int fd, FaultCall call) {
    if (!any_armed.load(std::memory_order_acquire)) {
        return false;
    }
    const auto path = path_of(fd);
    std::lock_guard lock(fault_mutex());
    Fault& armed = fault();
    if (!armed.armed || armed.call != call || path.find(armed.path_part) == std::string::npos) {
        return false;
    }
    if (!armed.full_while.empty() && ::access(armed.full_while.c_str(), F_OK) != 0) {
        return false;
    }
    if (armed.pass > 0) {
        --armed.pass;
        return false;
    }
    ++armed.injected;
    errno = armed.error;
    return true;
}

template <typename Function>
Function real(const char* name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

void arm_fault(std::string path_part, FaultCall call, int error, int pass) {
    std::lock_guard lock(fault_mutex());
    fault() = Fault{true, std::move(path_part), call, error, pass, 0, {}};
    any_armed.store(true, std::memory_order_release);
}

void arm_disk_full(std::string path_part, std::string full_while) {
    std::lock_guard lock(fault_mutex());
    fault() =
        Fault{true, std::move(path_part), FaultCall::write, ENOSPC, 0, 0, std::move(full_while)};
    any_armed.store(true, std::memory_order_release);
}

void disarm_fault() {
    std::lock_guard lock(fault_mutex());
    fault().armed = false;
    any_armed.store(false, std::memory_order_release);
}

int faults_injected() {
    std::lock_guard lock(fault_mutex());
    return fault().injected;
}

}  // namespace sihlicon::testing

using sihlicon::testing::FaultCall;
using sihlicon::testing::inject;
using sihlicon::testing::real;

// Exported despite the build's hidden default, so that libsqlite3 binds to them as well.
#define SIHLICON_INTERPOSE __attribute__((visibility("default")))

extern "C" {

SIHLICON_INTERPOSE ssize_t write(int fd, const void* buffer, size_t size) {
    static const auto next = real<ssize_t (*)(int, const void*, size_t)>("write");
    return inject(fd, FaultCall::write) ? -1 : next(fd, buffer, size);
}

SIHLICON_INTERPOSE ssize_t pwrite(int fd, const void* buffer, size_t size, off_t offset) {
    static const auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    return inject(fd, FaultCall::write) ? -1 : next(fd, buffer, size, offset);
}

SIHLICON_INTERPOSE ssize_t pwrite64(int fd, const void* buffer, size_t size, off64_t offset) {
    static const auto next = real<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
    return inject(fd, FaultCall::write) ? -1 : next(fd, buffer, size, offset);
}

SIHLICON_INTERPOSE ssize_t pwritev(int fd, const struct iovec* parts, int count, off_t offset) {
    static const auto next = real<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
    return inject(fd, FaultCall::write) ? -1 : next(fd, parts, count, offset);
}

SIHLICON_INTERPOSE ssize_t pwritev64(int fd, const struct iovec* parts, int count, off64_t offset) {
    static const auto next = real<ssize_t (*)(int, const struct iovec*, int, off64_t)>("pwritev64");
    return inject(fd, FaultCall::write) ? -1 : next(fd, parts, count, offset);
}

SIHLICON_INTERPOSE int fsync(int fd) {
    static const auto next = real<int (*)(int)>("fsync");
    return inject(fd, FaultCall::sync) ? -1 : next(fd);
}

SIHLICON_INTERPOSE int fdatasync(int fd) {
    static const auto next = real<int (*)(int)>("fdatasync");
    return inject(fd, FaultCall::sync) ? -1 : next(fd);
}

}  // extern "C"
