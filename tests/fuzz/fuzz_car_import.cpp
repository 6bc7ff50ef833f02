// SPDX-License-Identifier: Apache-2.0
//
// CAR import between two principals with quotas: no principal ever gains read access (a
// manifest, a stat or a get) to content whose bytes it did not supply itself, whatever CAR it
// builds from the other's real blocks, its own, fresh leaves and forged dag-pb nodes (lying
// blocksizes and filesize, truncated DAGs, roots pointing at the other's content, then a
// flipped byte or a cut). Also checked after every input: what a principal holds reads back
// whole at the size its manifest states, and once its imports are removed the hub holds
// exactly the blocks it held before (a refused import keeps nothing; no stray block stays).
//
// The input drives a small program (FuzzedDataProvider): which principal imports, then steps
// that add blocks to the CAR and roots to its header.
#include "fuzz_support.hpp"

#include "../support/car_builder.hpp"
#include "cid/file_dag.hpp"

#include <sihlicon/hub.hpp>
#include <sihlicon/time.hpp>

#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

using namespace sihlicon;
using sihlicon::testing::Block;

namespace {

constexpr std::string_view kPrincipals[] = {"alice", "bob"};

// A block the fuzzer may put into a CAR, with the real file bytes under it.
struct Candidate {
    Block block;
    std::uint64_t file_bytes = 0;
};

// The content each principal put at setup, private, and its blocks.
struct Setup {
    std::vector<testing::Dag> dags[2];
    std::set<Cid> blocks[2];  // CIDv1
};

struct World {
    std::filesystem::path folder;
    std::shared_ptr<ManualClock> clock;
    std::unique_ptr<Hub> hub;
    Setup setup;
    std::vector<Candidate> pool;  // every setup block, real file sizes attached
    std::size_t baseline_blocks = 0;
};

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 31 + seed * 17 + (i >> 8));
    }
    return bytes;
}

std::size_t block_files(const World& world) {
    std::size_t count = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(world.hub->blob_directory() / "hot")) {
        if (entry.is_regular_file() && entry.path().parent_path().filename() != ".staging") {
            ++count;
        }
    }
    return count;
}

World& world() {
    static World instance = [] {
        World w;
        w.folder = std::filesystem::temp_directory_path() /
                   ("sihlicon-fuzz-car-import-" + std::to_string(::getpid()));
        std::filesystem::remove_all(w.folder);
        w.clock = std::make_shared<ManualClock>(Timestamp::from_ms(1'767'225'600'000));
        HubOptions options;
        options.clock = w.clock;
        options.durability = Durability::process_crash;
        options.integrity_check = IntegrityCheck::none;
        w.hub = std::make_unique<Hub>(Hub::open(w.folder, options));
        auto& store = w.hub->content_store();
        const struct {
            std::size_t size;
            UnixfsOptions unixfs;
        } files[2][2] = {{{3000, {64, 4}}, {90, {}}}, {{2000, {100, 3}}, {700, {256, 2}}}};
        std::map<Cid, std::uint64_t> sizes;
        for (int who = 0; who < 2; ++who) {
            store.set_quota(kPrincipals[who], Quota{1 << 20, std::int64_t{8} << 20});
            for (const auto& file : files[who]) {
                const auto bytes = pattern(file.size, static_cast<std::uint8_t>(who * 2 + 1));
                PutOptions put;
                put.unixfs = file.unixfs;
                store.put_bytes(bytes, kPrincipals[who], put);
                auto dag = testing::dag_of(bytes, file.unixfs);
                std::map<Cid, const Block*> by_cid;
                for (const auto& block : dag.blocks) {
                    by_cid[block.first.to_v1()] = &block;
                }
                const auto checked = cid::check_file_dag(dag.root, [&](const Cid& cid) {
                    const Block& block = *by_cid.at(cid);
                    return std::optional(cid::describe_file_block(cid, block.second));
                });
                for (const auto& block : dag.blocks) {
                    w.setup.blocks[who].insert(block.first.to_v1());
                    // The real size under each block: check it as a root of its own.
                    const auto under = cid::check_file_dag(block.first, [&](const Cid& cid) {
                        return std::optional(cid::describe_file_block(cid, by_cid.at(cid)->second));
                    });
                    w.pool.push_back({block, under.file_size});
                }
                fuzz::require(checked.file_size == file.size, "setup sizes");
                w.setup.dags[who].push_back(std::move(dag));
            }
        }
        w.baseline_blocks = block_files(w);
        return w;
    }();
    static const struct Cleanup {
        ~Cleanup() {
            std::error_code ignored;
            std::filesystem::remove_all(world().folder, ignored);
        }
    } cleanup;
    return instance;
}

// The CAR an input builds, and which blocks it really carries after a flip or a cut.
struct BuiltCar {
    std::vector<std::uint8_t> bytes;
    std::set<Cid> supplied;  // CIDv1 of every block whose section reached the hub intact
};

BuiltCar build_car(FuzzedDataProvider& in, const World& w, int importer) {
    std::vector<Candidate> pool = w.pool;
    std::vector<Block> blocks;
    std::vector<Cid> roots;
    const auto pick = [&]() -> const Candidate& {
        return pool[in.ConsumeIntegralInRange<std::size_t>(0, pool.size() - 1)];
    };
    const int steps = in.ConsumeIntegralInRange(0, 24);
    for (int step = 0; step < steps && in.remaining_bytes() > 0; ++step) {
        switch (in.ConsumeIntegralInRange(0, 5)) {
            case 0:  // a real block, anyone's
                blocks.push_back(pick().block);
                break;
            case 1: {  // a fresh leaf
                auto bytes =
                    in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 600));
                const auto size = bytes.size();
                pool.push_back({testing::raw_block(std::move(bytes)), size});
                blocks.push_back(pool.back().block);
                break;
            }
            case 2: {  // a forged node, its sizes honest or not
                std::vector<Cid> links;
                std::vector<std::uint64_t> declared;
                std::uint64_t real = 0;
                const int count = in.ConsumeIntegralInRange(0, 5);
                for (int i = 0; i < count; ++i) {
                    const Candidate& child = pick();
                    links.push_back(child.block.first);
                    const auto lie = in.ConsumeBool() ? in.ConsumeIntegral<std::int8_t>() : 0;
                    declared.push_back(child.file_bytes + static_cast<std::uint64_t>(lie));
                    real += child.file_bytes;
                }
                std::optional<std::uint64_t> file_size;
                switch (in.ConsumeIntegralInRange(0, 2)) {
                    case 0:
                        file_size = real;
                        break;
                    case 1:
                        file_size = in.ConsumeIntegral<std::uint64_t>();
                        break;
                    default:
                        break;
                }
                pool.push_back({testing::file_node(links, declared, file_size), real});
                if (in.ConsumeBool()) {
                    blocks.push_back(pool.back().block);
                }
                break;
            }
            case 3:  // a root: anything in the pool, carried or not
                roots.push_back(pick().block.first);
                break;
            case 4: {  // a whole setup DAG, or all of it but one block
                const int who = in.ConsumeBool() ? importer : 1 - importer;
                const auto& dags = w.setup.dags[who];
                const auto& dag = dags[in.ConsumeIntegralInRange<std::size_t>(0, dags.size() - 1)];
                const auto skip = in.ConsumeIntegralInRange<std::size_t>(0, dag.blocks.size());
                for (std::size_t i = 0; i < dag.blocks.size(); ++i) {
                    if (i != skip) {
                        blocks.push_back(dag.blocks[i]);
                    }
                }
                if (in.ConsumeBool()) {
                    roots.push_back(dag.root);
                }
                break;
            }
            default:  // a duplicate section
                if (!blocks.empty()) {
                    blocks.push_back(
                        blocks[in.ConsumeIntegralInRange<std::size_t>(0, blocks.size() - 1)]);
                }
                break;
        }
    }
    if (roots.empty()) {
        roots.push_back(pick().block.first);
    }
    std::sort(roots.begin(), roots.end());
    roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
    BuiltCar car;
    car.bytes = testing::car_of(roots, {});
    std::vector<std::pair<std::size_t, std::size_t>> sections;  // [begin, end) per block
    for (const auto& block : blocks) {
        const auto begin = car.bytes.size();
        testing::append_section(car.bytes, block);
        sections.emplace_back(begin, car.bytes.size());
    }
    std::size_t cut = car.bytes.size();
    std::size_t flipped = SIZE_MAX;
    if (!car.bytes.empty()) {
        switch (in.ConsumeIntegralInRange(0, 3)) {
            case 0:
                cut = in.ConsumeIntegralInRange<std::size_t>(0, car.bytes.size());
                car.bytes.resize(cut);
                break;
            case 1:
                flipped = in.ConsumeIntegralInRange<std::size_t>(0, car.bytes.size() - 1);
                car.bytes[flipped] ^=
                    static_cast<std::uint8_t>(1u << in.ConsumeIntegralInRange(0, 7));
                break;
            default:
                break;
        }
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const auto [begin, end] = sections[i];
        if (end <= cut && (flipped < begin || flipped >= end)) {
            car.supplied.insert(blocks[i].first.to_v1());
        }
    }
    return car;
}

// The CIDv1 of every block export_car writes for `content_id` (its whole DAG, walked).
std::set<Cid> dag_blocks(ContentStore& store, const std::string& content_id,
                         std::string_view principal) {
    std::vector<std::uint8_t> car;
    store.export_car(content_id, principal, [&](std::span<const std::uint8_t> bytes) {
        car.insert(car.end(), bytes.begin(), bytes.end());
    });
    std::set<Cid> blocks;
    std::size_t at = 0;
    const auto varint = [&] {
        const auto value = cid::read_varint(car, at);
        fuzz::require(value.has_value(), "export writes minimal varints");
        return static_cast<std::size_t>(*value);
    };
    at += varint();
    while (at < car.size()) {
        const std::size_t length = varint();
        const std::size_t cid_length = car[at] == 0x12 ? 34 : 36;
        blocks.insert(Cid::from_bytes(std::span(car).subspan(at, cid_length)).to_v1());
        at += length;
    }
    return blocks;
}

bool can_read(ContentStore& store, const std::string& content_id, std::string_view principal) {
    try {
        store.stat(content_id, principal);
        return true;
    } catch (const Error&) {
    }
    try {
        store.get(content_id, principal, [](std::span<const std::uint8_t>) {});
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = world();
    auto& store = w.hub->content_store();
    FuzzedDataProvider in(data, size);
    const int importer = in.ConsumeBool() ? 1 : 0;
    const std::string_view who = kPrincipals[importer];
    const BuiltCar car = build_car(in, w, importer);
    w.clock->advance(std::chrono::hours(2));  // a fresh hour of upload volume
    fuzz::refuse_only_with_error(
        [&] { store.import_car(testing::source_of(car.bytes, 1 << 16), who); });

    std::set<std::string> own_setup;
    for (const auto& dag : w.setup.dags[importer]) {
        own_setup.insert(dag.root.to_string());
    }
    // What the importer holds now: every block supplied (by this CAR or its own earlier
    // puts), and bytes that read back at the manifest's size.
    for (const auto& manifest : store.list(who, who)) {
        for (const auto& block : dag_blocks(store, manifest.content_id, who)) {
            fuzz::require(car.supplied.contains(block) || w.setup.blocks[importer].contains(block),
                          "an import granted a manifest over blocks the importer did not supply");
        }
        std::uint64_t read = 0;
        store.get(manifest.content_id, who,
                  [&](std::span<const std::uint8_t> bytes) { read += bytes.size(); });
        fuzz::require(read == static_cast<std::uint64_t>(manifest.file_size_bytes),
                      "a manifest states a size its content does not have");
    }
    // The other principal's private content stays out of reach unless all of it was supplied.
    for (const auto& dag : w.setup.dags[1 - importer]) {
        if (can_read(store, dag.root.to_string(), who)) {
            for (const auto& block : dag.blocks) {
                fuzz::require(car.supplied.contains(block.first.to_v1()),
                              "read access to another principal's content without its bytes");
            }
        }
    }
    // Undo this input's imports; the hub must hold exactly its setup blocks again.
    for (const auto& manifest : store.list(who, who)) {
        if (!own_setup.contains(manifest.content_id)) {
            store.remove(manifest.content_id, who);
        }
    }
    fuzz::require(block_files(w) == w.baseline_blocks,
                  "an import left blocks behind that no manifest references");
    return 0;
}
