// SPDX-License-Identifier: Apache-2.0
//
// A BlobBackend::Batch that writes on a second thread while the caller goes on hashing: a put
// then costs about the larger of hashing and writing instead of their sum. The first block is
// written on the caller's thread (a small put starts no thread); from the second on, blocks
// are copied into a bounded queue (kQueuedBlocks, so memory stays a few blocks whatever the
// content's size) and the writer thread adds them to the wrapped batch in order.
//
// A failure of the wrapped batch is rethrown by the next add() or by commit(); blocks queued
// after it are dropped. written() and the destructor first stop the writer thread, so the
// wrapped batch is only ever used by one thread at a time. Not installed.
#pragma once

#include <sihlicon/content_store.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace sihlicon::cas {

class PipelinedBatch final : public BlobBackend::Batch {
  public:
    static constexpr std::size_t kQueuedBlocks = 4;

    explicit PipelinedBatch(std::unique_ptr<BlobBackend::Batch> inner);
    ~PipelinedBatch() override;
    PipelinedBatch(const PipelinedBatch&) = delete;
    PipelinedBatch& operator=(const PipelinedBatch&) = delete;

    void add(const Cid& cid, std::span<const std::uint8_t> bytes) override;
    void commit() override;
    const std::vector<Cid>& written() const override;

  private:
    void run();
    // Waits for the queue to drain (or the writer to fail), then joins the writer thread.
    void finish_writer() const;
    void rethrow_failure() const;

    std::unique_ptr<BlobBackend::Batch> inner_;
    bool inline_used_ = false;  // the first block went straight to inner_

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::deque<std::pair<Cid, std::vector<std::uint8_t>>> queue_;
    mutable bool closing_ = false;
    std::exception_ptr failure_;
    mutable std::thread writer_;
};

}  // namespace sihlicon::cas
