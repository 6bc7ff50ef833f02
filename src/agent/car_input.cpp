// SPDX-License-Identifier: Apache-2.0
#include "agent/car_input.hpp"

#include "cas/car_header.hpp"
#include "cas/cas_internal.hpp"
#include "cid/encoding.hpp"
#include "cid/file_dag.hpp"
#include "cid/unixfs.hpp"

#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <fstream>
#include <map>

namespace sihlicon::agent {

namespace {

[[noreturn]] void refuse(const std::string& problem) {
    throw Error(ErrorCode::integrity, fmt::format("input CAR: {}", problem), "car");
}

using Blocks = std::map<Cid, std::span<const std::uint8_t>>;

// The CAR's blocks by CIDv1, each verified against its CID.
Blocks read_blocks(std::span<const std::uint8_t> car, const Cid& root) {
    std::size_t position = 0;
    const auto header_size = cid::read_varint(car, position);
    if (!header_size || *header_size == 0 || *header_size > car.size() - position) {
        refuse("the header length is malformed");
    }
    std::vector<Cid> roots;
    try {
        roots =
            cas::parse_car_header(car.subspan(position, static_cast<std::size_t>(*header_size)));
    } catch (const Error& error) {
        refuse(error.what());
    }
    if (roots.size() != 1 || roots.front().to_v1() != root.to_v1()) {
        refuse(fmt::format("its root is not {}", root.to_string()));
    }
    position += static_cast<std::size_t>(*header_size);
    Blocks blocks;
    while (position < car.size()) {
        const auto size = cid::read_varint(car, position);
        if (!size || *size == 0 || *size > car.size() - position) {
            refuse("a section length is malformed or runs past the end");
        }
        const auto section = car.subspan(position, static_cast<std::size_t>(*size));
        position += static_cast<std::size_t>(*size);
        Cid cid;
        std::size_t length = 0;
        try {
            length = cas::car_section_cid_length(section);
            cid = Cid::from_bytes(section.first(length), "block").to_v1();
        } catch (const Error& error) {
            refuse(error.what());
        }
        const auto block = section.subspan(length);
        try {
            cas::verify_block(cid, block);
        } catch (const Error&) {
            refuse(fmt::format("block {} does not hash to its CID", cid.to_string()));
        }
        blocks.emplace(cid, block);
    }
    return blocks;
}

void write_file(const Blocks& blocks, const Cid& cid, std::ofstream& out, std::size_t depth) {
    if (depth > cid::kMaxFileDagDepth) {
        refuse("the DAG is too deep");
    }
    const auto block = blocks.at(cid);  // check_file_dag found every block
    if (cid.codec() == CidCodec::raw) {
        out.write(reinterpret_cast<const char*>(block.data()),
                  static_cast<std::streamsize>(block.size()));
        return;
    }
    const auto node = cid::decode_file_node(block, cid.to_string());
    out.write(reinterpret_cast<const char*>(node.data.data()),
              static_cast<std::streamsize>(node.data.size()));
    for (const auto& link : node.links) {
        write_file(blocks, link.to_v1(), out, depth + 1);
    }
}

}  // namespace

void write_verified_car_file(std::span<const std::uint8_t> car, const Cid& root,
                             const std::filesystem::path& destination) {
    const auto blocks = read_blocks(car, root);
    const auto checked =
        cid::check_file_dag(root.to_v1(), [&](const Cid& cid) -> std::optional<cid::FileBlock> {
            const auto found = blocks.find(cid);
            if (found == blocks.end()) {
                return std::nullopt;
            }
            return cid::describe_file_block(cid, found->second);
        });
    if (checked.missing) {
        refuse(fmt::format("the DAG is incomplete: block {} is missing",
                           checked.missing->to_string()));
    }
    std::ofstream out(destination, std::ios::binary | std::ios::trunc);
    try {
        write_file(blocks, root.to_v1(), out, 0);
    } catch (...) {
        out.close();
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        throw;
    }
    out.close();
    if (!out) {
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        throw Error(ErrorCode::io, fmt::format("cannot write {}", destination.string()), "input");
    }
}

}  // namespace sihlicon::agent
