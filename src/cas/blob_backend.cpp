// SPDX-License-Identifier: Apache-2.0
//
// The default BlobBackend: one local folder per tier, a block per file.
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

namespace sihlicon {

namespace {

constexpr std::string_view kStagingFolder = ".staging";
constexpr std::size_t kSyncGroup = 64;  // staged blocks made durable together

[[noreturn]] void throw_io(std::string_view what, const std::filesystem::path& path) {
    throw Error(ErrorCode::io, fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

void fsync_path(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw_io("cannot open folder", path);
    }
    const int result = ::fsync(fd);
    ::close(fd);
    if (result != 0) {
        throw_io("cannot fsync folder", path);
    }
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_io("cannot write", path);
        }
        bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
}

std::atomic<std::uint64_t> staging_counter{0};

class LocalFolderBackend final : public BlobBackend {
  public:
    LocalFolderBackend(std::filesystem::path root, Durability durability)
        : root_(std::move(root)), synced_(durability == Durability::power_loss) {
        for (const auto tier : {StorageTier::hot, StorageTier::cold, StorageTier::glacier}) {
            std::error_code error;
            std::filesystem::create_directories(staging(tier), error);
            if (error) {
                throw Error(ErrorCode::io, fmt::format("cannot create {}: {}",
                                                       staging(tier).string(), error.message()));
            }
            remove_dead_staging(tier);
        }
    }

    std::filesystem::path tier_folder(StorageTier tier) const {
        return root_ / std::string(to_string(tier));
    }
    std::filesystem::path staging(StorageTier tier) const {
        return tier_folder(tier) / kStagingFolder;
    }
    // flatfs "next-to-last/2": two characters before the last one.
    std::filesystem::path block_path(StorageTier tier, const Cid& cid) const {
        const std::string text = cid.to_v1().to_string();
        return tier_folder(tier) / text.substr(text.size() - 3, 2) / text;
    }

    // Blocks are written to staging files as they come (write-back started at once); every
    // kSyncGroup blocks the group is fsynced and renamed into place. (A background thread
    // for the fsyncs measured slower on ext4: concurrent writes lengthen each journal commit.)
    class LocalBatch final : public Batch {
      public:
        LocalBatch(LocalFolderBackend& backend, StorageTier tier)
            : backend_(backend), tier_(tier) {}
        ~LocalBatch() override { discard(pending_); }

        void add(const Cid& cid, std::span<const std::uint8_t> bytes) override {
            if (!seen_.insert(cid).second || backend_.contains(tier_, cid)) {
                return;
            }
            Pending pending;
            pending.cid = cid;
            pending.staged =
                backend_.staging(tier_) / fmt::format("{}.{}.{}.tmp", cid.to_string(), ::getpid(),
                                                      staging_counter.fetch_add(1));
            pending.fd =
                ::open(pending.staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (pending.fd < 0) {
                throw_io("cannot create", pending.staged);
            }
            pending_.push_back(pending);
            write_all(pending.fd, bytes, pending.staged);
            if (backend_.synced_) {
                // Start write-back now, so the group's fsync finds little left to do.
                ::sync_file_range(pending.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
            }
            if (pending_.size() >= kSyncGroup) {
                settle(pending_);
            }
        }

        void commit() override {
            settle(pending_);
            touched_.insert(backend_.staging(tier_));
            if (backend_.synced_) {
                for (const auto& folder : touched_) {
                    fsync_path(folder);
                }
            }
            touched_.clear();
        }

        const std::vector<Cid>& written() const override { return written_; }

      private:
        struct Pending {
            Cid cid;
            std::filesystem::path staged;
            int fd = -1;
        };

        // fsync, then rename each staged block of `group` into its folder; settled blocks
        // leave the group.
        void settle(std::vector<Pending>& group) {
            while (!group.empty()) {
                Pending& pending = group.back();
                if (backend_.synced_ && ::fdatasync(pending.fd) != 0) {
                    throw_io("cannot fsync", pending.staged);
                }
                ::close(pending.fd);
                pending.fd = -1;
                const auto target = backend_.block_path(tier_, pending.cid);
                std::error_code error;
                std::filesystem::create_directory(target.parent_path(), error);
                if (::rename(pending.staged.c_str(), target.c_str()) != 0) {
                    throw_io("cannot rename a block into", target);
                }
                touched_.insert(target.parent_path());
                written_.push_back(pending.cid);
                group.pop_back();
            }
        }

        static void discard(std::vector<Pending>& group) {
            for (auto& pending : group) {
                if (pending.fd >= 0) {
                    ::close(pending.fd);
                }
                ::unlink(pending.staged.c_str());
            }
            group.clear();
        }

        LocalFolderBackend& backend_;
        StorageTier tier_;
        std::vector<Pending> pending_;
        std::set<Cid> seen_;
        std::set<std::filesystem::path> touched_;
        std::vector<Cid> written_;
    };

    std::unique_ptr<Batch> begin_batch(StorageTier tier) override {
        return std::make_unique<LocalBatch>(*this, tier);
    }

    bool contains(StorageTier tier, const Cid& cid) override {
        struct stat info {};
        return ::stat(block_path(tier, cid).c_str(), &info) == 0;
    }

    std::optional<std::vector<std::uint8_t>> read(StorageTier tier, const Cid& cid) override {
        const auto path = block_path(tier, cid);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) {
                return std::nullopt;
            }
            throw_io("cannot open", path);
        }
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            ::close(fd);
            throw_io("cannot stat", path);
        }
        std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                ::close(fd);
                throw_io("cannot read", path);
            }
            done += static_cast<std::size_t>(got);
        }
        ::close(fd);
        return bytes;
    }

    void remove(StorageTier tier, const Cid& cid) override {
        const auto path = block_path(tier, cid);
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            throw_io("cannot remove", path);
        }
    }

    void for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) override {
        std::error_code error;
        for (const auto& shard : std::filesystem::directory_iterator(tier_folder(tier), error)) {
            if (!shard.is_directory() || shard.path().filename() == kStagingFolder) {
                continue;
            }
            for (const auto& entry : std::filesystem::directory_iterator(shard.path(), error)) {
                try {
                    visit(Cid::parse(entry.path().filename().string()));
                } catch (const Error& parse_error) {
                    if (parse_error.code() != ErrorCode::invalid_argument) {
                        throw;
                    }
                }
            }
        }
    }

  private:
    // Staging files are "<cid>.<pid>.<n>.tmp"; those of processes that no longer run are
    // what a crash left behind.
    void remove_dead_staging(StorageTier tier) {
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(staging(tier), error)) {
            const std::string name = entry.path().filename().string();
            const auto first = name.find('.');
            const auto second = name.find('.', first + 1);
            long pid = 0;
            if (first != std::string::npos && second != std::string::npos) {
                pid = std::strtol(name.substr(first + 1, second - first - 1).c_str(), nullptr, 10);
            }
            if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
                std::filesystem::remove(entry.path(), error);
            }
        }
    }

    std::filesystem::path root_;
    bool synced_;  // fsync blocks and folders (Durability::power_loss)
};

}  // namespace

BlobBackend::~BlobBackend() = default;
BlobBackend::Batch::~Batch() = default;

std::shared_ptr<BlobBackend> make_local_blob_backend(const std::filesystem::path& root,
                                                     Durability durability) {
    return std::make_shared<LocalFolderBackend>(root, durability);
}

}  // namespace sihlicon
