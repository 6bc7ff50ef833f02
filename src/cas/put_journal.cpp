// SPDX-License-Identifier: Apache-2.0
#include "cas/put_journal.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <system_error>

namespace sihlicon::cas {

namespace {

constexpr std::string_view kJournalSuffix = ".put";

std::atomic<std::uint64_t> journal_counter{0};

[[noreturn]] void throw_io(std::string_view what, const std::filesystem::path& path) {
    throw Error(ErrorCode::io, fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

void write_line(int fd, const std::string& line, const std::filesystem::path& path) {
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t written = ::write(fd, rest.data(), rest.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_io("cannot write the put journal", path);
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
}

class JournaledBatch final : public BlobBackend::Batch {
  public:
    JournaledBatch(std::unique_ptr<Batch> inner, std::filesystem::path journal, StorageTier tier)
        : inner_(std::move(inner)), journal_(std::move(journal)), tier_(tier) {}

    ~JournaledBatch() override {
        inner_.reset();  // a batch that was not committed discards its staged blocks first
        if (fd_ < 0) {
            return;
        }
        ::close(fd_);
        // Unwinding: the put failed, and its blocks are dropped through the journal.
        if (std::uncaught_exceptions() == exceptions_at_start_) {
            ::unlink(journal_.c_str());
        }
    }

    JournaledBatch(const JournaledBatch&) = delete;
    JournaledBatch& operator=(const JournaledBatch&) = delete;

    void add(const Cid& cid, std::span<const std::uint8_t> bytes) override {
        if (fd_ < 0) {
            fd_ = ::open(journal_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd_ < 0) {
                throw_io("cannot create the put journal", journal_);
            }
            write_line(fd_, std::string(to_string(tier_)) + "\n", journal_);
        }
        write_line(fd_, cid.to_v1().to_string() + "\n", journal_);
        inner_->add(cid, bytes);
    }

    void commit() override { inner_->commit(); }
    const std::vector<Cid>& written() const override { return inner_->written(); }

  private:
    std::unique_ptr<Batch> inner_;
    std::filesystem::path journal_;
    StorageTier tier_;
    int fd_ = -1;
    int exceptions_at_start_ = std::uncaught_exceptions();
};

}  // namespace

JournaledBackend::JournaledBackend(std::shared_ptr<BlobBackend> inner, std::filesystem::path folder)
    : inner_(std::move(inner)), folder_(std::move(folder)) {
    std::error_code error;
    std::filesystem::create_directories(folder_, error);
    if (error) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot create {}: {}", folder_.string(), error.message()));
    }
}

std::unique_ptr<BlobBackend::Batch> JournaledBackend::begin_batch(StorageTier tier) {
    auto journal =
        folder_ / fmt::format("{}.{}{}", ::getpid(), journal_counter.fetch_add(1), kJournalSuffix);
    return std::make_unique<JournaledBatch>(inner_->begin_batch(tier), std::move(journal), tier);
}

bool JournaledBackend::contains(StorageTier tier, const Cid& cid) {
    return inner_->contains(tier, cid);
}

std::optional<std::vector<std::uint8_t>> JournaledBackend::read(StorageTier tier, const Cid& cid) {
    return inner_->read(tier, cid);
}

void JournaledBackend::remove(StorageTier tier, const Cid& cid) {
    inner_->remove(tier, cid);
}

void JournaledBackend::for_each(StorageTier tier, const std::function<void(const Cid&)>& visit) {
    inner_->for_each(tier, visit);
}

std::vector<AbandonedPut> JournaledBackend::abandoned() const {
    std::vector<AbandonedPut> found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
        if (entry.path().extension() != kJournalSuffix) {
            continue;
        }
        AbandonedPut put;
        put.journal = entry.path();
        std::ifstream in(entry.path());
        std::string line;
        bool tier_known = false;
        if (std::getline(in, line)) {
            for (const auto tier : {StorageTier::hot, StorageTier::cold, StorageTier::glacier}) {
                if (line == to_string(tier)) {
                    put.tier = tier;
                    tier_known = true;
                }
            }
        }
        while (tier_known && std::getline(in, line)) {
            try {
                put.blocks.push_back(Cid::parse(line));
            } catch (const Error&) {
                // A line cut short: its block was never handed to the batch.
            }
        }
        found.push_back(std::move(put));
    }
    return found;
}

}  // namespace sihlicon::cas
