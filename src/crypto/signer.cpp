// SPDX-License-Identifier: Apache-2.0
//
// The Signer interface and its embedded implementation, a key held in memory or in a key file
// readable by its owner only.
#include "crypto/sha256_internal.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sihlicon::crypto {

namespace {

// Closes a file descriptor on scope exit.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

Error io_error(const std::string& what, const std::filesystem::path& path, int error_number) {
    return Error(ErrorCode::io, what + " " + path.string() + ": " + std::strerror(error_number),
                 "key_file");
}

// The secret read from an existing key file, after checking the file's permissions.
PrivateKey read_key_file(const std::filesystem::path& key_file) {
    const FileDescriptor fd(::open(key_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        const int error_number = errno;
        if (error_number == ENOENT) {
            throw Error(ErrorCode::not_found, "key file " + key_file.string() + " does not exist",
                        "key_file");
        }
        throw io_error("cannot open key file", key_file, error_number);
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) {
        throw io_error("cannot stat key file", key_file, errno);
    }
    if (!S_ISREG(status.st_mode)) {
        throw Error::invalid("key_file", key_file.string(), "a key file must be a regular file");
    }
    if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
        throw Error(ErrorCode::permission_denied,
                    "key file " + key_file.string() + " has mode " + mode +
                        ": group or others may access it; refusing to use it (chmod 600 it, "
                        "and replace the key if others may have read it)",
                    "key_file");
    }
    std::array<char, 256> buffer{};
    std::size_t length = 0;
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer.data() + length, buffer.size() - length);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            const int error_number = errno;
            OPENSSL_cleanse(buffer.data(), buffer.size());
            throw io_error("cannot read key file", key_file, error_number);
        }
        if (got == 0 || length + static_cast<std::size_t>(got) == buffer.size()) {
            length += static_cast<std::size_t>(got);
            break;
        }
        length += static_cast<std::size_t>(got);
    }
    std::string_view text(buffer.data(), length);
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    try {
        PrivateKey key = PrivateKey::parse(text, "key_file");
        OPENSSL_cleanse(buffer.data(), buffer.size());
        return key;
    } catch (const Error&) {
        OPENSSL_cleanse(buffer.data(), buffer.size());
        throw Error::invalid("key_file", key_file.string(),
                             "the file does not hold a secp256k1 private key (one line, 0x and "
                             "64 hex digits)");
    }
}

void write_all(int fd, std::string_view text, const std::filesystem::path& path) {
    while (!text.empty()) {
        const ssize_t wrote = ::write(fd, text.data(), text.size());
        if (wrote < 0 && errno == EINTR) {
            continue;
        }
        if (wrote < 0) {
            throw io_error("cannot write key file", path, errno);
        }
        text.remove_prefix(static_cast<std::size_t>(wrote));
    }
}

void sync_directory(const std::filesystem::path& directory) {
    const FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw io_error("cannot sync directory", directory, errno);
    }
}

// Writes `key` to a temporary file of mode 0600 beside `key_file`, fsyncs it and links it into
// place. Returns false (and leaves the existing file alone) if `key_file` already exists, unless
// `replace`, which renames it over any existing file.
bool create_key_file(const std::filesystem::path& key_file, const PrivateKey& key,
                     bool replace = false) {
    std::filesystem::path directory = key_file.parent_path();
    if (directory.empty()) {
        directory = ".";
    }
    std::string temporary = (directory / (key_file.filename().string() + ".XXXXXX")).string();
    const FileDescriptor fd(::mkstemp(temporary.data()));  // mode 0600
    if (fd.get() < 0) {
        throw io_error("cannot create a key file in", directory, errno);
    }
    bool linked = false;
    try {
        if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) {
            throw io_error("cannot set the mode of key file", temporary, errno);
        }
        std::string text = key.to_hex() + "\n";
        try {
            write_all(fd.get(), text, temporary);
        } catch (...) {
            OPENSSL_cleanse(text.data(), text.size());
            throw;
        }
        OPENSSL_cleanse(text.data(), text.size());
        if (::fsync(fd.get()) != 0) {
            throw io_error("cannot sync key file", temporary, errno);
        }
        if (replace) {
            if (::rename(temporary.c_str(), key_file.c_str()) != 0) {
                throw io_error("cannot replace key file", key_file, errno);
            }
            linked = true;
        } else if (::link(temporary.c_str(), key_file.c_str()) == 0) {
            linked = true;
        } else if (errno != EEXIST) {
            throw io_error("cannot create key file", key_file, errno);
        }
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    if (!replace) {
        ::unlink(temporary.c_str());  // renamed away otherwise
    }
    sync_directory(directory);
    return linked;
}

}  // namespace

Signer::~Signer() = default;

LocalKeySigner::LocalKeySigner(PrivateKey key) : key_(std::move(key)), address_(key_.address()) {}

LocalKeySigner LocalKeySigner::load(const std::filesystem::path& key_file) {
    return LocalKeySigner(read_key_file(key_file));
}

LocalKeySigner LocalKeySigner::load_or_generate(const std::filesystem::path& key_file) {
    struct stat status {};
    if (::lstat(key_file.c_str(), &status) == 0) {
        return load(key_file);
    }
    if (errno != ENOENT) {
        throw io_error("cannot stat key file", key_file, errno);
    }
    PrivateKey key = PrivateKey::generate();
    if (create_key_file(key_file, key)) {
        return LocalKeySigner(std::move(key));
    }
    return load(key_file);  // another creator won the race; its key is the key
}

LocalKeySigner LocalKeySigner::write(const std::filesystem::path& key_file, const PrivateKey& key) {
    create_key_file(key_file, key, true);
    return LocalKeySigner(key);
}

Signature LocalKeySigner::sign_message(std::span<const std::uint8_t> message) const {
    return key_.sign_message(message);
}

}  // namespace sihlicon::crypto
