// SPDX-License-Identifier: Apache-2.0
#include "cas/pipelined_batch.hpp"

namespace sihlicon::cas {

PipelinedBatch::PipelinedBatch(std::unique_ptr<BlobBackend::Batch> inner)
    : inner_(std::move(inner)) {}

PipelinedBatch::~PipelinedBatch() {
    finish_writer();
}

void PipelinedBatch::rethrow_failure() const {
    std::lock_guard lock(mutex_);
    if (failure_) {
        std::rethrow_exception(failure_);
    }
}

void PipelinedBatch::add(const Cid& cid, std::span<const std::uint8_t> bytes) {
    if (!inline_used_) {
        inline_used_ = true;
        inner_->add(cid, bytes);
        return;
    }
    std::unique_lock lock(mutex_);
    if (!writer_.joinable() && !closing_) {
        writer_ = std::thread([this] { run(); });
    }
    changed_.wait(lock, [&] { return queue_.size() < kQueuedBlocks || failure_; });
    if (failure_) {
        std::rethrow_exception(failure_);
    }
    queue_.emplace_back(cid, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    changed_.notify_all();
}

void PipelinedBatch::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) {
            return;  // closing, and everything queued is written
        }
        auto [cid, bytes] = std::move(queue_.front());
        lock.unlock();
        std::exception_ptr failure;
        try {
            inner_->add(cid, bytes);
        } catch (...) {
            failure = std::current_exception();
        }
        lock.lock();
        queue_.pop_front();
        if (failure) {
            failure_ = failure;
            queue_.clear();  // what was queued after the failure is dropped
        }
        changed_.notify_all();
    }
}

void PipelinedBatch::finish_writer() const {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    changed_.notify_all();
    if (writer_.joinable()) {
        writer_.join();
    }
}

void PipelinedBatch::commit() {
    finish_writer();
    rethrow_failure();
    inner_->commit();
}

const std::vector<Cid>& PipelinedBatch::written() const {
    finish_writer();
    return inner_->written();
}

}  // namespace sihlicon::cas
