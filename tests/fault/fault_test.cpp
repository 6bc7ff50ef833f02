// SPDX-License-Identifier: Apache-2.0
//
// ENOSPC and EIO, injected into block writes and into SQLite's own writes, give clear io
// errors and leave the hub as it was (issue 11).
#include "fault/fault_injection.hpp"
#include "hub/hub_internal.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace sihlicon;
using sihlicon::testing::arm_fault;
using sihlicon::testing::disarm_fault;
using sihlicon::testing::FaultCall;
using sihlicon::testing::faults_injected;
using sihlicon::testing::pool_hub;
using sihlicon::testing::random_bytes;
using sihlicon::testing::small_job;
using sihlicon::testing::TempDir;

namespace {

// Regular files under the hub's blob folder (blocks, and staged blocks if any were left).
std::vector<std::filesystem::path> blob_files(const Hub& hub) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(hub.blob_directory())) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    return files;
}

// Runs `action`, which must fail with Error(io) naming the injected error.
template <typename Action>
void expect_io_error(Action&& action, const std::string& expected_text) {
    try {
        action();
        FAIL("the operation succeeded despite the injected fault");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::io);
        CHECK_MESSAGE(std::string(error.what()).find(expected_text) != std::string::npos,
                      error.what());
    }
    CHECK(faults_injected() >= 1);
    disarm_fault();
}

// Where a hub's writes go first, one subcase each: SQLite's log, committing every write, or
// the hub's write log (HubOptions::commit_interval), appended to at every write.
struct WritePath {
    HubOptions options;
    std::string file = "hub.db-wal";
    bool write_log = false;
    // The text of the io error for `sqlite` (SQLite's words) or the write log's (strerror).
    std::string says(const char* sqlite, const char* write_log_text) const {
        return write_log ? write_log_text : sqlite;
    }
};

WritePath each_write_path() {
    WritePath path;  // power_loss, the default
    SUBCASE("committing every write") {}
    SUBCASE("with the write log") {
        path.options.commit_interval = std::chrono::hours(1);  // commits when read
        path.file = "hub.db-log";
        path.write_log = true;
    }
    return path;
}

}  // namespace

TEST_CASE(
    "a full disk while writing a block fails the put with io and leaves the store as it was") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");
    const auto data = random_bytes(8 * 262'144 + 7, 1);
    arm_fault("/blobs/", FaultCall::write, ENOSPC, 3);  // the fourth block write fails
    expect_io_error([&] { hub.content_store().put_bytes(data, "ann"); }, "No space left");
    CHECK(hub.content_store().list("ann").empty());
    CHECK(blob_files(hub).empty());  // the blocks written before the failure are gone too
    const auto manifest = hub.content_store().put_bytes(data, "ann");
    CHECK(hub.content_store().get_bytes(manifest.content_id, "ann") == data);
}

TEST_CASE("an I/O error syncing a block fails the put with io and leaves the store as it was") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");  // power_loss: blocks are fsynced
    const auto data = random_bytes(3 * 262'144, 2);
    arm_fault("/blobs/", FaultCall::sync, EIO);
    expect_io_error([&] { hub.content_store().put_bytes(data, "ann"); }, "Input/output error");
    CHECK(hub.content_store().list("ann").empty());
    CHECK(blob_files(hub).empty());
    CHECK_NOTHROW(hub.content_store().put_bytes(data, "ann"));
}

TEST_CASE("a full disk under SQLite fails a submission with io and the job never existed") {
    TempDir dir;
    const auto path = each_write_path();
    {
        auto hub = Hub::open(dir / "hub", path.options);
        hub.scheduler().register_hub(pool_hub());
        arm_fault(path.file, FaultCall::write, ENOSPC);
        expect_io_error([&] { hub.scheduler().submit(small_job()); },
                        path.says("full", "No space left"));
        JobFilter filter;
        filter.owner = "ann";
        CHECK(hub.scheduler().jobs(filter).empty());
        const auto job = hub.scheduler().submit(small_job());  // the disk has room again
        CHECK(hub.scheduler().jobs(filter).size() == 1);
        CHECK(hub.scheduler().job(job.id).status == JobStatus::queued);
    }
    HubOptions options;
    options.integrity_check = IntegrityCheck::full;
    auto reopened = Hub::open(dir / "hub", options);  // and the file is healthy
    JobFilter filter;
    filter.owner = "ann";
    CHECK(reopened.scheduler().jobs(filter).size() == 1);
}

TEST_CASE("an I/O error in the log while topping up leaves every balance as it was") {
    TempDir dir;
    auto hub = Hub::open(dir / "hub");
    auto& settlement = hub.settlement();
    settlement.top_up("ann", Money(5'000, Currency::of("USD")), "0xfirst");
    arm_fault("hub.db-wal", FaultCall::write, EIO);
    expect_io_error(
        [&] { settlement.top_up("ann", Money(7'000, Currency::of("USD")), "0xsecond"); }, "I/O");
    const AccountRef ann{AccountKind::client, "ann", Currency::of("USD")};
    CHECK(settlement.account(ann).balance.minor_units() == 5'000);
    CHECK(settlement.deposits().at("USD") == 5'000);
    settlement.top_up("ann", Money(7'000, Currency::of("USD")), "0xsecond");
    CHECK(settlement.account(ann).balance.minor_units() == 12'000);
}

TEST_CASE("an I/O error syncing the log fails a power_loss commit and the change is not kept") {
    TempDir dir;
    // power_loss: every commit syncs SQLite's log, every append the write log
    const auto path = each_write_path();
    auto hub = Hub::open(dir / "hub", path.options);
    hub.scheduler().register_hub(pool_hub());
    arm_fault(path.file, FaultCall::sync, EIO);
    expect_io_error([&] { hub.scheduler().submit(small_job()); },
                    path.says("I/O", "Input/output error"));
    JobFilter filter;
    filter.owner = "ann";
    CHECK(hub.scheduler().jobs(filter).empty());
    CHECK_NOTHROW(hub.scheduler().submit(small_job()));
}

TEST_CASE("when the disk fills under eight writing threads, every acknowledged job is kept") {
    TempDir dir;
    const auto path = each_write_path();
    auto hub = Hub::open(dir / "hub", path.options);
    hub.scheduler().register_hub(pool_hub());
    hub.set_setting("submissionsPerHour", "0", "operator");
    arm_fault(path.file, FaultCall::write, ENOSPC, 40);  // room for some writes, then full
    std::atomic<int> acknowledged{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                try {
                    hub.scheduler().submit(small_job());
                    ++acknowledged;
                } catch (const Error& error) {
                    ++(error.code() == ErrorCode::io ? refused : other);
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    disarm_fault();
    CHECK(other == 0);
    CHECK(refused > 0);
    CHECK(acknowledged + refused == 200);
    JobFilter filter;
    filter.owner = "ann";
    filter.limit = 1000;
    CHECK(hub.scheduler().jobs(filter).size() == static_cast<std::size_t>(acknowledged.load()));
}

TEST_CASE("on a full disk, remove and collect_garbage still free space") {
    TempDir dir;
    const auto path = each_write_path();
    auto hub = Hub::open(dir / "hub", path.options);
    const auto reserve = dir / "hub" / "space.reserve";
    REQUIRE(std::filesystem::file_size(reserve) == 8u << 20);
    const auto kept = random_bytes(3 * 262'144, 1);
    hub.content_store().put_bytes(kept, "ann");
    const auto doomed = hub.content_store().put_bytes(random_bytes(3 * 262'144, 2), "ann");
    {  // a complete block nothing references, as a crash leaves
        const auto orphan = random_bytes(1000, 3);
        const auto backend = make_local_blob_backend(hub.blob_directory());
        auto batch = backend->begin_batch(StorageTier::hot);
        batch->add(Cid::of_block(CidCodec::raw, orphan), orphan);
        batch->commit();
    }
    const auto files = blob_files(hub).size();

    // Every write under the hub folder fails with ENOSPC while the reserve takes the room.
    sihlicon::testing::arm_disk_full((dir / "hub").string(), reserve.string());
    hub.content_store().remove(doomed.content_id, "ann");
    CHECK(faults_injected() >= 1);               // the removal met the full disk
    CHECK(blob_files(hub).size() == files - 4);  // 3 leaves and a root
    CHECK(std::filesystem::exists(reserve));     // allocated again once they were gone
    CHECK(hub.content_store().collect_garbage() == 1);
    CHECK(blob_files(hub).size() == files - 5);
    disarm_fault();

    CHECK(hub.content_store().list("ann").size() == 1);
    CHECK(hub.content_store().get_bytes(sihlicon::compute_cid(kept).to_string(), "ann") == kept);
}
