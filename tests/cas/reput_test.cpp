// SPDX-License-Identifier: Apache-2.0
//
// Issue 26, content store: the same bytes put again with other metadata update the owner's
// manifest (never silently return the old one) and leave no copy in another tier;
// sourceHubId names a registered hub.
#include "support/car_builder.hpp"
#include "support/errors.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/scheduler.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using namespace sihlicon;
using sihlicon::testing::error_of;
using sihlicon::testing::random_bytes;
using sihlicon::testing::source_of;

namespace {

struct ReputFixture {
    sihlicon::testing::TempDir dir;
    Hub hub = open();

    Hub open() {
        HubOptions options;
        options.durability = Durability::process_crash;
        return Hub::open(dir / "hub", options);
    }
    ContentStore& store() { return hub.content_store(); }

    void add_hub(const std::string& id, const std::string& site) {
        HubSpec spec;
        spec.id = id;
        spec.name = id;
        spec.site = site;
        spec.region = "CH";
        spec.heat_recovery_ppm = 900'000;
        spec.power_capacity_w = 1000;
        hub.scheduler().register_hub(spec);
    }

    std::size_t blocks(StorageTier tier) {
        const auto folder = hub.blob_directory() / std::string(to_string(tier));
        std::size_t count = 0;
        if (!std::filesystem::exists(folder)) {
            return 0;
        }
        for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
            if (entry.is_regular_file() && entry.path().parent_path().filename() != ".staging") {
                ++count;
            }
        }
        return count;
    }

    std::vector<std::uint8_t> car(const std::string& content_id) {
        std::vector<std::uint8_t> bytes;
        store().export_car(content_id, "alice", [&](std::span<const std::uint8_t> part) {
            bytes.insert(bytes.end(), part.begin(), part.end());
        });
        return bytes;
    }
};

PutOptions described(const std::string& name) {
    PutOptions options;
    options.file_name = name;
    options.mime_type = "text/plain";
    options.metadata_json = R"({"a": 1, "b": [1, 2]})";
    options.allowed_regions = {"CH", "DE"};
    options.min_replicas = 1;
    return options;
}

}  // namespace

TEST_CASE("the same bytes with the same metadata put again return the manifest unchanged") {
    ReputFixture f;
    const auto data = random_bytes(300'000, 1);
    const auto first = f.store().put_bytes(data, "alice", described("a.txt"));
    PutOptions same = described("a.txt");
    same.metadata_json = R"({"b":[1,2],"a":1})";  // the same JSON object, written otherwise
    same.allowed_regions = {"DE", "CH"};          // the same set of regions
    const auto again = f.store().put_bytes(data, "alice", same);
    CHECK(again.to_json() == first.to_json());
    CHECK(f.store().stat(first.content_id, "alice").metadata_json == first.metadata_json);
    CHECK(f.blocks(StorageTier::hot) == 3);
}

TEST_CASE("the same bytes put with other metadata update the owner's manifest to them") {
    ReputFixture f;
    f.add_hub("hub-a", "site-a");
    const auto data = random_bytes(1000, 2);
    const auto first = f.store().put_bytes(data, "alice", described("a.txt"));
    CHECK_THROWS(f.store().stat(first.content_id, "bob"));  // private

    PutOptions other;
    other.file_name = "b.json";
    other.mime_type = "application/json";
    other.access_level = AccessLevel::public_;
    other.metadata_json = R"({"version": 2})";
    other.min_replicas = 2;
    other.source_hub_id = "hub-a";
    const auto updated = f.store().put_bytes(data, "alice", other);
    CHECK(updated.content_id == first.content_id);
    CHECK(updated.file_name == "b.json");
    CHECK(updated.mime_type == "application/json");
    CHECK(updated.access_level == AccessLevel::public_);
    CHECK(updated.metadata_json == R"({"version": 2})");
    CHECK(updated.min_replicas == 2);
    CHECK(updated.source_hub_id == "hub-a");
    CHECK(updated.allowed_regions.empty());
    CHECK(updated.created_at == first.created_at);
    // Stored, not only returned: what the next reader sees, bob included now it is public.
    CHECK(f.store().stat(first.content_id, "alice").to_json() == updated.to_json());
    CHECK(f.store().stat(first.content_id, "bob").file_name == "b.json");

    // An absent fileName and mimeType clear them: the manifest is what the put states.
    const auto bare = f.store().put_bytes(data, "alice");
    CHECK_FALSE(bare.file_name.has_value());
    CHECK_FALSE(bare.mime_type.has_value());
    CHECK(bare.access_level == AccessLevel::private_);
}

TEST_CASE("a re-put updates only the putter's manifest and stores or counts no byte anew") {
    ReputFixture f;
    const auto data = random_bytes(1000, 3);
    PutOptions open;
    open.access_level = AccessLevel::public_;
    const auto bobs = f.store().put_bytes(data, "bob", open);
    f.store().put_bytes(data, "alice", described("a.txt"));
    // The hour's limit leaves room for one more file: re-puts with other metadata (checked
    // up front from their declared size, like any put) are not counted when they commit.
    f.store().set_quota("alice", Quota{2500, std::nullopt});
    for (const char* name : {"b.txt", "c.txt", "d.txt"}) {
        CHECK(f.store().put_bytes(data, "alice", described(name)).file_name == name);
    }
    CHECK(f.store().stat(bobs.content_id, "bob").to_json() == bobs.to_json());
    f.store().put_bytes(random_bytes(1000, 4), "alice");  // 2000 bytes this hour
    CHECK(error_of([&] { f.store().put_bytes(random_bytes(1000, 9), "alice"); }) ==
          ErrorCode::quota_exceeded);
}

TEST_CASE("a re-put in another tier moves the manifest and leaves no block in the old tier") {
    ReputFixture f;
    const auto data = random_bytes(300'000, 5);
    const auto id = f.store().put_bytes(data, "alice").content_id;
    REQUIRE(f.blocks(StorageTier::hot) == 3);
    PutOptions cold;
    cold.storage_tier = StorageTier::cold;
    const auto moved = f.store().put_bytes(data, "alice", cold);
    CHECK(moved.storage_tier == StorageTier::cold);
    CHECK(f.blocks(StorageTier::hot) == 0);
    CHECK(f.blocks(StorageTier::cold) == 3);
    CHECK(f.store().get_bytes(id, "alice") == data);

    SUBCASE("another owner's manifest in the old tier keeps its blocks there") {
        f.store().put_bytes(data, "bob");  // hot
        REQUIRE(f.blocks(StorageTier::hot) == 3);
        PutOptions glacier;
        glacier.storage_tier = StorageTier::glacier;
        f.store().put_bytes(data, "alice", glacier);
        CHECK(f.blocks(StorageTier::cold) == 0);
        CHECK(f.blocks(StorageTier::glacier) == 3);
        CHECK(f.blocks(StorageTier::hot) == 3);
        CHECK(f.store().get_bytes(id, "bob") == data);
        CHECK(f.store().get_bytes(id, "alice") == data);
    }
}

TEST_CASE("put_file of stored bytes under another name and tier updates the manifest") {
    ReputFixture f;
    const auto data = random_bytes(5000, 6);
    const auto first_path = f.dir / "first.bin";
    const auto second_path = f.dir / "second.bin";
    for (const auto& path : {first_path, second_path}) {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(data.data()),
                   static_cast<std::streamsize>(data.size()));
    }
    const auto first = f.store().put_file(first_path, "alice");
    CHECK(first.file_name == "first.bin");
    PutOptions cold;
    cold.storage_tier = StorageTier::cold;
    const auto second = f.store().put_file(second_path, "alice", cold);
    CHECK(second.file_name == "second.bin");
    CHECK(second.storage_tier == StorageTier::cold);
    CHECK(f.store().stat(first.content_id, "alice").file_name == "second.bin");
    CHECK(f.blocks(StorageTier::hot) == 0);
    CHECK(f.store().get_bytes(first.content_id, "alice") == data);
}

TEST_CASE("import_car of stored content with other metadata updates it, no copy left behind") {
    ReputFixture f;
    const auto data = random_bytes(300'000, 7);
    const auto id = f.store().put_bytes(data, "alice", described("a.txt")).content_id;
    const auto car = f.car(id);
    // The same CAR with the same metadata: unchanged.
    const auto same = f.store().import_car(source_of(car), "alice", described("a.txt"));
    REQUIRE(same.size() == 1);
    CHECK(same[0].file_name == "a.txt");
    PutOptions other;
    other.storage_tier = StorageTier::glacier;
    other.access_level = AccessLevel::community;
    other.file_name = "model.bin";
    const auto imported = f.store().import_car(source_of(car), "alice", other);
    REQUIRE(imported.size() == 1);
    CHECK(imported[0].file_name == "model.bin");
    CHECK(imported[0].storage_tier == StorageTier::glacier);
    CHECK(imported[0].access_level == AccessLevel::community);
    CHECK(f.store().stat(id, "alice").to_json() == imported[0].to_json());
    CHECK(f.blocks(StorageTier::hot) == 0);
    CHECK(f.blocks(StorageTier::glacier) == 3);
    CHECK(f.store().get_bytes(id, "alice") == data);
}

TEST_CASE("sourceHubId must name a registered hub; otherwise nothing is read or stored") {
    ReputFixture f;
    f.add_hub("hub-zurich", "site-1");
    const auto data = random_bytes(300'000, 8);
    PutOptions unknown;
    unknown.source_hub_id = "hub-nowhere";
    const auto refused = [&](const std::function<void()>& put) {
        try {
            put();
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::not_found);
            CHECK(error.field() == "sourceHubId");
            CHECK(std::string(error.what()).find("hub-nowhere") != std::string::npos);
            return true;
        }
        return false;
    };
    CHECK(refused([&] { f.store().put_bytes(data, "alice", unknown); }));
    bool read = false;
    CHECK(refused([&] {
        f.store().put_stream(
            [&](std::span<std::uint8_t>) {
                read = true;
                return std::size_t{0};
            },
            "alice", unknown);
    }));
    CHECK_FALSE(read);  // refused before the source is read
    const auto path = f.dir / "data.bin";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
    CHECK(refused([&] { f.store().put_file(path, "alice", unknown); }));
    CHECK(f.store().list("alice").empty());
    CHECK(f.blocks(StorageTier::hot) == 0);

    PutOptions known;
    known.source_hub_id = "hub-zurich";
    const auto manifest = f.store().put_bytes(data, "alice", known);
    CHECK(manifest.source_hub_id == "hub-zurich");
    // Re-putting the stored bytes naming an unknown hub changes nothing either.
    CHECK(refused([&] { f.store().put_bytes(data, "alice", unknown); }));
    CHECK(f.store().stat(manifest.content_id, "alice").source_hub_id == "hub-zurich");
    const auto car = f.car(manifest.content_id);
    CHECK(refused([&] { f.store().import_car(source_of(car), "bob", unknown); }));
    CHECK(f.store().list("bob", std::string_view("bob")).empty());
    CHECK(f.blocks(StorageTier::hot) == 3);
}
