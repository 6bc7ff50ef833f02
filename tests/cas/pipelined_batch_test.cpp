// SPDX-License-Identifier: Apache-2.0
#include "cas/pipelined_batch.hpp"

#include <doctest/doctest.h>
#include <sihlicon/cid.hpp>
#include <sihlicon/error.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using sihlicon::BlobBackend;
using sihlicon::Cid;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::cas::PipelinedBatch;

namespace {

// A batch that records what reaches it and checks that it is never used by two threads at once.
struct Recorded {
    std::vector<std::string> added;
    std::vector<std::size_t> sizes;
    int commits = 0;
    bool overlapped = false;
    bool destroyed = false;
};

class RecordingBatch final : public BlobBackend::Batch {
  public:
    RecordingBatch(Recorded& record, int fail_at) : record_(record), fail_at_(fail_at) {}
    ~RecordingBatch() override { record_.destroyed = true; }

    void add(const Cid& cid, std::span<const std::uint8_t> bytes) override {
        if (busy_.exchange(true)) {
            record_.overlapped = true;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // a slow disk
        const int index = static_cast<int>(record_.added.size());
        busy_ = false;
        if (index == fail_at_) {
            throw Error(ErrorCode::io, "disk full", "block");
        }
        record_.added.push_back(cid.to_string());
        record_.sizes.push_back(bytes.size());
        written_.push_back(cid);
    }
    void commit() override { ++record_.commits; }
    const std::vector<Cid>& written() const override { return written_; }

  private:
    Recorded& record_;
    int fail_at_;
    std::atomic<bool> busy_{false};
    std::vector<Cid> written_;
};

std::vector<std::vector<std::uint8_t>> blocks(int count) {
    std::vector<std::vector<std::uint8_t>> result;
    for (int i = 0; i < count; ++i) {
        result.emplace_back(static_cast<std::size_t>(100 + i), static_cast<std::uint8_t>(i));
    }
    return result;
}

}  // namespace

TEST_CASE("a pipelined batch hands every block to the wrapped batch, in order, once") {
    Recorded record;
    const auto data = blocks(40);
    std::vector<std::string> expected;
    {
        PipelinedBatch batch(std::make_unique<RecordingBatch>(record, -1));
        for (const auto& block : data) {
            const auto cid = Cid::of_block(sihlicon::CidCodec::raw, block);
            expected.push_back(cid.to_string());
            batch.add(cid, block);
        }
        batch.commit();
        CHECK(batch.written().size() == data.size());
    }
    CHECK(record.added == expected);
    CHECK(record.sizes.back() == data.back().size());
    CHECK(record.commits == 1);
    CHECK_FALSE(record.overlapped);
    CHECK(record.destroyed);
}

TEST_CASE("a failure of the wrapped batch reaches the caller and the batch is never committed") {
    Recorded record;
    const auto data = blocks(30);
    PipelinedBatch batch(std::make_unique<RecordingBatch>(record, 5));
    bool thrown = false;
    try {
        for (const auto& block : data) {
            batch.add(Cid::of_block(sihlicon::CidCodec::raw, block), block);
        }
        batch.commit();
    } catch (const Error& error) {
        thrown = true;
        CHECK(error.code() == ErrorCode::io);
        CHECK(std::string(error.what()).find("disk full") != std::string::npos);
    }
    CHECK(thrown);
    CHECK(record.commits == 0);
    CHECK(record.added.size() == 5);  // what came after the failure was dropped
    CHECK(batch.written().size() == 5);
}

TEST_CASE("a pipelined batch destroyed without commit stops its writer and commits nothing") {
    Recorded record;
    const auto data = blocks(12);
    {
        PipelinedBatch batch(std::make_unique<RecordingBatch>(record, -1));
        for (const auto& block : data) {
            batch.add(Cid::of_block(sihlicon::CidCodec::raw, block), block);
        }
    }
    CHECK(record.commits == 0);
    CHECK(record.destroyed);
    CHECK(record.added.size() == data.size());
}
