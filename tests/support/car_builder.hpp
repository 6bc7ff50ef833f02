// SPDX-License-Identifier: Apache-2.0
//
// Building CAR v1 files for tests and fuzz targets: honest DAGs (the store's own builder) and
// forged ones (dag-pb nodes whose UnixFS sizes say whatever the test wants).
#pragma once

#include "cas/car_header.hpp"
#include "cid/encoding.hpp"
#include "cid/unixfs.hpp"

#include <sihlicon/cid.hpp>
#include <sihlicon/content_store.hpp>
#include <sihlicon/crypto.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace sihlicon::testing {

using Block = std::pair<Cid, std::vector<std::uint8_t>>;

// The blocks of `bytes` as ContentStore::put would store them, root last.
struct Dag {
    Cid root;
    std::vector<Block> blocks;
};

inline Dag dag_of(std::span<const std::uint8_t> bytes, const UnixfsOptions& options = {}) {
    Dag dag;
    cid::DagBuilder builder(options, [&](const Cid& cid, std::span<const std::uint8_t> block) {
        dag.blocks.emplace_back(cid, std::vector<std::uint8_t>(block.begin(), block.end()));
    });
    builder.update(bytes);
    dag.root = builder.finish().root;
    return dag;
}

inline Block raw_block(std::vector<std::uint8_t> bytes) {
    const Cid cid = Cid::of_block(CidCodec::raw, bytes);
    return {cid, std::move(bytes)};
}

// A dag-pb UnixFS File node linking `links` and declaring `block_sizes` and `file_size`
// (absent when std::nullopt), with `inline_data` as its UnixFS Data.
inline Block file_node(const std::vector<Cid>& links, const std::vector<std::uint64_t>& block_sizes,
                       std::optional<std::uint64_t> file_size,
                       std::span<const std::uint8_t> inline_data = {}) {
    const auto bytes_field = [](std::vector<std::uint8_t>& out, std::uint8_t tag,
                                std::span<const std::uint8_t> bytes) {
        out.push_back(tag);
        cid::append_varint(out, bytes.size());
        out.insert(out.end(), bytes.begin(), bytes.end());
    };
    std::vector<std::uint8_t> node;
    for (const auto& link : links) {
        std::vector<std::uint8_t> encoded;
        bytes_field(encoded, 0x0a, link.to_bytes());
        encoded.insert(encoded.end(), {0x12, 0x00, 0x18, 0x00});  // empty Name, Tsize 0
        bytes_field(node, 0x12, encoded);
    }
    std::vector<std::uint8_t> data{0x08, 0x02};  // Type: File
    if (!inline_data.empty()) {
        bytes_field(data, 0x12, inline_data);
    }
    if (file_size) {
        data.push_back(0x18);
        cid::append_varint(data, *file_size);
    }
    for (const auto size : block_sizes) {
        data.push_back(0x20);
        cid::append_varint(data, size);
    }
    bytes_field(node, 0x0a, data);
    const Cid cid = Cid::of_block(CidCodec::dag_pb, node);
    return {cid, std::move(node)};
}

// Appends the CAR section of `block`: varint length, CID bytes, block bytes.
inline void append_section(std::vector<std::uint8_t>& car, const Block& block) {
    const auto cid_bytes = block.first.to_bytes();
    cid::append_varint(car, cid_bytes.size() + block.second.size());
    car.insert(car.end(), cid_bytes.begin(), cid_bytes.end());
    car.insert(car.end(), block.second.begin(), block.second.end());
}

// A CAR v1 file: `header` (the DAG-CBOR bytes) and then one section per block.
inline std::vector<std::uint8_t> car_with_header(std::span<const std::uint8_t> header,
                                                 const std::vector<Block>& blocks) {
    std::vector<std::uint8_t> car;
    cid::append_varint(car, header.size());
    car.insert(car.end(), header.begin(), header.end());
    for (const auto& block : blocks) {
        append_section(car, block);
    }
    return car;
}

inline std::vector<std::uint8_t> car_of(const std::vector<Cid>& roots,
                                        const std::vector<Block>& blocks) {
    return car_with_header(cas::encode_car_header(roots), blocks);
}

// A ByteSource over a copy of `bytes`, handing out at most `chunk` bytes per call.
inline ContentStore::ByteSource source_of(std::vector<std::uint8_t> bytes,
                                          std::size_t chunk = 4096) {
    auto state =
        std::make_shared<std::pair<std::vector<std::uint8_t>, std::size_t>>(std::move(bytes), 0);
    return [state, chunk](std::span<std::uint8_t> buffer) {
        auto& [data, offset] = *state;
        const std::size_t take = std::min({buffer.size(), data.size() - offset, chunk});
        if (take > 0) {  // an empty vector's data() may be null
            std::memcpy(buffer.data(), data.data() + offset, take);
            offset += take;
        }
        return take;
    };
}

}  // namespace sihlicon::testing
