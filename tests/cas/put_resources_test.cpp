// SPDX-License-Identifier: Apache-2.0
//
// What a put may cost before it is refused, and what it leaves behind when it dies: quotas
// from the declared size before any byte is read, sources that lie about their size, and the
// blocks of puts killed before their manifest committed.
#include "support/errors.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using sihlicon::ContentStore;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::Hub;
using sihlicon::HubOptions;
using sihlicon::PutOptions;
using sihlicon::Quota;
using sihlicon::testing::error_from;
using sihlicon::testing::random_bytes;
using sihlicon::testing::TempDir;

namespace {

HubOptions quick() {
    HubOptions options;
    options.durability = sihlicon::Durability::process_crash;
    return options;
}

// Files directly inside a folder's shards: the blocks of a tier, or the put journals.
std::size_t blocks_of(const std::filesystem::path& tier_folder) {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& shard : std::filesystem::directory_iterator(tier_folder, error)) {
        if (!shard.is_directory() || shard.path().filename() == ".staging") {
            continue;
        }
        for (const auto& entry : std::filesystem::directory_iterator(shard.path(), error)) {
            count += entry.is_regular_file() ? 1 : 0;
        }
    }
    return count;
}

std::size_t journals_of(const Hub& hub) {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(hub.blob_directory() / ".puts", error)) {
        count += entry.is_regular_file() ? 1 : 0;
    }
    return count;
}

// A source of `chunks` pieces of `chunk` bytes each, counting its calls.
struct CountingSource {
    std::size_t chunk = 1 << 20;
    std::size_t chunks = 3;
    std::size_t calls = 0;
    std::size_t produced = 0;

    ContentStore::ByteSource source() {
        return [this](std::span<std::uint8_t> buffer) -> std::size_t {
            ++calls;
            if (produced == chunk * chunks) {
                return 0;
            }
            const std::size_t take = std::min(buffer.size(), chunk);
            std::memset(buffer.data(), static_cast<int>(calls), take);
            produced += take;
            return take;
        };
    }
};

}  // namespace

TEST_CASE("a 50 MB file over the owner's total quota is refused before a byte of it is read") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    hub.content_store().set_quota("ann", Quota{1'000'000'000, 1'000'000});
    const auto path = dir / "big.bin";
    std::filesystem::resize_file((std::ofstream(path), path), 50'000'000);  // sparse
    std::uint64_t progress_calls = 0;
    const auto error = error_from([&] {
        hub.content_store().put_file(path, "ann", {}, [&](std::uint64_t) { ++progress_calls; });
    });
    CHECK(error.code() == ErrorCode::quota_exceeded);
    CHECK(std::string(error.what()).find("50000000 more") != std::string::npos);
    CHECK(progress_calls == 0);  // not one chunk was read or hashed
    CHECK(hub.content_store().list("ann").empty());
    CHECK(blocks_of(hub.blob_directory() / "hot") == 0);
}

TEST_CASE("a stream declaring more than the hour's upload volume left is refused unread") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    hub.content_store().set_quota("ann", Quota{2'000'000, std::nullopt});
    CountingSource counting;
    PutOptions options;
    options.declared_size = 3u << 20;
    CHECK(error_from([&] {
              hub.content_store().put_stream(counting.source(), "ann", options);
          }).code() == ErrorCode::quota_exceeded);
    CHECK(counting.calls == 0);
    // The same stream without a declared size is only refused once its real size is known.
    CountingSource unsized;
    CHECK(error_from([&] { hub.content_store().put_stream(unsized.source(), "ann"); }).code() ==
          ErrorCode::quota_exceeded);
    CHECK(unsized.produced == 3u << 20);
    CHECK(blocks_of(hub.blob_directory() / "hot") == 0);
}

TEST_CASE("a stream yielding more bytes than it declared is refused before the excess is hashed") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    CountingSource counting;  // 3 MiB in 1 MiB pieces
    PutOptions options;
    options.declared_size = (1u << 20) + 1000;
    std::uint64_t hashed = 0;
    const auto error = error_from([&] {
        hub.content_store().put_stream(counting.source(), "ann", options,
                                       [&](std::uint64_t done) { hashed = done; });
    });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "declaredSize");
    CHECK(std::string(error.what()).find("1049576") != std::string::npos);  // the declared size
    CHECK(counting.calls == 2);
    CHECK(hashed == 1u << 20);  // the second piece, which crossed the declared size, was not
    CHECK(hub.content_store().list("ann").empty());
    CHECK(blocks_of(hub.blob_directory() / "hot") == 0);  // the first piece's blocks are gone
    CHECK(journals_of(hub) == 0);
}

TEST_CASE("a stream yielding fewer bytes than it declared is refused and keeps nothing") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    CountingSource counting;
    PutOptions options;
    options.declared_size = 4u << 20;
    const auto error =
        error_from([&] { hub.content_store().put_stream(counting.source(), "ann", options); });
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(error.field() == "declaredSize");
    CHECK(std::string(error.what()).find("yielded 3145728 bytes") != std::string::npos);
    CHECK(hub.content_store().list("ann").empty());
    CHECK(blocks_of(hub.blob_directory() / "hot") == 0);
    CHECK(journals_of(hub) == 0);
}

TEST_CASE("a declared size beyond int64 or unequal to put_bytes' span is refused") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    PutOptions options;
    options.declared_size = std::numeric_limits<std::uint64_t>::max();
    const auto data = random_bytes(100, 1);
    CHECK(error_from([&] { hub.content_store().put_bytes(data, "ann", options); }).field() ==
          "declaredSize");
    options.declared_size = 99;
    CHECK(error_from([&] { hub.content_store().put_bytes(data, "ann", options); }).field() ==
          "declaredSize");
    options.declared_size = 100;
    CHECK(hub.content_store().put_bytes(data, "ann", options).file_size_bytes == 100);
}

TEST_CASE("a put killed by SIGKILL after renaming blocks into place leaves none once reopened") {
    TempDir dir;
    { Hub created = Hub::open(dir / "hub", quick()); }
    const auto hot = dir / "hub" / "blobs" / "hot";
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            Hub hub = Hub::open(dir / "hub", quick());
            PutOptions options;
            options.unixfs.chunk_size = 1024;  // a rename group of 64 blocks is 64 KiB
            std::uint64_t produced = 0;
            hub.content_store().put_stream(
                [&](std::span<std::uint8_t> buffer) -> std::size_t {
                    // Blocks renamed into place, manifest not committed: die here.
                    if (blocks_of(hot) > 0) {
                        ::raise(SIGKILL);
                    }
                    if (produced > (64u << 20)) {
                        ::_exit(4);  // the blocks never appeared
                    }
                    const std::size_t take = std::min<std::size_t>(buffer.size(), 4096);
                    for (std::size_t i = 0; i < take; ++i) {
                        buffer[i] = static_cast<std::uint8_t>((produced + i) * 2654435761u >> 13);
                    }
                    produced += take;
                    return take;
                },
                "alice", options);
        } catch (...) {
        }
        ::_exit(3);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    REQUIRE(blocks_of(hot) > 0);  // what the dead put left: complete blocks nothing references

    Hub hub = Hub::open(dir / "hub", quick());
    CHECK(blocks_of(hot) == 0);
    CHECK(journals_of(hub) == 0);
    CHECK(hub.content_store().list("alice").empty());
    CHECK(hub.content_store().collect_garbage() == 0);
}

TEST_CASE("neither a second open nor collect_garbage touches the blocks of a put in progress") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub", quick());
    const auto hot = hub.blob_directory() / "hot";
    std::mutex mutex;
    std::condition_variable changed;
    bool midway = false;
    bool go_on = false;
    const auto data = random_bytes(300 * 1024, 5);
    PutOptions options;
    options.unixfs.chunk_size = 1024;
    sihlicon::Manifest manifest;
    std::thread put([&] {
        std::size_t offset = 0;
        manifest = hub.content_store().put_stream(
            [&](std::span<std::uint8_t> buffer) -> std::size_t {
                if (offset >= 200 * 1024 && blocks_of(hot) > 0) {
                    std::unique_lock lock(mutex);
                    midway = true;
                    changed.notify_all();
                    changed.wait(lock, [&] { return go_on; });
                }
                const std::size_t take =
                    std::min<std::size_t>({buffer.size(), 4096, data.size() - offset});
                std::memcpy(buffer.data(), data.data() + offset, take);
                offset += take;
                return take;
            },
            "ann", options);
    });
    {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return midway; });
    }
    const std::size_t renamed = blocks_of(hot);
    {
        Hub second = Hub::open(dir / "hub", quick());  // the put's journal is not abandoned
        CHECK(blocks_of(hot) == renamed);
        std::atomic<bool> collected{false};
        std::int64_t removed = -1;
        std::thread collector([&] {
            removed = second.content_store().collect_garbage();
            collected = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_FALSE(collected.load());  // waits for the put to finish
        {
            std::lock_guard lock(mutex);
            go_on = true;
        }
        changed.notify_all();
        put.join();
        collector.join();
        CHECK(removed == 0);
    }
    CHECK(hub.content_store().get_bytes(manifest.content_id, "ann") == data);
    CHECK(journals_of(hub) == 0);
}
