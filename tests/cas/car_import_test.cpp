// SPDX-License-Identifier: Apache-2.0
//
// CAR import as an attacker would use it: possession (a manifest only for a DAG the CAR
// holds whole), declared sizes (UnixFS blocksizes and filesize checked against the blocks),
// a strict header, and nothing kept on a refusal.
#include "cas/car_header.hpp"
#include "cid/file_dag.hpp"
#include "hub/hub_internal.hpp"
#include "support/car_builder.hpp"
#include "support/errors.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sihlicon/content_store.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>

#include <filesystem>
#include <string>

using namespace sihlicon;
using sihlicon::testing::Block;
using sihlicon::testing::car_of;
using sihlicon::testing::car_with_header;
using sihlicon::testing::dag_of;
using sihlicon::testing::error_of;
using sihlicon::testing::file_node;
using sihlicon::testing::random_bytes;
using sihlicon::testing::raw_block;
using sihlicon::testing::source_of;

namespace {

struct CarFixture {
    sihlicon::testing::TempDir dir;
    Hub hub = open();

    Hub open() {
        HubOptions options;
        options.durability = Durability::process_crash;
        return Hub::open(dir / "hub", options);
    }
    ContentStore& store() { return hub.content_store(); }

    std::vector<Manifest> import(const std::vector<std::uint8_t>& car, std::string_view owner) {
        return store().import_car(source_of(car), owner);
    }
    // The message of the Error an import throws ("" if it does not throw).
    std::string refusal(const std::vector<std::uint8_t>& car, std::string_view owner) {
        try {
            import(car, owner);
        } catch (const Error& error) {
            return error.what();
        }
        return "";
    }
    std::size_t block_files() {
        std::size_t count = 0;
        for (const auto& entry :
             std::filesystem::recursive_directory_iterator(hub.blob_directory() / "hot")) {
            if (entry.is_regular_file() && entry.path().parent_path().filename() != ".staging") {
                ++count;
            }
        }
        return count;
    }
    // Whether `principal` can read or stat `content_id` in any way.
    bool can_read(const std::string& content_id, std::string_view principal) {
        try {
            store().stat(content_id, principal);
            return true;
        } catch (const Error&) {
        }
        try {
            store().get_bytes(content_id, principal);
            return true;
        } catch (const Error&) {
            return false;
        }
    }
};

// A file of `size` random bytes, put by "alice"; returns its DAG (root last).
testing::Dag put_by_alice(CarFixture& f, std::size_t size, std::uint32_t seed,
                          AccessLevel level = AccessLevel::private_) {
    const auto data = random_bytes(size, seed);
    PutOptions options;
    options.access_level = level;
    const auto manifest = f.store().put_bytes(data, "alice", options);
    auto dag = dag_of(data);
    REQUIRE(manifest.content_id == dag.root.to_string());
    return dag;
}

const Block& root_block(const testing::Dag& dag) {
    return dag.blocks.back();
}

}  // namespace

TEST_CASE("a CAR holding only the root of another owner's file grants no manifest and no read") {
    CarFixture f;
    const auto dag = put_by_alice(f, 3 * 262'144 + 5, 1);
    const auto before = f.block_files();
    const auto car = car_of({dag.root}, {root_block(dag)});
    CHECK(error_of([&] { f.import(car, "mallory"); }) == ErrorCode::invalid_argument);
    const std::string message = f.refusal(car, "mallory");
    CHECK(message.find(dag.root.to_string()) != std::string::npos);
    CHECK(message.find(dag.blocks.front().first.to_string()) != std::string::npos);
    CHECK(f.store().list("mallory").empty());
    CHECK_FALSE(f.can_read(dag.root.to_string(), "mallory"));
    CHECK(f.block_files() == before);
}

TEST_CASE("a CAR holding part of another owner's DAG (root and some leaves) is refused") {
    CarFixture f;
    const auto dag = put_by_alice(f, 4 * 262'144, 2);
    std::vector<Block> partial{root_block(dag), dag.blocks[0], dag.blocks[2]};
    CHECK(error_of([&] { f.import(car_of({dag.root}, partial), "mallory"); }) ==
          ErrorCode::invalid_argument);
    CHECK(f.store().list("mallory").empty());
    CHECK_FALSE(f.can_read(dag.root.to_string(), "mallory"));
}

TEST_CASE("the refusal for a block missing from the CAR is the same whether the hub holds it") {
    CarFixture holds;
    CarFixture lacks;
    const auto dag = put_by_alice(holds, 2 * 262'144 + 1, 3);
    const auto car = car_of({dag.root}, {root_block(dag)});
    const std::string with_content = holds.refusal(car, "mallory");
    const std::string without_content = lacks.refusal(car, "mallory");
    CHECK_FALSE(with_content.empty());
    CHECK(with_content == without_content);
}

TEST_CASE("a whole DAG in the CAR proves possession, even of content another owner holds") {
    CarFixture f;
    const auto dag = put_by_alice(f, 2 * 262'144 + 7, 4);
    const auto manifests = f.import(car_of({dag.root}, dag.blocks), "bob");
    REQUIRE(manifests.size() == 1);
    CHECK(manifests[0].owner == "bob");
    CHECK(manifests[0].file_size_bytes == 2 * 262'144 + 7);
    CHECK(f.store().get_bytes(dag.root.to_string(), "bob") == random_bytes(2 * 262'144 + 7, 4));
}

TEST_CASE("an importer that can already read a root may import a CAR holding only the root") {
    CarFixture f;
    const auto shared = put_by_alice(f, 2 * 262'144 + 9, 5, AccessLevel::public_);
    const auto manifests = f.import(car_of({shared.root}, {root_block(shared)}), "bob");
    REQUIRE(manifests.size() == 1);
    CHECK(manifests[0].owner == "bob");
    CHECK(manifests[0].file_size_bytes == 2 * 262'144 + 9);
    // The owner itself too; a private file stays out of reach of everybody else.
    const auto own = put_by_alice(f, 2 * 262'144 + 11, 6);
    CHECK(f.import(car_of({own.root}, {root_block(own)}), "alice").size() == 1);
    CHECK(error_of([&] { f.import(car_of({own.root}, {root_block(own)}), "bob"); }) ==
          ErrorCode::invalid_argument);
}

TEST_CASE("blocksizes that overstate or understate a leaf are refused with integrity") {
    CarFixture f;
    const auto leaf = raw_block(random_bytes(1000, 7));
    for (const std::uint64_t lie : {std::uint64_t{5000}, std::uint64_t{10}}) {
        CAPTURE(lie);
        const auto node = file_node({leaf.first}, {lie}, lie);
        CHECK(error_of([&] {
                  f.import(car_of({node.first}, {node, leaf}), "mallory");
              }) == ErrorCode::integrity);
        CHECK(f.store().list("mallory").empty());
        CHECK(f.block_files() == 0);
    }
    // The honest node is accepted and counts the real bytes.
    const auto honest = file_node({leaf.first}, {1000}, 1000);
    const auto manifests = f.import(car_of({honest.first}, {honest, leaf}), "mallory");
    REQUIRE(manifests.size() == 1);
    CHECK(manifests[0].file_size_bytes == 1000);
}

TEST_CASE("a filesize that disagrees with the blocks under the node is refused with integrity") {
    CarFixture f;
    const auto leaf = raw_block(random_bytes(700, 8));
    const auto node = file_node({leaf.first}, {700}, 70'000);
    const std::string message = f.refusal(car_of({node.first}, {node, leaf}), "mallory");
    CHECK(message.find("filesize of 70000") != std::string::npos);
    CHECK(error_of([&] {
              f.import(car_of({node.first}, {node, leaf}), "mallory");
          }) == ErrorCode::integrity);
    CHECK(f.block_files() == 0);
}

TEST_CASE("a lie in an inner node is refused even when the root's own sizes add up") {
    CarFixture f;
    const auto leaf = raw_block(random_bytes(300, 9));
    const auto inner = file_node({leaf.first}, {3000}, 3000);
    const auto root = file_node({inner.first, leaf.first}, {3000, 300}, 3300);
    CHECK(error_of([&] {
              f.import(car_of({root.first}, {root, inner, leaf}), "mallory");
          }) == ErrorCode::integrity);
    CHECK(f.store().list("mallory").empty());
}

TEST_CASE("a DAG whose real file size exceeds int64 is refused, not wrapped") {
    // Each level links the one below 4096 times: 2^20 * 4096^4 = 2^68 bytes, in a few
    // kilobytes of CAR; every declared size is honest up to the overflow.
    CarFixture f;
    auto below = raw_block(random_bytes(1 << 20, 10));
    std::vector<Block> blocks{below};
    std::uint64_t size = 1 << 20;
    for (int level = 0; level < 4; ++level) {
        const bool overflows = size > (UINT64_MAX >> 12);
        const auto node =
            file_node(std::vector<Cid>(4096, below.first), std::vector<std::uint64_t>(4096, size),
                      overflows ? std::nullopt : std::optional(size * 4096));
        size = overflows ? size : size * 4096;
        blocks.push_back(node);
        below = node;
    }
    CHECK(error_of([&] { f.import(car_of({below.first}, blocks), "mallory"); }) ==
          ErrorCode::invalid_argument);
    CHECK(f.store().list("mallory").empty());
    CHECK(f.block_files() == 0);
}

TEST_CASE("a DAG deeper than the limit is refused without exhausting the stack") {
    CarFixture f;
    auto below = raw_block(random_bytes(10, 11));
    std::vector<Block> blocks{below};
    for (std::size_t level = 0; level <= cid::kMaxFileDagDepth; ++level) {
        below = file_node({below.first}, {10}, 10);
        blocks.push_back(below);
    }
    const std::string message = f.refusal(car_of({below.first}, blocks), "mallory");
    CHECK(message.find("deeper than") != std::string::npos);
    CHECK(f.store().list("mallory").empty());
}

TEST_CASE("the roots of one CAR are recorded all or none: a quota refusal keeps nothing") {
    CarFixture f;
    f.store().set_quota("mallory", Quota{1000, std::nullopt});
    const auto first = raw_block(random_bytes(600, 12));
    const auto second = raw_block(random_bytes(600, 13));
    CHECK(error_of([&] {
              f.import(car_of({first.first, second.first}, {first, second}), "mallory");
          }) == ErrorCode::quota_exceeded);
    CHECK(f.store().list("mallory").empty());
    CHECK(f.block_files() == 0);
    // Alone, the first fits (the refused import consumed no upload volume).
    CHECK(f.import(car_of({first.first}, {first}), "mallory").size() == 1);
}

TEST_CASE("blocks of a CAR that no root reaches are not kept, and present ones not removed") {
    CarFixture f;
    const auto alices = put_by_alice(f, 100, 14);
    const auto root = raw_block(random_bytes(100, 15));
    const auto stray = raw_block(random_bytes(100, 16));
    CHECK(f.block_files() == 1);
    const auto manifests =
        f.import(car_of({root.first}, {root, stray, alices.blocks.front()}), "mallory");
    REQUIRE(manifests.size() == 1);
    CHECK(f.block_files() == 2);  // alice's block and mallory's root
    CHECK(f.store().get_bytes(alices.root.to_string(), "alice") == random_bytes(100, 14));
    CHECK_FALSE(f.can_read(alices.root.to_string(), "mallory"));
}

TEST_CASE("a root that reaches a dag-pb block other than a UnixFS file is refused") {
    CarFixture f;
    std::vector<std::uint8_t> directory{0x0a, 0x02, 0x08, 0x01};  // UnixFS Directory
    const Block dir{Cid::of_block(CidCodec::dag_pb, directory), directory};
    CHECK(error_of([&] { f.import(car_of({dir.first}, {dir}), "mallory"); }) ==
          ErrorCode::invalid_argument);
    // Unreached, the same block does not stop a file root from importing.
    const auto file = raw_block(random_bytes(10, 17));
    CHECK(f.import(car_of({file.first}, {dir, file}), "mallory").size() == 1);
}

namespace {

// The canonical header {"roots": [root], "version": 1}.
std::vector<std::uint8_t> header_bytes(const Cid& root) {
    return cas::encode_car_header(std::span(&root, 1));
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
    std::vector<std::uint8_t> out;
    for (const auto& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

std::vector<std::uint8_t> text(std::string_view s) {
    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(0x60 + s.size())};
    out.insert(out.end(), s.begin(), s.end());
    return out;
}

std::vector<std::uint8_t> root_array(const Cid& root, std::size_t copies = 1) {
    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(0x80 + copies)};
    const auto bytes = root.to_bytes();
    for (std::size_t i = 0; i < copies; ++i) {
        out.insert(out.end(), {0xd8, 0x2a, 0x58, static_cast<std::uint8_t>(bytes.size() + 1), 0});
        out.insert(out.end(), bytes.begin(), bytes.end());
    }
    return out;
}

}  // namespace

TEST_CASE("the CAR header is canonical DAG-CBOR with exactly roots and version 1") {
    CarFixture f;
    const auto block = raw_block(random_bytes(50, 18));
    const Cid& root = block.first;
    const std::vector<std::uint8_t> one{0x01};
    SUBCASE("the canonical header is accepted and round-trips") {
        const auto header = header_bytes(root);
        CHECK(header == concat({{0xa2}, text("roots"), root_array(root), text("version"), one}));
        CHECK(cas::parse_car_header(header) == std::vector<Cid>{root});
        CHECK(f.import(car_with_header(header, {block}), "bob").size() == 1);
    }
    const std::vector<std::pair<const char*, std::vector<std::uint8_t>>> refused{
        {"a duplicate key", concat({{0xa3},
                                    text("roots"),
                                    root_array(root),
                                    text("roots"),
                                    root_array(root),
                                    text("version"),
                                    one})},
        {"keys out of order",
         concat({{0xa2}, text("version"), one, text("roots"), root_array(root)})},
        {"an unknown key", concat({{0xa3},
                                   text("roots"),
                                   root_array(root),
                                   text("comment"),
                                   text("x"),
                                   text("version"),
                                   one})},
        {"a version not in its shortest form",
         concat({{0xa2}, text("roots"), root_array(root), text("version"), {0x18, 0x01}})},
        {"a map count not in its shortest form",
         concat({{0xb8, 0x02}, text("roots"), root_array(root), text("version"), one})},
        {"an indefinite-length map",
         concat({{0xbf}, text("roots"), root_array(root), text("version"), one, {0xff}})},
        {"version 2", concat({{0xa2}, text("roots"), root_array(root), text("version"), {0x02}})},
        {"no version", concat({{0xa1}, text("roots"), root_array(root)})},
        {"no roots", concat({{0xa1}, text("version"), one})},
        {"an empty roots array", concat({{0xa2}, text("roots"), {0x80}, text("version"), one})},
        {"a root named twice",
         concat({{0xa2}, text("roots"), root_array(root, 2), text("version"), one})},
        {"trailing bytes",
         concat({{0xa2}, text("roots"), root_array(root), text("version"), one, {0x00}})},
    };
    for (const auto& [what, header] : refused) {
        CAPTURE(what);
        CHECK(error_of([&] { cas::parse_car_header(header); }) == ErrorCode::invalid_argument);
        CHECK(error_of([&] { f.import(car_with_header(header, {block}), "mallory"); }) ==
              ErrorCode::invalid_argument);
    }
    CHECK(f.store().list("mallory").empty());
}

TEST_CASE("CAR varints not in their shortest form are refused") {
    CarFixture f;
    const auto block = raw_block(random_bytes(50, 19));
    auto car = car_of({block.first}, {block});
    // The header length (one byte, < 128) written in two bytes: 0x80 | n, 0x00.
    car.insert(car.begin() + 1, 0x00);
    car[0] |= 0x80;
    CHECK(error_of([&] { f.import(car, "mallory"); }) == ErrorCode::invalid_argument);
    CHECK(f.store().list("mallory").empty());
}

TEST_CASE("the size check reads a DAG that shares subtrees once per distinct block") {
    const auto leaf = raw_block(random_bytes(64, 20));
    const auto node =
        file_node(std::vector<Cid>(100, leaf.first), std::vector<std::uint64_t>(100, 64), 6400);
    int lookups = 0;
    const auto checked = cid::check_file_dag(node.first, [&](const Cid& cid) {
        ++lookups;
        const auto& block = cid == node.first ? node : leaf;
        return std::optional(cid::describe_file_block(cid, block.second));
    });
    CHECK(lookups == 2);
    CHECK_FALSE(checked.missing);
    CHECK(checked.file_size == 6400);
    CHECK(checked.blocks.size() == 2);
}

TEST_CASE("a read checks every node it visits against the size its parent declares") {
    // A DAG stored before imports were checked: the root says its child holds 200 file bytes,
    // the child (and its leaf) hold 100. Planted under the importer's checks.
    CarFixture f;
    const auto leaf = raw_block(random_bytes(100, 21));
    const auto child = file_node({leaf.first}, {100}, 100);
    const auto root = file_node({child.first}, {200}, 200);
    auto backend = make_local_blob_backend(f.hub.blob_directory(), Durability::process_crash);
    auto batch = backend->begin_batch(StorageTier::hot);
    for (const auto& block : {leaf, child, root}) {
        batch->add(block.first, block.second);
    }
    batch->commit();
    HubAccess::database(f.hub).write([&](store::Transaction& tx) {
        tx.prepare(
              "INSERT INTO cas_manifests (content_id, owner, file_size_bytes, storage_tier, "
              "access_level, min_replicas, metadata, allowed_regions, created_at) "
              "VALUES (?, 'alice', 200, 'hot', 'private', 0, '{}', '', 0)")
            .bind_all(root.first.to_string())
            .run();
    });
    CHECK(error_of([&] { f.store().get_bytes(root.first.to_string(), "alice"); }) ==
          ErrorCode::integrity);
    CHECK(error_of([&] { f.store().get_bytes(root.first.to_string(), "alice", 50, 10); }) ==
          ErrorCode::integrity);
}

TEST_CASE(
    "a CAR block whose bytes do not hash to its CID is refused with integrity naming it, and "
    "leaves no block") {
    CarFixture f;
    const auto data = random_bytes(3 * 262'144 + 5, 41);
    const auto dag = dag_of(data);
    auto forged = dag.blocks;
    forged[1].second[7] ^= 0x01;
    const auto before = f.block_files();
    try {
        f.import(car_of({dag.root}, forged), "mallory");
        FAIL("a forged block was accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::integrity);
        CHECK(error.field() == "block");
        CHECK(std::string(error.what()).find(forged[1].first.to_string()) != std::string::npos);
    }
    CHECK(f.store().list("mallory").empty());
    CHECK(f.block_files() == before);
}
