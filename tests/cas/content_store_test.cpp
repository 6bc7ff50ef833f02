// SPDX-License-Identifier: Apache-2.0
#include "cas/cas_internal.hpp"
#include "hub/hub_internal.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using sihlicon::AccessLevel;
using sihlicon::Cid;
using sihlicon::ContentStore;
using sihlicon::Error;
using sihlicon::ErrorCode;
using sihlicon::Hub;
using sihlicon::HubAccess;
using sihlicon::HubOptions;
using sihlicon::ManualClock;
using sihlicon::PutOptions;
using sihlicon::ReplicaState;
using sihlicon::StorageTier;
using sihlicon::Timestamp;
using sihlicon::testing::random_bytes;
using sihlicon::testing::TempDir;

namespace {

struct StoreFixture {
    TempDir dir;
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));  // 2026-01-01
    Hub hub = open();

    Hub open() {
        HubOptions options;
        options.clock = clock;
        options.durability = sihlicon::Durability::process_crash;
        return Hub::open(dir / "hub", options);
    }
    ContentStore& store() { return hub.content_store(); }

    void add_hub(const std::string& id, const std::string& site, const std::string& region) {
        sihlicon::HubSpec spec;
        spec.id = id;
        spec.name = id;
        spec.site = site;
        spec.region = region;
        spec.heat_recovery_ppm = 900'000;
        spec.power_capacity_w = 1000;
        hub.scheduler().register_hub(spec);
    }

    std::vector<std::filesystem::path> files_under(const std::filesystem::path& root) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
            if (entry.is_regular_file()) {
                files.push_back(entry.path());
            }
        }
        return files;
    }
    std::vector<std::filesystem::path> blocks(StorageTier tier = StorageTier::hot) {
        std::vector<std::filesystem::path> result;
        for (const auto& file :
             files_under(hub.blob_directory() / std::string(sihlicon::to_string(tier)))) {
            if (file.parent_path().filename() != ".staging") {
                result.push_back(file);
            }
        }
        return result;
    }
};

ErrorCode error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.code();
    }
    return ErrorCode::internal;  // "no error": internal is never expected by these tests
}

}  // namespace

TEST_CASE("content put into the store reads back whole and in ranges under the IPFS CID") {
    StoreFixture f;
    const auto data = random_bytes(3 * 262'144 + 1000, 1);
    PutOptions options;
    options.file_name = "model.bin";
    options.mime_type = "application/octet-stream";
    const auto manifest = f.store().put_bytes(data, "alice", options);
    CHECK(manifest.content_id == sihlicon::compute_cid(data).to_string());
    CHECK(manifest.content_id.rfind("bafybei", 0) == 0);
    CHECK(manifest.file_size_bytes == static_cast<std::int64_t>(data.size()));
    CHECK(manifest.storage_tier == StorageTier::hot);
    CHECK(manifest.access_level == AccessLevel::private_);
    CHECK(manifest.created_at == f.clock->now());
    CHECK(manifest.to_json().find("\"contentId\":\"" + manifest.content_id) != std::string::npos);

    CHECK(f.store().get_bytes(manifest.content_id, "alice") == data);
    for (const auto& [offset, length] :
         std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 1},
                                                              {262'143, 2},
                                                              {262'144, 262'144},
                                                              {500'000, 400'000},
                                                              {data.size() - 5, 100}}) {
        const auto part = f.store().get_bytes(manifest.content_id, "alice", offset, length);
        const auto end = std::min<std::size_t>(data.size(), offset + length);
        CHECK(part == std::vector<std::uint8_t>(data.begin() + static_cast<std::ptrdiff_t>(offset),
                                                data.begin() + static_cast<std::ptrdiff_t>(end)));
    }
    CHECK(f.store().get_bytes(manifest.content_id, "alice", data.size() + 10, 5).empty());
    CHECK(f.store().stat(manifest.content_id, "alice").file_name == "model.bin");
    CHECK(f.blocks().size() == 5);  // 4 leaves and a root
}

TEST_CASE("with power_loss durability a put fsyncs its blocks and reads back the same") {
    TempDir dir;
    Hub hub = Hub::open(dir / "hub");                     // the default: Durability::power_loss
    const auto data = random_bytes(70 * 262'144 + 5, 2);  // more than one fsync group
    const auto manifest = hub.content_store().put_bytes(data, "alice");
    CHECK(manifest.content_id == sihlicon::compute_cid(data).to_string());
    CHECK(hub.content_store().get_bytes(manifest.content_id, "alice") == data);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(hub.blob_directory())) {
        CHECK(entry.path().parent_path().filename() != ".staging");
    }
}

TEST_CASE("small content is one raw block and identical content is stored once") {
    StoreFixture f;
    const std::string text = "hello world";
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    const auto first = f.store().put_bytes(bytes, "alice");
    CHECK(first.content_id == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    const auto again = f.store().put_bytes(bytes, "alice");
    CHECK(again.created_at == first.created_at);
    f.store().put_bytes(bytes, "bob");
    CHECK(f.blocks().size() == 1);
    // Removing one owner's manifest keeps the block for the other.
    f.store().remove(first.content_id, "alice");
    CHECK(f.blocks().size() == 1);
    CHECK(error_of([&] { f.store().stat(first.content_id, "alice"); }) == ErrorCode::not_found);
    f.store().remove(first.content_id, "bob");
    CHECK(f.blocks().empty());
    CHECK(error_of([&] { f.store().stat(first.content_id, "bob"); }) == ErrorCode::not_found);
}

TEST_CASE("access control: private, community and public content per principal") {
    StoreFixture f;
    f.store().add_community_member("zurich-lab", "alice", "alice");  // founds it
    f.store().add_community_member("zurich-lab", "carol", "alice");
    CHECK(f.store().communities_of("carol", "carol") == std::vector<std::string>{"zurich-lab"});
    std::map<AccessLevel, std::string> ids;
    for (const auto level : {AccessLevel::private_, AccessLevel::community, AccessLevel::public_}) {
        PutOptions options;
        options.access_level = level;
        const std::string body = "content " + std::string(sihlicon::to_string(level));
        ids[level] =
            f.store()
                .put_bytes({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()},
                           "alice", options)
                .content_id;
    }
    // principal -> can read {private, community, public}
    const std::map<std::string, std::array<bool, 3>> matrix{
        {"alice", {true, true, true}},      // the owner
        {"carol", {false, true, true}},     // shares a community with the owner
        {"mallory", {false, false, true}},  // a stranger
        {"", {false, false, true}},         // anonymous
    };
    for (const auto& [principal, allowed] : matrix) {
        int index = 0;
        for (const auto level :
             {AccessLevel::private_, AccessLevel::community, AccessLevel::public_}) {
            CAPTURE(principal);
            CAPTURE(sihlicon::to_string(level));
            const auto& id = ids[level];
            const bool may = allowed[static_cast<std::size_t>(index++)];
            CHECK((error_of([&] { f.store().get_bytes(id, principal); }) == ErrorCode::internal) ==
                  may);
            CHECK((error_of([&] { f.store().stat(id, principal); }) == ErrorCode::internal) == may);
            const auto listed = f.store().list(principal);
            const bool in_list = std::any_of(listed.begin(), listed.end(),
                                             [&](const auto& m) { return m.content_id == id; });
            CHECK(in_list == may);
            if (principal != "alice") {  // refused: not owned if readable, else unknown
                CHECK(error_of([&] { f.store().remove(id, principal); }) ==
                      (may ? ErrorCode::permission_denied : ErrorCode::not_found));
            }
        }
    }
    // Leaving the community removes access.
    f.store().remove_community_member("zurich-lab", "carol", "carol");
    CHECK(error_of([&] { f.store().get_bytes(ids[AccessLevel::community], "carol"); }) ==
          ErrorCode::not_found);
    for (const auto& [level, id] : ids) {
        f.store().remove(id, "alice");
    }
    CHECK(f.store().list("alice").empty());
}

TEST_CASE("bad put options are refused and change nothing") {
    StoreFixture f;
    const std::vector<std::uint8_t> data{1, 2, 3};
    PutOptions options;
    options.metadata_json = "[1]";
    CHECK(error_of([&] { f.store().put_bytes(data, "alice", options); }) ==
          ErrorCode::invalid_argument);
    options = {};
    options.min_replicas = -1;
    CHECK(error_of([&] { f.store().put_bytes(data, "alice", options); }) ==
          ErrorCode::invalid_argument);
    options = {};
    options.mime_type = "text";
    CHECK(error_of([&] { f.store().put_bytes(data, "alice", options); }) ==
          ErrorCode::invalid_argument);
    // A file name or type that could forge a line of `sihlicon ls` or hide characters.
    for (const std::string name :
         {"report\nQmFake  0  hot  public  operator  x", "a\x1b[2Kb", "evil\u202egnp.exe"}) {
        options = {};
        options.file_name = name;
        CHECK(error_of([&] { f.store().put_bytes(data, "alice", options); }) ==
              ErrorCode::invalid_argument);
        options = {};
        options.mime_type = "text/" + name;
        CHECK(error_of([&] { f.store().put_bytes(data, "alice", options); }) ==
              ErrorCode::invalid_argument);
    }
    CHECK(error_of([&] { f.store().put_bytes(data, ""); }) == ErrorCode::invalid_argument);
    CHECK(error_of([&] {
              f.store().get_bytes("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", "a");
          }) == ErrorCode::invalid_argument);
    CHECK(f.store().list("alice").empty());
    CHECK(f.blocks().empty());
}

TEST_CASE("a corrupted block is an integrity error on read and is reported by scrub") {
    StoreFixture f;
    f.add_hub(HubAccess::database(f.hub).read([](sihlicon::store::Transaction& tx) {
        auto row = tx.prepare("SELECT value FROM hub_meta WHERE key = 'instance_id'");
        row.step();
        return row.column_text(0);
    }),
              "here", "CH");
    const auto data = random_bytes(2 * 262'144 + 7, 2);
    PutOptions options;
    options.min_replicas = 1;
    const auto manifest = f.store().put_bytes(data, "alice", options);
    REQUIRE(manifest.replica_hubs.size() == 1);
    CHECK(f.store().scrub().problems.empty());
    // Flip one byte of the second leaf.
    const auto leaf = sihlicon::compute_cid(std::span(data).subspan(262'144, 262'144)).to_string();
    std::filesystem::path victim;
    for (const auto& block : f.blocks()) {
        if (block.filename() == leaf) {
            victim = block;
        }
    }
    REQUIRE(!victim.empty());
    {
        std::fstream file(victim, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(100);
        file.put('\x42' ^ static_cast<char>(data[262'144 + 100]));
    }
    std::vector<std::uint8_t> received;
    const auto code = error_of([&] {
        f.store().get(manifest.content_id, "alice", [&](std::span<const std::uint8_t> bytes) {
            received.insert(received.end(), bytes.begin(), bytes.end());
        });
    });
    CHECK(code == ErrorCode::integrity);
    CHECK(received.size() == 262'144);  // the first leaf only: no damaged byte escaped
    // A range inside the healthy first leaf still reads.
    CHECK(f.store().get_bytes(manifest.content_id, "alice", 0, 1000).size() == 1000);

    const auto report = f.store().scrub();
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].block_cid == leaf);
    CHECK(report.problems[0].problem == "corrupt");
    CHECK(report.problems[0].content_ids == std::vector<std::string>{manifest.content_id});
    CHECK(f.store().replicas(manifest.content_id, "alice").at(0).state == ReplicaState::failed);

    std::filesystem::remove(victim);
    const auto missing = f.store().scrub(sihlicon::ScrubOptions{1000});
    REQUIRE(missing.problems.size() == 1);
    CHECK(missing.problems[0].problem == "missing");
}

TEST_CASE("a crash during put leaves no partial block and no manifest") {
    TempDir dir;
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(ready[0]);
        try {
            Hub hub = Hub::open(dir / "hub");
            std::uint64_t produced = 0;
            std::mt19937 engine(7);
            hub.content_store().put_stream(
                [&](std::span<std::uint8_t> buffer) {
                    for (auto& byte : buffer) {
                        byte = static_cast<std::uint8_t>(engine());
                    }
                    produced += buffer.size();
                    if (produced == 64u << 20) {
                        const char signal = 'x';
                        (void)!::write(ready[1], &signal, 1);
                    }
                    return buffer.size();  // never ends
                },
                "alice");
        } catch (...) {
        }
        ::_exit(3);
    }
    ::close(ready[1]);
    char signal = 0;
    REQUIRE(::read(ready[0], &signal, 1) == 1);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    REQUIRE(WIFSIGNALED(status));

    Hub hub = Hub::open(dir / "hub");
    CHECK(hub.content_store().list("alice").empty());
    std::size_t blocks = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(hub.blob_directory())) {
        if (!entry.is_regular_file()) {
            continue;
        }
        CHECK(entry.path().parent_path().filename() != ".staging");  // no temporary file left
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
        const Cid named = Cid::parse(entry.path().filename().string());
        CHECK(Cid::of_block(named.codec(), bytes) == named);  // every block complete
        ++blocks;
    }
    CHECK(hub.content_store().collect_garbage() == static_cast<std::int64_t>(blocks));
}

TEST_CASE("named references resolve name@version and the latest version") {
    StoreFixture f;
    const auto v1 = f.store().put_bytes(random_bytes(100, 3), "alice").content_id;
    const auto v2 = f.store().put_bytes(random_bytes(100, 4), "alice").content_id;
    f.store().set_reference("llama/7b", "1.0", v1, "alice");
    f.store().set_reference("llama/7b", "2.0", v2, "alice");
    f.store().set_reference("llama/7b", "1.0", v1, "alice");  // idempotent
    CHECK(f.store().resolve_reference("llama/7b", std::nullopt, "alice").content_id == v2);
    CHECK(f.store().resolve_reference("llama/7b", "1.0", "alice").content_id == v1);
    CHECK(f.store().reference_versions("llama/7b", "alice").size() == 2);
    CHECK(error_of([&] { f.store().set_reference("llama/7b", "1.0", v2, "alice"); }) ==
          ErrorCode::conflict);
    const auto bobs = f.store().put_bytes(random_bytes(100, 5), "bob").content_id;
    CHECK(error_of([&] { f.store().set_reference("llama/7b", "3.0", bobs, "bob"); }) ==
          ErrorCode::permission_denied);
    CHECK(error_of([&] { f.store().set_reference("Bad Name", "1", v2, "alice"); }) ==
          ErrorCode::invalid_argument);
    CHECK(error_of([&] { f.store().resolve_reference("nothing", std::nullopt, "alice"); }) ==
          ErrorCode::not_found);
    CHECK(sihlicon::parse_reference("llama/7b@2.0").second == "2.0");
}

TEST_CASE("content moves between tiers with its blocks") {
    StoreFixture f;
    const auto data = random_bytes(300'000, 5);
    const auto id = f.store().put_bytes(data, "alice").content_id;
    const auto moved = f.store().move_to_tier(id, "alice", StorageTier::glacier);
    CHECK(moved.storage_tier == StorageTier::glacier);
    CHECK(f.blocks(StorageTier::hot).empty());
    CHECK(f.blocks(StorageTier::glacier).size() == 3);
    CHECK(f.store().get_bytes(id, "alice") == data);
    CHECK(error_of([&] { f.store().move_to_tier(id, "bob", StorageTier::hot); }) ==
          ErrorCode::not_found);  // bob may not read it: as if it did not exist
}

TEST_CASE("replicas are placed on distinct sites within the allowed regions and repaired") {
    StoreFixture f;
    f.add_hub("hub-a1", "site-a", "CH");
    f.add_hub("hub-a2", "site-a", "CH");
    f.add_hub("hub-b1", "site-b", "CH");
    f.add_hub("hub-c1", "site-c", "CH");
    f.add_hub("hub-d1", "site-d", "DE");
    PutOptions options;
    options.allowed_regions = {"CH"};
    const auto manifest = f.store().put_bytes(random_bytes(10, 6), "alice", options);
    REQUIRE(manifest.replica_hubs.size() == 3);
    std::set<std::string> sites;
    for (const auto& hub : manifest.replica_hubs) {
        CHECK(hub != "hub-d1");
        sites.insert(hub.substr(0, 5));
    }
    CHECK(sites.size() == 3);  // one per site
    // Placement is deterministic: the same content on another hub goes to the same hubs.
    const std::vector<sihlicon::cas::HubPlace> hubs{{"hub-a1", "site-a", "CH"},
                                                    {"hub-a2", "site-a", "CH"},
                                                    {"hub-b1", "site-b", "CH"},
                                                    {"hub-c1", "site-c", "CH"},
                                                    {"hub-d1", "site-d", "DE"}};
    auto placed = sihlicon::cas::place_replicas(manifest.content_id, hubs, 3, {"CH"}, {}, {});
    std::sort(placed.begin(), placed.end());
    CHECK(placed == manifest.replica_hubs);

    for (const auto& hub : manifest.replica_hubs) {
        f.store().confirm_replica(manifest.content_id, hub);
    }
    CHECK(f.store().repair_plan().empty());
    const std::vector<std::string> offline{manifest.replica_hubs.front()};
    const auto plan = f.store().repair_plan(offline);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].content_id == manifest.content_id);
    CHECK(plan[0].target_hub_id != "hub-d1");
    CHECK(std::find(manifest.replica_hubs.begin(), manifest.replica_hubs.end(),
                    plan[0].target_hub_id) == manifest.replica_hubs.end());
    CHECK(plan[0].source_hub_ids.size() == 2);
    f.store().confirm_replica(manifest.content_id, plan[0].target_hub_id);
    CHECK(f.store().repair_plan(offline).empty());
    f.store().fail_replica(manifest.content_id, plan[0].target_hub_id);
    CHECK(f.store().repair_plan(offline).empty());  // only CH hubs left: none to place on
    CHECK(error_of([&] { f.store().confirm_replica(manifest.content_id, "hub-zz"); }) ==
          ErrorCode::not_found);
}

TEST_CASE("uploads beyond the hourly quota or the total quota are refused") {
    StoreFixture f;
    f.store().set_quota("alice", sihlicon::Quota{1000, std::nullopt});
    f.store().put_bytes(random_bytes(600, 8), "alice");
    CHECK(error_of([&] { f.store().put_bytes(random_bytes(600, 9), "alice"); }) ==
          ErrorCode::quota_exceeded);
    CHECK(f.store().list("alice").size() == 1);
    CHECK(f.blocks().size() == 1);  // the refused upload left no block
    f.clock->advance(std::chrono::hours(1));
    f.store().put_bytes(random_bytes(600, 9), "alice");
    CHECK(f.store().quota("bob").upload_bytes_per_hour == 100'000'000);
    f.store().set_quota("*", sihlicon::Quota{1'000'000, 700});
    f.store().put_bytes(random_bytes(600, 10), "bob");
    CHECK(error_of([&] { f.store().put_bytes(random_bytes(200, 11), "bob"); }) ==
          ErrorCode::quota_exceeded);
}

TEST_CASE("a CAR export imports into another hub as the same content") {
    StoreFixture f;
    StoreFixture other;
    const auto data = random_bytes(5 * 262'144 + 3, 12);
    const auto id = f.store().put_bytes(data, "alice").content_id;
    std::vector<std::uint8_t> car;
    f.store().export_car(id, "alice", [&](std::span<const std::uint8_t> bytes) {
        car.insert(car.end(), bytes.begin(), bytes.end());
    });
    std::size_t offset = 0;
    const auto source = [&](std::span<std::uint8_t> buffer) {
        const auto take = std::min(buffer.size(), car.size() - offset);
        std::copy_n(car.begin() + static_cast<std::ptrdiff_t>(offset), take, buffer.begin());
        offset += take;
        return take;
    };
    const auto manifests = other.store().import_car(source, "bob");
    REQUIRE(manifests.size() == 1);
    CHECK(manifests[0].content_id == id);
    CHECK(manifests[0].file_size_bytes == static_cast<std::int64_t>(data.size()));
    CHECK(other.store().get_bytes(id, "bob") == data);
    // A damaged block is refused on import (integrity: it does not hash to its CID) and
    // leaves nothing behind.
    StoreFixture third;
    car[car.size() - 10] ^= 1;
    offset = 0;
    CHECK(error_of([&] { third.store().import_car(source, "bob"); }) == ErrorCode::integrity);
    CHECK(third.store().list("bob").empty());
    CHECK(third.blocks().empty());
}

TEST_CASE("the scheduler's manifest check sees content inside its transaction") {
    StoreFixture f;
    const auto id = f.store().put_bytes(random_bytes(10, 13), "alice").content_id;
    HubAccess::database(f.hub).read([&](sihlicon::store::Transaction& tx) {
        CHECK(sihlicon::cas::manifest_exists(tx, id));
        CHECK_FALSE(sihlicon::cas::manifest_exists(
            tx, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
    });
}

TEST_CASE("a put waits while another process holds the blob folder for a removal") {
    StoreFixture fixture;
    const auto lock_path = fixture.dir / "hub" / "blobs.lock";
    int locked[2];
    int release[2];
    REQUIRE(pipe(locked) == 0);
    REQUIRE(pipe(release) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        sihlicon::cas::BlobLock other_process(lock_path);
        other_process.lock();  // what a removal in another process holds
        char byte = 1;
        (void)!write(locked[1], &byte, 1);
        (void)!read(release[0], &byte, 1);
        other_process.unlock();
        _exit(0);
    }
    char byte = 0;
    REQUIRE(read(locked[0], &byte, 1) == 1);
    std::atomic<bool> stored{false};
    std::thread put([&] {
        const std::string text = "waits for the other process";
        fixture.store().put_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                                  "ann");
        stored = true;
    });
    CHECK_FALSE(stored.load());  // cannot commit while the other process holds the lock
    byte = 1;
    REQUIRE(write(release[1], &byte, 1) == 1);
    put.join();
    CHECK(stored.load());
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    for (const int fd : {locked[0], locked[1], release[0], release[1]}) {
        close(fd);
    }
}
